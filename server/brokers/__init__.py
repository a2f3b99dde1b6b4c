"""Fan-out between processes and the room state they share: the broker.

Two implementations: `memory` (one process only, the embedded default and the reference
behaviour) and `redis` (any number of processes and hosts; `redis_cluster` for Redis Cluster).
`open_broker(url)` picks one by URL. Fan-out to local sockets happens once, above the broker, in
`server.hub`. The contract, split by what it stores (`Lifecycle`, `Messages`, `Presence`,
`RoomState`, `Queue`, `Identity`) with the guarantees written on each, is in
`server.brokers.contract` and re-exported here; `Broker` is all of it.
"""

from __future__ import annotations

from server.brokers.contract import (
    IDENTITY_SWEEP,
    Broker,
    BrokerUnavailable,
    DirectoryEntry,
    EventHandler,
    HistoryLimits,
    Identity,
    Joining,
    JoinView,
    Lifecycle,
    Messages,
    MoodAnswer,
    Moods,
    MoodSession,
    Presence,
    PresenceChange,
    Queue,
    RoomDefinitions,
    RoomState,
    RoomWrite,
    Staff,
)

__all__ = [
    "IDENTITY_SWEEP",
    "Broker",
    "BrokerUnavailable",
    "DirectoryEntry",
    "EventHandler",
    "HistoryLimits",
    "Identity",
    "JoinView",
    "Joining",
    "Lifecycle",
    "Messages",
    "MoodAnswer",
    "MoodSession",
    "Moods",
    "Presence",
    "PresenceChange",
    "Queue",
    "RoomDefinitions",
    "RoomState",
    "RoomWrite",
    "Staff",
    "open_broker",
]


def open_broker(
    url: str | None,
    prefix: str = "psc",
    state_url: str | None = None,
    ping_interval_s: float = 5.0,
) -> Broker:
    """The broker for `url`: Redis Cluster for redis+cluster://, Redis for redis://, rediss://
    and unix://, the in-memory broker when None. On Redis, `state_url` (default: `url`) holds
    the durable room state and `url` the history and pub/sub (see server/brokers/redis.py), and
    the subscription is checked for silence every `ping_interval_s`."""
    if url is None:
        from server.brokers.memory import MemoryBroker

        return MemoryBroker()
    if url.startswith("redis+cluster://"):
        from server.brokers.redis_cluster import RedisClusterBroker

        if state_url not in (None, url):
            raise ValueError("a cluster broker keeps all its state on the cluster")
        return RedisClusterBroker(url, prefix, ping_interval_s=ping_interval_s)
    from server.brokers.redis import RedisBroker

    return RedisBroker(url, prefix, state_url, ping_interval_s)
