"""The Starlette application: HTTP routes, the WebSocket endpoint and the process lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import time
import tomllib
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from moderation.crisis import parse_crisis_config
from moderation.ratelimit import Rate
from rooms.catalog import Catalog, parse_catalog
from rooms.errors import ChatError, ErrorCode
from server import wire
from server.brokers import BrokerUnavailable, open_broker
from server.commands import HANDLERS
from server.direct import DirectWriter, forget_handshake
from server.hub import Hub
from server.joining import evict, leave_all, room_state_frame
from server.limits import PRESENCE_KINDS, AddressCap, Members, frame_cost, peek_ref
from server.logs import where
from server.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from server.metrics import Metrics
from server.origins import SiteNames
from server.services import Services
from server.session import CLOSE_SLOW_READER, Session
from server.settings import Settings
from server.tokens import TokenService

__all__ = ["create_app", "load_catalog"]

log = logging.getLogger("peer_support.app")


def _static_dir() -> Path:
    """The web client: shipped as the package `peer_support_static` (static/ in the repo)."""
    try:
        import peer_support_static  # type: ignore[import-not-found]

        return Path(peer_support_static.__file__).resolve().parent
    except ImportError:  # running from a checkout that was not installed
        return Path(__file__).resolve().parent.parent / "static"


STATIC_DIR = _static_dir()

CLOSE_RESTARTING = 1012
CLOSE_TRY_LATER = 1013
CLOSE_NO_HELLO = 4408
CLOSE_FLOODING = 4029
WS_PATH = "/ws"

# No inline script or style, nothing from other hosts; the page talks only to its own server.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds the CSP and friends to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Guarded by its own bearer token, and scraped by a Prometheus that names a replica by its
# internal host (app1:8000): no Host check, which guards browsers (DNS rebinding), is needed.
_HOST_CHECK_EXEMPT = frozenset({"/metrics"})


async def _refuse_host(scope: Scope, receive: Receive, send: Send) -> None:
    """421 for HTTP; for a WebSocket a close before accept, which the server answers with 403."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await PlainTextResponse("unknown host", status_code=421)(scope, receive, send)


