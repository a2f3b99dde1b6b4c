"""The in-memory broker: single node only, the embedded default and the reference behaviour.

Everything lives in this process's dicts and nothing is written to disk, so message text is gone
when the process stops. Delivery goes through `loop.call_soon`, which keeps publish order and
never runs subscriber code inside the publisher's call.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from moderation.room_view import LOCK_FIELD
from rooms.history import HistoryPage
from rooms.ids import ParticipantId, RoomId
from rooms.seats import has_seat
from server import envelope as envelopes
from server.brokers import (
    IDENTITY_SWEEP,
    DirectoryEntry,
    EventHandler,
    HistoryLimits,
    JoinView,
    MoodAnswer,
    MoodSession,
    PresenceChange,
    RoomWrite,
)

__all__ = ["MemoryBroker"]


@dataclass
class _Room:
    epoch: str = field(default_factory=lambda: secrets.token_hex(8))
    seq: int = 0
    floor: int = 0
    history: deque[tuple[int, int, str]] = field(default_factory=deque)  # (id, ts_ms, frame)
    presence: dict[tuple[ParticipantId, str], int] = field(default_factory=dict)  # -> expiry
    info: dict[ParticipantId, str] = field(default_factory=dict)
    seats: dict[ParticipantId, int] = field(default_factory=dict)  # held seat -> until (ms)
    handles: dict[str, ParticipantId] = field(default_factory=dict)
    handle_of: dict[ParticipantId, str] = field(default_factory=dict)
    roles: dict[ParticipantId, str] = field(default_factory=dict)
    agreed: dict[ParticipantId, int] = field(default_factory=dict)
    # Participant -> last seen (ms), least recently seen first: the identity entries above
    # expire by it, a few per call, so one-time members do not stay forever.
    seen: OrderedDict[ParticipantId, int] = field(default_factory=OrderedDict)
    fields: dict[str, str] = field(default_factory=dict)
    queue: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit: deque[str] = field(default_factory=deque)

    def trim(self, now_ms: int, limits: HistoryLimits) -> None:
        cutoff = now_ms - limits.max_age_ms
        while self.history and (
            len(self.history) > limits.max_messages or self.history[0][1] < cutoff
        ):
            self.floor = max(self.floor, self.history.popleft()[0])

    def forget(self, participant: ParticipantId) -> None:
        """Drop every identity entry of the participant (handle, role, agreement)."""
        self.seen.pop(participant, None)
        name = self.handle_of.pop(participant, None)
        if name is not None and self.handles.get(name) == participant:
            del self.handles[name]
        self.roles.pop(participant, None)
        self.agreed.pop(participant, None)

    def sweep_identities(self, cutoff_ms: int) -> None:
        """Forget at most `IDENTITY_SWEEP` participants last seen at or before `cutoff_ms`."""
        for _ in range(IDENTITY_SWEEP):
            oldest = next(iter(self.seen.items()), None)
            if oldest is None or oldest[1] > cutoff_ms:
                return
            self.forget(oldest[0])

    def touch(self, participant: ParticipantId, now_ms: int) -> None:
        self.seen[participant] = max(now_ms, self.seen.get(participant, now_ms))
        self.seen.move_to_end(participant)

    def live(self, now_ms: int) -> set[ParticipantId]:
        return {p for (p, _), exp in self.presence.items() if exp > now_ms}

    def staff(self, now_ms: int) -> int:
        roles = (json.loads(self.info[p]).get("role") for p in self.live(now_ms) if p in self.info)
        return sum(1 for role in roles if role == "facilitator")

    def held(self, now_ms: int) -> set[ParticipantId]:
        """Participants whose seat is held now (their connection dropped a moment ago)."""
        for gone in [p for p, until in self.seats.items() if until <= now_ms]:
            del self.seats[gone]
        return set(self.seats)


_HOUR_MS = 3_600_000


@dataclass
class _MoodRecord:
    """One session's counts: "start" and "end", five each; times as `MoodSession` has them."""

    started_ms: int
    counts: dict[str, list[int]] = field(default_factory=lambda: {"start": [0] * 5, "end": [0] * 5})
    ended_ms: int | None = None

    def public(self, session: str) -> MoodSession:
        start, end = tuple(self.counts["start"]), tuple(self.counts["end"])
        return MoodSession(session, self.started_ms, start, end, self.ended_ms)


