"""Facilitators moderate live sessions: behaviour on both brokers."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys

import pytest

from server.tokens import TokenService
from tests.conftest import TEST_SECRET, AppServer, ConnectClient
from tests.support import Client

ROOM = "anxiety"
TOKENS = TokenService((TEST_SECRET,), 3600)


def facilitator_token(name: str = "Sam", rooms: list[str] | None = None, hours: float = 1) -> str:
    return TOKENS.issue_facilitator(name, rooms, hours)


async def facilitator(server: AppServer, connect: ConnectClient, **kw: object) -> Client:
    client = await connect(server.ws, hello=False)
    await client.send({"type": "hello", "facilitator_token": facilitator_token(**kw)})  # type: ignore[arg-type]
    welcome = await client.expect("welcome")
    assert welcome["role"] == "facilitator"
    return client


async def room_with(
    server: AppServer, connect: ConnectClient
) -> tuple[Client, Client, dict[str, object], Client]:
    fac = await facilitator(server, connect)
    await fac.enter(ROOM)
    member = await connect(server.ws)
    joined = await member.enter(ROOM)
    other = await connect(server.ws)
    await other.enter(ROOM)
    return fac, member, joined, other


def until_of(frame: dict[str, object]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(frame["until"]).replace("Z", "+00:00"))


async def test_facilitator_cli_token_gives_the_role(
    server: AppServer, connect: ConnectClient
) -> None:
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server", "facilitator-token", "--name", "Ana", "--room", ROOM],
        capture_output=True, text=True, env={"SECRET_KEY": TEST_SECRET, "PATH": ""}, check=True,
    )  # fmt: skip
    client = await connect(server.ws, hello=False)
    await client.send({"type": "hello", "facilitator_token": out.stdout.strip()})
    assert (await client.expect("welcome"))["role"] == "facilitator"
    joined = await client.enter(ROOM)
    assert joined["handle"] == "Ana" and joined["role"] == "facilitator"
    ack = await client.say(ROOM, "welcome everyone")
    msg = await client.expect("message", id=ack["id"])
    assert msg["role"] == "facilitator"


async def test_member_token_is_not_a_facilitator_token(
    server: AppServer, connect: ConnectClient
) -> None:
    a = await connect(server.ws, hello=False)
    welcome = await a.hello()
    b = await connect(server.ws, hello=False)
    answer = await b.request({"type": "hello", "facilitator_token": welcome["token"]})
    assert answer["code"] == "unauthorized"


async def test_mute_blocks_sending_until_unmuted(server: AppServer, connect: ConnectClient) -> None:
    fac, member, joined, other = await room_with(server, connect)
    pid = joined["participant"]
    ack = await fac.request({"type": "mute", "room": ROOM, "participant": pid, "minutes": 10,
                             "reason": "please take a breath"})  # fmt: skip
    assert ack["type"] == "ack"
    muted = await member.expect("muted")
    assert muted["reason"] == "please take a breath"
    remaining = until_of(muted) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=9) < remaining <= dt.timedelta(minutes=10, seconds=1)
    await other.quiet("muted")
    refused = await member.request({"type": "send", "room": ROOM, "text": "hello?"})
    assert refused["code"] == "muted" and "until" in refused
    # still reads
    said = await other.say(ROOM, "can you read this")
    await member.expect("message", id=said["id"])
    # follows the participant through a reconnect
    await member.close()
    again = await connect(server.ws, hello=False)
    await again.hello(token=member.frames[0]["token"])
    await again.enter(ROOM)
    assert (await again.request({"type": "send", "room": ROOM, "text": "x"}))["code"] == "muted"
    assert (await fac.request({"type": "unmute", "room": ROOM, "participant": pid}))[
        "type"
    ] == "ack"
    await again.expect("unmuted")
    assert (await again.request({"type": "send", "room": ROOM, "text": "back"}))["type"] == "ack"


async def test_remove_takes_out_and_bars_rejoin(server: AppServer, connect: ConnectClient) -> None:
    fac, member, joined, other = await room_with(server, connect)
    pid = joined["participant"]
    ack = await fac.request({"type": "remove", "room": ROOM, "participant": pid, "minutes": 30,
                             "reason": "abuse"})  # fmt: skip
    assert ack["type"] == "ack"
    removed = await member.expect("removed")
    assert removed["reason"] == "abuse" and until_of(removed) > dt.datetime.now(dt.UTC)
    leave = await other.expect("presence", event="leave", participant=pid)
    assert leave["members"] == 2
    said = await other.say(ROOM, "after removal")
    await member.quiet("message", id=said["id"])
    assert (await member.request({"type": "send", "room": ROOM, "text": "x"}))[
        "code"
    ] == "not_joined"
    refused = await member.request({"type": "join", "room": ROOM})
    assert refused["code"] == "banned" and "until" in refused
    # a reconnect with the same token is still barred
    again = await connect(server.ws, hello=False)
    await again.hello(token=member.frames[0]["token"])
    assert (await again.request({"type": "join", "room": ROOM}))["code"] == "banned"
    # other rooms are not affected
    assert (await again.join("grief-and-loss"))["type"] == "joined"


async def test_facilitators_cannot_act_on_facilitators(
    server: AppServer, connect: ConnectClient
) -> None:
    sam = await facilitator(server, connect)
    await sam.enter(ROOM)
    ana = await facilitator(server, connect, name="Ana")
    joined = await ana.enter(ROOM)
    answer = await sam.request({"type": "mute", "room": ROOM, "participant": joined["participant"],
                                "minutes": 5})  # fmt: skip
    assert answer["code"] == "forbidden"


async def test_facilitator_scope_is_their_rooms(server: AppServer, connect: ConnectClient) -> None:
    scoped = await facilitator(server, connect, rooms=["grief-and-loss"])
    await scoped.enter(ROOM)
    member = await connect(server.ws)
    joined = await member.enter(ROOM)
    frame = {"type": "mute", "room": ROOM, "participant": joined["participant"], "minutes": 5}
    answer = await scoped.request(frame)
    assert answer["code"] == "forbidden"


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "mute", "minutes": 5},
        {"type": "remove", "minutes": 5},
        {"type": "unmute"},
        {"type": "flag", "note": "x"},
        {"type": "delete", "message_id": 1},
        {"type": "slow", "seconds": 5},
        {"type": "lock"},
        {"type": "unlock"},
        {"type": "announce", "text": "x"},
        {"type": "end_session"},
        {"type": "resolve", "item": "q1"},
        {"type": "audit"},
    ],
)
async def test_members_get_forbidden(
    server: AppServer, connect: ConnectClient, frame: dict[str, object]
) -> None:
    member = await connect(server.ws)
    joined = await member.enter(ROOM)
    answer = await member.request({**frame, "room": ROOM, "participant": joined["participant"]})
    assert answer["code"] == "forbidden"


@pytest.mark.parametrize("minutes", [-1, 0, 10**9, "5", 2.5, None, True, float("nan")])
async def test_nonsense_minutes(server: AppServer, connect: ConnectClient, minutes: object) -> None:
    fac, member, joined, other = await room_with(server, connect)
    frame = {"type": "mute", "room": ROOM, "participant": joined["participant"], "minutes": minutes}
    if isinstance(minutes, float) and minutes != minutes:
        await fac.send_raw(json.dumps(frame).replace("NaN", "NaN"))
        assert (await fac.expect("error"))["code"] == "bad_request"
        return
    assert (await fac.request(frame))["code"] == "bad_request"


async def test_unknown_participant_and_message(server: AppServer, connect: ConnectClient) -> None:
    fac, member, joined, other = await room_with(server, connect)
    answer = await fac.request(
        {"type": "mute", "room": ROOM, "participant": "0" * 16, "minutes": 5}
    )
    assert answer["code"] == "not_found"
    assert (await fac.request({"type": "delete", "room": ROOM, "message_id": 999}))["code"] == (
        "not_found"
    )
    answer = await fac.request({"type": "flag", "room": ROOM, "message_id": 999, "note": "x"})
    assert answer["code"] == "not_found"
    assert (await fac.request({"type": "resolve", "room": ROOM, "item": "q999"}))["code"] == (
        "not_found"
    )


async def test_delete_removes_for_everyone_and_from_history(
    server: AppServer, connect: ConnectClient
) -> None:
    fac, member, joined, other = await room_with(server, connect)
    keep = await member.say(ROOM, "keep this")
    gone = await member.say(ROOM, "words-only-in-the-message")
    ack = await fac.request({"type": "delete", "room": ROOM, "message_id": gone["id"],
                             "reason": "hurtful"})  # fmt: skip
    assert ack["type"] == "ack"
    for client in (member, other, fac):
        await client.expect("deleted", message_id=gone["id"])
    late = await connect(server.ws)
    history = (await late.join(ROOM))["history"]
    assert [m["id"] for m in history] == [keep["id"]]
    # the audit keeps who, what and why, but not the text
    await fac.send({"type": "audit", "room": ROOM})
    log = await fac.expect("audit_log")
    entry = next(e for e in log["entries"] if e["action"] == "delete")
    assert entry["message_id"] == gone["id"] and entry["by"] == "Sam"
    assert entry["participant"] == joined["participant"] and entry["reason"] == "hurtful"
    assert "words-only-in-the-message" not in json.dumps(log)


async def test_reports_and_flags_reach_only_facilitators(
    server: AppServer, connect: ConnectClient
) -> None:
    fac, member, joined, other = await room_with(server, connect)
    said = await member.say(ROOM, "a message")
    ack = await other.request({"type": "report", "room": ROOM, "message_id": said["id"],
                               "reason": "feels unsafe"})  # fmt: skip
    assert ack["type"] == "ack"
    reported = await fac.expect("reported")
    assert reported["message_id"] == said["id"] and reported["reason"] == "feels unsafe"
    assert reported["participant"] == joined["participant"]
    item = (await fac.expect("queue_item"))["item"]
    assert item["kind"] == "report" and item["status"] == "open" and item["note"] == "feels unsafe"
    ack = await fac.request({"type": "flag", "room": ROOM, "participant": joined["participant"],
                             "note": "check in later"})  # fmt: skip
    assert ack["type"] == "ack"
    flagged = await fac.expect("flagged")
    assert flagged["note"] == "check in later"
    # a facilitator joining later gets the open items
    late_fac = await facilitator(server, connect, name="Ana")
    await late_fac.join(ROOM)
    queue = await late_fac.expect("queue")
    assert [i["kind"] for i in queue["items"]] == ["report", "flag"]
    # resolve closes it for every facilitator
    resolved_ack = await fac.request({"type": "resolve", "room": ROOM, "item": item["id"]})
    assert resolved_ack["type"] == "ack"
    resolved = await late_fac.expect("resolved")
    assert resolved["item"] == item["id"] and resolved["by"] == "Sam"
    for client in (member, other):
        for kind in ("reported", "flagged", "queue_item", "queue", "resolved", "alert"):
            assert not any(f["type"] == kind for f in client.frames), kind


async def test_slow_mode_and_lock(server: AppServer, connect: ConnectClient) -> None:
    fac, member, joined, other = await room_with(server, connect)
    assert (await fac.request({"type": "slow", "room": ROOM, "seconds": 30}))["type"] == "ack"
    state = await member.expect("room_state", slow=30)
    assert state["locked"] is False
    await member.say(ROOM, "one")
    refused = await member.request({"type": "send", "room": ROOM, "text": "two"})
    assert refused["code"] == "slow_mode" and 0 < refused["retry_after"] <= 30
    await fac.say(ROOM, "facilitators are exempt")
    await fac.say(ROOM, "still exempt")
    await fac.request({"type": "slow", "room": ROOM, "seconds": 0})
    await member.expect("room_state", slow=0)
    assert (await fac.request({"type": "lock", "room": ROOM}))["type"] == "ack"
    await member.expect("room_state", locked=True)
    newcomer = await connect(server.ws)
    assert (await newcomer.request({"type": "join", "room": ROOM}))["code"] == "locked"
    # someone who was present may come back after a dropped connection
    await member.close()
    back = await connect(server.ws, hello=False)
    await back.hello(token=member.frames[0]["token"])
    assert (await back.join(ROOM))["type"] == "joined"
    await fac.request({"type": "unlock", "room": ROOM})
    assert (await newcomer.join(ROOM))["type"] == "joined"


async def test_announce_and_end_session(server: AppServer, connect: ConnectClient) -> None:
    fac, member, joined, other = await room_with(server, connect)
    await member.say(ROOM, "shared in confidence")
    ack = await fac.request({"type": "announce", "room": ROOM, "text": "Five minutes left"})
    msg = await other.expect("message", id=ack["id"])
    assert msg["kind"] == "announcement" and msg["role"] == "facilitator"
    old_epoch = await connect(server.ws)
    first = await old_epoch.join(ROOM)
    assert (await fac.request({"type": "end_session", "room": ROOM}))["type"] == "ack"
    await member.expect("session_ended")
    reset = await member.expect("room_reset")
    assert reset["epoch"] != first["epoch"]
    late = await connect(server.ws)
    joined_late = await late.join(ROOM, since=first["history"][-1]["id"], epoch=first["epoch"])
    assert joined_late["history"] == [] and joined_late["recovered"] is False
    assert joined_late["epoch"] == reset["epoch"]
    nxt = await member.say(ROOM, "new session")
    assert nxt["id"] > first["history"][-1]["id"]


async def test_crisis_language_never_blocks_and_alerts(
    server: AppServer, connect: ConnectClient
) -> None:
    fac, member, joined, other = await room_with(server, connect)
    ack = await member.request({"type": "send", "room": ROOM, "text": "I want to END MY LIFE"})
    assert ack["type"] == "ack"
    msg = await other.expect("message", id=ack["id"])
    assert msg["text"] == "I want to END MY LIFE"
    support = await member.expect("support")
    assert any("988" in r["contact"] for r in support["resources"])
    alert = await fac.expect("alert")
    assert alert["message_id"] == ack["id"] and alert["participant"] == joined["participant"]
    item = await fac.expect("queue_item")
    assert item["item"]["kind"] == "alert"
    await other.quiet("support")
    assert not any(f["type"] in ("alert", "queue_item") for f in other.frames)
    await member.say(ROOM, "the skills I learned")  # no false alarm on "kill" inside "skills"
    await fac.quiet("alert")


async def test_scoped_facilitator_is_a_member_elsewhere(
    server: AppServer, connect: ConnectClient
) -> None:
    sam = await facilitator(server, connect)
    await sam.enter(ROOM)
    assert (await sam.request({"type": "lock", "room": ROOM}))["type"] == "ack"
    scoped = await facilitator(server, connect, name="Ana", rooms=["grief-and-loss"])
    assert (await scoped.request({"type": "join", "room": ROOM}))["code"] == "locked"
    joined = await scoped.join("general-check-in")
    assert joined["role"] == "member" and joined["handle"] != "Ana"
    own = await scoped.join("grief-and-loss")
    assert own["role"] == "facilitator" and own["handle"] == "Ana"


async def test_acks_say_what_the_action_did(server: AppServer, connect: ConnectClient) -> None:
    fac, member, joined, other = await room_with(server, connect)
    ack = await fac.request(
        {"type": "mute", "room": ROOM, "participant": joined["participant"], "minutes": 1}
    )
    assert ack["participant"] == joined["participant"] and ack["until"].endswith("Z")
    assert (await fac.request({"type": "slow", "room": ROOM, "seconds": 5}))["seconds"] == 5


async def test_crisis_resources_and_phrases_are_configurable(
    start_server: object, connect: ConnectClient, tmp_path: object
) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "crisis.toml"
    path.write_text(
        'extra_phrases = ["no way out"]\n'
        '[[resources]]\nname = "Samaritans (UK)"\ncontact = "Call 116 123"\n'
    )
    server = await start_server(CRISIS_FILE=str(path))  # type: ignore[operator]
    member = await connect(server.ws)
    await member.enter(ROOM)
    ack = await member.request({"type": "send", "room": ROOM, "text": "I see no way out"})
    assert ack["type"] == "ack"
    support = await member.expect("support")
    assert support["resources"] == [
        {"name": "Samaritans (UK)", "contact": "Call 116 123", "url": None, "country": None}
    ]
