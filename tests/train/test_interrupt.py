"""Interruption: Ctrl-C and SIGTERM stop after the current step with a checkpoint; SIGKILL loses nothing written.

The subprocess tests are the issue's acceptance checks: a training process is
killed (SIGKILL) at seeded random moments, restarted from its last checkpoint
each time, and must end bit-identical to the same run never interrupted.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import backproplab as bp
from backproplab.core.optim import Adam
from backproplab.errors import TrainingInterrupted
from backproplab.files import io as bp_io
from backproplab.interrupt import deferred_signals, exit_code
from backproplab.train.checkpoint import load_checkpoint

from console import start

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


# --- the flag -------------------------------------------------------------------------------
def test_first_signal_only_raises_the_flag_and_handlers_are_restored():
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with deferred_signals() as signals:
        assert signals.received is None
        os.kill(os.getpid(), signal.SIGTERM)
        assert signals.received == signal.SIGTERM and signals.name == "SIGTERM"
    assert {s: signal.getsignal(s) for s in before} == before


def test_second_sigint_raises_at_once_and_second_sigterm_exits_143():
    with pytest.raises(KeyboardInterrupt), deferred_signals() as signals:
        os.kill(os.getpid(), signal.SIGINT)
        assert signals.received == signal.SIGINT
        os.kill(os.getpid(), signal.SIGINT)
        pytest.fail("the second SIGINT did not stop the block")  # pragma: no cover
    with pytest.raises(SystemExit) as info, deferred_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
    assert info.value.code == 143


def test_disabled_handling_leaves_signals_alone():
    before = signal.getsignal(signal.SIGINT)
    with deferred_signals(enabled=False):
        assert signal.getsignal(signal.SIGINT) is before
    assert exit_code(signal.SIGINT) == 130 and exit_code(signal.SIGTERM) == 143


def test_an_interrupted_atomic_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "state.bin"
    bp_io.write_text(target, "complete")
    with pytest.raises(KeyboardInterrupt), bp_io.atomic_write(target) as f:
        f.write(b"half of it")
        raise KeyboardInterrupt
    assert target.read_text() == "complete"
    assert [p.name for p in tmp_path.iterdir()] == ["state.bin"]


# --- fit under signals ----------------------------------------------------------------------
def data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] > X[:, 1]).astype(int)


class SignalOnCall(bp.BinaryCrossEntropy):
    """The paired loss, sending ``signum`` to this process at the given evaluations."""

    def __init__(self, *at: int, signum: int = signal.SIGINT) -> None:
        self.at, self.signum, self.calls = at, signum, 0

    def value(self, z, y):
        self.calls += 1
        for _ in range(self.at.count(self.calls)):
            os.kill(os.getpid(), self.signum)
        return super().value(z, y)


def test_sigterm_finishes_the_step_saves_and_raises(tmp_path):
    X, y = data()
    net = bp.mlp([3, 5, 1], seed=0)
    with pytest.raises(TrainingInterrupted, match=r"SIGTERM after 16 of 40 rows of epoch 2.*state is saved in") as info:
        bp.fit(net, X, y, epochs=5, batch_size=8, progress=False, loss=SignalOnCall(7, signum=signal.SIGTERM),
               checkpoint=tmp_path / "c.npz")
    assert isinstance(info.value, KeyboardInterrupt) and not isinstance(info.value, Exception)
    assert info.value.signum == signal.SIGTERM and info.value.checkpoint == tmp_path / "c.npz"
    ckpt = load_checkpoint(tmp_path / "c.npz")
    assert ckpt.epoch == 1 and ckpt.position.start == 16
    assert all(np.array_equal(ckpt.params[k], v) for k, v in net.params.items()), "saved after the step"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "handlers restored"


def test_a_second_sigint_stops_at_once_and_the_last_checkpoint_stays_intact(tmp_path):
    X, y = data()
    path = tmp_path / "c.npz"
    with pytest.raises(KeyboardInterrupt) as info:  # 5 batches per epoch: call 13 is in epoch 3
        bp.fit(bp.mlp([3, 5, 1]), X, y, epochs=6, batch_size=8, progress=False, loss=SignalOnCall(13, 13),
               checkpoint=path, checkpoint_every=1)
    assert not isinstance(info.value, TrainingInterrupted), "no checkpoint after the second signal"
    assert load_checkpoint(path).epoch == 2

    full = bp.mlp([3, 5, 1])
    history = bp.fit(full, X, y, epochs=6, batch_size=8, progress=False)
    resumed = bp.mlp([3, 5, 1])
    resumed_history = bp.fit(resumed, X, y, epochs=6, batch_size=8, progress=False, resume=path)
    assert all(np.array_equal(full.params[k], v) for k, v in resumed.params.items())
    assert np.array_equal(history.loss, resumed_history.loss)


def test_a_second_sigint_while_the_checkpoint_is_written_keeps_the_previous_one(tmp_path, monkeypatch):
    X, y = data()
    path = tmp_path / "c.npz"
    real_fsync, calls = os.fsync, []

    def fsync_then_signal(fd):  # the second Ctrl-C lands in the middle of writing the checkpoint
        calls.append(fd)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return real_fsync(fd)

    monkeypatch.setattr(bp_io.os, "fsync", fsync_then_signal)
    with pytest.raises(KeyboardInterrupt) as info:  # checkpoints after epochs 1 and 2, then SIGINT in epoch 3
        bp.fit(bp.mlp([3, 5, 1]), X, y, epochs=6, batch_size=8, progress=False, loss=SignalOnCall(13),
               checkpoint=path, checkpoint_every=1)
    assert not isinstance(info.value, TrainingInterrupted)
    assert len(calls) == 3
    assert load_checkpoint(path).epoch == 2
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"], "the half-written file is removed"


# --- subprocesses ----------------------------------------------------------------------------
CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import numpy as np

    import backproplab as bp
    from backproplab.core.optim import Adam

    class Tell(bp.Callback):
        def on_epoch_end(self, state):
            print(state.epoch, flush=True)

    path = Path(sys.argv[1])
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8))
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int)
    net = bp.mlp([8, 24, 24, 1], activation="tanh", seed=[1, 2])
    bp.fit(net, X, y, optimizer=Adam(0.005), epochs=int(sys.argv[2]), batch_size=16, progress=False,
           checkpoint=path, checkpoint_every=1, resume=path if path.exists() else None, callbacks=[Tell()])
    print("done", flush=True)
    """
)


