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

Posts must be JSON (a cross-site form cannot send it without a CORS preflight,
which this server never grants), and the ``Host`` header must name the loopback
address when the server listens there (no DNS rebinding). Training pauses when
the last page disconnects and keeps its state, so closing and reopening the
page loses nothing. Needs the ``web`` extra: Starlette and uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
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


def _json_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _read_json(request: Request) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ValueError("requests must be JSON (Content-Type: application/json)")
    try:
        return json.loads(await request.body())
    except json.JSONDecodeError as exc:
        raise ValueError(f"the request is not valid JSON ({exc.msg})") from None
    except RecursionError:  # Python's parser recurses once per nesting level
        raise ValueError("the request's JSON is nested too deeply; settings are one flat object") from None


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
                        yield await asyncio.wait_for(queue.get(), timeout=1.0)
                    except TimeoutError:
                        if await request.is_disconnected():
                            break
                        yield ": keep-alive\n\n"
            finally:
                pg.listeners.discard(queue)
                if not pg.listeners:
                    pg.pause()  # nobody watches: keep the state, stop spending the CPU

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def settings(request: Request) -> Response:
        try:
            new = parse_settings(await _read_json(request))
            session = await asyncio.to_thread(Session, new)
        except ValueError as exc:
            return _json_error(str(exc))
        async with pg.lock:
            pg.pause()
            pg.session, pg.error, pg.chunk = session, None, 1
            snap = pg.snapshot()
        pg.publish("snapshot", snap)
        return JSONResponse(snap)

    async def control(request: Request) -> Response:
        try:
            body = await _read_json(request)
        except ValueError as exc:
            return _json_error(str(exc))
        action = body.get("action") if isinstance(body, dict) else None
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
            return _json_error(f"action must be one of play, pause, step, reset; got {action!r}")
        # In the stream too, after any frame already sent: the page's buttons follow the last word in order.
        pg.publish("status", pg.status())
        return JSONResponse({**pg.status(), "epoch": pg.session.epoch})

    async def check(request: Request) -> Response:
        async with pg.lock:
            result = await asyncio.to_thread(pg.session.check_gradients)
        return JSONResponse(result)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        pg.closing = True  # ends open event streams, so shutdown does not wait on them
        pg.pause()

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


def serve(host: str = "127.0.0.1", port: int = 8765, *, open_browser: bool = True) -> None:
    """Run the playground until interrupted (Ctrl-C)."""
    import uvicorn

    if open_browser:
        import threading
        import webbrowser

        url = f"http://{'localhost' if host in LOOPBACK else host}:{port}/"
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(create_app(host), host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
