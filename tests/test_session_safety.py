"""Peer-support session features on both brokers: listen-only, facilitator-present rooms,
raise hand and turns, pause, private conversations, the contact-detail guard."""

from __future__ import annotations

from tests.conftest import AppServer, ConnectClient, StartServer
from tests.support import Client
from tests.test_moderation import facilitator

ROOM = "anxiety"
WAITING_ROOM = "depression"  # requires a facilitator
TURNS_ROOM = "grief-and-loss"  # one person at a time (and requires a facilitator)


async def test_listen_only_member(server: AppServer, connect: ConnectClient) -> None:
    a = await connect(server.ws)
    b = await connect(server.ws)
    joined = await a.enter(ROOM)
    await b.enter(ROOM)
    assert (await a.request({"type": "listen", "room": ROOM}))["listening"] is True
    update = await b.expect("presence", event="update", participant=joined["participant"])
    assert update["listening"] is True and update["members"] == 2
    assert (await a.request({"type": "send", "room": ROOM, "text": "hi"}))["code"] == "listening"
    late = await connect(server.ws)
    listed = (await late.join(ROOM))["participants"]
    assert next(p for p in listed if p["participant"] == joined["participant"])["listening"]
    await a.request({"type": "talk", "room": ROOM})
    await b.expect("presence", event="update", participant=joined["participant"], listening=False)
    assert (await a.request({"type": "send", "room": ROOM, "text": "hi"}))["type"] == "ack"


