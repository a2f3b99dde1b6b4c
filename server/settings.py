"""Settings from environment variables, validated once at start.

Every setting has a documented default (docs/operations.md); a bad value stops the process with
a message naming the variable and the problem.
"""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit

__all__ = [
    "KEY_HINT",
    "ConfigError",
    "Settings",
    "exposure_problems",
    "is_loopback_host",
    "key_bits",
    "load_identity_key",
    "load_secret_keys",
    "weak_key_reason",
]


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
    leave_jitter_s: float = 20.0
    # A member's dropped connection keeps their seat in a room with a capacity this long.
    seat_hold_s: float = 30.0
    metrics_token: str | None = None
    # Escalation: alerts and unwatched reports POSTed to a webhook (server/webhook.py).
    alert_webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_retry_s: float = 1.0
    crisis_file: Path | None = None
    ws_deflate: bool = False
    # -- identity key ---------------------------------------------------------------------------
    # IDENTITY_KEY: keys participant ids and handles; None means the oldest SECRET_KEY.
    identity_key: str | None = None
    # Where durable room state lives (sanctions, queue, audit, handles); None: on `redis_url`.
    redis_state_url: str | None = None
    # --- deployment edges: the public origin, trusted proxies (see _edges_from_env) ---
    public_origin: str | None = None
    trusted_proxies: tuple[str, ...] = ()
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
        redis_state_url = _redis_state_url(env, redis_url)
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
            leave_jitter_s=_float(env, "LEAVE_JITTER_SECONDS", 20.0, 0, 60),
            seat_hold_s=_float(env, "SEAT_HOLD_SECONDS", 30.0, 0, 300),
            metrics_token=_metrics_token(env),
            **_webhook_from_env(env),
            crisis_file=_existing_file(env, "CRISIS_FILE"),
            ws_deflate=_flag(env, "WS_PER_MESSAGE_DEFLATE"),
            max_sockets_per_member=_int(env, "MAX_SOCKETS_PER_MEMBER", 5, 1, 1000),
            max_connections_per_address=_int(env, "MAX_CONNECTIONS_PER_ADDRESS", 50, 0, 1000000),
            join_burst=_int(env, "JOIN_BURST", 10, 1, 100000),
            join_per_second=_float(env, "JOIN_PER_SECOND", 0.5, 0.01, 100000),
            broker_ping_s=_float(env, "BROKER_PING_SECONDS", 5.0, 0.05, 60),
            close_grace_s=_float(env, "CLOSE_GRACE_SECONDS", 2.0, 0.1, 60),
            # -- identity key ---------------------------------------------------------------
            identity_key=load_identity_key(env),
            redis_state_url=redis_state_url,
            report_burst=_int(env, "REPORT_BURST", 5, 1, 1000),
            report_per_minute=_float(env, "REPORT_PER_MINUTE", 5.0, 0.01, 6000),
            **_edges_from_env(env),
        )


# -- the two Redis stores ---------------------------------------------------------------------
# History and pub/sub (message text) go to REDIS_URL, run without persistence; durable room
# state goes to REDIS_STATE_URL, run with AOF. Same server unless REDIS_STATE_URL says otherwise.


def _redis_state_url(env: Mapping[str, str], redis_url: str | None) -> str | None:
    """REDIS_STATE_URL, validated like REDIS_URL; None when unset or equal to REDIS_URL."""
    url = env.get("REDIS_STATE_URL") or None
    if url is None or url == redis_url:
        return None
    if redis_url is None:
        raise ConfigError("REDIS_STATE_URL: needs REDIS_URL (the in-memory broker has one store)")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_STATE_URL: must start with redis://, rediss:// or unix://")
    if redis_url.startswith("redis+cluster://"):
        raise ConfigError("REDIS_STATE_URL: not supported with a redis+cluster:// REDIS_URL")
    return url


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


def load_identity_key(env: Mapping[str, str]) -> str | None:
    """IDENTITY_KEY: one key (at least 16 characters) for participant ids and handles, or None
    (unset) for the oldest SECRET_KEY. It must be the same on every process, and it must not
    change: a new one renames every member and lifts their sanctions."""
    raw = env.get("IDENTITY_KEY")
    if raw is None or raw == "":
        return None
    key = raw.strip()
    if "," in key:
        raise ConfigError("IDENTITY_KEY: takes one key, not a list")
    if len(key) < 16:
        raise ConfigError("IDENTITY_KEY: must be at least 16 characters")
    return key


# --- deployment edges ------------------------------------------------------------------------
# What the server trusts about the network around it: which Host and Origin are its own, which
# peers may speak for a client (X-Forwarded-For), who may read /metrics, how strong the signing
# key must be. Loopback installs keep working with no setting; anything else must say.

KEY_HINT = (
    "generate one with `peer-support new-key` or "
    'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
)
MIN_KEY_CHARS = 32
MIN_KEY_BITS = 128.0


class _Edges(TypedDict):
    public_origin: str | None
    trusted_proxies: tuple[str, ...]


def _edges_from_env(env: Mapping[str, str]) -> _Edges:
    return {
        "public_origin": _public_origin(env),
        "trusted_proxies": _trusted_proxies(env),
    }


