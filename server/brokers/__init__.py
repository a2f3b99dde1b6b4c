"""The broker contract: fan-out between processes and the room state they share.

Two implementations: `memory` (one process only, the embedded default) and `redis` (any number
of processes and hosts). `open_broker(url)` picks one by URL. Fan-out to local sockets happens
once, above the broker, in `server.hub`.

Guarantees every implementation gives (tests/test_broker_contract.py checks them on both):
- `publish_message` gives each message of a room the next integer id of the room's epoch,
  appends it to the bounded history and publishes it, atomically: subscribers see a room's
  messages in id order, and what was acknowledged is in history until trimmed or deleted.
- After `subscribe(room)` returns, everything published to the room reaches `on_event`, in
  publish order, until `unsubscribe(room)`.
- Presence entries are per (participant, process) and expire unless refreshed, so a process
  that dies leaves no ghost members.
- A participant's identity entries in a room (handle, latest role, agreed rules version) are
  kept `ttl_ms` after the participant was last seen (its last handle claim or agreement), then
  dropped: each claim or agreement forgets at most `IDENTITY_SWEEP` expired participants of the
  room (bounded work per call), and a handle held past its time is free to claim.
- A failed operation raises `BrokerUnavailable`; it is never logged and dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rooms.history import HistoryPage
from rooms.ids import ParticipantId, RoomId

__all__ = [
    "Broker",
    "BrokerUnavailable",
    "DirectoryEntry",
    "EventHandler",
    "HistoryLimits",
    "IDENTITY_SWEEP",
    "PresenceChange",
    "open_broker",
]

# Called with the room and the envelope published to it: "R" + a frame to fan out verbatim,
# or "C" + a JSON control event for the hub.
EventHandler = Callable[[RoomId, str], None]

# Expired participants one handle claim or agreement forgets at most. More than one, so a room
# drains its backlog of one-time members faster than they arrive.
IDENTITY_SWEEP = 32


class BrokerUnavailable(Exception):
    """The broker could not be reached or failed; the caller answers `unavailable`."""


@dataclass(frozen=True, slots=True)
class HistoryLimits:
    """A room's history keeps at most `max_messages`, none older than `max_age_ms`."""

    max_messages: int
    max_age_ms: int


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """`changed` is True when the participant's first (enter) or last (exit) entry changed;
    `members` and `facilitators` count the room's live participants afterwards."""

    changed: bool
    members: int
    facilitators: int = 0
    summary_changed: bool = False  # enter only: present already, stored summary was different


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """What the room directory shows of a room's live state."""

    members: int
    facilitators: int
    locked: bool


