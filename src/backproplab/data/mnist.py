"""MNIST (LeCun et al. 1998) from its original IDX files: download, verify, cache, read.

``load_mnist`` looks for the four files in a cache directory; files not there
are downloaded from a mirror (configurable: argument, or the environment
variable ``BACKPROPLAB_MNIST_MIRROR``) and every file is checked against its
MD5 checksum before it is read, so a truncated download or a swapped file is
caught with an error naming the path rather than trained on. The IDX reader is
plain NumPy (``read_idx``), gzip-compressed or not.

The IDX format: two zero bytes, a type code (``0x08`` unsigned byte, ``0x09``
signed byte, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64),
the number of dimensions, then each dimension as a big-endian uint32, then the
data, big-endian, in C order.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import urllib.request
from pathlib import Path

import numpy as np

from ..errors import DataFileError
from ..files.io import atomic_write

#: The original files and their MD5 checksums (the values torchvision and others verify).
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train_images": ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
}

#: Default mirror of the original files (the one torchvision uses since yann.lecun.com stopped serving them).
DEFAULT_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def default_cache_dir() -> Path:
    """``$BACKPROPLAB_CACHE`` or ``$XDG_CACHE_HOME/backproplab`` or ``~/.cache/backproplab``, plus ``/mnist``."""
    root = os.environ.get("BACKPROPLAB_CACHE")
    if not root:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "backproplab")
    return Path(root) / "mnist"


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a NumPy array of its native type.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    DataFileError
        If the file is not IDX, or its data is shorter or longer than its header says.

    Examples
    --------
    Three float32 values, written byte by byte as the format says (type code
    ``0x0D``, one dimension of size 3, big-endian data):

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from backproplab.data import read_idx
    >>> raw = bytes([0, 0, 0x0D, 1]) + (3).to_bytes(4, "big") + np.array([1.5, -2.0, 0.25], ">f4").tobytes()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "values.idx").write_bytes(raw)
    ...     read_idx(Path(tmp) / "values.idx")
    array([ 1.5 , -2.  ,  0.25], dtype=float32)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no IDX file at {path}")
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataFileError(f"{path} is a damaged gzip file ({exc})") from exc
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES:
        raise DataFileError(f"{path} is not an IDX file (magic bytes {raw[:4].hex() or 'missing'})")
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(f"{path} is truncated: its header announces {ndim} dimensions")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DataFileError(f"{path} holds {len(raw)} bytes but its header {shape} of {dtype} needs {expected}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # native byte order, writable copy


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool = False) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed if ``compress``), atomically. The inverse of ``read_idx``.

    Examples
    --------
    Two 3×4 images of unsigned bytes: the header is the type code ``0x08`` and
    three dimensions, then the sizes 2, 3, 4 as big-endian uint32.

    >>> import gzip, tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from backproplab.data import read_idx, write_idx
    >>> images = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_idx(Path(tmp) / "images-idx3-ubyte.gz", images, compress=True)
    ...     raw = gzip.decompress(path.read_bytes())
    ...     back = read_idx(path)
    >>> raw[:16].hex(" ", 4), len(raw)
    ('00000803 00000002 00000003 00000004', 40)
    >>> back.dtype, bool(np.array_equal(back, images))
    (dtype('uint8'), True)
    """
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"IDX cannot store dtype {array.dtype}; use one of {sorted(str(d) for d in codes)}")
    raw = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    raw += array.astype(array.dtype.newbyteorder(">")).tobytes()
    with atomic_write(path) as f:
        f.write(gzip.compress(raw, mtime=0) if compress else raw)
    return Path(path)


