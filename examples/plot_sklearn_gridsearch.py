"""
A scikit-learn Pipeline with GridSearchCV
=========================================

``backproplab.sklearn.MLPClassifier`` is a scikit-learn estimator: it goes into a ``Pipeline`` after a
``StandardScaler`` and ``GridSearchCV`` tunes it by cross-validation like any other. Here: hidden width
and L2 penalty ``alpha`` on the Iris data (scikit-learn's bundled copy).
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from backproplab.sklearn import MLPClassifier

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=100, learning_rate_init=0.01, random_state=0))
widths, alphas = [2, 4, 16], [1e-4, 1.0, 3.0]
search = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(w,) for w in widths],
                             "mlpclassifier__alpha": alphas}, cv=3)
# Every fit has the same budget of 100 epochs; most stop there before the loss settles within ``tol``,
# and scikit-learn says so with a ConvergenceWarning each time. They are counted here, not printed one by one.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", ConvergenceWarning)
    search.fit(X_train, y_train)
stopped = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
print(f"{stopped} of {3 * len(widths) * len(alphas) + 1} fits stopped at max_iter=100 before converging")
print("best:", search.best_params_, f"cross-validated accuracy {search.best_score_:.3f}")
print(f"test accuracy of the refitted best pipeline: {search.score(X_test, y_test):.3f}")

# %%
# Mean cross-validated accuracy of every cell of the grid.
scores = search.cv_results_["mean_test_score"].reshape(len(alphas), len(widths))  # alpha varies slowest
fig, ax = plt.subplots(figsize=(5.6, 3.8), layout="constrained")
image = ax.imshow(scores, cmap="Greens", vmin=0.8, vmax=1.05)  # light to mid greens: black text reads on all
for i, j in np.ndindex(scores.shape):
    ax.text(j, i, f"{scores[i, j]:.3f}", ha="center", va="center")
ax.set(xticks=range(len(widths)), xticklabels=widths, yticks=range(len(alphas)), yticklabels=alphas,
       xlabel="hidden units", ylabel="alpha (L2)", title="GridSearchCV over a Pipeline, Iris")
fig.colorbar(image, ax=ax, label="mean CV accuracy")
plt.show()
