"""The broker's own pub/sub connection, against a real redis-server: what redis-py's PubSub
gave the broker (confirmations, messages, unsubscribe), passwords, and a lost connection."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

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
    assert RespSubscription.supports("redis://127.0.0.1:6379/0")
    assert not RespSubscription.supports("rediss://example.org:6380/0")
    assert not RespSubscription.supports("unix:///run/redis.sock")