class ChatApp(Starlette):
    """Starlette, with the chat socket at WS_PATH served before the middleware and the router.

    Every open WebSocket would otherwise keep the coroutine frames of the whole HTTP stack
    alive (about 5 KiB a connection, bench/ idle scenario), and nothing in that stack applies
    to the socket. Other WebSocket paths go through the router, which refuses them.

    Every HTTP request and WebSocket handshake is first checked for a Host of the server's own
    (`SiteNames`): this is the one place all of them pass."""

    socket: ASGIApp | None = None
    names: SiteNames | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "lifespan"
            and self.names is not None
            and scope["path"] not in _HOST_CHECK_EXEMPT
            and not self.names.host_allowed(scope)
        ):
            await _refuse_host(scope, receive, send)
            return
        if scope["type"] == "websocket" and scope["path"] == WS_PATH and self.socket is not None:
            await self.socket(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def load_catalog(settings: Settings) -> Catalog:
    """The operator's ROOMS_FILE, or the starter catalogue shipped in `rooms/`."""
    if settings.rooms_file is not None:
        raw = settings.rooms_file.read_text(encoding="utf-8")
    else:
        raw = resources.files("rooms").joinpath("starter_rooms.toml").read_text(encoding="utf-8")
    return parse_catalog(tomllib.loads(raw))


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app for one process; the broker is chosen by `settings.redis_url`."""
    settings = settings or Settings.from_env()
    catalog = load_catalog(settings)
    broker = open_broker(settings.redis_url, settings.redis_prefix, settings.redis_state_url)
    tokens = TokenService(
        settings.secret_keys, settings.member_token_days * 86400, settings.identity_key
    )
    svc = Services(settings, catalog, tokens, broker, Hub(broker, "", settings.presence_ttl_s))
    svc.hub.process = svc.process
    svc.hub.evict = lambda session, room: evict(svc, session, room)
    svc.hub.state_frame = lambda local: room_state_frame(svc, local)
    if settings.crisis_file is not None:
        svc.crisis = parse_crisis_config(tomllib.loads(settings.crisis_file.read_text("utf-8")))
    svc.metrics = Metrics(
        lambda: {
            "connections": float(svc.connections),
            "rooms": float(len(svc.hub.rooms)),
            "reconnects": float(getattr(broker, "resubscriptions", 0)),
        }
    )
    svc.hub.metrics = svc.metrics
    frame_rate = Rate(settings.frame_burst, settings.frame_per_second)
    send_rate = Rate(settings.send_burst, settings.send_per_second)
    join_rate = Rate(settings.join_burst, settings.join_per_second)
    report_rate = Rate(settings.report_burst, settings.report_per_minute / 60)
    members = Members(settings.max_sockets_per_member, send_rate, join_rate, report_rate)
    addresses = AddressCap(settings.max_connections_per_address)
    if settings.redis_url is not None:
        from server.brokers.redis import RedisBroker

        if isinstance(broker, RedisBroker):
            broker.ping_interval_s = settings.broker_ping_s

    async def heartbeat_forever() -> None:
        while True:
            await asyncio.sleep(settings.heartbeat_s)
            try:
                await svc.hub.heartbeat()
            except BrokerUnavailable:
                log.warning("presence heartbeat failed: broker unavailable")
            except Exception as exc:
                log.error("presence heartbeat failed: %s", type(exc).__name__)

    async def measure_loop_lag() -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.5)
            svc.metrics.loop_lag.set(max(0.0, loop.time() - before - 0.5))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await broker.start(svc.hub.on_event)
        beat = asyncio.create_task(heartbeat_forever(), name="presence-heartbeat")
        lag = asyncio.create_task(measure_loop_lag(), name="loop-lag")
        log.info("serving %d rooms with the %s broker", len(catalog), type(broker).__name__)
        try:
            yield
        finally:
            beat.cancel()
            lag.cancel()
            for session in list(svc.hub.all_sessions()):
                session.close(CLOSE_RESTARTING, "server restarting")
            await broker.close()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html")

    names = SiteNames(settings.public_origin, settings.allowed_origins)

    async def metrics(request: Request) -> Response:
        # Counts of crisis alerts, reports and mutes, polled next to /api/rooms, tell an outsider
        # what happens in which room: unreadable unless the operator set a token.
        token = settings.metrics_token
        if token is None:
            return PlainTextResponse("not found", status_code=404)
        if not hmac.compare_digest(
            request.headers.get("authorization", "").encode(), f"Bearer {token}".encode()
        ):
            return PlainTextResponse("unauthorized", status_code=401)
        return Response(svc.metrics.render(), media_type=METRICS_CONTENT_TYPE)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> Response:
        if await broker.ping():
            return PlainTextResponse("ready")
        return PlainTextResponse("broker unreachable", status_code=503)

    async def api_rooms(request: Request) -> Response:
        q = request.query_params.get("q", "")[:200]
        category = request.query_params.get("category") or None
        rooms = catalog.search(q, category)
        now = time.time()
        try:
            live = await broker.directory([r.id for r in rooms], int(now * 1000))
        except BrokerUnavailable:
            return JSONResponse({"error": "unavailable"}, status_code=503)
        now_dt = dt.datetime.fromtimestamp(now, dt.UTC)
        return JSONResponse(
            [
                {
                    "id": r.id,
                    "name": r.name,
                    "category": r.category,
                    "description": r.description,
                    "members": live[r.id].members,
                    "locked": live[r.id].locked,
                    "requires_facilitator": r.requires_facilitator,
                    "facilitator_present": live[r.id].facilitators > 0,
                    "one_at_a_time": r.one_at_a_time,
                    "next_session": (ns.isoformat() if (ns := r.next_session(now_dt)) else None),
                    "in_session": r.in_session(now_dt),
                }
                for r in rooms
            ]
        )

    async def ws_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        ws = WebSocket(scope, receive, send)
        if not names.origin_allowed(scope):
            await ws.close(code=1008)  # before accept: the handshake is refused with HTTP 403
            return
        # With uvicorn, `send` is bound to the connection's protocol object, which holds the
        # transport: direct writes, and an abort for a peer that stopped reading (ASGI has
        # none). With any other server the endpoint uses plain ASGI and the server's timeouts.
        protocol = getattr(send, "__self__", None)
        abort = getattr(getattr(protocol, "transport", None), "abort", None)
        # The address is a dict key while its connections last; never stored or logged.
        address = ws.client.host if ws.client is not None else None
        if not addresses.admit(address):
            await ws.accept()  # a close code tells a browser more than a refused handshake
            await ws.close(CLOSE_TRY_LATER, "too many connections from one address")
            return
        try:
            await ws.accept()
            forget_handshake(protocol, scope)
            svc.connections += 1
            session = Session(
                ws,
                settings.outbox_max_frames,
                frame_rate,
                send_rate,
                time.time(),
                abort=abort if callable(abort) else None,
                direct=DirectWriter.of(protocol),
                close_grace_s=settings.close_grace_s,
            )
            try:
                await _serve(ws, session)
            finally:
                svc.standing.forget(session)
                try:
                    await leave_all(svc, session)
                except BrokerUnavailable:
                    log.warning("leave after disconnect failed: broker unavailable")
                if session.member is not None:
                    members.detach(session.member, time.time())
                await session.stop()
                svc.connections -= 1
                if session.close_code == CLOSE_SLOW_READER:
                    svc.metrics.outbox_drops.inc()
        finally:
            addresses.release(address)

    async def _serve(ws: WebSocket, session: Session) -> None:
        # One deadline for hello from the moment of connection; frames before it do not extend it.
        hello_by: float | None = asyncio.get_running_loop().time() + settings.hello_timeout_s
        while session.close_code is None:
            if hello_by is None:  # no deadline once hello is done: one timer less per frame
                message = await ws.receive()
            else:
                try:
                    async with asyncio.timeout_at(hello_by):
                        message = await ws.receive()
                except TimeoutError:
                    session.close(CLOSE_NO_HELLO, "no hello in time")
                    return
            if message["type"] == "websocket.disconnect":
                return
            await _handle(session, message)
            if session.member is not None:
                hello_by = None

    def _check_member_cap(frame: dict[str, Any]) -> None:
        token = frame.get("token")
        if not isinstance(token, str):
            return  # a new member has no sockets yet
        try:
            member = svc.tokens.read_member(token)
        except ChatError:
            return  # the hello handler answers a bad token
        if members.full(member):
            raise ChatError(ErrorCode.LIMIT_REACHED, "too many connections for one member")

    async def _handle(session: Session, message: Message) -> None:
        ref: str | None = None
        try:
            text = message.get("text")
            size = len(text) if text is not None else len(message.get("bytes") or b"")
            # The frame bucket is taken before any parsing, and a long frame costs more: a
            # flood of malformed or oversized frames is refused (and closed) like any other.
            frames = session.frames
            wait = frames.take(time.time(), frame_cost(size), clears=False)
            if wait > 0:
                if frames.strikes >= settings.flood_strikes:
                    session.close(CLOSE_FLOODING, "too many frames")
                    return
                # Not parsed: the ref is found by a bounded search, or null.
                ref = peek_ref(text) if text is not None else None
                raise ChatError(ErrorCode.RATE_LIMITED, "too many frames", retry_after=wait)
            try:
                if text is None:
                    raise ChatError(ErrorCode.BAD_REQUEST, "frames must be text (JSON)")
                if size > settings.max_frame_bytes:
                    raise ChatError(ErrorCode.TOO_LARGE, "frame is too large")
                frame, ref = wire.parse(text)  # bounded work; gives the ref for the answer
            except ChatError:
                # A malformed frame is a strike like a refused one: no client sends them in a row.
                if frames.settle(False) >= settings.flood_strikes:
                    session.close(CLOSE_FLOODING, "too many malformed frames")
                    return
                if text is not None:
                    ref = peek_ref(text)  # not parsed: found by a bounded search, or null
                raise
            frames.settle(True)
            kind = frame["type"]
            handler = HANDLERS.get(kind)
            if handler is None:
                raise ChatError(ErrorCode.UNKNOWN_TYPE, "unknown frame type")
            if session.member is None:
                if kind != "hello":
                    raise ChatError(ErrorCode.HELLO_REQUIRED, "say hello first")
                _check_member_cap(frame)
            elif kind in PRESENCE_KINDS and session.joins is not None:
                # Each of these puts a frame into the whole room (presence or hands): the
                # member's one join budget bounds them together (server.limits). A facilitator
                # lowering someone else's hand is running the room, not churning it.
                claim = session.facilitator
                if not (
                    kind == "lower_hand"
                    and frame.get("participant") is not None
                    and claim is not None
                    and time.time() < claim.expires_at
                ):
                    wait = session.joins.take(time.time())
                    if wait > 0:
                        what = "joining" if kind in ("join", "leave") else "changing"
                        raise ChatError(
                            ErrorCode.RATE_LIMITED, f"{what} too fast", retry_after=wait
                        )
            elif kind == "report" and (share := members.share_of(session.member)) is not None:
                # Every report lands in each facilitator's queue: a member-wide budget.
                wait = share.reports.take(time.time())
                if wait > 0:
                    raise ChatError(ErrorCode.RATE_LIMITED, "reporting too fast", retry_after=wait)
            await handler(svc, session, frame, ref)
            if kind == "hello" and session.member is not None:
                share = members.attach(session.member, time.time())
                session.share_member(share.sends, share.joins)
        except ChatError as err:
            svc.metrics.errors.labels(err.code.value).inc()
            ref = err.extra.pop("ref", ref)
            if "retry_after" in err.extra:
                err.extra["retry_after"] = round(float(err.extra["retry_after"]), 2)
            error = {"type": "error", "code": err.code.value, "message": err.message, "ref": ref}
            session.deliver(wire.encode({**error, **err.extra}))
        except BrokerUnavailable:
            session.deliver(
                wire.encode(
                    {
                        "type": "error",
                        "code": ErrorCode.UNAVAILABLE.value,
                        "message": "service temporarily unavailable, try again",
                        "ref": ref,
                    }
                )
            )
        except WebSocketDisconnect:
            raise
        except Exception as exc:
            # Never the exception's text: it may quote the frame.
            log.error("frame handling failed: %s at %s", type(exc).__name__, where(exc))
            session.deliver(
                wire.encode(
                    {
                        "type": "error",
                        "code": ErrorCode.INTERNAL.value,
                        "message": "something went wrong; the message was not sent",
                        "ref": ref,
                    }
                )
            )

    routes = [
        Route("/", index),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/api/rooms", api_rooms),
        Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]
    app = ChatApp(routes=routes, lifespan=lifespan, middleware=[Middleware(SecurityHeaders)])
    app.socket = ws_endpoint
    app.names = names
    app.state.services = svc
    return app
