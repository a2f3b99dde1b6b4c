"""Every setting the server reads, documented once: for `peer-support check`, the `serve`
flags and the table in docs/operations.md (a test keeps the three in step with
`Settings.from_env`)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = ["SETTINGS", "RecordingEnv", "SettingDoc", "flag_name", "masked_value"]


@dataclass(frozen=True, slots=True)
class SettingDoc:
    """One environment variable: its default (as text) and what it is for."""

    name: str
    default: str
    meaning: str
    secret: bool = False


SETTINGS: tuple[SettingDoc, ...] = (
    SettingDoc("REDIS_URL", "unset", "Redis broker: history, presence and pub/sub, and the durable room state too unless REDIS_STATE_URL is set (redis://, rediss://, unix://, redis+cluster://); unset: the in-memory broker, one process only", secret=True),
    SettingDoc("REDIS_STATE_URL", "REDIS_URL", "Redis for the durable room state (sanctions, queue, audit log, handles), run with AOF, so that REDIS_URL can run without persistence and message text never reaches disk (redis://, rediss://, unix://; not with redis+cluster://)", secret=True),
    SettingDoc("REDIS_PREFIX", "psc", "prefix of every Redis key and channel (several deployments on one Redis)"),
    SettingDoc("SECRET_KEY", "generated", "token signing keys, comma-separated, newest first; every replica needs the same", secret=True),
    SettingDoc("SECRET_KEY_FILE", ".peer-support/secret_key", "where a generated key is kept (mode 0600) when SECRET_KEY is unset"),
    SettingDoc("IDENTITY_KEY", "oldest SECRET_KEY", "keys participant ids and handles, so rotating SECRET_KEY renames no one; set it to the original key before dropping that from SECRET_KEY; every replica needs the same", secret=True),
    SettingDoc("ROOMS_FILE", "starter catalogue", "TOML rooms file that seeds the catalogue once (see rooms/starter_rooms.toml); rooms are then edited live with the admin API"),
    SettingDoc("ALLOWED_ORIGINS", "unset", "extra browser origins allowed to open the WebSocket, besides PUBLIC_ORIGIN (never derived from Host)"),
    SettingDoc("MAX_FRAME_BYTES", "65536", "largest WebSocket frame; larger closes with 1009"),
    SettingDoc("MAX_TEXT_CHARS", "2000", "longest message text, after normalisation"),
    SettingDoc("HISTORY_MAX_MESSAGES", "200", "messages a room keeps for reconnecting members"),
    SettingDoc("HISTORY_MAX_AGE_SECONDS", "86400", "oldest message a room keeps"),
    SettingDoc("PRESENCE_HEARTBEAT_SECONDS", "10", "how often a process refreshes its presence entries"),
    SettingDoc("PRESENCE_TTL_SECONDS", "30", "presence entries of a dead process expire after this"),
    SettingDoc("HELLO_TIMEOUT_SECONDS", "10", "a socket that says no hello in time is closed with 4408"),
    SettingDoc("OUTBOX_MAX_FRAMES", "512", "frames queued for a slow reader before it is closed with 4008"),
    SettingDoc("MEMBER_TOKEN_DAYS", "30", "lifetime of a member token"),
    SettingDoc("MAX_ROOMS_PER_SOCKET", "10", "rooms one connection may be in"),
    SettingDoc("SEND_BURST", "5", "messages a participant may send at once"),
    SettingDoc("SEND_PER_SECOND", "1", "steady message rate per participant"),
    SettingDoc("FRAME_BURST", "30", "frames of any kind a connection may send at once"),
    SettingDoc("FRAME_PER_SECOND", "10", "steady frame rate per connection"),
    SettingDoc("FLOOD_STRIKES", "20", "refused or malformed frames in a row before closing with 4029"),
    SettingDoc("AUDIT_DAYS", "30", "how long audit entries and queue items are kept"),
    SettingDoc("FACILITATOR_GRACE_SECONDS", "30", "a facilitator's dropped connection keeps the room open this long (0 to 60)"),
    SettingDoc("LEAVE_JITTER_SECONDS", "20", "a dropped connection leaves each room after its own random delay up to this (0 to 60), so leaves cannot link one person across rooms"),
    SettingDoc("SEAT_HOLD_SECONDS", "30", "a member's dropped connection keeps their seat in a full room this long after they leave it (0 to 300), so a reconnect gets back in"),
    SettingDoc("MAX_SOCKETS_PER_MEMBER", "5", "open connections per member on one process"),
    SettingDoc("MAX_CONNECTIONS_PER_ADDRESS", "50", "concurrent connections per client address (memory only; 0: no cap)"),
    SettingDoc("JOIN_BURST", "10", "joins a member may make at once"),
    SettingDoc("JOIN_PER_SECOND", "0.5", "steady join rate per member"),
    SettingDoc("REPORT_BURST", "5", "reports a member may file at once (1 to 1000)"),
    SettingDoc("REPORT_PER_MINUTE", "5", "steady report rate per member (0.01 to 6000)"),
    SettingDoc("BROKER_PING_SECONDS", "5", "how often the Redis subscription is checked for silence"),
    SettingDoc("CLOSE_GRACE_SECONDS", "2", "time a closing socket gets to receive its close frame"),
    SettingDoc("CRISIS_FILE", "built-in", "TOML with crisis `phrases`/`extra_phrases` and `[[resources]]` (name, contact); see docs/moderation.md"),
    SettingDoc("WS_PER_MESSAGE_DEFLATE", "0", "1 compresses WebSocket messages; off by default: ~70 KiB of zlib state per browser connection for little gain on short chat messages"),
    # deployment edges: what the server trusts about the network around it
    SettingDoc("PUBLIC_ORIGIN", "unset", "the address members open, e.g. https://chat.example.org: the only Host (besides loopback with the bound port) and, with ALLOWED_ORIGINS, the only Origin accepted; required when serving on a non-loopback address"),
    SettingDoc("TRUSTED_PROXIES", "unset", "comma-separated addresses or networks whose X-Forwarded-For names the client; unset: forwarding headers are ignored"),
    SettingDoc("ALERT_WEBHOOK_URL", "unset", "every crisis alert, and every report in a room with no facilitator present, is POSTed here (signed; never message text or anyone's id)", secret=True),
    SettingDoc("WEBHOOK_SECRET", "unset", "signs webhook bodies (X-Signature: sha256=HMAC); needed with ALERT_WEBHOOK_URL, at least 16 characters", secret=True),
    SettingDoc("WEBHOOK_RETRY_SECONDS", "1", "first retry delay of a failed webhook POST; it doubles up to a minute, for up to 10 minutes"),
    SettingDoc("METRICS_TOKEN", "unset", "/metrics answers 404 unless this is set; then it requires `Authorization: Bearer <token>` (at least 16 characters)", secret=True),
    SettingDoc("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
    SettingDoc("LOG_FORMAT", "text", "text, or json for one JSON object per line"),
)  # fmt: skip


def flag_name(setting: str) -> str:
    """The `serve` flag of a setting: REDIS_URL -> --redis-url."""
    return "--" + setting.lower().replace("_", "-")


def masked_value(doc: SettingDoc, value: str | None) -> str:
    """What `check` prints: secrets masked (a URL keeps its scheme and host)."""
    if value is None or value == "":
        return f"(default: {doc.default})"
    if not doc.secret:
        return value
    if "://" in value:
        scheme, _, rest = value.partition("://")
        host = rest.rsplit("@", 1)[-1].split("/", 1)[0]
        return f"{scheme}://***@{host}/…" if "@" in rest else f"{scheme}://{host}/…"
    return f"*** ({len([k for k in value.split(',') if k.strip()])} key(s))"


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers which variables were asked for (for the docs test)."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(os.environ if values is None else values)
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self._values[key]

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return self._values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
