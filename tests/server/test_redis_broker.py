"""The Redis broker itself, on a real redis-server (and a Redis Cluster): bursts beyond its pool
wait, never fail."""

from __future__ import annotations

import asyncio
import uuid

from rooms.ids import RoomId
from server.brokers import HistoryLimits, open_broker
from server.brokers.redis import RedisBroker
from tests.support import RedisClusterNodes, RedisServer


async def test_bursts_wait_for_a_connection_instead_of_failing(redis_server: RedisServer) -> None:
    broker = RedisBroker(redis_server.url, f"b{uuid.uuid4().hex[:8]}")
    got: list[str] = []
    all_in = asyncio.Event()

    def on_event(room: RoomId, envelope: str) -> None:
        if envelope.startswith("R"):  # the first history read also announces the new epoch
            got.append(envelope)
            if len(got) == 300:
                all_in.set()

    await broker.start(on_event)
    try:
        room = RoomId("anxiety")
        await broker.subscribe(room)
        limits = HistoryLimits(200, 86_400_000)
        # Far more at once than either pool holds (4 publishers, 64 others).
        await asyncio.gather(
            *(broker.publish(room, f'R{{"n":{i}}}') for i in range(300)),
            *(broker.history(room, 0, limits) for _ in range(300)),
        )
        await asyncio.wait_for(all_in.wait(), 10)
        assert sorted(got) == sorted(f'R{{"n":{i}}}' for i in range(300))
    finally:
        await broker.close()


async def test_a_fresh_cluster_broker_takes_a_burst_at_once(
    redis_cluster: RedisClusterNodes,
) -> None:
    """redis-py routes calls made at once on a fresh cluster client to any node; the MOVED
    replies made it close every connection, those of the other calls too (an AttributeError,
    no Redis error). The broker initializes its clients when it starts."""
    for _ in range(3):
        broker = open_broker(redis_cluster.url, f"b{uuid.uuid4().hex[:8]}")
        await broker.start(lambda room, envelope: None)
        try:
            room = RoomId("anxiety")
            await asyncio.gather(*(broker.publish(room, f'R{{"n":{i}}}') for i in range(20)))
        finally:
            await broker.close()
