"""
A thousand seeds of XOR
=======================

The report trained XOR once. How typical was that run? With a *runs* axis, one ``fit`` trains 1000
networks from seeds 0..999 at once (run ``r`` is exactly ``mlp(..., seed=r)``), on the same batches.
"""

import matplotlib.pyplot as plt
import numpy as np

import backproplab as bp
from backproplab.data import logic_table

X, y = logic_table("xor")
nets = bp.mlp([2, 8, 1], seed=0, runs=1000)
history = bp.fit(nets, X, y, optimizer=bp.SGD(0.1), epochs=2000, batch_size=4, progress=False)

loss = history.loss  # (epochs, runs)
learned = (nets.predict(X) == y).all(axis=1)  # (runs,): all four rows on the right side of 0.5
print(f"XOR learned by {learned.mean():.1%} of 1000 seeds in 2000 epochs")

# %%
# The loss of every run, as a band (median, 5-95 % and 25-75 %), and the distribution of final losses:
# most seeds escape the plateau, some are still on it after 2000 epochs.
epochs = np.arange(1, loss.shape[0] + 1)
q = np.percentile(loss, [5, 25, 50, 75, 95], axis=1)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
left.fill_between(epochs, q[0], q[4], alpha=0.2, color="C0", label="5-95 %")
left.fill_between(epochs, q[1], q[3], alpha=0.4, color="C0", label="25-75 %")
left.plot(epochs, q[2], color="C0", label="median")
left.plot(epochs, loss[:, 0], color="C3", lw=1, label="seed 0")
left.set(xlabel="epoch", ylabel="training loss", title="1000 seeds of XOR (2-8-1)", ylim=(0, None))
left.legend()
bins = np.linspace(loss[-1].min(), loss[-1].max(), 50)
right.hist(loss[-1][learned], bins=bins, color="C2", label="learned")
right.hist(loss[-1][~learned], bins=bins, color="C3", alpha=0.8, label="not learned")
right.set(xlabel="final loss", ylabel="seeds", title="Final loss after 2000 epochs")
right.legend()
plt.show()
