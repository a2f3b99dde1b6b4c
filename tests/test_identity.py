"""A member's identity in a room outlives key rotation; refused joins leave no trace.

Rotation: participant ids and handles are keyed by IDENTITY_KEY (by default the oldest
SECRET_KEY), so `SECRET_KEY=new,old` (the documented rotation) renames no one and lifts no
sanction. The server here is a real `peer-support serve` process, stopped and started again.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import cast

from rooms.ids import ParticipantId, RoomId, handle_candidate, participant_id
from server.services import Services
from server.tokens import TokenService
from tests.conftest import AppServer, ConnectClient
from tests.support import Client, ServerProcess
from tests.test_operations import run_cli

ROOM = "anxiety"
OTHER = "grief-and-loss"
OLD_KEY = "old-signing-key-0123456789abcdef"
NEW_KEY = "new-signing-key-fedcba9876543210"


async def _facilitator(connect: ConnectClient, url: str, keys: tuple[str, ...]) -> Client:
    client = await connect(url, hello=False)
    token = TokenService(keys, 3600).issue_facilitator("Sam", None, 1)
    assert (await client.hello(facilitator_token=token))["role"] == "facilitator"
    return client


async def test_rotating_the_signing_key_keeps_names_bans_and_mutes(
    base_env: dict[str, str], broker_kind: str, connect: ConnectClient, tmp_path: Path
) -> None:
    before = ServerProcess({**base_env, "SECRET_KEY": OLD_KEY}, tmp_path / "before.log")
    await asyncio.to_thread(before.start)
    try:
        fac = await _facilitator(connect, before.ws, (OLD_KEY,))
        await fac.enter(ROOM)
        await fac.enter(OTHER)
        member = await connect(before.ws, hello=False)
        welcome = await member.hello()
        muted_in = await member.enter(ROOM)
        removed_from = await member.enter(OTHER)
        mute = {"type": "mute", "room": ROOM, "participant": muted_in["participant"],
                "minutes": 60}  # fmt: skip
        assert (await fac.request(mute))["type"] == "ack"
        await member.expect("muted")
        remove = {"type": "remove", "room": OTHER, "participant": removed_from["participant"],
                  "minutes": 60}  # fmt: skip
        assert (await fac.request(remove))["type"] == "ack"
        await member.expect("removed")
        await fac.close()
        await member.close()
    finally:
        await asyncio.to_thread(before.stop)

    # The documented rotation: the new key signs, the old one still verifies.
    after = ServerProcess({**base_env, "SECRET_KEY": f"{NEW_KEY},{OLD_KEY}"}, tmp_path / "a.log")
    await asyncio.to_thread(after.start)
    try:
        again = await connect(after.ws, hello=False)
        assert (await again.hello(token=welcome["token"]))["member"] == welcome["member"]
        rejoined = await again.join(ROOM)
        assert rejoined["participant"] == muted_in["participant"]
        assert rejoined["handle"] == muted_in["handle"]
        if broker_kind == "redis":
            # Sanctions are kept in Redis, by participant id: they still hold.
            refused = await again.request({"type": "send", "room": ROOM, "text": "hello"})
            assert refused["code"] == "muted"
            assert (await again.request({"type": "join", "room": OTHER}))["code"] == "banned"
        else:
            # The memory broker forgets sanctions on restart; the identity is still the same.
            back = await again.join(OTHER)
            assert back["participant"] == removed_from["participant"]
            assert back["handle"] == removed_from["handle"]
    finally:
        await asyncio.to_thread(after.stop)


async def test_a_refused_join_claims_no_handle(server: AppServer, connect: ConnectClient) -> None:
    svc = cast(Services, server.app.state.services)
    fac = await _facilitator(connect, server.ws, svc.settings.secret_keys)
    await fac.enter(ROOM)
    assert (await fac.request({"type": "lock", "room": ROOM}))["type"] == "ack"
    newcomer = await connect(server.ws, hello=False)
    token = (await newcomer.hello())["token"]
    assert (await newcomer.request({"type": "join", "room": ROOM}))["code"] == "locked"
    pid = participant_id(svc.tokens.identity_key, svc.tokens.read_member(token), RoomId(ROOM))
    assert await svc.broker.participant_role(RoomId(ROOM), pid) is None
    # Admitted later, the same member gets their handle as usual.
    assert (await fac.request({"type": "unlock", "room": ROOM}))["type"] == "ack"
    joined = await newcomer.join(ROOM)
    assert joined["participant"] == pid
    assert await svc.broker.participant_role(RoomId(ROOM), pid) == ("member", joined["handle"])


def test_check_says_which_key_identities_come_from(tmp_path: Path) -> None:
    env = {"SECRET_KEY_FILE": str(tmp_path / "k")}
    rotating = run_cli("check", env={**env, "SECRET_KEY": f"{NEW_KEY},{OLD_KEY}"})
    assert rotating.returncode == 0
    assert "oldest SECRET_KEY (key 2 of 2): set IDENTITY_KEY" in rotating.stdout
    pinned = run_cli("check", env={**env, "SECRET_KEY": NEW_KEY, "IDENTITY_KEY": OLD_KEY})
    assert pinned.returncode == 0 and "keyed by IDENTITY_KEY" in pinned.stdout
    assert OLD_KEY not in pinned.stdout and NEW_KEY not in pinned.stdout


async def test_a_member_whose_first_handles_are_taken_gets_the_next_free_one(
    server: AppServer, connect: ConnectClient
) -> None:
    """Handles are asked for in two rounds (the first few choices, then the rest): a member
    whose first four are taken gets its fifth, and one whose every choice is taken is refused."""
    svc = cast(Services, server.app.state.services)
    key, room = svc.tokens.identity_key, RoomId(ROOM)

    async def taken_up_to(member_token: str, count: int) -> list[str]:
        member = svc.tokens.read_member(member_token)
        names = [handle_candidate(key, member, room, i) for i in range(12)]
        for i, name in enumerate(names[:count]):
            other = ParticipantId(f"someone-else-{member[:6]}-{i}")
            now_ms = int(time.time() * 1000)
            claimed = await svc.broker.claim_handle(
                room, other, [name], 3_600_000, "member", now_ms
            )
            assert claimed == name
        return names

    crowded = await connect(server.ws, hello=False)
    names = await taken_up_to((await crowded.hello())["token"], 4)
    assert (await crowded.join(ROOM))["handle"] == names[4]

    unlucky = await connect(server.ws, hello=False)
    await taken_up_to((await unlucky.hello())["token"], 12)
    refused = await unlucky.request({"type": "join", "room": ROOM})
    assert refused["type"] == "error" and refused["code"] == "limit_reached"
