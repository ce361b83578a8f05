"""Model files: a network's architecture and state dict in one archive, and the atomic writes behind every file.

A model file is the archive every backproplab file is (``_archive``: a NumPy
``.npz`` read with ``allow_pickle=False`` plus a JSON header), format
``backproplab-model``: one array per entry of ``Network.state_dict()``
(``"0.W"``, ``"0.b"``, ..., then buffers such as ``"1.running_mean"``) and the
architecture (``Network.to_config()``) in the header. ``Network.save`` writes
it; ``load_model`` rebuilds the network with ``Network.from_config`` and loads
the arrays with ``load_state_dict``. Every way a file can fail to be ours
(missing, truncated, another format or format version, arrays that do not match
the header) raises an error that names the path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..core._archive import HEADER_KEY, atomic_write, read_archive, umask, write_archive, write_text
from ..core.network import LAYERS, MODEL_FORMAT, MODEL_FORMAT_VERSION, Network
from ..errors import ModelFileError

FORMAT, FORMAT_VERSION = MODEL_FORMAT, MODEL_FORMAT_VERSION

__all__ = [
    "FORMAT", "FORMAT_VERSION", "HEADER_KEY", "atomic_write", "load_model", "network_from", "read_archive",
    "save_model", "umask", "write_archive", "write_text",
]


def save_model(net: Network, path: str | os.PathLike) -> Path:
    """Write ``net`` (architecture and state dict) to ``path`` atomically: ``net.save(path)``.

    Returns the path written (``.npz`` is *not* appended: the name is yours).
    """
    return net.save(path)


def load_model(path: str | os.PathLike) -> Network:
    """Read a network written by ``save_model`` / ``Network.save``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If the file is not a backproplab model file of a format version this
        package reads, or is damaged.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import backproplab as bp
    >>> net = bp.mlp([2, 8, 1], batch_norm=True, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = net.save(Path(tmp) / "xor.npz")
    ...     again = bp.load(path)
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> again.to_config() == net.to_config(), bool(np.array_equal(again.predict_proba(X), net.predict_proba(X)))
    (True, True)
    >>> sorted(again.state_dict())  # parameters and batch norm's running statistics
    ['0.W', '0.b', '1.beta', '1.gamma', '1.running_mean', '1.running_var', '3.W', '3.b']
    """
    path = Path(path)
    header, arrays = read_archive(path, FORMAT, FORMAT_VERSION, "model file")
    return network_from(header.get("architecture"), arrays, path)


def network_from(arch: Any, state: dict[str, np.ndarray], path: Path) -> Network:
    """Rebuild the network an ``architecture`` (``Network.to_config()``) describes and load ``state`` into it.

    The arrays' shapes are checked against the architecture *before* any layer
    is built (``Layer.state_shapes``), so a crafted header cannot make us
    allocate more than the file itself holds.
    """
    try:
        runs = arch["runs"]
        for i, config in enumerate(arch["layers"]):
            for key, shape in LAYERS[config["type"]].state_shapes(config, runs=runs).items():
                name = f"{i}.{key}"
                if name not in state or state[name].shape != shape:
                    raise ValueError(f"array {name!r} is missing or not of shape {shape}")
        for name, a in state.items():  # a model is finite real numbers; NaN weights only ever predict NaN
            if a.dtype.kind not in "fiu" or (a.dtype.kind == "f" and not np.isfinite(a).all()):
                raise ValueError(f"array {name!r} holds {a.dtype} values that are not finite real numbers")
        net = Network.from_config(arch)
        net.load_state_dict(state)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: the architecture in its header does not match its arrays ({exc})") from exc
    return net
