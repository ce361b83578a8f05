"""The optimised code paths compute what the straightforward code computes.

Speed work (issue 5) rewrote hot spots: in-place activations and loss
gradients, gradients written into reused arrays, einsum reductions over the
runs axis, no input gradient in training, per-batch row gathering; the
kernels of ``_kernels``. Each test
here pins one of them to the plain formula it replaced, checks that float32
stays float32, and that reused arrays never leak into results a caller keeps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backproplab as bp
from backproplab.core import _kernels
from backproplab.core.layers import Dense, ReLU, Sigmoid, Tanh, sigmoid, softmax
from backproplab.core.losses import BinaryCrossEntropy, CrossEntropy, MeanSquaredError

X_LOGIC = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y_XOR = np.array([0, 1, 1, 0])

shapes = st.tuples(
    st.one_of(st.none(), st.integers(1, 6)),  # runs
    st.integers(1, 9),  # batch
    st.integers(1, 5),  # outputs
)


def _logits(runs, batch, k, seed, dtype="float64"):
    rng = np.random.default_rng(seed)
    lead = () if runs is None else (runs,)
    return (rng.normal(scale=4.0, size=(*lead, batch, k))).astype(dtype)


# --- losses and output activations --------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(shapes, st.integers(0, 2**16))
def test_binary_cross_entropy_matches_the_plain_formulas(shape, seed):
    runs, batch, k = shape
    z = _logits(runs, batch, k, seed)
    y = (np.random.default_rng(seed + 1).random((batch, k)) > 0.5).astype(float)
    z_before, y_before = z.copy(), y.copy()
    loss = BinaryCrossEntropy()
    plain = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean(axis=(-2, -1))
    np.testing.assert_allclose(loss.value(z, y), plain, rtol=1e-13, atol=1e-15)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(loss.gradient(z, y), (p - y) / (batch * k), rtol=1e-12, atol=1e-16)
    plain_correct = ((z > 0) == (y > 0.5)).all(axis=-1).sum(axis=-1)
    np.testing.assert_array_equal(loss.correct(z, y), plain_correct)
    np.testing.assert_array_equal(z, z_before)  # in-place steps never touch the inputs
    np.testing.assert_array_equal(y, y_before)


@settings(max_examples=40, deadline=None)
@given(shapes, st.integers(0, 2**16))
def test_cross_entropy_matches_the_plain_formulas(shape, seed):
    runs, batch, k = shape
    k += 1  # softmax needs two classes
    z = _logits(runs, batch, k, seed)
    y = np.eye(k)[np.random.default_rng(seed + 1).integers(0, k, batch)]
    z_before = z.copy()
    loss = CrossEntropy()
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(softmax(z), p, rtol=1e-13)
    np.testing.assert_allclose(loss.gradient(z, y), (p - y) / batch, rtol=1e-12, atol=1e-16)
    np.testing.assert_array_equal(loss.correct(z, y), (z.argmax(-1) == y.argmax(-1)).sum(axis=-1))
    np.testing.assert_array_equal(z, z_before)


@settings(max_examples=40, deadline=None)
@given(shapes, st.integers(0, 2**16), st.sampled_from(["float64", "float32"]))
@pytest.mark.parametrize("cls", [BinaryCrossEntropy, CrossEntropy, MeanSquaredError])
def test_value_and_gradient_in_one_call_are_the_two_methods_bit_for_bit(cls, shape, seed, dtype):
    runs, batch, k = shape
    k += cls is CrossEntropy  # softmax needs two classes
    z = _logits(runs, batch, k, seed, dtype)
    rng = np.random.default_rng(seed + 1)
    y = np.eye(k, dtype=dtype)[rng.integers(0, k, batch)] if cls is CrossEntropy else (rng.random((batch, k)) > 0.5)
    y = y.astype(dtype)
    z_before, y_before = z.copy(), y.copy()
    loss = cls()
    value, grad = loss.value_and_gradient(z, y)
    np.testing.assert_array_equal(value, loss.value(z, y))
    np.testing.assert_array_equal(grad, loss.gradient(z, y))
    assert np.asarray(value).dtype == grad.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(z, z_before)  # the shared work happens on arrays of its own
    np.testing.assert_array_equal(y, y_before)


@settings(max_examples=30, deadline=None)
@given(shapes, st.integers(0, 2**16))
def test_mse_value_matches_the_plain_mean(shape, seed):
    runs, batch, k = shape
    z = _logits(runs, batch, k, seed)
    y = np.random.default_rng(seed + 1).normal(size=(batch, k))
    plain = ((z - y) ** 2).mean(axis=(-2, -1))
    np.testing.assert_allclose(MeanSquaredError().value(z, y), plain, rtol=1e-13)


def test_sigmoid_accepts_scalars_and_lists_and_keeps_the_input():
    assert sigmoid(0.0) == 0.5
    np.testing.assert_allclose(sigmoid([0.0, 2.0]), [0.5, 1 / (1 + np.exp(-2.0))], rtol=1e-15)
    z = np.array([-800.0, 0.0, 800.0])
    with np.errstate(all="raise"):  # no floating-point error escapes, whatever the logit
        np.testing.assert_array_equal(sigmoid(z), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(z, [-800.0, 0.0, 800.0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sigmoid_keeps_its_relative_precision_in_the_negative_tail(dtype):
    # 1 / (1 + exp(-z)) in Python floats is correctly rounded to 1e-16 here; the tanh form
    # 0.5 + 0.5 * tanh(z / 2) cancels: 9e-9 off in float64 at z = -20, and 0 in float32.
    z = np.array([-30.0, -20.0, -10.0, -5.0, 0.0, 5.0], dtype=dtype)
    exact = np.array([1 / (1 + math.exp(-float(v))) for v in z])
    got = sigmoid(z)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, exact, rtol=4 * np.finfo(dtype).eps, atol=0)


# --- layers and the network ------------------------------------------------------------


@pytest.mark.parametrize("fan_out", [4, 1])  # one output: dx is an outer product, one broadcast multiplication
@pytest.mark.parametrize("runs", [None, 3])
@pytest.mark.parametrize("shared_input", [True, False])
def test_dense_gradients_equal_the_plain_products(runs, shared_input, fan_out):
    rng = np.random.default_rng(0)
    layer = Dense(5, fan_out, rng=rng, runs=runs)
    layer.params["b"][...] = rng.normal(size=layer.params["b"].shape)
    lead = () if runs is None or shared_input else (runs,)
    x = rng.normal(size=(*lead, 6, 5))
    x_before = x.copy()
    z = layer.forward(x)
    W, b = layer.params["W"], layer.params["b"]
    np.testing.assert_allclose(z, x @ W + b, rtol=1e-15, atol=1e-15)  # one product over all runs: rounding
    dout = rng.normal(size=z.shape)
    dout_before = dout.copy()
    dx = layer.backward(dout)
    np.testing.assert_allclose(layer.grads["W"], x.swapaxes(-1, -2) @ dout, rtol=1e-13)
    np.testing.assert_allclose(layer.grads["b"], dout.sum(axis=-2, keepdims=True), rtol=1e-13)
    np.testing.assert_allclose(dx, dout @ W.swapaxes(-1, -2), rtol=1e-13)
    if fan_out == 1:  # a sum of one product: the same bits as matmul
        np.testing.assert_array_equal(dx, dout @ W.swapaxes(-1, -2))
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)
    assert layer.grads["W"].shape == W.shape and layer.grads["b"].shape == b.shape


@pytest.mark.parametrize("cls", [Sigmoid, Tanh, ReLU])
def test_activations_leave_their_inputs_alone(cls):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4, 5))
    dout = rng.normal(size=x.shape)
    x0, d0 = x.copy(), dout.copy()
    layer = cls()
    a = layer.forward(x)
    dx = layer.backward(dout)
    plain = {Sigmoid: lambda v: 1 / (1 + np.exp(-v)), Tanh: np.tanh, ReLU: lambda v: np.maximum(v, 0)}[cls](x0)
    np.testing.assert_allclose(a, plain, rtol=1e-14)
    deriv = {Sigmoid: plain * (1 - plain), Tanh: 1 - plain**2, ReLU: (x0 > 0).astype(float)}[cls]
    np.testing.assert_allclose(dx, d0 * deriv, rtol=1e-13)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(dout, d0)


@pytest.mark.parametrize("runs", [None, 4])
def test_backward_without_input_gradient_writes_the_same_gradients(runs):
    net = bp.mlp([3, 6, 5, 2], activation="tanh", output="softmax", seed=2, runs=runs)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(7, 3))
    z = net.forward(X, train=True)
    dz = CrossEntropy().gradient(z, np.eye(2)[rng.integers(0, 2, 7)])
    dx = net.backward(dz)
    assert dx.shape == ((7, 3) if runs is None else (runs, 7, 3))
    full = {name: g.copy() for name, g in net.grads.items()}
    assert net.backward(dz, input_grad=False) is None
    for name, g in net.grads.items():
        np.testing.assert_array_equal(g, full[name])


def test_gradients_are_rewritten_in_place_but_returned_copies_stay_put():
    net = bp.mlp([2, 4, 1], seed=0)
    arrays = {name: id(g) for name, g in net.grads.items()}
    value1, grads1 = bp.loss_and_gradients(net, X_LOGIC, Y_XOR)
    kept = {name: g.copy() for name, g in grads1.items()}
    value2, grads2 = bp.loss_and_gradients(net, X_LOGIC[:2], Y_XOR[:2])
    assert {name: id(g) for name, g in net.grads.items()} == arrays  # the same arrays, reused
    for name in kept:
        np.testing.assert_array_equal(grads1[name], kept[name])  # a returned copy never changes
        assert not np.array_equal(grads1[name], grads2[name])
    assert value1 != value2


def test_forward_outputs_are_fresh_arrays():
    net = bp.mlp([2, 4, 3], activation="sigmoid", output="softmax", seed=0)
    a = net.predict_proba(X_LOGIC)
    a_kept = a.copy()
    b = net.predict_proba(X_LOGIC[::-1])
    np.testing.assert_array_equal(a, a_kept)
    assert not np.shares_memory(a, b)


# --- float32 end to end -------------------------------------------------------------------


class _DtypeSpy(bp.Callback):
    """Records the dtypes of everything the network holds after each epoch."""

    def __init__(self) -> None:
        self.dtypes: set[np.dtype] = set()

    def on_epoch_end(self, state: bp.FitState) -> None:
        net = state.net
        self.dtypes |= {a.dtype for a in net.params.values()} | {g.dtype for g in net.grads.values()}
        for layer in net.layers:
            self.dtypes |= {a.dtype for a in vars(layer).values() if isinstance(a, np.ndarray)}


@pytest.mark.parametrize(
    ("activation", "output", "y"),
    [("sigmoid", "sigmoid", Y_XOR), ("relu", "softmax", Y_XOR), ("tanh", "identity", X_LOGIC)],
)
@pytest.mark.parametrize("runs", [None, 3])
def test_float32_stays_float32_end_to_end(activation, output, y, runs):
    k = 2 if output != "sigmoid" else 1
    net = bp.mlp([2, 5, k], activation=activation, output=output, seed=0, runs=runs, dtype="float32")
    spy = _DtypeSpy()
    bp.fit(net, X_LOGIC, y, epochs=3, batch_size=3, progress=False, callbacks=[spy])
    assert spy.dtypes == {np.dtype(np.float32)}
    z = net.forward(X_LOGIC.astype(np.float32))
    assert z.dtype == np.float32
    value, grads = bp.loss_and_gradients(net, X_LOGIC, y)
    assert np.asarray(value).dtype == np.float32
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}


# --- fit against a straightforward loop ----------------------------------------------------


@pytest.mark.parametrize("runs", [None, 3])
def test_fit_equals_a_plain_minibatch_loop(runs):
    """Shuffled mini-batches, gathered per batch in fit, against whole-epoch fancy indexing."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(23, 3))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(float)[:, None]
    net = bp.mlp([3, 5, 1], activation="tanh", seed=7, runs=runs)
    W1, b1, W2, b2 = (p.copy() for p in net.params.values())
    history = bp.fit(net, X, y, optimizer=bp.SGD(0.3), epochs=6, batch_size=5, shuffle_seed=9, progress=False)

    order_rng = np.random.default_rng(9)
    losses = []
    for _ in range(6):
        perm = order_rng.permutation(23)
        Xe, ye = X[perm], y[perm]
        total = 0.0
        for s in range(0, 23, 5):
            xb, yb = Xe[s : s + 5], ye[s : s + 5]
            a1 = np.tanh(xb @ W1 + b1)
            z = a1 @ W2 + b2
            total = total + (np.maximum(z, 0) - z * yb + np.log1p(np.exp(-np.abs(z)))).sum(axis=(-2, -1))
            d2 = (1 / (1 + np.exp(-z)) - yb) / len(xb)
            d1 = (d2 @ W2.swapaxes(-1, -2)) * (1 - a1**2)
            W2 -= 0.3 * (a1.swapaxes(-1, -2) @ d2)
            b2 -= 0.3 * d2.sum(axis=-2, keepdims=True)
            W1 -= 0.3 * (xb.T @ d1)
            b1 -= 0.3 * d1.sum(axis=-2, keepdims=True)
        losses.append(total / 23)
    np.testing.assert_allclose(history.loss, np.array(losses), rtol=1e-12)
    for got, want in zip(net.params.values(), (W1, b1, W2, b2), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_fit_leaves_the_caller_data_untouched():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(17, 2)).astype(np.float32)
    y = rng.integers(0, 3, 17)
    X0, y0 = X.copy(), y.copy()
    bp.fit(bp.mlp([2, 4, 3], output="softmax", dtype="float32"), X, y, epochs=3, batch_size=4, progress=False)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("shape", [(3, 4), (70, 80), (2, 70, 40)])  # below and above the scratch-array size
