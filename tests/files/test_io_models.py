"""Model files: save -> load predicts identically for every layer kind; damaged, foreign, crafted files are refused."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import backproplab as bp
from backproplab.errors import ModelFileError
from backproplab.files.io import FORMAT_VERSION, HEADER_KEY


def _trained(runs=None, **options):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), rng.integers(0, 3, 30)
    net = bp.mlp([3, 6, 5, 3], output="softmax", seed=2, runs=runs, **options)
    bp.fit(net, X, y, optimizer=bp.Adam(0.01), epochs=3, batch_size=10, progress=False)
    return net, X


@pytest.mark.parametrize("runs", [None, 2])
@pytest.mark.parametrize(
    "options",
    [{}, {"activation": "leaky_relu"}, {"dropout": 0.3}, {"batch_norm": True},
     {"batch_norm": True, "dropout": 0.2, "activation": "tanh", "dtype": "float32"}],
)
def test_round_trip_gives_identical_predictions(tmp_path, runs, options):
    net, X = _trained(runs, **options)
    path = net.save(tmp_path / "model.npz")
    loaded = bp.load(path)
    assert loaded.to_config() == net.to_config()
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    for name, b in net.buffers.items():  # batch norm's running statistics come back, not re-initialised
        np.testing.assert_array_equal(loaded.buffers[name], b)
    if options.get("batch_norm"):
        assert not np.allclose(net.buffers["1.running_mean"], 0)


def test_regressor_round_trip(tmp_path):
    net = bp.mlp([2, 4, 2], output="identity", batch_norm=True, seed=3)
    X = np.random.default_rng(1).standard_normal((8, 2))
    bp.fit(net, X, X[:, ::-1], epochs=2, progress=False)
    np.testing.assert_array_equal(bp.load(net.save(tmp_path / "r.npz")).predict(X), net.predict(X))


def _rewrite(src, dst, change):
    """Copy the archive at ``src`` to ``dst`` with ``change(header, arrays)`` applied."""
    with np.load(src, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    header = json.loads(arrays.pop(HEADER_KEY).tobytes())
    change(header, arrays)
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(dst, **arrays)
    return dst


@pytest.fixture
def saved(tmp_path):
    net, _ = _trained(batch_norm=True)
    return net.save(tmp_path / "good.npz")


def test_truncated_file_is_refused(saved, tmp_path):
    data = saved.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 5):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match=f"cut{cut}"):
            bp.load(bad)


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    with pytest.raises(ModelFileError, match=r"not an \.npz"):
        bp.load(text)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.ones(3))
    with pytest.raises(ModelFileError, match="no header"):
        bp.load(other)
    with pytest.raises(FileNotFoundError, match="missing"):
        bp.load(tmp_path / "missing.npz")


def test_other_format_version_is_refused(saved, tmp_path):
    def bump(header, arrays):
        header["format_version"] = FORMAT_VERSION + 1

    with pytest.raises(ModelFileError, match="format version"):
        bp.load(_rewrite(saved, tmp_path / "v2.npz", bump))


@pytest.mark.parametrize("key", ["1.running_mean", "0.W"])
def test_missing_or_reshaped_arrays_are_refused(saved, tmp_path, key):
    def drop(header, arrays):
        del arrays[key]

    def reshape(header, arrays):
        arrays[key] = np.zeros((7, 7))

    for change in (drop, reshape):
        with pytest.raises(ModelFileError, match="does not match"):
            bp.load(_rewrite(saved, tmp_path / f"{change.__name__}.npz", change))


def test_unknown_layer_type_is_refused(saved, tmp_path):
    def rename(header, arrays):
        header["architecture"]["layers"][1]["type"] = "os.system"

    with pytest.raises(ModelFileError, match="does not match"):
        bp.load(_rewrite(saved, tmp_path / "renamed.npz", rename))


class _Boom:
    def __reduce__(self):
        return (pytest.fail, ("unpickling ran code",))


def test_pickled_member_is_never_unpickled(saved, tmp_path):
    # An object array inside an .npz is stored as a pickle: allow_pickle=False must refuse it.
    crafted = tmp_path / "crafted.npz"
    with np.load(saved, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    boom = np.empty(1, dtype=object)
    boom[0] = _Boom()
    arrays["0.W"] = boom
    np.savez(crafted, **arrays)
    with pytest.raises(ModelFileError):
        bp.load(crafted)
    # A raw pickle stream smuggled in as a zip member (not an .npy) is refused too.
    raw = tmp_path / "raw.npz"
    with zipfile.ZipFile(raw, "w") as z, np.load(saved, allow_pickle=False) as archive:
        for name in archive.files:
            if name == "0.W":
                continue
            buf = io.BytesIO()
            np.save(buf, archive[name])
            z.writestr(f"{name}.npy", buf.getvalue())
        z.writestr("0.W.npy", pickle.dumps(_Boom()))
    with pytest.raises(ModelFileError):
        bp.load(raw)
