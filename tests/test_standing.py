"""Facilitator standing ends on open sockets when the token expires: both brokers."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

from tests.conftest import AppServer, ConnectClient, StartServer
from tests.support import Client
from tests.test_moderation import facilitator, facilitator_token

WAITING_ROOM = "depression"  # requires a facilitator
ROOM = "chronic-illness"
EXPIRES_IN_S = 3.0


async def _directory(server: AppServer) -> dict[str, dict[str, object]]:
    def get() -> dict[str, dict[str, object]]:
        with urllib.request.urlopen(f"{server.http}/api/rooms", timeout=5) as response:
            return {r["id"]: r for r in json.load(response)}

    return await asyncio.to_thread(get)  # the server runs in this event loop


async def _expiring_facilitator(server: AppServer, connect: ConnectClient) -> tuple[Client, float]:
    """A facilitator whose token expires EXPIRES_IN_S from now; (client, expiry time)."""
    client = await connect(server.ws, hello=False)
    expires_at = time.time() + EXPIRES_IN_S
    token = facilitator_token("Sam", hours=EXPIRES_IN_S / 3600)
    await client.send({"type": "hello", "facilitator_token": token})
    assert (await client.expect("welcome"))["role"] == "facilitator"
    return client, expires_at


async def test_expired_token_ends_standing_on_the_open_socket(
    server: AppServer, connect: ConnectClient
) -> None:
    fac, expires_at = await _expiring_facilitator(server, connect)
    in_waiting = await fac.enter(WAITING_ROOM)
    in_room = await fac.enter(ROOM)
    ana = await facilitator(server, connect, name="Ana")
    await ana.enter(ROOM)
    member = await connect(server.ws)
    await member.enter(WAITING_ROOM)
    await member.expect("room_state", room=WAITING_ROOM, waiting=False)
    joined = await member.enter(ROOM)
    assert (await _directory(server))[WAITING_ROOM]["facilitator_present"] is True

    ended = await fac.expect("facilitator_ended", seconds=EXPIRES_IN_S + 5)
    assert ended["reason"] == "expired"
    assert time.time() >= expires_at  # not before the token said
    for room, joined_fac in ((WAITING_ROOM, in_waiting), (ROOM, in_room)):
        update = await member.expect(
            "presence", room=room, event="update", participant=joined_fac["participant"]
        )
        assert update["role"] == "member"
    # the room that requires a facilitator waits at once, in the directory too
    await member.expect("room_state", room=WAITING_ROOM, waiting=True)
    assert (await _directory(server))[WAITING_ROOM]["facilitator_present"] is False
    refused = await member.request({"type": "send", "room": WAITING_ROOM, "text": "anyone?"})
    assert refused["code"] == "waiting"
    late = await connect(server.ws)
    listed = (await late.join(WAITING_ROOM))["participants"]
    entry = next(p for p in listed if p["participant"] == in_waiting["participant"])
    assert entry["role"] == "member" and entry["handle"] == in_waiting["handle"]

    # no facilitator-only frame reaches the socket any more; Ana still gets each one
    sent = await member.say(ROOM, "hello all")
    report = {"type": "report", "room": ROOM, "message_id": sent["id"], "reason": "rude"}
    assert (await member.request(report))["type"] == "ack"
    await ana.expect("reported", room=ROOM, message_id=sent["id"])
    await ana.expect("queue_item", room=ROOM)
    await member.say(ROOM, "some days I want to die")
    await ana.expect("alert", room=ROOM)
    opened = await ana.request(
        {"type": "private_open", "room": ROOM, "participant": joined["participant"]}
    )
    assert opened["type"] == "ack"
    await ana.expect("private_opened", room=ROOM)
    for kind in ("reported", "queue_item", "alert", "private_opened"):
        await fac.quiet(kind, seconds=0.2)
    # and it can no longer act
    mute = {"type": "mute", "room": ROOM, "participant": joined["participant"], "minutes": 5}
    assert (await fac.request(mute))["code"] in ("forbidden", "unauthorized")


async def test_a_dropped_facilitator_is_not_held_past_the_token(
    start_server: StartServer, connect: ConnectClient
) -> None:
    """The grace period of a dropped connection never outlasts the token."""
    server = await start_server(FACILITATOR_GRACE_SECONDS="60")
    fac, _ = await _expiring_facilitator(server, connect)
    await fac.enter(WAITING_ROOM)
    member = await connect(server.ws)
    await member.enter(WAITING_ROOM)
    await member.expect("room_state", room=WAITING_ROOM, waiting=False)
    await fac.close()
    await member.expect("room_state", room=WAITING_ROOM, waiting=True, seconds=EXPIRES_IN_S + 5)


async def test_leaves_of_a_dropped_connection_are_not_simultaneous(
    start_server: StartServer, connect: ConnectClient
) -> None:
    """Each room's leave waits its own random delay, so the leaves cannot link the rooms."""
    server = await start_server(LEAVE_JITTER_SECONDS="2")
    rooms = ["anxiety", "bipolar", "recovery", "caregivers"]
    leaver = await connect(server.ws)
    watcher = await connect(server.ws)
    pids = {}
    for room in rooms:
        pids[room] = (await leaver.join(room))["participant"]
        await watcher.join(room)
    await leaver.close()

    at, seen = [], set()
    for _ in rooms:  # each leave is read as it arrives, and stamped then
        frame = await watcher.expect("presence", event="leave")
        at.append(time.monotonic())
        seen.add((frame["room"], frame["participant"]))
    assert seen == {(room, pids[room]) for room in rooms}
    # Four independent draws from 0-2 s all within 20 ms of each other: odds about 1 in 10^6.
    assert max(at) - min(at) > 0.02
    # an explicit leave is announced at once
    again = await connect(server.ws)
    pid = (await again.join("anxiety"))["participant"]
    assert (await again.request({"type": "leave", "room": "anxiety"}))["type"] == "ack"
    await watcher.expect("presence", room="anxiety", event="leave", participant=pid, seconds=1)
