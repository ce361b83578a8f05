"""Files: atomic writes and model files.

A model file is a NumPy ``.npz`` archive holding one array per parameter (named
as in ``Network.params``) and a JSON header stored as UTF-8 bytes in the array
``__backproplab__``: format name and version, package version, architecture and
dtype. It is read with ``allow_pickle=False``, so loading a file never executes
code, and every way a file can fail to be ours (missing, truncated, another
format, another format version, arrays that do not match the header) raises an
error that names the path.

Every file is written atomically: to a temporary file in the same directory,
flushed to disk, then renamed over the target, so a reader (or a crash) never
sees half a file.
"""

from __future__ import annotations

import contextlib
import io as _io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from .errors import ModelFileError
from .layers import LAYERS, Dense
from .network import Network

FORMAT = "backproplab-model"
FORMAT_VERSION = 1
HEADER_KEY = "__backproplab__"


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it over ``path``.

    If the body raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_write(path, "w") as f:
        f.write(text)


def save_model(net: Network, path: str | os.PathLike) -> Path:
    """Write ``net`` (architecture and parameters) to ``path`` atomically.

    Returns the path written (``.npz`` is *not* appended: the name is yours).
    """
    from . import __version__

    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "architecture": net.to_config(),
        "params": {name: list(p.shape) for name, p in net.params.items()},
    }
    arrays = dict(net.params)
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    buffer = _io.BytesIO()
    np.savez(buffer, **arrays)
    with atomic_write(path) as f:
        f.write(buffer.getvalue())
    return Path(path)


def load_model(path: str | os.PathLike) -> Network:
    """Read a network written by ``save_model`` / ``Network.save``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If the file is not a backproplab model file of a format version this
        package reads, or is damaged.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise ModelFileError(f"{path} is not a backproplab model file (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if HEADER_KEY not in archive.files:
                raise ModelFileError(f"{path} is a NumPy archive but not a backproplab model file (no header)")
            header = json.loads(archive[HEADER_KEY].tobytes().decode("utf-8"))
            arrays = {name: archive[name] for name in archive.files if name != HEADER_KEY}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, UnicodeDecodeError, KeyError) as exc:
        raise ModelFileError(f"{path} is not a readable backproplab model file ({type(exc).__name__}: {exc})") from exc
    return _network_from(header, arrays, path)


def _network_from(header: Any, arrays: dict[str, np.ndarray], path: Path) -> Network:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a backproplab model file (header format {header!r:.60})")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model format version {version!r}; this backproplab reads version {FORMAT_VERSION}"
        )
    try:
        arch = header["architecture"]
        runs, dtype = arch["runs"], arch["dtype"]
        layers = []
        for config in arch["layers"]:
            config = dict(config)
            cls = LAYERS[config.pop("type")]
            if cls is Dense:
                layers.append(Dense(**config, rng=np.random.default_rng(0), runs=runs, dtype=dtype))
            else:
                layers.append(cls(**config))
        net = Network(layers, output=arch["output"])
        net.set_params(arrays)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: the architecture in its header does not match its arrays ({exc})") from exc
    return net
