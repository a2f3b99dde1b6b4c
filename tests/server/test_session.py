"""Session's write path: direct writes while a socket keeps up, the outbox once it falls behind.

The socket here is a recording stand-in: what is under test is the order and the bookkeeping
of the session, not a transport (tests/test_floods.py drives real slow sockets).
"""

from __future__ import annotations

import asyncio

from moderation.ratelimit import Rate
from server.session import CLOSE_SLOW_READER, Session

RATE = Rate(10, 10.0)


class RecordingSocket:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None

    async def send_text(self, text: str) -> None:
        await asyncio.sleep(0)
        self.sent.append(text)

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = (code, reason)


class SwitchableDirect:
    """Takes frames while `open`, refuses them (as a full socket buffer does) otherwise."""

    def __init__(self) -> None:
        self.open = True
        self.written: list[bytes] = []

    def write(self, data: bytes, framed: bytes | None = None) -> bool:
        if self.open:
            self.written.append(data)
        return self.open


def _session(ws: RecordingSocket, direct: SwitchableDirect | None, outbox: int = 8) -> Session:
    return Session(ws, outbox, RATE, RATE, 0.0, direct=direct)  # type: ignore[arg-type]


async def _until_sent(ws: RecordingSocket, count: int) -> None:
    for _ in range(100):  # a few loop turns per frame; bounded, no clock
        if len(ws.sent) >= count:
            return
        await asyncio.sleep(0)


async def test_a_socket_that_keeps_up_is_written_directly_and_never_gets_a_writer() -> None:
    ws, direct = RecordingSocket(), SwitchableDirect()
    before = len(asyncio.all_tasks())
    session = _session(ws, direct)

    for i in range(3):
        session.deliver(f"f{i}")

    assert direct.written == [b"f0", b"f1", b"f2"]
    assert session.queued == 0 and ws.sent == []
    assert len(asyncio.all_tasks()) == before  # no writer task for this socket
    await session.stop()


async def test_a_socket_behind_keeps_order_through_the_outbox() -> None:
    ws, direct = RecordingSocket(), SwitchableDirect()
    session = _session(ws, direct)
    session.deliver("f0")
    direct.open = False
    session.deliver("f1")  # refused: queued
    direct.open = True
    session.deliver("f2")  # the socket takes it again, but f1 waits: f2 must not overtake

    await _until_sent(ws, 2)

    assert direct.written == [b"f0"]
    assert ws.sent == ["f1", "f2"]
    session.deliver("f3")  # the outbox is empty again: back to direct writes
    assert direct.written == [b"f0", b"f3"]
    await session.stop()


async def test_without_direct_writes_every_frame_goes_through_the_writer_in_order() -> None:
    ws = RecordingSocket()
    session = _session(ws, None)
    for i in range(5):
        session.deliver(f"f{i}")

    await _until_sent(ws, 5)

    assert ws.sent == [f"f{i}" for i in range(5)]
    await session.stop()


async def test_an_overflowing_outbox_closes_with_4008_and_sends_the_close() -> None:
    ws, direct = RecordingSocket(), SwitchableDirect()
    direct.open = False
    session = _session(ws, direct, outbox=2)
    for i in range(3):
        session.deliver(f"f{i}")

    await session.stop()

    assert session.close_code == CLOSE_SLOW_READER
    assert ws.closed is not None and ws.closed[0] == CLOSE_SLOW_READER
    session.deliver("late")  # after the close nothing is queued or written
    assert session.queued == 0 and direct.written == []


async def test_a_close_on_a_socket_that_never_queued_still_sends_the_close_frame() -> None:
    ws, direct = RecordingSocket(), SwitchableDirect()
    session = _session(ws, direct)
    session.deliver("hello")
    session.close(4000, "bye")

    await session.stop()

    assert ws.closed == (4000, "bye")
