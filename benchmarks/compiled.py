"""The compiled peers of issue 23: JAX (``jit`` + ``vmap`` + ``lax.scan``) and ``torch.func``, written as experts would.

Both are optional (``pip install -e ".[bench]"``). Every contender starts from
backproplab's initial weights (``workloads.make_problem``) and returns a
``hand.Result`` in backproplab's layout, so ``compiled_peers.py`` checks that it
computed the same thing.

**JAX.** The whole training run is one compiled program: ``lax.scan`` over the
epochs (B1/B2) or over the mini-batches of an epoch (B3), ``jax.value_and_grad``
for the step, and for B2 ``jax.vmap`` over the runs axis of the whole run (XLA
sees 1,000 independent scans as one, and lays the runs out as it likes). Two
contenders: *JAX compiled* calls a function compiled ahead of time (``lower`` +
``compile``) so only the run is timed; *JAX first call* clears JAX's caches and
times ``jit`` + trace + compile + run, what a user pays the first time in a
process (the import is paid once, in the warm-up, and timed apart by
``compiled_peers.py``). float64 needs ``jax_enable_x64``, set on import here.

**torch.func.** ``grad_and_value`` of a pure loss of the parameter list, and for
B2 ``vmap`` of it over the runs axis; the epochs are a Python loop (torch.func
compiles nothing), the update ``torch._foreach_add_`` (one call for all
parameters, as ``torch.optim.SGD``'s ``foreach`` path does).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np

from hand import Result
from workloads import Problem


def available() -> dict[str, str | None]:
    """Version of each compiled peer, or None if it cannot be imported."""
    out: dict[str, str | None] = {}
    for name, module in (("jax", "jax"), ("torch", "torch")):
        if importlib.util.find_spec(module) is None:
            out[name] = None
            continue
        try:
            mod = __import__(module)
            if module == "jax":
                mod.config.update("jax_enable_x64", True)  # float64 workloads; float32 ones stay float32
            out[name] = mod.__version__
        except Exception:
            out[name] = None
    return out


# --- JAX --------------------------------------------------------------------------------


def _jax_xor_program(prob: Problem):
    """``(train, args)``: a function of the initial parameters training B1/B2 to the end, and its arguments."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    w = prob.workload
    X, Y = jnp.asarray(prob.X), jnp.asarray(prob.Y)  # (B, 2), (B, 1), shared by every run
    lr = jnp.asarray(w.lr, dtype=prob.X.dtype)

    def loss(params, X, Y):
        W1, b1, W2, b2 = params
        z = jax.nn.sigmoid(X @ W1 + b1) @ W2 + b2  # (B, 1) logits
        # Binary cross-entropy from the logits, stable for any z (as backproplab and optax write it).
        return jnp.mean(jnp.maximum(z, 0) - z * Y + jnp.log1p(jnp.exp(-jnp.abs(z))))

    def train(params):
        def step(params, _):
            value, grads = jax.value_and_grad(loss)(params, X, Y)
            return jax.tree.map(lambda p, g: p - lr * g, params, grads), value

        return lax.scan(step, params, None, length=w.epochs)  # (final params, loss per epoch)

    if w.runs:
        train = jax.vmap(train)  # every parameter carries the runs axis first; the losses come out (R, epochs)
    args = (tuple(jnp.asarray(p) for p in prob.params),)
    return train, args


