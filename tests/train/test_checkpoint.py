"""Checkpoint files: what they hold, when fit writes them, and what they refuse."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp
from backproplab.core.optim import Adam
from backproplab.train import _history_blocks
from backproplab.train.checkpoint import load_checkpoint, restore, save_checkpoint
from backproplab.train.loop import Callback


def data(n: int = 40, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def trained(runs: int | None = None, **net_options: object) -> tuple[bp.Network, Adam, np.random.Generator, bp.History]:
    """A network, optimizer, generator and history after a few epochs (so every piece of state is non-trivial)."""
    X, y = data()
    net = bp.mlp([3, 6, 1], seed=2, runs=runs, **net_options)
    opt = Adam(0.01)
    history = bp.fit(net, X, y, optimizer=opt, epochs=3, batch_size=8, progress=False)
    rng = np.random.default_rng(5)
    rng.random(7)  # move the generator away from its seed state
    return net, opt, rng, history


@pytest.mark.parametrize("runs", [None, 3])
def test_round_trip_keeps_every_piece_of_state(tmp_path, runs):
    net, opt, rng, history = trained(runs, dropout=0.25, batch_norm=True)
    path = save_checkpoint(tmp_path / "c.npz", net=net, optimizer=opt, rng=rng, history=history, epoch=3)
    ckpt = load_checkpoint(path)

    assert ckpt.epoch == 3
    assert ckpt.net.to_config() == net.to_config()
    for name, p in net.params.items():
        assert np.array_equal(ckpt.params[name], p) and ckpt.params[name].dtype == p.dtype
    assert set(ckpt.optimizer_state) == set(opt.state)
    for name, slots in opt.state.items():
        for key, value in slots.items():
            assert np.array_equal(ckpt.optimizer_state[name][key], value)
    assert ckpt.optimizer["t"] == opt.t > 0
    assert ckpt.optimizer["lr"] == opt.lr
    assert ckpt.rng_state == rng.bit_generator.state
    assert ckpt.layer_rngs, "dropout's generators are saved"
    assert set(ckpt.buffers) == set(net.buffers) and ckpt.buffers
    for name, value in net.buffers.items():
        assert np.array_equal(ckpt.buffers[name], value)
    for metric in ("loss", "accuracy"):
        assert np.array_equal(ckpt.history[metric], history[metric])
    assert ckpt.position is None


def test_restore_puts_the_state_back_into_fresh_objects(tmp_path):
    net, opt, rng, history = trained(dropout=0.25, batch_norm=True)
    save_checkpoint(tmp_path / "c.npz", net=net, optimizer=opt, rng=rng, history=history, epoch=3)
    fresh_net, fresh_opt = bp.mlp([3, 6, 1], seed=2, dropout=0.25, batch_norm=True), Adam(0.01)
    fresh_rng = np.random.default_rng(0)
    restore(load_checkpoint(tmp_path / "c.npz"), fresh_net, fresh_opt, fresh_rng)

    assert all(np.array_equal(fresh_net.params[k], v) for k, v in net.params.items())
    assert all(np.array_equal(fresh_net.buffers[k], v) for k, v in net.buffers.items())
    assert fresh_opt.t == opt.t
    assert fresh_rng.random() == rng.random()  # same stream from here on
    x = np.ones((4, 3))
    # Dropout masks come from the restored generators: both networks draw the same ones.
    assert np.array_equal(fresh_net.forward(x, train=True), net.forward(x, train=True))


def test_restore_refuses_another_network_or_optimizer(tmp_path):
    net, opt, rng, history = trained()
    save_checkpoint(tmp_path / "c.npz", net=net, optimizer=opt, rng=rng, history=history, epoch=3)
    ckpt = load_checkpoint(tmp_path / "c.npz")
    with pytest.raises(ValueError, match=r"another network: layer 0 is .*fan_out': 6.* in the checkpoint"):
        restore(ckpt, bp.mlp([3, 7, 1]), Adam(0.01), np.random.default_rng())
    with pytest.raises(ValueError, match="optimizer"):
        restore(ckpt, bp.mlp([3, 6, 1]), bp.SGD(0.1), np.random.default_rng())


def test_model_files_and_checkpoints_are_not_confused(tmp_path):
    net, opt, rng, history = trained()
    net.save(tmp_path / "model.npz")
    save_checkpoint(tmp_path / "c.npz", net=net, optimizer=opt, rng=rng, history=history, epoch=3)
    with pytest.raises(bp.ModelFileError, match="not a backproplab checkpoint"):
        load_checkpoint(tmp_path / "model.npz")
    with pytest.raises(bp.ModelFileError, match="not a backproplab model file"):
        bp.load(tmp_path / "c.npz")
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.npz")


class ReadCheckpoint(Callback):
    """Records, at each epoch's end, the epoch of the checkpoint on disk (written after the callbacks)."""

    def __init__(self, path):
        self.path, self.seen = path, []

    def on_epoch_end(self, state):
        self.seen.append(load_checkpoint(self.path).epoch if self.path.exists() else None)


