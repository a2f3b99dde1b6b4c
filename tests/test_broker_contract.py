"""The broker contract (server/brokers/contract.py), held to the same tests on every backend:
the in-memory broker, one Redis, two Redis servers (history and durable state apart, as
shipped), and a three-node Redis Cluster, all real.

One section per Protocol of the contract: `Lifecycle`, `Messages`, `Presence`, `RoomState`,
`Queue`, `Identity`, `Staff`, `RoomDefinitions`, `Moods`. Each test sees the broker only through
the Protocol it checks (`messages(h)` and the like), so what a section tests is what that
Protocol promises. The failure tests run on Redis backends that cannot be reached (a port that
refuses connections), since the memory broker cannot fail.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from rooms.ids import ParticipantId, RoomId
from server import envelope
from server.brokers import (
    IDENTITY_SWEEP,
    Broker,
    BrokerUnavailable,
    HistoryLimits,
    Identity,
    Joining,
    Lifecycle,
    Messages,
    MoodAnswer,
    Moods,
    MoodSession,
    Presence,
    Queue,
    RoomDefinitions,
    RoomState,
    Staff,
    open_broker,
)
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

    def controls(self, room: RoomId, k: str) -> list[dict[str, Any]]:
        """The control events of kind `k` delivered for `room`, in order."""
        events = (json.loads(c) for c in self.of(room, "C"))
        return [e for e in events if e.get("k") == k]


def lifecycle(h: Harness) -> Lifecycle:
    return h.broker


def messages(h: Harness) -> Messages:
    return h.broker


def presence(h: Harness) -> Presence:
    return h.broker


def room_state(h: Harness) -> RoomState:
    return h.broker


def queue(h: Harness) -> Queue:
    return h.broker


def identity(h: Harness) -> Identity:
    return h.broker


def joining(h: Harness) -> Joining:
    return h.broker


def staff(h: Harness) -> Staff:
    return h.broker


def moods(h: Harness) -> Moods:
    return h.broker


def room_definitions(h: Harness) -> RoomDefinitions:
    return h.broker


async def _started(broker: Broker) -> AsyncIterator[Harness]:
    h = Harness(broker)
    await broker.start(h.on_event)
    try:
        yield h
    finally:
        await broker.close()


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
    async for h in _started(broker):
        yield h


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A port bound but not listening: every connection to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(params=["redis", "redis-cluster"])
async def dead(request: pytest.FixtureRequest, refused_url: str) -> AsyncIterator[Harness]:
    """A Redis broker (or Redis Cluster broker) none of whose servers can be reached."""
    scheme = "redis" if request.param == "redis" else "redis+cluster"
    async for h in _started(open_broker(f"{scheme}://{refused_url}", "dead")):
        yield h


@pytest.fixture
async def state_down(redis_server: RedisServer, refused_url: str) -> AsyncIterator[Harness]:
    """Two Redis servers, the state store unreachable."""
    broker = open_broker(redis_server.url, f"k{uuid.uuid4().hex[:10]}", f"redis://{refused_url}")
    async for h in _started(broker):
        yield h


async def _all_unavailable(calls: dict[str, Callable[[], Awaitable[object]]]) -> None:
    """Every call raises `BrokerUnavailable` (named in the failure when one does not)."""
    wrong = {}
    for name, call in calls.items():
        try:
            await call()
        except BrokerUnavailable:
            continue
        except Exception as exc:
            wrong[name] = type(exc).__name__
        else:
            wrong[name] = "returned"
    assert wrong == {}


def _head(room: RoomId) -> str:
    return envelope.message_head(room)


async def _post(
    h: Harness, room: RoomId, text: str, now_ms: int = 1_000, private_to: str | None = None
) -> int:
    tail = envelope.message_tail({"text": text})
    msg_id, _ = await messages(h).publish_message(
        room, _head(room), tail, now_ms, LIMITS, private_to
    )
    return msg_id


# -- Lifecycle ----------------------------------------------------------------------------------


async def test_ping_says_the_backend_answers(harness: Harness) -> None:
    assert await lifecycle(harness).ping() is True


async def test_an_unreachable_backend_starts_and_ping_says_so(dead: Harness) -> None:
    # (the fixture started it: `start` did not raise)
    b = lifecycle(dead)
    assert await b.ping() is False
    assert await b.ping() is False


# -- Messages -----------------------------------------------------------------------------------


async def test_messages_get_increasing_ids_and_arrive_in_order(harness: Harness) -> None:
    h, b = harness, messages(harness)
    await b.subscribe(ROOM)
    ids = [await _post(h, ROOM, f"m{i}") for i in range(20)]
    assert ids == sorted(ids) and len(set(ids)) == 20
    await h.until(lambda: len(h.of(ROOM)) >= 20, "20 messages")
    delivered = [json.loads(f) for f in h.of(ROOM)]
    assert [m["id"] for m in delivered] == ids
    assert [m["text"] for m in delivered] == [f"m{i}" for i in range(20)]
    page = await b.history(ROOM, 2_000, LIMITS)
    assert [i for i, _ in page.entries] == ids and page.last_id == ids[-1]
    assert json.loads(page.entries[3][1]) == delivered[3]
    assert await b.get_message(ROOM, ids[3]) == page.entries[3][1]


async def test_messages_sent_at_once_arrive_once_each_in_id_order(harness: Harness) -> None:
    h, b = harness, messages(harness)
    await b.subscribe(ROOM)
    ids = await asyncio.gather(*(_post(h, ROOM, f"m{i}") for i in range(30)))
    assert len(set(ids)) == 30
    await h.until(lambda: len(h.of(ROOM)) >= 30, "30 messages")
    # a marker published after them all: anything still on its way would arrive before it
    await b.publish(ROOM, 'R{"marker":true}')
    await h.until(lambda: '{"marker":true}' in h.of(ROOM), "the marker")
    delivered = [json.loads(f).get("id") for f in h.of(ROOM)[:-1]]
    assert delivered == sorted(ids)


async def test_calls_that_do_not_overlap_arrive_in_their_order(harness: Harness) -> None:
    h, b, state = harness, messages(harness), room_state(harness)
    await b.subscribe(ROOM)
    await b.publish(ROOM, 'R{"n":1}')
    first = await _post(h, ROOM, "two")
    await state.set_field(ROOM, "slow", "3", 60_000)
    await b.publish(ROOM, envelope.CONTROL + '{"k":"staff","n":4}')
    await state.update_list(ROOM, "hands", "p1", True, 60_000)
    second = await _post(h, ROOM, "six")
    await b.publish(ROOM, 'R{"n":7}')
    await h.until(lambda: '{"n":7}' in h.of(ROOM), "the last publish")
    seen = []
    for _, e in h.events:
        body = json.loads(e[1:])
        if e[0] == envelope.ROOM:
            seen.append(body.get("id", body.get("n")))
        elif body["k"] != "reset":  # Redis announces a room's first epoch; memory has none
            seen.append(body.get("f", body.get("n")))
    assert seen == [1, first, "slow", 4, "hands", second, 7]


async def test_a_new_room_has_an_epoch_and_keeps_it(harness: Harness) -> None:
    b = messages(harness)
    page = await b.history(ROOM, 1_000, LIMITS)
    assert page.epoch and page.entries == [] and page.floor == 0 and page.last_id == 0
    assert (await b.history(ROOM, 1_500, LIMITS)).epoch == page.epoch
    _, epoch = await b.publish_message(ROOM, _head(ROOM), "}", 2_000, LIMITS)
    assert epoch == page.epoch
    assert (await b.history(OTHER, 1_000, LIMITS)).epoch != page.epoch


async def test_history_is_bounded_and_remembers_its_floor(harness: Harness) -> None:
    b = messages(harness)
    small = HistoryLimits(5, 60_000)
    for i in range(8):
        tail = envelope.message_tail({"text": f"m{i}"})
        await b.publish_message(ROOM, _head(ROOM), tail, 1_000 + i, small)
    page = await b.history(ROOM, 2_000, small)
    assert [i for i, _ in page.entries] == [4, 5, 6, 7, 8] and page.floor == 3
    assert await b.get_message(ROOM, 3) is None and await b.get_message(ROOM, 4) is not None
    # and by age: everything is older than a minute a minute later
    aged = await b.history(ROOM, 1_000 + 61_000 + 8, small)
    assert aged.entries == [] and aged.floor == 8 and aged.last_id == 8
    assert await b.get_message(ROOM, 8) is None


async def test_a_history_of_no_messages_keeps_none(harness: Harness) -> None:
    b, none = messages(harness), HistoryLimits(0, 60_000)
    msg_id, _ = await b.publish_message(ROOM, _head(ROOM), "}", 1_000, none)
    page = await b.history(ROOM, 1_000, none)
    assert page.entries == [] and page.floor == page.last_id == msg_id
    assert await b.get_message(ROOM, msg_id) is None


async def test_delete_and_reset(harness: Harness) -> None:
    h, b = harness, messages(harness)
    first = await _post(h, ROOM, "keep")
    gone = await _post(h, ROOM, "gone")
    assert await b.delete_message(ROOM, gone) is True
    assert await b.delete_message(ROOM, gone) is False
    assert await b.delete_message(ROOM, 999) is False
    assert await b.get_message(ROOM, gone) is None
    before = await b.history(ROOM, 2_000, LIMITS)
    assert [i for i, _ in before.entries] == [first]
    epoch = await b.reset_history(ROOM)
    after = await b.history(ROOM, 2_000, LIMITS)
    assert epoch == after.epoch != before.epoch and after.entries == []
    assert after.floor == after.last_id == gone
    # ids keep increasing across epochs, so a stale `since` is never mistaken for a new one
    assert await _post(h, ROOM, "new") > gone


async def test_a_private_message_is_delivered_but_never_stored(harness: Harness) -> None:
    h, b = harness, messages(harness)
    await b.subscribe(ROOM)
    msg_id = await _post(h, ROOM, "just us", private_to="p1")
    await h.until(lambda: bool(h.controls(ROOM, "to")), "the private delivery")
    (event,) = h.controls(ROOM, "to")
    assert event["participant"] == "p1"
    assert event["role"] == "facilitator" and json.loads(event["frame"])["id"] == msg_id
    assert h.of(ROOM) == []
    assert (await b.history(ROOM, 2_000, LIMITS)).entries == []
    assert await b.get_message(ROOM, msg_id) is None


async def test_envelopes_are_the_envelope_modules(harness: Harness) -> None:
    """What a backend builds itself (the Redis scripts build a message frame from head, id and
    tail, the private delivery and the first epoch's `reset`) is what server/envelope.py says."""
    h, b = harness, messages(harness)
    await b.subscribe(ROOM)
    head, tail = envelope.message_head(ROOM), envelope.message_tail({"text": "é <3"})
    msg_id, epoch = await b.publish_message(ROOM, head, tail, 1_000, LIMITS)
    private_id, _ = await b.publish_message(ROOM, head, tail, 1_000, LIMITS, "p9")
    await h.until(lambda: bool(h.of(ROOM)) and bool(h.controls(ROOM, "to")), "two envelopes")
    assert [e for r, e in h.events if e[0] == envelope.ROOM] == [
        envelope.ROOM + head + str(msg_id) + tail
    ]
    private = envelope.private_message(head + str(private_id) + tail, "p9")
    controls = [e for r, e in h.events if e[0] == envelope.CONTROL]
    assert json.loads(controls[-1][1:]) == json.loads(private[1:])
    # Redis announces a room's first epoch; the memory broker has nothing to announce
    assert controls[:-1] in ([], [envelope.reset(epoch)])


async def test_only_subscribed_rooms_are_delivered(harness: Harness) -> None:
    h, b = harness, messages(harness)
    await b.subscribe(ROOM)
    await b.subscribe(OTHER)
    await b.publish(OTHER, 'R{"n":1}')
    await h.until(lambda: bool(h.of(OTHER)), "the first publish")
    await b.unsubscribe(OTHER)
    await b.publish(OTHER, 'R{"n":2}')
    await b.publish(ROOM, 'R{"marker":true}')  # published after, delivered after
    await h.until(lambda: bool(h.of(ROOM)), "the marker")
    assert h.of(OTHER) == ['{"n":1}']


async def test_messages_fail_as_unavailable(dead: Harness) -> None:
    b = messages(dead)
    await _all_unavailable(
        {
            "subscribe": lambda: b.subscribe(ROOM),
            "publish": lambda: b.publish(ROOM, 'R{"n":1}'),
            "publish_message": lambda: b.publish_message(ROOM, _head(ROOM), "}", 0, LIMITS),
            "history": lambda: b.history(ROOM, 0, LIMITS),
            "get_message": lambda: b.get_message(ROOM, 1),
            "delete_message": lambda: b.delete_message(ROOM, 1),
            "reset_history": lambda: b.reset_history(ROOM),
        }
    )
    await b.unsubscribe(ROOM)  # never raises


# -- Presence -----------------------------------------------------------------------------------


def _info(participant: str, role: str = "member", **more: object) -> str:
    return json.dumps(
        {"participant": participant, "handle": participant.upper(), "role": role, **more}
    )


async def test_presence_counts_participants_not_processes(harness: Harness) -> None:
    b, now = presence(harness), 10_000
    first = await b.presence_enter(ROOM, P1, _info("p1"), "procA", now, 30_000)
    assert first.changed and first.members == 1 and first.facilitators == 0
    again = await b.presence_enter(ROOM, P1, _info("p1"), "procB", now, 30_000)
    assert not again.changed and again.members == 1 and not again.summary_changed
    staff = await b.presence_enter(ROOM, P2, _info("p2", "facilitator"), "procA", now, 30_000)
    assert staff.changed and staff.members == 2 and staff.facilitators == 1
    assert sorted(json.loads(i)["participant"] for i in await b.participants(ROOM, now)) == [
        "p1",
        "p2",
    ]
    assert (await b.member_counts([ROOM, OTHER], now)) == {ROOM: 2, OTHER: 0}
    entries = await b.directory([ROOM, OTHER], now)
    assert (entries[ROOM].members, entries[ROOM].facilitators, entries[ROOM].locked) == (
        2,
        1,
        False,
    )
    assert (entries[OTHER].members, entries[OTHER].facilitators) == (0, 0)
    assert not (await b.presence_exit(ROOM, P1, "procC", now)).changed  # no such entry
    one_left = await b.presence_exit(ROOM, P1, "procA", now)
    assert not one_left.changed and one_left.members == 2
    last = await b.presence_exit(ROOM, P1, "procB", now)
    assert last.changed and last.members == 1 and last.facilitators == 1


async def test_entering_with_another_summary_says_so(harness: Harness) -> None:
    b, now = presence(harness), 10_000
    await b.presence_enter(ROOM, P1, _info("p1"), "procA", now, 30_000)
    other = await b.presence_enter(ROOM, P1, _info("p1", listening=True), "procB", now, 30_000)
    assert not other.changed and other.summary_changed
    assert [json.loads(i).get("listening") for i in await b.participants(ROOM, now)] == [True]


async def test_one_participant_entering_everywhere_at_once_changes_once(harness: Harness) -> None:
    b, now, procs = presence(harness), 10_000, [f"proc{i}" for i in range(6)]
    entered = await asyncio.gather(
        *(b.presence_enter(ROOM, P1, _info("p1"), p, now, 30_000) for p in procs)
    )
    assert [e.changed for e in entered].count(True) == 1
    exited = await asyncio.gather(*(b.presence_exit(ROOM, P1, p, now) for p in procs))
    assert [e.changed for e in exited].count(True) == 1
    assert await b.participants(ROOM, now) == []


async def test_presence_update_and_expiry(harness: Harness) -> None:
    b, now = presence(harness), 10_000
    await b.presence_enter(ROOM, P1, _info("p1", "facilitator"), "procA", now, 1_000)
    await b.presence_enter(ROOM, P2, _info("p2"), "procB", now, 5_000)
    await b.presence_update(ROOM, P1, _info("p1"))  # standing ended: a member now
    assert (await b.directory([ROOM], now))[ROOM].facilitators == 0
    await b.presence_update(ROOM, P3, _info("p3"))  # not present: nothing to update
    assert len(await b.participants(ROOM, now)) == 2
    # procA died: its entry expires (not live from then on) and the sweep names who is gone
    assert [json.loads(i)["participant"] for i in await b.participants(ROOM, now + 2_000)] == ["p2"]
    gone = await b.presence_sweep(ROOM, now + 2_000)
    assert [json.loads(g)["participant"] for g in gone] == ["p1"]
    assert await b.presence_sweep(ROOM, now + 2_000) == []
    # a refresh with the summary writes back an entry the backend lost; one without only extends
    await b.presence_refresh([(ROOM, P3, _info("p3")), (ROOM, P1, None)], "procC", now, 5_000)
    live = {json.loads(i)["participant"] for i in await b.participants(ROOM, now + 2_000)}
    assert live == {"p2", "p3"}


async def test_a_refresh_extends_an_entry(harness: Harness) -> None:
    b, now = presence(harness), 10_000
    await b.presence_enter(ROOM, P1, _info("p1"), "procA", now, 1_000)
    await b.presence_refresh([(ROOM, P1, None)], "procA", now + 500, 5_000)
    assert (await b.member_counts([ROOM], now + 2_000))[ROOM] == 1
    assert await b.presence_sweep(ROOM, now + 2_000) == []
    assert (await b.member_counts([ROOM], now + 5_500))[ROOM] == 0


# Seats (rooms/seats.py): taken atomically with entering presence.


async def test_a_member_enters_only_while_a_seat_is_free(harness: Harness) -> None:
    b, now = presence(harness), 10_000
    staff = await b.presence_enter(ROOM, P3, _info("p3", "facilitator"), "a", now, 30_000, 0)
    assert staff.changed  # facilitators take no seat
    assert (await b.presence_enter(ROOM, P1, _info("p1"), "a", now, 30_000, 1)).changed
    refused = await b.presence_enter(ROOM, P2, _info("p2"), "a", now, 30_000, 1)
    assert refused.full and not refused.changed and refused.members == 2
    assert len(await b.participants(ROOM, now)) == 2  # nothing was written
    assert (await b.directory([ROOM], now))[ROOM].occupancy.full(1)
    # present already (another process): keeps the seat
    again = await b.presence_enter(ROOM, P1, _info("p1"), "b", now, 30_000, 1)
    assert not again.full and not again.changed


async def test_a_dropped_members_seat_is_held_and_given_back(harness: Harness) -> None:
    b, now = presence(harness), 10_000
    await b.presence_enter(ROOM, P1, _info("p1"), "a", now, 30_000, 1)
    await b.presence_exit(ROOM, P1, "a", now, hold_ms=5_000)  # the connection dropped
    entry = (await b.directory([ROOM], now))[ROOM]
    assert (entry.members, entry.held, entry.occupancy.full(1)) == (0, 1, True)
    assert (await b.presence_enter(ROOM, P2, _info("p2"), "a", now + 1, 30_000, 1)).full
    back = await b.presence_enter(ROOM, P1, _info("p1"), "b", now + 2, 30_000, 1)
    assert back.changed and not back.full
    assert (await b.directory([ROOM], now + 2))[ROOM].held == 0  # the hold ended
    # A leave on purpose holds nothing; an expired hold frees the seat.
    await b.presence_exit(ROOM, P1, "b", now + 3)
    assert (await b.presence_enter(ROOM, P2, _info("p2"), "a", now + 4, 30_000, 1)).changed
    await b.presence_exit(ROOM, P2, "a", now + 5, hold_ms=1_000)
    assert (await b.presence_enter(ROOM, P1, _info("p1"), "a", now + 6, 30_000, 1)).full
    assert (await b.presence_enter(ROOM, P1, _info("p1"), "a", now + 1_006, 30_000, 1)).changed


async def test_a_facilitator_holds_no_seat(harness: Harness) -> None:
    b, now = presence(harness), 10_000
    await b.presence_enter(ROOM, P3, _info("p3", "facilitator"), "a", now, 30_000)
    await b.presence_exit(ROOM, P3, "a", now, hold_ms=5_000)
    assert (await b.directory([ROOM], now))[ROOM].held == 0


async def test_processes_admitting_at_once_never_pass_the_capacity(harness: Harness) -> None:
    b, now = presence(harness), 10_000
    people = [ParticipantId(f"m{i}") for i in range(20)]
    entered = await asyncio.gather(
        *(b.presence_enter(ROOM, p, _info(p), f"proc{i % 3}", now, 30_000, 7)
          for i, p in enumerate(people))
    )  # fmt: skip
    assert [e.changed for e in entered].count(True) == 7
    assert [e.full for e in entered].count(True) == 13
    assert (await b.member_counts([ROOM], now))[ROOM] == 7


async def test_presence_fails_as_unavailable(dead: Harness) -> None:
    b = presence(dead)
    await _all_unavailable(
        {
            "presence_enter": lambda: b.presence_enter(ROOM, P1, _info("p1"), "a", 0, 1_000),
            "presence_exit": lambda: b.presence_exit(ROOM, P1, "a", 0),
            "presence_update": lambda: b.presence_update(ROOM, P1, _info("p1")),
            "presence_refresh": lambda: b.presence_refresh([(ROOM, P1, None)], "a", 0, 1_000),
            "presence_sweep": lambda: b.presence_sweep(ROOM, 0),
            "participants": lambda: b.participants(ROOM, 0),
            "join_view": lambda: joining(dead).join_view(ROOM, P1, 0, LIMITS),
            "member_counts": lambda: b.member_counts([ROOM], 0),
            "directory": lambda: b.directory([ROOM], 0),
        }
    )


# -- RoomState ----------------------------------------------------------------------------------


async def test_fields_are_stored_and_announced(harness: Harness) -> None:
    h, b = harness, room_state(harness)
    await messages(h).subscribe(ROOM)
    await b.set_field(ROOM, "lock", json.dumps(True), 60_000)
    await b.set_field(ROOM, "slow", json.dumps(10), 60_000)
    assert await b.room_fields(ROOM) == {"lock": "true", "slow": "10"}
    assert (await presence(h).directory([ROOM], 0))[ROOM].locked is True
    await b.set_field(ROOM, "slow", None, 60_000)
    assert await b.update_list(ROOM, "hands", "p1", True, 60_000) == ["p1"]
    assert await b.update_list(ROOM, "hands", "p2", True, 60_000) == ["p1", "p2"]
    assert await b.update_list(ROOM, "hands", "p1", True, 60_000) == ["p1", "p2"]
    assert await b.update_list(ROOM, "hands", "p1", False, 60_000) == ["p2"]
    assert await b.update_list(ROOM, "hands", "p9", False, 60_000) == ["p2"]
    assert await b.room_fields(ROOM) == {"lock": "true", "hands": '["p2"]'}
    assert await b.room_fields(OTHER) == {}
    await h.until(
        lambda: any('"p2"]' in c and "p1" not in c for c in h.of(ROOM, "C")), "the last change"
    )
    raw = h.controls(ROOM, "set")
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


async def test_list_updates_at_once_lose_nothing(harness: Harness) -> None:
    b = room_state(harness)
    items = [f"p{i}" for i in range(12)]
    await asyncio.gather(*(b.update_list(ROOM, "hands", i, True, 60_000) for i in items))
    assert sorted(json.loads((await b.room_fields(ROOM))["hands"])) == sorted(items)


async def test_the_last_change_delivered_is_the_stored_value(harness: Harness) -> None:
    h, b = harness, room_state(harness)
    await messages(h).subscribe(ROOM)
    await asyncio.gather(*(b.set_field(ROOM, "slow", str(v), 60_000) for v in range(1, 11)))
    # published after every write returned, so delivered after each of their announcements
    await messages(h).publish(ROOM, 'R{"marker":true}')
    await h.until(lambda: bool(h.of(ROOM)), "the marker")
    stored = json.loads((await b.room_fields(ROOM))["slow"])
    assert h.controls(ROOM, "set")[-1]["v"] == stored


async def test_room_state_fails_as_unavailable(dead: Harness) -> None:
    await _room_state_unavailable(room_state(dead))


async def _room_state_unavailable(b: RoomState) -> None:
    await _all_unavailable(
        {
            "room_fields": lambda: b.room_fields(ROOM),
            "set_field": lambda: b.set_field(ROOM, "lock", "true", 1_000),
            "update_list": lambda: b.update_list(ROOM, "hands", "p1", True, 1_000),
        }
    )


async def test_with_the_state_store_down_what_it_holds_fails_as_unavailable(
    state_down: Harness,
) -> None:
    """Two Redis servers: what lives on the state store fails (room state, queue and audit,
    identity, and the directory, which shows the lock); `ping` says so."""
    await _room_state_unavailable(room_state(state_down))
    await _queue_unavailable(queue(state_down))
    await _identity_unavailable(identity(state_down))
    await _moods_unavailable(moods(state_down))
    await _room_definitions_unavailable(room_definitions(state_down))
    await _all_unavailable({"directory": lambda: presence(state_down).directory([ROOM], 0)})
    assert await lifecycle(state_down).ping() is False


# -- Queue --------------------------------------------------------------------------------------


def _item(note: str) -> dict[str, object]:
    return {"kind": "report", "participant": "p1", "message_id": None, "note": note,
            "by": "Brave Yak", "at": "2026-11-30T06:00:00Z", "status": "open"}  # fmt: skip


async def test_queue_items_and_resolution(harness: Harness) -> None:
    b = queue(harness)
    ids = [await b.queue_add(ROOM, _item(f"n{i}"), 60_000) for i in range(3)]
    assert len(set(ids)) == 3 and all(isinstance(i, str) for i in ids)
    items = await b.queue_items(ROOM)
    assert [i["id"] for i in items] == ids and [i["note"] for i in items] == ["n0", "n1", "n2"]
    resolved = await b.queue_resolve(ROOM, ids[1], "Sam", 60_000)
    assert resolved is not None and resolved["id"] == ids[1]
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "Sam"
    assert await b.queue_resolve(ROOM, "no-such-item", "Sam", 60_000) is None
    assert [i["status"] for i in await b.queue_items(ROOM)] == ["open", "resolved", "open"]
    assert await b.queue_items(OTHER) == []


async def test_a_report_is_added_once_per_reporter_and_target(harness: Harness) -> None:
    b = queue(harness)
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


async def test_the_same_report_made_at_once_is_stored_once(harness: Harness) -> None:
    b = queue(harness)
    outcomes = await asyncio.gather(
        *(b.queue_add_once(ROOM, _item(f"n{i}"), 60_000, 3) for i in range(8))
    )
    assert sorted(o for o, _ in outcomes) == ["added"] + ["merged"] * 7
    assert len({i for _, i in outcomes}) == 1 and len(await b.queue_items(ROOM)) == 1


async def test_audit_keeps_the_newest(harness: Harness) -> None:
    b = queue(harness)
    for i in range(7):
        await b.audit_append(ROOM, json.dumps({"n": i}), 60_000, 5)
    assert [json.loads(e)["n"] for e in await b.audit_entries(ROOM)] == [2, 3, 4, 5, 6]
    assert await b.audit_entries(OTHER) == []


async def test_queue_fails_as_unavailable(dead: Harness) -> None:
    await _queue_unavailable(queue(dead))


async def _queue_unavailable(b: Queue) -> None:
    await _all_unavailable(
        {
            "queue_add": lambda: b.queue_add(ROOM, _item("n"), 1_000),
            "queue_add_once": lambda: b.queue_add_once(ROOM, _item("n"), 1_000, 3),
            "queue_resolve": lambda: b.queue_resolve(ROOM, "q1", "Sam", 1_000),
            "queue_items": lambda: b.queue_items(ROOM),
            "audit_append": lambda: b.audit_append(ROOM, "{}", 1_000, 5),
            "audit_entries": lambda: b.audit_entries(ROOM),
        }
    )


# -- Identity -----------------------------------------------------------------------------------


async def test_handles_are_unique_in_a_room_and_stable(harness: Harness) -> None:
    b, ttl, names = identity(harness), 60_000, ["Warm Yak", "Brave Yak"]
    assert await b.claim_handle(ROOM, P1, names, ttl, "member", 1_000) == "Warm Yak"
    assert await b.claim_handle(ROOM, P2, names, ttl, "member", 1_000) == "Brave Yak"
    assert await b.claim_handle(ROOM, P3, names, ttl, "member", 1_000) is None
    assert await b.participant_role(ROOM, P3) is None  # a refused claim writes nothing
    assert await b.claim_handle(ROOM, P1, ["Other"], ttl, "facilitator", 1_000) == "Warm Yak"
    assert await b.participant_role(ROOM, P1) == ("facilitator", "Warm Yak")  # the latest role
    assert await b.claim_handle(OTHER, P2, ["Warm Yak"], ttl, "member", 1_000) == "Warm Yak"
    assert await b.participant_role(ROOM, P2) == ("member", "Brave Yak")
    # a handle whose holder was last seen `ttl` ago or more is free again
    assert await b.claim_handle(ROOM, P3, ["Warm Yak"], ttl, "member", 1_000 + ttl + 1) == (
        "Warm Yak"
    )


async def test_one_handle_claimed_at_once_goes_to_one(harness: Harness) -> None:
    b = identity(harness)
    claimants = [ParticipantId(f"c{i}") for i in range(6)]
    got = await asyncio.gather(
        *(b.claim_handle(ROOM, p, ["Only Owl"], 60_000, "member", 1_000) for p in claimants)
    )
    assert got.count("Only Owl") == 1 and got.count(None) == 5


async def test_identities_expire_longest_unseen_first_a_bounded_number_per_call(
    harness: Harness,
) -> None:
    b, ttl, count = identity(harness), 60_000, IDENTITY_SWEEP + 8
    people = [ParticipantId(f"x{i}") for i in range(count)]
    for i, p in enumerate(people):  # x0 seen first, then x1, …
        assert await b.claim_handle(ROOM, p, [f"Name {i}"], ttl, "member", 1_000 + i)
        await b.set_agreement(ROOM, p, 2, ttl, 1_000 + i)
    later = 1_000 + count + ttl
    assert await b.claim_handle(ROOM, P1, ["Name 0"], ttl, "member", later) == "Name 0"
    kept = [await b.participant_role(ROOM, p) is not None for p in people]
    assert kept == [False] * IDENTITY_SWEEP + [True] * 8
    assert await b.agreement(ROOM, people[0]) == 0
    await b.set_agreement(ROOM, P2, 1, ttl, later)  # an agreement sweeps as a claim does
    assert [await b.participant_role(ROOM, p) for p in people[IDENTITY_SWEEP:]] == [None] * 8


async def test_a_join_view_reads_what_the_three_reads_read(harness: Harness) -> None:
    b, now = harness.broker, 10_000
    view = await joining(harness).join_view(ROOM, P1, now, LIMITS)
    assert view.agreed == 0 and view.participants == [] and view.history.entries == []
    await b.set_agreement(ROOM, P1, 3, 60_000, now)
    for who in ("p2", "p1"):
        await b.presence_enter(ROOM, ParticipantId(who), _info(who), "procA", now, 30_000)
    for i in range(3):
        tail = envelope.message_tail({"text": f"m{i}"})
        await b.publish_message(ROOM, _head(ROOM), tail, now, LIMITS)
    view = await joining(harness).join_view(ROOM, P1, now, LIMITS)
    assert view.agreed == await b.agreement(ROOM, P1) == 3
    assert view.history == await b.history(ROOM, now, LIMITS)
    assert [json.loads(e[1])["text"] for e in view.history.entries] == ["m0", "m1", "m2"]
    assert view.participants == await b.participants(ROOM, now)
    assert sorted(json.loads(i)["participant"] for i in view.participants) == ["p1", "p2"]
    other = await joining(harness).join_view(OTHER, P1, now, LIMITS)
    assert other.agreed == 0 and other.participants == [] and other.history.entries == []


async def test_agreement_is_remembered_per_room(harness: Harness) -> None:
    b = identity(harness)
    assert await b.agreement(ROOM, P1) == 0
    await b.set_agreement(ROOM, P1, 3, 60_000, 1_000)
    assert await b.agreement(ROOM, P1) == 3 and await b.agreement(OTHER, P1) == 0
    await b.set_agreement(ROOM, P1, 4, 60_000, 2_000)
    assert await b.agreement(ROOM, P1) == 4


async def test_identity_fails_as_unavailable(dead: Harness) -> None:
    await _identity_unavailable(identity(dead))


async def _identity_unavailable(b: Identity) -> None:
    await _all_unavailable(
        {
            "claim_handle": lambda: b.claim_handle(ROOM, P1, ["A"], 1_000, "member", 0),
            "participant_role": lambda: b.participant_role(ROOM, P1),
            "set_agreement": lambda: b.set_agreement(ROOM, P1, 1, 1_000, 0),
            "agreement": lambda: b.agreement(ROOM, P1),
        }
    )


# -- Staff --------------------------------------------------------------------------------------


def _record(fid: str, expires: int, name: str = "Sam") -> dict[str, object]:
    return {"id": fid, "name": name, "rooms": None, "expires": expires, "revoked": False}


async def test_facilitator_records_lapse_at_their_expiry(harness: Harness) -> None:
    b = staff(harness)
    await b.facilitator_save(_record("f1", 10_000), 1_000)
    await b.facilitator_save(_record("f2", 5_000, "Ana"), 1_000)
    await b.facilitator_save(_record("f1", 12_000), 1_000)  # replaced, not added
    await b.facilitator_save(_record("f2", 99_000), 1_000, only_new=True)  # kept as it was
    listed = sorted(await b.facilitator_records(2_000), key=lambda r: str(r["id"]))
    assert [(r["id"], r["expires"]) for r in listed] == [("f1", 12_000), ("f2", 5_000)]
    assert [r["id"] for r in await b.facilitator_records(6_000)] == ["f1"]


async def test_a_revocation_holds_until_the_token_would_have_expired(harness: Harness) -> None:
    b = staff(harness)
    await b.facilitator_save(_record("f1", 10_000), 1_000)
    assert await b.revoke("f1", 2_000) is True
    assert await b.revoke("nobody", 2_000) is False
    assert await b.revoked(3_000) == {"f1"}
    (record,) = await b.facilitator_records(3_000)
    assert record["revoked"] is True  # still listed, as revoked
    assert await b.revoked(10_000) == set()
    assert await b.revoke("f1", 10_000) is False  # lapsed: nothing left to revoke


async def test_who_is_online_expires_unless_refreshed(harness: Harness) -> None:
    b = staff(harness)
    await b.staff_online(["f1", "f2"], "procA", 1_000, 3_000)
    await b.staff_online(["f1"], "procB", 1_000, 3_000)
    assert await b.online(2_000) == {"f1", "f2"}
    await b.staff_offline("f1", "procA")
    assert await b.online(2_000) == {"f1", "f2"}  # still open on procB
    await b.staff_offline("f1", "procB")
    await b.staff_online(["f3"], "procA", 3_500, 3_000)
    assert await b.online(4_500) == {"f3"}  # f2's entry lapsed unrefreshed


# -- Moods --------------------------------------------------------------------------------------

HOUR = 3_600_000
KEEP = 10 * HOUR
T0 = 500 * HOUR  # a whole hour, so `started_ms` is plain to read


async def _answer(
    b: Moods, marker: str, value: int, when: str = "start", session: str = "e1", now: int = T0,
    room: RoomId = ROOM, ttl: int = HOUR,
) -> bool:  # fmt: skip
    return await b.mood_add(room, MoodAnswer(session, when, value, marker), now, ttl, KEEP)


async def test_answers_are_counted_once_per_marker(harness: Harness) -> None:
    b = moods(harness)
    assert await b.mood_session(ROOM, "e1") is None
    for i, value in enumerate((1, 2, 3, 3, 5)):
        assert await _answer(b, f"m{i}", value, now=T0 + 61_000 * i) is True
    assert await _answer(b, "m9", 4, "end", now=T0 + 400_000) is True
    assert await _answer(b, "m0", 5, now=T0 + 500_000) is False  # given: nothing changes
    found = await b.mood_session(ROOM, "e1")
    assert found == MoodSession("e1", T0, (1, 1, 2, 0, 1), (0, 0, 0, 1, 0), None)
    # Rooms and sessions are apart, markers too.
    assert await _answer(b, "m0", 2, session="e2", room=OTHER) is True
    assert await b.mood_session(OTHER, "e1") is None
    assert await b.mood_session(ROOM, "e2") is None


async def test_a_marker_lapses_at_its_time(harness: Harness) -> None:
    b = moods(harness)
    assert await _answer(b, "m1", 2, now=T0, ttl=5_000) is True
    assert await _answer(b, "m1", 2, now=T0 + 4_999, ttl=5_000) is False
    assert await _answer(b, "m1", 4, now=T0 + 5_000, ttl=5_000) is True
    found = await b.mood_session(ROOM, "e1")
    assert found is not None and found.start == (0, 1, 0, 1, 0)


async def test_one_marker_given_at_once_everywhere_counts_once(harness: Harness) -> None:
    b = moods(harness)
    results = await asyncio.gather(*(_answer(b, "m1", 3) for _ in range(10)))
    assert results.count(True) == 1
    found = await b.mood_session(ROOM, "e1")
    assert found is not None and found.start == (0, 0, 1, 0, 0)


async def test_an_end_is_recorded_and_sessions_are_listed_oldest_first(harness: Harness) -> None:
    b = moods(harness)
    await _answer(b, "m1", 1, session="e2", now=T0 + 2 * HOUR + 5)
    await _answer(b, "m2", 5, session="e1", now=T0 + 17)  # the time is kept to the hour only
    await b.mood_end(ROOM, "e1", T0 + HOUR + 30, KEEP)
    await b.mood_end(ROOM, "e3", T0 + 3 * HOUR + 40, KEEP)  # ended with no answer: recorded
    listed = await b.mood_sessions(ROOM, T0)
    assert [(s.session, s.started_ms, s.ended_ms) for s in listed] == [
        ("e1", T0, T0 + HOUR + 30),
        ("e2", T0 + 2 * HOUR, None),
        ("e3", T0 + 3 * HOUR, T0 + 3 * HOUR + 40),
    ]
    assert listed[2].start == listed[2].end == (0, 0, 0, 0, 0)
    assert [s.session for s in await b.mood_sessions(ROOM, T0 + HOUR)] == ["e2", "e3"]
    assert await b.mood_sessions(OTHER, 0) == []
    # One hour, two sessions: the one that ended comes first, whatever their names.
    await _answer(b, "m3", 2, session="a-now", now=T0 + 5 * HOUR + 9)
    await _answer(b, "m4", 2, session="z-ended", now=T0 + 5 * HOUR + 1)
    await b.mood_end(ROOM, "z-ended", T0 + 5 * HOUR + 5, KEEP)
    listed = await b.mood_sessions(ROOM, T0 + 4 * HOUR)
    assert [s.session for s in listed] == ["z-ended", "a-now"]


async def test_sessions_older_than_the_keep_are_dropped(harness: Harness) -> None:
    b = moods(harness)
    await _answer(b, "m1", 1, session="old")
    await _answer(b, "m2", 2, session="new", now=T0 + KEEP)
    assert [s.session for s in await b.mood_sessions(ROOM, 0)] == ["new"]


async def test_moods_fail_as_unavailable(dead: Harness) -> None:
    await _moods_unavailable(moods(dead))


async def _moods_unavailable(b: Moods) -> None:
    await _all_unavailable(
        {
            "mood_add": lambda: _answer(b, "m1", 3),
            "mood_end": lambda: b.mood_end(ROOM, "e1", T0, KEEP),
            "mood_session": lambda: b.mood_session(ROOM, "e1"),
            "mood_sessions": lambda: b.mood_sessions(ROOM, 0),
        }
    )


# -- RoomDefinitions ----------------------------------------------------------------------------


def _definition(room: str, rev: int, name: str = "Room") -> dict[str, object]:
    return {"id": room, "name": name, "rev": rev, "rules": ["be kind"]}


async def test_room_definitions_are_written_once_and_edited_by_revision(harness: Harness) -> None:
    b = room_definitions(harness)
    assert await b.rooms_version() == 0
    assert await b.room_write("seed", "a", _definition("a", 1)) == "ok"
    assert await b.room_write("seed", "a", _definition("a", 1, "Other")) == "exists"
    assert await b.room_write("create", "a", _definition("a", 1)) == "exists"
    assert await b.room_write("create", "b", _definition("b", 1)) == "ok"
    assert await b.rooms_version() == 2  # only the writes that wrote raised it
    assert await b.room_write("update", "a", _definition("a", 2, "New"), expect_rev=1) == "ok"
    # Made from the record as it was at rev 1: refused, the newer edit stays.
    assert await b.room_write("update", "a", _definition("a", 2, "Lost"), expect_rev=1) == (
        "conflict"
    )
    assert await b.room_write("update", "zz", _definition("zz", 2), expect_rev=1) == "missing"
    version, records = await b.room_records()
    assert version == 3
    assert sorted((r["id"], r["name"], r["rev"]) for r in records) == [
        ("a", "New", 2),
        ("b", "Room", 1),
    ]


async def test_an_archived_room_id_is_never_reused(harness: Harness) -> None:
    b = room_definitions(harness)
    await b.room_write("create", "a", _definition("a", 1))
    assert await b.room_write("archive", "a", None) == "ok"
    assert await b.room_write("archive", "a", None) == "missing"
    assert await b.room_write("archive", "never", None) == "missing"
    for mode in ("seed", "create"):
        assert await b.room_write(mode, "a", _definition("a", 1)) == "archived"
    assert await b.room_write("update", "a", _definition("a", 2), expect_rev=1) == "missing"
    version, records = await b.room_records()
    assert (version, records) == (2, [])
    assert await b.archived_rooms() == ["a"]


async def test_room_definitions_fail_as_unavailable(dead: Harness) -> None:
    await _room_definitions_unavailable(room_definitions(dead))


async def _room_definitions_unavailable(b: RoomDefinitions) -> None:
    await _all_unavailable(
        {
            "rooms_version": b.rooms_version,
            "room_records": b.room_records,
            "archived_rooms": b.archived_rooms,
            "room_write": lambda: b.room_write("create", "a", {"id": "a"}),
        }
    )
