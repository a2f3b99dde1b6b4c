"""Two real `peer-support serve` processes on one real redis-server share rooms."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET, ConnectClient
from tests.support import Client, RedisClusterNodes, RedisServer, ServerProcess

pytestmark = pytest.mark.cluster
ROOM = "bipolar"


@pytest.fixture(params=["redis", "redis-split", "redis-cluster"])
def shared_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The backend both processes share: a Redis, two (history and state, as docker-compose.yml
    ships them), or a three-node Redis Cluster with sharded pub/sub."""
    if request.param == "redis-cluster":
        cluster: RedisClusterNodes = request.getfixturevalue("redis_cluster")
        return {"REDIS_URL": cluster.url}
    server: RedisServer = request.getfixturevalue("redis_server")
    if request.param == "redis":
        return {"REDIS_URL": server.url}
    state: RedisServer = request.getfixturevalue("redis_state_server")
    return {"REDIS_URL": server.url, "REDIS_STATE_URL": state.url}


@pytest.fixture
def pair(
    shared_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {
        **shared_env,
        "REDIS_PREFIX": f"c{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": TEST_SECRET,
        "PRESENCE_HEARTBEAT_SECONDS": "0.5",
        "PRESENCE_TTL_SECONDS": "2",
        "LEAVE_JITTER_SECONDS": "0",  # leaves at once: tests wait on them
        "SEND_BURST": "100",
        "SEND_PER_SECOND": "100",
        "FRAME_BURST": "200",
        "FRAME_PER_SECOND": "200",
    }
    servers = (
        ServerProcess(env, tmp_path / "a.log"),
        ServerProcess(env, tmp_path / "b.log"),
    )
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


def _members(server: ServerProcess, room: str) -> int:
    with urllib.request.urlopen(f"{server.http}/api/rooms?q=", timeout=5) as response:
        rooms = json.load(response)
    counts: dict[str, int] = {r["id"]: r["members"] for r in rooms}
    return counts[room]


async def test_members_on_two_processes_chat_in_one_order(
    pair: tuple[ServerProcess, ServerProcess], connect: ConnectClient
) -> None:
    a_srv, b_srv = pair
    a = await connect(a_srv.ws)
    b = await connect(b_srv.ws)
    joined_a = await a.enter(ROOM)
    joined_b = await b.enter(ROOM)
    assert joined_b["members"] == 2
    assert joined_a["epoch"] == joined_b["epoch"]
    await a.expect("presence", event="join", participant=joined_b["participant"])

    for i in range(10):
        await (a if i % 2 == 0 else b).send({"type": "send", "room": ROOM, "text": f"n{i}"})
    seen_a = [await a.expect("message") for _ in range(10)]
    seen_b = [await b.expect("message") for _ in range(10)]
    order_a = [(m["id"], m["text"]) for m in seen_a]
    assert order_a == [(m["id"], m["text"]) for m in seen_b]
    assert [i for i, _ in order_a] == sorted(i for i, _ in order_a)

    # the same history from either process
    late_a = await connect(a_srv.ws)
    late_b = await connect(b_srv.ws)
    hist_a = (await late_a.join(ROOM))["history"]
    hist_b = (await late_b.join(ROOM))["history"]
    assert [(m["id"], m["text"]) for m in hist_a] == order_a
    assert hist_a == hist_b

    # the same member count from either process
    counts = await asyncio.gather(
        asyncio.to_thread(_members, a_srv, ROOM), asyncio.to_thread(_members, b_srv, ROOM)
    )
    assert list(counts) == [4, 4]


async def test_identity_holds_across_processes(
    pair: tuple[ServerProcess, ServerProcess], connect: ConnectClient
) -> None:
    a_srv, b_srv = pair
    first = await connect(a_srv.ws, hello=False)
    welcome = await first.hello()
    joined_a = await first.join(ROOM)
    await first.close()
    second = await connect(b_srv.ws, hello=False)
    await second.hello(token=welcome["token"])
    joined_b = await second.join(ROOM)
    assert (joined_a["participant"], joined_a["handle"]) == (
        joined_b["participant"],
        joined_b["handle"],
    )


async def test_killed_process_leaves_no_ghost(
    pair: tuple[ServerProcess, ServerProcess], connect: ConnectClient
) -> None:
    import signal

    a_srv, b_srv = pair
    watcher = await connect(b_srv.ws)
    await watcher.join(ROOM)
    doomed = await connect(a_srv.ws)
    joined = await doomed.join(ROOM)
    await watcher.expect("presence", event="join", participant=joined["participant"])
    a_srv.stop(signal.SIGKILL)
    leave = await watcher.expect(
        "presence", seconds=10, event="leave", participant=joined["participant"]
    )
    assert leave["members"] == 1
    assert await asyncio.to_thread(_members, b_srv, ROOM) == 1


async def _facilitator(url: str, connect: ConnectClient) -> Client:
    from server.tokens import TokenService

    client = await connect(url, hello=False)
    token = TokenService((TEST_SECRET,), 3600).issue_facilitator("Sam", None, 1)
    await client.send({"type": "hello", "facilitator_token": token})
    assert (await client.expect("welcome"))["role"] == "facilitator"
    return client


async def test_sanctions_hold_on_every_process_within_a_second(
    pair: tuple[ServerProcess, ServerProcess], connect: ConnectClient
) -> None:
    import time

    a_srv, b_srv = pair
    fac = await _facilitator(a_srv.ws, connect)
    await fac.enter(ROOM)
    member = await connect(b_srv.ws, hello=False)
    welcome = await member.hello()
    joined = await member.enter(ROOM)
    pid = joined["participant"]
    bystander = await connect(b_srv.ws)
    await bystander.enter(ROOM)

    started = time.monotonic()
    await fac.send({"type": "mute", "room": ROOM, "participant": pid, "minutes": 5})
    await member.expect("muted", seconds=1.0)
    assert time.monotonic() - started < 1.0
    assert (await member.request({"type": "send", "room": ROOM, "text": "x"}))["code"] == "muted"

    started = time.monotonic()
    await fac.send({"type": "remove", "room": ROOM, "participant": pid, "minutes": 5})
    await member.expect("removed", seconds=1.0)
    await fac.expect("presence", seconds=1.0, event="leave", participant=pid)
    assert time.monotonic() - started < 1.0

    # barred on both processes, also after reconnecting with the same token
    for server in (a_srv, b_srv):
        again = await connect(server.ws, hello=False)
        await again.hello(token=welcome["token"])
        assert (await again.request({"type": "join", "room": ROOM}))["code"] == "banned"

    # reports, flags and alerts reach facilitators on the other process, never members
    said = await bystander.say(ROOM, "I have been thinking about suicide")
    await fac.expect("alert", message_id=said["id"])
    await bystander.request({"type": "report", "room": ROOM, "participant": pid, "reason": "r"})
    await fac.expect("reported")
    await fac.request({"type": "flag", "room": ROOM, "message_id": said["id"], "note": "n"})
    await fac.expect("flagged")
    await bystander.expect("support")
    await bystander.quiet("flagged")
    assert not any(
        f["type"] in ("flagged", "reported", "alert", "queue", "queue_item")
        for f in bystander.frames + member.frames
    )


async def test_deleted_message_absent_for_late_joiner_on_other_process(
    pair: tuple[ServerProcess, ServerProcess], connect: ConnectClient
) -> None:
    a_srv, b_srv = pair
    fac = await _facilitator(a_srv.ws, connect)
    await fac.enter(ROOM)
    member = await connect(b_srv.ws)
    await member.enter(ROOM)
    keep = await member.say(ROOM, "keep")
    gone = await member.say(ROOM, "gone")
    await fac.request({"type": "delete", "room": ROOM, "message_id": gone["id"]})
    await member.expect("deleted", message_id=gone["id"])
    late = await connect(b_srv.ws)
    assert [m["id"] for m in (await late.join(ROOM))["history"]] == [keep["id"]]


async def test_private_conversation_stays_private_across_processes(
    pair: tuple[ServerProcess, ServerProcess], connect: ConnectClient
) -> None:
    a_srv, b_srv = pair
    fac = await _facilitator(a_srv.ws, connect)
    await fac.enter(ROOM)
    person = await connect(b_srv.ws)
    joined = await person.enter(ROOM)
    watchers = [await connect(a_srv.ws), await connect(b_srv.ws)]
    for watcher in watchers:
        await watcher.enter(ROOM)
    opened = await fac.request(
        {"type": "private_open", "room": ROOM, "participant": joined["participant"]}
    )
    conversation = opened["conversation"]
    await person.expect("private_opened", conversation=conversation)
    said = await person.request(
        {"type": "send", "room": ROOM, "text": "I need to talk", "conversation": conversation}
    )
    await fac.expect("message", id=said["id"], conversation=conversation)
    public = await fac.say(ROOM, "back to the room")
    for watcher in watchers:
        await watcher.expect("message", id=public["id"])
        assert not any(
            f.get("conversation") or f["type"] in ("private_opened", "support")
            for f in watcher.frames
        )


async def test_redis_cluster_rooms_use_sharded_pubsub(
    redis_cluster: RedisClusterNodes, connect: ConnectClient, tmp_path: Path
) -> None:
    import redis

    prefix = f"s{uuid.uuid4().hex[:8]}"
    server = ServerProcess(
        {"REDIS_URL": redis_cluster.url, "REDIS_PREFIX": prefix, "SECRET_KEY": TEST_SECRET},
        tmp_path / "s.log",
    )
    server.start()
    try:
        member = await connect(server.ws)
        await member.enter(ROOM)
        said = await member.say(ROOM, "over a shard channel")
        await member.expect("message", id=said["id"])
        channel = f"{prefix}:{{{ROOM}}}:ch"
        shard, plain = [], []
        for node in redis_cluster.nodes:
            client = redis.Redis(port=node.port, decode_responses=True)
            shard += client.pubsub_shardchannels(f"{prefix}:*")
            plain += client.pubsub_channels(f"{prefix}:*")
            client.close()
        assert channel in shard
        assert plain == []
    finally:
        server.stop()


async def test_expired_facilitator_loses_standing_on_its_own_process(
    pair: tuple[ServerProcess, ServerProcess], connect: ConnectClient
) -> None:
    """Process B ends the standing of the socket it serves at the token's expiry by its own
    clock (nothing is sent from A); the member on A sees the role change and the room wait."""
    from tests.test_moderation import facilitator_token

    a_srv, b_srv = pair
    room = "depression"  # requires a facilitator
    member = await connect(a_srv.ws)
    await member.enter(room)
    await member.expect("room_state", room=room, waiting=True)
    fac = await connect(b_srv.ws, hello=False)
    await fac.send({"type": "hello", "facilitator_token": facilitator_token(hours=3 / 3600)})
    assert (await fac.expect("welcome"))["role"] == "facilitator"
    joined = await fac.enter(room)
    await member.expect("room_state", room=room, waiting=False)
    assert (await fac.expect("facilitator_ended", seconds=8))["reason"] == "expired"
    update = await member.expect(
        "presence", room=room, event="update", participant=joined["participant"]
    )
    assert update["role"] == "member"
    await member.expect("room_state", room=room, waiting=True)
    assert (await member.request({"type": "send", "room": room, "text": "hi"}))["code"] == "waiting"


async def test_a_revocation_on_one_process_ends_standing_on_the_other(
    pair: tuple[ServerProcess, ServerProcess], connect: ConnectClient
) -> None:
    from server.tokens import TokenService

    a_srv, b_srv = pair
    room = "depression"  # requires a facilitator
    coordinator = TokenService((TEST_SECRET,), 3600).issue_coordinator("Kim", 1)

    def admin(method: str, path: str, body: object = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{a_srv.http}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {coordinator}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None

    status, made = await asyncio.to_thread(
        admin, "POST", "/api/admin/facilitators", {"name": "Sam", "rooms": None, "hours": 1}
    )
    assert status == 201 and isinstance(made, dict)
    member = await connect(a_srv.ws)
    await member.enter(room)
    fac = await connect(b_srv.ws, hello=False)
    assert (await fac.hello(facilitator_token=made["token"]))["role"] == "facilitator"
    await fac.enter(room)
    await member.expect("room_state", room=room, waiting=False)
    status, _ = await asyncio.to_thread(admin, "DELETE", f"/api/admin/facilitators/{made['id']}")
    assert status == 204
    assert (await fac.expect("facilitator_ended", seconds=3))["reason"] == "revoked"
    await member.expect("room_state", room=room, waiting=True)


async def test_rooms_edited_on_one_process_hold_on_the_other(
    pair: tuple[ServerProcess, ServerProcess], connect: ConnectClient
) -> None:
    from server.tokens import TokenService

    a_srv, b_srv = pair
    coordinator = TokenService((TEST_SECRET,), 3600).issue_coordinator("Kim", 1)

    def admin(method: str, path: str, body: object = None) -> int:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{a_srv.http}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {coordinator}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)

    def listed_on_b() -> set[str]:
        with urllib.request.urlopen(f"{b_srv.http}/api/rooms", timeout=5) as response:
            return {r["id"] for r in json.load(response)}

    room = {"id": "made-on-a", "name": "Made on A", "category": "General",
            "description": "Created through process A.", "rules": ["Be kind."]}  # fmt: skip
    assert await asyncio.to_thread(admin, "POST", "/api/admin/rooms", room) == 201
    # The contract: within 1 s on every process (polled here with a bounded wait).
    for _ in range(30):
        if "made-on-a" in await asyncio.to_thread(listed_on_b):
            break
        await asyncio.sleep(0.1)
    member = await connect(b_srv.ws)
    await member.enter("made-on-a")
    await member.say("made-on-a", "joined on B")

    rules = ["Be kind.", "One at a time."]
    assert (
        await asyncio.to_thread(admin, "PUT", "/api/admin/rooms/made-on-a", {"rules": rules}) == 200
    )
    updated = await member.expect("room_updated", room="made-on-a", seconds=3)
    assert (updated["rules"], updated["rules_version"]) == (rules, 2)
    refused = await member.request({"type": "send", "room": "made-on-a", "text": "hm"})
    assert refused["code"] == "rules_not_accepted"
    assert (await member.request({"type": "agree", "room": "made-on-a"}))["type"] == "ack"
    await member.say("made-on-a", "agreed to the new rules")

    assert await asyncio.to_thread(admin, "DELETE", "/api/admin/rooms/made-on-a") == 204
    await member.expect("room_closed", room="made-on-a", seconds=3)
    assert "made-on-a" not in await asyncio.to_thread(listed_on_b)
