"""Redis faults injected for real: a redis-server of the test's own is stopped, killed,
restarted, flushed, has its subscription connection killed, or goes silent behind a proxy."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from server.brokers.redis import RedisBroker
from server.tokens import TokenService
from tests.conftest import TEST_SECRET, AppServer, ConnectClient, StartServer
from tests.support import Client, RedisServer, free_port, timeout

pytestmark = pytest.mark.redis
ROOM = "anxiety"


@pytest.fixture
def broker_kind() -> str:
    # Every test here is about one Redis, the test's own, holding both stores (one URL).
    return "redis-single"


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server this test may kill (not started yet)."""
    server = RedisServer(tmp_path)
    yield server
    server.stop()


async def until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> float:
    """Await `check` until true (bounded); the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout(seconds)
    while time.monotonic() < deadline:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def ready(server: AppServer) -> int:
    return await asyncio.to_thread(_status, f"{server.http}/readyz")


def broker_of(server: AppServer) -> RedisBroker:
    broker = server.app.state.services.broker
    assert isinstance(broker, RedisBroker)
    return broker


def crash(redis_server: RedisServer) -> None:
    """SIGKILL: no shutdown save, connections reset."""
    assert redis_server.proc is not None
    redis_server.proc.kill()
    redis_server.proc.wait()
    redis_server.proc = None


async def facilitator(url: str, connect: ConnectClient) -> Client:
    client = await connect(url, hello=False)
    token = TokenService((TEST_SECRET,), 3600).issue_facilitator("Sam", None, 1)
    await client.hello(facilitator_token=token)
    return client


async def test_unreachable_at_start_then_recovers_by_itself(
    own_redis: RedisServer, start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(REDIS_URL=own_redis.url)
    assert await ready(server) == 503
    client = await connect(server.ws)  # hello needs no broker
    answer = await client.request({"type": "join", "room": ROOM})
    assert answer["code"] == "unavailable"

    own_redis.start()

    async def joins() -> bool:
        answer = await client.request({"type": "join", "room": ROOM})
        return bool(answer["type"] == "joined")

    took = await until(joins, 5, "join to work again")
    assert took < timeout(5)
    assert await ready(server) == 200
    await client.request({"type": "agree", "room": ROOM})
    await client.say(ROOM, "back")


async def test_restart_mid_session_keeps_messages_sanctions_and_subscriptions(
    own_redis: RedisServer, start_server: StartServer, connect: ConnectClient
) -> None:
    own_redis.start("--appendonly", "yes", "--appendfsync", "always")
    server = await start_server(REDIS_URL=own_redis.url, BROKER_PING_SECONDS="0.3")
    staff = await facilitator(server.ws, connect)
    await staff.enter(ROOM)
    speaker, reader, muted = [await connect(server.ws) for _ in range(3)]
    await speaker.enter(ROOM)
    await reader.enter(ROOM)
    muted_pid = (await muted.enter(ROOM))["participant"]
    await staff.request({"type": "mute", "room": ROOM, "participant": muted_pid, "minutes": 5})
    await muted.expect("muted")
    acked = [(await speaker.say(ROOM, f"before {i}"))["id"] for i in range(3)]

    crash(own_redis)
    answer = await speaker.request({"type": "send", "room": ROOM, "text": "lost?"})
    assert answer["code"] == "unavailable"  # never acknowledged, so never promised
    own_redis.start("--appendonly", "yes", "--appendfsync", "always")

    async def sends() -> bool:
        answer = await speaker.request({"type": "send", "room": ROOM, "text": "after"})
        if answer["type"] == "ack":
            acked.append(answer["id"])
        return bool(answer["type"] == "ack")

    await until(sends, 5, "sending to work again")
    await until(lambda: _true(broker_of(server).resubscriptions >= 1), 5, "resubscription")
    acked += [(await speaker.say(ROOM, f"later {i}"))["id"] for i in range(3)]
    assert acked == sorted(acked) and len(set(acked)) == len(acked)  # ids continue
    for msg_id in acked[3:]:
        await reader.expect("message", id=msg_id)
    # the mute survived (Redis kept it; this process's view was never lost)
    assert (await muted.request({"type": "send", "room": ROOM, "text": "x"}))["code"] == "muted"
    late = await connect(server.ws)
    history = [m["id"] for m in (await late.join(ROOM))["history"]]
    assert [i for i in acked if i not in history] == []  # every acknowledged message is there


async def _true(value: bool) -> bool:
    return value


async def test_data_lost_gives_a_new_epoch_and_never_repeats_an_id_within_one(
    own_redis: RedisServer, start_server: StartServer, connect: ConnectClient
) -> None:
    own_redis.start()
    server = await start_server(REDIS_URL=own_redis.url)
    speaker, reader = await connect(server.ws), await connect(server.ws)
    joined = await speaker.enter(ROOM)
    await reader.enter(ROOM)
    old = [(await speaker.say(ROOM, f"old {i}"))["id"] for i in range(3)]

    own_redis.client().flushall()
    new = [(await speaker.say(ROOM, f"new {i}"))["id"] for i in range(3)]
    reset = await reader.expect("room_reset", room=ROOM)
    assert reset["epoch"] != joined["epoch"]
    assert new == sorted(new) and len(set(new)) == 3

    again = await connect(server.ws)
    rejoined = await again.join(ROOM, since=old[-1], epoch=joined["epoch"])
    assert rejoined["recovered"] is False and rejoined["epoch"] == reset["epoch"]
    assert [m["id"] for m in rejoined["history"]] == new
    # within each epoch, the ids the reader saw are unique and increasing
    epoch, seen = joined["epoch"], dict[str, list[int]]()
    for frame in reader.frames:
        if frame.get("type") == "room_reset":
            epoch = frame["epoch"]
        elif frame.get("type") == "message":
            seen.setdefault(epoch, []).append(frame["id"])
    for ids in seen.values():
        assert ids == sorted(set(ids))


async def test_killed_subscription_is_restored_and_misses_nothing(
    own_redis: RedisServer, start_server: StartServer, connect: ConnectClient
) -> None:
    own_redis.start()
    # The gap loop sends as fast as the server answers: no rate limit may cut it short.
    server = await start_server(
        REDIS_URL=own_redis.url,
        SEND_BURST="5000",
        SEND_PER_SECOND="5000",
        FRAME_BURST="5000",
        FRAME_PER_SECOND="5000",
    )
    broker = broker_of(server)
    speaker, reader = await connect(server.ws), await connect(server.ws)
    await speaker.enter(ROOM)
    await reader.enter(ROOM)
    acked = [(await speaker.say(ROOM, f"a{i}"))["id"] for i in range(5)]

    killed = own_redis.client().client_kill_filter(_type="pubsub")
    assert killed >= 1
    in_gap = 0
    while broker.resubscriptions == 0:  # sent while this process had no subscription
        acked.append((await speaker.say(ROOM, f"gap{len(acked)}"))["id"])
        in_gap += 1
        assert in_gap < 2000, "the subscription was never restored"
    acked += [(await speaker.say(ROOM, f"b{i}"))["id"] for i in range(5)]

    received = [(await reader.expect("message", id=i))["id"] for i in acked]
    ids = [f["id"] for f in reader.frames if f.get("type") == "message"]
    assert ids == received == sorted(set(ids))  # in order, each once
    assert in_gap == 0 or broker.recovered >= 1


class FreezingProxy:
    """A TCP proxy in front of Redis that can stop forwarding on the subscription connections
    (recognised by their SUBSCRIBE) while keeping their sockets open: a silent subscriber."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.frozen: set[int] = set()
        self._subscribers: set[int] = set()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    def freeze_subscribers(self) -> None:
        self.frozen |= self._subscribers

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers += [writer, up_writer]
        conn = id(writer)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    if up and b"SUBSCRIBE" in data.upper():
                        self._subscribers.add(conn)
                    if conn in self.frozen:
                        continue  # swallowed: no error, no delivery
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))


