"""
Learning-rate schedules
=======================

A schedule sets the optimizer's learning rate before every epoch from the rate it started with:
``StepDecay`` divides it in steps, ``ExponentialDecay`` shrinks it a little each epoch, ``CosineDecay``
follows half a cosine down to zero. ``lr_at`` is a pure function of the epoch, so a schedule can be
drawn without training (left); on the right, what each does to SGD on the digits data set.
"""

import matplotlib.pyplot as plt
import numpy as np

import backproplab as bp
from backproplab import data

epochs = 60
schedules = {
    "constant": None,
    "StepDecay(20, 0.3)": bp.StepDecay(20, 0.3),
    "ExponentialDecay(0.95)": bp.ExponentialDecay(0.95),
    "CosineDecay(60)": bp.CosineDecay(epochs),
}
ds = data.load("digits", val=0.2, test=0.2, seed=0)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for name, schedule in schedules.items():
    lr = [0.3 if schedule is None else schedule.lr_at(e, 0.3) for e in range(epochs)]
    left.plot(range(epochs), lr, label=name)
    net = bp.mlp([64, 32, 10], activation="relu", output="softmax", seed=0)
    history = bp.fit(net, ds.X_train, ds.y_train, optimizer=bp.SGD(0.3), epochs=epochs, batch_size=64,
                     callbacks=[] if schedule is None else [schedule], validation=(ds.X_val, ds.y_val),
                     progress=False)
    right.plot(np.arange(1, epochs + 1), history["val_loss"], label=name)
    print(f"{name}: final validation loss {history['val_loss'][-1]:.3f}")
left.set(xlabel="epoch", ylabel="learning rate", title="The schedules (base rate 0.3)")
right.set(xlabel="epoch", ylabel="validation loss", yscale="log", title="digits, 64-32-10, SGD")
left.legend()
plt.show()
