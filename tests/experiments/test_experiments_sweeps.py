"""Sweeps: the shortcuts they take are exact, checked against the slow way."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.experiments import activation_sweep, learned, reproduce, train, width_sweep
from backproplab.experiments.config import load_config


def test_width_sweep_share_at_epoch_e_equals_an_e_epoch_run() -> None:
    base = load_config("xor")
    sweep = width_sweep(base, widths=(2, 4), epochs=150, every=50, seeds=12, seed=3)
    np.testing.assert_array_equal(sweep.epochs, [50, 100, 150])
    assert sweep.share.shape == (2, 3)
    for i, width in enumerate((2, 4)):
        for e in (50, 150):
            fresh = train(base.replace("model", hidden=[width]).replace("training", epochs=e), seed=3, runs=12)
            assert sweep.share_at(e)[i] == np.mean(learned(fresh.predict_proba(), fresh.y))
    assert sweep.final_loss_band.shape == (2, 3)


def test_activation_sweep_reuse_equals_fresh_training() -> None:
    configs = [load_config("and").replace("training", epochs=60), load_config("xor").replace("training", epochs=80)]
    done = [train(c, seed=2, runs=9) for c in configs]  # more runs than the sweep uses
    fresh = activation_sweep(configs, activations=("sigmoid", "tanh"), seeds=5, seed=2)
    reused = activation_sweep(configs, activations=("sigmoid", "tanh"), seeds=5, seed=2, reuse=done)
    for name in ("share", "confidence_band", "epochs_to_threshold", "reached"):
        np.testing.assert_array_equal(getattr(fresh, name), getattr(reused, name))
    for key, value in fresh.loss_bands.items():
        np.testing.assert_array_equal(value, reused.loss_bands[key])
    assert fresh.share.shape == (2, 2)


def test_activation_sweep_ignores_reuse_with_another_seed() -> None:
    config = load_config("and").replace("training", epochs=40)
    wrong = train(config, seed=7, runs=5)
    a = activation_sweep([config], activations=("sigmoid",), seeds=5, seed=0, reuse=[wrong])
    b = activation_sweep([config], activations=("sigmoid",), seeds=5, seed=0)
    np.testing.assert_array_equal(a.loss_bands[("and", "sigmoid")], b.loss_bands[("and", "sigmoid")])


def test_reproduce_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        reproduce(seeds=1)
    with pytest.raises(ValueError, match="seed"):
        reproduce(seed=-1)
    with pytest.raises(TypeError, match="sweep_epochs"):
        reproduce(sweep_epochs=1.5)