@dataclass
class _Moods:
    """A room's check-in counts by session, and the markers of who answered (apart)."""

    sessions: dict[str, _MoodRecord] = field(default_factory=dict)
    markers: dict[str, int] = field(default_factory=dict)  # marker -> until (ms)

    def record(self, session: str, now_ms: int, keep_ms: int) -> _MoodRecord:
        """The session's record, made if new; records started `keep_ms` ago are dropped."""
        for name in [n for n, r in self.sessions.items() if r.started_ms + keep_ms <= now_ms]:
            del self.sessions[name]
        record = self.sessions.get(session)
        if record is None:
            record = self.sessions[session] = _MoodRecord(now_ms - now_ms % _HOUR_MS)
        return record


class MemoryBroker:
    """Implements `server.brokers.Broker` within one process."""

    def __init__(self) -> None:
        self._rooms: dict[RoomId, _Room] = {}
        self._subscribed: set[RoomId] = set()
        self._on_event: EventHandler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._staff: dict[str, dict[str, Any]] = {}
        self._room_defs: dict[str, dict[str, Any]] = {}
        self._archived_rooms: set[str] = set()
        self._rooms_version = 0
        self._revoked: dict[str, int] = {}  # id -> until (ms)
        self._online: dict[tuple[str, str], int] = {}  # (id, process) -> expiry (ms)
        self._moods: dict[RoomId, _Moods] = {}

    def _room(self, room: RoomId) -> _Room:
        state = self._rooms.get(room)
        if state is None:
            state = self._rooms[room] = _Room()
        return state

    # -- lifecycle (`Lifecycle`) ---------------------------------------------------------------

    async def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event
        self._loop = asyncio.get_running_loop()

    async def close(self) -> None:
        self._on_event = None
        self._subscribed.clear()

    async def ping(self) -> bool:
        return True

    # -- messages and history (`Messages`) -----------------------------------------------------

    async def subscribe(self, room: RoomId) -> None:
        self._subscribed.add(room)

    async def unsubscribe(self, room: RoomId) -> None:
        self._subscribed.discard(room)

    def _deliver(self, room: RoomId, envelope: str) -> None:
        if room in self._subscribed and self._on_event is not None and self._loop is not None:
            self._loop.call_soon(self._on_event, room, envelope)

    async def publish(self, room: RoomId, envelope: str) -> None:
        self._deliver(room, envelope)

    async def publish_message(
        self,
        room: RoomId,
        head: str,
        tail: str,
        now_ms: int,
        limits: HistoryLimits,
        private_to: str | None = None,
    ) -> tuple[int, str]:
        state = self._room(room)
        state.seq += 1
        frame = f"{head}{state.seq}{tail}"
        if private_to is not None:
            self._deliver(room, envelopes.private_message(frame, private_to))
            return state.seq, state.epoch
        if limits.max_messages > 0:
            state.history.append((state.seq, now_ms, frame))
        else:
            state.floor = state.seq
        state.trim(now_ms, limits)
        self._deliver(room, envelopes.ROOM + frame)
        return state.seq, state.epoch

    async def history(self, room: RoomId, now_ms: int, limits: HistoryLimits) -> HistoryPage:
        state = self._room(room)
        state.trim(now_ms, limits)
        return HistoryPage(
            epoch=state.epoch,
            entries=[(i, f) for i, _, f in state.history],
            floor=state.floor,
            last_id=state.seq,
        )

    async def get_message(self, room: RoomId, message_id: int) -> str | None:
        for entry in self._room(room).history:
            if entry[0] == message_id:
                return entry[2]
        return None

    async def delete_message(self, room: RoomId, message_id: int) -> bool:
        state = self._room(room)
        for entry in state.history:
            if entry[0] == message_id:
                state.history.remove(entry)
                return True
        return False

    async def reset_history(self, room: RoomId) -> str:
        state = self._room(room)
        state.history.clear()
        state.epoch = secrets.token_hex(8)
        state.floor = state.seq
        return state.epoch

    # -- presence (`Presence`) -----------------------------------------------------------------

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
        state = self._room(room)
        live = state.live(now_ms)
        first = participant not in live
        if first and capacity > 0:
            held = state.held(now_ms)
            seated = len(live) - state.staff(now_ms) + len(held)
            if not has_seat(capacity, seated, participant in held):
                return PresenceChange(False, len(live), state.staff(now_ms), full=True)
        state.seats.pop(participant, None)
        replaced = not first and state.info.get(participant) != info
        state.presence[(participant, process)] = now_ms + ttl_ms
        state.info[participant] = info
        return PresenceChange(first, len(state.live(now_ms)), state.staff(now_ms), replaced)

    async def presence_exit(
        self,
        room: RoomId,
        participant: ParticipantId,
        process: str,
        now_ms: int,
        hold_ms: int = 0,
    ) -> PresenceChange:
        state = self._room(room)
        had = state.presence.pop((participant, process), None) is not None
        live = state.live(now_ms)
        last = had and participant not in live
        if last:
            info = state.info.pop(participant, None)
            staff = info is not None and json.loads(info).get("role") == "facilitator"
            if hold_ms > 0 and not staff:
                state.seats[participant] = now_ms + hold_ms
        return PresenceChange(last, len(live), state.staff(now_ms))

    async def presence_update(self, room: RoomId, participant: ParticipantId, info: str) -> None:
        state = self._room(room)
        if participant in state.info:
            state.info[participant] = info

    async def presence_refresh(
        self,
        entries: list[tuple[RoomId, ParticipantId, str | None]],
        process: str,
        now_ms: int,
        ttl_ms: int,
    ) -> None:
        for room, participant, summary in entries:
            key = (participant, process)
            state = self._room(room)
            if key in state.presence or summary is not None:
                state.presence[key] = now_ms + ttl_ms
            if summary is not None:
                state.info.setdefault(participant, summary)

    async def presence_sweep(self, room: RoomId, now_ms: int) -> list[str]:
        state = self._room(room)
        expired = [k for k, exp in state.presence.items() if exp <= now_ms]
        for key in expired:
            del state.presence[key]
        live = state.live(now_ms)
        gone = {p for p, _ in expired if p not in live}
        return [state.info.pop(p) for p in gone if p in state.info]

    async def participants(self, room: RoomId, now_ms: int) -> list[str]:
        state = self._room(room)
        return [state.info[p] for p in sorted(state.live(now_ms)) if p in state.info]

    async def member_counts(self, rooms: list[RoomId], now_ms: int) -> dict[RoomId, int]:
        return {r: len(self._rooms[r].live(now_ms)) if r in self._rooms else 0 for r in rooms}

    async def directory(self, rooms: list[RoomId], now_ms: int) -> dict[RoomId, DirectoryEntry]:
        out = {}
        for room in rooms:
            state = self._rooms.get(room)
            if state is None:
                out[room] = DirectoryEntry(0, 0, False)
            else:
                locked = LOCK_FIELD in state.fields
                out[room] = DirectoryEntry(
                    len(state.live(now_ms)), state.staff(now_ms), locked, len(state.held(now_ms))
                )
        return out

    # -- room state (`RoomState`) --------------------------------------------------------------

    async def room_fields(self, room: RoomId) -> dict[str, str]:
        return dict(self._room(room).fields)

    async def set_field(self, room: RoomId, name: str, value: str | None, ttl_ms: int) -> None:
        state = self._room(room)
        if value is None:
            state.fields.pop(name, None)
        else:
            state.fields[name] = value
        self._deliver(room, envelopes.field_set(name, value))

    async def update_list(
        self, room: RoomId, name: str, item: str, add: bool, ttl_ms: int
    ) -> list[str]:
        state = self._room(room)
        items: list[str] = json.loads(state.fields.get(name, "[]"))
        if add and item not in items:
            items.append(item)
        elif not add and item in items:
            items.remove(item)
        await self.set_field(room, name, json.dumps(items), ttl_ms)
        return items

    # -- queue and audit (`Queue`) -------------------------------------------------------------

    async def queue_add(self, room: RoomId, item: dict[str, Any], ttl_ms: int) -> str:
        state = self._room(room)
        item_id = f"q{len(state.queue) + 1}"
        state.queue[item_id] = {**item, "id": item_id}
        return item_id

    async def queue_add_once(
        self, room: RoomId, item: dict[str, Any], ttl_ms: int, cap: int
    ) -> tuple[str, str]:
        state = self._room(room)
        mine = [
            i
            for i in state.queue.values()
            if i["status"] == "open" and i["kind"] == item["kind"] and i["by"] == item["by"]
        ]
        for i in mine:
            if i["participant"] == item["participant"] and i["message_id"] == item["message_id"]:
                return "merged", str(i["id"])
        if len(mine) >= cap:
            return "full", ""
        return "added", await self.queue_add(room, item, ttl_ms)

    async def queue_resolve(
        self, room: RoomId, item_id: str, by: str, ttl_ms: int
    ) -> dict[str, Any] | None:
        item = self._room(room).queue.get(item_id)
        if item is None:
            return None
        item.update(status="resolved", resolved_by=by)
        return dict(item)

    async def queue_items(self, room: RoomId) -> list[dict[str, Any]]:
        return [dict(i) for i in self._room(room).queue.values()]

    async def audit_append(self, room: RoomId, entry: str, ttl_ms: int, keep: int) -> None:
        log = self._room(room).audit
        log.append(entry)
        while len(log) > keep:
            log.popleft()

    async def audit_entries(self, room: RoomId) -> list[str]:
        return list(self._room(room).audit)

    # -- the service's facilitators (`Staff`) ---------------------------------------------------

    async def facilitator_save(
        self, record: dict[str, Any], now_ms: int, only_new: bool = False
    ) -> None:
        if only_new and str(record["id"]) in self._staff:
            return
        self._staff[str(record["id"])] = dict(record)

    async def facilitator_records(self, now_ms: int) -> list[dict[str, Any]]:
        for fid in [f for f, r in self._staff.items() if int(r["expires"]) <= now_ms]:
            del self._staff[fid]
        return [dict(r) for r in self._staff.values()]

    async def revoke(self, facilitator: str, now_ms: int) -> bool:
        record = self._staff.get(facilitator)
        if record is None or int(record["expires"]) <= now_ms:
            return False
        record["revoked"] = True
        self._revoked[facilitator] = int(record["expires"])
        return True

    async def revoked(self, now_ms: int) -> set[str]:
        for fid in [f for f, until in self._revoked.items() if until <= now_ms]:
            del self._revoked[fid]
        return set(self._revoked)

    async def staff_online(self, ids: list[str], process: str, now_ms: int, ttl_ms: int) -> None:
        for fid in ids:
            self._online[(fid, process)] = now_ms + ttl_ms

    async def staff_offline(self, facilitator: str, process: str) -> None:
        self._online.pop((facilitator, process), None)

    async def online(self, now_ms: int) -> set[str]:
        for key in [k for k, expiry in self._online.items() if expiry <= now_ms]:
            del self._online[key]
        return {fid for fid, _ in self._online}

    # -- rooms edited live (`RoomDefinitions`) ---------------------------------------------------

    async def room_write(
        self, mode: RoomWrite, room_id: str, record: dict[str, Any] | None, expect_rev: int = 0
    ) -> str:
        old = self._room_defs.get(room_id)
        if room_id in self._archived_rooms:
            return "archived" if mode in ("seed", "create") else "missing"
        if mode in ("seed", "create"):
            if old is not None:
                return "exists"
        elif old is None:
            return "missing"
        elif mode == "update" and int(old.get("rev", 0)) != expect_rev:
            return "conflict"
        if mode == "archive":
            del self._room_defs[room_id]
            self._archived_rooms.add(room_id)
        else:
            assert record is not None
            self._room_defs[room_id] = json.loads(json.dumps(record))  # a copy, as stored
        self._rooms_version += 1
        return "ok"

    async def room_records(self) -> tuple[int, list[dict[str, Any]]]:
        return self._rooms_version, [json.loads(json.dumps(r)) for r in self._room_defs.values()]

    async def rooms_version(self) -> int:
        return self._rooms_version

    async def archived_rooms(self) -> list[str]:
        return sorted(self._archived_rooms)

    # -- identity (`Identity`) -----------------------------------------------------------------

    async def claim_handle(
        self,
        room: RoomId,
        participant: ParticipantId,
        candidates: list[str],
        ttl_ms: int,
        role: str,
        now_ms: int,
    ) -> str | None:
        state = self._room(room)
        cutoff = now_ms - ttl_ms
        state.sweep_identities(cutoff)
        chosen = state.handle_of.get(participant)
        if chosen is None:
            for name in candidates:
                owner = state.handles.get(name)
                if owner is not None and owner != participant:
                    if state.seen.get(owner, now_ms) > cutoff:
                        continue
                    state.forget(owner)  # held past its time, not yet swept
                state.handles[name] = participant
                state.handle_of[participant] = name
                chosen = name
                break
            else:
                return None
        state.roles[participant] = role
        state.touch(participant, now_ms)
        return chosen

    async def participant_role(
        self, room: RoomId, participant: ParticipantId
    ) -> tuple[str, str] | None:
        state = self._room(room)
        role, handle = state.roles.get(participant), state.handle_of.get(participant)
        return (role, handle) if role is not None and handle is not None else None

    async def set_agreement(
        self, room: RoomId, participant: ParticipantId, version: int, ttl_ms: int, now_ms: int
    ) -> None:
        state = self._room(room)
        state.sweep_identities(now_ms - ttl_ms)
        state.agreed[participant] = version
        state.touch(participant, now_ms)

    async def join_view(
        self, room: RoomId, participant: ParticipantId, now_ms: int, limits: HistoryLimits
    ) -> JoinView:
        agreed = await self.agreement(room, participant)
        page = await self.history(room, now_ms, limits)
        return JoinView(agreed, page, await self.participants(room, now_ms))

    async def agreement(self, room: RoomId, participant: ParticipantId) -> int:
        return self._room(room).agreed.get(participant, 0)

    # -- check-in and check-out counts (`Moods`) ------------------------------------------------

    async def mood_add(
        self, room: RoomId, answer: MoodAnswer, now_ms: int, marker_ttl_ms: int, keep_ms: int
    ) -> bool:
        moods = self._moods.setdefault(room, _Moods())
        for gone in [m for m, until in moods.markers.items() if until <= now_ms]:
            del moods.markers[gone]
        if answer.marker in moods.markers:
            return False
        moods.markers[answer.marker] = now_ms + marker_ttl_ms
        moods.record(answer.session, now_ms, keep_ms).counts[answer.when][answer.value - 1] += 1
        return True

    async def mood_end(self, room: RoomId, session: str, now_ms: int, keep_ms: int) -> None:
        self._moods.setdefault(room, _Moods()).record(session, now_ms, keep_ms).ended_ms = now_ms

    async def mood_session(self, room: RoomId, session: str) -> MoodSession | None:
        record = self._moods.get(room, _Moods()).sessions.get(session)
        return None if record is None else record.public(session)

    async def mood_sessions(self, room: RoomId, since_ms: int) -> list[MoodSession]:
        sessions = self._moods.get(room, _Moods()).sessions.items()
        listed = [r.public(n) for n, r in sessions if r.started_ms >= since_ms]
        return sorted(listed, key=lambda s: s.order)
