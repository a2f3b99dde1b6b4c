"""Per-room identity state (handles, roles, agreements) expires by last seen, on both brokers.

One-time members used to stay in every room they joined forever: in the memory broker's dicts,
and in Redis hashes whose key expiry every new claim pushed back. These tests churn members
through the broker API with a clock they move, and read the structures themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis

from rooms.ids import ParticipantId, RoomId
from server.brokers import IDENTITY_SWEEP, Broker
from server.brokers.memory import MemoryBroker
from server.brokers.redis import RedisBroker
from server.joining import HANDLE_TTL_MS
from tests.support import RedisServer

ROOM = RoomId("anxiety")
T0 = 1_700_000_000_000
_IDENTITY_KEYS = ("handles", "owned", "roles", "agreed", "seen")


@dataclass
class Subject:
    """A broker under test and a way to count what it keeps for a room."""

    broker: Broker
    prefix: str
    redis: redis.Redis | None

    def sizes(self, room: RoomId = ROOM) -> dict[str, int]:
        """Entries of each identity structure of `room`."""
        if self.redis is None:
            assert isinstance(self.broker, MemoryBroker)
            state = self.broker._rooms.get(room)
            if state is None:
                return dict.fromkeys(_IDENTITY_KEYS, 0)
            return {
                "handles": len(state.handles),
                "owned": len(state.handle_of),
                "roles": len(state.roles),
                "agreed": len(state.agreed),
                "seen": len(state.seen),
            }
        out = {}
        for name in _IDENTITY_KEYS:
            key = f"{self.prefix}:{{{room}}}:{name}"
            count = self.redis.zcard(key) if name == "seen" else self.redis.hlen(key)
            out[name] = int(count)
        return out

    def key_ttls(self, room: RoomId = ROOM) -> list[int]:
        """PTTL of each Redis identity key of `room` (-2: no key, -1: no expiry)."""
        assert self.redis is not None
        names = (*_IDENTITY_KEYS, "idscan")
        return [int(self.redis.pttl(f"{self.prefix}:{{{room}}}:{n}")) for n in names]


@pytest.fixture(params=["memory", "redis"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    if request.param == "memory":
        broker: Broker = MemoryBroker()
        client = None
        prefix = ""
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        prefix = f"i{uuid.uuid4().hex[:10]}"
        broker = RedisBroker(server.url, prefix)
        client = server.client()
    await broker.start(lambda room, envelope: None)
    try:
        yield Subject(broker, prefix, client)
    finally:
        await broker.close()
        if client is not None:
            client.close()


def pid(i: int) -> ParticipantId:
    return ParticipantId(f"{i:016x}")


async def claim(subject: Subject, i: int, now_ms: int, *names: str) -> str | None:
    candidates = list(names) or [f"Handle {i}", f"Handle {i} 2"]
    return await subject.broker.claim_handle(
        ROOM, pid(i), candidates, HANDLE_TTL_MS, "member", now_ms
    )


async def test_ten_thousand_one_time_members_leave_the_state_bounded(subject: Subject) -> None:
    # 10,000 members join once each (half also agree to the rules) while the clock runs so
    # that the handle lifetime spans exactly 1,000 arrivals: at most 1,000 are ever held.
    window = 1000
    step = HANDLE_TTL_MS // window
    peak = dict.fromkeys(_IDENTITY_KEYS, 0)
    for i in range(10_000):
        now = T0 + i * step
        assert await claim(subject, i, now) == f"Handle {i}"
        if i % 2 == 0:
            await subject.broker.set_agreement(ROOM, pid(i), 1, HANDLE_TTL_MS, now)
        if i % 250 == 249:
            sizes = subject.sizes()
            peak = {k: max(peak[k], sizes[k]) for k in peak}
    assert peak["handles"] == peak["owned"] == peak["roles"] == peak["seen"] == window
    assert peak["agreed"] == window // 2
    # The newest member is still known, the first one long forgotten.
    assert await subject.broker.participant_role(ROOM, pid(9_999)) == ("member", "Handle 9999")
    assert await subject.broker.participant_role(ROOM, pid(0)) is None
    assert await subject.broker.agreement(ROOM, pid(0)) == 0

    # The clock moves past the lifetime of everyone: a few more joins drain the rest (each
    # forgets at most IDENTITY_SWEEP), and only the newcomers remain.
    later = T0 + 10_000 * step + HANDLE_TTL_MS
    newcomers = window // IDENTITY_SWEEP + 1
    for j in range(newcomers):
        await claim(subject, 20_000 + j, later + j)
    assert subject.sizes() == {
        "handles": newcomers,
        "owned": newcomers,
        "roles": newcomers,
        "agreed": 0,
        "seen": newcomers,
    }
    if subject.redis is not None:
        # Every identity key expires with its newest entry (nothing outlives the lifetime).
        ttls = subject.key_ttls()
        assert all(0 < t <= HANDLE_TTL_MS for t in ttls if t != -2), ttls
        assert ttls[3] == -2  # agreed: emptied, so gone


async def test_a_handle_is_held_for_its_lifetime_after_last_seen(subject: Subject) -> None:
    ttl = HANDLE_TTL_MS
    assert await claim(subject, 1, T0, "Warm Yak", "Brave Yak") == "Warm Yak"
    await subject.broker.set_agreement(ROOM, pid(1), 3, ttl, T0)
    # Within the lifetime another member gets the next candidate.
    assert await claim(subject, 2, T0 + ttl - 1, "Warm Yak", "Brave Yak") == "Brave Yak"
    # Coming back refreshes it: the handle is held a lifetime from the last visit.
    assert await claim(subject, 1, T0 + ttl - 1, "Warm Yak") == "Warm Yak"
    assert await claim(subject, 3, T0 + 2 * ttl - 2, "Warm Yak", "Calm Owl") == "Calm Owl"
    assert await subject.broker.agreement(ROOM, pid(1)) == 3
    # A lifetime after the last visit it is free, and the old holder is forgotten.
    assert await claim(subject, 4, T0 + 2 * ttl - 1, "Warm Yak") == "Warm Yak"
    assert await subject.broker.participant_role(ROOM, pid(1)) is None
    assert await subject.broker.agreement(ROOM, pid(1)) == 0
    assert await subject.broker.participant_role(ROOM, pid(4)) == ("member", "Warm Yak")


async def test_no_free_handle_writes_nothing(subject: Subject) -> None:
    assert await claim(subject, 1, T0, "Warm Yak") == "Warm Yak"
    assert await claim(subject, 2, T0 + 1, "Warm Yak") is None
    assert await subject.broker.participant_role(ROOM, pid(2)) is None
    assert subject.sizes()["roles"] == 1 and subject.sizes()["seen"] == 1


async def test_each_call_forgets_a_bounded_number(subject: Subject) -> None:
    for i in range(3 * IDENTITY_SWEEP):
        await claim(subject, i, T0)
    later = T0 + HANDLE_TTL_MS
    await claim(subject, 1000, later)
    assert subject.sizes()["seen"] == 2 * IDENTITY_SWEEP + 1
    await subject.broker.set_agreement(ROOM, pid(1000), 1, HANDLE_TTL_MS, later)
    assert subject.sizes()["seen"] == IDENTITY_SWEEP + 1
    await claim(subject, 1001, later)
    assert subject.sizes() == {"handles": 2, "owned": 2, "roles": 2, "agreed": 1, "seen": 2}


async def test_entries_written_before_last_seen_existed_expire_too(
    redis_server: RedisServer,
) -> None:
    # A room as the previous version left it: hashes, no `seen` scores, no per-entry expiry.
    prefix = f"i{uuid.uuid4().hex[:10]}"
    client = redis_server.client()
    key = f"{prefix}:{{{ROOM}}}:"
    for i in range(300):
        client.hset(key + "handles", f"Old {i}", pid(i))
        client.hset(key + "owned", pid(i), f"Old {i}")
        client.hset(key + "roles", pid(i), "member")
        client.hset(key + "agreed", pid(i), 1)
    subject = Subject(RedisBroker(redis_server.url, prefix), prefix, client)
    await subject.broker.start(lambda room, envelope: None)
    try:
        # Each call gives a page of the old entries a score (the time of the call) ...
        for j in range(40):
            await claim(subject, 1000 + j, T0 + j)
        assert subject.sizes()["seen"] == 340
        assert client.get(key + "idscan") == "done"
        # ... so they expire a lifetime later like any other.
        for j in range(20):
            await claim(subject, 2000 + j, T0 + HANDLE_TTL_MS + 100 + j)
        assert subject.sizes() == {
            "handles": 20, "owned": 20, "roles": 20, "agreed": 0, "seen": 20
        }  # fmt: skip
    finally:
        await subject.broker.close()
        client.close()