def test_sgd_steps_equal_the_plain_update_and_keep_no_stale_scratch(shape):
    rng = np.random.default_rng(6)
    p = rng.normal(size=shape).astype(np.float32)
    expected = p.copy()
    opt = bp.SGD(0.05)
    for _ in range(3):
        g = rng.normal(size=shape).astype(np.float32)
        g_before = g.copy()
        opt.step({"w": p}, {"w": g})
        expected = expected - np.float32(0.05) * g_before
        np.testing.assert_array_equal(p, expected)  # bit for bit: the same product, subtracted
        np.testing.assert_array_equal(g, g_before)  # the gradient itself is never scaled in place
        assert p.dtype == np.float32
    assert opt.state == {}  # scratch space is not optimizer state (checkpoints save state)


# --- the parameter vector --------------------------------------------------------------------


def test_a_layers_arrays_keep_their_identity_when_it_joins_a_network_and_trains():
    dense = Dense(2, 3, rng=np.random.default_rng(0))
    W, dW = dense.params["W"], dense.grads["W"]
    net = bp.Network([dense, Sigmoid(), Dense(3, 1)])
    bp.fit(net, X_LOGIC, Y_XOR, epochs=3, batch_size=2, progress=False)
    assert net.params["0.W"] is W and dense.params["W"] is W and dense.grads["W"] is dW
    W[...] = 0.0  # a write to the array taken before is a write to the network's parameter
    assert not net.params["0.W"].any()