def reference(epochs: int) -> tuple[bp.Network, bp.History]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8))
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int)
    net = bp.mlp([8, 24, 24, 1], activation="tanh", seed=[1, 2])
    return net, bp.fit(net, X, y, optimizer=Adam(0.005), epochs=epochs, batch_size=16, progress=False)


def test_sigkill_at_random_moments_never_loses_the_last_checkpoint(tmp_path):
    """Kill the trainer 6 times at seeded random moments; each restart resumes from the last checkpoint."""
    epochs, kills = 30, 6
    script, path = tmp_path / "train.py", tmp_path / "run" / "ckpt.npz"
    script.write_text(CHILD)
    chooser = random.Random(7)
    resumed_from = []
    for attempt in range(kills + 1):
        proc = subprocess.Popen([sys.executable, str(script), str(path), str(epochs)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            start = load_checkpoint(path).epoch if path.exists() else 0
            resumed_from.append(start)
            if attempt < kills and start < epochs - 2:
                # Wait until the child has reached a random epoch, then kill it a random instant later:
                # inside a training step or in the middle of writing a checkpoint.
                target = chooser.randint(start + 1, min(start + 4, epochs - 1))
                for line in proc.stdout:
                    if line.strip() == str(target):
                        break
                time.sleep(chooser.uniform(0, 0.004))
                proc.kill()
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:  # pragma: no cover - only if the child hung
                proc.kill()
                proc.wait()
        ckpt = load_checkpoint(path)  # whatever the moment of the kill, the last checkpoint loads
        assert ckpt.epoch >= start
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, err
    assert proc.returncode == 0 and "done" in out
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.npz"], "temporary files of killed writers are cleared"
    assert len(resumed_from) == kills + 1 and resumed_from == sorted(resumed_from)

    net, history = reference(epochs)
    final = load_checkpoint(path)
    assert final.epoch == epochs
    for name, p in net.params.items():
        assert np.array_equal(final.params[name], p), f"{name} differs after {kills} kills"
    for metric in ("loss", "accuracy"):
        assert np.array_equal(final.history[metric], history[metric])


# --- the command line ------------------------------------------------------------------------
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_backproplab_train_stops_on_a_signal_with_a_checkpoint_and_resumes(tmp_path, monkeypatch, signum, code):
    from backproplab.cli import main

    monkeypatch.chdir(tmp_path)
    run = ["train", "xor", "--epochs", "3000", "--runs", "100", "-q"]
    proc = start(*run, "--out", "run", "--checkpoint-every", "25", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True)
    saved = tmp_path / "run.checkpoint" / "checkpoint.npz"
    try:
        deadline = time.monotonic() + 120
        while not saved.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)  # wait for training to be under way: its first periodic checkpoint
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # pragma: no cover - only if the child hung
            proc.kill()
            proc.wait()

    name = signal.Signals(signum).name
    assert proc.returncode == code, err
    assert f"interrupted by {name} in epoch" in err
    assert f"saved in {os.path.join('run.checkpoint', 'checkpoint.npz')}" in err
    assert "resume with: backproplab train --resume run" in err
    assert not (tmp_path / "run").exists(), "no half-written run directory"
    ckpt = load_checkpoint(saved)
    assert 25 <= ckpt.epoch < 3000 and ckpt.net.runs == 100

    # The command it printed finishes the run, exactly as an uninterrupted one.
    assert main(["train", "--resume", "run", "--checkpoint-every", "1000", "-q"]) == 0
    assert main([*run, "--out", "reference"]) == 0
    assert not (tmp_path / "run.checkpoint").exists(), "the state of a finished run moves into its directory"
    resumed, reference = bp.load(tmp_path / "run" / "model.npz"), bp.load(tmp_path / "reference" / "model.npz")
    assert all(np.array_equal(resumed.params[k], v) for k, v in reference.params.items())
    assert (tmp_path / "run" / "history.csv").read_text() == (tmp_path / "reference" / "history.csv").read_text()
    assert load_checkpoint(tmp_path / "run" / "checkpoint.npz").epoch == 3000
