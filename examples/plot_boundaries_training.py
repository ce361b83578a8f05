"""
Decision boundaries as training proceeds
========================================

A 2-16-16-1 tanh network on two moons, and a 2-32-32-3 ReLU network with a softmax output on three
spirals, drawn after a growing number of epochs of Adam. The boundary starts almost straight (a fresh
network is nearly linear around the data) and bends to follow the classes.
"""

import matplotlib.pyplot as plt
import numpy as np

import backproplab as bp
from backproplab import data

stops = (0, 10, 50, 300)
colors = ["C0", "C1", "C2"]  # one per class: the region a class is predicted in, and its points
problems = {
    "moons": (data.moons(n_samples=200, noise=0.15, seed=0), [2, 16, 16, 1], "tanh", "sigmoid"),
    "spirals": (data.spirals(n_samples=300, noise=0.15, seed=0), [2, 32, 32, 3], "relu", "softmax"),
}
fig, axes = plt.subplots(2, len(stops), figsize=(11, 5.6), layout="constrained")
for row, (name, ((X, y), sizes, activation, output)) in zip(axes, problems.items(), strict=True):
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    net = bp.mlp(sizes, activation=activation, output=output, seed=0)
    optimizer = bp.Adam(0.01)
    g1, g2 = np.meshgrid(np.linspace(-2.8, 2.8, 121), np.linspace(-2.8, 2.8, 121))
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    done = 0
    for ax, stop in zip(row, stops, strict=True):
        if stop > done:  # the optimizer keeps its state from one call to the next
            bp.fit(net, X, y, optimizer=optimizer, epochs=stop - done, batch_size=32, progress=False)
            done = stop
        labels = net.predict(grid).reshape(g1.shape)
        n_classes = int(y.max()) + 1
        ax.contourf(g1, g2, labels, levels=np.arange(n_classes + 1) - 0.5, colors=colors[:n_classes], alpha=0.25)
        ax.scatter(X[:, 0], X[:, 1], c=[colors[label] for label in y], s=8)
        accuracy = (net.predict(X) == y).mean()
        ax.set(title=f"{name}, epoch {stop}: {accuracy:.0%}", xticks=[], yticks=[], aspect="equal")
plt.show()
