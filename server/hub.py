"""The hub: this process's rooms, their local sockets, and fan-out of what the broker delivers.

The process holds one broker subscription per room with local members: subscribed on the first
local join, dropped on the last leave. A joining socket is recorded before the subscription is
awaited and buffers deliveries until its `joined` (with history) is sent, so nothing published
meanwhile is lost or sent twice. Each delivered frame was encoded once by its publisher and the
same string goes to every local socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from moderation.crisis import CrisisConfig
from moderation.roles import Role
from moderation.room_view import Evict, RoomView, ToParticipant, ToRoom, notices_for, room_state
from rooms.catalog import Catalog
from rooms.ids import ParticipantId, RoomId
from server import envelope as envelopes
from server.brokers import Broker, BrokerUnavailable
from server.direct import text_frame
from server.logs import where
from server.metrics import Metrics
from server.session import Session
from server.support import support_frame
from server.wire import encode

__all__ = ["CLOSE_INTERNAL_ERROR", "Hub", "LocalRoom"]

log = logging.getLogger("peer_support.hub")

CLOSE_INTERNAL_ERROR = 1011  # a delivery to this socket failed: reconnect and join with `since`


def _delivery_failed(session: Session, exc: Exception) -> None:
    log.error("delivery failed: %s at %s; socket closed (1011)", type(exc).__name__, where(exc))
    with contextlib.suppress(Exception):
        session.close(CLOSE_INTERNAL_ERROR, "internal error")


@dataclass(eq=False)
class LocalRoom:
    """A room as this process serves it."""

    id: RoomId
    sessions: set[Session] = field(default_factory=set)
    joining: dict[Session, list[str]] = field(default_factory=dict)
    local_count: Counter[ParticipantId] = field(default_factory=Counter)
    summaries: dict[ParticipantId, str] = field(default_factory=dict)
    subscribed: asyncio.Future[None] | None = None
    epoch: str | None = None
    view: RoomView = field(default_factory=RoomView)

    def members_of(self, participant: str) -> list[Session]:
        """This process's sockets of one participant in the room."""
        return [
            s
            for s in (*self.sessions, *self.joining)
            if (m := s.rooms.get(self.id)) is not None and m.participant == participant
        ]

    def broadcast(
        self, frame: str, role: Role | None = None, skip: set[Session] | None = None
    ) -> None:
        """Deliver to every local socket of the room (only those with `role`, if given)."""
        for session in self.sessions:
            if (role is None or self._role_of(session) is role) and not (skip and session in skip):
                try:
                    session.deliver(frame)
                except Exception as exc:
                    _delivery_failed(session, exc)
        for joining, pending in self.joining.items():
            if (role is None or self._role_of(joining) is role) and not (skip and joining in skip):
                pending.append(frame)

    def _role_of(self, session: Session) -> Role | None:
        membership = session.rooms.get(self.id)
        return membership.role if membership is not None else None

    @property
    def empty(self) -> bool:
        return not self.sessions and not self.joining