class Replacing(Dense):
    """A layer that hands back fresh gradient arrays at every backward (the contract allows it)."""

    def backward_params(self, dout):
        super().backward_params(dout)
        self.grads = {key: g.copy() for key, g in self.grads.items()}


def test_a_layer_that_replaces_its_gradient_arrays_trains_like_one_that_does_not():
    nets = [
        bp.Network([cls(2, 4, rng=np.random.default_rng(1)), Tanh(), cls(4, 1, rng=np.random.default_rng(2))])
        for cls in (Dense, Replacing)
    ]
    for net in nets:
        bp.fit(net, X_LOGIC, Y_XOR, epochs=20, batch_size=2, shuffle_seed=3, progress=False)
    for name, p in nets[0].params.items():
        assert np.array_equal(p, nets[1].params[name]), name


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(st.none(), st.integers(1, 4)),  # runs of a
    st.one_of(st.none(), st.integers(1, 4)),  # runs of b
    st.integers(1, 6), st.integers(1, 5), st.integers(1, 5),
    st.booleans(), st.sampled_from(["float64", "float32"]), st.integers(0, 2**16),
)
def test_kernel_matmul_is_np_matmul_bit_for_bit(ra, rb, m, k, n, transposed, dtype, seed):
    if ra is not None and rb is not None:
        rb = ra  # a runs axis is shared or absent, never two different ones
    rng = np.random.default_rng(seed)
    lead = () if ra is None else (ra,)
    a = rng.normal(size=(*lead, k, m) if transposed else (*lead, m, k))
    a = (a.swapaxes(-1, -2) if transposed else a).astype(dtype)
    b = rng.normal(size=(*(() if rb is None else (rb,)), k, n)).astype(dtype)
    expected = np.matmul(a, b)
    got = _kernels.matmul(a, b)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    # einsum's single products and dot's BLAS call are matmul's numbers; a contiguous copy of a
    # transposed operand may change BLAS's order of summation only within rounding.
    np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == "float32" else 1e-14, atol=1e-6)
    if k == 1 or (a.ndim == b.ndim == 2):
        assert np.array_equal(got, expected)
    out = np.empty_like(expected)
    assert _kernels.matmul(a, b, out=out) is out and np.array_equal(out, got)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.none(), st.integers(1, 50)), st.integers(1, 9), st.integers(1, 6), st.integers(0, 2**16))
