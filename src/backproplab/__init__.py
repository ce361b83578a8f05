"""backproplab: backpropagation for multi-layer perceptrons, from scratch in NumPy.

The one-line tour::

    import backproplab as bp
    net = bp.mlp([2, 8, 1], seed=0)                       # the report's XOR network
    history = bp.fit(net, X, y, optimizer=bp.SGD(0.1), epochs=2000, batch_size=4)
    print(bp.gradcheck(net, X, y))                         # backprop vs. finite differences
"""

from ._version import __version__
from .callbacks import Callback, FitState, History
from .checkpoint import load_checkpoint
from .early_stopping import EarlyStopping, evaluate
from .errors import BackproplabError, DivergenceError, ModelFileError, TrainingInterrupted
from .gradcheck import GradcheckResult, gradcheck
from .io import load_model as load
from .layers import Dense, Identity, Layer, LeakyReLU, ReLU, Sigmoid, Tanh
from .losses import BinaryCrossEntropy, CrossEntropy, Loss, MeanSquaredError
from .network import Network, loss_and_gradients, mlp
from .optim import SGD, Adam, AdamW, Optimizer, RMSprop
from .regularization import BatchNorm, Dropout
from .schedules import CosineDecay, ExponentialDecay, InverseScaling, ReduceOnPlateau, StepDecay
from .training import fit


def __getattr__(name: str) -> object:
    # bp.sweep lives on the experiments floor (configs, data, engines): imported on first use only.
    if name == "sweep":
        from .experiments.sweep_run import sweep

        return sweep
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
    "Loss",
    "MeanSquaredError",
    "ModelFileError",
    "Network",
    "Optimizer",
    "RMSprop",
    "ReLU",
    "ReduceOnPlateau",
    "Sigmoid",
    "StepDecay",
    "Tanh",
    "TrainingInterrupted",
    "__version__",
    "evaluate",
    "fit",
    "gradcheck",
    "load",
    "load_checkpoint",
    "loss_and_gradients",
    "mlp",
    "sweep",
]