class Hub:
    """Local fan-out and presence for one process. `process` names it in presence entries.

    A removal found in a delivered state change is put on `evictions` (socket, room): taking
    a socket out of a room is I/O the hub leaves to whoever drains the queue (the app's
    lifespan), so the hub needs nothing from above it."""

    def __init__(
        self,
        broker: Broker,
        catalog: Catalog,
        process: str,
        presence_ttl_s: float,
        metrics: Metrics | None = None,
        crisis: CrisisConfig | None = None,
    ) -> None:
        self.broker = broker
        self.crisis = crisis or CrisisConfig()
        self.catalog = catalog
        self.process = process
        self.metrics = metrics
        self.rooms: dict[RoomId, LocalRoom] = {}
        self.evictions: asyncio.Queue[tuple[Session, RoomId]] = asyncio.Queue()
        self._deferred: dict[tuple[RoomId, ParticipantId], asyncio.Task[None]] = {}
        self.presence_ttl_ms = int(presence_ttl_s * 1000)

    # -- delivery (called by the broker, in publish order) -------------------------------------

    def on_event(self, room_id: RoomId, envelope: str) -> None:
        """Fan an envelope out to the room's local sockets; never blocks, never raises. A fault
        in one socket's delivery closes that socket (1011: it reconnects and recovers with
        `since`) and the others still get the envelope; any other fault loses this envelope
        alone. Raised to the broker, a fault would take the subscription of every room down
        (and, after a catch-up, the rest of the room would not get this message), and the
        event loop's own report would log the envelope, text and all."""
        try:
            self._fan_out(room_id, envelope)
        except Exception as exc:
            log.error("event not delivered: %s at %s", type(exc).__name__, where(exc))

    def _fan_out(self, room_id: RoomId, envelope: str) -> None:
        room = self.rooms.get(room_id)
        if room is None:
            return
        if envelope.startswith(envelopes.ROOM):
            frame = envelope[1:]
            data = frame.encode()  # once for every socket of the room
            framed = text_frame(data)  # likewise
            for session in room.sessions:
                try:  # free when nothing is raised (Python 3.11)
                    session.deliver(frame, data, framed)
                except Exception as exc:
                    _delivery_failed(session, exc)
            for pending in room.joining.values():
                pending.append(frame)
            if self.metrics is not None:
                self.metrics.delivered(frame, len(room.sessions))
            return
        try:
            event = json.loads(envelope[1:])
        except ValueError:
            log.warning("ignored a malformed control event")
            return
        self._on_control(room, event)

    def _on_control(self, room: LocalRoom, event: dict[str, Any]) -> None:
        kind = event.get("k")
        if kind == "reset":
            epoch = event.get("epoch")
            if isinstance(epoch, str) and room.epoch is not None and epoch != room.epoch:
                room.broadcast(encode({"type": "room_reset", "room": room.id, "epoch": epoch}))
            if isinstance(epoch, str):
                room.epoch = epoch
        elif kind == "to":
            frame = event.get("frame")
            if isinstance(frame, str):
                role = Role(event["role"]) if event.get("role") else None
                participant = event.get("participant")
                if participant:
                    # A private frame: its participant (any role) and, if named, a role too.
                    targets = set(room.members_of(str(participant)))
                    for session in targets:
                        session.deliver(frame)
                    if role is not None:
                        room.broadcast(frame, role, skip=targets)
                else:
                    room.broadcast(frame, role)
        elif kind == "support":
            # Built here, per socket: its country (held by this process only) orders the list.
            for session in room.members_of(str(event.get("participant"))):
                session.deliver(support_frame(self.crisis, room.id, session))
        elif kind == "staff":
            room.view.facilitators = int(event.get("n") or 0)
            room.broadcast(self.state_frame(room))
        elif kind == "set":
            name, value = str(event.get("f")), event.get("v")
            room.view.apply(name, value)
            self._after_change(room, name, value)

    def _after_change(self, room: LocalRoom, name: str, value: Any) -> None:
        """Tell the local sockets what a state change means for them."""
        for notice in notices_for(room.id, room.view, name, value):
            if isinstance(notice, ToParticipant):
                frame = encode(notice.frame)
                for session in room.members_of(notice.participant):
                    session.deliver(frame)
            elif isinstance(notice, Evict):
                for session in room.members_of(notice.participant):
                    self.evictions.put_nowait((session, room.id))
            elif isinstance(notice, ToRoom):
                room.broadcast(encode(notice.frame))
            else:
                room.broadcast(self.state_frame(room))

    def state_frame(self, room: LocalRoom) -> str:
        """The `room_state` frame of a room as this process sees it."""
        served = self.catalog.last_known(room.id)
        assert served is not None  # a room is served only after its join found it
        return encode(room_state(served, room.view))

    # -- joining and leaving ------------------------------------------------------------------

    async def attach(self, session: Session, room_id: RoomId) -> LocalRoom:
        """Record the socket as joining (buffering deliveries) and make sure the room is
        subscribed. Raises `BrokerUnavailable` (the socket is then detached again)."""
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = LocalRoom(room_id)
        room.joining[session] = []
        current = room.subscribed
        if current is None:
            current = room.subscribed = asyncio.get_running_loop().create_future()
            try:
                await self.broker.subscribe(room_id)
                # Loaded after subscribing: a change published meanwhile is applied twice, which
                # is harmless (changes set absolute values), rather than lost.
                room.view = RoomView.from_fields(await self.broker.room_fields(room_id))
                now_ms = int(time.time() * 1000)
                infos = [json.loads(i) for i in await self.broker.participants(room_id, now_ms)]
                room.view.facilitators = sum(1 for i in infos if i.get("role") == "facilitator")
            except BrokerUnavailable as exc:
                current.set_exception(exc)
                current.exception()  # retrieved here; waiters re-raise it
                room.subscribed = None  # the next join tries again
                self._drop(room, session)
                raise
            current.set_result(None)
        else:
            try:
                await asyncio.shield(current)
            except BrokerUnavailable:
                self._drop(room, session)
                raise
        return room

    def promote(self, session: Session, room: LocalRoom, after_id: int) -> None:
        """The socket's `joined` was sent: deliver what it buffered past `after_id`, then live."""
        pending = room.joining.pop(session, [])
        room.sessions.add(session)
        for frame in pending:
            msg_id = envelopes.message_id(frame)
            if msg_id is None or msg_id > after_id:
                session.deliver(frame)

    def _drop(self, room: LocalRoom, session: Session) -> None:
        room.joining.pop(session, None)
        room.sessions.discard(session)
        if room.empty and self.rooms.get(room.id) is room:
            del self.rooms[room.id]
            sub = room.subscribed
            if sub is not None and sub.done() and sub.exception() is None:
                task = asyncio.ensure_future(self._unsubscribe(room.id))
                task.add_done_callback(lambda t: t.exception())

    async def _unsubscribe(self, room_id: RoomId) -> None:
        if room_id not in self.rooms:
            with contextlib.suppress(BrokerUnavailable):
                await self.broker.unsubscribe(room_id)

    def detach(self, session: Session, room: LocalRoom) -> None:
        """Remove the socket from the room's fan-out (and unsubscribe after the last)."""
        self._drop(room, session)

    # -- presence -----------------------------------------------------------------------------

    def count_in(self, room: LocalRoom, participant: ParticipantId, summary: str) -> bool:
        """Count one more local socket; True when it is the participant's first here."""
        room.local_count[participant] += 1
        room.summaries[participant] = summary
        return room.local_count[participant] == 1

    def count_out(self, room: LocalRoom, participant: ParticipantId) -> bool:
        """Count one socket less; True when it was the participant's last here."""
        room.local_count[participant] -= 1
        if room.local_count[participant] <= 0:
            del room.local_count[participant]
            room.summaries.pop(participant, None)
            return True
        return False

    def local_entries(self) -> list[tuple[RoomId, ParticipantId, str | None]]:
        """Every (room, participant, summary) this process serves, and those it holds in a
        grace period (without summary), for the presence heartbeat."""
        entries = [
            (r.id, p, r.summaries.get(p)) for r in self.rooms.values() for p in r.local_count
        ]
        served = {(room, p) for room, p, _ in entries}
        return entries + [(*k, None) for k in self._deferred if k not in served]

    def defer_exit(
        self,
        room: RoomId,
        participant: ParticipantId,
        delay_s: float,
        exit_: Callable[[], Awaitable[None]],
    ) -> None:
        """Run `exit_` (the presence exit) after `delay_s`, unless the participant comes back
        to this process first (`cancel_deferred_exit`)."""
        key = (room, participant)

        async def later() -> None:
            try:
                await asyncio.sleep(delay_s)
                if self._deferred.get(key) is asyncio.current_task():
                    del self._deferred[key]
                await exit_()
            except BrokerUnavailable:
                log.warning("deferred presence exit failed: broker unavailable")

        self.cancel_deferred_exit(room, participant)
        self._deferred[key] = asyncio.ensure_future(later())

    def cancel_deferred_exit(self, room: RoomId, participant: ParticipantId) -> None:
        """The participant is back on this process: its presence entry stays."""
        task = self._deferred.pop((room, participant), None)
        if task is not None:
            task.cancel()

    async def heartbeat(self) -> None:
        """Refresh this process's presence and announce participants whose process died."""
        now_ms = int(time.time() * 1000)
        await self.broker.presence_refresh(
            self.local_entries(), self.process, now_ms, self.presence_ttl_ms
        )
        for room_id in list(self.rooms):
            gone = [json.loads(info) for info in await self.broker.presence_sweep(room_id, now_ms)]
            if not gone:
                continue
            live = (await self.broker.directory([room_id], now_ms))[room_id]
            for summary in gone:
                frame = {"type": "presence", "room": room_id, "members": live.members}
                frame.update(event="leave", **summary)
                await self.broker.publish(room_id, envelopes.to_room(frame))
            if any(s.get("role") == Role.FACILITATOR.value for s in gone):
                await self.broker.publish(room_id, envelopes.staff(live.facilitators))

    def all_sessions(self) -> set[Session]:
        """Every joined or joining socket of this process."""
        out: set[Session] = set()
        for room in self.rooms.values():
            out.update(room.sessions)
            out.update(room.joining)
        return out
