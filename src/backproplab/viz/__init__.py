"""Figures: functions that take results and return a matplotlib ``Figure``.

Saving is the caller's job (``RunDir.save_figure``). Figures are built with
``matplotlib.figure.Figure`` directly, never through ``pyplot``: no global
state, no GUI backend, and PNG output goes through Agg. Each is a ``backproplab.train.plot.Figure``,
which shows itself as a PNG in Jupyter without pyplot or ``%matplotlib``.

- ``report``: the report's Figure 1 (loss curves) and Figure 2 (decision boundaries); ``decision_boundary``
  of any network with two inputs, from what a user holds (a ``Network``, ``X``, ``y``);
- ``learning_curves``: a ``History``'s loss and accuracy (``history.plot()``);
- ``seeds``: many-seed loss bands, final-loss histograms, the spread of each prediction;
- ``sweeps``: XOR learned by width and epochs; sigmoid vs tanh vs ReLU.
"""

from ..train.plot import learning_curves
from .report import decision_boundaries, decision_boundary, loss_curves
from .seeds import final_loss_histograms, loss_bands, prediction_spread
from .sweeps import activation_curves, width_curves

__all__ = [
    "activation_curves",
    "decision_boundaries",
    "decision_boundary",
    "final_loss_histograms",
    "learning_curves",
    "loss_bands",
    "loss_curves",
    "prediction_spread",
    "width_curves",
]
