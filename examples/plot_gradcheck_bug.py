"""
gradcheck catching an injected bug
==================================

A gradient check is only worth something if it can fail. Here the sigmoid's derivative is planted
wrong, ``a * (1 + a)`` instead of ``a * (1 - a)``, in a copy of the XOR network. Backpropagation still
runs and training would still move the weights, but ``gradcheck`` compares every gradient entry with a
central difference and the relative errors jump from about 1e-10 to about 1e-1.
"""

import matplotlib.pyplot as plt
import numpy as np

import backproplab as bp
from backproplab.data import logic_table


class WrongSigmoid(bp.Sigmoid):
    """The planted bug: the derivative's sign flipped inside."""

    def backward(self, dout):
        a = self._a
        return dout * a * (1.0 + a)


X, y = logic_table("xor")
good = bp.mlp([2, 8, 1], seed=0)
bad = bp.Network([good.layers[0], WrongSigmoid(), good.layers[2]], output="sigmoid")
results = {"correct backward": bp.gradcheck(good, X, y), "sigmoid' planted wrong": bp.gradcheck(bad, X, y)}
for name, result in results.items():
    print(f"{name}:\n{result}\n")

# %%
# Relative error per parameter array, on a log scale: the output layer's gradients (``2.W``, ``2.b``)
# do not pass through the hidden sigmoid and stay right; the first layer's are wrong.
fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
names = list(results["correct backward"].errors)
width = 0.38
for i, (label, result) in enumerate(results.items()):
    errors = [max(result.errors[n], 1e-16) for n in names]
    ax.bar(np.arange(len(names)) + (i - 0.5) * width, errors, width, label=label)
ax.axhline(results["correct backward"].rtol, color="black", ls="--", lw=1, label="rtol (atol 1e-9 aside)")
ax.set(xticks=np.arange(len(names)), xticklabels=names, yscale="log", ylabel="max relative error",
       title="gradcheck on the XOR network")
ax.legend()
plt.show()
