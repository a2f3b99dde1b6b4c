"""The hub's fan-out when one delivery fails: the other sockets still get the frame, the failing
socket is closed with 1011 (it reconnects and recovers with `since`), and nothing is raised to
the broker (where it would take the subscription of every room down) or logged with the frame.

The sockets here are stand-ins, as in test_session.py: what is under test is the hub's loop,
not a transport; the broker is the real in-memory one.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from moderation.ratelimit import Rate
from rooms.catalog import Catalog
from rooms.ids import RoomId
from server.brokers.memory import MemoryBroker
from server.hub import CLOSE_INTERNAL_ERROR, Hub, LocalRoom
from server.session import Session

ROOM = RoomId("calm")
RATE = Rate(10, 10.0)
FRAME = '{"type":"message","room":"calm","id":1,"text":"a private sentence"}'


class Socket:
    async def send_text(self, text: str) -> None:
        await asyncio.sleep(0)

    async def close(self, code: int, reason: str = "") -> None:
        pass


class Direct:
    """Records what it is given; `broken` raises instead, as a bug in a write would."""

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.written: list[bytes] = []

    def write(self, data: bytes, framed: bytes | None = None) -> bool:
        if self.broken:
            raise RuntimeError("a bug in one delivery")
        self.written.append(data)
        return True


def _session(direct: Direct) -> Session:
    return Session(Socket(), 8, RATE, RATE, 0.0, direct=direct)  # type: ignore[arg-type]


async def test_one_failing_delivery_closes_that_socket_and_the_others_get_the_frame(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = MemoryBroker()
    hub = Hub(broker, Catalog([]), "p1", 30.0)
    directs = [Direct(), Direct(broken=True), Direct(), Direct()]
    sessions = [_session(d) for d in directs]
    hub.rooms[ROOM] = LocalRoom(ROOM, sessions=set(sessions))
    caplog.set_level(logging.ERROR, logger="peer_support.hub")
    loop_errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, ctx: loop_errors.append(ctx))

    await broker.start(hub.on_event)
    await broker.subscribe(ROOM)
    await broker.publish(ROOM, "R" + FRAME)  # delivered by the broker, as in production
    for _ in range(20):  # a few loop turns; bounded, no clock
        if all(d.written for d in directs if not d.broken):
            break
        await asyncio.sleep(0)

    assert [d.written for d in directs if not d.broken] == [[FRAME.encode()]] * 3
    failed = [s for s, d in zip(sessions, directs, strict=True) if d.broken]
    assert [s.close_code for s in failed] == [CLOSE_INTERNAL_ERROR]
    assert all(s.close_code is None for s in sessions if s not in failed)
    assert not loop_errors  # nothing reached the loop's handler (it logs the envelope)
    assert "RuntimeError at test_hub.py" in caplog.text
    assert "private sentence" not in caplog.text
    await broker.close()


async def test_a_malformed_control_event_is_dropped_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = Hub(MemoryBroker(), Catalog([]), "p1", 30.0)
    direct = Direct()
    hub.rooms[ROOM] = LocalRoom(ROOM, sessions={_session(direct)})
    caplog.set_level(logging.ERROR, logger="peer_support.hub")

    hub.on_event(ROOM, 'C{"k":"to","role":"no such role","frame":"x"}')

    assert "event not delivered: ValueError" in caplog.text
    hub.on_event(ROOM, "R" + FRAME)  # the room goes on
    assert direct.written == [FRAME.encode()]
