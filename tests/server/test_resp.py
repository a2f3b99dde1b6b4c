"""The broker's bare RESP connections, against a real redis-server: the subscription (what
redis-py's PubSub gave the broker: confirmations, messages, unsubscribe), the script caller
(replies in order, a lost script cache, a lost connection), passwords, and both under uvloop,
the loop `peer-support serve` runs on."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

import pytest
import redis
import uvloop
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

from server.brokers import redis_publish, resp
from server.brokers import redis_scripts as lua
from server.brokers.redis_publish import MESSAGES_PER_CALL, MessageScript, RespScripts
from server.brokers.redis_subscription import RespSubscription
from tests.support import RedisServer


async def _next(sub: RespSubscription, kind: str) -> dict[str, object]:
    for _ in range(20):
        message = await sub.get_message(timeout=2.0)
        assert message is not None, f"no {kind} within 2 s"
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind}")


async def test_subscribe_receive_unsubscribe(redis_server: RedisServer) -> None:
    channel = f"t:{uuid.uuid4().hex}"
    sub = RespSubscription(redis_server.url)
    publisher = redis.Redis(port=redis_server.port)
    try:
        await sub.subscribe(channel, channel + ":b")
        first = await _next(sub, "subscribe")
        assert first["channel"] == channel
        await _next(sub, "subscribe")

        text = "héllo " + "x" * 70_000  # past one read of the socket: reassembled by hiredis
        publisher.publish(channel, text)
        message = await _next(sub, "message")
        assert message == {"type": "message", "channel": channel, "data": text}

        await sub.unsubscribe(channel)
        assert (await _next(sub, "unsubscribe"))["channel"] == channel
        publisher.publish(channel, "not for us")
        publisher.publish(channel + ":b", "still ours")
        assert (await _next(sub, "message"))["data"] == "still ours"
        assert await sub.get_message(timeout=0.05) is None  # nothing else came
    finally:
        await sub.aclose()
        publisher.close()


async def test_a_lost_connection_raises_instead_of_going_silent(redis_server: RedisServer) -> None:
    channel = f"t:{uuid.uuid4().hex}"
    sub = RespSubscription(redis_server.url)
    admin = redis.Redis(port=redis_server.port)
    try:
        await sub.subscribe(channel)
        await _next(sub, "subscribe")
        admin.client_kill_filter(_type="pubsub")
        with pytest.raises(RedisConnectionError):
            await sub.get_message(timeout=2.0)
        with pytest.raises(RedisConnectionError):
            await sub.subscribe("again")
    finally:
        await sub.aclose()
        admin.close()


async def test_unreachable_server_is_a_redis_error() -> None:
    sub = RespSubscription("redis://127.0.0.1:1/0")
    with pytest.raises(RedisError):
        await sub.subscribe("x")


async def test_password_from_the_url(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    try:
        port = server.port
        with redis.Redis(port=port) as admin:
            admin.config_set("requirepass", "s3cret")
        good = RespSubscription(f"redis://:s3cret@127.0.0.1:{port}/0")
        await good.subscribe("c")
        assert (await _next(good, "subscribe"))["channel"] == "c"
        await good.aclose()

        wrong = RespSubscription(f"redis://:wrong@127.0.0.1:{port}/0")
        with pytest.raises(RedisError):
            await wrong.subscribe("c")  # AUTH is refused
        await wrong.aclose()

        missing = RespSubscription(f"redis://127.0.0.1:{port}/0")
        await missing.subscribe("c")  # written; Redis answers it with NOAUTH
        with pytest.raises(RedisError):
            await missing.get_message(timeout=2.0)
        await missing.aclose()
    finally:
        server.stop()


def test_only_plain_redis_urls_take_the_lean_path() -> None:
    assert resp.supports("redis://127.0.0.1:6379/0")
    assert not resp.supports("rediss://example.org:6380/0")
    assert not resp.supports("unix:///run/redis.sock")


ECHO = "return {tonumber(ARGV[1]) + 1, KEYS[1]}"


class _OneScript:
    """One script on a `RespScripts` connection of its own: `call(keys, args)`."""

    def __init__(self, url: str, source: str) -> None:
        self.scripts = RespScripts(url)
        self.source = source

    async def call(self, keys: list[str], args: list[object]) -> object:
        return await self.scripts.run(self.source, keys, args)

    async def aclose(self) -> None:
        await self.scripts.aclose()


async def test_script_replies_resolve_their_own_calls_in_order(redis_server: RedisServer) -> None:
    script = _OneScript(redis_server.url, ECHO)
    failing = _OneScript(redis_server.url, "return redis.call('NOPE')")
    try:
        results = await asyncio.gather(*(script.call([f"k{i}"], [i]) for i in range(200)))
        assert results == [[i + 1, f"k{i}"] for i in range(200)]
        with pytest.raises(ResponseError):
            await failing.call([], [])
        assert await script.call(["after"], [0]) == [1, "after"]  # an error costs nothing else
    finally:
        await script.aclose()
        await failing.aclose()


async def test_script_survives_a_lost_script_cache_and_a_lost_connection(
    redis_server: RedisServer,
) -> None:
    script = _OneScript(redis_server.url, ECHO + " -- cache test " + uuid.uuid4().hex)
    admin = redis.Redis(port=redis_server.port)
    try:
        assert await script.call(["a"], [1]) == [2, "a"]
        admin.script_flush()  # as after a Redis restart: EVALSHA answers NOSCRIPT
        assert await script.call(["b"], [2]) == [3, "b"]

        # Killed by the server: a call racing the kill may fail (said, never retried behind
        # the caller's back: it could run twice), and the next call opens a new connection.
        assert admin.client_kill_filter(_type="normal", skipme=True) >= 1
        with contextlib.suppress(RedisConnectionError):
            await script.call(["c"], [3])
        assert await script.call(["d"], [4]) == [5, "d"]
    finally:
        await script.aclose()
        admin.close()


async def test_several_scripts_share_one_connection_in_order(redis_server: RedisServer) -> None:
    scripts = RespScripts(redis_server.url)
    double = "return tonumber(ARGV[1]) * 2 -- " + uuid.uuid4().hex
    admin = redis.Redis(port=redis_server.port)
    try:
        calls = [
            scripts.run(ECHO, [f"k{i}"], [i]) if i % 2 else scripts.run(double, [], [i])
            for i in range(100)
        ]
        assert await asyncio.gather(*calls) == [
            [i + 1, f"k{i}"] if i % 2 else i * 2 for i in range(100)
        ]
        # Both lost from the script cache at once: each call is answered by its own script.
        admin.script_flush()
        mixed = await asyncio.gather(scripts.run(double, [], [21]), scripts.run(ECHO, ["x"], [1]))
        assert list(mixed) == [42, [2, "x"]]
    finally:
        await scripts.aclose()
        admin.close()


async def test_a_redis_that_stops_answering_fails_the_call_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A server that accepts and reads but never answers (a frozen Redis, a stalled proxy).
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(4096):
            pass

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(redis_publish, "CALL_TIMEOUT_S", 0.3)
    scripts = RespScripts(f"redis://127.0.0.1:{port}/0")
    try:
        async with asyncio.timeout(5):
            outcomes = await asyncio.gather(
                scripts.run(ECHO, ["a"], [1]), scripts.run(ECHO, ["b"], [2]),
                return_exceptions=True,
            )  # fmt: skip
        assert all(isinstance(o, RedisConnectionError) for o in outcomes)
    finally:
        await scripts.aclose()
        server.close()
        for writer in held:
            writer.close()


def test_both_under_uvloop(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        channel = f"t:{uuid.uuid4().hex}"
        sub = RespSubscription(redis_server.url)
        script = _OneScript(redis_server.url, "return redis.call('PUBLISH', KEYS[1], ARGV[1])")
        try:
            await sub.subscribe(channel)
            await _next(sub, "subscribe")
            assert await script.call([channel], ["hello"]) == 1
            assert (await _next(sub, "message"))["data"] == "hello"
        finally:
            await sub.aclose()
            await script.aclose()

    uvloop.run(scenario())


def _room_keys(prefix: str, room: str) -> list[str]:
    return [f"{prefix}:{{{room}}}:{name}" for name in ("seq", "epoch", "hist", "floor", "ch")]


def _stream(admin: redis.Redis, key: str) -> list[tuple[str, dict[str, str]]]:
    entries = admin.xrange(key) or []
    return [(str(i), {str(k): str(v) for k, v in (f or {}).items()}) for i, f in entries]


def _message_args(text: str) -> list[object]:
    # now_ms, max_messages, max_age_ms, candidate epoch, head, tail, private
    return [1_000, 50, 60_000, "e1", '{"id":', f',"text":"{text}"}}', ""]


async def test_the_messages_of_one_turn_go_in_one_script_call(redis_server: RedisServer) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    script = MessageScript(redis_server.url, lua.PUBLISH_MESSAGES)
    admin = redis.Redis(port=redis_server.port, decode_responses=True)
    try:
        await script.ready()
        admin.config_resetstat()
        rooms = ["a", "b", "c"]
        calls = [
            script.publish(_room_keys(prefix, rooms[i % 3]), _message_args(f"m{i}"))
            for i in range(30)
        ]
        results = await asyncio.gather(*calls)
        assert admin.info("commandstats")["cmdstat_evalsha"]["calls"] == 1
        # Each caller gets its own message's id: 1..10 in each room, in the order sent.
        for r, room in enumerate(rooms):
            assert [results[i] for i in range(r, 30, 3)] == [(n, "e1") for n in range(1, 11)]
            stream = _stream(admin, _room_keys(prefix, room)[2])
            assert [e[0] for e in stream] == [f"{n}-0" for n in range(1, 11)]
            assert stream[0][1]["f"] == f'{{"id":1,"text":"m{r}"}}'
        # The next turn's messages are the next call.
        assert await script.publish(_room_keys(prefix, "a"), _message_args("later")) == (11, "e1")
        assert admin.info("commandstats")["cmdstat_evalsha"]["calls"] == 2
        # A turn of more than MESSAGES_PER_CALL messages takes several calls, in order.
        many = 2 * MESSAGES_PER_CALL + 1
        ids = await asyncio.gather(
            *(script.publish(_room_keys(prefix, "d"), _message_args(str(i))) for i in range(many))
        )
        assert [msg_id for msg_id, _ in ids] == list(range(1, many + 1))
        assert admin.info("commandstats")["cmdstat_evalsha"]["calls"] == 2 + 3
    finally:
        await script.aclose()
        admin.close()


async def test_a_message_redis_refuses_fails_alone(redis_server: RedisServer) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    script = MessageScript(redis_server.url, lua.PUBLISH_MESSAGES)
    admin = redis.Redis(port=redis_server.port, decode_responses=True)
    try:
        broken = _room_keys(prefix, "broken")
        admin.set(broken[1], "e1")  # a room with an epoch (so its keys are not reset) ...
        admin.set(broken[2], "not a stream")  # ... whose history is no stream: XADD refuses
        outcomes = await asyncio.gather(
            script.publish(_room_keys(prefix, "a"), _message_args("first")),
            script.publish(_room_keys(prefix, "broken"), _message_args("lost")),
            script.publish(_room_keys(prefix, "a"), _message_args("third")),
            return_exceptions=True,
        )
        assert outcomes[0] == (1, "e1")
        assert isinstance(outcomes[1], ResponseError)
        assert "WRONGTYPE" in str(outcomes[1])
        assert outcomes[2] == (2, "e1")
        texts = [fields["f"] for _, fields in _stream(admin, _room_keys(prefix, "a")[2])]
        assert texts == ['{"id":1,"text":"first"}', '{"id":2,"text":"third"}']
    finally:
        await script.aclose()
        admin.close()


async def test_a_lost_connection_fails_every_message_of_the_call(
    redis_server: RedisServer,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    script = MessageScript(redis_server.url, lua.PUBLISH_MESSAGES)
    admin = redis.Redis(port=redis_server.port, decode_responses=True)
    try:
        await script.ready()
        admin.client_pause(300, all=True)  # the call is sent, not answered
        calls = [
            asyncio.ensure_future(script.publish(_room_keys(prefix, "a"), _message_args(str(i))))
            for i in range(3)
        ]
        await asyncio.sleep(0)  # the turn ends: the call is written
        await asyncio.sleep(0)
        assert admin.client_kill_filter(_type="normal", skipme=True) >= 1
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(o, RedisConnectionError) for o in outcomes), outcomes
        # The next message opens a new connection.
        msg_id, _ = await script.publish(_room_keys(prefix, "a"), _message_args("after"))
        assert msg_id >= 1
    finally:
        await script.aclose()
        admin.close()
