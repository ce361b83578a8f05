"""The playground server: a local Starlette app that trains live and streams frames to the page.

Routes (nothing else is served):

- ``GET /`` the page; ``GET /static/{name}`` its script and stylesheet (a fixed list);
- ``GET /api/state`` a snapshot: settings, data, losses so far, the current frame;
- ``GET /api/events`` Server-Sent Events: a ``snapshot`` on connect, then a ``frame``
  after every advance and a ``status`` after every control (a reopened page
  therefore resumes where training stands);
- ``POST /api/settings`` rebuild the session from new settings (400 with a message if bad);
- ``POST /api/control`` ``{"action": "play" | "pause" | "step" | "reset"}``;
- ``POST /api/gradcheck`` the verdict of ``gradcheck`` on the current network.

Posts must be JSON (``Content-Type: application/json``, else 415: a cross-site
form cannot send it without a CORS preflight, which this server never grants) of
at most ``MAX_BODY`` bytes (else 413, read no further), and the ``Host`` header
must name the loopback address when the server listens there (no DNS
rebinding). A bad field is a 400 naming it; a client that goes away mid-request
is dropped without a word in the log. Training pauses when
the last page disconnects and keeps its state, so closing and reopening the
page loses nothing. Needs the ``web`` extra: Starlette and uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ..errors import DivergenceError
from .assets import read_static
from .session import Session, choices, parse_settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: Target compute time of one frame's training, so the page updates about 15 times a second.
FRAME_SECONDS = 0.04
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
SERVED = ("common.js", "playground.js", "style.css")
#: The largest request body read: settings are a few hundred bytes.
MAX_BODY = 64 * 1024


class Playground:
    """The server's state: one session, whether it runs, and the open event streams."""

    def __init__(self) -> None:
        self.session = Session()
        self.running = False
        self.error: str | None = None
        self.listeners: set[asyncio.Queue] = set()
        self.lock = asyncio.Lock()
        self.task: asyncio.Task | None = None
        self.chunk = 1  # epochs per frame, adapted to FRAME_SECONDS
        self.closing = False

    # --- frames to listeners ----------------------------------------------------------
    def publish(self, event: str, data: dict[str, Any]) -> None:
        message = f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
        for queue in self.listeners:
            if queue.qsize() > 20:  # a slow page skips frames rather than hold them all
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    def status(self) -> dict[str, Any]:
        return {"running": self.running, "error": self.error, "done": self.session.done}

    def snapshot(self) -> dict[str, Any]:
        return {**self.session.snapshot(), **self.status(), "choices": choices()}

    async def advance(self, epochs: int) -> None:
        """Train ``epochs`` epochs off the event loop and publish the frame."""
        session = self.session
        start = len(session.losses)
        try:
            await asyncio.to_thread(session.advance, epochs)
        except DivergenceError as exc:
            self.running = False
            self.error = str(exc)
        if session.done:
            self.running = False
        frame = session.frame()
        self.publish("frame", {**frame, "new_losses": session.losses[start:], **self.status()})

    async def run(self) -> None:
        """The training loop behind 'play': advance, publish, yield, until paused."""
        while self.running and not self.closing:
            async with self.lock:
                if not self.running:
                    break
                t0 = time.perf_counter()
                await self.advance(self.chunk)
                elapsed = time.perf_counter() - t0
                self.chunk = max(1, min(500, round(self.chunk * FRAME_SECONDS / max(elapsed, 1e-4))))
            await asyncio.sleep(0.02)  # let requests (pause, reset) in between frames

    def play(self) -> None:
        if self.running or self.session.done:
            return
        self.running, self.error = True, None
        self.task = asyncio.create_task(self.run())

    def pause(self) -> None:
        self.running = False

    def close(self) -> None:
        """Stop training and end every event stream now (a ``None`` wakes each), so shutdown waits on nothing."""
        self.closing = True
        self.pause()
        for queue in self.listeners:
            queue.put_nowait(None)


def _json_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _read_json(request: Request) -> Any:
    """The request's JSON body, or Starlette's ``HTTPException``: 415 if not JSON, 413 past ``MAX_BODY``, else 400.

    The body is read in chunks and dropped past ``MAX_BODY``, so a 200 MB post costs
    64 KiB of memory, not 200 MB.
    """
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise HTTPException(415, "requests must be JSON (Content-Type: application/json)")
    too_big = HTTPException(413, f"the request is larger than {MAX_BODY // 1024} KiB; settings are a few hundred bytes")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise too_big
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise HTTPException(400, f"the request is not valid JSON ({exc.msg})") from None
    except RecursionError:  # Python's parser recurses once per nesting level
        raise HTTPException(400, "the request's JSON is nested too deeply; settings are one flat object") from None
    except ValueError as exc:  # an integer of more than 4300 digits, bytes that are not UTF-8
        raise HTTPException(400, f"the request is not usable JSON ({str(exc)[:80]})") from None


def _refused(exc: Exception) -> Response:
    """The answer to a refused request; nobody reads it if the client went away."""
    if isinstance(exc, ClientDisconnect):
        return Response(status_code=400)
    if isinstance(exc, HTTPException):
        return _json_error(exc.detail, exc.status_code)
    return _json_error(str(exc))


