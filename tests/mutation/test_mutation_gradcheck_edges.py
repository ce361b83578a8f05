"""gradcheck at its edges: nothing judged, one-sided kinks, zero and NaN gradients, layers with their own state.

Each case is one a plain network seldom produces, where a slip in the verdict's arithmetic
(``judged = checked * modes - kinks``), in the kink test (both sides of the step compared with
the unperturbed input) or in the reported error's floor would change the answer.
"""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp
from backproplab.core.gradcheck import GradcheckResult, ParamCheck
from backproplab.core.layers import Identity, Layer

from scale_layer import Scale

RULE = "|a - n| <= 1e-09 + 1e-06 * (|a| + |n|)"


def test_a_check_that_judges_no_entry_does_not_pass():
    # z = w * 1 + b = 0 exactly: every step of w or b crosses ReLU's kink, so nothing is judged.
    net = bp.Network([bp.Dense(1, 1), bp.ReLU()], output="identity")
    net.set_params({"0.W": [[0.0]], "0.b": [[0.0]]})
    result = bp.gradcheck(net, np.ones((1, 1)), np.ones((1, 1)))
    assert result.kinks == {"0.W": 1, "0.b": 1} and result.failed == {"0.W": 0, "0.b": 0}
    assert not result.passed
    assert result.errors == {"0.W": 0.0, "0.b": 0.0} and result.worst_index == {"0.W": (), "0.b": ()}
    assert all(d.max_abs_error == 0.0 for d in result.details)
    assert result.summary() == f"FAILED (0 entries outside): {RULE} per entry; max relative error 0.00e+00; " \
                               "2 entries at a kink, not judged"


def test_kinks_in_both_modes_leave_the_other_entries_judged():
    # Two modes (a dropout layer, rate 0), the two first-layer biases at a kink in each: 4 of 14 checks.
    net = bp.Network([bp.Dense(1, 2), bp.ReLU(), bp.Dropout(0.0), bp.Dense(2, 1)], output="identity")
    net.set_params({"0.W": [[1.0, -1.0]], "0.b": [[0.0, 0.0]], "3.W": [[0.5], [2.0]], "3.b": [[0.1]]})
    result = bp.gradcheck(net, np.zeros((1, 1)), np.ones((1, 1)))
    assert result.modes == ("train", "eval")
    assert result.kinks == {"0.W": 0, "0.b": 4, "3.W": 0, "3.b": 0} and result.n_kinks == 4
    assert result.passed, result


def test_a_step_that_crosses_the_kink_on_one_side_only_is_a_kink():
    # z = 3e-8 > 0: the step +1e-7 keeps the unit on, -1e-7 turns it off. The central difference
    # (0.65, not the derivative 1) is meaningless, so the entry must be reported and not judged.
    net = bp.Network([bp.Dense(1, 1), bp.ReLU(), bp.Dense(1, 1)], output="identity")
    net.set_params({"0.W": [[0.0]], "0.b": [[3e-8]], "2.W": [[1.0]], "2.b": [[0.0]]})
    result = bp.gradcheck(net, np.ones((1, 1)), np.ones((1, 1)))
    assert result.kinks == {"0.W": 1, "0.b": 1, "2.W": 0, "2.b": 0}
    assert result.passed, result


def test_a_parameter_whose_gradient_is_exactly_zero_reads_zero_error():
    # Zero inputs: dL/dW = X.T @ dout = 0, and moving W moves nothing. 0 / max(0 + 0, tiny) = 0.
    net = bp.Network([bp.Dense(2, 1)], output="identity")
    result = bp.gradcheck(net, np.zeros((3, 2)), np.ones((3, 1)))
    assert result.errors["0.W"] == 0.0 and result.errors["0.b"] < 1e-9
    assert result.passed, result


def test_nan_gradients_fail_every_entry_with_an_infinite_error():
    net = bp.Network([bp.Dense(3, 2, rng=np.random.default_rng(0)), Scale(1.0, float("nan"))], output="identity")
    X, y = np.random.default_rng(1).normal(size=(4, 3)), np.random.default_rng(2).normal(size=(4, 2))
    result = bp.gradcheck(net, X, y)
    assert result.failed == {"0.W": 6, "0.b": 2}
    assert result.errors == {"0.W": float("inf"), "0.b": float("inf")}
    assert not result.passed and result.to_dict()["passed"] is False


