"""Facilitator standing on open sockets: when it ends, and the one timer per socket that ends it.

A facilitator token is checked at `hello`, but a socket can stay open long after its token
expires. Each process arms one timer per facilitator socket it serves, at the token's expiry by
the wall clock, so standing ends on every process at the same instant without any event between
processes. Revocation ends standing through the same path: the app reads the revoked ids
every half second and ends the standing of every watched socket whose token names one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from server.session import Session

__all__ = ["StandingWatch"]

log = logging.getLogger("peer_support.standing")

EndStanding = Callable[[], Awaitable[None]]


class StandingWatch:
    """Timers that end facilitator standing at the token's expiry, one per socket."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._timers: dict[Session, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Revoked facilitator ids, as last read from the broker (server/app.py polls it).
        self.revoked: set[str] = set()

    def watch(self, session: Session, expires_at: float, end: EndStanding) -> None:
        """Run `end` once the wall clock reaches `expires_at` (unless `forget` comes first)."""
        self.forget(session)
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.pop(session, None)
            left = expires_at - self._clock()
            if left > 0:  # the wall clock was set back while we waited: wait the rest
                self._timers[session] = loop.call_later(left, fire)
                return
            task = loop.create_task(self._run(end), name="standing-ended")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._timers[session] = loop.call_later(max(0.0, expires_at - self._clock()), fire)

    def forget(self, session: Session) -> None:
        """The socket closed, or its standing already ended: no timer for it any more."""
        timer = self._timers.pop(session, None)
        if timer is not None:
            timer.cancel()

    @staticmethod
    async def _run(end: EndStanding) -> None:
        try:
            await end()
        except Exception as exc:  # the socket lost standing locally already; see end_standing
            log.warning("ending facilitator standing incomplete: %s", type(exc).__name__)

    def sessions(self) -> list[Session]:
        """The sockets whose standing is being watched (open, with a facilitator token)."""
        return list(self._timers)

    def __len__(self) -> int:
        return len(self._timers)
