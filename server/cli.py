"""The `peer-support` command: `serve`, `check`, `facilitator-token` and `new-key`."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.settings import Settings
    from server.tokens import TokenService

__all__ = ["main", "proxy_options", "websocket_options"]


def websocket_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's WebSocket options, as `serve` and the tests run them: our own protocol class
    (server/ws_protocol.py: the same behaviour in about 5 KiB less a connection), frames up to
    MAX_FRAME_BYTES, a ping every 20 s answered within 20 s."""
    from server.ws_protocol import ChatSocketProtocol

    return {
        "ws": ChatSocketProtocol,
        "ws_max_size": settings.max_frame_bytes,
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
        # Per-message deflate keeps two zlib contexts per connection (~70 KiB measured with
        # tracemalloc) to save a few bytes on short chat frames: off unless asked for.
        "ws_per_message_deflate": settings.ws_deflate,
    }


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's forwarding options: X-Forwarded-For names the client only when it comes from
    a TRUSTED_PROXIES peer. uvicorn's own default believes any loopback peer, which lets one
    local client (or a proxy that passes the header through) pose as many addresses."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}


def _exposure(settings: Settings, host: str) -> list[str] | None:
    """Print what `serve` on `host` refuses (None) or the warnings it only reports."""
    from server.settings import exposure_problems

    errors, warnings = exposure_problems(settings, host)
    for error in errors:
        print(f"peer-support: configuration error: {error}", file=sys.stderr)
    return None if errors else warnings


def _apply_flags(args: argparse.Namespace) -> None:
    """`serve --some-setting V` is the same as SOME_SETTING=V in the environment."""
    from server.setting_docs import SETTINGS

    for doc in SETTINGS:
        value = getattr(args, doc.name.lower(), None)
        if value is not None:
            os.environ[doc.name] = value


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    _apply_flags(args)
    from server.app import create_app
    from server.logs import configure
    from server.settings import ConfigError, Settings

    try:
        settings = Settings.from_env()
        warnings = _exposure(settings, args.host)
        if warnings is None:
            return 2
        refused = _workers_refused(args, settings)
        if refused is not None:
            print(f"peer-support: configuration error: {refused}", file=sys.stderr)
            return 2
        app = create_app(settings) if args.workers == 1 else None
    except (ConfigError, ValueError) as exc:
        print(f"peer-support: configuration error: {exc}", file=sys.stderr)
        return 2
    log_format = os.environ.get("LOG_FORMAT", "text")
    log_level = os.environ.get("LOG_LEVEL", "INFO").upper()
    if log_format not in ("text", "json") or log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        print("peer-support: configuration error: LOG_FORMAT or LOG_LEVEL", file=sys.stderr)
        return 2
    configure(log_level, log_format)
    if app is None:  # --workers N: this process only starts and watches them
        from server.workers import supervise

        return supervise(args.host, args.port, args.workers)
    for warning in warnings:
        logging.getLogger("peer_support.cli").warning("%s (accepted on loopback only)", warning)
    # What exists at start (modules, the catalogue, the app) is never garbage: keep the cyclic
    # collector away from it, and let it run less often (bench/: 50-150 ms pauses when many
    # members joined at once with the defaults).
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        **websocket_options(settings),
        access_log=False,  # access lines carry client addresses
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=10,
        **proxy_options(settings),
    )
    server = uvicorn.Server(config)
    sockets = None
    if args.reuse_port:  # one of `--workers N`: a socket of its own on the shared port
        from server.workers import follow_parent, reuse_port_socket

        follow_parent()
        try:
            sockets = [reuse_port_socket(args.host, args.port)]
        except OSError as exc:
            print(
                f"peer-support: cannot listen on port {args.port}: {exc.strerror}", file=sys.stderr
            )
            return 1
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run does
        server.run(sockets=sockets)
    return 0 if server.started else 3  # 3: did not start (uvicorn.run's STARTUP_FAILURE)


def _workers_refused(args: argparse.Namespace, settings: Settings) -> str | None:
    """Why `--workers N` cannot run with these settings (None when it can)."""
    if args.workers < 1:
        return "--workers must be at least 1"
    if args.workers > 1 and settings.redis_url is None:
        return (
            "--workers needs REDIS_URL: the in-memory broker cannot share rooms between processes"
        )
    return None


def _token_service(args: argparse.Namespace, max_hours: int) -> tuple[TokenService, str] | None:
    """The token service of the configured keys and the checked `--name`; None (after saying
    why on stderr) when the settings, the name or `--hours` are not valid."""
    from server.settings import ConfigError, Settings
    from server.tokens import TokenService

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"peer-support: configuration error: {exc}", file=sys.stderr)
        return None
    name = args.name.strip()
    if not name or len(name) > 40:
        print("peer-support: --name must be 1 to 40 characters", file=sys.stderr)
        return None
    if not 0 < args.hours <= max_hours:
        print(f"peer-support: --hours must be more than 0 and at most {max_hours}", file=sys.stderr)
        return None
    tokens = TokenService(
        settings.secret_keys, settings.member_token_days * 86400, settings.identity_key
    )
    return tokens, name


