"""Validation metrics in the History, early stopping per run, and restoring the best parameters."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp
from backproplab.core.optim import Adam
from backproplab.data import load
from backproplab.train.early_stopping import EarlyStopping, evaluate
from backproplab.train.loop import Callback


class Recorder(Callback):
    """Keeps, after every epoch, the parameters and buffers and the validation metrics computed independently."""

    def __init__(self, X_val=None, y_val=None):
        self.X_val, self.y_val = X_val, y_val
        self.snapshots, self.evaluated = [], []

    def on_epoch_end(self, state):
        self.snapshots.append({name: a.copy() for name, a in {**state.net.params, **state.net.buffers}.items()})
        if self.X_val is not None:
            self.evaluated.append(evaluate(state.net, self.X_val, self.y_val))


@pytest.fixture(scope="module")
def moons():
    return load("moons", n_samples=120, noise=0.3, seed=2)


@pytest.mark.parametrize("runs", [None, 3])
def test_history_keeps_validation_metrics_per_epoch(moons, runs):
    ds = moons
    net = bp.mlp([2, 8, 2], activation="tanh", output="softmax", runs=runs, batch_norm=True, dropout=0.2)
    rec = Recorder(ds.X_val, ds.y_val)
    h = bp.fit(net, ds.X_train, ds.y_train, epochs=5, progress=False, validation=(ds.X_val, ds.y_val),
               callbacks=[rec])
    shape = (5,) if runs is None else (5, runs)
    assert h["val_loss"].shape == h["val_accuracy"].shape == h["loss"].shape == shape
    np.testing.assert_allclose(h["val_loss"], [e["loss"] for e in rec.evaluated], rtol=1e-12)
    np.testing.assert_allclose(h["val_accuracy"], [e["accuracy"] for e in rec.evaluated])
    # Evaluation mode: dropout off, batch norm on running statistics, so it differs from training-mode loss.
    assert not np.allclose(h["val_loss"], h["loss"])


def _flipped(ds):
    """Validation labels that disagree with the training labels: val_loss rises as the fit improves."""
    return ds.X_train, 1 - ds.y_train


def test_stops_after_patience_and_restores_best(moons):
    ds = moons
    X_val, y_val = _flipped(ds)
    net = bp.mlp([2, 16, 2], activation="relu", output="softmax", seed=1, batch_norm=True)
    es = EarlyStopping(patience=4)
    rec = Recorder()
    h = bp.fit(net, ds.X_train, ds.y_train, optimizer=Adam(0.05), epochs=100, progress=False,
               validation=(X_val, y_val), early_stopping=es, callbacks=[rec])
    val = h["val_loss"]
    best = int(np.argmin(val)) + 1
    assert es.best_epoch == best and es.best == pytest.approx(val.min())
    assert h.epochs == es.stopped_epoch == best + 4 < 100
    for name, a in {**net.params, **net.buffers}.items():  # parameters and batch-norm statistics of the best epoch
        np.testing.assert_array_equal(a, rec.snapshots[best - 1][name])


def test_min_delta_and_no_restore(moons):
    ds = moons
    net = bp.mlp([2, 8, 2], output="softmax", seed=0)
    rec = Recorder()
    es = EarlyStopping(monitor="loss", patience=2, min_delta=10.0, restore_best=False)
    h = bp.fit(net, ds.X_train, ds.y_train, epochs=50, progress=False, early_stopping=es, callbacks=[rec])
    # No decrease can beat 10: the first epoch is the best (from +inf) and training ends two epochs later.
    assert es.best_epoch == 1 and h.epochs == 3
    for name, a in net.params.items():
        np.testing.assert_array_equal(a, rec.snapshots[-1][name])


def test_each_run_is_judged_and_restored_on_its_own(moons):
    ds = moons
    options = {"activation": "relu", "output": "softmax"}
    stacked = bp.mlp([2, 12, 2], seed=5, runs=3, **options)
    es = EarlyStopping(patience=3)
    bp.fit(stacked, ds.X_train, ds.y_train, optimizer=Adam(0.2), epochs=60, progress=False,
           validation=(ds.X_val, ds.y_val), early_stopping=es)
    for r in range(3):
        alone = bp.mlp([2, 12, 2], seed=5 + r, **options)
        es_r = EarlyStopping(patience=3)
        bp.fit(alone, ds.X_train, ds.y_train, optimizer=Adam(0.2), epochs=60, progress=False,
               validation=(ds.X_val, ds.y_val), early_stopping=es_r)
        assert es.best_epoch[r] == es_r.best_epoch and es.stopped_epoch[r] == es_r.stopped_epoch
        for name, p in alone.params.items():
            np.testing.assert_allclose(stacked.params[name][r], p, rtol=1e-10, atol=1e-12, err_msg=name)
    assert len(set(es.best_epoch.tolist())) > 1  # the runs really had their best at different epochs


def test_early_stopping_true_uses_val_loss_or_loss(moons):
    ds = moons
    net = bp.mlp([2, 4, 2], output="softmax")
    h = bp.fit(net, ds.X_train, ds.y_train, epochs=3, progress=False, early_stopping=True)
    assert h.epochs == 3 and "val_loss" not in h


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"early_stopping": EarlyStopping()}, ValueError, "validation"),
        ({"early_stopping": {"monitor": "val_f1"}}, ValueError, "monitor"),
        ({"early_stopping": {"patience": 0}}, ValueError, "patience"),
        ({"early_stopping": 5}, TypeError, "early_stopping"),
        ({"validation": ([[0.0, 1.0]], [0, 1])}, ValueError, "samples"),
        ({"validation": np.zeros((3, 2))}, TypeError, "pair"),
    ],
)
def test_bad_settings_fail_before_training(moons, kwargs, error, match):
    net = bp.mlp([2, 4, 2], output="softmax")
    before = net.copy_params()
    with pytest.raises(error, match=match):
        bp.fit(net, moons.X_train, moons.y_train, epochs=3, progress=False, **kwargs)
    for name, p in before.items():
        np.testing.assert_array_equal(net.params[name], p)


def test_accuracy_monitor_needs_a_classifier():
    X = np.linspace(-1, 1, 20)[:, None]
    net = bp.mlp([1, 4, 1], output="identity")
    with pytest.raises(ValueError, match="regression"):
        bp.fit(net, X, X[:, 0], epochs=2, progress=False, validation=(X, X[:, 0]),
               early_stopping={"monitor": "val_accuracy"})
