"""The Starlette application: HTTP routes, the WebSocket endpoint and the process lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import secrets
import time
import tomllib
from collections.abc import AsyncIterator, Callable
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

from moderation.crisis import CrisisConfig, parse_crisis_config
from moderation.ratelimit import Rate
from rooms.catalog import Catalog, parse_catalog
from server import live_rooms
from server.admin import admin_routes
from server.brokers import BrokerUnavailable, open_broker
from server.commands import HANDLERS
from server.crisis_api import crisis_routes
from server.endpoint import ChatEndpoint, Rates
from server.hub import Hub
from server.joining import end_standing, evict
from server.limits import AddressCap, Members
from server.logs import where
from server.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from server.metrics import Metrics
from server.origins import SiteNames
from server.services import Services
from server.settings import Settings
from server.tokens import TokenService
from server.webhook import Webhook

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
STANDING_POLL_S = 0.5  # how often revocations are read: they hold everywhere within 1 s
_LIVE = ("connections", "rooms", "reconnects")
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

    def __init__(self, socket: ASGIApp, names: SiteNames, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.socket = socket
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "lifespan"
            and scope["path"] not in _HOST_CHECK_EXEMPT
            and not self.names.host_allowed(scope)
        ):
            await _refuse_host(scope, receive, send)
            return
        if scope["type"] == "websocket" and scope["path"] == WS_PATH:
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
    """The ASGI app for one process; the broker is chosen by `settings.redis_url`. Everything is
    built here and given to what uses it; nothing is patched in afterwards."""
    settings = settings or Settings.from_env()
    seeds = load_catalog(settings)
    # Served until the broker's definitions are read (at start, and again after every change).
    catalog = Catalog(list(seeds))
    broker = open_broker(
        settings.redis_url, settings.redis_prefix, settings.redis_state_url, settings.broker_ping_s
    )
    tokens = TokenService(
        settings.secret_keys, settings.member_token_days * 86400, settings.identity_key
    )
    crisis = CrisisConfig()
    if settings.crisis_file is not None:
        crisis = parse_crisis_config(tomllib.loads(settings.crisis_file.read_text("utf-8")))
    process = secrets.token_hex(6)
    # Read at scrape time (and once when registered, before the services below exist).
    live: dict[str, Callable[[], float]] = dict.fromkeys(_LIVE, lambda: 0.0)
    metrics = Metrics(lambda: {name: read() for name, read in live.items()})
    hub = Hub(broker, catalog, process, settings.presence_ttl_s, metrics, crisis)
    webhook = None
    if settings.alert_webhook_url is not None and settings.webhook_secret is not None:
        webhook = Webhook(
            settings.alert_webhook_url, settings.webhook_secret, settings.webhook_retry_s
        )
    svc = Services(
        settings, catalog, tokens, broker, hub, crisis, metrics, process, webhook=webhook
    )
    live.update(
        connections=lambda: float(svc.connections),
        rooms=lambda: float(len(hub.rooms)),
        reconnects=lambda: float(getattr(broker, "resubscriptions", 0)),
    )
    report_rate = Rate(settings.report_burst, settings.report_per_minute / 60)
    send_rate = Rate(settings.send_burst, settings.send_per_second)
    join_rate = Rate(settings.join_burst, settings.join_per_second)
    names = SiteNames(settings.public_origin, settings.allowed_origins)
    endpoint = ChatEndpoint(
        svc,
        HANDLERS,
        names,
        Rates(Rate(settings.frame_burst, settings.frame_per_second), send_rate),
        Members(settings.max_sockets_per_member, send_rate, join_rate, report_rate),
        AddressCap(settings.max_connections_per_address),
    )

    async def heartbeat_forever() -> None:
        while True:
            await asyncio.sleep(settings.heartbeat_s)
            try:
                await hub.heartbeat()
            except BrokerUnavailable:
                log.warning("presence heartbeat failed: broker unavailable")
            except Exception as exc:
                log.error("presence heartbeat failed: %s", type(exc).__name__)

    async def standing_forever() -> None:
        # Revocations hold on every process within a second: each reads the revoked ids
        # twice a second and ends the standing of its sockets whose token names one. The
        # facilitators with a socket open here are kept online for coordinators meanwhile.
        beats = 0
        while True:
            await asyncio.sleep(STANDING_POLL_S)
            try:
                now_ms = int(time.time() * 1000)
                svc.standing.revoked = await broker.revoked(now_ms)
                watched = svc.standing.sessions()
                for session in watched:
                    claim = session.facilitator
                    if claim is not None and claim.id in svc.standing.revoked:
                        await end_standing(svc, session, "revoked")
                beats += 1
                if beats * STANDING_POLL_S >= settings.heartbeat_s:
                    beats = 0
                    ids = {s.facilitator.id for s in watched if s.facilitator is not None}
                    ttl_ms = int(settings.presence_ttl_s * 1000)
                    await broker.staff_online(sorted(ids), process, now_ms, ttl_ms)
            except BrokerUnavailable:
                log.warning("reading revocations failed: broker unavailable")
            except Exception as exc:
                log.error("reading revocations failed: %s at %s", type(exc).__name__, where(exc))

    async def rooms_forever() -> None:
        # The rooms file seeds once; the broker's definitions are the catalogue after that.
        seeded = False
        while True:
            try:
                if not seeded:
                    await live_rooms.seed(svc, seeds)
                    seeded = True
                await live_rooms.refresh(svc)
            except BrokerUnavailable:
                log.warning("reading room definitions failed: broker unavailable")
            except Exception as exc:
                log.error(
                    "reading room definitions failed: %s at %s", type(exc).__name__, where(exc)
                )
            await asyncio.sleep(live_rooms.ROOMS_POLL_S)

    async def evict_forever() -> None:
        # Removals the hub found in delivered state changes: out of the room, on this process.
        while True:
            session, room = await hub.evictions.get()
            try:
                await evict(svc, session, room)
            except BrokerUnavailable:
                log.warning("eviction incomplete: broker unavailable")
            except Exception as exc:
                log.error("eviction failed: %s at %s", type(exc).__name__, where(exc))

    async def measure_loop_lag() -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.5)
            metrics.loop_lag.set(max(0.0, loop.time() - before - 0.5))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await broker.start(hub.on_event)
        with contextlib.suppress(BrokerUnavailable):  # else rooms_forever keeps trying
            await live_rooms.seed(svc, seeds)
            await live_rooms.refresh(svc)
        tasks = [
            asyncio.create_task(heartbeat_forever(), name="presence-heartbeat"),
            asyncio.create_task(evict_forever(), name="evictions"),
            asyncio.create_task(standing_forever(), name="standing"),
            asyncio.create_task(rooms_forever(), name="rooms"),
            *([asyncio.create_task(webhook.run(), name="webhook")] if webhook else []),
            asyncio.create_task(measure_loop_lag(), name="loop-lag"),
        ]
        log.info("serving %d rooms with the %s broker", len(catalog), type(broker).__name__)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for session in list(hub.all_sessions()):
                session.close(CLOSE_RESTARTING, "server restarting")
            await broker.close()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html")

    async def metrics_route(request: Request) -> Response:
        # Counts of crisis alerts, reports and mutes, polled next to /api/rooms, tell an outsider
        # what happens in which room: unreadable unless the operator set a token.
        token = settings.metrics_token
        if token is None:
            return PlainTextResponse("not found", status_code=404)
        if not hmac.compare_digest(
            request.headers.get("authorization", "").encode(), f"Bearer {token}".encode()
        ):
            return PlainTextResponse("unauthorized", status_code=401)
        return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> Response:
        if await broker.ping():
            return PlainTextResponse("ready")
        return PlainTextResponse("broker unreachable", status_code=503)

    async def api_rooms(request: Request) -> Response:
        q = request.query_params.get("q", "")[:200]
        category = request.query_params.get("category") or None
        language = request.query_params.get("language", "")[:35] or None
        rooms = catalog.search(q, category, language)
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
                    "language": r.language,
                    "capacity": r.capacity,
                    # Seats taken (facilitators take none, dropped members' are held) vs capacity.
                    "full": live[r.id].occupancy.full(r.capacity),
                }
                for r in rooms
            ]
        )

    routes = [
        Route("/", index),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_route),
        Route("/api/rooms", api_rooms),
        *admin_routes(svc),
        *crisis_routes(crisis),
        Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]
    app = ChatApp(
        endpoint,
        names,
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders)],
    )
    app.state.services = svc
    return app
