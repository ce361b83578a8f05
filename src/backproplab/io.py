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
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from .errors import ModelFileError
from .layers import LAYERS, BatchNorm, Dense
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


def save_model(net: Network, path: str | os.PathLike) -> Path:
    """Write ``net`` (architecture and parameters) to ``path`` atomically.

    Returns the path written (``.npz`` is *not* appended: the name is yours).
    """
    header = {
        "architecture": net.to_config(),
        "params": {name: list(p.shape) for name, p in net.params.items()},
        "buffers": {name: list(b.shape) for name, b in net.buffers.items()},
    }
    return write_archive(path, FORMAT, FORMAT_VERSION, header, {**net.params, **net.buffers})


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
    header, arrays = read_archive(path, FORMAT, FORMAT_VERSION, "model file")
    return network_from(header.get("architecture"), arrays, path)


# --- the archive shared by model files and checkpoints --------------------------------
def write_archive(
    path: str | os.PathLike, format: str, version: int, header: dict[str, Any], arrays: dict[str, np.ndarray]
) -> Path:
    """Write ``arrays`` plus a JSON ``header`` (tagged with ``format`` and ``version``) as one ``.npz``, atomically."""
    from . import __version__

    header = {"format": format, "format_version": version, "package_version": __version__, **header}
    arrays = dict(arrays)
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    buffer = _io.BytesIO()
    np.savez(buffer, **arrays)
    with atomic_write(path) as f:
        f.write(buffer.getvalue())
    return Path(path)


def read_archive(path: Path, format: str, version: int, what: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read an archive written by ``write_archive``: its header and its arrays.

    Never unpickles: every member must be a plain ``.npy`` array. ``what`` names
    the kind of file in error messages ("model file", "checkpoint").
    """
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise ModelFileError(f"{path} is not a backproplab {what} (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if HEADER_KEY not in archive.files:
                raise ModelFileError(f"{path} is a NumPy archive but not a backproplab {what} (no header)")
            # NpzFile returns the raw bytes of a member that is not an .npy array: refuse those.
            arrays = {name: archive[name] for name in archive.files}
            if not all(isinstance(a, np.ndarray) for a in arrays.values()):
                raise ModelFileError(f"{path} holds members that are not NumPy arrays; not a backproplab {what}")
            header = json.loads(arrays.pop(HEADER_KEY).tobytes().decode("utf-8"))
    except ModelFileError:
        raise
    except Exception as exc:  # damaged bytes surface as any of a dozen zipfile and NumPy errors
        raise ModelFileError(f"{path} is not a readable backproplab {what} ({type(exc).__name__}: {exc})") from exc
    if not isinstance(header, dict) or header.get("format") != format:
        found = header.get("format") if isinstance(header, dict) else header
        raise ModelFileError(f"{path} is not a backproplab {what} (header format {found!r:.60})")
    if header.get("format_version") != version:
        raise ModelFileError(
            f"{path} has {format} format version {header.get('format_version')!r:.20}; "
            f"this backproplab reads version {version}"
        )
    return header, arrays


def network_from(arch: Any, arrays: dict[str, np.ndarray], path: Path) -> Network:
    """Rebuild the network described by a header's ``architecture`` and fill in ``arrays``.

    The shapes of the arrays are checked against the architecture *before* any
    layer is built, so a crafted header cannot make us allocate more than the
    file itself holds.
    """
    try:
        runs, dtype = arch["runs"], arch["dtype"]
        configs = [dict(config) for config in arch["layers"]]
        lead = () if runs is None else (runs,)
        for i, config in enumerate(configs):
            expected = {}
            if config.get("type") == "Dense":
                fan_in, fan_out = config["fan_in"], config["fan_out"]
                expected = {f"{i}.W": (*lead, fan_in, fan_out), f"{i}.b": (*lead, 1, fan_out)}
            elif config.get("type") == "BatchNorm":
                expected = {f"{i}.gamma": (*lead, 1, config["num_features"])}
            for name, shape in expected.items():
                if name not in arrays or arrays[name].shape != shape:
                    raise ValueError(f"array {name!r} is missing or not of shape {shape}")
        for name, a in arrays.items():  # a model is finite real numbers; NaN weights only ever predict NaN
            if a.dtype.kind not in "fiu" or (a.dtype.kind == "f" and not np.isfinite(a).all()):
                raise ValueError(f"array {name!r} holds {a.dtype} values that are not finite real numbers")
        layers = []
        for config in configs:
            cls = LAYERS[config.pop("type")]
            if cls is Dense:
                layers.append(Dense(**config, rng=np.random.default_rng(0), runs=runs, dtype=dtype))
            elif cls is BatchNorm:
                layers.append(BatchNorm(**config, runs=runs, dtype=dtype))
            else:
                layers.append(cls(**config))
        net = Network(layers, output=arch["output"])
        buffers = net.buffers
        for name, value in buffers.items():  # running statistics: not trained, but part of the model
            if name not in arrays or arrays[name].shape != value.shape:
                raise ValueError(f"buffer {name!r} is missing or not of shape {value.shape}")
            value[...] = arrays[name]
        net.set_params({name: a for name, a in arrays.items() if name not in buffers})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: the architecture in its header does not match its arrays ({exc})") from exc
    return net