def _facilitator_token(args: argparse.Namespace) -> int:
    made = _token_service(args, 24 * 90)
    if made is None:
        return 2
    tokens, name = made
    token = tokens.issue_facilitator(name, args.room or None, args.hours)
    print(f"--id {tokens.read_facilitator(token).id}", file=sys.stderr)
    print(token)
    return 0


def _identity_source(settings: Settings) -> str:
    """Which key participant ids and handles come from, and what a rotation must keep."""
    if settings.identity_key is not None:
        return "keyed by IDENTITY_KEY"
    count = len(settings.secret_keys)
    if count == 1:
        return "keyed by the SECRET_KEY (set IDENTITY_KEY to it before rotating it out)"
    return (
        f"keyed by the oldest SECRET_KEY (key {count} of {count}): "
        "set IDENTITY_KEY to it before dropping it"
    )


def _coordinator_token(args: argparse.Namespace) -> int:
    made = _token_service(args, 24 * 30)
    if made is None:
        return 2
    tokens, name = made
    print(tokens.issue_coordinator(name, args.hours))
    return 0


def _check(args: argparse.Namespace) -> int:
    """Print the effective configuration (secrets masked) and check that Redis answers."""
    from server.app import load_catalog
    from server.setting_docs import SETTINGS, masked_value
    from server.settings import ConfigError, Settings

    try:
        settings = Settings.from_env()
        catalog = load_catalog(settings)
        if settings.crisis_file is not None:
            import tomllib

            from moderation.crisis import parse_crisis_config

            parse_crisis_config(tomllib.loads(settings.crisis_file.read_text("utf-8")))
    except (ConfigError, ValueError) as exc:
        print(f"peer-support: configuration error: {exc}", file=sys.stderr)
        return 2
    warnings = _exposure(settings, args.host)
    if warnings is None:
        return 2
    width = max(len(d.name) for d in SETTINGS)
    for doc in SETTINGS:
        print(f"{doc.name:<{width}}  {masked_value(doc, os.environ.get(doc.name))}")
    print(f"{'bind':<{width}}  {_bind_summary(settings, args.host)}")
    for warning in warnings:
        print(f"{'warning':<{width}}  {warning} (accepted on loopback only)")
    print(f"{'rooms':<{width}}  {len(catalog)} in the rooms file (it seeds the catalogue)")
    print(f"{'identity':<{width}}  {_identity_source(settings)}")
    if settings.redis_url is None:
        print(f"{'broker':<{width}}  in-memory (one process only)")
        return 0
    import redis

    stores = [("broker", settings.redis_url)]
    if settings.redis_state_url is not None:
        stores.append(("state store", settings.redis_state_url))
    for label, url in stores:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
        except (redis.RedisError, OSError) as exc:
            print(f"{label:<{width}}  redis UNREACHABLE ({type(exc).__name__})")
            return 1
        print(f"{label:<{width}}  redis reachable")
    return 0


def _bind_summary(settings: Settings, host: str) -> str:
    from server.settings import is_loopback_host

    where = "loopback" if is_loopback_host(host) else "reachable from the network"
    names = settings.public_origin or "loopback names only (no PUBLIC_ORIGIN)"
    proxies = ", ".join(settings.trusted_proxies) or "none (X-Forwarded-For ignored)"
    metrics = "bearer token" if settings.metrics_token else "off (404)"
    return f"{host} ({where}); serves {names}; trusted proxies: {proxies}; /metrics: {metrics}"


def _new_key(args: argparse.Namespace) -> int:
    import secrets

    print(secrets.token_urlsafe(48))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = argparse.ArgumentParser(prog="peer-support", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the chat server")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes sharing the port, one per core (needs REDIS_URL; default 1)",
    )
    # Set by `--workers N` on the processes it starts: bind with SO_REUSEPORT.
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    from server.setting_docs import SETTINGS, flag_name

    for doc in SETTINGS:
        serve.add_argument(flag_name(doc.name), dest=doc.name.lower(), help=doc.meaning)
    serve.set_defaults(func=_serve)
    check = sub.add_parser("check", help="print the effective configuration, check Redis")
    check.add_argument(
        "--host", default=os.environ.get("HOST", "127.0.0.1"), help="the address serve binds"
    )
    check.set_defaults(func=_check)
    new_key = sub.add_parser("new-key", help="print a strong random SECRET_KEY")
    new_key.set_defaults(func=_new_key)
    token = sub.add_parser("facilitator-token", help="print a signed facilitator token")
    token.add_argument("--name", required=True, help="shown to members as the handle")
    token.add_argument("--room", action="append", help="a room they may moderate (repeatable)")
    token.add_argument("--hours", type=float, default=12.0, help="lifetime (default 12)")
    token.set_defaults(func=_facilitator_token)
    coordinator = sub.add_parser("coordinator-token", help="print a signed coordinator token")
    coordinator.add_argument("--name", required=True)
    coordinator.add_argument("--hours", type=float, default=12.0)
    coordinator.set_defaults(func=_coordinator_token)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