class Broker(Protocol):
    """What `server/` needs from a backend. All times are milliseconds since the epoch."""

    async def start(self, on_event: EventHandler) -> None:
        """Connect; `on_event` receives every envelope of the subscribed rooms."""

    async def close(self) -> None:
        """Disconnect and stop delivering."""

    async def ping(self) -> bool:
        """True when the backend answers now."""

    async def subscribe(self, room: RoomId) -> None:
        """Returns once the subscription is confirmed: later publishes will be delivered."""

    async def unsubscribe(self, room: RoomId) -> None:
        """Stop delivering the room's envelopes to this process."""

    async def publish(self, room: RoomId, envelope: str) -> None:
        """Publish an envelope to the room's subscribers (not stored)."""

    async def publish_message(
        self,
        room: RoomId,
        head: str,
        tail: str,
        now_ms: int,
        limits: HistoryLimits,
        private_to: str | None = None,
    ) -> tuple[int, str]:
        """Store and publish the frame `head + str(id) + tail`; return (id, epoch).

        With `private_to` (a participant id) the message is not stored and goes only to that
        participant and the room's facilitators, as a control event `{"k": "to", ...}`."""

    async def history(self, room: RoomId, now_ms: int, limits: HistoryLimits) -> HistoryPage:
        """The room's retained history (creating its epoch if it has none)."""

    async def delete_message(self, room: RoomId, message_id: int) -> bool:
        """Remove a message from history; False when it is not there."""

    async def reset_history(self, room: RoomId) -> str:
        """Clear the room's history and start a new epoch (ids keep increasing); return it."""

    async def claim_handle(
        self,
        room: RoomId,
        participant: ParticipantId,
        candidates: list[str],
        ttl_ms: int,
        role: str,
        now_ms: int,
    ) -> str | None:
        """The participant's handle in the room: the one it holds, else the first free
        candidate (one whose holder was last seen `ttl_ms` or more ago counts as free); None
        when every candidate is taken, and then nothing is written. Records `role` as the
        participant's latest role and `now_ms` as when it was last seen."""

    async def participant_role(
        self, room: RoomId, participant: ParticipantId
    ) -> tuple[str, str] | None:
        """(role, handle) of a participant who has been in the room, None for a stranger."""

    async def set_agreement(
        self, room: RoomId, participant: ParticipantId, version: int, ttl_ms: int, now_ms: int
    ) -> None:
        """Remember that the participant agreed to version `version` of the room's rules (for
        `ttl_ms` after it was last seen; `now_ms` counts as seen)."""

    async def agreement(self, room: RoomId, participant: ParticipantId) -> int:
        """The rules version the participant last agreed to in the room (0: never)."""

    async def get_message(self, room: RoomId, message_id: int) -> str | None:
        """The stored frame of a message still in history."""

    async def room_fields(self, room: RoomId) -> dict[str, str]:
        """The room's shared moderation state: field name -> JSON value."""

    async def set_field(self, room: RoomId, name: str, value: str | None, ttl_ms: int) -> None:
        """Set (value JSON) or clear (None) a state field, and publish the change to every
        process as the control event `{"k": "set", "f": name, "v": value}`, atomically."""

    async def queue_add(self, room: RoomId, item: dict[str, Any], ttl_ms: int) -> str:
        """Store a new facilitator-queue item; return its id (a string)."""

    async def queue_resolve(
        self, room: RoomId, item_id: str, by: str, ttl_ms: int
    ) -> dict[str, Any] | None:
        """Mark an item resolved by `by`; None when there is no such item."""

    async def queue_items(self, room: RoomId) -> list[dict[str, Any]]:
        """Every item of the room's queue, oldest first."""

    async def audit_append(self, room: RoomId, entry: str, ttl_ms: int, keep: int) -> None:
        """Append a JSON audit entry; the log keeps the newest `keep` for `ttl_ms`."""

    async def audit_entries(self, room: RoomId) -> list[str]:
        """The room's audit entries, oldest first."""

    async def presence_enter(
        self,
        room: RoomId,
        participant: ParticipantId,
        info: str,
        process: str,
        now_ms: int,
        ttl_ms: int,
    ) -> PresenceChange:
        """Record that `process` serves `participant` in `room`; `info` is its JSON summary."""

    async def presence_exit(
        self, room: RoomId, participant: ParticipantId, process: str, now_ms: int
    ) -> PresenceChange:
        """Remove the participant's entry for `process`."""

    async def presence_update(self, room: RoomId, participant: ParticipantId, info: str) -> None:
        """Replace the participant's JSON summary (e.g. listening on/off)."""

    async def presence_refresh(
        self,
        entries: list[tuple[RoomId, ParticipantId, str | None]],
        process: str,
        now_ms: int,
        ttl_ms: int,
    ) -> None:
        """Extend the life of this process's entries. An entry given with its JSON summary is
        written again if the backend lost it (Redis restarted empty); one without (a grace
        period) is only extended."""

    async def presence_sweep(self, room: RoomId, now_ms: int) -> list[str]:
        """Drop expired entries; return the summaries of participants left with none."""

    async def participants(self, room: RoomId, now_ms: int) -> list[str]:
        """JSON summaries of the room's live participants."""

    async def member_counts(self, rooms: list[RoomId], now_ms: int) -> dict[RoomId, int]:
        """Live participant count of each room."""

    async def directory(self, rooms: list[RoomId], now_ms: int) -> dict[RoomId, DirectoryEntry]:
        """Live members, facilitators present and lock state of each room."""

    async def update_list(
        self, room: RoomId, name: str, item: str, add: bool, ttl_ms: int
    ) -> list[str]:
        """Append `item` to (or remove it from) the JSON-list state field `name` atomically,
        publish the change like `set_field`, and return the new list."""

    # -- reports: one open item per reporter and target -----------------------------------------

    async def queue_add_once(
        self, room: RoomId, item: dict[str, Any], ttl_ms: int, cap: int
    ) -> tuple[str, str]:
        """Add `item` as `queue_add` does, unless the room's queue already holds an open item
        of the same `kind` and `by` that names the same `participant` and `message_id`: then
        nothing is stored and ("merged", that item's id) is returned. When `cap` or more open
        items of that `kind` and `by` exist, nothing is stored and ("full", "") is returned.
        Else ("added", the new id). The check and the store are one atomic step, so sockets of
        one reporter on several processes cannot slip a duplicate or an extra item past it."""


def open_broker(url: str | None, prefix: str = "psc", state_url: str | None = None) -> Broker:
    """The broker for `url`: Redis Cluster for redis+cluster://, Redis for redis://, rediss://
    and unix://, the in-memory broker when None. On Redis, `state_url` (default: `url`) holds
    the durable room state and `url` the history and pub/sub (see server/brokers/redis.py)."""
    if url is None:
        from server.brokers.memory import MemoryBroker

        return MemoryBroker()
    if url.startswith("redis+cluster://"):
        from server.brokers.redis_cluster import RedisClusterBroker

        if state_url not in (None, url):
            raise ValueError("a cluster broker keeps all its state on the cluster")
        return RedisClusterBroker(url, prefix)
    from server.brokers.redis import RedisBroker

    return RedisBroker(url, prefix, state_url)
