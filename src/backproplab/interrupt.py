"""Stop training cleanly on Ctrl-C (SIGINT) or SIGTERM.

Inside ``deferred_signals()`` the first SIGINT or SIGTERM does not interrupt
whatever NumPy is doing: it only raises a flag. ``fit`` looks at the flag after
every optimizer step, writes a checkpoint and raises ``TrainingInterrupted``;
the command line turns that into a message saying where the checkpoint is and
how to resume, and the conventional exit code ``128 + signal`` (130 for
SIGINT, 143 for SIGTERM).

A second signal is obeyed at once: the handlers raise ``KeyboardInterrupt``
(SIGINT) or ``SystemExit(143)`` (SIGTERM) wherever the program is. Every file
is written atomically (``backproplab.files.io.atomic_write``), so stopping even in
the middle of a write leaves the last complete checkpoint as it was.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

#: The signals handled, by number, with the exit code the command line returns for each.
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Signals:
    """The flag ``fit`` polls: ``received`` is the first signal's number, or ``None``."""

    def __init__(self) -> None:
        self.received: int | None = None

    @property
    def name(self) -> str:
        """Name of the received signal (``"SIGINT"``), or ``""``."""
        return signal.Signals(self.received).name if self.received else ""

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
            return
        # Second signal: stop now. Atomic writes in progress clean up after themselves.
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(EXIT_CODES[signal.Signals(signum)])


@contextlib.contextmanager
def deferred_signals(enabled: bool = True) -> Iterator[Signals]:
    """Turn the first SIGINT/SIGTERM into a flag for the duration of the block.

    The previous handlers are restored on exit. Signal handlers can only be
    installed from the main thread; elsewhere (or with ``enabled=False``) the
    flag never rises and signals behave as usual.
    """
    flags = Signals()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield flags
        return
    previous = {signum: signal.signal(signum, flags._handle) for signum in EXIT_CODES}
    try:
        yield flags
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def exit_code(signum: int) -> int:
    """The conventional exit status after ``signum``: ``128 + signum`` (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + int(signum)
