"""Settings from environment variables, validated once at start.

Every setting has a documented default (docs/operations.md); a bad value stops the process with
a message naming the variable and the problem.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ConfigError", "Settings", "load_secret_keys"]


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}: must be between {lo} and {hi}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}: must be between {lo} and {hi}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one server process."""

    redis_url: str | None = None
    redis_prefix: str = "psc"
    secret_keys: tuple[str, ...] = ()
    rooms_file: Path | None = None
    allowed_origins: frozenset[str] = frozenset()
    max_frame_bytes: int = 65536
    max_text_chars: int = 2000
    history_max_messages: int = 200
    history_max_age_s: int = 24 * 3600
    presence_ttl_s: float = 30.0
    heartbeat_s: float = 10.0
    hello_timeout_s: float = 10.0
    outbox_max_frames: int = 512
    member_token_days: int = 30
    max_rooms_per_socket: int = 10
    send_burst: int = 5
    send_per_second: float = 1.0
    frame_burst: int = 30
    frame_per_second: float = 10.0
    flood_strikes: int = 20
    audit_days: int = 30
    max_sockets_per_member: int = 5
    max_connections_per_address: int = 50
    join_burst: int = 10
    join_per_second: float = 0.5
    broker_ping_s: float = 5.0
    close_grace_s: float = 2.0
    facilitator_grace_s: float = 30.0
    metrics_token: str | None = None
    crisis_file: Path | None = None
    ws_deflate: bool = False
    # Member-wide report budget (server.limits.Members): reports are a member's voice, but
    # each one lands in every facilitator's queue.
    report_burst: int = 5
    report_per_minute: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every setting; raise `ConfigError` naming the first bad one."""
        env = os.environ if env is None else env
        redis_url = env.get("REDIS_URL") or None
        schemes = ("redis://", "rediss://", "unix://", "redis+cluster://")
        if redis_url and not redis_url.startswith(schemes):
            raise ConfigError(
                "REDIS_URL: must start with redis://, rediss://, unix:// or redis+cluster://"
            )
        origins = frozenset(
            o.strip().rstrip("/") for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip()
        )
        for origin in origins:
            if not origin.startswith(("http://", "https://")):
                raise ConfigError(f"ALLOWED_ORIGINS: {origin!r} must start with http(s)://")
        rooms_file = env.get("ROOMS_FILE") or None
        if rooms_file and not Path(rooms_file).is_file():
            raise ConfigError("ROOMS_FILE: no such file")
        heartbeat = _float(env, "PRESENCE_HEARTBEAT_SECONDS", 10.0, 0.05, 300)
        ttl = _float(env, "PRESENCE_TTL_SECONDS", 30.0, 0.2, 600)
        if ttl < 2 * heartbeat:
            raise ConfigError("PRESENCE_TTL_SECONDS: must be at least twice the heartbeat")
        return cls(
            redis_url=redis_url,
            redis_prefix=env.get("REDIS_PREFIX", "psc") or "psc",
            secret_keys=load_secret_keys(env),
            rooms_file=Path(rooms_file) if rooms_file else None,
            allowed_origins=origins,
            max_frame_bytes=_int(env, "MAX_FRAME_BYTES", 65536, 1024, 1 << 20),
            max_text_chars=_int(env, "MAX_TEXT_CHARS", 2000, 10, 20000),
            history_max_messages=_int(env, "HISTORY_MAX_MESSAGES", 200, 0, 10000),
            history_max_age_s=_int(env, "HISTORY_MAX_AGE_SECONDS", 24 * 3600, 60, 30 * 86400),
            presence_ttl_s=ttl,
            heartbeat_s=heartbeat,
            hello_timeout_s=_float(env, "HELLO_TIMEOUT_SECONDS", 10.0, 0.1, 120),
            outbox_max_frames=_int(env, "OUTBOX_MAX_FRAMES", 512, 8, 100000),
            member_token_days=_int(env, "MEMBER_TOKEN_DAYS", 30, 1, 3650),
            max_rooms_per_socket=_int(env, "MAX_ROOMS_PER_SOCKET", 10, 1, 100),
            send_burst=_int(env, "SEND_BURST", 5, 1, 100000),
            send_per_second=_float(env, "SEND_PER_SECOND", 1.0, 0.01, 100000),
            frame_burst=_int(env, "FRAME_BURST", 30, 1, 100000),
            frame_per_second=_float(env, "FRAME_PER_SECOND", 10.0, 0.1, 100000),
            flood_strikes=_int(env, "FLOOD_STRIKES", 20, 1, 100000),
            audit_days=_int(env, "AUDIT_DAYS", 30, 1, 3650),
            facilitator_grace_s=_float(env, "FACILITATOR_GRACE_SECONDS", 30.0, 0, 60),
            metrics_token=env.get("METRICS_TOKEN") or None,
            crisis_file=_existing_file(env, "CRISIS_FILE"),
            ws_deflate=_flag(env, "WS_PER_MESSAGE_DEFLATE"),
            max_sockets_per_member=_int(env, "MAX_SOCKETS_PER_MEMBER", 5, 1, 1000),
            max_connections_per_address=_int(env, "MAX_CONNECTIONS_PER_ADDRESS", 50, 0, 1000000),
            join_burst=_int(env, "JOIN_BURST", 10, 1, 100000),
            join_per_second=_float(env, "JOIN_PER_SECOND", 0.5, 0.01, 100000),
            broker_ping_s=_float(env, "BROKER_PING_SECONDS", 5.0, 0.05, 60),
            close_grace_s=_float(env, "CLOSE_GRACE_SECONDS", 2.0, 0.1, 60),
            report_burst=_int(env, "REPORT_BURST", 5, 1, 1000),
            report_per_minute=_float(env, "REPORT_PER_MINUTE", 5.0, 0.01, 6000),
        )


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "0").strip().lower()
    if raw not in ("0", "1", "false", "true", "no", "yes", "off", "on"):
        raise ConfigError(f"{name}: expected 1 or 0, got {raw!r}")
    return raw in ("1", "true", "yes", "on")


def _existing_file(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name) or None
    if raw is None:
        return None
    if not Path(raw).is_file():
        raise ConfigError(f"{name}: no such file")
    return Path(raw)


def load_secret_keys(env: Mapping[str, str]) -> tuple[str, ...]:
    """SECRET_KEY as a comma-separated list, newest first (the first signs, all verify).

    Without SECRET_KEY a key is generated once and kept in SECRET_KEY_FILE (mode 0600), so
    member tokens survive a restart of a single-process install.
    """
    raw = env.get("SECRET_KEY", "")
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    if raw and not keys:
        raise ConfigError("SECRET_KEY: is set but holds no key")
    for key in keys:
        if len(key) < 16:
            raise ConfigError("SECRET_KEY: each key must be at least 16 characters")
    if keys:
        return keys
    path = Path(env.get("SECRET_KEY_FILE", ".peer-support/secret_key"))
    if path.is_file():
        key = path.read_text().strip()
        if len(key) >= 16:
            return (key,)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return (key,)
