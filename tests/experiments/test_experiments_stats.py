"""Many-seed statistics: each function against its definition, and run r of a batch == seed s + r alone."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backproplab.experiments import Trained, band, confidence, learned, percentile_of, seed_stats, train
from backproplab.experiments.config import load_config
from backproplab.experiments.stats import first_epoch_below

XOR = np.array([0.0, 1.0, 1.0, 0.0])


def test_learned_needs_every_row_on_the_right_side() -> None:
    p = np.array([[0.1, 0.9, 0.6, 0.4],    # all right
                  [0.1, 0.9, 0.4, 0.4],    # one wrong
                  [0.6, 0.4, 0.4, 0.6]])   # all wrong
    assert learned(p, XOR).tolist() == [True, False, False]
    assert bool(learned(p[0], XOR)) is True


def test_confidence_is_the_probability_of_the_right_answer() -> None:
    p = np.array([[0.0, 1.0, 1.0, 0.0], [0.5, 0.5, 0.5, 0.5], [0.2, 0.7, 0.9, 0.4]])
    np.testing.assert_allclose(confidence(p, XOR), [1.0, 0.5, (0.8 + 0.7 + 0.9 + 0.6) / 4])


@settings(max_examples=50, deadline=None)
@given(values=arrays(np.float64, st.integers(1, 50), elements=st.floats(0, 1)), x=st.floats(0, 1))
def test_percentile_of_matches_its_definition(values, x) -> None:
    below = sum(v < x for v in values)
    equal = sum(v == x for v in values)
    assert percentile_of(values, x) == pytest.approx(100 * (below + equal / 2) / len(values))
    assert 0 <= percentile_of(values, x) <= 100


def test_percentile_of_extremes() -> None:
    values = np.arange(10.0)
    assert percentile_of(values, -1) == 0
    assert percentile_of(values, 100) == 100
    assert percentile_of(values, 4.5) == 50


def test_band_is_5_50_95() -> None:
    values = np.random.default_rng(0).random((7, 200))
    b = band(values, axis=1)
    assert b.shape == (7, 3)
    np.testing.assert_array_equal(b[:, 1], np.median(values, axis=1))
    np.testing.assert_array_equal(b[:, 0], np.percentile(values, 5, axis=1))


def test_first_epoch_below() -> None:
    loss = np.array([[0.9, 0.9, 0.9], [0.5, 0.05, 0.9], [0.05, 0.01, 0.9]])  # (E=3, R=3)
    np.testing.assert_array_equal(first_epoch_below(loss, 0.1), [3, 2, np.inf])


@pytest.fixture(scope="module")
def xor_short() -> tuple[Trained, list[Trained]]:
    config = load_config("xor").replace("training", epochs=300)
    many = train(config, seed=5, runs=6)
    singles = [train(config, seed=5 + r, runs=1) for r in range(6)]
    return many, singles


def test_run_r_of_a_batch_is_seed_plus_r_alone(xor_short) -> None:
    # Same initial weights exactly; after training, batched and single matmuls may round
    # differently in the last bit, so the trained values agree to 1e-12, not bit for bit.
    many, singles = xor_short
    p = many.predict_proba()  # (R, B)
    for r, single in enumerate(singles):
        np.testing.assert_allclose(p[r], single.predict_proba(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(many.history.loss[:, r], single.history.loss, rtol=0, atol=1e-12)


def test_seed_stats_are_computed_from_the_runs(xor_short) -> None:
    many, singles = xor_short
    stats = seed_stats(many)
    single_p = np.array([s.predict_proba() for s in singles])  # (R, B)
    np.testing.assert_array_equal(stats.seeds, np.arange(5, 11))
    np.testing.assert_allclose(stats.predictions, single_p, rtol=0, atol=1e-12)
    np.testing.assert_allclose(stats.final_loss, [s.final_loss() for s in singles], rtol=0, atol=1e-12)
    p = many.predict_proba()
    assert stats.share_learned == np.mean([bool(learned(row, XOR)) for row in p])
    assert stats.share_learned == np.mean([bool(learned(row, XOR)) for row in single_p])
    reference = many.config.reference.predicted
    for i, x in enumerate(reference):
        assert stats.reference_percentile[i] == 100 * np.mean(p[:, i] < x)
    np.testing.assert_array_equal(stats.prediction_band[:, 1], np.median(p, axis=0))
    np.testing.assert_array_equal(stats.loss_band[-1, 1], np.median(many.history.loss[-1]))


def test_seed_stats_need_runs(xor_short) -> None:
    _, singles = xor_short
    with pytest.raises(ValueError, match="runs axis"):
        seed_stats(singles[0])


def test_final_loss_is_the_loss_of_the_final_parameters(xor_short) -> None:
    _, singles = xor_short
    s = singles[0]
    p = s.predict_proba()
    bce = -np.mean(XOR * np.log(p) + (1 - XOR) * np.log(1 - p))
    assert s.final_loss() == pytest.approx(bce, rel=1e-12)
