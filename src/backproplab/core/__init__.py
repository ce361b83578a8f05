"""The core: layers, losses, networks, optimizers, initialisation, metrics and gradient checking — NumPy only.

Knows nothing of training loops, files beyond its own archive format, plots or screens.
"""