async def test_room_waits_for_a_facilitator(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(FACILITATOR_GRACE_SECONDS="0.5")
    member = await connect(server.ws)
    joined = await member.enter(WAITING_ROOM)
    assert joined["type"] == "joined"
    state = await member.expect("room_state")
    assert state["waiting"] is True and state["facilitator_present"] is False
    refused = await member.request({"type": "send", "room": WAITING_ROOM, "text": "anyone?"})
    assert refused["code"] == "waiting"
    fac = await facilitator(server, connect)
    await fac.enter(WAITING_ROOM)
    await member.expect("room_state", waiting=False)
    assert (await member.request({"type": "send", "room": WAITING_ROOM, "text": "hi"}))[
        "type"
    ] == "ack"
    # a dropped facilitator connection: waiting again after the grace period
    await fac.close()
    await member.expect("room_state", waiting=True, seconds=5)
    # a facilitator who leaves on purpose: waiting at once
    fac2 = await facilitator(server, connect, name="Ana")
    await fac2.enter(WAITING_ROOM)
    await member.expect("room_state", waiting=False)
    await fac2.request({"type": "leave", "room": WAITING_ROOM})
    await member.expect("room_state", waiting=True, seconds=1)


async def test_facilitator_reconnect_within_grace_keeps_room_open(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(FACILITATOR_GRACE_SECONDS="3")
    member = await connect(server.ws)
    await member.enter(WAITING_ROOM)
    await member.expect("room_state", waiting=True)
    fac = await connect(server.ws, hello=False)
    from tests.test_moderation import facilitator_token

    token = facilitator_token()
    await fac.send({"type": "hello", "facilitator_token": token})
    welcome = await fac.expect("welcome")
    await fac.enter(WAITING_ROOM)
    await member.expect("room_state", waiting=False)
    await fac.close()
    back = await connect(server.ws, hello=False)
    await back.send({"type": "hello", "token": welcome["token"], "facilitator_token": token})
    await back.expect("welcome")
    await back.enter(WAITING_ROOM)
    await member.quiet("room_state", seconds=3.5, waiting=True)
    sent = await member.request({"type": "send", "room": WAITING_ROOM, "text": "still open"})
    assert sent["type"] == "ack"


async def test_raise_hand_and_turns(server: AppServer, connect: ConnectClient) -> None:
    fac = await facilitator(server, connect)
    await fac.enter(TURNS_ROOM)
    a = await connect(server.ws)
    b = await connect(server.ws)
    ja = await a.enter(TURNS_ROOM)
    jb = await b.enter(TURNS_ROOM)
    state = await a.expect("room_state")
    assert state["one_at_a_time"] is True
    refused = await a.request({"type": "send", "room": TURNS_ROOM, "text": "me?"})
    assert refused["code"] == "not_your_turn"
    await b.request({"type": "raise_hand", "room": TURNS_ROOM})
    await a.request({"type": "raise_hand", "room": TURNS_ROOM})
    hands = await fac.expect("hands", queue=[jb["participant"], ja["participant"]])
    assert hands["room"] == TURNS_ROOM
    ack = await fac.request(
        {"type": "call_on", "room": TURNS_ROOM, "participant": jb["participant"]}
    )
    assert ack["type"] == "ack"
    await a.expect("hands", queue=[ja["participant"]])
    await b.expect("room_state", turn=jb["participant"])
    assert (await b.request({"type": "send", "room": TURNS_ROOM, "text": "my turn"}))[
        "type"
    ] == "ack"
    assert (await a.request({"type": "send", "room": TURNS_ROOM, "text": "x"}))[
        "code"
    ] == "not_your_turn"
    # members lower only their own hand; facilitators lower anyone's
    other = await a.request(
        {"type": "lower_hand", "room": TURNS_ROOM, "participant": jb["participant"]}
    )
    assert other["code"] == "forbidden"
    await fac.request({"type": "lower_hand", "room": TURNS_ROOM, "participant": ja["participant"]})
    await b.expect("hands", queue=[])
    refused = await a.request(
        {"type": "call_on", "room": TURNS_ROOM, "participant": ja["participant"]}
    )
    assert refused["code"] == "forbidden"


async def test_pause_and_resume(server: AppServer, connect: ConnectClient) -> None:
    fac = await facilitator(server, connect)
    await fac.enter(ROOM)
    member = await connect(server.ws)
    await member.enter(ROOM)
    assert (await fac.request({"type": "pause", "room": ROOM}))["type"] == "ack"
    state = await member.expect("room_state", paused=True)
    await member.expect("room_state", locked=True)
    await member.expect("room_state", slow=30)
    statement = await member.expect("message", kind="announcement")
    assert "pause" in statement["text"].lower() and statement["role"] == "facilitator"
    newcomer = await connect(server.ws)
    assert (await newcomer.request({"type": "join", "room": ROOM}))["code"] == "locked"
    assert (await member.request({"type": "send", "room": ROOM, "text": "ok"}))["type"] == "ack"
    assert (await member.request({"type": "send", "room": ROOM, "text": "again"}))[
        "code"
    ] == "slow_mode"
    assert (await fac.request({"type": "resume", "room": ROOM}))["type"] == "ack"
    await member.expect("room_state", paused=False, locked=False, slow=0)
    assert (await newcomer.join(ROOM))["type"] == "joined"
    assert state["room"] == ROOM


async def test_private_conversation_is_seen_by_no_other_member(
    server: AppServer, connect: ConnectClient
) -> None:
    fac = await facilitator(server, connect)
    await fac.enter(ROOM)
    co = await facilitator(server, connect, name="Ana")
    await co.enter(ROOM)
    person = await connect(server.ws)
    joined = await person.enter(ROOM)
    bystander = await connect(server.ws)
    await bystander.enter(ROOM)
    ack = await fac.request(
        {"type": "private_open", "room": ROOM, "participant": joined["participant"]}
    )
    conversation = ack["conversation"]
    for client in (person, fac, co):
        opened = await client.expect("private_opened", conversation=conversation)
        assert opened["participant"] == joined["participant"]
    assert any("988" in r["contact"] for r in (await person.expect("support"))["resources"])
    said = await fac.request(
        {"type": "send", "room": ROOM, "text": "I'm here with you", "conversation": conversation}
    )
    reply = await person.request(
        {"type": "send", "room": ROOM, "text": "thank you", "conversation": conversation}
    )
    for client in (person, fac, co):
        await client.expect("message", id=said["id"], conversation=conversation)
        await client.expect("message", id=reply["id"], conversation=conversation)
    # the bystander cannot write into it and never sees it, nor does history keep it
    intrude = await bystander.request(
        {"type": "send", "room": ROOM, "text": "hi", "conversation": conversation}
    )
    assert intrude["code"] == "not_found"
    late = await connect(server.ws)
    history = (await late.join(ROOM))["history"]
    assert all(m.get("conversation") is None for m in history)
    await fac.request({"type": "private_close", "room": ROOM, "conversation": conversation})
    await person.expect("private_closed", conversation=conversation)
    closed = await person.request(
        {"type": "send", "room": ROOM, "text": "still there?", "conversation": conversation}
    )
    assert closed["code"] == "not_found"
    await bystander.quiet("message")
    kinds = {"private_opened", "private_closed", "support"}
    assert not any(
        f["type"] in kinds or f.get("conversation") for f in bystander.frames + late.frames
    )


async def test_contact_details_are_held(server: AppServer, connect: ConnectClient) -> None:
    fac = await facilitator(server, connect)
    await fac.enter(ROOM)
    a = await connect(server.ws)
    b = await connect(server.ws)
    await a.enter(ROOM)
    await b.enter(ROOM)
    for text in ("text me on 555-123-4567", "mail jo@example.org", "my insta is @sunnyday"):
        answer = await a.request({"type": "send", "room": ROOM, "text": text})
        assert answer["type"] == "held" and answer["reason"] == "contact_details"
    ok = await a.say(ROOM, "I slept 8 hours in 2024")
    await b.expect("message", id=ok["id"])
    assert not any(
        "555-123-4567" in str(f) or "jo@example" in str(f) for f in b.frames + fac.frames
    )
    late = await connect(server.ws)
    assert [m["text"] for m in (await late.join(ROOM))["history"]] == ["I slept 8 hours in 2024"]
    # facilitators are exempt (e.g. sharing a helpline number)
    said = await fac.say(ROOM, "The line is 1-800-273-8255")
    await b.expect("message", id=said["id"])


async def test_directory_shows_lock_and_facilitator(
    server: AppServer, connect: ConnectClient
) -> None:
    import asyncio
    import json
    import urllib.request

    def room(room_id: str) -> dict[str, object]:
        with urllib.request.urlopen(f"{server.http}/api/rooms", timeout=5) as response:
            listed: list[dict[str, object]] = json.load(response)
        return next(r for r in listed if r["id"] == room_id)

    before = await asyncio.to_thread(room, ROOM)
    assert before["facilitator_present"] is False and before["locked"] is False
    fac: Client = await facilitator(server, connect)
    await fac.enter(ROOM)
    await fac.request({"type": "lock", "room": ROOM})
    after = await asyncio.to_thread(room, ROOM)
    assert after["facilitator_present"] is True and after["locked"] is True


async def test_agreement_is_remembered_until_the_rules_change(
    start_server: StartServer, connect: ConnectClient, broker_kind: str
) -> None:
    from tests.test_admin import call

    server = await start_server()
    first = await connect(server.ws, hello=False)
    welcome = await first.hello()
    joined = await first.join(ROOM)
    assert joined["agreed"] is False
    await first.request({"type": "agree", "room": ROOM})
    await first.close()
    again = await connect(server.ws, hello=False)
    await again.hello(token=welcome["token"])
    joined = await again.join(ROOM)
    assert joined["agreed"] is True
    assert (await again.request({"type": "send", "room": ROOM, "text": "hi"}))["type"] == "ack"
    await again.close()

    # A coordinator changes the rules (rules_version 2): everyone must agree again, on a
    # process started later too (with Redis: the same shared definitions and agreements).
    rules = [*joined["rules"], "Phones on silent."]
    status, _ = await call(server, "PUT", f"/api/admin/rooms/{ROOM}", {"rules": rules})
    assert status == 200
    # (The memory broker's rooms live with the process: a new one starts from the file.)
    newer = server if broker_kind == "memory" else await start_server()
    later = await connect(newer.ws, hello=False)
    await later.hello(token=welcome["token"])
    joined = await later.join(ROOM)
    assert joined["rules_version"] == 2 and joined["agreed"] is False
    refused = await later.request({"type": "send", "room": ROOM, "text": "hi"})
    assert refused["code"] == "rules_not_accepted"


async def test_turn_and_hands_are_given_up_on_leaving(
    server: AppServer, connect: ConnectClient
) -> None:
    fac = await facilitator(server, connect)
    await fac.enter(TURNS_ROOM)
    a = await connect(server.ws)
    b = await connect(server.ws)
    ja = await a.enter(TURNS_ROOM)
    jb = await b.enter(TURNS_ROOM)
    await fac.expect("hands", queue=[])  # the queue as it was on joining
    await b.expect("hands", queue=[])
    await b.request({"type": "raise_hand", "room": TURNS_ROOM})
    await fac.expect("hands", queue=[jb["participant"]])
    await fac.request({"type": "call_on", "room": TURNS_ROOM, "participant": ja["participant"]})
    await fac.expect("room_state", turn=ja["participant"])
    await a.request({"type": "leave", "room": TURNS_ROOM})
    await fac.expect("room_state", turn=None)
    await b.request({"type": "listen", "room": TURNS_ROOM})
    await fac.expect("hands", queue=[])
    await b.request({"type": "talk", "room": TURNS_ROOM})
    await b.request({"type": "raise_hand", "room": TURNS_ROOM})
    await fac.expect("hands", queue=[jb["participant"]])
    await b.expect("hands", queue=[jb["participant"]])
    await fac.request({"type": "end_session", "room": TURNS_ROOM})
    await b.expect("hands", queue=[])


async def test_private_conversation_survives_a_reconnect_and_needs_no_agreement(
    server: AppServer, connect: ConnectClient
) -> None:
    fac = await facilitator(server, connect)
    await fac.enter(ROOM)
    person = await connect(server.ws, hello=False)
    welcome = await person.hello()
    joined = await person.join(ROOM)  # has not agreed to the rules: only listening so far
    opened = await fac.request(
        {"type": "private_open", "room": ROOM, "participant": joined["participant"]}
    )
    conversation = opened["conversation"]
    await person.expect("private_opened", conversation=conversation)
    reply = await person.request(
        {"type": "send", "room": ROOM, "text": "thanks", "conversation": conversation}
    )
    assert reply["type"] == "ack"
    refused = await person.request({"type": "send", "room": ROOM, "text": "to the room"})
    assert refused["code"] == "rules_not_accepted"
    await person.close()
    back = await connect(server.ws, hello=False)
    await back.hello(token=welcome["token"])
    await back.join(ROOM)
    again = await back.expect("private_opened", conversation=conversation)
    assert again["participant"] == joined["participant"]
    other = await connect(server.ws)
    await other.join(ROOM)
    await other.quiet("private_opened")
