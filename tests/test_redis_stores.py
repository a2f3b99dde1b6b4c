"""The two Redis stores as docker-compose.yml ships them: history and pub/sub on a redis-server
without persistence, durable room state on one with AOF. Message text never reaches disk, while
sanctions, the queue, the audit log and handles survive a restart; a history store that restarts
empty is announced with `room_reset`."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from rooms.ids import RoomId
from server.brokers import BrokerUnavailable
from server.brokers.redis import RedisBroker
from tests.conftest import AppServer, ConnectClient, StartServer
from tests.support import Client, RedisServer
from tests.test_faults_redis import crash, facilitator, ready, until

pytestmark = pytest.mark.redis
ROOM = "anxiety"
AOF = ("--appendonly", "yes", "--appendfsync", "always")


@pytest.fixture
def broker_kind() -> str:
    return "redis"  # the stores here are the test's own; each test gives their URLs


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[RedisServer, RedisServer]]:
    """(history store, state store), each with its own data directory; not started yet."""
    (tmp_path / "history").mkdir()
    (tmp_path / "state").mkdir()
    history, state = RedisServer(tmp_path / "history"), RedisServer(tmp_path / "state")
    yield history, state
    history.stop()
    state.stop()


def files_holding(directory: Path, needle: bytes) -> list[str]:
    """Every file under `directory` whose bytes contain `needle`."""
    return [str(p) for p in directory.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def member(url: str, connect: ConnectClient) -> tuple[Client, str]:
    """A new member and its token (to come back as the same member)."""
    client = await connect(url, hello=False)
    welcome = await client.hello()
    return client, str(welcome["token"])


async def test_message_text_never_reaches_disk_while_moderation_survives_a_restart(
    stores: tuple[RedisServer, RedisServer], start_server: StartServer, connect: ConnectClient
) -> None:
    history, state = stores
    history.start()
    state.start(*AOF)
    marker = f"marmalade{uuid.uuid4().hex}"
    reason = f"reason{uuid.uuid4().hex}"
    env = {"REDIS_URL": history.url, "REDIS_STATE_URL": state.url, "REDIS_PREFIX": "disk"}
    server = await start_server(**env)
    staff = await facilitator(server.ws, connect)
    await staff.enter(ROOM)
    speaker, _ = await member(server.ws, connect)
    reporter, _ = await member(server.ws, connect)
    muted, muted_token = await member(server.ws, connect)
    await speaker.enter(ROOM)
    await reporter.enter(ROOM)
    muted_joined = await muted.enter(ROOM)
    pid = muted_joined["participant"]

    ids = [(await speaker.say(ROOM, f"{marker} said {i}"))["id"] for i in range(4)]
    await muted.say(ROOM, f"{marker} before the mute")
    deleted = await staff.request({"type": "delete", "room": ROOM, "message_id": ids[0]})
    assert deleted["type"] == "ack"
    report = {"type": "report", "room": ROOM, "message_id": ids[1], "reason": reason}
    assert (await reporter.request(report))["type"] == "ack"
    mute = {"type": "mute", "room": ROOM, "participant": pid, "minutes": 30, "reason": "calm"}
    assert (await staff.request(mute))["type"] == "ack"
    await muted.expect("muted")
    assert (await staff.request({"type": "end_session", "room": ROOM}))["type"] == "ack"

    history.stop()
    state.stop()
    for store in stores:
        assert files_holding(store.workdir, marker.encode()) == []
    # The grep reads what the state store wrote: the reporter's reason is durable state.
    assert files_holding(state.workdir, reason.encode()) != []

    history.start()
    state.start(*AOF)
    await until(lambda: _is_ready(server), 10, "the broker to reach both stores again")
    # A process that never saw the session: all it knows comes from the stores.
    fresh = await start_server(**env)
    again = await connect(fresh.ws, hello=False)
    await again.hello(token=muted_token)
    rejoined = await again.join(ROOM)
    assert (rejoined["participant"], rejoined["handle"]) == (pid, muted_joined["handle"])
    answer = await again.request({"type": "send", "room": ROOM, "text": "still muted?"})
    assert answer["code"] == "muted"
    staff_again = await facilitator(fresh.ws, connect)
    await staff_again.join(ROOM)
    queue = await staff_again.expect("queue", room=ROOM)
    assert [(i["kind"], i["message_id"], i["note"]) for i in queue["items"]] == [
        ("report", ids[1], reason)
    ]
    await staff_again.send({"type": "audit", "room": ROOM})
    audit = await staff_again.expect("audit_log", room=ROOM)
    actions = [e["action"] for e in audit["entries"]]
    assert {"delete", "mute", "end_session"} <= set(actions), actions


async def _is_ready(server: AppServer) -> bool:
    return await ready(server) == 200


async def test_history_store_restart_announces_a_reset_and_sanctions_hold(
    stores: tuple[RedisServer, RedisServer], start_server: StartServer, connect: ConnectClient
) -> None:
    history, state = stores
    history.start()
    state.start(*AOF)
    env = {"REDIS_URL": history.url, "REDIS_STATE_URL": state.url, "BROKER_PING_SECONDS": "0.3"}
    server = await start_server(**env)
    staff = await facilitator(server.ws, connect)
    await staff.enter(ROOM)
    reader, _ = await member(server.ws, connect)
    muted, muted_token = await member(server.ws, connect)
    joined = await reader.enter(ROOM)
    pid = (await muted.enter(ROOM))["participant"]
    await reader.say(ROOM, "before")
    await staff.request({"type": "mute", "room": ROOM, "participant": pid, "minutes": 5})
    await muted.expect("muted")

    crash(history)
    history.start()  # empty: it keeps nothing
    # Announced as soon as the subscription is back, before anyone sends or joins.
    reset = await reader.expect("room_reset", seconds=10, room=ROOM)
    assert reset["epoch"] != joined["epoch"]
    assert (await staff.expect("room_reset", room=ROOM))["epoch"] == reset["epoch"]
    answer = await muted.request({"type": "send", "room": ROOM, "text": "x"})
    assert answer["code"] == "muted"
    elsewhere = await start_server(**env)  # a process that learns the mute from the store
    again = await connect(elsewhere.ws, hello=False)
    await again.hello(token=muted_token)
    await again.join(ROOM)
    answer = await again.request({"type": "send", "room": ROOM, "text": "x"})
    assert answer["code"] == "muted"
    said = await reader.say(ROOM, "after")
    await staff.expect("message", id=said["id"])
    late = await connect(server.ws)
    late_joined = await late.join(ROOM)
    assert late_joined["epoch"] == reset["epoch"]
    assert [m["text"] for m in late_joined["history"]] == ["after"]


async def test_out_of_order_state_publishes_cannot_leave_a_stale_value(
    stores: tuple[RedisServer, RedisServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writes of one field (as from two processes) whose publishes arrive in the other
    order: the subscriber ends with what the state store holds, not the older value."""
    history, state = stores
    history.start()
    state.start()
    room = RoomId(ROOM)
    prefix = f"v{uuid.uuid4().hex[:8]}"
    seen: list[str] = []
    listener = RedisBroker(history.url, prefix, state.url)
    await listener.start(lambda _, envelope: seen.append(envelope))
    writer = RedisBroker(history.url, prefix, state.url)
    await writer.start(lambda _, envelope: None)
    try:
        await listener.subscribe(room)
        held: list[str] = []

        async def hold(_: RoomId, envelope: str) -> None:
            held.append(envelope)  # written to the state store, not yet published

        with monkeypatch.context() as patch:
            patch.setattr(writer, "publish", hold)
            await writer.set_field(room, "slow", "10", 60000)
            await writer.set_field(room, "slow", "20", 60000)
        for envelope in [*reversed(held), 'C{"k":"end of test"}']:  # the later write first
            await writer.publish(room, envelope)
        await until(lambda: _true('C{"k":"end of test"}' in seen), 5, "the publishes")
        assert [e for e in seen if e.startswith('C{"k":"set"')] == [held[1]]
        assert await listener.room_fields(room) == {"slow": "20"}
    finally:
        await writer.close()
        await listener.close()


