"""The broker contract, split by what it stores: one small Protocol each, its guarantees on it.

`Broker` is all of them at once, and what `server/` is given. Every guarantee written here holds
on every backend (the in-memory broker, one Redis, two Redis servers, a Redis Cluster);
tests/test_broker_contract.py has one section per Protocol that checks it on all four.

Rules common to every Protocol:
- Times are milliseconds since the epoch, passed in (`now_ms`): a backend keeps no clock of its
  own for what it decides, so a test moves time by passing it.
- A backend that cannot be reached or fails raises `BrokerUnavailable` (the caller answers
  `unavailable`); an error is never logged and dropped. An operation that raised may still
  have run: a backend never retries it behind the caller's back.
- `ttl_ms` arguments are how long a backend must keep what is written at least (Redis lets it
  expire then); the memory broker keeps everything until the process stops.
- Rooms are apart: nothing written for one room is seen in another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from rooms.history import HistoryPage
from rooms.ids import ParticipantId, RoomId
from rooms.seats import Occupancy

__all__ = [
    "IDENTITY_SWEEP",
    "Broker",
    "BrokerUnavailable",
    "DirectoryEntry",
    "EventHandler",
    "HistoryLimits",
    "Identity",
    "JoinView",
    "Joining",
    "Lifecycle",
    "Messages",
    "MoodAnswer",
    "MoodSession",
    "Moods",
    "Presence",
    "PresenceChange",
    "Queue",
    "RoomDefinitions",
    "RoomState",
    "RoomWrite",
    "Staff",
]

# Called with the room and the envelope published to it: "R" + a frame to fan out verbatim,
# or "C" + a JSON control event for the hub (server/envelope.py builds both).
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
    full: bool = False  # enter only: refused, no seat (nothing was written)


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """What the room directory shows of a room's live state."""

    members: int
    facilitators: int
    locked: bool
    held: int = 0  # seats held for members whose connection dropped (rooms/seats.py)

    @property
    def occupancy(self) -> Occupancy:
        """The entry as the seat rules read it."""
        return Occupancy(self.members, self.facilitators, self.held, self.locked)


class Lifecycle(Protocol):
    """Connecting and disconnecting.

    - `start` does not fail for a backend that cannot be reached: the broker keeps trying by
      itself, and `ping` says False until the backend answers.
    - `ping` never raises.
    - `close` is called once, last: it stops delivery and releases every connection.
    """

    async def start(self, on_event: EventHandler) -> None:
        """Connect; `on_event` receives every envelope of the subscribed rooms."""

    async def close(self) -> None:
        """Disconnect and stop delivering."""

    async def ping(self) -> bool:
        """True when the backend answers now (on two stores: both)."""


class Messages(Protocol):
    """A room's channel and its message history.

    - Ids: `publish_message` gives each message (a private one too) the room's next integer
      id. Ids only increase, across `reset_history` too, so a client's stale `since` is never
      taken for a newer message.
    - Atomic: storing and publishing a message is one step. A message whose id was returned
      is in history until it is trimmed, deleted or reset, and reaches each subscriber once.
    - Delivery: once `subscribe(room)` returned, every envelope published to the room reaches
      `on_event` until `unsubscribe(room)`; nothing of a room not subscribed does. A room's
      messages arrive in id order, and envelopes published by calls that did not overlap
      arrive in the order of those calls (`publish`, `publish_message` and the announcements
      of `RoomState` alike).
    - History: bounded by `HistoryLimits`, by count and by age, on every write and read.
      `floor` is the highest id trimmed away (by those bounds, a reset, or at once when
      `max_messages` is 0), `last_id` the highest id given. A room gets its epoch on first use;
      the epoch changes only by `reset_history` or when the backend lost the room's history,
      which is then announced to subscribers with a `reset` control event before anything of
      the new epoch (a loss is checked in tests/test_faults_redis.py: memory cannot lose).
    - `unsubscribe` never raises; every other method raises `BrokerUnavailable` on failure.
    """

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
        """Store and publish the frame `head + str(id) + tail` as the envelope "R" + frame;
        return (id, epoch).

        With `private_to` (a participant id) the message takes an id but is not stored: it goes
        only to that participant and the room's facilitators, as the control event
        `envelope.private_message(frame, private_to)`."""

    async def history(self, room: RoomId, now_ms: int, limits: HistoryLimits) -> HistoryPage:
        """The room's retained history, oldest first (creating its epoch if it has none)."""

    async def get_message(self, room: RoomId, message_id: int) -> str | None:
        """The stored frame of a message still in history; None for any other id."""

    async def delete_message(self, room: RoomId, message_id: int) -> bool:
        """Remove a message from history; False when it is not there."""

    async def reset_history(self, room: RoomId) -> str:
        """Clear the room's history and start a new epoch (ids keep increasing); return it."""


