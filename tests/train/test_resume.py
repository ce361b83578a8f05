"""Resume: a run stopped and continued ends bit-identical to the same run uninterrupted.

Also per-run divergence: with a runs axis a diverged run is frozen and flagged
while the others train on exactly as if it had never existed.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backproplab as bp
from backproplab.core.optim import SGD, Adam
from backproplab.errors import TrainingInterrupted
from backproplab.train.checkpoint import load_checkpoint
from backproplab.train.schedules import StepDecay


def data(n: int = 40, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


OPTIMIZERS = {
    "sgd": lambda: SGD(0.1),
    "momentum": lambda: SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: Adam(0.01),
}


def assert_same_run(net_a, hist_a, net_b, hist_b):
    for name, p in net_a.params.items():
        assert np.array_equal(p, net_b.params[name]), f"parameter {name} differs"
    for name, b in net_a.buffers.items():
        assert np.array_equal(b, net_b.buffers[name]), f"buffer {name} differs"
    assert hist_a.keys() == hist_b.keys()
    for metric in hist_a.keys():  # noqa: SIM118 - History is not iterable
        assert np.array_equal(hist_a[metric], hist_b[metric], equal_nan=True), f"history {metric} differs"
    assert hist_a.diverged == hist_b.diverged


class SignalOnCall(bp.BinaryCrossEntropy):
    """The paired loss, which sends a signal to this process on its ``at``-th evaluation (mid-epoch)."""

    def __init__(self, at: int, signum: int = signal.SIGINT) -> None:
        self.at, self.signum, self.calls = at, signum, 0

    def value(self, z, y):
        self.calls += 1
        if self.calls == self.at:
            os.kill(os.getpid(), self.signum)
        return super().value(z, y)


@pytest.mark.parametrize("runs", [None, 3])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_resume_at_an_epoch_boundary_is_bit_identical(tmp_path, runs, opt):
    X, y = data()
    common = {"epochs": 12, "batch_size": 8, "progress": False}

    full = bp.mlp([3, 6, 1], seed=1, runs=runs)
    full_opt = OPTIMIZERS[opt]()
    history = bp.fit(full, X, y, optimizer=full_opt, **common)

    first = bp.mlp([3, 6, 1], seed=1, runs=runs)
    bp.fit(first, X, y, optimizer=OPTIMIZERS[opt](), **{**common, "epochs": 5}, checkpoint=tmp_path / "c.npz")
    resumed = bp.mlp([3, 6, 1], seed=1, runs=runs)
    resumed_opt = OPTIMIZERS[opt]()
    resumed_history = bp.fit(resumed, X, y, optimizer=resumed_opt, **common, resume=tmp_path / "c.npz")

    assert_same_run(full, history, resumed, resumed_history)
    assert resumed_opt.t == full_opt.t == 12 * 5
    assert resumed_history.epochs == 12


@pytest.mark.parametrize("options", [{}, {"dropout": 0.2, "batch_norm": True}], ids=["plain", "dropout+bn"])
@pytest.mark.parametrize("runs", [None, 3])
def test_resume_inside_an_epoch_is_bit_identical(tmp_path, runs, options):
    X, y = data()
    common = {"epochs": 6, "batch_size": 8, "progress": False}
    full = bp.mlp([3, 6, 1], seed=4, runs=runs, **options)
    history = bp.fit(full, X, y, optimizer=Adam(0.01), **common)

    stopped = bp.mlp([3, 6, 1], seed=4, runs=runs, **options)
    with pytest.raises(TrainingInterrupted, match=r"after 24 of 40 rows of epoch 3.*resume=") as info:
        # 5 batches per epoch: the 13th loss evaluation is the 3rd batch of epoch 3
        bp.fit(stopped, X, y, optimizer=Adam(0.01), **common, loss=SignalOnCall(13), checkpoint=tmp_path / "c")
    assert info.value.signum == signal.SIGINT and info.value.epoch == 3
    ckpt = load_checkpoint(tmp_path / "c")
    assert ckpt.epoch == 2 and ckpt.position is not None and ckpt.position.start == 24

    resumed = bp.mlp([3, 6, 1], seed=4, runs=runs, **options)
    resumed_history = bp.fit(resumed, X, y, optimizer=Adam(0.01), **common, resume=tmp_path / "c")
    assert_same_run(full, history, resumed, resumed_history)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 23),
    batch=st.integers(1, 9),
    split=st.integers(1, 5),
    runs=st.sampled_from([None, 1, 2]),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_resume_is_bit_identical_for_any_split_and_shape(tmp_path_factory, n, batch, split, runs, shuffle, seed):
    X, y = data(n=n, seed=seed)
    common = {"epochs": 6, "batch_size": batch, "shuffle": shuffle, "seed": seed, "progress": False}
    full = bp.mlp([3, 4, 1], seed=seed, runs=runs)
    history = bp.fit(full, X, y, optimizer=SGD(0.3, momentum=0.5), **common)
    path = tmp_path_factory.mktemp("resume") / "c.npz"
    first = bp.mlp([3, 4, 1], seed=seed, runs=runs)
    bp.fit(first, X, y, optimizer=SGD(0.3, momentum=0.5), **{**common, "epochs": split}, checkpoint=path)
    resumed = bp.mlp([3, 4, 1], seed=seed, runs=runs)
    resumed_history = bp.fit(resumed, X, y, optimizer=SGD(0.3, momentum=0.5), **common, resume=path)
    assert_same_run(full, history, resumed, resumed_history)


def test_resume_with_dropout_batch_norm_and_a_schedule(tmp_path):
    # Dropout draws from its own generators, batch norm keeps running statistics and the
    # schedule changes the learning rate across the split: all must continue exactly.
    X, y = data()
    common = {"epochs": 8, "batch_size": 8, "progress": False}

    def net():
        return bp.mlp([3, 6, 1], seed=[3, 4], dropout=0.2, batch_norm=True)

    full = net()
    full_opt = SGD(0.1, momentum=0.9)
    history = bp.fit(full, X, y, optimizer=full_opt, callbacks=[StepDecay(3, 0.5)], **common)
    first_opt = SGD(0.1, momentum=0.9)
    bp.fit(net(), X, y, optimizer=first_opt, callbacks=[StepDecay(3, 0.5)], **{**common, "epochs": 4},
           checkpoint=tmp_path / "c.npz")
    assert load_checkpoint(tmp_path / "c.npz").optimizer["lr"] == pytest.approx(0.05)  # lr_at(4) = 0.1 * 0.5
    resumed = net()
    resumed_opt = SGD(0.1, momentum=0.9)
    resumed_history = bp.fit(resumed, X, y, optimizer=resumed_opt, callbacks=[StepDecay(3, 0.5)], **common,
                             resume=tmp_path / "c.npz")
    assert_same_run(full, history, resumed, resumed_history)
    assert resumed_opt.lr == full_opt.lr == 0.1, "the schedule hands back the base rate at the end"


def test_resume_of_a_finished_run_changes_nothing(tmp_path):
    X, y = data()
    net = bp.mlp([3, 4, 1])
    history = bp.fit(net, X, y, epochs=3, progress=False, checkpoint=tmp_path / "c.npz")
    again = bp.mlp([3, 4, 1], seed=9)
    again_history = bp.fit(again, X, y, epochs=3, progress=False, resume=tmp_path / "c.npz")
    assert_same_run(net, history, again, again_history)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"X": 2.0}, r"data \(X, y\)"),
        ({"batch_size": 4}, "batch_size=8"),
        ({"shuffle": False}, "shuffle=True"),
        ({"loss": "mse"}, "loss='binary_cross_entropy'; this call has loss='mse'"),
        ({"epochs": 2}, "past epochs=2"),
        ({"optimizer": Adam()}, "optimizer SGD"),
        ({"net": bp.mlp([3, 5, 1])}, "another network"),
    ],
)
def test_resume_refuses_a_different_run(tmp_path, change, match):
    X, y = data()
    bp.fit(bp.mlp([3, 4, 1]), X, y, epochs=3, batch_size=8, progress=False, checkpoint=tmp_path / "c.npz")
    kwargs = {"epochs": 5, "batch_size": 8, "progress": False, "optimizer": SGD(0.1)}
    change = dict(change)  # the parameter's own dict is shared by every run of the test in this process
    net = change.pop("net", bp.mlp([3, 4, 1]))
    X = X * change.pop("X", 1.0)
    if change.get("loss") == "mse":
        net = bp.mlp([3, 4, 1], output="identity")
    kwargs.update(change)
    before = net.copy_params()
    with pytest.raises(ValueError, match=match):
        bp.fit(net, X, y, **kwargs, resume=tmp_path / "c.npz")
    assert all(np.array_equal(before[k], v) for k, v in net.params.items())


def test_resume_with_validation_and_early_stopping(tmp_path):
    # Early stopping keeps state across epochs (best values, patience, best parameters):
    # the checkpoint carries it, so the resumed run stops where the uninterrupted one does.
    from backproplab.train.early_stopping import EarlyStopping

    X, y = data(n=60, seed=3)
    X_val, y_val = data(n=30, seed=4)
    y_val = 1 - y_val  # a validation set that disagrees: validation loss soon stops improving
    common = {"epochs": 40, "batch_size": 8, "progress": False, "validation": (X_val, y_val)}

    def run(**kwargs):
        net = bp.mlp([3, 6, 1], seed=[5, 6, 7])
        stopper = EarlyStopping(patience=4)
        history = bp.fit(net, X, y, optimizer=Adam(0.02), early_stopping=stopper, **{**common, **kwargs})
        return net, history, stopper

    full, history, stopper = run()
    assert (np.asarray(stopper.stopped_epoch) > 0).any(), "the test needs a run that stops early"
    split = int(np.min(stopper.best_epoch)) + 1  # inside the patience window of some run
    run(epochs=split, checkpoint=tmp_path / "c.npz")
    resumed, resumed_history, resumed_stopper = run(resume=tmp_path / "c.npz")
    assert_same_run(full, history, resumed, resumed_history)
    assert np.array_equal(resumed_stopper.best_epoch, stopper.best_epoch)
    assert np.array_equal(resumed_stopper.stopped_epoch, stopper.stopped_epoch)


# --- per-run divergence -------------------------------------------------------------------
def exploding(runs: int, bad: tuple[int, ...]) -> bp.Network:
    net = bp.mlp([3, 6, 1], activation="relu", seed=0, runs=runs)
    for r in bad:  # logits of about 1e400: an infinite loss in the first epoch
        net.params["0.W"][r] *= 1e200
        net.params["2.W"][r] *= 1e200
    return net


def test_a_diverged_run_is_frozen_and_the_others_train_on_unchanged():
    X, y = data()
    opts = {"optimizer": SGD(0.5), "epochs": 8, "batch_size": 10, "progress": False}
    healthy = exploding(4, ())
    healthy_history = bp.fit(healthy, X, y, **opts)
    assert healthy_history.diverged == {}

    net = exploding(4, (1, 3))
    start = net.copy_params()
    with pytest.warns(RuntimeWarning, match=r"2 of 4 runs diverged.*run 1 in epoch \d+, run 3 in epoch \d+"):
        history = bp.fit(net, X, y, **opts)
    assert set(history.diverged) == {1, 3} and history.n_diverged == 2
    assert "diverged=2" in repr(history)
    for r in (0, 2):  # the survivors: exactly the runs that never had diverging neighbours
        for name, p in net.params.items():
            assert np.array_equal(p[r], healthy.params[name][r])
        assert np.array_equal(history.loss[:, r], healthy_history.loss[:, r])
    for r in (1, 3):
        e = history.diverged[r]
        assert np.isnan(history.loss[e - 1 :, r]).all() and np.isnan(history.accuracy[e - 1 :, r]).all()
        assert np.isfinite(history.loss[: e - 1, r]).all()
        assert all(np.isfinite(p[r]).all() for p in net.params.values())
        if e == 1:  # frozen at the start of the epoch it diverged in: its initial values
            assert all(np.array_equal(p[r], start[name][r]) for name, p in net.params.items())


def test_divergence_and_freezing_survive_a_resume(tmp_path):
    X, y = data()
    opts = {"epochs": 8, "batch_size": 10, "progress": False}
    with pytest.warns(RuntimeWarning):
        net = exploding(3, (2,))
        history = bp.fit(net, X, y, optimizer=Adam(0.05), **opts)
        first = exploding(3, (2,))
        bp.fit(first, X, y, optimizer=Adam(0.05), **{**opts, "epochs": 4}, checkpoint=tmp_path / "c.npz")
        resumed = exploding(3, (2,))
        resumed_history = bp.fit(resumed, X, y, optimizer=Adam(0.05), **opts, resume=tmp_path / "c.npz")
    assert history.diverged == {2: 1}
    assert_same_run(net, history, resumed, resumed_history)


def test_when_every_run_diverges_training_stops():
    X, y = data()
    net = exploding(2, (0, 1))
    with pytest.warns(RuntimeWarning, match="2 of 2 runs diverged"):
        history = bp.fit(net, X * 1e150, y, optimizer=SGD(1e100), epochs=50, batch_size=10, progress=False)
    assert history.epochs == max(history.diverged.values()) < 50
    assert all(np.isfinite(p).all() for p in net.params.values())


def test_a_single_network_still_raises_on_divergence():
    X, y = data()
    net = bp.mlp([3, 6, 1], activation="relu", seed=0)
    net.params["0.W"] *= 1e150
    with pytest.raises(bp.DivergenceError, match="epoch 1"):
        bp.fit(net, X * 1e150, y, optimizer=SGD(1e100), epochs=5, progress=False)


# --- the command line ------------------------------------------------------------------------
def test_cli_resume_of_a_finished_run_continues_it_for_more_epochs(tmp_path, monkeypatch, capsys):
    from backproplab.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", "xor", "--epochs", "30", "--runs", "3", "--out", "short", "-q"]) == 0
    assert load_checkpoint(tmp_path / "short" / "checkpoint.npz").epoch == 30
    assert main(["train", "--resume", "short", "--epochs", "70", "-q"]) == 0
    assert main(["train", "xor", "--epochs", "70", "--runs", "3", "--out", "long", "-q"]) == 0
    longer, reference = bp.load(tmp_path / "short" / "model.npz"), bp.load(tmp_path / "long" / "model.npz")
    assert all(np.array_equal(longer.params[k], v) for k, v in reference.params.items())
    assert (tmp_path / "short" / "history.csv").read_text() == (tmp_path / "long" / "history.csv").read_text()
    assert "epochs = 70" in (tmp_path / "short" / "config.toml").read_text()


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--resume", "run", "--lr", "0.5"], "cannot take --lr"),
        (["xor", "--resume", "run"], "cannot take CONFIG 'xor'"),
        (["--resume", "nowhere"], "no checkpoint.npz"),
        (["xor", "--out", "run"], "holds an interrupted run: continue it with --resume run"),
        (["xor", "--out", "other", "--checkpoint-every", "0"], "--checkpoint-every must be an integer >= 1"),
    ],
)
def test_cli_refuses_what_would_lose_or_mix_runs(tmp_path, monkeypatch, capsys, argv, match):
    from backproplab.cli import main

    monkeypatch.chdir(tmp_path)
    state = tmp_path / "run.checkpoint"
    X, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float), np.array([0, 1, 1, 0])
    net = bp.mlp([2, 8, 1])
    bp.fit(net, X, y, epochs=3, batch_size=4, progress=False, checkpoint=state / "checkpoint.npz")
    (state / "config.toml").write_text("[training]\nepochs = 10\n")
    before = {p.name: p.read_bytes() for p in state.iterdir()}
    assert main(["train", *argv, "-q"]) == 2
    assert match in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in state.iterdir()} == before, "the interrupted run is untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.checkpoint"], "nothing else written"


def test_cli_summary_counts_diverged_runs():
    from backproplab.cli.train import _summary_line

    learned = {"share": 2 / 3, "count": 2, "runs": 3}
    line = _summary_line({"final_loss": np.array([0.1, 0.2, 0.3]), "learned": learned, "diverged": {1: 4}})
    assert "1 diverged and were frozen" in line
    everyone = {"share": 1.0, "count": 2, "runs": 2}
    assert "diverged" not in _summary_line({"final_loss": np.array([0.1, 0.2]), "learned": everyone, "diverged": {}})


# --- one batch per epoch: the rollback copy is taken only when the loss is not finite ---------
def blowing_up(runs: int | None = None) -> tuple[bp.Network, np.ndarray, np.ndarray, dict]:
    """A ReLU net on inputs of 1e30 with lr 1e30: finite for a few epochs, then not (epoch 4 for seed 0)."""
    X, y = data(n=12)
    return bp.mlp([3, 6, 1], activation="relu", seed=0, runs=runs), X * 1e30, y, {"optimizer": SGD(1e30)}


@pytest.mark.parametrize("batch_size", [12, 5], ids=["whole", "mini"])
def test_a_diverging_network_is_restored_to_the_end_of_its_last_finite_epoch(batch_size):
    net, X, y, opts = blowing_up()
    with pytest.raises(bp.DivergenceError) as info:
        bp.fit(net, X, y, **opts, epochs=50, batch_size=batch_size, progress=False)
    e = info.value.epoch
    assert e >= 2, "the setup must diverge after at least one finite epoch"
    reference, *_ = blowing_up()
    bp.fit(reference, X, y, optimizer=SGD(1e30), epochs=e - 1, batch_size=batch_size, progress=False)
    for name, p in net.params.items():
        assert np.array_equal(p, reference.params[name]), f"{name} is not the end of epoch {e - 1}"


def test_with_one_batch_per_epoch_a_diverged_run_is_frozen_at_the_start_of_that_epoch():
    X, y = data(n=12)
    opts = {"optimizer": SGD(1e10), "epochs": 15, "batch_size": 12, "progress": False}

    def build(runs: int | None) -> bp.Network:
        net = bp.mlp([3, 6, 1], activation="relu", seed=0, runs=runs)
        for p in net.params.values():
            p[0 if runs else ...] *= 1e50  # run 0 alone starts huge: it overflows in epoch 13
        return net

    healthy = bp.mlp([3, 6, 1], activation="relu", seed=0, runs=3)
    bp.fit(healthy, X, y, **opts)
    net = build(3)
    with pytest.warns(RuntimeWarning, match=r"1 of 3 runs diverged.*run 0 in epoch 13"):
        history = bp.fit(net, X, y, **opts)
    assert history.diverged == {0: 13}
    assert np.isfinite(history.loss[:12, 0]).all() and np.isnan(history.loss[12:, 0]).all()
    reference = build(3)
    bp.fit(reference, X, y, **{**opts, "epochs": 12})  # the same runs, to the end of run 0's last finite epoch
    for name, p in net.params.items():
        assert np.array_equal(p[0], reference.params[name][0]), f"run 0's {name} is not the start of epoch 13"
        assert np.array_equal(p[1:], healthy.params[name][1:]), f"{name} of the other runs changed"


@pytest.mark.parametrize("runs", [None, 2])
def test_an_interrupt_after_the_only_batch_of_an_epoch_resumes_bit_identically(tmp_path, runs):
    X, y = data(n=12)
    common = {"epochs": 5, "batch_size": 12, "progress": False}
    full = bp.mlp([3, 6, 1], seed=2, runs=runs)
    history = bp.fit(full, X, y, optimizer=SGD(0.5), **common)
    stopped = bp.mlp([3, 6, 1], seed=2, runs=runs)
    with pytest.raises(TrainingInterrupted, match=r"after 12 of 12 rows of epoch 3"):
        bp.fit(stopped, X, y, optimizer=SGD(0.5), **common, loss=SignalOnCall(3), checkpoint=tmp_path / "c")
    assert load_checkpoint(tmp_path / "c").position.start == 12
    resumed = bp.mlp([3, 6, 1], seed=2, runs=runs)
    resumed_history = bp.fit(resumed, X, y, optimizer=SGD(0.5), **common, resume=tmp_path / "c")
    assert_same_run(full, history, resumed, resumed_history)
