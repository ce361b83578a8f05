"""
MNIST-1D with a confusion matrix
================================

MNIST-1D (Greydanus 2020) draws the ten digits as 40-point one-dimensional signals, shifted, scaled,
sheared and noised, generated locally by the ``mnist1d`` package: small enough to train in seconds,
hard enough that a linear model fails. A 40-128-128-10 ReLU network with dropout, Adam and a cosine
learning-rate schedule (a smaller version of the shipped ``mnist1d`` config), then the confusion matrix
on the official test set.
"""

import matplotlib.pyplot as plt
import numpy as np

import backproplab as bp
from backproplab import data
from backproplab.core import metrics

ds = data.load("mnist1d", val=0.1, seed=0)
net = bp.mlp([ds.n_features, 128, 128, 10], activation="relu", output="softmax", dropout=0.2, seed=0)
history = bp.fit(net, ds.X_train, ds.y_train, optimizer=bp.Adam(0.003), epochs=60, batch_size=100,
                 callbacks=[bp.CosineDecay(60)], validation=(ds.X_val, ds.y_val), progress=False)
predicted = net.predict(ds.X_test)
print(f"test accuracy {metrics.accuracy(ds.y_test, predicted):.3f} on {len(ds.y_test)} rows")

# %%
# Rows are the true digits, columns the predicted ones; the diagonal holds the right answers.
cm = metrics.confusion_matrix(ds.y_test, predicted, n_classes=10)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained",
                                  gridspec_kw={"width_ratios": [1, 1.2]})
left.plot(history.loss, label="training")
left.plot(history["val_loss"], label="validation")
left.set(xlabel="epoch", ylabel="cross-entropy", title="Learning curves")
left.legend()
image = right.imshow(cm, cmap="Blues")
for i, j in np.ndindex(cm.shape):
    shade = "white" if cm[i, j] > cm.max() / 2 else "black"
    right.text(j, i, cm[i, j], ha="center", va="center", fontsize=7, color=shade)
right.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true", title="Test confusion matrix")
fig.colorbar(image, ax=right, label="rows")
plt.show()