class Presence(Protocol):
    """Who is in a room now, per (participant, process), each entry with an expiry.

    - A participant is live while any of its entries has not expired (`now_ms` before the
      expiry); a process that dies stops refreshing, so it leaves no ghost members.
    - Counts are of participants, never of processes or sockets; `facilitators` counts live
      participants whose summary says `"role": "facilitator"`.
    - `presence_enter` and `presence_exit` are atomic: of several processes entering (exiting)
      one participant at once, exactly one sees `changed`.
    - A summary is kept while its participant has an entry; the last exit or a sweep drops it.
    - Seats (rooms/seats.py): `presence_enter` with a `capacity` checks and takes a seat in
      the same atomic step, so of several processes admitting at once no more than `capacity`
      members are ever seated. A last exit with `hold_ms` keeps a member's seat that long.
    - Every method raises `BrokerUnavailable` on failure.
    """

    async def presence_enter(
        self,
        room: RoomId,
        participant: ParticipantId,
        info: str,
        process: str,
        now_ms: int,
        ttl_ms: int,
        capacity: int = 0,
    ) -> PresenceChange:
        """Record that `process` serves `participant` in `room` until `now_ms + ttl_ms`; `info`
        is its JSON summary, replacing the one stored (`summary_changed` when it differed).

        With `capacity` > 0 (a member entering a room with seats): a participant who is not
        present and holds no seat enters only while fewer than `capacity` seats are taken
        (`rooms.seats.has_seat`: members present, facilitators not counted, plus seats held);
        otherwise nothing is written and `full` is True. Entering ends the participant's held
        seat."""

    async def presence_exit(
        self,
        room: RoomId,
        participant: ParticipantId,
        process: str,
        now_ms: int,
        hold_ms: int = 0,
    ) -> PresenceChange:
        """Remove the participant's entry for `process` (`changed`: it was the last one). With
        `hold_ms` > 0 (a dropped connection), a member's last exit keeps their seat until
        `now_ms + hold_ms`; a facilitator holds none."""

    async def presence_update(self, room: RoomId, participant: ParticipantId, info: str) -> None:
        """Replace the JSON summary of a present participant (e.g. listening on/off); nothing
        for one not present."""

    async def presence_refresh(
        self,
        entries: list[tuple[RoomId, ParticipantId, str | None]],
        process: str,
        now_ms: int,
        ttl_ms: int,
    ) -> None:
        """Extend this process's entries to `now_ms + ttl_ms`. An entry given with its JSON
        summary is written again if the backend lost it (Redis restarted empty); one without (a
        grace period) is only extended, never created."""

    async def presence_sweep(self, room: RoomId, now_ms: int) -> list[str]:
        """Drop expired entries; return the summaries of participants left with none (each
        once: a second sweep returns nothing for them)."""

    async def participants(self, room: RoomId, now_ms: int) -> list[str]:
        """JSON summaries of the room's live participants."""

    async def member_counts(self, rooms: list[RoomId], now_ms: int) -> dict[RoomId, int]:
        """Live participant count of each room (0 for a room never used)."""

    async def directory(self, rooms: list[RoomId], now_ms: int) -> dict[RoomId, DirectoryEntry]:
        """Live members, facilitators present, seats held and lock state (the `lock` field
        of `RoomState`) of each room."""


class RoomState(Protocol):
    """A room's shared moderation state: named fields holding JSON, announced on change.

    - Each write stores the field and announces the change to the room's subscribers as the
      control event `envelope.field_set(name, value, version)`.
    - Once the writes to a field returned, the last change of it delivered is the stored
      value, whatever order concurrent writes' announcements travel in: a backend that
      announces apart from storing (Redis) numbers its changes ("n", increasing per room) and
      drops one older than what it delivered of that field.
    - `update_list` reads, changes and writes its list in one atomic step: concurrent updates
      from several processes lose nothing.
    - Every method raises `BrokerUnavailable` on failure.
    """

    async def room_fields(self, room: RoomId) -> dict[str, str]:
        """The room's shared moderation state: field name -> JSON value."""

    async def set_field(self, room: RoomId, name: str, value: str | None, ttl_ms: int) -> None:
        """Set (value JSON) or clear (None) a state field, and announce the change as the
        control event `{"k": "set", "f": name, "v": value}`."""

    async def update_list(
        self, room: RoomId, name: str, item: str, add: bool, ttl_ms: int
    ) -> list[str]:
        """Append `item` to (or remove it from) the JSON-list field `name` (a list holds an
        item once; an absent field is an empty list), announce the change like `set_field`,
        and return the new list."""


