"""Floods, caps and slow readers on both brokers: refused with `rate_limited` and a retry-after,
closed with 4029, 4008 or 1013, with the room's other members unaffected."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from server.tokens import TokenService
from tests.conftest import TEST_SECRET, AppServer, ConnectClient, StartServer
from tests.rawws import RawClient
from tests.support import Client, Frame, until

ROOM = "anxiety"


async def _true(value: bool) -> bool:
    return value


async def test_every_frame_kind_is_rate_limited_with_retry_after(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(FRAME_BURST="3", FRAME_PER_SECOND="0.5", FLOOD_STRIKES="1000")
    for kind in ("join", "agree", "send", "leave", "report", "listen", "nonsense", "hello"):
        client = await connect(server.ws)  # hello spent one token
        answers = [await client.request({"type": kind, "room": ROOM}) for _ in range(4)]
        limited = [a for a in answers if a.get("code") == "rate_limited"]
        assert limited, (kind, answers)
        assert all(0 < a["retry_after"] <= 2 and a["ref"] for a in limited)


async def test_sustained_flood_closes_4029_and_the_room_goes_on(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(FRAME_BURST="5", FRAME_PER_SECOND="1", FLOOD_STRIKES="10")
    calm = await connect(server.ws)
    await calm.enter(ROOM)
    flooder = await connect(server.ws)
    await flooder.send({"type": "join", "room": ROOM})
    for _ in range(200):
        await flooder.send({"type": "send", "room": ROOM, "text": "spam"})
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await flooder.expect("never", seconds=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4029
    await calm.say(ROOM, "still calm")


async def test_member_send_limit_holds_across_its_sockets_and_refused_sends_take_no_id(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(SEND_BURST="3", SEND_PER_SECOND="0.2")
    first = await connect(server.ws, hello=False)
    token = (await first.hello())["token"]
    await first.enter(ROOM)
    second = await connect(server.ws, hello=False)
    await second.hello(token=token)
    await second.enter(ROOM)
    answers = []
    for i in range(6):
        client = first if i % 2 == 0 else second
        answers.append(await client.request({"type": "send", "room": ROOM, "text": f"m{i}"}))
    acked = [a["id"] for a in answers if a["type"] == "ack"]
    refused = [a for a in answers if a.get("code") == "rate_limited"]
    assert len(acked) == 3 and len(refused) == 3  # one budget for the member, not one a socket
    assert all(a["retry_after"] > 0 for a in refused)
    late = await connect(server.ws)
    history = (await late.join(ROOM))["history"]
    assert [m["id"] for m in history] == acked  # refused messages took no id, were not stored
    assert acked == list(range(acked[0], acked[0] + 3))


async def test_join_leave_churn_does_not_storm_the_room(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(JOIN_BURST="4", JOIN_PER_SECOND="0.5")
    watcher = await connect(server.ws)
    await watcher.enter(ROOM)
    churner = await connect(server.ws, hello=False)
    token = (await churner.hello())["token"]
    limited = 0
    for _ in range(20):
        for kind in ("join", "leave"):
            answer = await churner.request({"type": kind, "room": ROOM})
            limited += answer.get("code") == "rate_limited"
    # reconnecting does not refill the member's join budget
    again = await connect(server.ws, hello=False)
    await again.hello(token=token)
    assert (await again.request({"type": "join", "room": ROOM}))["code"] == "rate_limited"
    said = await watcher.say(ROOM, "marker")
    await watcher.expect("message", id=said["id"])
    presence = [f for f in watcher.frames if f.get("type") == "presence"]
    assert limited >= 30
    assert len(presence) <= 6, presence  # the burst of 4 joins/leaves, and a little refill


async def test_sockets_per_member_are_capped(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(MAX_SOCKETS_PER_MEMBER="2")
    first = await connect(server.ws, hello=False)
    token = (await first.hello())["token"]
    second = await connect(server.ws, hello=False)
    await second.hello(token=token)
    third = await connect(server.ws, hello=False)
    answer = await third.request({"type": "hello", "token": token})
    assert answer["type"] == "error" and answer["code"] == "limit_reached"
    await second.close()

    async def admitted() -> bool:
        probe = await connect(server.ws, hello=False)
        answer = await probe.request({"type": "hello", "token": token})
        await probe.close()
        return bool(answer["type"] == "welcome")

    await until(admitted, 5, "a socket to be freed")


async def test_rooms_per_socket_are_capped(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(MAX_ROOMS_PER_SOCKET="2")
    client = await connect(server.ws)
    await client.join("anxiety")
    await client.join("grief-and-loss")
    assert (await client.request({"type": "join", "room": "bipolar"}))["code"] == "limit_reached"


async def test_connections_per_address_are_capped_with_1013(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(MAX_CONNECTIONS_PER_ADDRESS="3")
    held = [await connect(server.ws) for _ in range(3)]
    extra = await connect(server.ws, hello=False)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await extra.hello()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    await held[0].close()

    async def admitted() -> bool:
        try:
            probe = await connect(server.ws)
        except (websockets.ConnectionClosed, AssertionError):
            return False
        await probe.close()
        return True

    await until(admitted, 5, "an address slot to be freed")  # counted in memory only


async def test_slow_reader_is_cut_off_with_4008_and_others_keep_receiving(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(
        OUTBOX_MAX_FRAMES="16", CLOSE_GRACE_SECONDS="30", SEND_BURST="100000",
        SEND_PER_SECOND="100000", FRAME_BURST="100000", FRAME_PER_SECOND="100000",
    )  # fmt: skip
    hub = server.app.state.services.hub
    speaker = await connect(server.ws, max_size=None)
    await speaker.enter(ROOM)
    reader = await connect(server.ws, max_size=None)
    await reader.enter(ROOM)
    slow = await RawClient.connect(server.ws, rcvbuf=4096)
    await slow.send_json({"type": "hello"})
    await slow.send_json({"type": "join", "room": ROOM})
    await until(lambda: _true(len(hub.all_sessions()) == 3), 5, "the slow reader to join")
    text = "w" * 1900
    last = 0
    while not any(s.close_code == 4008 for s in hub.all_sessions()):
        acks = [await speaker.request({"type": "send", "room": ROOM, "text": text})]
        last = acks[-1]["id"]
        assert last < 5000, "the slow reader was never cut off"
        assert max(s.queued for s in hub.all_sessions()) <= 16  # memory bounded by the outbox
    # the reader that reads got every message meanwhile
    await reader.expect("message", seconds=10, id=last)
    # the slow client, once it reads, finds its close code after what was sent before
    assert await slow.until_closed(seconds=20) == 4008
    await slow.close()


async def test_reader_that_never_reads_again_is_dropped_within_the_grace(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(
        OUTBOX_MAX_FRAMES="8", CLOSE_GRACE_SECONDS="0.5", SEND_BURST="100000",
        SEND_PER_SECOND="100000", FRAME_BURST="100000", FRAME_PER_SECOND="100000",
    )  # fmt: skip
    hub = server.app.state.services.hub
    speaker = await connect(server.ws, max_size=None)
    await speaker.enter(ROOM)
    slow = await RawClient.connect(server.ws, rcvbuf=4096)
    await slow.send_json({"type": "hello"})
    await slow.send_json({"type": "join", "room": ROOM})
    await until(lambda: _true(len(hub.all_sessions()) == 2), 5, "the slow reader to join")
    text = "w" * 1900
    for _ in range(5000):
        await speaker.request({"type": "send", "room": ROOM, "text": text})
        if len(hub.all_sessions()) == 1:
            break
    # gone from the room and from the server, though it never read a byte
    await until(lambda: _true(len(hub.all_sessions()) == 1), 10, "the slow reader to go")
    said = await speaker.say(ROOM, "the room is fine")
    await speaker.expect("message", id=said["id"])
    await slow.close()


# -- malformed frames, and what one socket can put into a room (issue 12, items 4 and 5) --------


async def _facilitator(server: AppServer, connect: ConnectClient, name: str = "Sam") -> Client:
    client = await connect(server.ws, hello=False)
    token = TokenService((TEST_SECRET,), 3600).issue_facilitator(name, None, 1)
    assert (await client.hello(facilitator_token=token))["role"] == "facilitator"
    return client


async def _closed_code(client: Client, seconds: float = 10) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await client.expect("never", seconds=seconds)
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


async def test_malformed_frames_spend_the_frame_budget_and_close_4029(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(FRAME_BURST="10", FRAME_PER_SECOND="0.5", FLOOD_STRIKES="20")
    calm = await connect(server.ws)
    await calm.enter(ROOM)
    flooder = await connect(server.ws)  # hello spent one token of ten
    for _ in range(200):
        await flooder.send_raw("{")
    assert await _closed_code(flooder) == 4029
    errors = [f for f in flooder.frames if f.get("type") == "error"]
    bad = [f for f in errors if f["code"] == "bad_request"]
    limited = [f for f in errors if f["code"] == "rate_limited"]
    assert bad and limited and len(bad) + len(limited) == len(errors) < 200
    assert all(f["retry_after"] > 0 and f["ref"] is None for f in limited)
    # parse failures were strikes: the close came after 20 bad frames in a row, not 200
    assert len(errors) == 19, [f["code"] for f in errors]
    await calm.say(ROOM, "still calm")


async def test_a_good_frame_clears_the_strikes_of_malformed_ones(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(FLOOD_STRIKES="5")
    client = await connect(server.ws)
    for _ in range(3):
        for _ in range(4):
            await client.send_raw("{")
        assert (await client.request({"type": "nonsense"}))["code"] == "unknown_type"
    errors = [f for f in client.frames if f.get("type") == "error"]
    assert [f["code"] for f in errors].count("bad_request") == 12  # and the socket is open


async def test_a_long_frame_costs_a_token_per_4096_characters(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(FRAME_BURST="30", FRAME_PER_SECOND="0.1", FLOOD_STRIKES="1000")
    client = await connect(server.ws)  # 29 tokens left
    junk = "{" + " " * 60_000  # 15 tokens
    await client.send_raw(junk)
    assert (await client.expect("error"))["code"] == "bad_request"
    # 14 left: the next long frame is refused before it is parsed, and its ref is still found
    big = {"type": "send", "room": ROOM, "text": "x" * 60_000, "ref": "big-2"}
    await client.send_raw(json.dumps(big))
    refused = await client.expect("error", ref="big-2")
    assert refused["code"] == "rate_limited" and refused["retry_after"] > 0
    # short frames still pass on what is left
    assert (await client.request({"type": "nonsense"}))["code"] == "unknown_type"


async def _churn(
    server: AppServer, connect: ConnectClient, kinds: tuple[str, str], times: int
) -> tuple[Client, dict[str, object], list[Frame], list[Frame]]:
    """A watcher in the room, and one socket sending `times` alternating frames of `kinds`;
    returns the watcher, the churner's `joined`, the churner's answers and what the watcher
    received meanwhile (up to its own marker message, which follows all of them)."""
    watcher = await connect(server.ws)
    await watcher.enter(ROOM)
    start = len(watcher.frames)
    churner = await connect(server.ws)
    joined = await churner.enter(ROOM)  # the join spent one token of the join budget
    answers = [await churner.request({"type": kinds[i % 2], "room": ROOM}) for i in range(times)]
    said = await watcher.say(ROOM, "marker")
    await watcher.expect("message", id=said["id"])
    return watcher, joined, answers, watcher.frames[start:]


async def test_listen_talk_churn_is_held_to_the_join_budget(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(JOIN_BURST="5", JOIN_PER_SECOND="0.01")
    watcher, joined, answers, seen = await _churn(server, connect, ("listen", "talk"), 60)
    limited = [a for a in answers if a.get("code") == "rate_limited"]
    assert len([a for a in answers if a["type"] == "ack"]) == 4 and len(limited) == 56
    assert all(a["retry_after"] > 0 and a["ref"] for a in limited)
    updates = [
        f for f in seen
        if f.get("type") == "presence" and f.get("event") == "update"
        and f.get("participant") == joined["participant"]
    ]  # fmt: skip
    assert 1 <= len(updates) <= 4, updates  # was 60


async def test_hand_churn_is_held_to_the_join_budget(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(JOIN_BURST="5", JOIN_PER_SECOND="0.01")
    watcher, _, answers, seen = await _churn(server, connect, ("raise_hand", "lower_hand"), 30)
    limited = [a for a in answers if a.get("code") == "rate_limited"]
    assert len([a for a in answers if a["type"] == "ack"]) == 4 and len(limited) == 26
    assert all(a["retry_after"] > 0 for a in limited)
    hands = [f for f in seen if f.get("type") == "hands"]
    assert 1 <= len(hands) <= 4, hands  # was 30


async def test_a_facilitator_lowering_hands_is_not_held_to_a_budget(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(JOIN_BURST="2", JOIN_PER_SECOND="0.01")
    fac = await _facilitator(server, connect)
    await fac.enter(ROOM)  # one token of two
    raisers = []
    for _ in range(3):
        member = await connect(server.ws)
        joined = await member.enter(ROOM)
        assert (await member.request({"type": "raise_hand", "room": ROOM}))["type"] == "ack"
        raisers.append(str(joined["participant"]))
    for pid in raisers:
        answer = await fac.request({"type": "lower_hand", "room": ROOM, "participant": pid})
        assert answer["type"] == "ack", answer


async def test_report_floods_are_bounded_and_duplicates_merge(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(REPORT_BURST="15", REPORT_PER_MINUTE="0.01")
    fac = await _facilitator(server, connect)
    await fac.enter(ROOM)
    speaker = await connect(server.ws)
    await speaker.enter(ROOM)
    targets = [(await speaker.say(ROOM, f"message {i}"))["id"] for i in range(12)]
    reporters = [await connect(server.ws) for _ in range(4)]
    answers: list[list[Frame]] = []
    for reporter in reporters:
        await reporter.enter(ROOM)
        mine = []
        for i in range(100):  # 400 reports in all, cycling over 12 messages
            report = {"type": "report", "room": ROOM, "message_id": targets[i % 12],
                      "reason": "bad"}  # fmt: skip
            mine.append(await reporter.request(report))
        answers.append(mine)
    for mine in answers:
        # 15 pass the member budget: 10 new items, the cap of open reports refuses 2 more
        # targets, and the 3 that name an open report's target again merge into it
        new = mine[:10]
        assert all(a["type"] == "ack" and "merged" not in a for a in new), new
        assert [a["code"] for a in mine[10:12]] == ["limit_reached"] * 2
        merged = mine[12:15]
        assert [a["item"] for a in merged] == [a["item"] for a in new[:3]]
        assert all(a["type"] == "ack" and a["merged"] is True for a in merged)
        assert all(a["code"] == "rate_limited" and a["retry_after"] > 0 for a in mine[15:])
    said = await speaker.say(ROOM, "marker")
    await fac.expect("message", id=said["id"])
    assert len([f for f in fac.frames if f.get("type") == "reported"]) == 40
    assert len([f for f in fac.frames if f.get("type") == "queue_item"]) == 40
    late = await _facilitator(server, connect, name="Ana")
    await late.join(ROOM)
    queue = await late.expect("queue")
    assert len(queue["items"]) == 40 and queue["total"] == 40 and queue["more"] is False


async def test_a_joining_facilitator_gets_a_bounded_queue_with_the_crisis_alert_first(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(REPORT_BURST="10")
    speaker = await connect(server.ws)
    await speaker.enter(ROOM)
    alerted = await speaker.say(ROOM, "I want to END MY LIFE")  # the oldest item
    targets = [(await speaker.say(ROOM, f"message {i}"))["id"] for i in range(10)]
    for _ in range(7):  # 70 reports, newer than the alert
        reporter = await connect(server.ws)
        await reporter.enter(ROOM)
        for target in targets:
            report = {"type": "report", "room": ROOM, "message_id": target, "reason": "r"}
            assert (await reporter.request(report))["type"] == "ack"
    fac = await _facilitator(server, connect)
    await fac.join(ROOM)
    queue = await fac.expect("queue")
    assert queue["total"] == 71 and queue["more"] is True and len(queue["items"]) == 50
    first = queue["items"][0]
    assert first["kind"] == "alert" and first["message_id"] == alerted["id"]
    reports = queue["items"][1:]
    assert all(i["kind"] == "report" for i in reports)
    ids = [int(i["id"][1:]) for i in reports]
    assert ids == sorted(ids) and ids[-1] == max(ids)  # the newest 49, in queue order
    assert len(json.dumps(queue)) < 64 * 1024


async def test_one_members_reports_share_a_budget_and_merge_across_its_sockets(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(REPORT_BURST="3", REPORT_PER_MINUTE="0.01")
    fac = await _facilitator(server, connect)
    await fac.enter(ROOM)
    speaker = await connect(server.ws)
    await speaker.enter(ROOM)
    targets = [(await speaker.say(ROOM, f"message {i}"))["id"] for i in range(3)]
    first = await connect(server.ws, hello=False)
    token = (await first.hello())["token"]
    second = await connect(server.ws, hello=False)
    await second.hello(token=token)
    for client in (first, second):
        await client.enter(ROOM)

    def report(target: int) -> Frame:
        return {"type": "report", "room": ROOM, "message_id": target, "reason": "r"}

    # the same target from both sockets at once: one item, checked and stored atomically
    both = await asyncio.gather(first.request(report(targets[0])),
                                second.request(report(targets[0])))  # fmt: skip
    assert both[0]["item"] == both[1]["item"]
    assert sorted(bool(a.get("merged")) for a in both) == [False, True]
    third = await second.request(report(targets[1]))
    assert third["type"] == "ack" and "merged" not in third
    refused = await first.request(report(targets[2]))  # the member's fourth: one budget
    assert refused["code"] == "rate_limited" and refused["retry_after"] > 0
    said = await speaker.say(ROOM, "marker")
    await fac.expect("message", id=said["id"])
    assert len([f for f in fac.frames if f.get("type") == "reported"]) == 2