def _jax_mnist_program(prob: Problem):
    """``(train, args)`` for B3: one compiled epoch (a scan over its full batches, then the last partial one)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    w = prob.workload
    X, labels = jnp.asarray(prob.X), jnp.asarray(prob.labels.astype(np.int32))
    n, bs = prob.X.shape[0], w.batch_size
    full = n // bs
    lr = jnp.asarray(w.lr, dtype=prob.X.dtype)

    def loss(params, xb, yb):
        h = xb
        for i in range(0, len(params) - 2, 2):
            h = jax.nn.relu(h @ params[i] + params[i + 1])  # (B, D_out)
        z = h @ params[-2] + params[-1]  # (B, 10)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(z), yb[:, None], axis=1))

    def train(params, orders, X, labels):  # the data are arguments: closed over, XLA would fold 188 MB in
        def step(params, rows):
            value, grads = jax.value_and_grad(loss)(params, X[rows], labels[rows])  # the batch gathered inside
            return jax.tree.map(lambda p, g: p - lr * g, params, grads), value

        losses = []
        for order in orders:  # B3 has one epoch: the loop unrolls once
            params, values = lax.scan(step, params, order[: full * bs].reshape(full, bs))
            total = values.sum() * bs
            if n % bs:  # the last, smaller batch: a second shape, compiled into the same program
                params, last = step(params, order[full * bs :])
                total = total + last * (n % bs)
            losses.append(total / n)
        return params, jnp.stack(losses)

    args = (tuple(jnp.asarray(p) for p in prob.params), jnp.asarray(prob.perm.astype(np.int32)), X, labels)
    return train, args


def _jax_program(prob: Problem):
    return (_jax_xor_program if prob.workload.output == "sigmoid" else _jax_mnist_program)(prob)


def _jax_result(prob: Problem, out) -> Result:
    import jax

    params, losses = jax.block_until_ready(out)
    losses = np.asarray(losses)
    if prob.workload.runs:
        losses = losses.T  # (R, epochs) -> (epochs, R)
    return Result([np.asarray(p) for p in params], losses)


def jax_compiled(prob: Problem) -> Callable[[], Result]:
    """JAX with the program compiled ahead of time: the run alone is timed."""
    import jax

    train, args = _jax_program(prob)
    compiled = jax.jit(train).lower(*args).compile()

    def run() -> Result:
        return _jax_result(prob, compiled(*args))

    return run


def jax_first_call(prob: Problem) -> Callable[[], Result]:
    """JAX as a user's first call in a process: ``jit``, trace, compile and run, caches cleared before each."""
    import jax

    train, args = _jax_program(prob)

    def run() -> Result:
        jax.clear_caches()
        return _jax_result(prob, jax.jit(train)(*args))

    return run


# --- torch.func -------------------------------------------------------------------------


def torch_func_xor(prob: Problem) -> Callable[[], Result]:
    """B1/B2 with ``torch.func``: ``grad_and_value`` of a pure loss, ``vmap``'d over the runs axis for B2."""
    import torch
    import torch.nn.functional as F
    from torch.func import grad_and_value, vmap

    w = prob.workload
    X, Y = torch.from_numpy(prob.X), torch.from_numpy(prob.Y)

    def loss(params, X, Y):
        W1, b1, W2, b2 = params
        z = torch.addmm(b2, torch.sigmoid(torch.addmm(b1, X, W1)), W2)  # (B, 1)
        return F.binary_cross_entropy_with_logits(z, Y)

    value_grad = grad_and_value(loss)
    if w.runs:
        value_grad = vmap(value_grad, in_dims=(0, None, None))  # per run; the data shared

    def run() -> Result:
        params = [torch.tensor(p) for p in prob.params]  # copies of the initial weights
        losses = torch.empty((w.epochs, *((w.runs,) if w.runs else ())), dtype=X.dtype)
        with torch.no_grad():
            for e in range(w.epochs):
                grads, value = value_grad(params, X, Y)
                torch._foreach_add_(params, grads, alpha=-w.lr)
                losses[e] = value
        return Result([p.numpy() for p in params], losses.numpy())

    return run


def torch_func_mnist_like(prob: Problem) -> Callable[[], Result]:
    """B3 with ``torch.func``: ``grad_and_value`` of a pure loss of the parameter list, the same batches."""
    import torch
    import torch.nn.functional as F
    from torch.func import grad_and_value

    w = prob.workload
    X, labels, perm = torch.from_numpy(prob.X), torch.from_numpy(prob.labels), torch.from_numpy(prob.perm)
    n, bs = X.shape[0], w.batch_size

    def loss(params, xb, yb):
        h = xb
        for i in range(0, len(params) - 2, 2):
            h = torch.relu(torch.addmm(params[i + 1], h, params[i]))  # (B, D_out)
        return F.cross_entropy(torch.addmm(params[-1], h, params[-2]), yb)

    value_grad = grad_and_value(loss)

    def run() -> Result:
        params = [torch.tensor(p) for p in prob.params]
        losses = np.empty(w.epochs)
        with torch.no_grad():
            for e in range(w.epochs):
                total = torch.zeros((), dtype=torch.float64)
                for start in range(0, n, bs):
                    idx = perm[e, start : start + bs]
                    grads, value = value_grad(params, X[idx], labels[idx])
                    torch._foreach_add_(params, grads, alpha=-w.lr)
                    total += value * len(idx)
                losses[e] = total.item() / n
        return Result([p.numpy() for p in params], losses)

    return run


def torch_func(prob: Problem) -> Callable[[], Result]:
    return (torch_func_xor if prob.workload.output == "sigmoid" else torch_func_mnist_like)(prob)
