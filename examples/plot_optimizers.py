"""
Optimizers compared on one problem
==================================

The same 2-32-32-3 network (same initial weights, seeds 0 .. 9 on the runs axis) trained on three
spirals by each optimizer, with a learning rate that suits it. Adaptive methods (RMSprop, Adam, AdamW)
scale each parameter's step by its gradient history and get far faster than plain gradient descent;
momentum sits between.
"""

import matplotlib.pyplot as plt
import numpy as np

import backproplab as bp
from backproplab import data

X, y = data.spirals(n_samples=300, noise=0.15, seed=0)
X = (X - X.mean(axis=0)) / X.std(axis=0)
optimizers = {
    "SGD (lr 0.1)": bp.SGD(0.1),
    "SGD + momentum 0.9 (lr 0.05)": bp.SGD(0.05, momentum=0.9),
    "RMSprop (lr 0.005)": bp.RMSprop(0.005),
    "Adam (lr 0.01)": bp.Adam(0.01),
    "AdamW (lr 0.01, weight decay 0.01)": bp.AdamW(0.01, weight_decay=0.01),
}
fig, ax = plt.subplots(figsize=(6.8, 4.0), layout="constrained")
for name, optimizer in optimizers.items():
    nets = bp.mlp([2, 32, 32, 3], activation="relu", output="softmax", seed=0, runs=10)
    history = bp.fit(nets, X, y, optimizer=optimizer, epochs=150, batch_size=32, progress=False)
    median = np.median(history.loss, axis=1)
    ax.plot(np.arange(1, len(median) + 1), median, label=name)
    print(f"{name}: median final loss {median[-1]:.3f}")
ax.set(xlabel="epoch", ylabel="training loss (median of 10 seeds)", yscale="log",
       title="Three spirals, 2-32-32-3 ReLU network")
ax.legend(fontsize=8)
plt.show()
