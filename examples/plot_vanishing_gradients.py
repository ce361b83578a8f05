"""
Vanishing gradients in a deep sigmoid network
=============================================

Backpropagation multiplies each layer's delta by the activation's slope on the way down. The sigmoid's
slope is at most 1/4, so in a deep sigmoid network the gradient shrinks layer after layer and the first
layers barely learn; ReLU's slope is 1 where a unit is active and He initialisation keeps the signal's
size, so its gradients stay comparable across depth. Gradient norms of each layer's weights, from
``loss_and_gradients`` at the initial weights (50 seeds on the runs axis, median and 10-90 %).
"""

import matplotlib.pyplot as plt
import numpy as np

import backproplab as bp
from backproplab import data

X, y = data.moons(n_samples=256, noise=0.1, seed=0)
depth = 10
fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
for i, activation in enumerate(("sigmoid", "tanh", "relu")):
    nets = bp.mlp([2, *[32] * depth, 1], activation=activation, seed=0, runs=50)
    _, grads = bp.loss_and_gradients(nets, X, y)
    names = [n for n in grads if n.endswith(".W")]  # one weight matrix per Dense layer, input side first
    norms = np.array([np.sqrt((grads[n] ** 2).sum(axis=(1, 2))) for n in names])  # (layers, runs)
    lo, median, hi = np.percentile(norms, [10, 50, 90], axis=1)
    layers = np.arange(1, len(names) + 1)
    ax.fill_between(layers, lo, hi, color=f"C{i}", alpha=0.25)
    ax.plot(layers, median, marker="o", color=f"C{i}", label=activation)
    print(f"{activation}: first layer / last layer gradient norm = {median[0] / median[-1]:.2e}")
ax.set(xlabel="Dense layer (1 = next to the input)", ylabel="||dL/dW|| at initialisation", yscale="log",
       title=f"Gradient flow in a {depth}-hidden-layer network (He init.)")
ax.legend()
plt.show()
