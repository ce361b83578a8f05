"""
Hidden width against epochs
===========================

How many hidden units does XOR need, and for how long? For each width, 100 seeds are trained at once
(runs axis) for 4000 epochs, in stages; after each stage we count the seeds whose network classifies
all four rows right. Wider networks learn more often and sooner; one hidden unit cannot learn XOR at
all.
"""

import matplotlib.pyplot as plt
import numpy as np

import backproplab as bp
from backproplab.data import logic_table

X, y = logic_table("xor")
widths, epochs, seeds = (1, 2, 3, 4, 8), 4000, 100
checkpoints = np.array([250, 500, 1000, 2000, 3000, 4000])

fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
for width in widths:
    nets = bp.mlp([2, width, 1], seed=0, runs=seeds)
    share, done = [], 0
    for stop in checkpoints:  # train in stages and measure the share learned at each checkpoint
        bp.fit(nets, X, y, optimizer=bp.SGD(0.1), epochs=int(stop - done), batch_size=4, progress=False)
        done = stop
        share.append((nets.predict(X) == y).all(axis=1).mean())
    ax.plot(checkpoints, 100 * np.array(share), marker="o", label=f"2-{width}-1")
    print(f"2-{width}-1: learned by {share[-1]:.0%} of {seeds} seeds after {epochs} epochs")
ax.set(xlabel="epochs", ylabel="seeds that learned XOR (%)", title="XOR by hidden width (100 seeds each)",
       ylim=(-2, 102))
ax.grid(alpha=0.3)
ax.legend()
plt.show()
