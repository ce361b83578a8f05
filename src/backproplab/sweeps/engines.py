"""Where a sweep's tasks run: in this process, or on Dask (local worker processes or an existing cluster).

An engine only schedules: ``map(fn, tasks)`` yields ``(task, fn(task))`` pairs in the
order they finish, and the driver puts them back in grid order. Numbers never
depend on the engine. Dask (``dask.distributed``) is imported here only, when
asked for; it reschedules the task of a worker that dies, so a lost worker costs
time, not results; a task whose workers keep dying is reported as such
(``EngineError``), not as a bug.

A scheduler address is checked (``tcp://`` or ``tls://``, a host and a port)
and connected to under one deadline, ``timeout``: whatever listens there (a
silent socket, a web server, a service that greets with a banner) ends in one
line saying that no Dask scheduler answered, never a hang.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .._checks import is_int, is_number
from ..errors import EngineError
from .spec import refuse, short


class InProcess:
    """Run every task here, one after the other (the default: no extra dependency)."""

    name = "in-process"

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        for task in tasks:
            yield task, fn(task)

    def close(self) -> None:
        pass


class DaskEngine:
    """Run tasks on Dask: a ``LocalCluster`` of ``workers`` processes (a thread each), or the cluster at ``scheduler``.

    Parameters
    ----------
    workers : int, optional
        Start a local cluster of this many worker processes, bound to 127.0.0.1.
    scheduler : str, optional
        Address of a running scheduler (``tcp://HOST:PORT``).
    timeout : float
        Seconds to wait for the scheduler and for its first worker.

    Raises
    ------
    EngineError
        If ``distributed`` is not installed, or the scheduler does not answer (or has no worker) in time.
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None, timeout: float = 5.0) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise refuse("`workers` and `scheduler` need Dask: pip install 'backproplab[sweep]'", EngineError) \
                from None
        self.cluster = None
        if scheduler is not None:
            self.name = f"Dask scheduler {scheduler}"
            self.client = _connect(scheduler, timeout)
            try:
                self.client.wait_for_workers(1, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                self.client.close()
                raise refuse(f"the Dask scheduler at {scheduler} has no worker after {timeout:g} s "
                             f"({type(exc).__name__}); start one with: dask worker {scheduler}", EngineError) from None
        else:
            self.name = f"local Dask cluster of {workers} worker processes"
            # One thread per worker: NumPy work does not share a process well; the processes give the parallelism.
            # Everything binds 127.0.0.1; the scheduler's HTTP server takes any free port (not 8787, often taken).
            # Ctrl-C on a terminal signals the whole process group: the workers must leave it to the driver,
            # which stops the cluster. An ignored SIGINT survives exec, and Python then installs no handler.
            with _sigint_ignored(), dask.config.set(_worker_config()):
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                            host="127.0.0.1", dashboard_address=":0", silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        self.client.run(_warm_up)  # each worker imports the package now, not inside its first task

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        if not tasks:
            return
        # In the order given (the driver puts the costly tasks first). Client.map keeps it here too, but
        # does not promise to; a priority per task does.
        futures = [self.client.submit(fn, task, pure=False, priority=len(tasks) - i) for i, task in enumerate(tasks)]
        owner = {future.key: task for future, task in zip(futures, tasks, strict=True)}
        for future in as_completed(futures):
            try:
                result = future.result()
            except KilledWorker:
                raise EngineError("a task's worker died each time it ran it (killed from outside, or out of memory?); "
                                  "the cells finished before are saved") from None
            future.release()  # the driver holds what it needs; let the cluster forget it
            yield owner[future.key], result

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while child processes are started (so they inherit that), then restore the handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker_config() -> dict[str, Any]:
    """Dask settings for the local cluster's workers: two defaults that slow NumPy work and buy a sweep nothing.

    - ``MALLOC_TRIM_THRESHOLD_``, which Dask sets so long-lived workers hand freed memory back
      to the system, is left out of the workers' environment. Setting any malloc threshold also
      switches off glibc's adaptive mmap threshold, so every array above 128 KiB (one hidden
      layer's activations over a few hundred stacked runs) is mapped and unmapped each time it is
      made: measured here, a cell of 300 XOR runs of width 16 took 0.88 s instead of 0.45 s.
      A sweep's memory is small and steady. The thread limits (one BLAS thread a worker) stay.
    - The statistical profiler, which samples the running task's stack every 10 ms for the
      dashboard, is off: it took the GIL from the training thread, about 4 % of a cell here.
    """
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    return {"distributed.nanny.pre-spawn-environ": environ, "distributed.worker.profile.enabled": False}


def _warm_up() -> None:
    from ..experiments import build  # noqa: F401  (the training every task runs; importing sweep_run here would be a cycle)


def check_address(scheduler: Any) -> str:
    """``scheduler`` if it is a Dask address this engine can use: ``tcp://HOST:PORT`` or ``tls://HOST:PORT``."""
    if not isinstance(scheduler, str):
        raise refuse(f"`scheduler` must be an address like tcp://HOST:PORT, got {short(scheduler)}", EngineError)
    scheme, sep, rest = scheduler.partition("://")
    host, colon, port = rest.rpartition(":") if sep else ("", "", "")
    if scheme not in ("tcp", "tls") or not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise refuse(f"`scheduler` must be an address like tcp://HOST:PORT (tcp:// or tls://, a port from 1 to "
                     f"65535), got {short(scheduler)}", EngineError)
    return scheduler


def _connect(scheduler: str, timeout: float) -> Any:
    """A Dask ``Client`` of the scheduler at ``scheduler``, connected within ``timeout`` seconds or ``EngineError``.

    Dask's own timeout covers the TCP connection, not its handshake: a listener that
    never answers hangs it, and one that sends a banner is read as a frame length
    (an allocation of exabytes). So the connection runs in a thread that is given up
    after the deadline, and whatever it raised is reported as "no scheduler answered".
    """
    from distributed import Client

    host, _, port = scheduler.partition("://")[2].rpartition(":")
    try:  # a closed port or an unknown host answers at once: say so without starting Dask's machinery
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise refuse(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                     f"({exc.strerror or type(exc).__name__}); is it running?", EngineError) from None
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = Client(scheduler, timeout=timeout)
        except BaseException as exc:  # anything at all means no scheduler answered
            box["error"] = exc

    quiet = logging.getLogger("distributed")
    level, quiet.level = quiet.level, logging.CRITICAL  # a stranger's bytes make Dask log tracebacks
    try:
        thread = threading.Thread(target=connect, name="dask-connect", daemon=True)
        thread.start()
        thread.join(timeout)
    finally:
        quiet.setLevel(level)
    if "client" not in box:
        what = type(box["error"]).__name__ if "error" in box else f"nothing within {timeout:g} s"
        raise refuse(f"no Dask scheduler answered at {scheduler} ({what}): something else listens there, or it "
                     "is not a Dask scheduler; check the address and --timeout", EngineError)
    return box["client"]


def make_engine(workers: int | None = None, scheduler: str | None = None,
                timeout: float = 5.0) -> InProcess | DaskEngine:
    """The engine asked for: in-process (neither given), a local Dask cluster, or an existing one."""
    if workers is not None and scheduler is not None:
        raise refuse("give `workers` N (a local cluster) or `scheduler` ADDR (an existing one), not both", EngineError)
    if workers is not None and (not is_int(workers) or workers < 1):
        raise refuse(f"`workers` must be an integer >= 1, got {short(workers)}", EngineError)
    if not (is_number(timeout) and 0 < timeout < 86400 * 365):
        raise refuse(f"`timeout` must be a number of seconds > 0, got {short(timeout)}", EngineError)
    if scheduler is not None:
        check_address(scheduler)
    if scheduler is None and workers is None:
        return InProcess()
    return DaskEngine(workers, scheduler, timeout)