def create_app(host: str = "127.0.0.1") -> Starlette:
    """The playground's Starlette application (``host``: the address it will listen on)."""
    pg = Playground()

    async def index(request: Request) -> Response:
        return Response(read_static("playground.html"), media_type="text/html; charset=utf-8")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in SERVED:
            return PlainTextResponse("not found", status_code=404)
        media = MEDIA_TYPES["." + name.rsplit(".", 1)[-1]]
        return Response(read_static(name), media_type=f"{media}; charset=utf-8", headers={"Cache-Control": "no-cache"})

    async def state(request: Request) -> Response:
        async with pg.lock:
            return JSONResponse(pg.snapshot())

    async def events(request: Request) -> Response:
        queue: asyncio.Queue = asyncio.Queue()
        async with pg.lock:
            first = f"event: snapshot\ndata: {json.dumps(pg.snapshot(), separators=(',', ':'))}\n\n"
            pg.listeners.add(queue)

        async def stream() -> AsyncIterator[str]:
            try:
                yield first
                while not pg.closing:
                    try:
                        message = await asyncio.wait_for(queue.get(), timeout=1.0)
                    except TimeoutError:
                        if await request.is_disconnected():
                            break
                        yield ": keep-alive\n\n"
                        continue
                    if message is None:  # the server is stopping
                        break
                    yield message
            finally:
                pg.listeners.discard(queue)
                if not pg.listeners:
                    pg.pause()  # nobody watches: keep the state, stop spending the CPU

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def settings(request: Request) -> Response:
        try:
            new = parse_settings(await _read_json(request))
            session = await asyncio.to_thread(Session, new)
        except (HTTPException, ValueError, ClientDisconnect) as exc:
            return _refused(exc)
        async with pg.lock:
            pg.pause()
            pg.session, pg.error, pg.chunk = session, None, 1
            snap = pg.snapshot()
        pg.publish("snapshot", snap)
        return JSONResponse(snap)

    async def control(request: Request) -> Response:
        try:
            body = await _read_json(request)
        except (HTTPException, ClientDisconnect) as exc:
            return _refused(exc)
        action = body.get("action") if isinstance(body, dict) else None
        action = action if isinstance(action, str) else None
        if action == "play":
            pg.play()
        elif action == "pause":
            pg.pause()
        elif action == "step":
            async with pg.lock:
                pg.pause()
                await pg.advance(1)
        elif action == "reset":
            async with pg.lock:
                pg.pause()
                pg.session, pg.error, pg.chunk = Session(pg.session.settings), None, 1
                pg.publish("snapshot", pg.snapshot())
        else:
            return _json_error(f"action must be one of play, pause, step, reset; got {str(action)[:40]!r}")
        # In the stream too, after any frame already sent: the page's buttons follow the last word in order.
        pg.publish("status", pg.status())
        return JSONResponse({**pg.status(), "epoch": pg.session.epoch})

    async def check(request: Request) -> Response:
        try:  # a JSON post like the others, so that a cross-site form cannot start the work
            await _read_json(request)
        except (HTTPException, ClientDisconnect) as exc:
            return _refused(exc)
        async with pg.lock:
            result = await asyncio.to_thread(pg.session.check_gradients)
        return JSONResponse(result)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        pg.close()  # ends open event streams, so shutdown does not wait on them

    hosts = ["*"] if host not in LOOPBACK else [*LOOPBACK, "[::1]"]
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/static/{name}", static),
            Route("/api/state", state),
            Route("/api/events", events),
            Route("/api/settings", settings, methods=["POST"]),
            Route("/api/control", control, methods=["POST"]),
            Route("/api/gradcheck", check, methods=["POST"]),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
        lifespan=lifespan,
    )
    app.state.playground = pg
    return app


def serve(host: str = "127.0.0.1", port: int = 8765, *, open_browser: bool = True) -> int | None:
    """Run the playground until Ctrl-C or SIGTERM; return that signal's number (None if it stopped otherwise)."""
    import uvicorn

    if open_browser:
        import threading
        import webbrowser

        url = f"http://{'localhost' if host in LOOPBACK else host}:{port}/"
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    app = create_app(host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
    server = _server(config, app.state.playground)
    server.run()
    return server.stopped_by


def _server(config: Any, pg: Playground) -> Any:
    """uvicorn's server, stopped by a signal the playground's way: event streams end first, the signal is kept.

    uvicorn re-raises the signal after its shutdown, which under ``asyncio.run`` ended
    in exit code 0, and cancelled the open event streams with a traceback each; here
    the streams end before the shutdown and the command turns the signal into its
    exit code (130 for Ctrl-C) and one line.
    """
    import uvicorn

    class Server(uvicorn.Server):
        stopped_by: int | None = None

        def handle_exit(self, sig: int, frame: Any) -> None:
            self.stopped_by = self.stopped_by or sig
            pg.close()
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True  # a second Ctrl-C: stop without waiting
            self.should_exit = True

    return Server(config)