@pytest.fixture
async def proxy(own_redis: RedisServer) -> AsyncIterator[FreezingProxy]:
    own_redis.start()
    proxy = FreezingProxy(own_redis.port)
    await proxy.start()
    yield proxy
    await proxy.close()


async def test_silent_subscriber_is_detected_by_its_heartbeat(
    proxy: FreezingProxy, start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(REDIS_URL=proxy.url, BROKER_PING_SECONDS="0.2")
    broker = broker_of(server)
    speaker, reader = await connect(server.ws), await connect(server.ws)
    await speaker.enter(ROOM)
    await reader.enter(ROOM)
    await reader.expect("message", id=(await speaker.say(ROOM, "before"))["id"])

    proxy.freeze_subscribers()
    said = await speaker.say(ROOM, "into the silence")  # stored and published, not delivered
    msg = await reader.expect("message", seconds=5, id=said["id"])
    assert msg["text"] == "into the silence"
    assert broker.resubscriptions >= 1
    await reader.expect("message", id=(await speaker.say(ROOM, "after"))["id"])


async def test_sanction_changed_while_unsubscribed_is_applied_on_resubscribe(
    own_redis: RedisServer, start_server: StartServer, connect: ConnectClient
) -> None:
    """A mute set by another process while this one had no subscription still holds here."""
    own_redis.start()
    env: dict[str, Any] = {"REDIS_URL": own_redis.url, "REDIS_PREFIX": "shared"}
    here = await start_server(**env)
    there = await start_server(**env)
    member = await connect(here.ws)
    pid = (await member.enter(ROOM))["participant"]
    staff = await facilitator(there.ws, connect)
    await staff.enter(ROOM)
    broker = broker_of(here)
    # kill the subscriptions, and mute before this process's is back
    own_redis.client().client_kill_filter(_type="pubsub")
    await staff.request({"type": "mute", "room": ROOM, "participant": pid, "minutes": 5})
    await until(lambda: _true(broker.resubscriptions >= 1), 5, "resubscription")
    await member.expect("muted", seconds=5)
    assert (await member.request({"type": "send", "room": ROOM, "text": "x"}))["code"] == "muted"
    assert json.dumps(member.frames)  # all frames well-formed