def test_tiny_floors_only_the_reported_error_not_the_verdict():
    # Gradients of ~1e-3, 10 % wrong: the reported error is 0.048 with the default floor, and
    # ~|a - n| (1e-5) when the floor is 1, but the per-entry verdict is the same.
    c = np.sqrt(1e-3)
    rng = np.random.default_rng(3)
    net = bp.Network([bp.Dense(3, 2, rng=rng), Scale(c, 0.1)], output="identity")
    X = rng.normal(size=(4, 3))
    y = net.forward(X) - c * np.sign(rng.normal(size=(4, 2)))
    default, floored = bp.gradcheck(net, X, y), bp.gradcheck(net, X, y, tiny=1.0)
    assert default.errors["0.W"] == pytest.approx(0.1 / 2.1, rel=0.01)
    assert floored.errors["0.W"] < 0.01 * default.errors["0.W"]
    assert floored.failed == default.failed and default.failed["0.W"] == 6
    with pytest.raises(ValueError, match="tiny"):
        bp.gradcheck(net, X, y, tiny=0.0)


def test_max_rows_at_or_above_the_number_of_rows_draws_nothing():
    # No rows are drawn, so the entries drawn afterwards from the same seed are those of a plain check.
    net = bp.mlp([3, 4, 1], activation="tanh", seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, 5)
    plain = bp.gradcheck(net, X, y, max_checks=2, sample_seed=4)
    for max_rows in (5, 6):
        same = bp.gradcheck(net, X, y, max_checks=2, sample_seed=4, max_rows=max_rows)
        assert same.errors == plain.errors and same.worst_index == plain.worst_index


class Counter(Identity):
    """The identity, with a buffer that counts training forwards (state a check must put back)."""

    def __init__(self) -> None:
        super().__init__()
        self.buffers = {"count": np.zeros(1)}

    def forward(self, x, *, train=True):
        if train:
            self.buffers["count"] += 1
        return x


