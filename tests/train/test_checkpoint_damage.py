"""A damaged checkpoint is refused, never half-loaded (issue 20, item 11).

Single bits are flipped across the whole checkpoint and each of its history
blocks: at seeded random positions, every bit of the digits of the history's shapes
(where one flipped digit could make a history shorter) and the lengths in the zip's
central directory (where one flipped bit made zipfile skip the history's entries, and
the history vanished without a word: found by flipping every bit of a checkpoint). Each damaged
copy must either be refused with ``ModelFileError`` or load exactly what the
intact one holds (a flipped bit in a zip time stamp changes nothing we read).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backproplab as bp
from backproplab.data import logic_table
from backproplab.train import _history_blocks
from backproplab.train.checkpoint import Checkpoint, checkpoint_files, load_checkpoint


def contents(ckpt: Checkpoint) -> dict[str, Any]:
    """Everything a checkpoint gives a resumed run, as comparable plain data."""
    def arrays(d: dict[str, np.ndarray]) -> dict[str, tuple[str, tuple[int, ...], bytes]]:
        return {k: (a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes()) for k, a in d.items()}

    return {
        "plain": json.dumps([ckpt.architecture, ckpt.optimizer, ckpt.rng_state, ckpt.layer_rngs, ckpt.epoch,
                             ckpt.diverged, ckpt.fit, sorted(ckpt.callbacks)], sort_keys=True, default=str),
        "params": arrays(ckpt.params), "buffers": arrays(ckpt.buffers), "metrics": arrays(ckpt.metrics),
        "optimizer": {k: arrays(v) for k, v in ckpt.optimizer_state.items()},
        "callbacks": {i: arrays(state) for i, (_, state) in ckpt.callbacks.items()},
    }


@pytest.fixture
def saved(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(_history_blocks, "BLOCK", 4)  # 10 epochs: two blocks and a tail of two rows
    X, y = logic_table("xor")
    net = bp.mlp([2, 4, 1], batch_norm=True, dropout=0.2, runs=2, seed=3)
    path = tmp_path / "c.npz"
    bp.fit(net, X, y, optimizer=bp.Adam(0.01), epochs=10, batch_size=2, progress=False, checkpoint=path)
    return path


def flips(data: bytes, history: bool, sample: int, chooser: random.Random) -> list[tuple[int, int]]:
    """(byte, bit) to flip: the digits of the history's shapes, the central directory's lengths, random bits."""
    member = rb"" if history else rb"history/"  # a block holds history only; a checkpoint names it so
    shapes = re.finditer(member + rb"[a-z_]+\.npy.{0,200}?'shape': \(([0-9, ]*)\)", data, re.DOTALL)
    digits = [i for m in shapes for i in range(*m.span(1)) if data[i:i + 1].isdigit()]
    # The lengths in each central directory entry: a longer extra field or comment once swallowed the
    # entries after it, and the history with them, without a word from zipfile (high bits, and one at random).
    lengths = [m.start() + offset for m in re.finditer(rb"PK\x01\x02", data) for offset in (28, 29, 30, 31, 32, 33)]
    central = [(i, bit) for i in lengths[3::2] for bit in (6, 7)] + [(chooser.choice(lengths), chooser.randrange(8))
                                                                    for _ in range(len(lengths) // 6)]
    return [(i, bit) for i in digits for bit in range(8)] + central + [
        (chooser.randrange(len(data)), chooser.randrange(8)) for _ in range(sample)]


def test_every_flipped_bit_is_refused_or_harmless(saved):
    intact = contents(load_checkpoint(saved))
    assert len(intact["metrics"]["loss"][2]) == 10 * 2 * 8, "ten epochs of two runs"
    chooser = random.Random(11)
    tried = refused = 0
    for part in checkpoint_files(saved):
        data = part.read_bytes()
        for at, bit in flips(data, part != saved, 80 if part == saved else 15, chooser):
            damaged = bytearray(data)
            damaged[at] ^= 1 << bit
            part.write_bytes(bytes(damaged))
            try:
                got = contents(load_checkpoint(saved))
            except bp.ModelFileError:
                refused += 1
            else:
                assert got == intact, f"a flip at byte {at} of {part.name} changed what the checkpoint holds"
            tried += 1
        part.write_bytes(data)
    assert contents(load_checkpoint(saved)) == intact
    assert tried > 250 and refused > 0.8 * tried, (tried, refused)


def test_a_block_of_another_run_is_refused(saved, tmp_path, monkeypatch):
    blocks = checkpoint_files(saved)[1:]
    X, y = logic_table("xor")
    other = tmp_path / "other.npz"
    bp.fit(bp.mlp([2, 4, 1], batch_norm=True, dropout=0.2, runs=2, seed=4), X, y, optimizer=bp.Adam(0.01),
           epochs=10, batch_size=2, progress=False, checkpoint=other)
    blocks[0].write_bytes(checkpoint_files(other)[1].read_bytes())  # a valid block file, of other rows
    with pytest.raises(bp.ModelFileError, match="does not hold the rows its name promises"):
        load_checkpoint(saved)


def test_a_history_shorter_than_the_epochs_is_refused(saved):
    from backproplab.core._archive import read_archive, write_archive
    from backproplab.train.checkpoint import FORMAT, FORMAT_VERSION

    header, arrays = read_archive(saved, FORMAT, FORMAT_VERSION, "checkpoint")
    header = {k: v for k, v in header.items() if k not in ("format", "format_version", "package_version")}
    header["history_blocks"] = header["history_blocks"][:1]  # a consistent file, one block short
    write_archive(saved, FORMAT, FORMAT_VERSION, header, arrays, checksum=True)
    with pytest.raises(bp.ModelFileError, match="the history's loss has 6 rows for 10 epochs"):
        load_checkpoint(saved)


def test_central_directory_entries_swallowed_by_a_comment_are_refused(tmp_path):
    """The one silent case of 25,944 single-bit flips of a 20-epoch checkpoint (every bit of it, before the fix).

    A flipped bit in one entry's comment length made that comment exactly as long as
    the two history entries after it: zipfile skipped them without a word, and the
    checkpoint loaded with no history. Here the comment length is set so on purpose.
    """
    X, y = logic_table("xor")
    saved = tmp_path / "c.npz"  # no history blocks: every row in the checkpoint itself
    bp.fit(bp.mlp([2, 8, 1]), X, y, epochs=20, batch_size=4, progress=False, checkpoint=saved)
    data = bytearray(saved.read_bytes())
    entries = [m.start() for m in re.finditer(rb"PK\x01\x02", data)]
    names = [bytes(data[e + 46:e + 46 + int.from_bytes(data[e + 28:e + 30], "little")]) for e in entries]
    first = next(k for k, name in enumerate(names) if name.startswith(b"history/"))
    last = max(k for k, name in enumerate(names) if name.startswith(b"history/"))
    assert 0 < first <= last < len(entries) - 1
    before, after = entries[first - 1], entries[last + 1]
    comment = after - entries[first]  # the history's entries become the comment of the entry before them
    assert int.from_bytes(data[before + 32:before + 34], "little") == 0
    data[before + 32:before + 34] = comment.to_bytes(2, "little")
    saved.write_bytes(bytes(data))
    import zipfile

    assert not any(n.startswith("history/") for n in zipfile.ZipFile(saved).namelist()), "zipfile no longer sees them"
    with pytest.raises(bp.ModelFileError, match="its arrays do not match its checksum"):
        load_checkpoint(saved)
