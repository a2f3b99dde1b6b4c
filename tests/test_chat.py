"""Behaviour suite for live rooms, run against both brokers (memory and a real redis-server)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.conftest import AppServer, ConnectClient, StartServer
from tests.support import Client

ROOM = "anxiety"


async def test_two_members_chat(server: AppServer, connect: ConnectClient) -> None:
    a = await connect(server.ws)
    b = await connect(server.ws)
    joined_a = await a.enter(ROOM)
    joined_b = await b.enter(ROOM)
    assert joined_a["participant"] != joined_b["participant"]
    assert joined_a["handle"] != joined_b["handle"]
    ack = await a.say(ROOM, "hello <3 & welcome")
    for client in (a, b):
        msg = await client.expect("message", id=ack["id"])
        assert msg["text"] == "hello <3 & welcome"
        assert msg["html"] == "hello &lt;3 &amp; welcome"
        assert msg["participant"] == joined_a["participant"]
        assert msg["handle"] == joined_a["handle"]
        assert msg["role"] == "member"
        assert msg["room"] == ROOM
        assert msg["ts"].endswith("Z")


async def test_ids_strictly_increase_and_order_is_kept(
    server: AppServer, connect: ConnectClient
) -> None:
    a = await connect(server.ws)
    b = await connect(server.ws)
    await a.enter(ROOM)
    await b.enter(ROOM)
    for i in range(20):
        await (a if i % 2 else b).send({"type": "send", "room": ROOM, "text": f"m{i}"})
    seen = [await b.expect("message") for _ in range(20)]
    ids = [m["id"] for m in seen]
    assert ids == sorted(ids) and len(set(ids)) == 20
    # each sender's own messages arrive in the order they were sent
    texts_b = [m["text"] for m in seen if m["text"] in {f"m{i}" for i in range(0, 20, 2)}]
    assert texts_b == [f"m{i}" for i in range(0, 20, 2)]


async def test_join_replays_history_and_since(server: AppServer, connect: ConnectClient) -> None:
    a = await connect(server.ws)
    await a.enter(ROOM)
    ids = [(await a.say(ROOM, f"line {i}"))["id"] for i in range(5)]
    late = await connect(server.ws)
    joined = await late.join(ROOM)
    assert [m["text"] for m in joined["history"]] == [f"line {i}" for i in range(5)]
    assert [m["id"] for m in joined["history"]] == ids
    assert joined["recovered"] is True

    again = await connect(server.ws)
    joined2 = await again.join(ROOM, since=ids[2], epoch=joined["epoch"])
    assert [m["id"] for m in joined2["history"]] == ids[3:]
    assert joined2["recovered"] is True
    assert joined2["epoch"] == joined["epoch"]


async def test_wrong_epoch_or_old_gap_is_never_silent(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(HISTORY_MAX_MESSAGES="3")
    a = await connect(server.ws)
    await a.enter(ROOM)
    ids = [(await a.say(ROOM, f"x{i}"))["id"] for i in range(6)]
    b = await connect(server.ws)
    joined = await b.join(ROOM, since=ids[0])
    assert joined["recovered"] is False  # ids[1] and ids[2] were trimmed away
    assert [m["id"] for m in joined["history"]] == ids[3:]
    c = await connect(server.ws)
    joined = await c.join(ROOM, since=ids[4], epoch="not-the-epoch")
    assert joined["recovered"] is False
    assert [m["id"] for m in joined["history"]] == ids[3:]
    d = await connect(server.ws)
    joined = await d.join(ROOM, since=ids[3], epoch=joined["epoch"])
    assert joined["recovered"] is True
    assert [m["id"] for m in joined["history"]] == ids[4:]


async def test_token_resumes_member_with_same_participant_and_handle(
    server: AppServer, connect: ConnectClient
) -> None:
    a = await connect(server.ws, hello=False)
    welcome = await a.hello()
    first = await a.join(ROOM)
    other_room = await a.join("grief-and-loss")
    await a.close()
    again = await connect(server.ws, hello=False)
    welcome2 = await again.hello(token=welcome["token"])
    assert welcome2["member"] == welcome["member"]
    second = await again.join(ROOM)
    assert (second["participant"], second["handle"]) == (first["participant"], first["handle"])
    # not linkable across rooms
    assert other_room["participant"] != first["participant"]


async def test_bad_token_is_unauthorized_then_new_member(
    server: AppServer, connect: ConnectClient
) -> None:
    a = await connect(server.ws, hello=False)
    welcome = await a.hello()
    tampered = welcome["token"][:-2] + ("AA" if not welcome["token"].endswith("AA") else "BB")
    b = await connect(server.ws, hello=False)
    answer = await b.request({"type": "hello", "token": tampered})
    assert answer["type"] == "error" and answer["code"] == "unauthorized"
    assert tampered not in answer["message"]
    fresh = await b.hello()
    assert fresh["member"] != welcome["member"]


async def test_presence_counts_participants_not_sockets(
    server: AppServer, connect: ConnectClient
) -> None:
    watcher = await connect(server.ws)
    await watcher.join(ROOM)
    tab1 = await connect(server.ws, hello=False)
    welcome = await tab1.hello()
    joined1 = await tab1.join(ROOM)
    event = await watcher.expect("presence", event="join", participant=joined1["participant"])
    assert event["members"] == 2
    tab2 = await connect(server.ws, hello=False)
    await tab2.hello(token=welcome["token"])
    joined2 = await tab2.join(ROOM)
    assert joined2["members"] == 2
    await watcher.quiet("presence", participant=joined1["participant"])
    await tab1.close()
    await watcher.quiet("presence", event="leave")
    await tab2.close()
    event = await watcher.expect("presence", event="leave", participant=joined1["participant"])
    assert event["members"] == 1


async def test_leave_announces_and_stops_delivery(
    server: AppServer, connect: ConnectClient
) -> None:
    a = await connect(server.ws)
    b = await connect(server.ws)
    await a.enter(ROOM)
    joined_b = await b.enter(ROOM)
    answer = await b.request({"type": "leave", "room": ROOM})
    assert answer["type"] == "ack"
    await a.expect("presence", event="leave", participant=joined_b["participant"])
    await a.say(ROOM, "after")
    await b.quiet("message")
    answer = await b.request({"type": "send", "room": ROOM, "text": "x"})
    assert answer["code"] == "not_joined"


async def test_rules_must_be_agreed_before_sending(
    server: AppServer, connect: ConnectClient
) -> None:
    a = await connect(server.ws)
    joined = await a.join(ROOM)
    assert joined["rules"] and any("crisis" in r for r in joined["rules"])
    answer = await a.request({"type": "send", "room": ROOM, "text": "hi"})
    assert answer["code"] == "rules_not_accepted"
    await a.request({"type": "agree", "room": ROOM})
    assert (await a.request({"type": "send", "room": ROOM, "text": "hi"}))["type"] == "ack"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "bad_request"),
        ("[1, 2]", "bad_request"),
        ('{"type": 3}', "bad_request"),
        ('{"type": "send", "type": "join"}', "bad_request"),
        ('{"type": "nope", "ref": "r1"}', "unknown_type"),
        ('{"type": "join", "room": 5, "ref": "r2"}', "bad_request"),
        ('{"type": "join", "room": "no-such-room", "ref": "r3"}', "not_found"),
        ('{"type": "join", "room": "anxiety", "since": -1}', "bad_request"),
        ('{"type": "join", "room": "anxiety", "since": NaN}', "bad_request"),
        ('{"type": "send", "room": "anxiety", "text": "x"}', "not_joined"),
        ('{"type": "mute", "room": "anxiety", "participant": "p", "minutes": 5}', "forbidden"),
        ("[" * 10000 + "]" * 10000, "bad_request"),
        ('{"type": "join", "room": "anxiety", "since": 1' + "0" * 5000 + "}", "bad_request"),
        ('{"type": "hello", "ref": "' + "r" * 65 + '"}', "bad_request"),
    ],
)
async def test_bad_frames_get_errors_and_the_connection_lives(
    server: AppServer, connect: ConnectClient, raw: str, code: str
) -> None:
    a = await connect(server.ws)
    await a.send_raw(raw)
    error = await a.expect("error")
    assert error["code"] == code
    assert raw[:20] not in error["message"] or len(raw) < 3
    # still usable afterwards
    assert (await a.join(ROOM))["type"] == "joined"


async def test_refs_come_back_on_errors(server: AppServer, connect: ConnectClient) -> None:
    a = await connect(server.ws)
    await a.send({"type": "leave", "room": ROOM, "ref": "my-ref"})
    error = await a.expect("error")
    assert error == {**error, "code": "not_joined", "ref": "my-ref"}


async def test_binary_and_oversized_frames(server: AppServer, connect: ConnectClient) -> None:
    a = await connect(server.ws)
    await a.enter(ROOM)
    await a.send_raw(b"\x00\x01binary")
    assert (await a.expect("error"))["code"] == "bad_request"
    answer = await a.request({"type": "send", "room": ROOM, "text": "y" * 2001})
    assert answer["code"] == "too_large"
    assert (await a.request({"type": "send", "room": ROOM, "text": " \u200b "}))["code"] == (
        "bad_request"
    )
    # over the transport limit: closed with 1009
    await a.send_raw('{"type":"send","room":"anxiety","text":"' + "z" * 70000 + '"}')
    await a.ws.wait_closed()
    assert a.ws.close_code == 1009


async def test_frames_before_hello_are_refused(server: AppServer, connect: ConnectClient) -> None:
    a = await connect(server.ws, hello=False)
    answer = await a.request({"type": "join", "room": ROOM})
    assert answer["code"] == "hello_required"
    await a.hello()
    assert (await a.join(ROOM))["type"] == "joined"


async def test_no_hello_in_time_closes_4408(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(HELLO_TIMEOUT_SECONDS="0.3")
    a = await connect(server.ws, hello=False)
    await a.ws.wait_closed()
    assert a.ws.close_code == 4408


async def test_api_rooms_lists_filters_and_counts(
    server: AppServer, connect: ConnectClient
) -> None:
    def get(path: str) -> list[dict[str, object]]:
        with urllib.request.urlopen(server.http + path, timeout=5) as response:
            body: list[dict[str, object]] = json.load(response)
            return body

    import asyncio

    rooms = await asyncio.to_thread(get, "/api/rooms")
    kinds = {"anxiety", "depression", "bipolar", "grief-and-loss", "recovery",
             "chronic-illness", "caregivers", "general-check-in"}  # fmt: skip
    assert kinds <= {r["id"] for r in rooms}
    expected = {"id", "name", "category", "description", "members", "locked",
                "requires_facilitator", "facilitator_present", "one_at_a_time",
                "next_session"}  # fmt: skip
    assert all(expected <= set(r) for r in rooms)
    a = await connect(server.ws)
    await a.join(ROOM)
    rooms = await asyncio.to_thread(get, "/api/rooms?q=anxiety")
    assert [r["id"] for r in rooms] == [ROOM] and rooms[0]["members"] == 1
    rooms = await asyncio.to_thread(get, "/api/rooms?category=Grief%20and%20loss")
    assert [r["id"] for r in rooms] == ["grief-and-loss"]
    assert rooms[0]["one_at_a_time"] is True and rooms[0]["requires_facilitator"] is True
    assert isinstance(rooms[0]["next_session"], str)


async def test_health_and_readiness(server: AppServer) -> None:
    import asyncio

    def status(path: str) -> int:
        with urllib.request.urlopen(server.http + path, timeout=5) as response:
            code: int = response.status
            return code

    assert await asyncio.to_thread(status, "/healthz") == 200
    assert await asyncio.to_thread(status, "/readyz") == 200


async def test_rate_limit_refuses_without_storing(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(SEND_BURST="3", SEND_PER_SECOND="0.1")
    a = await connect(server.ws)
    await a.enter(ROOM)
    answers = [await a.request({"type": "send", "room": ROOM, "text": f"f{i}"}) for i in range(5)]
    assert [x["type"] for x in answers] == ["ack", "ack", "ack", "error", "error"]
    assert answers[3]["code"] == "rate_limited" and answers[3]["retry_after"] > 0
    late = await connect(server.ws)
    joined = await late.join(ROOM)
    assert [m["text"] for m in joined["history"]] == ["f0", "f1", "f2"]


async def test_origin_allow_list(start_server: StartServer, connect: ConnectClient) -> None:
    from websockets.exceptions import InvalidStatus

    server = await start_server(ALLOWED_ORIGINS="https://chat.example.org")
    with pytest.raises(InvalidStatus) as refused:
        await Client.connect(server.ws, origin="https://evil.example.com")
    assert refused.value.response.status_code == 403
    ok = await connect(server.ws, origin="https://chat.example.org")
    assert (await ok.join(ROOM))["type"] == "joined"
    own = await connect(server.ws, origin=f"http://127.0.0.1:{server.port}")
    assert (await own.join(ROOM))["type"] == "joined"


async def test_websocket_paths_other_than_ws_are_refused(server: AppServer) -> None:
    from websockets.exceptions import InvalidStatus

    for path in ("/wss", "/ws/", "/static/ws", "/"):
        with pytest.raises(InvalidStatus) as refused:
            await Client.connect(server.ws.removesuffix("/ws") + path)
        assert refused.value.response.status_code == 403, path


async def test_content_warning_travels_with_the_message(
    server: AppServer, connect: ConnectClient
) -> None:
    a = await connect(server.ws)
    b = await connect(server.ws)
    await a.enter(ROOM)
    await b.enter(ROOM)
    ack = await a.request({"type": "send", "room": ROOM, "text": "about my loss", "cw": "grief"})
    assert (await b.expect("message", id=ack["id"]))["cw"] == "grief"
    too_long = await a.request({"type": "send", "room": ROOM, "text": "x", "cw": "c" * 41})
    assert too_long["code"] == "bad_request"


async def test_private_conversation_text_never_reaches_the_room(
    server: AppServer, connect: ConnectClient
) -> None:
    a = await connect(server.ws)
    b = await connect(server.ws)
    await a.enter(ROOM)
    await b.enter(ROOM)
    answer = await a.request(
        {"type": "send", "room": ROOM, "text": "only for you", "conversation": "c-unknown"}
    )
    assert answer["code"] == "not_found"
    await b.quiet("message")


async def test_rate_limited_frames_keep_their_ref(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(FRAME_BURST="2", FRAME_PER_SECOND="0.1")
    a = await connect(server.ws)  # hello spends one token
    await a.send({"type": "leave", "room": ROOM, "ref": "first"})
    await a.send({"type": "leave", "room": ROOM, "ref": "second"})
    error = await a.expect("error", ref="second")
    assert error["code"] == "rate_limited" and error["retry_after"] > 0


async def test_frames_before_hello_do_not_extend_its_deadline(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(HELLO_TIMEOUT_SECONDS="0.6")
    a = await connect(server.ws, hello=False)
    for _ in range(8):  # keep talking, never say hello
        await a.send({"type": "join", "room": ROOM})
        try:
            await a.expect("error", seconds=0.2)
        except AssertionError:
            break
    await a.ws.wait_closed()
    assert a.ws.close_code == 4408
