"""Files written atomically, and the archive every backproplab file is: ``.npz`` plus a JSON header.

Every file is written atomically: to a temporary file in the same directory,
flushed to disk, then renamed over the target, so a reader (or a crash) never
sees half a file.

Model files, checkpoints and recordings share one archive format: a NumPy
``.npz`` holding the arrays, plus a JSON header stored as UTF-8 bytes in the
array ``__backproplab__`` (format name and version, package version, and what
the kind of file needs). It is read with ``allow_pickle=False``, so loading a
file never executes code, and every way a file can fail to be ours (missing,
truncated, another format, another format version) raises an error that names
the path.
"""

from __future__ import annotations

import contextlib
import hashlib
import io as _io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from .._version import __version__
from ..errors import ModelFileError

HEADER_KEY = "__backproplab__"


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it over ``path``.

    If the body raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"cannot write {path}: it is a directory; give a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600 files; give the result the permissions open() would (0666 minus umask).
        os.chmod(tmp, 0o666 & ~umask())
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def umask() -> int:
    """The process umask (reading it requires setting it; set it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_write(path, "w") as f:
        f.write(text)


# --- the archive shared by model files and checkpoints --------------------------------
def write_archive(
    path: str | os.PathLike,
    format: str,
    version: int,
    header: dict[str, Any],
    arrays: dict[str, np.ndarray],
    *,
    checksum: bool = False,
) -> Path:
    """Write ``arrays`` plus a JSON ``header`` (tagged with ``format`` and ``version``) as one ``.npz``, atomically.

    With ``checksum``, the header also holds a hash of every array (``checksum_of``),
    which ``read_archive`` compares: checkpoints use it, so that no damaged part of
    one is ever taken for a shorter history or other numbers. (Model files keep
    their bytes of format version 1; the zip's CRC-32 of each member covers them.)
    """
    header = {"format": format, "format_version": version, "package_version": __version__, **header}
    if checksum:
        header["checksum"] = checksum_of(arrays)
    # In C order whatever the memory layout (stacked weights are stored runs-last): np.save would write an
    # F-contiguous array in Fortran order, and the same values must always make the same bytes.
    arrays = {name: np.asarray(a, order="C") for name, a in arrays.items()}  # (ascontiguousarray makes 0-d 1-d)
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    buffer = _io.BytesIO()
    np.savez(buffer, **arrays)
    with atomic_write(path) as f:
        f.write(buffer.getvalue())
    return Path(path)


def checksum_of(arrays: dict[str, np.ndarray]) -> str:
    """A BLAKE2b hash of arrays by name: each one's name, dtype, shape and bytes, in sorted name order."""
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}\0{a.dtype.str}{a.shape}\0".encode())
        h.update(a.data)
    return h.hexdigest()


def read_archive(
    path: Path, format: str, version: int | tuple[int, ...], what: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read an archive written by ``write_archive``: its header and its arrays.

    Never unpickles: every member must be a plain ``.npy`` array. Every member is
    read whole, so the zip's CRC-32 of each is checked (``np.load`` stops after
    the array an ``.npy`` header announces, and a damaged shape then reads a
    shorter array without a word), and nothing may follow an array. A header
    ``checksum`` (``write_archive(checksum=True)``) must match the arrays. ``what``
    names the kind of file in error messages ("model file", "checkpoint").
    """
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise ModelFileError(f"{path} is not a backproplab {what} (not an .npz archive)")
    try:
        arrays = _members(path, what)
        if HEADER_KEY not in arrays:
            raise ModelFileError(f"{path} is a NumPy archive but not a backproplab {what} (no header)")
        header = json.loads(arrays.pop(HEADER_KEY).tobytes().decode("utf-8"))
    except ModelFileError:
        raise
    except Exception as exc:  # damaged bytes surface as any of a dozen zipfile and NumPy errors
        raise ModelFileError(f"{path} is not a readable backproplab {what} ({type(exc).__name__}: {exc})") from exc
    if not isinstance(header, dict) or header.get("format") != format:
        found = header.get("format") if isinstance(header, dict) else header
        raise ModelFileError(f"{path} is not a backproplab {what} (header format {found!r:.60})")
    versions = (version,) if isinstance(version, int) else version
    if header.get("format_version") not in versions:
        raise ModelFileError(
            f"{path} has {format} format version {header.get('format_version')!r:.20}; "
            f"this backproplab reads version {' or '.join(map(str, versions))}"
        )
    if "checksum" in header and header["checksum"] != checksum_of(arrays):
        raise ModelFileError(f"{path} is a damaged backproplab {what}: its arrays do not match its checksum")
    return header, arrays


def _members(path: Path, what: str) -> dict[str, np.ndarray]:
    """Every member of the zip at ``path`` as an array, each read whole (its CRC-32 checked) and to its last byte."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if name == info.filename or name in arrays:
                raise ModelFileError(f"{path} holds members that are not NumPy arrays; not a backproplab {what}")
            data = archive.read(info)  # raises BadZipFile on a CRC-32 mismatch
            stream = _io.BytesIO(data)
            arrays[name] = np.lib.format.read_array(stream, allow_pickle=False)
            if stream.tell() != len(data):
                raise ModelFileError(f"{path}: member {info.filename} holds more bytes than its array; damaged")
    return arrays
