"""Floods, caps and slow readers on both brokers: refused with `rate_limited` and a retry-after,
closed with 4029, 4008 or 1013, with the room's other members unaffected."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
import websockets

from tests.conftest import ConnectClient, StartServer
from tests.rawws import RawClient
from tests.support import timeout

ROOM = "anxiety"


async def until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + timeout(seconds)
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def _true(value: bool) -> bool:
    return value


async def test_every_frame_kind_is_rate_limited_with_retry_after(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(FRAME_BURST="3", FRAME_PER_SECOND="0.5", FLOOD_STRIKES="1000")
    for kind in ("join", "agree", "send", "leave", "report", "listen", "nonsense", "hello"):
        client = await connect(server.ws)  # hello spent one token
        answers = [await client.request({"type": kind, "room": ROOM}) for _ in range(4)]
        limited = [a for a in answers if a.get("code") == "rate_limited"]
        assert limited, (kind, answers)
        assert all(0 < a["retry_after"] <= 2 and a["ref"] for a in limited)


async def test_sustained_flood_closes_4029_and_the_room_goes_on(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(FRAME_BURST="5", FRAME_PER_SECOND="1", FLOOD_STRIKES="10")
    calm = await connect(server.ws)
    await calm.enter(ROOM)
    flooder = await connect(server.ws)
    await flooder.send({"type": "join", "room": ROOM})
    for _ in range(200):
        await flooder.send({"type": "send", "room": ROOM, "text": "spam"})
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await flooder.expect("never", seconds=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4029
    await calm.say(ROOM, "still calm")


async def test_member_send_limit_holds_across_its_sockets_and_refused_sends_take_no_id(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(SEND_BURST="3", SEND_PER_SECOND="0.2")
    first = await connect(server.ws, hello=False)
    token = (await first.hello())["token"]
    await first.enter(ROOM)
    second = await connect(server.ws, hello=False)
    await second.hello(token=token)
    await second.enter(ROOM)
    answers = []
    for i in range(6):
        client = first if i % 2 == 0 else second
        answers.append(await client.request({"type": "send", "room": ROOM, "text": f"m{i}"}))
    acked = [a["id"] for a in answers if a["type"] == "ack"]
    refused = [a for a in answers if a.get("code") == "rate_limited"]
    assert len(acked) == 3 and len(refused) == 3  # one budget for the member, not one a socket
    assert all(a["retry_after"] > 0 for a in refused)
    late = await connect(server.ws)
    history = (await late.join(ROOM))["history"]
    assert [m["id"] for m in history] == acked  # refused messages took no id, were not stored
    assert acked == list(range(acked[0], acked[0] + 3))


async def test_join_leave_churn_does_not_storm_the_room(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(JOIN_BURST="4", JOIN_PER_SECOND="0.5")
    watcher = await connect(server.ws)
    await watcher.enter(ROOM)
    churner = await connect(server.ws, hello=False)
    token = (await churner.hello())["token"]
    limited = 0
    for _ in range(20):
        for kind in ("join", "leave"):
            answer = await churner.request({"type": kind, "room": ROOM})
            limited += answer.get("code") == "rate_limited"
    # reconnecting does not refill the member's join budget
    again = await connect(server.ws, hello=False)
    await again.hello(token=token)
    assert (await again.request({"type": "join", "room": ROOM}))["code"] == "rate_limited"
    said = await watcher.say(ROOM, "marker")
    await watcher.expect("message", id=said["id"])
    presence = [f for f in watcher.frames if f.get("type") == "presence"]
    assert limited >= 30
    assert len(presence) <= 6, presence  # the burst of 4 joins/leaves, and a little refill


async def test_sockets_per_member_are_capped(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(MAX_SOCKETS_PER_MEMBER="2")
    first = await connect(server.ws, hello=False)
    token = (await first.hello())["token"]
    second = await connect(server.ws, hello=False)
    await second.hello(token=token)
    third = await connect(server.ws, hello=False)
    answer = await third.request({"type": "hello", "token": token})
    assert answer["type"] == "error" and answer["code"] == "limit_reached"
    await second.close()

    async def admitted() -> bool:
        probe = await connect(server.ws, hello=False)
        answer = await probe.request({"type": "hello", "token": token})
        await probe.close()
        return bool(answer["type"] == "welcome")

    await until(admitted, 5, "a socket to be freed")


async def test_rooms_per_socket_are_capped(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(MAX_ROOMS_PER_SOCKET="2")
    client = await connect(server.ws)
    await client.join("anxiety")
    await client.join("grief-and-loss")
    assert (await client.request({"type": "join", "room": "bipolar"}))["code"] == "limit_reached"


async def test_connections_per_address_are_capped_with_1013(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(MAX_CONNECTIONS_PER_ADDRESS="3")
    held = [await connect(server.ws) for _ in range(3)]
    extra = await connect(server.ws, hello=False)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await extra.hello()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    await held[0].close()

    async def admitted() -> bool:
        try:
            probe = await connect(server.ws)
        except (websockets.ConnectionClosed, AssertionError):
            return False
        await probe.close()
        return True

    await until(admitted, 5, "an address slot to be freed")  # counted in memory only


async def test_slow_reader_is_cut_off_with_4008_and_others_keep_receiving(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(
        OUTBOX_MAX_FRAMES="16", CLOSE_GRACE_SECONDS="30", SEND_BURST="100000",
        SEND_PER_SECOND="100000", FRAME_BURST="100000", FRAME_PER_SECOND="100000",
    )  # fmt: skip
    hub = server.app.state.services.hub
    speaker = await connect(server.ws, max_size=None)
    await speaker.enter(ROOM)
    reader = await connect(server.ws, max_size=None)
    await reader.enter(ROOM)
    slow = await RawClient.connect(server.ws, rcvbuf=4096)
    await slow.send_json({"type": "hello"})
    await slow.send_json({"type": "join", "room": ROOM})
    await until(lambda: _true(len(hub.all_sessions()) == 3), 5, "the slow reader to join")
    text = "w" * 1900
    last = 0
    while not any(s.close_code == 4008 for s in hub.all_sessions()):
        acks = [await speaker.request({"type": "send", "room": ROOM, "text": text})]
        last = acks[-1]["id"]
        assert last < 5000, "the slow reader was never cut off"
        assert max(s.queued for s in hub.all_sessions()) <= 16  # memory bounded by the outbox
    # the reader that reads got every message meanwhile
    await reader.expect("message", seconds=10, id=last)
    # the slow client, once it reads, finds its close code after what was sent before
    assert await slow.until_closed(seconds=20) == 4008
    await slow.close()


async def test_reader_that_never_reads_again_is_dropped_within_the_grace(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(
        OUTBOX_MAX_FRAMES="8", CLOSE_GRACE_SECONDS="0.5", SEND_BURST="100000",
        SEND_PER_SECOND="100000", FRAME_BURST="100000", FRAME_PER_SECOND="100000",
    )  # fmt: skip
    hub = server.app.state.services.hub
    speaker = await connect(server.ws, max_size=None)
    await speaker.enter(ROOM)
    slow = await RawClient.connect(server.ws, rcvbuf=4096)
    await slow.send_json({"type": "hello"})
    await slow.send_json({"type": "join", "room": ROOM})
    await until(lambda: _true(len(hub.all_sessions()) == 2), 5, "the slow reader to join")
    text = "w" * 1900
    for _ in range(5000):
        await speaker.request({"type": "send", "room": ROOM, "text": text})
        if len(hub.all_sessions()) == 1:
            break
    # gone from the room and from the server, though it never read a byte
    await until(lambda: _true(len(hub.all_sessions()) == 1), 10, "the slow reader to go")
    said = await speaker.say(ROOM, "the room is fine")
    await speaker.expect("message", id=said["id"])
    await slow.close()