def test_kernel_sum_over_batch_is_the_batch_sum(runs, batch, d, seed):
    dout = np.random.default_rng(seed).normal(size=(*(() if runs is None else (runs,)), batch, d))
    out = np.empty((*dout.shape[:-2], 1, d))
    assert _kernels.sum_over_batch(dout, out) is out
    np.testing.assert_allclose(out, dout.sum(-2, keepdims=True), rtol=1e-13, atol=1e-13)


# --- the runs-last layout of stacked arrays (DESIGN.md, core contract) -----------------------


def _runs_last(a):
    return _kernels.stack_runs_last(a)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(2, 5),  # runs
    st.integers(1, 6), st.integers(1, 5), st.integers(1, 5),  # I, K, J
    st.sampled_from(["shared", "runs-first", "runs-last", "runs-last transposed"]),
    st.sampled_from([None, "runs-first", "runs-last"]),  # out
    st.sampled_from(["float64", "float32"]), st.integers(0, 2**16),
)
def test_runs_last_matmul_is_the_per_run_product(runs, i, k, j, a_layout, out_layout, dtype, seed):
    rng = np.random.default_rng(seed)
    b = _runs_last(rng.normal(size=(runs, k, j)).astype(dtype))
    assert _kernels.runs_last(b) and b.shape == (runs, k, j)
    if a_layout == "shared":
        a = rng.normal(size=(i, k)).astype(dtype)
    elif a_layout == "runs-first":
        a = rng.normal(size=(runs, i, k)).astype(dtype)
    elif a_layout == "runs-last":
        a = _runs_last(rng.normal(size=(runs, i, k)).astype(dtype))
    else:  # x.swapaxes(-1, -2) of a runs-last x, as Dense's dW reads it
        a = _runs_last(rng.normal(size=(runs, k, i)).astype(dtype)).swapaxes(-1, -2)
    expected = np.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b))
    out = None if out_layout is None else np.empty_like(expected)
    if out_layout == "runs-last":
        out = _runs_last(out)
    got = _kernels.matmul(a, b, out=out)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert out is None or got is out
    assert _kernels.runs_last(got) or out_layout == "runs-first"
    # One matrix product over all runs' columns, or a sum over k without BLAS's fused multiply-adds:
    # the per-run products up to rounding (k terms).
    tol = 1e-5 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    if k == 1:  # a product per entry, no sum: the same bits
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("shared", [True, False])
def test_runs_last_matmul_of_wide_layers_takes_per_run_products(shared):
    rng = np.random.default_rng(1)
    b = _runs_last(rng.normal(size=(3, 40, 30)))  # 40 x 30 per run: past the broadcast sum's size
    a = rng.normal(size=(7, 40) if shared else (3, 7, 40))
    out = _runs_last(np.empty((3, 7, 30)))
    assert _kernels.matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, a @ np.ascontiguousarray(b), rtol=1e-13, atol=1e-13)
    assert _kernels.runs_last(_kernels.matmul(a, b))


