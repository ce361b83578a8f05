"""
Why XOR seeds fail: gradients, Hessians and the path on the loss landscape
==========================================================================

About half the 2-2-1 XOR networks of the report's setting (sigmoid, binary cross-entropy, SGD lr 0.1) have
not learned XOR after 4000 epochs, and one in ten 2-8-1 networks after 2000. Are they stuck in a local
minimum, at a saddle, or still moving? For each failed seed, ``backproplab.landscape`` measures the
gradient norm and the exact Hessian's extreme eigenvalues at its last epoch (one Hessian call for all the
failed seeds, on the runs axis) and classifies the point; the criteria are printed with the table.

This page uses **200 seeds** per network so that it builds in seconds; the full study (1000 seeds, the
issue's setting) is one command: ``python -m backproplab.landscape.study --out DIR``.
"""

import matplotlib.pyplot as plt
import numpy as np

import backproplab as bp
from backproplab.data import logic_table
from backproplab.landscape import Trajectory, study
from backproplab.landscape.figures import path_figure
from backproplab.train.recording import Recorder

results = [study.failures(hidden, epochs, seeds=200) for hidden, epochs in study.SETTINGS]
print(study.table_text(results))
print()
print(study.compare(results[0]))

# %%
# Each dot is one failed seed: its gradient norm against its Hessian's smallest eigenvalue. Right of the
# dashed line the seed is still moving; left of it, below the dotted line, a saddle.
plt.figure(study.figure(results))  # the library returns a Figure; pyplot shows it here

# %%
# One failed 2-2-1 seed up close. A ``Recorder`` keeps its weights every 20 epochs; the path is projected on
# the plane of its two principal components, centred on its last point. The right panel shows the loss the
# run really had beside the plane's loss at the projected points: where they agree, the contour tells the
# truth about the path.
X, y = logic_table("xor")
seed = int(results[0].failed[0])
recorder = Recorder(X, y, max_frames=200)
net = bp.mlp([2, 2, 1], seed=seed)
bp.fit(net, X, y, optimizer=bp.SGD(0.1), epochs=4000, batch_size=4, callbacks=[recorder], progress=False)
path = Trajectory.from_recording(recorder.recording)
surface, coords, explained, path_loss = path.pca_plane(steps=41)
plt.figure(path_figure(surface, coords, explained, path_loss, path.epochs, title=f"2-2-1 XOR, seed {seed} (failed)"))

# %%
# How far apart the two losses are along the path, as numbers:
gap = np.abs(path_loss.true - path_loss.on_plane)
print(f"the plane holds {explained.sum():.1%} of the path's variance; "
      f"largest gap between the true and the plane's loss: {gap.max():.2e}")
plt.show()
