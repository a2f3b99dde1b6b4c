"""Check-in and check-out over real sockets, on both brokers: the threshold, refused answers
that change nothing, one answer per question and session, a new session, the outcomes API, and
that nothing (frame, log line, metric, stored key) ties an answer to who gave it."""

from __future__ import annotations

import asyncio
import logging
import urllib.request
from typing import Any

import pytest
import redis

from tests.conftest import AppServer, ConnectClient, StartServer
from tests.support import Client, RedisServer
from tests.test_admin import TOKENS, call
from tests.test_moderation import facilitator

ROOM = "anxiety"
OTHER = "bipolar"


async def members(
    server: AppServer, connect: ConnectClient, n: int, room: str = ROOM
) -> list[Client]:
    """`n` members in the room, not one of them agreed to the rules (answering is not
    posting)."""
    joined = []
    for _ in range(n):
        client = await connect(server.ws)
        await client.join(room)
        joined.append(client)
    return joined


async def session_of(
    server: AppServer, connect: ConnectClient, n: int
) -> tuple[Client, dict[str, Any], list[Client]]:
    """A facilitator in the room (with its `joined`) and `n` members."""
    fac = await facilitator(server, connect)
    joined = await fac.join(ROOM)
    return fac, joined, await members(server, connect, n)


async def answer(client: Client, value: Any, when: Any = "start", room: str = ROOM,
                 **more: Any) -> dict[str, Any]:  # fmt: skip
    return await client.request({"type": "mood", "room": room, "value": value, "when": when,
                                 **more})  # fmt: skip


async def summary(fac: Client, room: str = ROOM) -> dict[str, Any]:
    """The `mood_summary` that answers a facilitator's request (matched by its `ref`)."""
    ref = f"s{len(fac.frames)}"
    await fac.send({"type": "mood_summary", "room": room, "ref": ref})
    frame = await fac.expect("mood_summary", ref=ref)
    assert set(frame) == {"type", "room", "start", "end", "ref"}
    return frame


async def test_counts_are_shown_from_the_fifth_answer(
    server: AppServer, connect: ConnectClient
) -> None:
    fac, _, group = await session_of(server, connect, 5)
    for client, value in zip(group[:4], (1, 2, 3, 3), strict=True):
        ack = await answer(client, value)
        assert ack == {"type": "ack", "ref": ack["ref"], "room": ROOM}  # no value echoed
    four = await summary(fac)
    assert (four["start"], four["end"]) == (None, None)  # four answers: nothing shown
    await answer(group[4], 5)
    five = await summary(fac)
    assert five["start"] == [1, 1, 2, 0, 1] and five["end"] is None
    for client, value in zip(group, (4, 4, 4, 5), strict=False):
        await answer(client, value, "end")
    assert (await summary(fac))["end"] is None
    await answer(group[4], 2, "end")
    assert (await summary(fac))["end"] == [0, 1, 0, 3, 1]


async def test_bad_answers_are_refused_with_a_code_and_change_nothing(
    server: AppServer, connect: ConnectClient
) -> None:
    fac, _, group = await session_of(server, connect, 5)
    for client in group:
        await answer(client, 3)
    before = await summary(fac)
    assert before["start"] == [0, 0, 5, 0, 0]
    newcomer = (await members(server, connect, 1))[0]
    for value, when in ((0, "start"), (6, "start"), (2.5, "end"), ("3", "end"), (True, "end"),
                        (None, "end"), (3, "middle"), (3, None), (3, 3)):  # fmt: skip
        refused = await answer(newcomer, value, when)
        assert (refused["type"], refused["code"]) == ("error", "bad_request"), (value, when)
        assert refused["ref"]
    # Not in the room: joined another, or none.
    outsider = (await members(server, connect, 1, OTHER))[0]
    refused = await answer(outsider, 3)
    assert (refused["type"], refused["code"]) == ("error", "not_joined")
    stranger = await connect(server.ws)
    assert (await answer(stranger, 3))["code"] == "not_joined"
    # Twice in one session, from the same socket or from another of the same member.
    again = await answer(group[0], 1)
    assert (again["type"], again["code"]) == ("error", "already_answered")
    other_tab = await connect(server.ws, hello=False)
    await other_tab.hello(token=group[0].frames[0]["token"])
    await other_tab.join(ROOM)
    assert (await answer(other_tab, 1))["code"] == "already_answered"
    # A session that is neither current nor just ended.
    assert (await answer(newcomer, 2, "end", epoch="not-a-session"))["code"] == "not_found"
    # Only facilitators ask for the counts.
    forbidden = await group[0].request({"type": "mood_summary", "room": ROOM})
    assert (forbidden["type"], forbidden["code"]) == ("error", "forbidden")
    assert await summary(fac) == {**before, "ref": fac.frames[-1]["ref"]}


