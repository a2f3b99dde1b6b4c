"""A facilitator is known in a room by the facilitator token's id, not by the member token that
came with it: both brokers."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from itsdangerous import URLSafeTimedSerializer

from server.tokens import TokenService
from tests.conftest import TEST_SECRET, AppServer, ConnectClient
from tests.test_moderation import facilitator_token

ROOM = "anxiety"


async def test_one_participant_and_handle_on_every_device(
    server: AppServer, connect: ConnectClient
) -> None:
    token = facilitator_token("Sam")
    seen = set()
    for _ in range(12):  # twelve fresh browsers: twelve member identities
        client = await connect(server.ws, hello=False)
        assert (await client.hello(facilitator_token=token))["role"] == "facilitator"
        joined = await client.join(ROOM)
        seen.add((joined["participant"], joined["handle"], joined["role"]))
        await client.close()
    assert len(seen) == 1
    ((_, handle, role),) = seen
    assert (handle, role) == ("Sam", "facilitator")
    # another facilitator of the same name is another participant, with a suffix
    other = await connect(server.ws, hello=False)
    await other.hello(facilitator_token=facilitator_token("Sam"))
    assert (await other.join(ROOM))["handle"] == "Sam 2"


async def test_a_member_tab_is_another_participant(
    server: AppServer, connect: ConnectClient
) -> None:
    sam = await connect(server.ws, hello=False)
    welcome = await sam.hello(facilitator_token=facilitator_token("Sam"))
    as_facilitator = await sam.enter(ROOM)
    tab = await connect(server.ws, hello=False)
    await tab.hello(token=welcome["token"])  # the same browser's member token, nothing else
    as_member = await tab.enter(ROOM)
    assert as_member["participant"] != as_facilitator["participant"]
    assert as_member["role"] == "member" and as_member["handle"] != "Sam"
    ana = await connect(server.ws, hello=False)
    await ana.hello(facilitator_token=facilitator_token("Ana"))
    await ana.enter(ROOM)
    # the member tab is a member like any other; the facilitator is never acted on as one
    remove = {"type": "remove", "room": ROOM, "minutes": 5}
    refused = await ana.request({**remove, "participant": as_facilitator["participant"]})
    assert refused["code"] == "forbidden"
    assert (await ana.request({**remove, "participant": as_member["participant"]}))["type"] == "ack"
    await tab.expect("removed", room=ROOM)
    assert (await sam.say(ROOM, "still here"))["type"] == "ack"


async def test_a_token_from_before_ids_keeps_one_participant(
    server: AppServer, connect: ConnectClient
) -> None:
    """Tokens issued before they carried an id still work, as one stable participant."""
    old = URLSafeTimedSerializer([TEST_SECRET], salt="peer-support.facilitator.v1")
    token = old.dumps({"n": "Lee", "r": None, "e": 4_102_444_800})
    pids = set()
    for _ in range(2):
        client = await connect(server.ws, hello=False)
        assert (await client.hello(facilitator_token=token))["role"] == "facilitator"
        pids.add((await client.join(ROOM))["participant"])
        await client.close()
    assert len(pids) == 1


async def test_the_cli_prints_the_id_on_stderr() -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server", "facilitator-token", "--name", "Ana"],
        capture_output=True, text=True, env={"SECRET_KEY": TEST_SECRET, "PATH": ""}, check=True,
    )  # fmt: skip
    token = done.stdout.strip().splitlines()[-1]
    claim = TokenService((TEST_SECRET,), 3600).read_facilitator(token)
    assert done.stderr.strip() == f"--id {claim.id}" and claim.id.startswith("f")
