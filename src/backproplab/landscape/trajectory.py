"""A recorded training run as a path through parameter space, and the loss along it.

A ``Recording`` (``backproplab.train.recording``) keeps one run's parameters at
every recorded epoch. ``Trajectory.from_recording`` rebuilds the network from
the recording's architecture and data and stacks those parameters as flat
points ``(F, P)``; ``pca_plane`` centres a plane on the final point along the
path's two principal directions and projects the path onto it.

Why both losses: the contour shows ``L(centre + a d1 + b d2)`` *on the plane*,
but the path runs through ``P`` dimensions and only its shadow lies on the
plane. The loss at the shadow is not the loss the run had (the defect reported
against loss-landscape's trajectory plots); ``PathLoss`` holds both, the true
``L(theta_t)`` and the plane's value at the projection, so a figure can show
how far apart they are — and ``explained`` says how much of the path the plane
holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.layers import Dense, Identity, Layer, activation
from ..core.losses import Loss, get_loss
from ..core.network import Network
from ..train.recording import Recording
from .directions import pca_directions, project
from .points import evaluate, unflatten
from .surface import Plane, plane


def network_from_recording(recording: Recording) -> Network:
    """A network (no runs axis) of the recorded architecture, holding the last frame's parameters.

    Dropout layers become ``Identity`` (the landscape is taken in evaluation mode,
    where dropout is the identity). Raises ``ValueError`` for batch norm, whose
    running statistics a recording does not keep.
    """
    meta = recording.meta
    if any(meta.get("batch_norm", [])):
        raise ValueError("the recording's network has batch norm, whose running statistics recordings do not keep; "
                         "its loss landscape cannot be rebuilt")
    dense, sizes, kinds = meta["dense"], meta["sizes"], meta["activations"]
    layers: list[Layer] = [Identity() for _ in range(dense[-1] + 1)]
    for j, i in enumerate(dense):
        layers[i] = Dense(sizes[j], sizes[j + 1])
        if j + 1 < len(dense):
            layers[i + 1] = activation(kinds[j])
    net = Network(layers, output=meta["output"])
    frames = {name[2:]: a for name, a in recording.arrays.items() if name.startswith("p:")}
    if frames.keys() != net.params.keys():
        raise ValueError(f"the recording's parameters {sorted(frames)} do not match its architecture's "
                         f"{sorted(net.params)}")
    net.load_state_dict({name: a[-1] for name, a in frames.items()})
    return net


@dataclass
class PathLoss:
    """The loss along a path: the run's own ``true`` ``(F,)``, the plane's at the projections ``on_plane`` ``(F,)``."""

    true: np.ndarray
    on_plane: np.ndarray


@dataclass
class Trajectory:
    """One recorded run: its network (at the final point), data, loss and the flat points of every frame.

    Attributes
    ----------
    net : Network
        No runs axis; holds the last frame's parameters.
    X : ndarray ``(B, D_in)``
    Y : ndarray ``(B, K)``
        The recording's training rows (at most 1000) and prepared targets.
    loss : Loss
    epochs : ndarray ``(F,)``
    points : ndarray ``(F, P)``
        Each frame's parameters, flat in the order of ``flatten(net)``.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> from backproplab.train.recording import Recorder
    >>> from backproplab.landscape import Trajectory
    >>> X, y = logic_table("xor")
    >>> recorder = Recorder(X, y, max_frames=10)
    >>> _ = bp.fit(bp.mlp([2, 8, 1], seed=0), X, y, epochs=200, callbacks=[recorder], progress=False)
    >>> path = Trajectory.from_recording(recorder.recording)
    >>> surface, coords, explained, path_loss = path.pca_plane(steps=11)
    >>> surface.loss.shape, coords.shape, bool(explained.sum() <= 1)
    ((11, 11), (11, 2), True)
    >>> bool(path_loss.true[-1] < path_loss.true[0])  # the run descends
    True
    """

    net: Network
    X: np.ndarray
    Y: np.ndarray
    loss: Loss
    epochs: np.ndarray
    points: np.ndarray

    @classmethod
    def from_recording(cls, recording: Recording) -> Trajectory:
        """The trajectory a ``Recording`` holds (``Recorder(...).recording`` or ``Recording.load(path)``).

        Examples
        --------
        >>> import backproplab as bp
        >>> from backproplab.data import logic_table
        >>> from backproplab.train.recording import Recorder
        >>> from backproplab.landscape import Trajectory
        >>> X, y = logic_table("xor")
        >>> recorder = Recorder(X, y, max_frames=20)
        >>> _ = bp.fit(bp.mlp([2, 2, 1], seed=0), X, y, epochs=100, callbacks=[recorder], progress=False)
        >>> path = Trajectory.from_recording(recorder.recording)
        >>> path.points.shape, path.epochs[[0, -1]]  # 21 frames of the 9 parameters
        ((21, 9), array([  0, 100]))
        """
        net = network_from_recording(recording)
        names = list(net.params)
        F = recording.n_frames
        points = np.concatenate([recording.arrays[f"p:{n}"].reshape(F, -1) for n in names], axis=1)
        loss = get_loss(recording.meta["loss"], net.output)
        X = np.asarray(recording.arrays["X"], dtype=np.float64)
        Y = np.asarray(recording.arrays["y"], dtype=np.float64)
        return cls(net, X, Y, loss, np.asarray(recording.epochs), points)

    def at(self, frame: int) -> Network:
        """A new network holding frame ``frame``'s parameters (the trajectory's own network is not touched)."""
        copy = Network.from_config(self.net.to_config())
        copy.load_state_dict(unflatten(self.net, self.points[frame]))
        return copy

    def true_loss(self) -> np.ndarray:
        """``L(theta_t)`` at every frame ``(F,)``, all frames in one pass."""
        return evaluate(self.net, self.X, self.Y, self.points, self.loss).loss

    def pca_plane(self, steps: int = 51, margin: float = 0.2) -> tuple[Plane, np.ndarray, np.ndarray, PathLoss]:
        """The loss on the PCA plane of the path, centred on the final point, and the path on it.

        The grid spans the projected path plus ``margin`` of its extent on every
        side (the same span on both axes, so the picture is not stretched).

        Returns
        -------
        plane : Plane
        coords : ndarray ``(F, 2)``
            The path's coordinates along ``d1``, ``d2``.
        explained : ndarray ``(2,)``
            Share of the path's variance each direction holds.
        path_loss : PathLoss
        """
        d1, d2, explained = pca_directions(self.points)
        centre = self.points[-1]
        coords = project(self.points, centre, d1, d2)
        span = float(np.abs(coords).max()) * (1 + margin) or 1.0
        surface = plane(self.net, self.X, self.Y, d1, d2, span=span, steps=steps, loss=self.loss)
        shadows = centre + coords[:, :1] * d1 + coords[:, 1:] * d2  # (F, P)
        on_plane = evaluate(self.net, self.X, self.Y, shadows, self.loss).loss
        return surface, coords, explained, PathLoss(self.true_loss(), on_plane)