def test_stacked_dense_layers_store_runs_last_and_keep_their_shapes():
    net = bp.mlp([3, 5, 2], seed=4, runs=6)
    single = [bp.mlp([3, 5, 2], seed=4 + r) for r in range(6)]
    for name, p in net.params.items():
        assert _kernels.runs_last(p) and _kernels.runs_last(net.grads[name]), name
        assert p.shape[0] == 6 and np.moveaxis(p, 0, -1).flags.c_contiguous
        for r, one in enumerate(single):  # run r is still mlp(seed=4 + r), value for value
            np.testing.assert_array_equal(p[r], one.params[name])
    assert all(a.flags.c_contiguous for a in net.state_dict(copy=True).values())


def test_a_stacked_fit_equals_its_runs_fitted_alone_to_rounding():
    nets = bp.mlp([2, 8, 1], seed=0, runs=5)
    opts = dict(optimizer=bp.SGD(0.5), epochs=300, batch_size=4, progress=False)
    history = bp.fit(nets, X_LOGIC, Y_XOR, **opts)
    for r in range(5):
        one = bp.mlp([2, 8, 1], seed=r)
        alone = bp.fit(one, X_LOGIC, Y_XOR, **opts)
        np.testing.assert_allclose(history.loss[:, r], alone.loss, rtol=1e-12, atol=1e-15)
        for name, p in one.params.items():
            np.testing.assert_allclose(nets.params[name][r], p, rtol=1e-10, atol=1e-12)