async def _true(value: bool) -> bool:
    return value


@pytest.fixture
async def two_brokers(
    stores: tuple[RedisServer, RedisServer],
) -> AsyncIterator[tuple[RedisBroker, RedisBroker, list[str]]]:
    """A listener subscribed to ROOM (its heartbeat every 0.2 s), a writer, and what the
    listener delivered, on the two stores."""
    history, state = stores
    history.start()
    state.start()
    prefix = f"v{uuid.uuid4().hex[:8]}"
    seen: list[str] = []
    listener = RedisBroker(history.url, prefix, state.url)
    listener.ping_interval_s = 0.2
    await listener.start(lambda _, envelope: seen.append(envelope))
    writer = RedisBroker(history.url, prefix, state.url)
    await writer.start(lambda _, envelope: None)
    await listener.subscribe(RoomId(ROOM))
    yield listener, writer, seen
    await writer.close()
    await listener.close()


def changes(seen: list[str]) -> list[tuple[str, Any]]:
    events = [json.loads(e[1:]) for e in seen if e.startswith('C{"k":"set"')]
    return [(e["f"], e["v"]) for e in events]


async def test_a_change_whose_publish_was_lost_is_delivered_by_the_heartbeat(
    two_brokers: tuple[RedisBroker, RedisBroker, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    listener, writer, seen = two_brokers
    room = RoomId(ROOM)

    async def lost(_: RoomId, envelope: str) -> None:
        raise BrokerUnavailable("publish failed")  # as when the writer's publish fails

    with monkeypatch.context() as patch:
        patch.setattr(writer, "publish", lost)
        with pytest.raises(BrokerUnavailable):
            await writer.set_field(room, "slow", "30", 60000)
    await until(lambda: _true(changes(seen) == [("slow", 30)]), 5, "the change")


async def test_a_change_the_state_store_lost_is_undone_and_later_changes_still_arrive(
    stores: tuple[RedisServer, RedisServer],
    two_brokers: tuple[RedisBroker, RedisBroker, list[str]],
) -> None:
    listener, writer, seen = two_brokers
    room = RoomId(ROOM)
    await writer.set_field(room, "slow", "30", 60000)
    await until(lambda: _true(changes(seen) == [("slow", 30)]), 5, "the change")
    # What a crash that lost its last second of writes leaves: the field gone, the version back.
    admin = stores[1].client()
    (state_key,) = admin.keys(f"*{{{ROOM}}}:state")
    (version_key,) = admin.keys(f"*{{{ROOM}}}:sver")
    admin.hdel(state_key, "slow")
    admin.decrby(version_key, 1_000_000)
    await until(lambda: _true(changes(seen)[-1:] == [("slow", None)]), 5, "the loss undone")
    await writer.set_field(room, "slow", "10", 60000)
    await until(lambda: _true(changes(seen)[-1:] == [("slow", 10)]), 5, "the next change")
    # ... as published (versioned), not repaired a heartbeat later: its version is still newer.
    last = json.loads([e for e in seen if e.startswith('C{"k":"set"')][-1][1:])
    assert isinstance(last.get("n"), int), last
