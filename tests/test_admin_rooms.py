"""The coordinators' admin API, rooms part: live rooms on both brokers, a real server over HTTP
and real sockets. Two processes: tests/test_cluster.py."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

from tests.conftest import AppServer, ConnectClient
from tests.test_admin import call

ROOMS = "/api/admin/rooms"
SESSION = {"day": "Tue", "start": "19:00", "minutes": 60, "timezone": "Europe/Madrid"}
NEW: dict[str, Any] = {
    "id": "new-dawn",
    "name": "New dawn",
    "category": "General",
    "description": "A room made by a coordinator.",
    "rules": ["Be kind.", "What is said here stays here."],
    "sessions": [SESSION],
}


async def _directory(server: AppServer, query: str = "") -> dict[str, dict[str, Any]]:
    def read() -> Any:
        with urllib.request.urlopen(f"{server.http}/api/rooms{query}", timeout=5) as response:
            return json.load(response)

    return {r["id"]: r for r in await asyncio.to_thread(read)}


async def test_a_created_room_is_listed_and_joinable_at_once(
    server: AppServer, connect: ConnectClient
) -> None:
    status, made = await call(server, "POST", ROOMS, {**NEW, "language": "es", "capacity": 8})
    assert status == 201
    assert (made["id"], made["rules_version"], made["language"], made["capacity"]) == (
        "new-dawn", 1, "es", 8,
    )  # fmt: skip
    assert made["sessions"] == NEW["sessions"]
    listed = await _directory(server, "?language=es")
    assert listed["new-dawn"]["name"] == "New dawn" and listed["new-dawn"]["capacity"] == 8
    assert "anxiety" not in listed  # an English room
    _, stored = await call(server, "GET", ROOMS)
    assert stored[-1]["id"] == "new-dawn"  # after the seeded rooms, in creation order
    assert {"anxiety", "depression"} <= {r["id"] for r in stored}
    member = await connect(server.ws)
    joined = await member.enter("new-dawn")
    assert joined["rules"] == NEW["rules"]
    await member.say("new-dawn", "hello")


async def test_bad_rooms_are_refused_with_a_code_and_nothing_echoed(server: AppServer) -> None:
    session = SESSION
    for bad in (
        {**NEW, "id": "Bad Id"},
        {**NEW, "id": "x" * 70},
        {key: value for key, value in NEW.items() if key != "description"},
        {**NEW, "sessions": [{**session, "day": "Caturday"}]},
        {**NEW, "sessions": [{**session, "start": "7pm"}]},
        {**NEW, "sessions": [{**session, "timezone": "Mars/Olympus_Mons"}]},
        {**NEW, "rules": ["r"] * 21},
        {**NEW, "rules": ["<script>" * 100]},
        {**NEW, "language": "klingon"},
        {**NEW, "capacity": 0},
        {**NEW, "capacity": 1000},
        {**NEW, "requires_facilitator": "yes"},
        ["not", "an", "object"],
    ):
        status, body = await call(server, "POST", ROOMS, bad)
        assert (status, body["error"]) == (400, "bad_request"), bad
        assert "<" not in body["message"] and "Caturday" not in body["message"]
        assert "Mars" not in body["message"] and "klingon" not in body["message"]
    status, body = await call(server, "POST", ROOMS, NEW, content_type="text/plain")
    assert (status, body["error"]) == (415, "unsupported_media_type")
    assert (await call(server, "POST", ROOMS, NEW))[0] == 201
    status, body = await call(server, "POST", ROOMS, NEW)
    assert (status, body["error"]) == (400, "already_exists")
    status, body = await call(server, "POST", ROOMS, {**NEW, "id": "anxiety"})  # a seeded one
    assert (status, body["error"]) == (400, "already_exists")
    for method in ("PUT", "DELETE"):
        body = {"name": "x"} if method == "PUT" else None
        for missing in ("no-such-room", "Bad%20Id"):
            status, _ = await call(server, method, f"{ROOMS}/{missing}", body)
            assert status == 404, (method, missing)
    status, body = await call(server, "PUT", f"{ROOMS}/new-dawn", {"id": "other"})
    assert (status, body["error"]) == (400, "bad_request")
    status, body = await call(server, "PUT", f"{ROOMS}/new-dawn", {"rules_version": 9})
    assert (status, body["error"]) == (400, "bad_request")
    status, body = await call(server, "PUT", f"{ROOMS}/new-dawn", {"capacity": -1})
    assert (status, body["error"]) == (400, "bad_request")
    assert (await call(server, "GET", ROOMS, token=None))[0] == 401


async def test_editing_rules_makes_members_agree_again(
    server: AppServer, connect: ConnectClient
) -> None:
    member = await connect(server.ws)
    joined = await member.enter("anxiety")
    assert joined["rules_version"] == 1
    await member.say("anxiety", "before the change")
    # Changing the name only: the rules version stays, and so does the agreement.
    status, edited = await call(server, "PUT", f"{ROOMS}/anxiety", {"name": "Anxiety, together"})
    assert status == 200 and edited["rules_version"] == 1
    updated = await member.expect("room_updated", room="anxiety")
    assert updated["name"] == "Anxiety, together" and updated["rules_version"] == 1
    await member.say("anxiety", "a name changes nothing")

    new_rules = [*joined["rules"], "Cameras off, always."]
    status, edited = await call(server, "PUT", f"{ROOMS}/anxiety", {"rules": new_rules})
    assert status == 200 and edited["rules_version"] == 2 and edited["name"] == "Anxiety, together"
    updated = await member.expect("room_updated", room="anxiety", rules_version=2)
    assert updated["rules"] == new_rules
    await member.expect("room_state", room="anxiety", rules_version=2)
    refused = await member.request({"type": "send", "room": "anxiety", "text": "still here?"})
    assert (refused["type"], refused["code"]) == ("error", "rules_not_accepted")
    assert (await member.request({"type": "agree", "room": "anxiety"}))["type"] == "ack"
    await member.say("anxiety", "agreed again")
    # Someone joining now reads the new rules and has agreed to none.
    late = await connect(server.ws)
    joined_late = await late.join("anxiety")
    assert (joined_late["rules"], joined_late["rules_version"]) == (new_rules, 2)
    assert joined_late["agreed"] is False
    # Only the fields given changed.
    _, stored = await call(server, "GET", ROOMS)
    anxiety = next(r for r in stored if r["id"] == "anxiety")
    assert anxiety["sessions"] and anxiety["category"] == "Anxiety"


async def test_archiving_closes_the_room_for_its_members(
    server: AppServer, connect: ConnectClient
) -> None:
    assert (await call(server, "POST", ROOMS, NEW))[0] == 201
    member = await connect(server.ws)
    await member.enter("new-dawn")
    await member.enter("anxiety")
    await member.say("new-dawn", "some days I want to die")
    await member.expect("support", room="new-dawn")
    assert (await call(server, "DELETE", f"{ROOMS}/new-dawn"))[0] == 204
    await member.expect("room_closed", room="new-dawn")
    refused = await member.request({"type": "send", "room": "new-dawn", "text": "anyone?"})
    assert (refused["type"], refused["code"]) == ("error", "not_joined")
    await member.say("anxiety", "the other room is untouched")
    assert "new-dawn" not in await _directory(server)
    assert "new-dawn" not in {r["id"] for r in (await call(server, "GET", ROOMS))[1]}
    refused = await member.request({"type": "join", "room": "new-dawn"})
    assert (refused["type"], refused["code"]) == ("error", "not_found")
    status, body = await call(server, "POST", ROOMS, NEW)
    assert (status, body["error"]) == (409, "archived")
    assert (await call(server, "DELETE", f"{ROOMS}/new-dawn"))[0] == 404
    # An open crisis alert does not go away with its room.
    _, items = await call(server, "GET", "/api/admin/queue")
    assert [(i["room"], i["kind"]) for i in items] == [("new-dawn", "alert")]
    # Nobody can join the room to resolve it any more: a coordinator can.
    assert (await call(server, "DELETE", f"/api/admin/queue/new-dawn/{items[0]['id']}"))[0] == 204
    assert (await call(server, "GET", "/api/admin/queue"))[1] == []
    for missing in ("new-dawn/q999", "Bad%20Id/q1", "never-made/q1"):
        assert (await call(server, "DELETE", f"/api/admin/queue/{missing}"))[0] == 404
    _, entries = await call(server, "GET", "/api/admin/audit")
    assert [(e["action"], e["room"]) for e in entries] == [
        ("room_create", "new-dawn"),
        ("room_archive", "new-dawn"),
        ("queue_resolve", "new-dawn"),
    ]