def md5sum(path: str | os.PathLike) -> str:
    """Hex MD5 digest of a file, read in blocks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(url: str, path: Path, md5: str | None, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``path`` atomically and verify its checksum; a bad download is deleted."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_write(path) as f:
            for block in iter(lambda: response.read(1 << 20), b""):
                f.write(block)
    except OSError as exc:  # URLError and HTTPError are OSErrors
        raise DataFileError(f"could not download {url} to {path} ({exc})") from exc
    if md5 is not None and md5sum(path) != md5:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        raise DataFileError(f"{path} downloaded from {url} has the wrong MD5 checksum (removed; try another mirror)")
    return path


def load_mnist(
    cache_dir: str | os.PathLike | None = None,
    *,
    mirror: str | None = None,
    download: bool = True,
    files: dict[str, tuple[str, str | None]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as ``(X_train, y_train, X_test, y_test)``: images flattened to 784 pixels in ``[0, 1]``.

    Parameters
    ----------
    cache_dir : path, optional
        Where the IDX files live (and are downloaded to). Default: ``default_cache_dir()``.
    mirror : str, optional
        Base URL the file names are appended to. Default: ``$BACKPROPLAB_MNIST_MIRROR``
        or ``DEFAULT_MIRROR``. ``file://`` URLs work too.
    download : bool, default True
        Fetch files missing from the cache; with False a missing file is an error.
    files : dict, optional
        ``{"train_images": (file name, md5 or None), ...}`` to override ``MNIST_FILES``
        (other mirrors' names, or small files in tests). ``None`` skips the checksum.

    Returns
    -------
    X_train : ``(60000, 784)`` float64; y_train : ``(60000,)`` int64; X_test, y_test likewise with 10000 rows.

    Raises
    ------
    FileNotFoundError
        If a file is missing and ``download`` is False.
    DataFileError
        If a file's checksum or content is wrong, or a download fails.

    Examples
    --------
    The real files are downloaded into the cache on first use (about 11 MB):

    >>> X_train, y_train, X_test, y_test = load_mnist()  # doctest: +SKIP

    The same reader on four tiny files of the same format, written here (``files``
    names them, without checksums; ``download=False``: nothing is fetched):

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from backproplab.data import load_mnist, write_idx
    >>> files = {f"{part}_{kind}": (f"{part}-{kind}.idx", None) for part in ("train", "test")
    ...          for kind in ("images", "labels")}
    >>> with tempfile.TemporaryDirectory() as cache:
    ...     for part, n in (("train", 6), ("test", 2)):
    ...         _ = write_idx(Path(cache) / f"{part}-images.idx", np.full((n, 28, 28), 51, dtype=np.uint8))
    ...         _ = write_idx(Path(cache) / f"{part}-labels.idx", np.arange(n, dtype=np.uint8))
    ...     X_train, y_train, X_test, y_test = load_mnist(cache, files=files, download=False)
    >>> X_train.shape, X_test.shape, y_train.tolist()  # 28×28 images flattened to 784 pixels
    ((6, 784), (2, 784), [0, 1, 2, 3, 4, 5])
    >>> float(X_train[0, 0])  # pixel 51 of 255
    0.2
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    base = mirror or os.environ.get("BACKPROPLAB_MNIST_MIRROR") or DEFAULT_MIRROR
    files = MNIST_FILES if files is None else files
    arrays = {}
    for key in ("train_images", "train_labels", "test_images", "test_labels"):
        name, md5 = files[key]
        path = cache / name
        if not path.is_file():
            if not download:
                raise FileNotFoundError(f"MNIST file {path} is missing (pass download=True to fetch it from {base})")
            fetch(base.rstrip("/") + "/" + name, path, md5)
        elif md5 is not None and md5sum(path) != md5:
            raise DataFileError(f"{path} has the wrong MD5 checksum (damaged, or not MNIST); delete it to re-fetch")
        arrays[key] = read_idx(path)
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataFileError(
                f"MNIST {part} files in {cache} do not match: images {images.shape}, labels {labels.shape}"
            )
    flat = {k: v.reshape(len(v), -1).astype(np.float64) / 255.0 for k, v in arrays.items() if k.endswith("images")}
    return (flat["train_images"], arrays["train_labels"].astype(np.int64),
            flat["test_images"], arrays["test_labels"].astype(np.int64))
