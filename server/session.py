"""One client connection: who it is, which rooms it is in, and its bounded outbox.

Fan-out never waits on a socket: `deliver` writes at once to a socket that is keeping up, and
otherwise appends to the outbox, which a writer task (made when first needed) drains.
A client that stops reading fills its outbox and is disconnected with 4008 (reconnect with
`since`), so it cannot stall its rooms or grow the server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket

from moderation.ratelimit import Rate, TokenBucket
from moderation.roles import Role
from rooms.catalog import Catalog, Room
from rooms.ids import MemberId, ParticipantId, RoomId
from server.direct import DirectWriter
from server.tokens import FacilitatorClaim

__all__ = ["CLOSE_SLOW_READER", "Buckets", "Membership", "Session"]

log = logging.getLogger("peer_support.session")

CLOSE_SLOW_READER = 4008


class Buckets:
    """Two token buckets that must both allow an action (a connection's and its member's).
    The first is asked first, so a refusal by the second still spends the first: a little
    stricter than exact, never looser."""

    __slots__ = ("first", "second")

    def __init__(self, first: TokenBucket, second: TokenBucket) -> None:
        self.first = first
        self.second = second

    def take(self, now: float) -> float:
        """0.0 when both allowed it, else the seconds until both might."""
        wait = self.first.take(now)
        return wait if wait > 0 else self.second.take(now)

    @property
    def strikes(self) -> int:
        return max(self.first.strikes, self.second.strikes)


@dataclass(slots=True)
class Membership:
    """A session's place in one room.

    `room` is the room as the live catalogue serves it now, not as it was at join: coordinators
    edit rooms while people are in them (new rules must be agreed again, a capacity or a
    one-at-a-time change holds at once), so no rule may read a definition kept from join."""

    served: Room  # the definition at join; `room` reads the current one through `catalog`
    participant: ParticipantId
    handle: str
    role: Role = Role.MEMBER  # facilitator only in rooms the facilitator token names
    agreed_version: int = 0
    listening: bool = False
    last_sent_ms: int | None = None
    catalog: Catalog | None = None  # the process's live catalogue

    @property
    def room(self) -> Room:
        """The room's current definition (its last one, once archived)."""
        if self.catalog is None:
            return self.served
        return self.catalog.last_known(self.served.id) or self.served

    def summary(self) -> dict[str, Any]:
        """The participant as others see it (presence and `participants` lists)."""
        return {
            "participant": self.participant,
            "handle": self.handle,
            "role": self.role.value,
            "listening": self.listening,
        }


class _Backlog:
    """A session's outbox: frames that could not be written at once, and the task writing them."""

    __slots__ = ("frames", "wake", "writer")

    def __init__(self) -> None:
        self.frames: deque[str] = deque()
        self.wake = asyncio.Event()
        self.writer: asyncio.Task[None] | None = None