def test_a_stacked_model_file_holds_c_ordered_arrays_as_before(tmp_path):
    import zipfile

    net = bp.mlp([2, 8, 1], seed=0, runs=5)
    path = net.save(tmp_path / "m.npz")
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():  # np.save would write runs-last (F-contiguous) arrays in Fortran order
            header = z.read(name)[:128]
            assert b"'fortran_order': False" in header, name
    loaded = bp.load(path)
    for name, p in net.params.items():
        assert np.array_equal(loaded.params[name], p) and _kernels.runs_last(loaded.params[name])


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.none(), st.integers(1, 4)), st.integers(1, 7), st.integers(1, 6), st.booleans(),
       st.integers(0, 2**16))
def test_row_entries_read_and_write_what_take_and_put_along_axis_do(runs, batch, k, runs_last_layout, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(*(() if runs is None else (runs,)), batch, k)).astype(np.float32)
    if runs is not None and runs_last_layout:
        a = _kernels.stack_runs_last(a)  # not C-contiguous: NumPy's functions themselves
    index = rng.integers(0, k, size=(*a.shape[:-1], 1))
    entries = _kernels.RowEntries(index, a.shape)
    np.testing.assert_array_equal(entries.take(a), np.take_along_axis(a, index, axis=-1))
    top = _kernels.RowEntries(a.argmax(axis=-1)[..., None], a.shape)  # cross-entropy's use: the row maxima
    np.testing.assert_array_equal(top.take(a), a.max(axis=-1, keepdims=True))
    expected = a.copy()
    np.put_along_axis(expected, index, -7.0, axis=-1)
    assert entries.put(a, -7.0) is None
    np.testing.assert_array_equal(a, expected)


