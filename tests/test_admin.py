"""The coordinators' admin API, facilitators part: both brokers, a real server over HTTP."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

from server.tokens import TokenService
from tests.conftest import TEST_SECRET, AppServer, ConnectClient
from tests.test_moderation import facilitator_token

TOKENS = TokenService((TEST_SECRET,), 3600)
COORDINATOR = TOKENS.issue_coordinator("Kim", 1)
WAITING_ROOM = "depression"  # requires a facilitator


async def call(
    server: AppServer,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = COORDINATOR,
    content_type: str | None = "application/json",
) -> tuple[int, Any]:
    """(status, parsed JSON body or None); run in a thread: the server shares this loop."""

    def send() -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{server.http}{path}", data=data, method=method)
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        if data is not None and content_type is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    return await asyncio.to_thread(send)


async def test_only_coordinators_get_in(server: AppServer) -> None:
    path = "/api/admin/facilitators"
    member_token = TOKENS.issue_member()[1]
    assert (await call(server, "GET", path, token=None))[0] == 401
    assert (await call(server, "GET", path, token="not-a-token"))[0] == 401
    expired = TOKENS.issue_coordinator("Kim", -1)
    status, body = await call(server, "GET", path, token=expired)
    assert (status, body["error"]) == (401, "unauthorized")
    for other in (member_token, facilitator_token()):
        status, body = await call(server, "GET", path, token=other)
        assert (status, body["error"]) == (403, "forbidden")
    assert (await call(server, "GET", path))[0] == 200


async def test_bad_invitations_name_the_problem(server: AppServer) -> None:
    path = "/api/admin/facilitators"
    good = {"name": "Sam", "rooms": [WAITING_ROOM], "hours": 2}
    status, body = await call(server, "POST", path, good, content_type="text/plain")
    assert (status, body["error"]) == (415, "unsupported_media_type")
    for bad in (
        {**good, "name": ""},
        {**good, "name": "x" * 41},
        {**good, "rooms": "depression"},
        {**good, "rooms": []},
        {**good, "hours": 0},
        {**good, "hours": 24 * 90 + 1},
        {**good, "hours": "2"},
        [good],
    ):
        status, body = await call(server, "POST", path, bad)
        assert status == 400 and body["error"] == "bad_request", bad
        assert "<" not in body["message"]
    status, body = await call(server, "POST", path, {**good, "rooms": ["no-such-room"]})
    assert (status, body["error"]) == (400, "not_found")
    assert (await call(server, "DELETE", f"{path}/nobody"))[0] == 404


async def test_invite_then_revoke(server: AppServer, connect: ConnectClient) -> None:
    path = "/api/admin/facilitators"
    invite = {"name": "Sam", "rooms": None, "hours": 2}
    status, made = await call(server, "POST", path, invite)
    assert status == 201 and made["name"] == "Sam" and made["rooms"] is None
    member = await connect(server.ws)
    await member.enter(WAITING_ROOM)
    await member.expect("room_state", room=WAITING_ROOM, waiting=True)
    sam = await connect(server.ws, hello=False)
    assert (await sam.hello(facilitator_token=made["token"]))["role"] == "facilitator"
    joined = await sam.enter(WAITING_ROOM)
    await member.expect("room_state", room=WAITING_ROOM, waiting=False)
    listed = {f["id"]: f for f in (await call(server, "GET", path))[1]}
    assert listed[made["id"]]["online"] is True and listed[made["id"]]["revoked"] is False

    assert (await call(server, "DELETE", f"{path}/{made['id']}"))[0] == 204
    ended = await sam.expect("facilitator_ended", seconds=3)  # the contract: within 1 s
    assert ended["reason"] == "revoked"
    update = await member.expect("presence", event="update", participant=joined["participant"])
    assert update["role"] == "member"
    await member.expect("room_state", room=WAITING_ROOM, waiting=True)
    listed = {f["id"]: f for f in (await call(server, "GET", path))[1]}
    assert listed[made["id"]]["revoked"] is True and listed[made["id"]]["online"] is False
    again = await connect(server.ws, hello=False)
    await again.send({"type": "hello", "facilitator_token": made["token"], "ref": "h"})
    refused = await again.expect("error", ref="h")
    assert refused["code"] == "unauthorized"


async def test_cli_tokens_are_listed_once_used(server: AppServer, connect: ConnectClient) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server", "coordinator-token", "--name", "Kim"],
        capture_output=True, text=True, env={"SECRET_KEY": TEST_SECRET, "PATH": ""}, check=True,
    )  # fmt: skip
    coordinator = done.stdout.strip().splitlines()[-1]
    assert TOKENS.read_coordinator(coordinator).name == "Kim"
    token = facilitator_token("Lee", [WAITING_ROOM])
    fid = TOKENS.read_facilitator(token).id
    path = "/api/admin/facilitators"
    assert fid not in {f["id"] for f in (await call(server, "GET", path, token=coordinator))[1]}
    lee = await connect(server.ws, hello=False)
    await lee.hello(facilitator_token=token)
    listed = {f["id"]: f for f in (await call(server, "GET", path, token=coordinator))[1]}
    assert listed[fid]["name"] == "Lee" and listed[fid]["rooms"] == [WAITING_ROOM]


async def test_the_queue_of_every_room_alerts_first(
    server: AppServer, connect: ConnectClient
) -> None:
    writer = await connect(server.ws)
    await writer.enter("anxiety")
    sent = await writer.say("anxiety", "a message to report")
    reporter = await connect(server.ws)
    await reporter.enter("anxiety")
    report = {"type": "report", "room": "anxiety", "message_id": sent["id"], "reason": "rude"}
    assert (await reporter.request(report))["type"] == "ack"
    other = await connect(server.ws)
    await other.enter("bipolar")
    await other.say("bipolar", "some days I want to die")
    await other.expect("support", room="bipolar")
    status, items = await call(server, "GET", "/api/admin/queue")
    assert status == 200
    assert [(i["room"], i["kind"]) for i in items] == [("bipolar", "alert"), ("anxiety", "report")]
    assert all("text" not in i for i in items)  # items name messages by id, never their words
    assert (await call(server, "GET", "/api/admin/queue", token=None))[0] == 401
    # A coordinator resolves the report; the room's facilitators are told, as when one of them
    # resolves it.
    fac = await connect(server.ws, hello=False)
    await fac.hello(facilitator_token=facilitator_token("Lee", ["anxiety"]))
    await fac.join("anxiety")
    report_id = items[1]["id"]
    path = f"/api/admin/queue/anxiety/{report_id}"
    assert (await call(server, "DELETE", path, token=None))[0] == 401
    assert (await call(server, "DELETE", path))[0] == 204
    told = await fac.expect("resolved", room="anxiety", item=report_id)
    assert told["by"] == "coordinator"
    _, items = await call(server, "GET", "/api/admin/queue")
    assert [(i["room"], i["kind"]) for i in items] == [("bipolar", "alert")]


async def test_admin_actions_are_audited(server: AppServer) -> None:
    invite = {"name": "Sam", "rooms": None, "hours": 1}
    _, made = await call(server, "POST", "/api/admin/facilitators", invite)
    await call(server, "DELETE", f"/api/admin/facilitators/{made['id']}")
    status, entries = await call(server, "GET", "/api/admin/audit")
    assert status == 200
    assert [(e["action"], e["facilitator"], e["by"]) for e in entries] == [
        ("facilitator_invite", made["id"], "Kim"),
        ("facilitator_revoke", made["id"], "Kim"),
    ]
    assert all("token" not in e for e in entries)
