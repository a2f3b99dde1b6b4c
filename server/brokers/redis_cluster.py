"""The Redis Cluster broker: the Redis broker with sharded pub/sub, for more than one Redis.

Every key and the channel of a room carry the hash tag `{room}`, so a room lives in one slot:
its Lua scripts run on one node and publish with SPUBLISH to a shard channel on that node.
A process holds one subscription connection per node that owns a slot of its rooms (sharded
pub/sub is per node), read by one task each; to the Redis broker above them they look like
the single subscription of a plain Redis (`_ShardedSubscription`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from server.brokers import EventHandler
from server.brokers.redis import _REDIS_ERRORS, RedisBroker, _Script

__all__ = ["RedisClusterBroker", "cluster_url"]

_PUBLISH = re.compile(r"redis\.call\('PUBLISH'")


def cluster_url(url: str) -> str:
    """`redis+cluster://host:port/0` (one seed node) as redis-py's cluster client takes it."""
    return "redis://" + url.split("://", 1)[1]


class _ShardedSubscription:
    """SSUBSCRIBE on the node that owns each channel's slot, behind the interface of one
    plain `PubSub`: `subscribe`, `unsubscribe`, `get_message`, `aclose`. Messages come back as
    `subscribe`/`message` like a plain subscription's. A failed node connection makes the next
    `get_message` raise, and the broker then builds a new subscription."""

    def __init__(self, cluster: RedisCluster) -> None:
        self._cluster = cluster
        self._nodes: dict[str, Any] = {}  # node name -> plain PubSub on that node
        self._clients: list[aioredis.Redis] = []
        self._readers: list[asyncio.Task[None]] = []
        self._queue: asyncio.Queue[dict[str, Any] | BaseException] = asyncio.Queue()

    def _node(self, channel: str) -> Any:
        node = self._cluster.get_node_from_key(channel)
        if node is None:
            raise RedisClusterException("no node owns the channel's slot")
        return node

    async def _pubsub_for(self, channel: str) -> Any:
        node = self._node(channel)
        pubsub = self._nodes.get(node.name)
        if pubsub is None:
            client = aioredis.Redis(
                host=node.host, port=node.port, decode_responses=True, socket_connect_timeout=2
            )
            self._clients.append(client)
            pubsub = self._nodes[node.name] = client.pubsub()
            # SSUBSCRIBE first: a PubSub connects on its first command.
            await pubsub.ssubscribe(channel)
            self._readers.append(asyncio.create_task(self._read(pubsub)))
            return None
        return pubsub

    async def _read(self, pubsub: Any) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is None:
                    continue
                kind = message.get("type")
                if kind == "smessage":
                    message["type"] = "message"
                elif kind == "ssubscribe":
                    message["type"] = "subscribe"
                self._queue.put_nowait(message)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._queue.put_nowait(exc)

    async def subscribe(self, *channels: str) -> None:
        await self._cluster.initialize()
        for channel in channels:
            pubsub = await self._pubsub_for(channel)
            if pubsub is not None:
                await pubsub.ssubscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        pubsub = self._nodes.get(self._node(channel).name)
        if pubsub is not None:
            await pubsub.sunsubscribe(channel)

    async def get_message(
        self,
        timeout: float | None = None,  # noqa: ASYNC109 - the signature of redis-py's PubSub
    ) -> dict[str, Any] | None:
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    async def aclose(self) -> None:
        for task in self._readers:
            task.cancel()
        for task in self._readers:
            with contextlib.suppress(BaseException):
                await task
        for pubsub in self._nodes.values():
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.aclose()


class RedisClusterBroker(RedisBroker):
    """`server.brokers.Broker` on Redis Cluster with sharded pub/sub."""

    transactions = False  # a cluster pipeline runs no MULTI/EXEC

    async def start(self, on_event: EventHandler) -> None:
        # redis-py (8.1) decides where a command goes before it initializes a fresh client, so
        # calls made at once on one go to any node and are MOVED, and its fifth MOVED closes
        # every connection of the client, those the other calls are using too (they fail with
        # an AttributeError, seen in tests/test_broker_contract.py). Initialized here, before
        # any call; the subscription initializes `_client` itself.
        with contextlib.suppress(*_REDIS_ERRORS):
            await self._publisher_client.initialize()
        await super().start(on_event)

    def _make_client(self, url: str, **options: Any) -> Any:
        options.pop("max_connections", None)
        options.pop("health_check_interval", None)
        return RedisCluster.from_url(cluster_url(url), decode_responses=True, **options)

    def _script(self, source: str) -> _Script:
        return _Script(_PUBLISH.sub("redis.call('SPUBLISH'", source))

    def _new_pubsub(self) -> Any:
        return _ShardedSubscription(self._client)

    async def _publish_to(self, client: Any, channel: str, data: str) -> None:
        await client.spublish(channel, data)
