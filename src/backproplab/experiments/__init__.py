"""Experiments: the report's runs, their statistics over many seeds, and the sweeps beyond it.

- ``build``: config -> data, network, optimizer -> ``train`` -> ``Trained``;
- ``stats``: share learned, quantile bands, percentile of a reference value;
- ``sweeps``: hidden width x epochs for XOR, sigmoid vs tanh vs ReLU;
- ``reproduce``: all of it for the report's three experiments.
"""

from .beyond import ActivationSweep, WidthSweep, activation_sweep, width_sweep
from .build import Trained, build_network, build_optimizer, train, training_data_of
from .reproduce import REPORT_EXPERIMENTS, FunctionResult, ReproduceResult, reproduce
from .stats import SeedStats, band, confidence, learned, percentile_of, seed_stats

__all__ = [
    "REPORT_EXPERIMENTS",
    "ActivationSweep",
    "FunctionResult",
    "ReproduceResult",
    "SeedStats",
    "Trained",
    "WidthSweep",
    "activation_sweep",
    "band",
    "build_network",
    "build_optimizer",
    "confidence",
    "learned",
    "percentile_of",
    "reproduce",
    "seed_stats",
    "train",
    "training_data_of",
    "width_sweep",
]
