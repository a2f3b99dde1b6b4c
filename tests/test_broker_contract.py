"""The broker contract (server/brokers/__init__.py), held to the same tests on every backend:
the in-memory broker, one Redis, two Redis servers (history and durable state apart, as
shipped), and a three-node Redis Cluster, all real.

Grouped by what the broker stores: messages and pub/sub, presence, room state, the queue and
the audit log, and per-room identity (handles, roles, agreements).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from rooms.ids import ParticipantId, RoomId
from server import envelope
from server.brokers import Broker, HistoryLimits, open_broker
from tests.support import RedisClusterNodes, RedisServer, timeout

ROOM = RoomId("anxiety")
OTHER = RoomId("bipolar")
LIMITS = HistoryLimits(200, 86_400_000)
P1, P2, P3 = ParticipantId("p1"), ParticipantId("p2"), ParticipantId("p3")


@dataclass
class Harness:
    broker: Broker
    events: list[tuple[RoomId, str]] = field(default_factory=list)

    def on_event(self, room: RoomId, envelope: str) -> None:
        self.events.append((room, envelope))

    async def until(self, check: Callable[[], bool], what: str) -> None:
        """Wait (bounded) for `check` to hold; delivery is asynchronous on every backend."""
        deadline = time.monotonic() + timeout(5)
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; got {self.events[-5:]}")
            await asyncio.sleep(0.005)

    def of(self, room: RoomId, kind: str = "R") -> list[str]:
        return [e[1:] for r, e in self.events if r == room and e.startswith(kind)]


@pytest.fixture(params=["memory", "redis", "redis-split", "redis-cluster"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    prefix = f"k{uuid.uuid4().hex[:10]}"
    if request.param == "memory":
        broker = open_broker(None)
    elif request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        broker = open_broker(server.url, prefix)
    elif request.param == "redis-split":
        server = request.getfixturevalue("redis_server")
        state: RedisServer = request.getfixturevalue("redis_state_server")
        broker = open_broker(server.url, prefix, state.url)
    else:
        cluster: RedisClusterNodes = request.getfixturevalue("redis_cluster")
        broker = open_broker(cluster.url, prefix)
    h = Harness(broker)
    await broker.start(h.on_event)
    try:
        yield h
    finally:
        await broker.close()


def _head(room: RoomId) -> str:
    return envelope.message_head(room)


async def _post(h: Harness, room: RoomId, text: str, now_ms: int = 1_000, **kw: object) -> int:
    tail = envelope.message_tail({"text": text})
    msg_id, _ = await h.broker.publish_message(room, _head(room), tail, now_ms, LIMITS, **kw)  # type: ignore[arg-type]
    return msg_id


# -- messages and pub/sub -----------------------------------------------------------------------


async def test_messages_get_increasing_ids_and_arrive_in_order(harness: Harness) -> None:
    h = harness
    await h.broker.subscribe(ROOM)
    ids = [await _post(h, ROOM, f"m{i}") for i in range(20)]
    assert ids == sorted(ids) and len(set(ids)) == 20
    await h.until(lambda: len(h.of(ROOM)) >= 20, "20 messages")
    delivered = [json.loads(f) for f in h.of(ROOM)]
    assert [m["id"] for m in delivered] == ids
    assert [m["text"] for m in delivered] == [f"m{i}" for i in range(20)]
    page = await h.broker.history(ROOM, 2_000, LIMITS)
    assert [i for i, _ in page.entries] == ids and page.last_id == ids[-1]
    assert json.loads(page.entries[3][1]) == delivered[3]
    assert await h.broker.get_message(ROOM, ids[3]) == page.entries[3][1]


async def test_history_is_bounded_and_remembers_its_floor(harness: Harness) -> None:
    h = harness
    small = HistoryLimits(5, 60_000)
    for i in range(8):
        tail = envelope.message_tail({"text": f"m{i}"})
        await h.broker.publish_message(ROOM, _head(ROOM), tail, 1_000 + i, small)
    page = await h.broker.history(ROOM, 2_000, small)
    assert [i for i, _ in page.entries] == [4, 5, 6, 7, 8] and page.floor == 3
    # and by age: everything is older than a minute a minute later
    aged = await h.broker.history(ROOM, 1_000 + 61_000 + 8, small)
    assert aged.entries == [] and aged.floor == 8 and aged.last_id == 8


async def test_delete_and_reset(harness: Harness) -> None:
    h = harness
    first = await _post(h, ROOM, "keep")
    gone = await _post(h, ROOM, "gone")
    assert await h.broker.delete_message(ROOM, gone) is True
    assert await h.broker.delete_message(ROOM, gone) is False
    assert await h.broker.get_message(ROOM, gone) is None
    before = await h.broker.history(ROOM, 2_000, LIMITS)
    assert [i for i, _ in before.entries] == [first]
    epoch = await h.broker.reset_history(ROOM)
    after = await h.broker.history(ROOM, 2_000, LIMITS)
    assert epoch == after.epoch != before.epoch and after.entries == []
    # ids keep increasing across epochs, so a stale `since` is never mistaken for a new one
    assert await _post(h, ROOM, "new") > gone


async def test_a_private_message_is_delivered_but_never_stored(harness: Harness) -> None:
    h = harness
    await h.broker.subscribe(ROOM)
    msg_id = await _post(h, ROOM, "just us", private_to="p1")
    # (Redis also announces the room's first epoch with a control event: not what we look for)
    await h.until(
        lambda: any(json.loads(c)["k"] == "to" for c in h.of(ROOM, "C")), "the private delivery"
    )
    event = next(e for c in h.of(ROOM, "C") if (e := json.loads(c))["k"] == "to")
    assert event["k"] == "to" and event["participant"] == "p1"
    assert event["role"] == "facilitator" and json.loads(event["frame"])["id"] == msg_id
    assert h.of(ROOM) == []
    assert (await h.broker.history(ROOM, 2_000, LIMITS)).entries == []
    assert await h.broker.get_message(ROOM, msg_id) is None


async def test_envelopes_are_the_envelope_modules(harness: Harness) -> None:
    """What a backend builds itself (the Redis scripts build a message frame from head, id and
    tail, the private delivery and the first epoch's `reset`) is what server/envelope.py says."""
    h = harness
    await h.broker.subscribe(ROOM)
    head, tail = envelope.message_head(ROOM), envelope.message_tail({"text": "é <3"})
    msg_id, epoch = await h.broker.publish_message(ROOM, head, tail, 1_000, LIMITS)
    private_id, _ = await h.broker.publish_message(ROOM, head, tail, 1_000, LIMITS, "p9")
    await h.until(
        lambda: bool(h.of(ROOM)) and any('"to"' in c for c in h.of(ROOM, "C")), "two envelopes"
    )
    assert [e for r, e in h.events if e[0] == envelope.ROOM] == [
        envelope.ROOM + head + str(msg_id) + tail
    ]
    private = envelope.private_message(head + str(private_id) + tail, "p9")
    controls = [e for r, e in h.events if e[0] == envelope.CONTROL]
    assert json.loads(controls[-1][1:]) == json.loads(private[1:])
    # Redis announces a room's first epoch; the memory broker has nothing to announce
    assert controls[:-1] in ([], [envelope.reset(epoch)])


async def test_only_subscribed_rooms_are_delivered(harness: Harness) -> None:
    h = harness
    await h.broker.subscribe(ROOM)
    await h.broker.subscribe(OTHER)
    await h.broker.publish(OTHER, 'R{"n":1}')
    await h.until(lambda: bool(h.of(OTHER)), "the first publish")
    await h.broker.unsubscribe(OTHER)
    await h.broker.publish(OTHER, 'R{"n":2}')
    await h.broker.publish(ROOM, 'R{"marker":true}')  # published after, delivered after
    await h.until(lambda: bool(h.of(ROOM)), "the marker")
    assert h.of(OTHER) == ['{"n":1}']


# -- presence -----------------------------------------------------------------------------------


def _info(participant: str, role: str = "member") -> str:
    return json.dumps({"participant": participant, "handle": participant.upper(), "role": role})


async def test_presence_counts_participants_not_processes(harness: Harness) -> None:
    b, now = harness.broker, 10_000
    first = await b.presence_enter(ROOM, P1, _info("p1"), "procA", now, 30_000)
    assert first.changed and first.members == 1 and first.facilitators == 0
    again = await b.presence_enter(ROOM, P1, _info("p1"), "procB", now, 30_000)
    assert not again.changed and again.members == 1
    staff = await b.presence_enter(ROOM, P2, _info("p2", "facilitator"), "procA", now, 30_000)
    assert staff.changed and staff.members == 2 and staff.facilitators == 1
    assert sorted(json.loads(i)["participant"] for i in await b.participants(ROOM, now)) == [
        "p1",
        "p2",
    ]
    assert (await b.member_counts([ROOM, OTHER], now)) == {ROOM: 2, OTHER: 0}
    entry = (await b.directory([ROOM], now))[ROOM]
    assert (entry.members, entry.facilitators, entry.locked) == (2, 1, False)
    one_left = await b.presence_exit(ROOM, P1, "procA", now)
    assert not one_left.changed and one_left.members == 2
    last = await b.presence_exit(ROOM, P1, "procB", now)
    assert last.changed and last.members == 1


async def test_presence_update_and_expiry(harness: Harness) -> None:
    b, now = harness.broker, 10_000
    await b.presence_enter(ROOM, P1, _info("p1", "facilitator"), "procA", now, 1_000)
    await b.presence_enter(ROOM, P2, _info("p2"), "procB", now, 5_000)
    await b.presence_update(ROOM, P1, _info("p1"))  # standing ended: a member now
    assert (await b.directory([ROOM], now))[ROOM].facilitators == 0
    await b.presence_update(ROOM, P3, _info("p3"))  # not present: nothing to update
    assert len(await b.participants(ROOM, now)) == 2
    # procA died: its entry expires and the sweep names who is gone
    gone = await b.presence_sweep(ROOM, now + 2_000)
    assert [json.loads(g)["participant"] for g in gone] == ["p1"]
    assert await b.presence_sweep(ROOM, now + 2_000) == []
    # a refresh with the summary writes back an entry the backend lost; one without only extends
    await b.presence_refresh([(ROOM, P3, _info("p3")), (ROOM, P1, None)], "procC", now, 5_000)
    live = {json.loads(i)["participant"] for i in await b.participants(ROOM, now + 2_000)}
    assert live == {"p2", "p3"}


# -- room state ---------------------------------------------------------------------------------


async def test_fields_are_stored_and_announced(harness: Harness) -> None:
    h = harness
    await h.broker.subscribe(ROOM)
    await h.broker.set_field(ROOM, "lock", json.dumps(True), 60_000)
    await h.broker.set_field(ROOM, "slow", json.dumps(10), 60_000)
    assert await h.broker.room_fields(ROOM) == {"lock": "true", "slow": "10"}
    assert (await h.broker.directory([ROOM], 0))[ROOM].locked is True
    await h.broker.set_field(ROOM, "slow", None, 60_000)
    assert await h.broker.update_list(ROOM, "hands", "p1", True, 60_000) == ["p1"]
    assert await h.broker.update_list(ROOM, "hands", "p2", True, 60_000) == ["p1", "p2"]
    assert await h.broker.update_list(ROOM, "hands", "p1", True, 60_000) == ["p1", "p2"]
    assert await h.broker.update_list(ROOM, "hands", "p1", False, 60_000) == ["p2"]
    assert await h.broker.room_fields(ROOM) == {"lock": "true", "hands": '["p2"]'}
    await h.until(
        lambda: any('"p2"]' in c and "p1" not in c for c in h.of(ROOM, "C")), "the last change"
    )
    raw = [json.loads(c) for c in h.of(ROOM, "C")]
    # A store that announces changes apart from writing them numbers them ("n"), increasing,
    # so a subscriber can drop one that arrives after a newer one.
    versions = [c["n"] for c in raw if "n" in c]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    changes = [{k: v for k, v in c.items() if k != "n"} for c in raw]
    assert changes[:3] == [
        {"k": "set", "f": "lock", "v": True},
        {"k": "set", "f": "slow", "v": 10},
        {"k": "set", "f": "slow", "v": None},
    ]
    assert changes[-1] == {"k": "set", "f": "hands", "v": ["p2"]}


# -- queue and audit ----------------------------------------------------------------------------


def _item(note: str) -> dict[str, object]:
    return {"kind": "report", "participant": "p1", "message_id": None, "note": note,
            "by": "Brave Yak", "at": "2026-11-30T06:00:00Z", "status": "open"}  # fmt: skip


async def test_queue_items_and_resolution(harness: Harness) -> None:
    b = harness.broker
    ids = [await b.queue_add(ROOM, _item(f"n{i}"), 60_000) for i in range(3)]
    assert len(set(ids)) == 3 and all(isinstance(i, str) for i in ids)
    items = await b.queue_items(ROOM)
    assert [i["id"] for i in items] == ids and [i["note"] for i in items] == ["n0", "n1", "n2"]
    resolved = await b.queue_resolve(ROOM, ids[1], "Sam", 60_000)
    assert resolved is not None and resolved["status"] == "resolved"
    assert await b.queue_resolve(ROOM, "no-such-item", "Sam", 60_000) is None
    assert [i["status"] for i in await b.queue_items(ROOM)] == ["open", "resolved", "open"]
    assert await b.queue_items(OTHER) == []


async def test_a_report_is_added_once_per_reporter_and_target(harness: Harness) -> None:
    b = harness.broker
    first = await b.queue_add_once(ROOM, _item("rude"), 60_000, 3)
    assert first[0] == "added"
    assert await b.queue_add_once(ROOM, _item("again"), 60_000, 3) == ("merged", first[1])
    other = {**_item("spam"), "participant": "p2"}
    assert (await b.queue_add_once(ROOM, other, 60_000, 3))[0] == "added"
    by_someone_else = {**_item("rude"), "by": "Calm Owl"}
    assert (await b.queue_add_once(ROOM, by_someone_else, 60_000, 3))[0] == "added"
    third = {**_item("x"), "participant": "p3"}
    assert (await b.queue_add_once(ROOM, third, 60_000, 3))[0] == "added"
    assert await b.queue_add_once(ROOM, {**_item("x"), "participant": "p4"}, 60_000, 3) == (
        "full",
        "",
    )
    # resolving the first frees a place, and the same report may be made afresh
    await b.queue_resolve(ROOM, first[1], "Sam", 60_000)
    again = await b.queue_add_once(ROOM, _item("rude"), 60_000, 3)
    assert again[0] == "added" and again[1] != first[1]
    assert len(await b.queue_items(ROOM)) == 5


async def test_audit_keeps_the_newest(harness: Harness) -> None:
    b = harness.broker
    for i in range(7):
        await b.audit_append(ROOM, json.dumps({"n": i}), 60_000, 5)
    assert [json.loads(e)["n"] for e in await b.audit_entries(ROOM)] == [2, 3, 4, 5, 6]


# -- per-room identity --------------------------------------------------------------------------


async def test_handles_are_unique_in_a_room_and_stable(harness: Harness) -> None:
    b = harness.broker
    ttl = 60_000
    assert (
        await b.claim_handle(ROOM, P1, ["Warm Yak", "Brave Yak"], ttl, "member", 1_000)
        == "Warm Yak"
    )
    assert (
        await b.claim_handle(ROOM, P2, ["Warm Yak", "Brave Yak"], ttl, "member", 1_000)
        == "Brave Yak"
    )
    assert await b.claim_handle(ROOM, P3, ["Warm Yak", "Brave Yak"], ttl, "member", 1_000) is None
    assert await b.claim_handle(ROOM, P1, ["Other"], ttl, "member", 1_000) == "Warm Yak"
    assert await b.claim_handle(OTHER, P2, ["Warm Yak"], ttl, "member", 1_000) == "Warm Yak"
    assert await b.participant_role(ROOM, P2) == ("member", "Brave Yak")
    assert await b.participant_role(ROOM, P3) is None
    # a handle whose holder was last seen `ttl` ago or more is free again
    assert await b.claim_handle(ROOM, P3, ["Warm Yak"], ttl, "member", 1_000 + ttl + 1) == (
        "Warm Yak"
    )


async def test_agreement_is_remembered_per_room(harness: Harness) -> None:
    b = harness.broker
    assert await b.agreement(ROOM, P1) == 0
    await b.set_agreement(ROOM, P1, 3, 60_000, 1_000)
    assert await b.agreement(ROOM, P1) == 3 and await b.agreement(OTHER, P1) == 0
