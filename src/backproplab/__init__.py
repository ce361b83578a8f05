"""backproplab: backpropagation for multi-layer perceptrons, from scratch in NumPy.

The one-line tour::

    import backproplab as bp
    net = bp.mlp([2, 8, 1], seed=0)                       # the report's XOR network
    history = bp.fit(net, X, y, optimizer=bp.SGD(0.1), epochs=2000, batch_size=4)
    print(bp.gradcheck(net, X, y))                         # backprop vs. finite differences
"""

from ._version import __version__
from .core.gradcheck import GradcheckResult, gradcheck
from .core.layers import Dense, Identity, Layer, LeakyReLU, ReLU, Sigmoid, Tanh
from .core.losses import BinaryCrossEntropy, CrossEntropy, Loss, MeanSquaredError
from .core.network import Network, loss_and_gradients, mlp
from .core.optim import SGD, Adam, AdamW, Optimizer, RMSprop
from .core.regularization import BatchNorm, Dropout
from .errors import BackproplabError, DivergenceError, ModelFileError, TrainingInterrupted
from .files.io import load_model as load
from .train.callbacks import Callback, FitState, History
from .train.checkpoint import load_checkpoint
from .train.early_stopping import EarlyStopping, evaluate
from .train.live import LivePlot
from .train.loop import fit
from .train.recording import Recorder
from .train.schedules import CosineDecay, ExponentialDecay, InverseScaling, ReduceOnPlateau, StepDecay


def __getattr__(name: str) -> object:
    # bp.sweep lives on the experiments floor (configs, data, engines): imported on first use only.
    if name == "sweep":
        from .sweeps.run import sweep

        return sweep
    if name == "explore":  # the notebook face (the explorer page and its data): imported on first use too
        from .notebook.explore import explore

        return explore
    raise AttributeError(f"module 'backproplab' has no attribute {name!r}")


__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "BackproplabError",
    "BatchNorm",
    "BinaryCrossEntropy",
    "Callback",
    "CosineDecay",
    "CrossEntropy",
    "Dense",
    "DivergenceError",
    "Dropout",
    "EarlyStopping",
    "ExponentialDecay",
    "FitState",
    "GradcheckResult",
    "History",
    "Identity",
    "InverseScaling",
    "Layer",
    "LeakyReLU",
    "LivePlot",
    "Loss",
    "MeanSquaredError",
    "ModelFileError",
    "Network",
    "Optimizer",
    "RMSprop",
    "ReLU",
    "Recorder",
    "ReduceOnPlateau",
    "Sigmoid",
    "StepDecay",
    "Tanh",
    "TrainingInterrupted",
    "__version__",
    "evaluate",
    "explore",
    "fit",
    "gradcheck",
    "load",
    "load_checkpoint",
    "loss_and_gradients",
    "mlp",
    "sweep",
]
