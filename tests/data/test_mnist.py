"""The IDX reader and the MNIST loader, on small IDX files the tests write themselves (no network)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from backproplab.data import DataFileError, load, load_mnist, read_idx, write_idx
from backproplab.data.mnist import MNIST_FILES, md5sum


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, dtype, compress):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype) if dtype != "uint8" else np.arange(24, dtype="uint8")
    path = write_idx(tmp_path / "a.idx", a, compress=compress)
    b = read_idx(path)
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(a, b)


def test_idx_header_bytes_are_the_published_format(tmp_path):
    write_idx(tmp_path / "labels", np.array([7, 2, 1], dtype=np.uint8))
    raw = (tmp_path / "labels").read_bytes()
    assert raw == bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1])  # magic 0x00000801, count 3, then the data


def test_truncated_foreign_and_missing_files_name_the_path(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((4, 5), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DataFileError, match=r"x holds .* bytes"):
        read_idx(path)
    foreign = tmp_path / "notes.txt"
    foreign.write_text("hello")
    with pytest.raises(DataFileError, match=r"notes\.txt is not an IDX file"):
        read_idx(foreign)
    bad_gz = tmp_path / "bad.gz"
    bad_gz.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")[:-6])
    with pytest.raises(DataFileError, match=r"bad\.gz"):
        read_idx(bad_gz)
    with pytest.raises(FileNotFoundError, match="nothing"):
        read_idx(tmp_path / "nothing")


def _tiny_mnist(directory, n_train=6, n_test=4):
    """Four gzip IDX files in MNIST's layout, and the `files` mapping with their checksums."""
    rng = np.random.default_rng(0)
    files = {}
    for key, shape in (("train_images", (n_train, 28, 28)), ("train_labels", (n_train,)),
                       ("test_images", (n_test, 28, 28)), ("test_labels", (n_test,))):
        high = 256 if key.endswith("images") else 10
        name = MNIST_FILES[key][0]
        write_idx(directory / name, rng.integers(0, high, shape).astype(np.uint8), compress=True)
        files[key] = (name, md5sum(directory / name))
    return files


def test_load_mnist_reads_cached_files(tmp_path):
    files = _tiny_mnist(tmp_path)
    X_train, y_train, X_test, y_test = load_mnist(tmp_path, download=False, files=files)
    assert X_train.shape == (6, 784) and X_test.shape == (4, 784) and y_train.shape == (6,)
    raw = read_idx(tmp_path / files["train_images"][0])
    np.testing.assert_allclose(X_train, raw.reshape(6, -1) / 255.0)
    assert X_train.min() >= 0 and X_train.max() <= 1 and y_test.dtype == np.int64


def test_load_mnist_downloads_from_a_configurable_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    files = _tiny_mnist(mirror)
    cache = tmp_path / "cache"
    monkeypatch.setenv("BACKPROPLAB_MNIST_MIRROR", mirror.as_uri())  # a file:// mirror: no network
    X_train, *_ = load_mnist(cache, files=files)
    assert sorted(p.name for p in cache.iterdir()) == sorted(name for name, _ in files.values())
    assert X_train.shape == (6, 784)


def test_bad_checksum_of_a_download_removes_it(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    files = _tiny_mnist(mirror)
    files["train_labels"] = (files["train_labels"][0], "0" * 32)
    cache = tmp_path / "cache"
    with pytest.raises(DataFileError, match="wrong MD5"):
        load_mnist(cache, mirror=mirror.as_uri(), files=files)
    assert not (cache / files["train_labels"][0]).exists()


def test_corrupt_cached_file_and_missing_file_are_named(tmp_path):
    files = _tiny_mnist(tmp_path)
    name = files["test_images"][0]
    (tmp_path / name).write_bytes(b"garbage")
    with pytest.raises(DataFileError, match=f"{name} has the wrong MD5"):
        load_mnist(tmp_path, download=False, files=files)
    (tmp_path / name).unlink()
    with pytest.raises(FileNotFoundError, match=name):
        load_mnist(tmp_path, download=False, files=files)


def test_failed_download_names_url_and_path(tmp_path):
    files = {k: (name, None) for k, (name, _) in MNIST_FILES.items()}
    with pytest.raises(DataFileError, match="could not download"):
        load_mnist(tmp_path / "cache", mirror=(tmp_path / "empty").as_uri(), files=files)


def test_mismatched_image_and_label_counts(tmp_path):
    files = _tiny_mnist(tmp_path)
    write_idx(tmp_path / files["train_labels"][0], np.zeros(5, np.uint8), compress=True)
    files["train_labels"] = (files["train_labels"][0], None)
    with pytest.raises(DataFileError, match="do not match"):
        load_mnist(tmp_path, download=False, files=files)


def test_load_by_name_keeps_the_official_test_set(tmp_path):
    files = _tiny_mnist(tmp_path, n_train=20, n_test=4)
    ds = load("mnist", val=0.25, cache_dir=tmp_path, download=False, files=files, standardize=False)
    assert len(ds.y_test) == 4 and len(ds.y_train) + len(ds.y_val) == 20
