"""The report, reproduced: its three experiments, then their spread over many seeds, then beyond.

``reproduce`` runs, for each shipped config (AND, OR, XOR):

1. the chosen seed, one network, exactly as the report did (Tables 1-3, Figures 1-2),
   and the gradient check of the trained network;
2. ``seeds`` networks at once on the runs axis, seeds ``seed .. seed + seeds - 1``.
   Run 0 starts from the chosen seed's weights (``mlp`` draws run ``r`` from seed ``seed + r``),
   so the single-run tables and the many-seed statistics describe the same experiment;
3. the sweeps of ``backproplab.experiments.beyond`` (hidden width and epochs for XOR,
   sigmoid vs tanh vs ReLU).

It returns results; files, figures and the report are the caller's business
(``backproplab.present.report`` and ``backproplab.cli.reproduce``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import check_positive_int
from ..core.gradcheck import GradcheckResult, gradcheck
from ..train.progress import in_kernel, progress_bar
from .beyond import ActivationSweep, WidthSweep, activation_sweep, width_sweep
from .build import Trained, train
from .config import ExperimentConfig, load_config
from .stats import SeedStats, seed_stats

#: The report's experiments, in its order (Tables 1, 2, 3).
REPORT_EXPERIMENTS = ("and", "or", "xor")


@dataclass
class FunctionResult:
    """One of the report's experiments.

    Attributes
    ----------
    config : ExperimentConfig
    chosen : Trained
        The chosen seed's single network.
    gradcheck : GradcheckResult
        Backprop vs. central differences on the trained ``chosen`` network, every parameter.
    many : Trained or None
        ``R`` networks, seeds ``chosen.seed + r``; None when many seeds were not asked for.
    stats : SeedStats or None
    """

    config: ExperimentConfig
    chosen: Trained
    gradcheck: GradcheckResult
    many: Trained | None = None
    stats: SeedStats | None = None

    @property
    def predictions(self) -> np.ndarray:
        """The chosen seed's predicted probabilities: ``(B,)``."""
        return self.chosen.predict_proba()

    @property
    def run0_difference(self) -> float | None:
        """Largest difference between run 0 of the many-seed batch and the chosen network's predictions.

        Both start from the same weights; batched and single matrix products may
        round differently in the last bit, so after training this is 0 or a few 1e-16.
        """
        if self.stats is None:
            return None
        return float(np.max(np.abs(self.stats.predictions[0] - self.predictions)))


@dataclass
class ReproduceResult:
    """Everything ``reproduce`` computed; ``seconds`` is the wall-clock time of each stage."""

    functions: list[FunctionResult]
    seed: int
    seeds: int
    width: WidthSweep | None = None
    activations: ActivationSweep | None = None
    sweep_seeds: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def reproduce(
    *,
    seed: int = 0,
    seeds: int = 1000,
    sweep_seeds: int = 300,
    sweep_epochs: int = 4000,
    configs: Sequence[ExperimentConfig] | None = None,
    status: Callable[[str], None] = lambda message: None,
    progress: bool | None = None,
) -> ReproduceResult:
    """Run the report's experiments, their many-seed statistics and the sweeps.

    Parameters
    ----------
    seed : int, default 0
        The chosen seed; the many-seed runs use ``seed .. seed + seeds - 1``.
    seeds : int, default 1000
        Networks per function for the statistics; 0 skips them (and the sweeps).
    sweep_seeds : int, default 300
        Networks per cell of each sweep; 0 skips the sweeps.
    sweep_epochs : int, default 4000
        Length of the width sweep (the epochs axis of "how often is XOR learned").
    configs : sequence of ExperimentConfig, optional
        Default: the shipped ``and``, ``or``, ``xor``.
    status : callable
        Receives one line per stage (progress, for stderr).
    progress : bool, optional
        A bar over the stages (the last trained network's final loss beside it). None (the
        default): in a Jupyter kernel only, as a widget that stays in the cell; True: on stderr
        too; False: nothing anywhere.
    """
    seed = check_positive_int("seed", seed, minimum=0)
    seeds = check_positive_int("seeds", seeds, minimum=0)
    sweep_seeds = check_positive_int("sweep_seeds", sweep_seeds, minimum=0)
    sweep_epochs = check_positive_int("sweep_epochs", sweep_epochs)
    if seeds == 1 or sweep_seeds == 1:
        raise ValueError("seeds and sweep_seeds must be 0 (skip) or at least 2")
    configs = [load_config(name) for name in REPORT_EXPERIMENTS] if configs is None else list(configs)
    result = ReproduceResult([], seed, seeds, sweep_seeds=sweep_seeds if seeds else 0)

    xor = next((c for c in configs if c.name == "xor"), None)
    sweeps = (1 + (xor is not None)) if seeds and sweep_seeds else 0
    bar = _stages_bar(len(configs) * (1 + bool(seeds)) + sweeps, progress)

    start = time.perf_counter()
    for config in configs:
        shape = "-".join(map(str, (2, *config.model.hidden, 1)))
        status(f"{config.title}: {shape} network, {config.training.epochs} epochs, seed {seed}")
        chosen = train(config, seed=seed, runs=1)
        item = FunctionResult(config, chosen, gradcheck(chosen.net, chosen.X, chosen.y))
        _stage_done(bar, f"{config.name} loss {chosen.final_loss():.4f}")
        if seeds:
            status(f"{config.title}: {seeds} seeds at once ({seed}..{seed + seeds - 1})")
            item.many = train(config, seed=seed, runs=seeds)
            item.stats = seed_stats(item.many)
            _stage_done(bar, f"{config.name} median loss {np.median(item.stats.final_loss):.4f}")
        result.functions.append(item)
    result.seconds["report"] = time.perf_counter() - start

    if sweeps:
        start = time.perf_counter()
        if xor is not None:
            status(f"beyond: XOR by hidden width (1, 2, 3, 4, 8), {sweep_epochs} epochs, {sweep_seeds} seeds each")
            result.width = width_sweep(xor, epochs=sweep_epochs, seeds=sweep_seeds, seed=seed)
            _stage_done(bar, "width sweep")
        status(f"beyond: sigmoid vs tanh vs ReLU hidden layers, {sweep_seeds} seeds each")
        reuse = [item.many for item in result.functions]  # their sigmoid cells are trained already
        result.activations = activation_sweep(configs, seeds=sweep_seeds, seed=seed, reuse=reuse)
        _stage_done(bar, "activation sweep")
        result.seconds["sweeps"] = time.perf_counter() - start
    if bar is not None:
        bar.close()
    return result


def _stages_bar(stages: int, progress: bool | None) -> Any:
    """A bar over ``reproduce``'s stages: None shows it in a Jupyter kernel only, True on any stderr too."""
    shown = progress or (progress is None and in_kernel())
    return progress_bar(stages, desc="reproduce", unit="stage", enabled=bool(shown), tty_only=False)


def _stage_done(bar: Any, postfix: str) -> None:
    if bar is not None:
        bar.set_postfix_str(postfix, refresh=False)
        bar.update(1)
