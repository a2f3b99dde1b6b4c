"""One client connection: who it is, which rooms it is in, and its bounded outbox.

Fan-out never waits on a socket: `deliver` appends to the outbox and a writer task drains it.
A client that stops reading fills its outbox and is disconnected with 4008 (reconnect with
`since`), so it cannot stall its rooms or grow the server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket

from moderation.ratelimit import Rate, TokenBucket
from moderation.roles import Role
from rooms.catalog import Room
from rooms.ids import MemberId, ParticipantId, RoomId
from server.tokens import FacilitatorClaim

__all__ = ["CLOSE_SLOW_READER", "Membership", "Session"]

log = logging.getLogger("peer_support.session")

CLOSE_SLOW_READER = 4008


@dataclass(slots=True)
class Membership:
    """A session's place in one room."""

    room: Room
    participant: ParticipantId
    handle: str
    role: Role = Role.MEMBER  # facilitator only in rooms the facilitator token names
    agreed_version: int = 0
    listening: bool = False
    last_sent_ms: int | None = None

    def summary(self) -> dict[str, Any]:
        """The participant as others see it (presence and `participants` lists)."""
        return {
            "participant": self.participant,
            "handle": self.handle,
            "role": self.role.value,
            "listening": self.listening,
        }


class Session:
    """State of one WebSocket; `server.app` reads frames, `deliver` queues frames to send."""

    def __init__(
        self,
        ws: WebSocket,
        outbox_max: int,
        frame_rate: Rate,
        send_rate: Rate,
        now: float,
    ) -> None:
        self.ws = ws
        self.member: MemberId | None = None
        self.role = Role.MEMBER
        self.facilitator: FacilitatorClaim | None = None
        self.rooms: dict[RoomId, Membership] = {}
        self.frames = TokenBucket(frame_rate, now)
        self.sends = TokenBucket(send_rate, now)
        self.close_code: int | None = None
        self._outbox: deque[str] = deque()
        self._outbox_max = outbox_max
        self._wake = asyncio.Event()
        self._writer = asyncio.create_task(self._write_forever(), name="session-writer")

    def role_in(self, membership: Membership, now: float) -> Role:
        """The role that counts in a room now: a facilitator token that expired while the socket
        stayed open no longer exempts or empowers."""
        if membership.role is Role.FACILITATOR:
            claim = self.facilitator
            if claim is None or not claim.may_moderate(membership.room.id, now):
                return Role.MEMBER
        return membership.role

    def deliver(self, frame: str) -> None:
        """Queue an encoded frame; never blocks. Overflow closes the session with 4008."""
        if self.close_code is not None:
            return
        if len(self._outbox) >= self._outbox_max:
            self._outbox.clear()
            self.close(CLOSE_SLOW_READER, "client did not read fast enough")
            return
        self._outbox.append(frame)
        self._wake.set()

    def close(self, code: int, reason: str = "") -> None:
        """Send what is queued is dropped; the socket is closed with `code` by the writer."""
        if self.close_code is None:
            self.close_code = code
            self._close_reason = reason
            self._wake.set()

    async def _write_forever(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._outbox and self.close_code is None:
                    await self.ws.send_text(self._outbox.popleft())
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
        if self.close_code is not None and not self._writer.done():
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(self._writer), 2.0)
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._writer
