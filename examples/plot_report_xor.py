"""
The report's experiments: loss curves and decision boundaries
=============================================================

The report trains three networks with sigmoid units, binary cross-entropy, He initialisation and plain
gradient descent (learning rate 0.1, the whole truth table as one batch): a 2-4-1 network on AND and
OR for 1000 epochs, a 2-8-1 network on XOR for 2000. Here they are with seed 0, from the configs the
package ships (``backproplab reproduce`` draws the same two figures).
"""

import matplotlib.pyplot as plt
import numpy as np

import backproplab as bp
from backproplab.data import logic_table

experiments = {"AND": ([4], 1000), "OR": ([4], 1000), "XOR": ([8], 2000)}
nets, histories = {}, {}
for name, (hidden, epochs) in experiments.items():
    X, y = logic_table(name.lower())
    net = bp.mlp([2, *hidden, 1], activation="sigmoid", output="sigmoid", init="he_normal", seed=0)
    histories[name] = bp.fit(net, X, y, optimizer=bp.SGD(0.1), epochs=epochs, batch_size=4, progress=False)
    nets[name] = net
    print(f"{name}: final loss {histories[name].loss[-1]:.4f}, p = {np.round(net.predict_proba(X).ravel(), 3)}")

# %%
# The training loss: AND and OR are linearly separable and fall quickly; XOR needs its hidden layer to
# bend the boundary and sits on a plateau first.
fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
for name, history in histories.items():
    ax.plot(np.arange(1, len(history.loss) + 1), history.loss, label=name)
ax.set(xlabel="epoch", ylabel="training loss (binary cross-entropy)", ylim=(0, None),
       title="Training loss, seed 0")
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %%
# The decision boundaries: each network's predicted probability over the input square, with the
# p = 0.5 contour in black and the four training rows.
grid = np.linspace(-0.25, 1.25, 151)
g1, g2 = np.meshgrid(grid, grid)
points = np.column_stack([g1.ravel(), g2.ravel()])
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained")
for ax, (name, net) in zip(axes, nets.items(), strict=True):
    X, y = logic_table(name.lower())
    p = net.predict_proba(points)[:, 0].reshape(g1.shape)
    image = ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 21), cmap="RdBu_r")
    ax.contour(g1, g2, p, levels=[0.5], colors="black", linewidths=2)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="gray_r", edgecolors="black", s=90, vmin=0, vmax=1, zorder=3)
    ax.set(title=name, xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
fig.colorbar(image, ax=axes, label="predicted probability of 1")
plt.show()
