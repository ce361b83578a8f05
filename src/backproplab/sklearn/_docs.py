"""The estimators' ``Parameters`` section, written once for both (numpydoc), and where their pages live.

The API pages render it, and scikit-learn's HTML view shows each entry as the help
of its parameter (it reads the class docstring's ``Parameters`` section) when the
view has a page to link to (``DOCS_URL``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, metadata


def declared_documentation_url(distribution: str = "backproplab") -> str:
    """The ``Documentation`` entry of ``[project.urls]`` in pyproject.toml, as installed, ending in "/"; or "".

    The one place the documentation's address is set: the package's metadata,
    written from pyproject.toml at install time (``Project-URL: Documentation, ...``).
    """
    try:
        entries = metadata(distribution).get_all("Project-URL") or []
    except PackageNotFoundError:  # run from a source tree that was never installed
        return ""
    for entry in entries:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation" and url.strip():
            return url.strip().rstrip("/") + "/"
    return ""


#: Where the API reference is hosted, or "" while it is not: pyproject.toml declares no documentation URL yet
#: (the docs are built by CI, not published), so the HTML view shows no "?" link and plain parameter names,
#: as scikit-learn shows them for an estimator without pages. Declaring ``Documentation = "https://..."`` under
#: ``[project.urls]`` (and reinstalling) turns both on, linking to
#: ``{DOCS_URL}generated/api/backproplab.sklearn.MLPClassifier.html``.
DOCS_URL = declared_documentation_url()

#: Shared by MLPClassifier and MLPRegressor, in the order of their signatures (after MLPRegressor's ``loss``).
PARAMETERS = """\
hidden_layer_sizes : array-like of int, default=(100,)
    Units of each hidden layer: ``(100,)`` is one layer of 100, ``(64, 32)`` two.
activation : {"relu", "tanh", "logistic", "identity", "leaky_relu"}, default="relu"
    Activation of the hidden layers (``"leaky_relu"`` is backproplab's own).
solver : {"adam", "sgd", "lbfgs", "rmsprop", "adamw"}, default="adam"
    ``"adam"`` and ``"sgd"`` follow scikit-learn's update formulas; ``"lbfgs"`` minimises
    the whole data set's loss with SciPy's L-BFGS-B; ``"rmsprop"`` and ``"adamw"`` are
    backproplab's optimizers.
alpha : float, default=0.0001
    Strength of the L2 penalty ``alpha / (2 * n) * sum(||W||**2)`` on the weights (``n``:
    the batch's rows or summed sample weights); AdamW's decoupled weight decay.
batch_size : int or "auto", default="auto"
    Rows per mini-batch; ``"auto"`` is ``min(200, n_samples)``.
learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
    Schedule of the sgd rate: ``"invscaling"`` is ``learning_rate_init / (t + 1) ** power_t``
    (``t``: samples seen), ``"adaptive"`` divides it by 5 when the training stalls.
learning_rate_init : float, default=0.001
    Initial step size of sgd, adam, rmsprop and adamw.
power_t : float, default=0.5
    Exponent of ``learning_rate="invscaling"``.
max_iter : int, default=200
    Epochs at most for the stochastic solvers, iterations at most for lbfgs.
shuffle : bool, default=True
    Reshuffle the rows before every epoch (stochastic solvers).
random_state : int, RandomState instance or None, default=None
    Seeds the initial weights, the validation split, the shuffling and the dropout masks.
tol : float, default=1e-4
    An epoch improves when it beats the best loss (or validation score) by ``tol``.
verbose : bool, default=False
    Print the loss of every epoch.
warm_start : bool, default=False
    ``fit`` continues from the fitted network instead of starting anew (its shape
    parameters must not have changed).
momentum : float, default=0.9
    Momentum of sgd, in [0, 1].
nesterovs_momentum : bool, default=True
    Nesterov's momentum for sgd.
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the rows (stratified for classifiers), stop when their
    score has not improved by ``tol`` for ``n_iter_no_change`` epochs, and keep the best epoch.
validation_fraction : float, default=0.1
    Share of the rows held out by ``early_stopping``.
beta_1 : float, default=0.9
    Decay of adam's first moment, in [0, 1).
beta_2 : float, default=0.999
    Decay of adam's second moment, in [0, 1).
epsilon : float, default=1e-8
    adam's (and rmsprop's) numerical floor.
n_iter_no_change : int or inf, default=10
    Epochs without an improvement of ``tol`` before training stops (or the adaptive rate drops).
max_fun : int, default=15000
    Loss-and-gradient evaluations at most for lbfgs.
init : str, default="sklearn"
    ``"sklearn"`` draws scikit-learn's initial weights from ``random_state`` (the same numbers);
    any key of ``backproplab.core.init.INITIALIZERS`` (e.g. ``"he_normal"``) with zero biases.
dropout : float, default=0.0
    Probability of dropping a hidden unit while training (inverted dropout); stochastic solvers only.
batch_norm : bool, default=False
    Batch normalisation after every hidden ``Dense`` layer."""

#: MLPRegressor's own first parameter.
LOSS = """\
loss : {"squared_error", "poisson"}, default="squared_error"
    ``"squared_error"``: half the squared error, identity output. ``"poisson"``: half the
    Poisson deviance with an exponential output (counts, rates; ``y >= 0``)."""
