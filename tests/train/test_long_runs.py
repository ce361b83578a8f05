"""Long runs: a run of any length resumes and extends bit for bit, also after SIGKILL (issue 20, item 1).

Since checkpoints keep their history in blocks of ``_history_blocks.BLOCK`` (4096)
epochs beside the checkpoint file, a finished run of 4096 epochs or more must
carry those blocks into its run directory, or ``train --resume`` cannot go on.
The sizes tested sit on each side of the block boundaries; the network is XOR's
2-2-1 on its 4 rows (one step per epoch), so 10,000 epochs take about a second.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import backproplab as bp
from backproplab.cli import main
from backproplab.data import logic_table
from backproplab.train import _history_blocks
from backproplab.train.checkpoint import checkpoint_files, load_checkpoint

from console import start

TOTAL = 10_240  # every run below is extended to this total and compared with one trained so in one go
RUN = ["train", "xor", "--hidden", "2", "-q"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run trained for ``TOTAL`` epochs without a stop."""
    where = tmp_path_factory.mktemp("reference")
    assert main([*RUN, "--epochs", str(TOTAL), "--out", str(where / "run")]) == 0
    return where / "run"


def assert_same_run(run: Path, reference: Path) -> None:
    a, b = bp.load(run / "model.npz"), bp.load(reference / "model.npz")
    assert all(np.array_equal(a.state_dict()[k], v) for k, v in b.state_dict().items()), "the weights differ"
    assert (run / "history.csv").read_text() == (reference / "history.csv").read_text()
    ckpt, ref = load_checkpoint(run / "checkpoint.npz"), load_checkpoint(reference / "checkpoint.npz")
    assert ckpt.epoch == ref.epoch == TOTAL
    for name, rows in ref.metrics.items():
        assert np.array_equal(ckpt.metrics[name], rows), f"the checkpoint's history {name} differs"


def test_a_checkpoint_lists_its_history_blocks(tmp_path):
    X, y = logic_table("xor")
    path = tmp_path / "c.npz"
    bp.fit(bp.mlp([2, 2, 1]), X, y, epochs=2 * _history_blocks.BLOCK + 1, batch_size=4, progress=False,
           checkpoint=path)
    parts = checkpoint_files(path)
    assert parts[0] == path and len(parts) == 3
    assert sorted(parts[1:]) == sorted(_history_blocks.folder(path).iterdir()), "every block, nothing else"


@pytest.mark.parametrize("epochs", [100, 4095, 4096, 4097, 8193, 10_000])
def test_a_finished_run_of_any_length_is_extended_bit_for_bit(tmp_path, monkeypatch, reference, epochs):
    monkeypatch.chdir(tmp_path)
    assert main([*RUN, "--epochs", str(epochs), "--out", "run"]) == 0
    blocks = epochs // _history_blocks.BLOCK
    listed = (tmp_path / "run" / "run.json").read_text()
    assert listed.count("checkpoint.npz.history/") == blocks, "the blocks are the run's own files, listed"
    assert main(["train", "--resume", "run", "--epochs", str(TOTAL), "-q"]) == 0
    assert_same_run(tmp_path / "run", reference)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"], "the state of the resumed run moved into it"


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_run_killed_past_a_history_block_resumes_bit_for_bit(tmp_path, monkeypatch, reference):
    monkeypatch.chdir(tmp_path)
    proc = start(*RUN, "--epochs", str(TOTAL), "--out", "run", "--checkpoint-every", "100",
                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    saved = tmp_path / "run.checkpoint" / "checkpoint.npz"
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if load_checkpoint(saved).epoch > _history_blocks.BLOCK + 100:
                    break  # one block written, and a checkpoint after it
            except (FileNotFoundError, bp.ModelFileError):
                pass  # not written yet, or being replaced right now
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # pragma: no cover - only if the child hung
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed: make TOTAL larger"
    assert not (tmp_path / "run").exists()
    assert main(["train", "--resume", "run", "-q"]) == 0
    assert_same_run(tmp_path / "run", reference)
