"""Progress bars of ``fit``, ``sweep`` and ``reproduce``: tqdm on a terminal, a widget in a Jupyter kernel.

A bar is shown where someone watches: on stderr when it is a terminal (not in
logs, CI or pipes), where it disappears when done, as before; and in a Jupyter
kernel, where stderr is never a terminal, as ``tqdm.auto``'s notebook widget
that stays in the cell's output (``leave=True``) with its final count.
``tqdm.auto`` is imported only when a bar is shown, so ``import backproplab``
imports neither tqdm's notebook part nor IPython.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["in_kernel", "progress_bar"]


def in_kernel() -> bool:
    """Whether this process is a Jupyter kernel (the test ``tqdm.auto`` makes to pick its notebook bar).

    Examples
    --------
    >>> from backproplab.train.progress import in_kernel
    >>> in_kernel()  # a doctest runs in no kernel
    False
    """
    ipython = sys.modules.get("IPython")  # never imported here: a kernel has imported it already
    try:
        shell = ipython.get_ipython() if ipython is not None else None
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # an IPython without get_ipython or config: not a kernel we know
        return False


def progress_bar(total: int, *, initial: int = 0, desc: str, unit: str, enabled: bool,
                 tty_only: bool = True) -> Any:
    """A tqdm bar of ``total`` steps, or ``None`` where nothing should be shown.

    Parameters
    ----------
    total, initial : int
        Steps in all, and already done (a resumed run starts its bar there).
    desc, unit : str
        tqdm's label and unit.
    enabled : bool
        False: no bar anywhere (``progress=False``).
    tty_only : bool, default True
        Outside a kernel, show the bar only when stderr is a terminal; False shows it
        on any stderr (the CLI's own ``--quiet`` decides there).
    """
    kernel = in_kernel()
    if not enabled or not (kernel or not tty_only or sys.stderr.isatty()):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr, leave=kernel)