def _public_origin(env: Mapping[str, str]) -> str | None:
    """PUBLIC_ORIGIN as `scheme://host[:port]`, lower case, the default port dropped."""
    raw = (env.get("PUBLIC_ORIGIN") or "").strip().rstrip("/")
    if not raw:
        return None
    problem = "must be http(s)://host[:port] with no path, e.g. https://chat.example.org"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ConfigError(f"PUBLIC_ORIGIN: {problem}") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if (
        scheme not in ("http", "https")
        or not host
        or parts.username is not None
        or parts.path
        or parts.query
        or parts.fragment
        or any(c in host for c in "/\\ @")
    ):
        raise ConfigError(f"PUBLIC_ORIGIN: {problem}")
    if ":" in host:
        host = f"[{host}]"
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    """TRUSTED_PROXIES: addresses or networks whose X-Forwarded-For is believed."""
    items = tuple(p.strip() for p in (env.get("TRUSTED_PROXIES") or "").split(",") if p.strip())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(
                f"TRUSTED_PROXIES: {item!r} is not an IP address or network (CIDR)"
            ) from None
    return items


class _Webhook(TypedDict):
    alert_webhook_url: str | None
    webhook_secret: str | None
    webhook_retry_s: float


def _webhook_from_env(env: Mapping[str, str]) -> _Webhook:
    """ALERT_WEBHOOK_URL (http or https) and WEBHOOK_SECRET (needed with it, to sign)."""
    url = (env.get("ALERT_WEBHOOK_URL") or "").strip() or None
    secret = env.get("WEBHOOK_SECRET") or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError("ALERT_WEBHOOK_URL: must be an http(s):// URL")
        if secret is None or len(secret) < 16:
            raise ConfigError("WEBHOOK_SECRET: at least 16 characters are needed to sign alerts")
    return {
        "alert_webhook_url": url,
        "webhook_secret": secret,
        "webhook_retry_s": _float(env, "WEBHOOK_RETRY_SECONDS", 1.0, 0.05, 60),
    }


def _metrics_token(env: Mapping[str, str]) -> str | None:
    token = env.get("METRICS_TOKEN") or None
    if token is not None and (len(token) < 16 or any(c.isspace() for c in token)):
        raise ConfigError("METRICS_TOKEN: must be at least 16 characters, no spaces")
    return token


def is_loopback_host(host: str) -> bool:
    """True for a bind address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_bits(key: str) -> float:
    """A conservative estimate of the entropy of `key`, in bits.

    Each character costs log2 of the pool its character classes span (hex digits alone count
    16, not 36), except characters an attacker's guesser gets for free: the rest of a chunk of
    three or more that already occurred (`changeme-changeme`), and runs with a constant step
    of -1, 0 or +1 (`aaaa`, `0123`, `fedc`). Random keys lose almost nothing to this; keys a
    person typed lose most of their length.
    """
    if not key:
        return 0.0
    if all(c in "0123456789abcdef" for c in key) or all(c in "0123456789ABCDEF" for c in key):
        pool = 16
    else:
        pool = 0
        pool += 26 if any(c.islower() for c in key) else 0
        pool += 26 if any(c.isupper() for c in key) else 0
        pool += 10 if any(c.isdigit() for c in key) else 0
        pool += 33 if any(not c.isalnum() for c in key) else 0
    fresh, i, n = 0, 0, len(key)
    while i < n:
        repeat = 0  # the longest chunk from here that already occurred (its prefixes did too)
        while i + repeat < n and key[i : i + repeat + 1] in key[:i]:
            repeat += 1
        if repeat < 3:
            repeat = 0
        if repeat:
            fresh += 1  # a reference back costs about one guess
            i += repeat
            continue
        if i >= 2:
            step = ord(key[i]) - ord(key[i - 1])
            if step in (-1, 0, 1) and step == ord(key[i - 1]) - ord(key[i - 2]):
                i += 1
                continue
        fresh += 1
        i += 1
    return fresh * math.log2(max(pool, 2))


def weak_key_reason(key: str) -> str | None:
    """Why `key` is too weak to sign tokens on a reachable server, or None."""
    if len(key) < MIN_KEY_CHARS:
        return f"shorter than {MIN_KEY_CHARS} characters"
    bits = key_bits(key)
    if bits < MIN_KEY_BITS:
        return f"about {bits:.0f} bits estimated, {MIN_KEY_BITS:.0f} needed"
    return None


def exposure_problems(settings: Settings, bind_host: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for serving `settings` on `bind_host`.

    Bound to loopback, only this machine reaches the server: a weak key is a warning and no
    PUBLIC_ORIGIN is needed (the loopback names are the server's own). Anywhere else both are
    errors: the Host and Origin checks need PUBLIC_ORIGIN, and a guessable key lets anyone who
    sees one token sign any other.
    """
    errors: list[str] = []
    warnings: list[str] = []
    loopback = is_loopback_host(bind_host)
    if not loopback and settings.public_origin is None:
        errors.append(
            "PUBLIC_ORIGIN: required when serving on a non-loopback address "
            f"({bind_host}); set it to the address members open, e.g. https://chat.example.org"
        )
    for index, key in enumerate(settings.secret_keys):
        reason = weak_key_reason(key)
        if reason is None:
            continue
        which = f"key {index + 1} of {len(settings.secret_keys)}"
        message = f"SECRET_KEY: {which} is weak ({reason}); {KEY_HINT}"
        (warnings if loopback else errors).append(message)
    return errors, warnings