class Noise(Identity):
    """Adds noise from its own generator in training (a layer that is random without being Dropout)."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def generators(self):  # the state door: checkpoints and gradient checks hold its randomness fixed
        return [self.rng]

    def forward(self, x, *, train=True):
        return x + self.rng.normal(size=x.shape) if train else x


def test_a_layer_with_buffers_is_checked_in_both_modes_and_its_buffers_are_put_back():
    counter = Counter()
    net = bp.Network([bp.Dense(2, 3), counter, bp.Dense(3, 1)], output="identity")
    result = bp.gradcheck(net, np.ones((4, 2)), np.zeros((4, 1)))
    assert result.modes == ("train", "eval") and result.passed
    assert counter.buffers["count"][0] == 0


def test_a_layer_with_its_own_generator_is_checked_with_its_noise_held_fixed():
    noise = Noise(seed=7)
    net = bp.Network([bp.Dense(2, 3), noise, bp.Dense(3, 1)], output="identity")
    X = np.random.default_rng(0).normal(size=(4, 2))
    result = bp.gradcheck(net, X, np.zeros((4, 1)))
    assert result.modes == ("train", "eval")
    assert result.passed, result  # a fresh draw per evaluation would swamp every difference
    # and the generator continues where it was: its next draw is its first
    assert noise.rng.normal() == np.random.default_rng(7).normal()


def test_a_result_built_by_hand_reads_in_the_singular_and_aligns_its_names():
    row = ParamCheck("w", "train", checked=1, kinks=1, failed=1, error=0.5, max_abs_error=0.1, worst_index=(0,))
    one = GradcheckResult(errors={"w": 0.5}, checked={"w": 1}, rtol=1e-6, atol=1e-9, eps=1e-7,
                          failed={"w": 1}, kinks={"w": 1}, details=(row,))
    summary = f"FAILED (1 entry outside): {RULE} per entry; max relative error 5.00e-01; 1 entry at a kink, not judged"
    assert one.summary() == summary
    assert repr(one) == f"GradcheckResult({summary}\n  w  5.00e-01  (1 entry, 1 at a kink, 1 failed))"
    # Names are padded to the longest; counts of 0 are left out; missing counts read 0 in the JSON.
    rows = (ParamCheck("a", "train", 2, 0, 0, 0.0, 0.0, (0,)), ParamCheck("bbb", "train", 3, 0, 0, 1e-9, 0.0, (1,)))
    two = GradcheckResult(errors={"a": 0.0, "bbb": 1e-9}, checked={"a": 2, "bbb": 3}, rtol=1e-6, atol=1e-9,
                          eps=1e-7, failed={}, details=rows)
    assert two.passed and two.max_error == 1e-9
    assert repr(two).splitlines()[1:] == ["  a    0.00e+00  (2 entries)", "  bbb  1.00e-09  (3 entries))"]
    d = two.to_dict()["parameters"]["a"]
    assert (d["failed"], d["kinks"], d["checked"], d["modes"]["train"]["error"]) == (0, 0, 2, 0.0)
    # Without details (a stand-in built by hand) the text is the summary alone.
    bare = GradcheckResult(errors={"w": 0.5}, checked={"w": 1}, rtol=1e-6, atol=1e-9, eps=1e-7, failed={"w": 1})
    assert repr(bare) == f"GradcheckResult({bare.summary()})"


def test_a_result_with_an_infinite_error_or_nothing_checked_does_not_pass():
    kwargs = {"rtol": 1e-6, "atol": 1e-9, "eps": 1e-7}
    assert not GradcheckResult(errors={"w": float("inf")}, checked={"w": 1}, failed={"w": 0}, **kwargs).passed
    empty = GradcheckResult(errors={}, checked={}, failed={}, **kwargs)
    assert empty.max_error == 0.0 and not empty.passed and empty.modes == ()


@pytest.mark.parametrize("extended", [True, False])
def test_the_relative_tolerance_alone_passes_right_gradients_of_every_size(extended):
    # atol = 0: only rtol * (|a| + |n|) separates rounding from a bug (no gradient here is exactly 0).
    rng = np.random.default_rng(5)
    for size in (1.0, 1e-3):
        c = np.sqrt(size)
        net = bp.Network([bp.Dense(3, 2, rng=rng), Scale(c), bp.Tanh()], output="identity")
        X = rng.normal(size=(4, 3))
        y = net.forward(X) - c * np.sign(rng.normal(size=(4, 2)))
        result = bp.gradcheck(net, X, y, atol=0.0, extended=extended)
        assert result.passed, (size, result)


class TrainingBug(Identity):
    """The identity whose backward is 10 % too large after a training forward; a buffer makes it modal."""

    def __init__(self) -> None:
        super().__init__()
        self.buffers = {"unused": np.zeros(1)}

    def forward(self, x, *, train=True):
        self._train = train
        return x

    def backward(self, dout):
        return 1.1 * dout if self._train else dout


def test_the_modes_are_combined_worst_first():
    rng = np.random.default_rng(6)
    net = bp.Network([bp.Dense(3, 2, rng=rng), TrainingBug(), bp.Dense(2, 1, rng=rng)], output="identity")
    X, y = rng.normal(size=(5, 3)), rng.normal(size=5)
    result = bp.gradcheck(net, X, y)
    train = {d.name: d for d in result.details if d.mode == "train"}
    evaluation = {d.name: d for d in result.details if d.mode == "eval"}
    assert evaluation["0.W"].failed == 0 and train["0.W"].failed == 6
    assert result.errors["0.W"] == train["0.W"].error > 10 * evaluation["0.W"].error
    assert result.failed["0.W"] == 6 and result.worst_index["0.W"] == train["0.W"].worst_index
    assert result.errors["2.W"] == max(train["2.W"].error, evaluation["2.W"].error)
    assert not result.passed


def test_max_rows_draws_distinct_rows_in_their_order(monkeypatch):
    net = bp.mlp([2, 3, 1], seed=0)
    X = np.arange(20.0).reshape(10, 2)  # row i is (2i, 2i + 1)
    seen = []
    original = bp.Dense.forward
    monkeypatch.setattr(bp.Dense, "forward", lambda self, x, *, train=True: seen.append(np.array(x, float))
                        or original(self, x, train=train))
    bp.gradcheck(net, X, np.arange(10) % 2, max_rows=8, max_checks=1)
    first = seen[0]  # the first layer's input of the first evaluation
    rows = first[:, 0] / 2
    assert first.shape == (8, 2) and len(set(rows)) == 8 and list(rows) == sorted(rows)
    assert all(np.array_equal(x, first) for x in seen[::2])


def test_a_step_that_lands_exactly_on_zero_is_a_kink():
    # The layers put 0 on the "off" side (ReLU's derivative there is 0): z = 1e-7 stepped by -1e-7 lands
    # on 0 exactly, where the derivative changes, so the entry is a kink as if it had crossed.
    net = bp.Network([bp.Dense(1, 1), bp.ReLU(), bp.Dense(1, 1)], output="identity")
    net.set_params({"0.W": [[0.0]], "0.b": [[1e-7]], "2.W": [[1.0]], "2.b": [[0.0]]})
    result = bp.gradcheck(net, np.ones((1, 1)), np.ones((1, 1)))
    assert result.kinks == {"0.W": 1, "0.b": 1, "2.W": 0, "2.b": 0}


def test_the_rule_is_inclusive_an_exactly_right_zero_gradient_passes_with_no_tolerance():
    net = bp.Network([bp.Dense(2, 1)], output="identity")
    result = bp.gradcheck(net, np.zeros((3, 2)), np.ones((3, 1)), rtol=0.0, atol=0.0)
    assert result.failed["0.W"] == 0  # |a - n| = 0 <= 0 + 0 * (|a| + |n|)


def test_extended_precision_lowers_the_rounding_floor_by_orders_of_magnitude():
    if np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps:
        pytest.skip("np.longdouble is float64 on this platform")
    rng = np.random.default_rng(0)
    net = bp.mlp([3, 4, 1], activation="tanh", seed=0)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, 6)
    extended, plain = bp.gradcheck(net, X, y), bp.gradcheck(net, X, y, extended=False)
    assert extended.max_error < plain.max_error / 100  # ~1e-12 against ~1e-9


class Recorder(Layer):
    """``a = x * sum(w)`` with ten parameters; remembers ``w`` at every forward, to see which entry moved."""

    seen: list[np.ndarray]

    def __init__(self) -> None:
        super().__init__()
        self.params = {"w": np.linspace(0.1, 1.0, 10)}
        self.grads = {"w": np.zeros(10)}
        # On the class: gradcheck evaluates copies of the network (Network.copy), and they record here too.
        type(self).seen = []

    def forward(self, x, *, train=True):
        self.seen.append(np.array(self.params["w"], dtype=float))
        self._x = x
        return x * self.params["w"].sum()

    def backward(self, dout):
        self.grads["w"][...] = (dout * self._x).sum()
        return dout * self.params["w"].sum()


def test_max_checks_draws_distinct_entries_in_order_from_the_seed_and_whole_arrays_draw_nothing():
    recorder = Recorder()
    net = bp.Network([bp.Dense(1, 3), recorder], output="identity")
    result = bp.gradcheck(net, np.ones((2, 1)), np.zeros((2, 3)), max_checks=4, sample_seed=11)
    assert result.passed and result.checked == {"0.W": 3, "0.b": 3, "1.w": 4}
    base = recorder.seen[0]
    moved = [int(np.flatnonzero(w != base)[0]) for w in recorder.seen[1:] if (w != base).any()]
    # 0.W and 0.b (three entries each) are checked whole; 1.w's entries are the first draw of the seed.
    expected = np.sort(np.random.default_rng(11).choice(10, 4, replace=False))
    assert moved == [int(i) for i in np.repeat(expected, 2)]  # each entry stepped up, then down
