"""``python -m backproplab`` runs the command line."""

from .cli import entrypoint

entrypoint()
