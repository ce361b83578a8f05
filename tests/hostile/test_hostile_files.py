"""Hostile files: model files and checkpoints truncated, bit-flipped, foreign, crafted, or carrying pickles.

Every load either returns exactly what was saved or raises ``ModelFileError``
(``FileNotFoundError`` for a missing path) naming the file; no load executes
code (a pickle whose payload would create a marker file never does), and no
failed load or refused resume changes a byte on disk.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import backproplab as bp
from backproplab.core.optim import Adam
from backproplab.files.io import FORMAT, FORMAT_VERSION, HEADER_KEY, write_archive
from backproplab.train.checkpoint import FORMAT as CKPT_FORMAT
from backproplab.train.checkpoint import load_checkpoint
from hostile import refused

X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y4 = np.array([0, 1, 1, 0])
LOADERS = {"model": bp.load, "checkpoint": load_checkpoint}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def make_files(directory: Path) -> dict[str, Path]:
    """A model file and a checkpoint of a small trained network (with batch norm, dropout and Adam state)."""
    net = bp.mlp([2, 3, 1], seed=0, runs=2, batch_norm=True, dropout=0.1)
    path = directory / "ckpt.npz"
    bp.fit(net, X4, Y4, optimizer=Adam(0.01), epochs=2, batch_size=2, progress=False, checkpoint=path)
    return {"model": net.save(directory / "model.npz"), "checkpoint": path}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return make_files(tmp_path_factory.mktemp("good"))


def same_content(a, b) -> bool:
    """Whether two loaded objects (networks or checkpoints) hold identical arrays and architecture."""
    if isinstance(a, bp.Network):
        pairs = [(a.params, b.params), (a.buffers, b.buffers)]
        return a.to_config() == b.to_config() and all(
            x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x) for x, y in pairs
        )
    return same_content(a.net, b.net) and a.epoch == b.epoch and a.rng_state == b.rng_state


def load_damaged(kind: str, original: Path, data: bytes, where: Path) -> object:
    """Write ``data`` to ``where``, load it, and check the file was not touched by the attempt."""
    where.write_bytes(data)
    result = refused(LOADERS[kind], where) if data != original.read_bytes() else LOADERS[kind](where)
    assert where.read_bytes() == data, "loading changed the file"
    return result


# --- truncation and corruption ---------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(LOADERS))
@SETTINGS
@given(fraction=st.floats(0, 1, exclude_max=True))
def test_truncated_files_are_refused(files, tmp_path_factory, kind, fraction):
    data = files[kind].read_bytes()
    cut = data[: int(len(data) * fraction)]
    err = load_damaged(kind, files[kind], cut, tmp_path_factory.mktemp("cut") / "f.npz")
    assert isinstance(err, bp.ModelFileError) and "f.npz" in str(err)


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_single_bit_flips_are_refused_or_harmless(files, tmp_path, kind):
    """Flip one bit at 300 seeded offsets and in each of the last 120 bytes (the zip directory), in turn.

    A load either fails cleanly or returns the same content: flips in the data are
    caught by the zip's CRCs, flips in its structure by the parsers and our checks.
    """
    data = files[kind].read_bytes()
    good = LOADERS[kind](files[kind])
    offsets = sorted(set(np.random.default_rng(0).choice(len(data), 300, replace=False)) | set(range(len(data))[-120:]))
    where, harmless = tmp_path / "f.npz", 0
    for offset in offsets:
        flipped = bytearray(data)
        flipped[offset] ^= 1 << (offset % 8)
        where.write_bytes(bytes(flipped))
        try:
            loaded = LOADERS[kind](where)
        except bp.ModelFileError as exc:
            assert str(exc)
            continue
        assert same_content(loaded, good), f"a flip at byte {offset} changed the content silently"
        harmless += 1
    # Harmless flips land in fields nothing reads (zip timestamps, "version made by"): a minority.
    assert harmless < len(offsets) // 2, "most flips must be detected (zip CRCs cover the data)"


@pytest.mark.parametrize("kind", sorted(LOADERS))
@SETTINGS
@given(data=st.data())
def test_random_corruption_is_refused_or_harmless(files, tmp_path_factory, kind, data):
    original = files[kind].read_bytes()
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8), label="flips")):
        at = data.draw(st.integers(0, len(damaged) - 1), label="offset")
        damaged[at] = data.draw(st.integers(0, 255), label="byte")
    where = tmp_path_factory.mktemp("flip") / "f.npz"
    where.write_bytes(bytes(damaged))
    try:
        loaded = LOADERS[kind](where)
    except bp.ModelFileError as exc:
        assert str(exc)
    else:
        assert same_content(loaded, LOADERS[kind](files[kind]))
    assert where.read_bytes() == bytes(damaged)


# --- files of another kind ---------------------------------------------------------------------
def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def header_bytes(header) -> np.ndarray:
    return np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)


FOREIGN = {
    "empty": b"",
    "text": b"hello, not a model\n",
    "json": json.dumps({"format": FORMAT, "format_version": 1}).encode(),
    "png": b"\x89PNG\r\n\x1a\n" + bytes(64),
    "npy": (lambda b: (np.save(b, np.ones(3)), b.getvalue())[1])(io.BytesIO()),
    "npz without header": npz_bytes(W=np.ones((2, 2))),
    "header not JSON": npz_bytes(**{HEADER_KEY: np.frombuffer(b"\xff\xfe{", dtype=np.uint8)}),
    "header a list": npz_bytes(**{HEADER_KEY: header_bytes([1, 2])}),
    "header of floats": npz_bytes(**{HEADER_KEY: np.ones(4)}),
    "header 2-D": npz_bytes(**{HEADER_KEY: np.ones((2, 2), dtype=np.uint8)}),
    "other format": npz_bytes(**{HEADER_KEY: header_bytes({"format": "keras", "format_version": 1})}),
    "future version": npz_bytes(**{HEADER_KEY: header_bytes({"format": FORMAT, "format_version": 99})}),
    "empty zip": (lambda b: (zipfile.ZipFile(b, "w").close(), b.getvalue())[1])(io.BytesIO()),
}


@pytest.mark.parametrize("name", sorted(FOREIGN))
@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_files_of_another_kind_are_refused(tmp_path, kind, name):
    path = tmp_path / "f.npz"
    path.write_bytes(FOREIGN[name])
    err = refused(LOADERS[kind], path)
    assert isinstance(err, bp.ModelFileError) and str(path) in str(err)
    assert path.read_bytes() == FOREIGN[name]


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_a_model_file_is_not_a_checkpoint_and_vice_versa(files, kind):
    other = files["checkpoint" if kind == "model" else "model"]
    err = refused(LOADERS[kind], other)
    assert isinstance(err, bp.ModelFileError) and "not a backproplab" in str(err)


@pytest.mark.parametrize("kind", sorted(LOADERS))
@pytest.mark.parametrize("target", ["missing", "directory", 42, None, ["f.npz"]])
def test_paths_that_are_not_files(tmp_path, kind, target):
    if target == "missing":
        assert isinstance(refused(LOADERS[kind], tmp_path / "nope.npz"), FileNotFoundError)
    elif target == "directory":
        assert isinstance(refused(LOADERS[kind], tmp_path), FileNotFoundError)
    else:
        assert isinstance(refused(LOADERS[kind], target), TypeError)


# --- pickles ---------------------------------------------------------------------------------
class Payload:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def pickled_files(marker: Path) -> dict[str, bytes]:
    evil = Payload(marker)
    object_array = np.array([evil, 1], dtype=object)

    def npz_with_pickle(member: str, value: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, **{member: value, "x": np.ones(2)})  # np.savez pickles object arrays silently
        return buffer.getvalue()

    def zip_member(name: str, content: bytes) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr(name, content)
        return buffer.getvalue()

    return {
        "raw pickle": pickle.dumps(evil),
        "pickle named .npz": pickle.dumps({"0.W": evil}),
        "object array as a parameter": npz_with_pickle("0.W", object_array),
        "object array as the header": npz_with_pickle(HEADER_KEY, object_array),
        "pickle as a raw member": zip_member(HEADER_KEY, pickle.dumps(evil)),
        "pickle as an .npy member": zip_member(f"{HEADER_KEY}.npy", pickle.dumps(evil)),
        "pickled .npy": (lambda b: (np.save(b, object_array, allow_pickle=True), b.getvalue())[1])(io.BytesIO()),
    }


@pytest.mark.parametrize("name", sorted(pickled_files(Path("m"))))
@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_pickles_never_execute(tmp_path, kind, name):
    marker = tmp_path / "marker"
    data = pickled_files(marker)[name]
    pickle.loads(pickle.dumps(Payload(tmp_path / "probe")))  # the payload does work when unpickled...
    assert (tmp_path / "probe").exists()
    path = tmp_path / "f.npz"
    path.write_bytes(data)
    err = refused(LOADERS[kind], path)
    assert isinstance(err, bp.ModelFileError)
    assert not marker.exists(), "loading executed code"  # ...but loading never unpickles


# --- crafted headers -------------------------------------------------------------------------
def model_header(arch) -> dict:
    return {"architecture": arch, "params": {}, "buffers": {}}


def dense(fan_in, fan_out, **extra) -> dict:
    return {"type": "Dense", "fan_in": fan_in, "fan_out": fan_out, "init": "he_normal", **extra}


ARCH = {"output": "sigmoid", "runs": None, "dtype": "float64"}
CRAFTED = {
    "huge layer": ({**ARCH, "layers": [dense(10**9, 10**9)]}, {}),
    "huge batch norm": ({**ARCH, "layers": [dense(2, 3), {"type": "BatchNorm", "num_features": 10**11}]},
                        {"0.W": np.ones((2, 3)), "0.b": np.ones((1, 3))}),
    "huge runs": ({**ARCH, "runs": 10**12, "layers": [dense(2, 1)]}, {}),
    "negative size": ({**ARCH, "layers": [dense(-2, 1)]}, {"0.W": np.ones((2, 1)), "0.b": np.ones((1, 1))}),
    "arrays of the wrong shape": ({**ARCH, "layers": [dense(2, 1)]}, {"0.W": np.ones((3, 1)), "0.b": np.ones((1, 1))}),
    "missing array": ({**ARCH, "layers": [dense(2, 1)]}, {"0.W": np.ones((2, 1))}),
    "extra array": ({**ARCH, "layers": [dense(2, 1)]},
                    {"0.W": np.ones((2, 1)), "0.b": np.ones((1, 1)), "9.W": np.ones(1)}),
    "string array": ({**ARCH, "layers": [dense(2, 1)]}, {"0.W": np.array([["a"], ["b"]]), "0.b": np.ones((1, 1))}),
    "complex array": ({**ARCH, "layers": [dense(2, 1)]}, {"0.W": np.ones((2, 1), complex), "0.b": np.ones((1, 1))}),
    "NaN parameters": ({**ARCH, "layers": [dense(2, 1)]}, {"0.W": np.full((2, 1), np.nan), "0.b": np.ones((1, 1))}),
    "unknown layer": ({**ARCH, "layers": [{"type": "os.system", "cmd": "touch x"}]}, {}),
    "layer with a bad option": ({**ARCH, "layers": [dense(2, 1, init="evil")]},
                                {"0.W": np.ones((2, 1)), "0.b": np.ones((1, 1))}),
    "layer injecting an argument": ({**ARCH, "layers": [dense(2, 1, rng="x")]},
                                    {"0.W": np.ones((2, 1)), "0.b": np.ones((1, 1))}),
    "layers not a list": ({**ARCH, "layers": 5}, {}),
    "layer not a dict": ({**ARCH, "layers": ["Dense"]}, {}),
    "no layers": ({**ARCH, "layers": []}, {}),
    "bad dtype": ({**ARCH, "dtype": "object", "layers": [dense(2, 1)]},
                  {"0.W": np.ones((2, 1)), "0.b": np.ones((1, 1))}),
    "bad output": ({**ARCH, "output": "exec", "layers": [dense(2, 1)]},
                   {"0.W": np.ones((2, 1)), "0.b": np.ones((1, 1))}),
    "no architecture": (None, {}),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_model_headers_are_refused_without_allocating(tmp_path, name):
    arch, arrays = CRAFTED[name]
    path = write_archive(tmp_path / "m.npz", FORMAT, FORMAT_VERSION, model_header(arch), arrays)
    before = path.read_bytes()
    err = refused(bp.load, path)
    assert isinstance(err, bp.ModelFileError) and str(path) in str(err)
    assert path.read_bytes() == before


def crafted_checkpoint(good: Path, where: Path, change) -> Path:
    """A copy of the checkpoint ``good`` with its header and arrays passed through ``change``."""
    with np.load(good, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    header = json.loads(arrays.pop(HEADER_KEY).tobytes())
    for key in ("format", "format_version", "package_version"):
        header.pop(key)
    change(header, arrays)
    return write_archive(where, CKPT_FORMAT, 1, header, arrays)


def _set(path: str, value):
    def change(header, arrays):
        *keys, last = path.split(".")
        target = header
        for key in keys:
            target = target[key]
        target[last] = value

    return change


def _array(name: str, value):
    def change(header, arrays):
        arrays[name] = value

    return change


def _drop(name: str):
    def change(header, arrays):
        arrays.pop(name)

    return change


CHECKPOINT_CHANGES = {
    "negative epoch": _set("epoch", -3),
    "epoch a string": _set("epoch", "3"),
    "optimizer t a float": _set("optimizer.t", 1.5),
    "optimizer lr a string": _set("optimizer.lr", "0.1"),
    "optimizer lr NaN": _set("optimizer.lr", float("nan")),
    "optimizer lr negative": _set("optimizer.lr", -0.1),
    "optimizer t negative": _set("optimizer.t", -1),
    "optimizer not a dict": _set("optimizer", [1]),
    "rng not a dict": _set("rng", "PCG64"),
    "rng of another generator": _set("rng", {"bit_generator": "MT19937", "state": {"key": [1], "pos": 0}}),
    "rng garbage": _set("rng", {"bit_generator": "PCG64", "state": {"state": "x", "inc": None}}),
    "diverged garbage": _set("diverged", {"x": "y"}),
    "position garbage": _set("position", {"start": -1, "shuffled": True}),
    "position without arrays": _set("position", {"start": 1, "shuffled": True}),
    "fit settings not a dict": _set("fit", 7),
    "layer generators garbage": _set("layer_rngs", {"0.x.0": {"bit_generator": "PCG64"}}),
    "optimizer state of the wrong shape": _array("optim/0.W/m", np.ones((9, 9))),
    "optimizer state for no parameter": _array("optim/7.W/m", np.ones(2)),
    "member without a group": _array("loose", np.ones(2)),
    "parameter missing": _drop("param/0.W"),
    "buffer missing": _drop("buffer/1.running_mean"),
    "history of strings": _array("history/loss", np.array(["a", "b"])),
}


@pytest.mark.parametrize("name", sorted(CHECKPOINT_CHANGES))
def test_crafted_checkpoints_are_refused_and_resume_changes_nothing(files, tmp_path, name):
    path = crafted_checkpoint(files["checkpoint"], tmp_path / "c.npz", CHECKPOINT_CHANGES[name])
    before = path.read_bytes()
    net = bp.mlp([2, 3, 1], seed=0, runs=2, batch_norm=True, dropout=0.1)
    params = net.copy_params()
    # Loading may succeed for damage only resuming can see (a generator state, an optimizer slot);
    # resuming into a real run must then refuse it, before any training and without writing.
    err = refused(bp.fit, net, X4, Y4, optimizer=Adam(0.01), epochs=4, batch_size=2, progress=False,
                  resume=path, checkpoint=path)
    assert isinstance(err, (bp.ModelFileError, ValueError)) and str(err)
    assert all(np.array_equal(params[k], v) for k, v in net.params.items()), "nothing trained"
    assert path.read_bytes() == before, "the checkpoint was overwritten"


def test_a_refused_fit_never_touches_an_existing_checkpoint(files, tmp_path):
    path = tmp_path / "c.npz"
    path.write_bytes(files["checkpoint"].read_bytes())
    for bad in ({"X": X4[:, :1]}, {"y": [0, 1, 2, 0]}, {"epochs": 0}, {"checkpoint_every": -1}):
        kwargs = {"X": X4, "y": Y4, "epochs": 3, "progress": False, "checkpoint": path, **bad}
        refused(lambda kw=kwargs: bp.fit(bp.mlp([2, 3, 1]), kw.pop("X"), kw.pop("y"), **kw))
        assert path.read_bytes() == files["checkpoint"].read_bytes()


def test_saving_over_a_directory_is_refused_and_the_directory_kept(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "keep.txt").write_text("mine")
    net = bp.mlp([2, 3, 1])
    refused(net.save, tmp_path / "d")
    assert (tmp_path / "d" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"], "no temporary file left behind"