def test_fit_writes_every_n_epochs_and_at_the_end(tmp_path):
    X, y = data()
    path = tmp_path / "run" / "ckpt.npz"
    spy = ReadCheckpoint(path)
    net = bp.mlp([3, 6, 1], seed=0)
    history = bp.fit(
        net, X, y, epochs=7, batch_size=8, progress=False, checkpoint=path, checkpoint_every=3, callbacks=[spy]
    )
    assert spy.seen == [None, None, None, 3, 3, 3, 6]
    final = load_checkpoint(path)
    assert final.epoch == 7
    assert np.array_equal(final.history.loss, history.loss)
    assert all(np.array_equal(final.params[k], v) for k, v in net.params.items())
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.npz"], "no temporary files left behind"


def test_fit_without_checkpoint_every_writes_only_at_the_end(tmp_path):
    X, y = data()
    spy = ReadCheckpoint(tmp_path / "c.npz")
    bp.fit(bp.mlp([3, 4, 1]), X, y, epochs=4, progress=False, checkpoint=tmp_path / "c.npz", callbacks=[spy])
    assert spy.seen == [None, None, None, None]
    assert load_checkpoint(tmp_path / "c.npz").epoch == 4


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"checkpoint_every": 2}, ValueError, "checkpoint_every needs checkpoint"),
        ({"checkpoint": "c.npz", "checkpoint_every": 0}, ValueError, "checkpoint_every"),
        ({"checkpoint": "c.npz", "checkpoint_every": 1.5}, TypeError, "checkpoint_every"),
        ({"checkpoint": 3}, TypeError, "checkpoint must be a file path"),
        ({"checkpoint": "."}, ValueError, "is a directory"),
        ({"resume": ["c.npz"]}, TypeError, "resume must be a file path"),
        ({"resume": "missing.npz"}, FileNotFoundError, "no checkpoint"),
    ],
)
def test_fit_checks_checkpoint_arguments_before_training(tmp_path, monkeypatch, kwargs, error, match):
    monkeypatch.chdir(tmp_path)
    X, y = data()
    net = bp.mlp([3, 4, 1])
    before = net.copy_params()
    with pytest.raises(error, match=match):
        bp.fit(net, X, y, epochs=2, progress=False, **kwargs)
    assert all(np.array_equal(before[k], v) for k, v in net.params.items()), "no training happened"
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "nothing written"


def test_checkpoint_keeps_optimizer_state_per_run(tmp_path):
    net, opt, rng, history = trained(runs=2)
    save_checkpoint(tmp_path / "c.npz", net=net, optimizer=opt, rng=rng, history=history, epoch=3)
    ckpt = load_checkpoint(tmp_path / "c.npz")
    moments = ckpt.optimizer_state["0.W"]
    assert set(moments) == set(opt.state["0.W"]) and len(moments) >= 2
    assert all(m.shape == net.params["0.W"].shape for m in moments.values())


# --- the history in blocks written once (issue 11 part 4: checkpoints that cost little) ------


def test_history_blocks_are_written_once_and_a_resume_is_bit_identical(tmp_path, monkeypatch):
    monkeypatch.setattr(_history_blocks, "BLOCK", 8)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    path = tmp_path / "c.npz"
    whole = bp.mlp([2, 4, 1], seed=1)
    full = bp.fit(whole, X, y, epochs=30, batch_size=2, progress=False)
    net = bp.mlp([2, 4, 1], seed=1)
    bp.fit(net, X, y, epochs=21, batch_size=2, progress=False, checkpoint=path, checkpoint_every=5)
    folder = tmp_path / "c.npz.history"
    blocks = sorted(folder.iterdir())
    assert [b.name[:6] for b in blocks] == ["000000", "000001"]  # 21 epochs: two full blocks of 8, 5 rows inline
    stamps = {b.name: b.stat().st_mtime_ns for b in blocks}
    resumed = bp.mlp([2, 4, 1], seed=7)
    history = bp.fit(resumed, X, y, epochs=30, batch_size=2, progress=False, resume=path, checkpoint=path,
                     checkpoint_every=5)
    for name, p in whole.params.items():
        assert np.array_equal(p, resumed.params[name]), name
    for metric in ("loss", "accuracy"):
        assert np.array_equal(history[metric], full[metric])
    assert np.array_equal(load_checkpoint(path).metrics["loss"], full["loss"])
    kept = {b.name: b.stat().st_mtime_ns for b in folder.iterdir()}
    assert sorted(kept)[:2] == sorted(stamps) and all(kept[n] == t for n, t in stamps.items())  # never rewritten
    assert len(kept) == 3  # 30 epochs: a third block


def test_a_missing_history_block_is_a_clear_error_and_another_runs_blocks_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(_history_blocks, "BLOCK", 4)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    path = tmp_path / "c.npz"
    bp.fit(bp.mlp([2, 3, 1], seed=0), X, y, epochs=9, progress=False, checkpoint=path)
    first = {b.name for b in (tmp_path / "c.npz.history").iterdir()}
    bp.fit(bp.mlp([2, 3, 1], seed=5), X, y, epochs=9, progress=False, checkpoint=path)  # another run, same file
    second = {b.name for b in (tmp_path / "c.npz.history").iterdir()}
    assert len(first) == len(second) == 2 and not first & second
    next(iter((tmp_path / "c.npz.history").iterdir())).unlink()
    with pytest.raises(bp.ModelFileError, match="history block"):
        load_checkpoint(path)