class Queue(Protocol):
    """The facilitator queue and the audit log of a room.

    - Queue item ids are distinct strings within a room; `queue_items` lists oldest first.
    - `queue_add_once` checks and stores in one atomic step.
    - The audit log keeps the newest `keep` entries, oldest first.
    - Every method raises `BrokerUnavailable` on failure.
    """

    async def queue_add(self, room: RoomId, item: dict[str, Any], ttl_ms: int) -> str:
        """Store a new facilitator-queue item, with its id under "id"; return the id."""

    async def queue_add_once(
        self, room: RoomId, item: dict[str, Any], ttl_ms: int, cap: int
    ) -> tuple[str, str]:
        """Add `item` as `queue_add` does, unless the room's queue already holds an open item
        of the same `kind` and `by` that names the same `participant` and `message_id`: then
        nothing is stored and ("merged", that item's id) is returned. When `cap` or more open
        items of that `kind` and `by` exist, nothing is stored and ("full", "") is returned.
        Else ("added", the new id). The check and the store are one atomic step, so sockets of
        one reporter on several processes cannot slip a duplicate or an extra item past it."""

    async def queue_resolve(
        self, room: RoomId, item_id: str, by: str, ttl_ms: int
    ) -> dict[str, Any] | None:
        """Mark an item resolved (`status` "resolved", `resolved_by` `by`) and return it; None
        when there is no such item."""

    async def queue_items(self, room: RoomId) -> list[dict[str, Any]]:
        """Every item of the room's queue, oldest first."""

    async def audit_append(self, room: RoomId, entry: str, ttl_ms: int, keep: int) -> None:
        """Append a JSON audit entry; the log keeps the newest `keep`."""

    async def audit_entries(self, room: RoomId) -> list[str]:
        """The room's audit entries, oldest first."""


class Identity(Protocol):
    """A participant's identity in a room: its handle, latest role and agreed rules version.

    - Handles are unique in a room and stable: a participant keeps its handle while its
      entries live, whatever candidates it offers.
    - A claim is atomic: of participants claiming the same handle at once, one gets it.
    - Entries are kept `ttl_ms` after the participant was last seen (its last handle claim or
      agreement), then dropped: each claim or agreement forgets the room's expired
      participants, longest unseen first, `IDENTITY_SWEEP` at most (bounded work per call),
      and a handle held past its time is free to claim.
    - Every method raises `BrokerUnavailable` on failure.
    """

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


class Staff(Protocol):
    """The service's facilitators, not one room's: their records and revocations (durable:
    the state store) and which of them have a socket open now (like presence: entries expire
    unless refreshed, so a dead process leaves none). Every process reads revocations within
    a second (server/standing.py polls), so a revocation holds on every process."""

    async def facilitator_save(
        self, record: dict[str, Any], now_ms: int, only_new: bool = False
    ) -> None:
        """Store or replace (with `only_new`: only store, never replace) the record whose `id`
        it names; it lapses at its `expires` (ms)."""

    async def facilitator_records(self, now_ms: int) -> list[dict[str, Any]]:
        """Every record not yet past its `expires`."""

    async def revoke(self, facilitator: str, now_ms: int) -> bool:
        """Mark the record revoked (it stays listed, `revoked: true`, until its expiry) and
        its id revoked until then; False when no unexpired record has that id."""

    async def revoked(self, now_ms: int) -> set[str]:
        """Ids revoked and not yet past their token's expiry."""

    async def staff_online(self, ids: list[str], process: str, now_ms: int, ttl_ms: int) -> None:
        """`process` has sockets of these facilitator ids open: each counts as online until
        `now_ms + ttl_ms` unless refreshed."""

    async def staff_offline(self, facilitator: str, process: str) -> None:
        """`process` has no socket of `facilitator` open any more."""

    async def online(self, now_ms: int) -> set[str]:
        """Facilitator ids with a socket open on some process."""