async def test_a_new_session_asks_again_and_a_late_check_out_counts_for_the_last(
    server: AppServer, connect: ConnectClient
) -> None:
    fac, first, group = await session_of(server, connect, 5)
    for client, value in zip(group, (1, 1, 2, 2, 5), strict=True):
        await answer(client, value)
    await answer(group[0], 4, "end")  # left early, checked out before the end
    ack = await fac.request({"type": "end_session", "room": ROOM})
    assert ack["type"] == "ack"
    # At end_session the room's facilitators get the ending session's counts.
    ended = await fac.expect("mood_summary", start=[2, 2, 0, 0, 1])
    assert ended["end"] is None and ended.get("ref") is None
    for client in group:
        await client.expect("room_reset")
        assert not [f for f in client.frames if f["type"] == "mood_summary"]
    # The new session: everyone may check in again.
    for client in group:
        assert (await answer(client, 3))["type"] == "ack"
    assert (await summary(fac))["start"] == [0, 0, 5, 0, 0]
    # The session that just ended takes its check-outs, once each; never a check-in.
    old = first["epoch"]
    for client, value in zip(group[1:], (4, 5, 5, 4), strict=True):
        assert (await answer(client, value, "end", epoch=old))["type"] == "ack"
    assert (await answer(group[0], 5, "end", epoch=old))["code"] == "already_answered"
    assert (await answer(group[1], 5, "end", epoch=old))["code"] == "already_answered"
    assert (await answer(group[1], 5, "start", epoch=old))["code"] == "not_found"
    assert (await summary(fac))["end"] is None  # the current session has no check-out yet
    status, listed = await call(server, "GET", "/api/admin/outcomes")
    assert status == 200
    mine = [e for e in listed if e["room"] == ROOM]
    assert [e["session"] for e in mine] == [old, ack["epoch"]]
    assert mine[0]["start"] == [2, 2, 0, 0, 1] and mine[0]["end"] == [0, 0, 0, 3, 2]
    assert mine[1]["start"] == [0, 0, 5, 0, 0] and mine[1]["end"] is None


async def test_outcomes_are_for_coordinators_with_the_threshold(
    server: AppServer, connect: ConnectClient
) -> None:
    path = "/api/admin/outcomes"
    assert (await call(server, "GET", path, token=None))[0] == 401
    member_token = TOKENS.issue_member()[1]
    assert (await call(server, "GET", path, token=member_token))[0] == 403
    assert await call(server, "GET", path) == (200, [])  # nobody answered anywhere yet
    group = await members(server, connect, 4, OTHER)
    for client in group:
        await answer(client, 2, room=OTHER)
    status, listed = await call(server, "GET", path)
    (entry,) = listed
    assert set(entry) == {"room", "session", "started", "start", "end"}
    assert (entry["room"], entry["start"], entry["end"]) == (OTHER, None, None)
    assert entry["started"].endswith(":00:00Z")  # to the hour: no answer's own time
    await answer((await members(server, connect, 1, OTHER))[0], 4, room=OTHER)
    (entry,) = (await call(server, "GET", path))[1]
    assert entry["start"] == [0, 4, 0, 1, 0]


def _scrape(server: AppServer, token: str) -> str:
    request = urllib.request.Request(server.http + "/metrics")
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(response.read().decode())


def _stored(client: redis.Redis, prefix: str) -> list[str]:
    """Every key of the prefix with everything it holds, as text."""
    out = []
    for key in client.scan_iter(f"{prefix}:*"):
        kind = str(client.type(key))
        value: object
        if kind == "string":
            value = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "set":
            value = client.smembers(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        else:
            value = client.xrange(key)
        out.append(f"{key!s} {value!s}")
    return out


async def test_no_frame_log_metric_or_stored_key_ties_an_answer_to_anyone(
    start_server: StartServer,
    connect: ConnectClient,
    base_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await start_server(METRICS_TOKEN="metrics-secret-0123456789")
    fac, _, group = await session_of(server, connect, 6)
    everyone = [fac, *group]
    people: list[str] = []  # participant ids and handles of those who answer
    for client in group:
        joined = next(f for f in client.frames if f["type"] == "joined")
        people += [joined["participant"], joined["handle"]]
    seen = {id(c): len(c.frames) for c in everyone}
    for client, value in zip(group, (1, 2, 4, 4, 5, 5), strict=True):
        await answer(client, value)
        await answer(client, value, "end")
    await answer(group[0], 3)  # refused: already answered
    await summary(fac)
    await fac.request({"type": "end_session", "room": ROOM})
    await fac.expect("mood_summary", ref=None)
    # Frames: a member got only the answers to its own frames, with nothing of the value; the
    # facilitator only counts (and the end of the session).
    for client in group:
        for frame in client.frames[seen[id(client)] :]:
            if frame["type"] in ("ack", "error"):
                assert set(frame) <= {"type", "ref", "room", "code", "message"}, frame
            else:  # late presence of the joins, and what end_session tells everyone
                kinds = ("presence", "session_ended", "room_reset", "room_state", "hands")
                assert frame["type"] in kinds and "mood" not in str(frame), frame
    for frame in fac.frames[seen[id(fac)] :]:
        if frame["type"] == "mood_summary":
            assert set(frame) <= {"type", "room", "start", "end", "ref"}
            assert not any(p in str(frame) for p in people)
    # The server's log lines and metrics never name them. (The traffic dumps of the socket
    # libraries, at DEBUG, never reach the server's log: tests/test_operations.py.)
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("websockets")
    )
    assert not any(p in logged for p in people)
    metrics = await asyncio.to_thread(_scrape, server, "metrics-secret-0123456789")
    assert not any(p in metrics for p in people)
    assert "mood" not in metrics.replace("mood_summary", "")  # no counter of answers by value
    if "REDIS_URL" not in base_env:
        # The memory broker: what it holds about answers, whole.
        held = repr(server.app.state.services.broker._moods)
        assert "start" in held and not any(p in held for p in people)
        return
    # Stored: no key or value about answers names a participant, and no key or value that
    # names one says anything about answers. Both stores, every key of the test's prefix.
    prefix = base_env["REDIS_PREFIX"]
    stored = []
    for store in ("redis_server", "redis_state_server"):
        server_: RedisServer = request.getfixturevalue(store)
        stored += _stored(server_.client(), prefix)
    about_moods = [s for s in stored if "mood" in s]
    assert len([s for s in about_moods if ":moodmark:" in s]) == 12  # 6 people x 2 questions
    assert any(":mood:" in s for s in about_moods)
    for line in stored:
        names_someone = any(p in line for p in people)
        assert not (names_someone and "mood" in line), line
