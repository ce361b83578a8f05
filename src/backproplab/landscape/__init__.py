"""Loss landscapes of small networks: exact Hessians, planes, lines and trajectories, on the runs axis.

Why do some seeds fail? A failed run stops somewhere: at a saddle, in a
minimum, on a plateau, or it is still moving. This package measures which:

- ``hessian`` — the exact Hessian of the mean loss (central differences of
  backpropagation's gradient, every column at once on the runs axis), and
  ``spectrum`` — its eigenvalues and what they say;
- ``plane`` and ``interpolate`` — the loss on a grid of ``theta + a d1 + b d2``
  and along a straight line between two networks, every point in one pass;
- ``random_directions`` (filter-normalised, Li et al. 2018) and
  ``pca_directions`` (the plane a recorded path lies closest to);
- ``Trajectory`` — a ``Recording`` as a path, with the true loss along it;
- ``study`` — the XOR seed-failure study (``python -m backproplab.landscape.study``).

Every function leaves the networks it is given unchanged, and reads their
state through ``state_dict()`` only. Figures live in
``backproplab.landscape.figures`` (matplotlib is imported there only).
"""

from .directions import pca_directions, project, random_directions
from .hessian import Spectrum, hessian, spectrum
from .points import flatten, unflatten
from .surface import Line, Plane, interpolate, plane
from .trajectory import Trajectory

__all__ = [
    "Line",
    "Plane",
    "Spectrum",
    "Trajectory",
    "flatten",
    "hessian",
    "interpolate",
    "pca_directions",
    "plane",
    "project",
    "random_directions",
    "spectrum",
    "unflatten",
]
