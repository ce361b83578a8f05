"""User sweeps: a grid of config overrides x a range of seeds, run as stacked tasks in-process or on Dask.

``spec`` (cells, hashes, costs) -> ``run`` (the driver) -> ``engines`` (in-process, Dask) -> ``store``
(task results on disk) -> ``table`` (one row per cell) -> ``summary`` (tables and figures).
"""
