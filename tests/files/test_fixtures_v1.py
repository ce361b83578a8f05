"""Files written before the core redesign (format 1, commit 60bac56) still load and resume bit for bit.

The fixtures come from ``tests/fixtures/make_v1.py`` run on the old code: a model
file with a runs axis, batch norm and dropout; the report's XOR network; the
checkpoint at the end of a run; and one written on SIGINT inside epoch 3
(row order, running sums, Adam's moments, dropout generators, early stopping).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import backproplab as bp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray]:
    with np.load(FIXTURES / "expected_v1.npz") as f:
        return dict(f)


def group(expected: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k.removeprefix(prefix): v for k, v in expected.items() if k.startswith(prefix)}


def test_an_old_model_file_loads_with_its_parameters_and_buffers(expected):
    net = bp.load(FIXTURES / "model_v1_runs.npz")
    assert net.runs == 2
    for name, value in group(expected, "param/").items():
        assert np.array_equal(net.state_dict()[name], value), name
    for name, value in group(expected, "buffer/").items():
        assert np.array_equal(net.state_dict()[name], value), name
    # Stacked networks compute in the runs-last layout since issue 23: the same numbers up to rounding.
    np.testing.assert_allclose(net.predict_proba(expected["data/X_val"]), expected["proba/runs"], rtol=1e-13)


def test_an_old_single_network_model_file_predicts_as_before(expected):
    net = bp.load(FIXTURES / "model_v1_xor.npz")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    # The sigmoid is 1 / (1 + exp(-z)) since issue 23 (it was 0.5 + 0.5 * tanh(z / 2)): the same numbers up to
    # rounding, a few units in the last place.
    np.testing.assert_allclose(net.predict_proba(X), expected["proba/xor"], rtol=4 * np.finfo(float).eps, atol=0)


def resume(expected: dict[str, np.ndarray], path: Path) -> tuple[bp.Network, bp.History]:
    net = bp.mlp([3, 5, 3], activation="tanh", output="softmax", batch_norm=True, dropout=0.2, seed=[4, 5])
    history = bp.fit(
        net, expected["data/X"], expected["data/y"], optimizer=bp.Adam(0.01), epochs=6, batch_size=5, shuffle_seed=7,
        progress=False, validation=(expected["data/X_val"], expected["data/y_val"]),
        early_stopping={"patience": 50}, resume=path,
    )
    return net, history


@pytest.mark.parametrize("name", ["checkpoint_v1_mid.npz", "checkpoint_v1_end.npz"])
def test_an_old_checkpoint_resumes_to_the_uninterrupted_run(expected, name):
    ckpt = bp.load_checkpoint(FIXTURES / name)
    assert (ckpt.epoch, ckpt.position is not None) == ((2, True) if "mid" in name else (6, False))
    net, history = resume(expected, FIXTURES / name)
    state = net.state_dict()
    # The fixtures' runs were computed before the runs-last layout (issue 23), which sums some products in
    # another order: the resumed run ends where the uninterrupted one did, up to that rounding. (0.b feeds a
    # batch norm, which cancels it: its gradient is rounding noise around 0, its values ~1e-9, and Adam's
    # normalised steps carry the noise into them and into the running means at ~1e-11.)
    for name_, value in {**group(expected, "param/"), **group(expected, "buffer/")}.items():
        np.testing.assert_allclose(state[name_], value, rtol=1e-9, atol=1e-9, err_msg=name_)
    saved = group(expected, "history/")
    assert sorted(history.keys()) == sorted(saved)
    for metric, rows in saved.items():
        np.testing.assert_allclose(history[metric], rows, rtol=1e-9, atol=1e-9, err_msg=metric)