# -- check-in and check-out counts (`Moods`) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoodSession:
    """The check-in counts of one room's session (one epoch): `start` and `end` each count the
    answers 1..5 (index 0 counts 1). `started_ms` is when its first answer (or its end) was
    recorded, to the hour; `ended_ms` when `end_session` ended it, if it did."""

    session: str
    started_ms: int
    start: tuple[int, ...]
    end: tuple[int, ...]
    ended_ms: int | None = None

    @property
    def order(self) -> tuple[int, bool, int, str]:
        """Oldest first: by start hour, then those ended by when they ended, then the one
        still running (sessions of one hour are told apart by their ends)."""
        return (self.started_ms, self.ended_ms is None, self.ended_ms or 0, self.session)


@dataclass(frozen=True, slots=True)
class MoodAnswer:
    """One answer to count: `value` (1..5) for question `when` ("start" or "end") of
    `session`, with the caller's one-way `marker` of who gave it."""

    session: str
    when: str
    value: int
    marker: str


class Moods(Protocol):
    """Check-in and check-out answers, as counts per room and session, on the durable store.

    - Counts only: no call takes who answered. The caller passes a `marker`, an opaque string
      it derives one way from who answered, which question, and the session (server/moods.py);
      markers are stored apart from the counts, never with a value, and no time of an answer is
      kept finer than the hour (`started_ms`).
    - `mood_add` checks the marker and counts in one atomic step: of answers given at once
      with one marker (a participant's sockets on several processes), exactly one counts. A
      marker counts as given until `now_ms + marker_ttl_ms` (decided by `now_ms`, like every
      time here), then may count again.
    - A session's counts are kept at least `keep_ms` after it started (`started_ms`);
      `mood_sessions` lists those started at or after `since_ms`, oldest first
      (`MoodSession.order`).
    - Every method raises `BrokerUnavailable` on failure.
    """

    async def mood_add(
        self, room: RoomId, answer: MoodAnswer, now_ms: int, marker_ttl_ms: int, keep_ms: int
    ) -> bool:
        """Count the answer, unless its `marker` was given and has not lapsed: then nothing
        changes and False is returned."""

    async def mood_end(self, room: RoomId, session: str, now_ms: int, keep_ms: int) -> None:
        """Record that the session ended at `now_ms` (making its record if it has none)."""

    async def mood_session(self, room: RoomId, session: str) -> MoodSession | None:
        """The session's counts; None when nothing was recorded for it."""

    async def mood_sessions(self, room: RoomId, since_ms: int) -> list[MoodSession]:
        """The room's sessions started at or after `since_ms`, oldest first."""


RoomWrite = Literal["seed", "create", "update", "archive"]


class RoomDefinitions(Protocol):
    """The rooms coordinators edit live (durable: the state store), one JSON record each, and a
    version that every change raises, so a process polling it (server/live_rooms.py) reads the
    records again only after a change.

    - A record names its `id`; `rev` (a whole number) counts its own changes.
    - `room_write` is atomic and answers one word: `seed` and `create` store a record whose id
      is new (`exists` when one is stored, `archived` when the id was archived: archived ids
      are never reused); `update` replaces the stored record only while its `rev` is
      `expect_rev` (`conflict` otherwise, `missing` when none is stored or it was archived);
      `archive` removes the record and keeps its id archived (`missing` when none is stored).
      `ok` when it wrote, and only then is the version raised.
    - `room_records` gives the version and every stored (not archived) record at once.
    """

    async def room_write(
        self, mode: RoomWrite, room_id: str, record: dict[str, Any] | None, expect_rev: int = 0
    ) -> str:
        """Write as `mode` says; one of `ok`, `exists`, `archived`, `missing`, `conflict`."""

    async def room_records(self) -> tuple[int, list[dict[str, Any]]]:
        """The version and the stored records."""

    async def rooms_version(self) -> int:
        """The version alone (0 before any write): cheap enough to poll."""

    async def archived_rooms(self) -> list[str]:
        """The archived ids (their rooms' open queue items still need someone)."""


@dataclass(frozen=True, slots=True)
class JoinView:
    """What a joining participant is answered with: the rules version it agreed to, the room's
    history and who is present (itself included once it has entered presence)."""

    agreed: int
    history: HistoryPage
    participants: list[str]


class Joining(Protocol):
    """The reads of one join, together."""

    async def join_view(
        self, room: RoomId, participant: ParticipantId, now_ms: int, limits: HistoryLimits
    ) -> JoinView:
        """`agreement`, `history` and `participants`, as those answer (on Redis: sent at
        once, one round trip instead of three)."""


class Broker(
    Lifecycle,
    Joining,
    Messages,
    Presence,
    RoomState,
    Queue,
    Identity,
    Staff,
    RoomDefinitions,
    Moods,
    Protocol,
):
    """Everything `server/` needs from a backend: the Protocols above, together."""