_ODD_VALUES = [-0.0, 0.0, np.nan, np.inf, -np.inf, 1e-40, -1e-40]  # signed zeros, NaN, infinities, subnormals


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.none(), st.integers(1, 4)), st.integers(1, 40), st.integers(1, 70), st.booleans(),
       st.sampled_from(["float64", "float32"]), st.integers(0, 2**16))
def test_kernel_relu_is_maximum_with_zero_bit_for_bit(runs, batch, d, runs_last_layout, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(*(() if runs is None else (runs,)), batch, d))
    odd = rng.random(x.shape) < 0.2
    x[odd] = rng.choice(_ODD_VALUES, size=int(odd.sum()))
    x = x.astype(dtype)
    if runs is not None and runs_last_layout:
        x = _kernels.stack_runs_last(x)  # a stacked network's activations: runs-last strides
    x_before = x.copy()
    with np.errstate(all="ignore"):
        a = _kernels.relu(x)
        expected = np.maximum(x, 0)
    assert a.tobytes(order="A") == expected.tobytes(order="A")  # NaN kept, -0.0 -> +0.0, as maximum does
    assert a.dtype == x.dtype and a.strides == expected.strides  # the same layout as maximum's result
    np.testing.assert_array_equal(x, x_before)
    b = _kernels.relu(x)
    assert not np.shares_memory(a, b)  # every call returns a fresh array


def test_kernel_relu_keeps_a_few_read_only_zeros_laid_out_like_its_input():
    _kernels._zeros.cache_clear()
    x = _kernels.stack_runs_last(np.full((3, 4, 5), -2.0))  # runs-last: the runs axis fastest
    assert np.array_equal(_kernels.relu(x), np.zeros((3, 4, 5)))
    zeros = _kernels._zeros(x.shape, x.strides, x.dtype)
    assert zeros.strides == x.strides and not zeros.flags.writeable and not zeros.any()
    for n in range(1, 20):  # many shapes: the cache stays small
        _kernels.relu(np.ones((n, 2)))
    assert _kernels._zeros.cache_info().currsize <= 8
    _kernels._zeros.cache_clear()
    big = np.full(2**20 + 1, -1.0, dtype=np.float32)  # too large to keep zeros for: maximum against 0
    assert not _kernels.relu(big).any() and _kernels._zeros.cache_info().currsize == 0
    assert _kernels.relu([-1.0, 2.0]).tolist() == [0.0, 2.0]  # a list, as np.maximum takes it


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "values",
    [[1.0, 2.0], [1.0, np.nan], [np.inf, 1.0], [-np.inf], [np.inf, -np.inf], [3e38, 3e38, -3e38], [1e200, -1e200],
     [1e-300, 0.0]],
)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_the_one_pass_finiteness_check_agrees_with_isfinite(values, dtype, layout):
    from backproplab._checks import _all_finite

    with np.errstate(over="ignore"):
        row = np.array(values * 3, dtype=dtype)  # 3e38 and 1e200 overflow float32 to inf: then the data is not finite
    a = np.stack([row, row[::-1], row])
    a = {"C": a, "F": np.asfortranarray(a), "strided": a[:, ::2]}[layout]
    assert _all_finite(a) is bool(np.isfinite(a).all())
