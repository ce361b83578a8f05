"""The estimators' mini-batch training: backproplab's ``fit`` with scikit-learn's bookkeeping as a callback.

One training loop (DESIGN.md): the batches, forward, loss, backward and update are
``fit``'s. What scikit-learn adds is given to it, not written beside it:

- the row order: ``batch_order`` replays scikit-learn's ``shuffle(sample_idx,
  random_state)``, which reshuffles the previous epoch's order with the estimator's
  ``RandomState`` (``_Shuffle``);
- the objective: ``_rules``' losses add the L2 term and the sample weights (carried as
  a last target column, so that they follow their rows into the batches), and the
  optimizers add the L2 gradient (``_CoupledL2``);
- the end of an epoch (``_SklearnEpochs``): ``n_iter_``, ``t_``, ``loss_curve_``, the
  validation score and the best parameters with ``early_stopping``, the no-improvement
  count (``schedules.Plateau``), ``learning_rate="invscaling"``/``"adaptive"``, verbose
  lines and the stop.

A loss that becomes NaN or infinite makes ``fit`` roll back to the start of the epoch
and raise; scikit-learn raises only when the weights end non-finite, and with
``early_stopping`` keeps the best epoch, so ``train`` does that (see ``_diverged``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from .. import errors
from ..train.callbacks import Callback, FitState
from ..train.loop import fit
from ..train.schedules import InverseScaling, Plateau, ReduceOnPlateau
from ._rules import make_optimizer


class _Shuffle:
    """scikit-learn's row order: the previous epoch's order, shuffled in place by ``rs`` (or none)."""

    def __init__(self, n: int, rs: np.random.RandomState, shuffle: bool) -> None:
        self.order, self.rs, self.shuffle = np.arange(n), rs, shuffle

    def __call__(self, epoch: int) -> np.ndarray | None:
        if not self.shuffle:
            return None
        # sklearn.utils.shuffle(sample_idx, random_state=rs) is rs.shuffle of an arange used as
        # indices into sample_idx: the same swaps applied to the order itself, without the argument
        # checks that cost scikit-learn a third of a small fit
        self.rs.shuffle(self.order)
        return self.order


class _SklearnEpochs(Callback):
    """scikit-learn's end of an epoch, in its order: record, score, count, adjust the rate, stop or go on."""

    def __init__(self, est: Any, n: int, validation: tuple[np.ndarray, np.ndarray, Any] | None) -> None:
        self.est, self.n, self.validation = est, n, validation
        self.maxed = False  # the last epoch ended without a stop: max_iter was reached

    def on_epoch_end(self, state: FitState) -> None:
        done = state.history.lengths()["loss"]
        loss = float(state.history.rows("loss", done - 1, done)[0])  # the epoch's mean, with the L2 term
        state.stop = not self.end_epoch(loss)
        self.maxed = not state.stop

    def end_epoch(self, loss: float) -> bool:
        est = self.est
        est.n_iter_ += 1
        est.t_ += self.n
        est.loss_ = loss
        est.loss_curve_.append(loss)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.validation is not None:
            score = est._score_val(*self.validation)
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:f}")
            stalled = est._plateau.update(score)
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                est._best = est.net_.state_dict(copy=True)
        else:
            stalled = est._plateau.update(loss)
            est.best_loss_ = min(est.best_loss_, loss)
        est._no_improvement_count = est._plateau.count
        if est.solver == "sgd" and est.learning_rate == "invscaling":
            est._optimizer.lr = InverseScaling(est.power_t).lr_at(est.t_, est.learning_rate_init)
        if not stalled:
            return True
        what = "Validation score" if self.validation is not None else "Training loss"
        msg = f"{what} did not improve more than tol={est.tol:f} for {est.n_iter_no_change} consecutive epochs."
        adaptive = est._adaptive
        stop = adaptive is None or adaptive.reduce(est._optimizer)
        if est.verbose:
            lowered = f" Setting learning rate to {est._optimizer.lr:f}"
            small = " Learning rate too small." if adaptive is not None else ""
            print(msg + (small + " Stopping." if stop else lowered))
        if not stop:
            est._plateau.reset()
        return not stop