class Session:
    """State of one WebSocket: `server.endpoint` reads its frames; `deliver` writes a frame at
    once when the socket keeps up, and queues it in the bounded outbox when it does not."""

    __slots__ = (
        "_abort",
        "_backlog",
        "_close_grace_s",
        "_close_reason",
        "_direct",
        "_outbox_max",
        "_sending",
        "close_code",
        "country",
        "facilitator",
        "frames",
        "joins",
        "member",
        "role",
        "rooms",
        "sends",
        "ws",
    )

    def __init__(
        self,
        ws: WebSocket,
        outbox_max: int,
        frame_rate: Rate,
        send_rate: Rate,
        now: float,
        abort: Callable[[], None] | None = None,
        close_grace_s: float = 2.0,
        direct: DirectWriter | None = None,
    ) -> None:
        self.ws = ws
        self.member: MemberId | None = None
        self.role = Role.MEMBER
        self.facilitator: FacilitatorClaim | None = None
        # From `hello`, to pick crisis resources: held here only, never stored or logged.
        self.country: str | None = None
        self.rooms: dict[RoomId, Membership] = {}
        self.frames = TokenBucket(frame_rate, now)
        # Per connection; `share_member` adds the member-wide bucket shared by all its sockets.
        self.sends: TokenBucket | Buckets = TokenBucket(send_rate, now)
        self.joins: TokenBucket | None = None
        self.close_code: int | None = None
        self._close_reason = ""
        self._outbox_max = outbox_max
        self._abort = abort
        self._close_grace_s = close_grace_s
        self._direct = direct
        self._sending = False  # the writer is awaiting a send: nothing may overtake it
        # Made when a frame first has to wait (no direct writes, a socket behind, a close):
        # most sockets never need it, and idle connections are smaller without (bench/ idle).
        self._backlog: _Backlog | None = None

    def share_member(self, sends: TokenBucket, joins: TokenBucket) -> None:
        """Count this socket's sends also against its member's bucket, and its joins and
        leaves against the member's join bucket (see server.limits)."""
        if isinstance(self.sends, TokenBucket):
            self.sends = Buckets(self.sends, sends)
        self.joins = joins

    def role_in(self, membership: Membership, now: float) -> Role:
        """The role that counts in a room now: a facilitator token that expired while the socket
        stayed open no longer exempts or empowers."""
        if membership.role is Role.FACILITATOR:
            claim = self.facilitator
            if claim is None or not claim.may_moderate(membership.room.id, now):
                return Role.MEMBER
        return membership.role

    def deliver(self, frame: str, data: bytes | None = None, framed: bytes | None = None) -> None:
        """Send an encoded frame (`data`: the same as UTF-8, `framed`: as a WebSocket frame, when
        the caller has them); never blocks. A socket that is keeping up gets it written at once;
        one that has fallen behind gets it queued, and an overflowing queue closes the session
        with 4008."""
        if self.close_code is not None:
            return
        backlog = self._backlog
        direct = self._direct
        if (
            direct is not None
            and (backlog is None or not backlog.frames)
            and not self._sending
            and direct.write(frame.encode() if data is None else data, framed)
        ):
            return
        if backlog is None:
            backlog = self._start_writer()
        if len(backlog.frames) >= self._outbox_max:
            backlog.frames.clear()
            self.close(CLOSE_SLOW_READER, "client did not read fast enough")
            return
        backlog.frames.append(frame)
        backlog.wake.set()

    def _start_writer(self) -> _Backlog:
        backlog = self._backlog = _Backlog()
        backlog.writer = asyncio.create_task(self._write_forever(backlog), name="session-writer")
        return backlog

    def close(self, code: int, reason: str = "") -> None:
        """What is queued is dropped; the writer sends the close frame. A peer that does not
        take it within the grace period (it stopped reading, so the writer is stuck behind a
        full socket buffer) has its connection aborted: nothing of it stays in memory."""
        if self.close_code is None:
            self.close_code = code
            self._close_reason = reason
            (self._backlog or self._start_writer()).wake.set()
            if self._abort is not None:
                asyncio.get_running_loop().call_later(self._close_grace_s, self._abort)

    @property
    def queued(self) -> int:
        """Frames waiting in the outbox (never more than its bound)."""
        return len(self._backlog.frames) if self._backlog is not None else 0

    async def _write_forever(self, backlog: _Backlog) -> None:
        outbox, wake = backlog.frames, backlog.wake
        try:
            while True:
                await wake.wait()
                wake.clear()
                while outbox and self.close_code is None:
                    self._sending = True
                    try:
                        await self.ws.send_text(outbox.popleft())
                    finally:
                        self._sending = False
                if self.close_code is not None:
                    with contextlib.suppress(Exception):
                        await self.ws.close(self.close_code, self._close_reason)
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the peer went away mid-send; the reader notices too
            log.debug("send failed: %s", type(exc).__name__)
            self.close_code = self.close_code or 1006

    async def stop(self) -> None:
        """Stop the writer once the connection has ended; a close the server asked for is
        still sent (bounded wait), so the client learns its close code."""
        writer = self._backlog.writer if self._backlog is not None else None
        if writer is None:
            return
        if self.close_code is not None and not writer.done():
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(writer), 2.0)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
