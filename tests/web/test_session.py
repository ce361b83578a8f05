"""The playground's session: validated settings, deterministic live training, honest frames."""

from __future__ import annotations

import re

import numpy as np
import pytest

import backproplab as bp
from backproplab import data
from backproplab.web.session import DATASETS, Session, Settings, parse_settings, toy_data


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"dataset": "mnist"}, "dataset (data set) must be one of"),
        ({"hidden": "8, x"}, "whole numbers"),
        ({"hidden": "0"}, "1 to 64 units"),
        ({"hidden": "2.5"}, "whole numbers"),
        ({"hidden": "1,1,1,1,1"}, "at most 4 hidden layers"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of"),
        ({"lr": "-1"}, "lr (learning rate) must be > 0"),
        ({"lr": "abc"}, "lr (learning rate) must be a number"),
        ({"lr": "nan"}, "lr (learning rate) must be finite"),
        ({"batch_size": "0"}, "batch_size (batch size) must be a whole number from 1"),
        ({"batch_size": "2.5"}, "batch_size (batch size) must be a whole number"),
        ({"seed": "-3"}, "seed must be a whole number from 0"),
        ({"epochs": 5}, "unknown setting"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_bad_settings_are_refused_with_the_field_named(raw, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_settings(raw)


def test_settings_from_form_strings():
    s = parse_settings({"dataset": "moons", "hidden": "8, 4", "activation": "relu", "optimizer": "adam",
                        "lr": "0.01", "batch_size": "16", "seed": "3"})
    assert s == Settings("moons", [8, 4], "relu", "adam", 0.01, 16, 3)
    assert parse_settings({}) == Settings()
    assert parse_settings({"hidden": ""}).hidden == []  # no hidden layer: logistic regression


@pytest.mark.parametrize("name", [d for d in DATASETS if d in ("moons", "circles", "spirals", "blobs")])
def test_toy_sets_are_two_class_2d(name):
    X, y = toy_data(name, n=50, seed=1)
    assert X.shape == (50, 2) and set(np.unique(y)) == {0.0, 1.0}


def test_training_is_deterministic_and_learns():
    a, b = Session(), Session()
    a.advance(150)
    for _ in range(3):
        b.advance(50)
    assert a.epoch == b.epoch == 150 and len(a.losses) == 150
    assert a.losses[-1] < 0.5 * a.losses[0]
    for name, p in a.net.params.items():
        np.testing.assert_array_equal(p, b.net.params[name])
    assert a.losses[:50] == b.losses[:50]


def test_session_trains_like_fit():
    """A session is the engine's own fit: the same epochs from the same start give the same network."""
    s = Session(parse_settings({"batch_size": "4", "optimizer": "sgd", "lr": "0.5"}))
    s.advance(20)
    net = bp.mlp([2, 4, 1], activation="tanh", seed=0)
    X, y = data.logic_table("xor")
    bp.fit(net, X, y, optimizer=bp.SGD(0.5), epochs=20, batch_size=4, progress=False)
    for name, p in net.params.items():
        np.testing.assert_array_equal(p, s.net.params[name])


def test_frame_and_snapshot_carry_what_the_page_draws():
    s = Session(parse_settings({"hidden": "5, 3"}))
    s.advance(3)
    frame = s.frame()
    assert frame["epoch"] == 3
    assert [len(w) for w in frame["weights"]] == [2 * 5, 5 * 3, 3 * 1]
    assert len(frame["grad_norm"]) == 3 and all(g > 0 for g in frame["grad_norm"])
    assert all(r is not None and r > 0 for r in frame["update_ratio"])
    np.testing.assert_allclose(frame["outputs"], s.net.predict_proba(s.X)[:, 0])
    snap = s.snapshot()
    assert snap["sizes"] == [2, 5, 3, 1] and snap["losses"] == s.losses and len(snap["points"]) == 4


def test_gradient_check_passes_on_a_live_network():
    s = Session(parse_settings({"dataset": "circles", "hidden": "6", "batch_size": "20"}))
    s.advance(5)
    result = s.check_gradients()
    assert result["passed"] and result["max_error"] < 1e-6 and result["epoch"] == 5
    assert set(result["errors"]) == set(s.net.params)


def test_training_stops_at_the_epoch_cap(monkeypatch):
    import backproplab.web.session as session

    monkeypatch.setattr(session, "MAX_EPOCHS", 7)
    s = Session()
    s.advance(5)
    s.advance(5)
    assert s.epoch == 7 and s.done