def start(est: Any, fresh: bool) -> None:
    """Reset the bookkeeping a first fit resets (scikit-learn's ``_initialize``); make what a later fit lacks."""
    if fresh or not hasattr(est, "loss_curve_"):
        est.loss_curve_ = []
        est.best_loss_ = None if est.early_stopping else np.inf
        est.validation_scores_ = [] if est.early_stopping else None
        est.best_validation_score_ = -np.inf if est.early_stopping else None
    if fresh or not hasattr(est, "_plateau"):
        est._plateau = Plateau(est.n_iter_no_change, est.tol, "max" if est.early_stopping else "min")
        est._no_improvement_count = 0
    est._plateau.count = getattr(est, "_no_improvement_count", 0)  # a user may set it, as scikit-learn's tests do
    est._best = None


def train(est: Any, X: np.ndarray, Y: np.ndarray, sw: np.ndarray | None, rs: np.random.RandomState,
          incremental: bool) -> None:
    """Train ``est.net_`` on ``X`` ``(B, D_in)``, ``Y`` ``(B, K)`` as scikit-learn's ``_fit_stochastic`` does."""
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = make_optimizer(est)
        est._adaptive = None
        if est.solver == "sgd" and est.learning_rate == "adaptive":
            est._adaptive = ReduceOnPlateau(est.n_iter_no_change, est.tol)
            est._adaptive.plateau = est._plateau  # one no-improvement count, as scikit-learn keeps
    validation = None
    if est.early_stopping:
        X, Y, sw, validation = _split(est, X, Y, sw, rs)
    n = X.shape[0]
    if est.batch_size != "auto" and est.batch_size > n:
        warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                      stacklevel=4)
    batch = min(200, n) if est.batch_size == "auto" else int(min(est.batch_size, n))
    loss = est._loss(alpha=est.alpha, weighted=sw is not None)
    optimizer = est._optimizer
    if est.solver != "adamw":  # AdamW decays the weights itself (decoupled, alpha per step)
        optimizer.objective = loss
        optimizer.weight_names = tuple(name for name in est.net_.params if name.endswith(".W"))
    epochs = _SklearnEpochs(est, n, validation)
    est.n_iter_ = 0
    try:
        fit(est.net_, X, Y if sw is None else np.hstack([Y, sw[:, None]]), loss=loss, optimizer=optimizer,
            epochs=1 if incremental else est.max_iter, batch_size=batch, batch_order=_Shuffle(n, rs, est.shuffle),
            progress=False, callbacks=[epochs])
        if epochs.maxed and not incremental:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and the optimization "
                          "hasn't converged yet.", ConvergenceWarning, stacklevel=4)
    except errors.DivergenceError as exc:
        _diverged(est, exc, epochs)
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", stacklevel=4)
    finally:
        optimizer.objective = None  # the loss holds the weights: not kept beyond this call
    if est.early_stopping and est._best is not None:
        est.net_.load_state_dict(est._best)  # the best epoch's parameters, as scikit-learn keeps them


def _split(est: Any, X: np.ndarray, Y: np.ndarray, sw: np.ndarray | None,
           rs: np.random.RandomState) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple]:
    """scikit-learn's validation rows: stratified for one output (by the 0/1 labels, as booleans)."""
    stratify = Y.astype(bool) if est._is_classifier() and est.n_outputs_ == 1 else None
    arrays = (X, Y) if sw is None else (X, Y, sw)
    parts = train_test_split(*arrays, random_state=rs, test_size=est.validation_fraction, stratify=stratify)
    X, X_val, Y, Y_val = parts[:4]
    sw, sw_val = (parts[4], parts[5]) if sw is not None else (None, None)
    if X_val.shape[0] < 2:
        raise ValueError("The validation set is too small. Increase 'validation_fraction' or the size of your "
                         "dataset.")
    return X, Y, sw, (X_val, Y_val, sw_val)


def _diverged(est: Any, exc: errors.DivergenceError, epochs: _SklearnEpochs) -> None:
    """The loss became NaN or infinite; ``fit`` put back the parameters of the epoch's start.

    With ``early_stopping`` scikit-learn goes on to NaN validation scores and keeps the best
    epoch: the epoch is recorded with NaN and training ends there, without an exception.
    Otherwise scikit-learn's weights end non-finite and it raises; so do we, with its words.
    """
    if est.early_stopping and est._best is not None:
        est.n_iter_ += 1
        est.t_ += epochs.n
        est.loss_curve_.append(np.nan)
        est.loss_ = np.nan
        est.validation_scores_.append(np.nan)
        warnings.warn(f"training diverged in epoch {est.n_iter_} (the loss became NaN or infinite); kept the "
                      "best epoch's parameters", ConvergenceWarning, stacklevel=5)
        return
    raise est._divergence(exc.epoch)

