"""
Dropout and batch normalisation
===============================

A wide network on few noisy points overfits: its training loss keeps falling while its validation loss
turns back up. Inverted dropout (units dropped at random in training, rescaled so that evaluation needs
no change) and batch normalisation (each unit normalised over the batch, then scaled and shifted by
trained parameters) change that picture. Each curve is the median of 5 seeds trained at once.
"""

import matplotlib.pyplot as plt
import numpy as np

import backproplab as bp
from backproplab import data

ds = data.load("moons", n_samples=120, noise=0.3, val=0.4, test=0.0, seed=1)
variants = {"plain": {}, "dropout 0.3": {"dropout": 0.3}, "batch norm": {"batch_norm": True}}
fig, axes = plt.subplots(1, len(variants), figsize=(11, 3.6), layout="constrained", sharey=True)
for ax, (name, options) in zip(axes, variants.items(), strict=True):
    nets = bp.mlp([2, 64, 64, 1], activation="relu", seed=0, runs=5, **options)
    history = bp.fit(nets, ds.X_train, ds.y_train, optimizer=bp.Adam(0.01), epochs=200, batch_size=16,
                     validation=(ds.X_val, ds.y_val), progress=False)
    train, val = np.median(history.loss, axis=1), np.median(np.asarray(history["val_loss"]), axis=1)
    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, train, label="training")
    ax.plot(epochs, val, label="validation")
    ax.set(title=name, xlabel="epoch", yscale="log")
    print(f"{name}: final validation loss {val[-1]:.3f} (best {val.min():.3f} at epoch {val.argmin() + 1})")
axes[0].set_ylabel("loss (median of 5 seeds)")
axes[0].legend()
plt.show()
