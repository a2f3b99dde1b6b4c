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
from server.brokers.redis_publish import RespScript, RespScripts
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


async def test_script_replies_resolve_their_own_calls_in_order(redis_server: RedisServer) -> None:
    script = RespScript(redis_server.url, ECHO)
    failing = RespScript(redis_server.url, "return redis.call('NOPE')")
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
    script = RespScript(redis_server.url, ECHO + " -- cache test " + uuid.uuid4().hex)
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
        script = RespScript(redis_server.url, "return redis.call('PUBLISH', KEYS[1], ARGV[1])")
        try:
            await sub.subscribe(channel)
            await _next(sub, "subscribe")
            assert await script.call([channel], ["hello"]) == 1
            assert (await _next(sub, "message"))["data"] == "hello"
        finally:
            await sub.aclose()
            await script.aclose()

    uvloop.run(scenario())
