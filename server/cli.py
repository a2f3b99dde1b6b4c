"""The `peer-support` command: `serve` and `facilitator-token`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.logs import configure
    from server.settings import ConfigError, Settings

    try:
        settings = Settings.from_env()
        app = create_app(settings)
    except (ConfigError, ValueError) as exc:
        print(f"peer-support: configuration error: {exc}", file=sys.stderr)
        return 2
    configure(os.environ.get("LOG_LEVEL", "INFO"))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ws_max_size=settings.max_frame_bytes,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        access_log=False,  # access lines carry client addresses
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    return 0


def _facilitator_token(args: argparse.Namespace) -> int:
    from server.settings import ConfigError, Settings
    from server.tokens import TokenService

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"peer-support: configuration error: {exc}", file=sys.stderr)
        return 2
    name = args.name.strip()
    if not name or len(name) > 40:
        print("peer-support: --name must be 1 to 40 characters", file=sys.stderr)
        return 2
    if not 0 < args.hours <= 24 * 90:
        print("peer-support: --hours must be more than 0 and at most 2160", file=sys.stderr)
        return 2
    tokens = TokenService(settings.secret_keys, settings.member_token_days * 86400)
    print(tokens.issue_facilitator(name, args.room or None, args.hours))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = argparse.ArgumentParser(prog="peer-support", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the chat server")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.set_defaults(func=_serve)
    token = sub.add_parser("facilitator-token", help="print a signed facilitator token")
    token.add_argument("--name", required=True, help="shown to members as the handle")
    token.add_argument("--room", action="append", help="a room they may moderate (repeatable)")
    token.add_argument("--hours", type=float, default=12.0, help="lifetime (default 12)")
    token.set_defaults(func=_facilitator_token)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
