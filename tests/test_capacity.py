"""Small groups over real sockets: a full room answers `room_full` with where there is space,
facilitators always get in, a participant already inside (another tab, a reconnect) keeps
their seat, `/api/rooms` says `full`, and two processes admitting at once never overfill."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.tokens import TokenService
from tests.conftest import TEST_SECRET, AppServer, ConnectClient, StartServer
from tests.support import (
    Client,
    RedisServer,
    ServerProcess,
    server_processes,
    timeout,
    until,
)

ROOMS = """
[defaults]
rules = ["Be kind."]

[[rooms]]
id = "grief-a"
name = "Grief A"
category = "Grief"
description = "A small grief group."
capacity = 2

[[rooms]]
id = "grief-b"
name = "Grief B"
category = "grief"
description = "Another small grief group."
capacity = 2

[[rooms]]
id = "grief-c"
name = "Grief C"
category = "Grief"
description = "A third, locked below."

[[rooms]]
id = "grief-uk"
name = "Grief UK"
category = "Grief"
description = "The same language, another region."
language = "en-GB"

[[rooms]]
id = "duelo"
name = "Duelo"
category = "Grief"
description = "Same category, another language."
language = "es"

[[rooms]]
id = "anxiety"
name = "Anxiety"
category = "Anxiety"
description = "Another category."

[[rooms]]
id = "crowd"
name = "Crowd"
category = "Crowd"
description = "For the two-process race."
capacity = 5
"""
FULL = "grief-a"


@pytest.fixture
def rooms_file(tmp_path: Path) -> Path:
    path = tmp_path / "rooms.toml"
    path.write_text(ROOMS)
    return path


@pytest.fixture
async def small(start_server: StartServer, rooms_file: Path) -> AppServer:
    return await start_server(ROOMS_FILE=str(rooms_file), SEAT_HOLD_SECONDS="60")


def _directory(base: str) -> dict[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{base}/api/rooms", timeout=5) as response:
        return {r["id"]: r for r in json.load(response)}


async def directory(base: str) -> dict[str, dict[str, Any]]:
    return await asyncio.to_thread(_directory, base)


async def _members_are(base: str, room: str, count: int) -> bool:
    return bool((await directory(base))[room]["members"] == count)


async def _refused(client: Client, room: str) -> dict[str, Any]:
    answer = await client.request({"type": "join", "room": room})
    assert answer["type"] == "error" and answer["code"] == "room_full", answer
    assert answer["ref"]  # the join's own ref
    return answer


async def _facilitator(connect: ConnectClient, url: str) -> Client:
    client = await connect(url, hello=False)
    await client.hello(facilitator_token=TokenService((TEST_SECRET,), 3600).issue_facilitator(
        "Sam", None, 1))  # fmt: skip
    return client


async def test_a_full_room_points_to_open_rooms_of_its_category_and_language(
    small: AppServer, connect: ConnectClient
) -> None:
    for _ in range(2):
        await (await connect(small.ws)).join(FULL)
    listed = await directory(small.http)
    assert (listed[FULL]["full"], listed[FULL]["capacity"], listed[FULL]["members"]) == (
        True, 2, 2
    )  # fmt: skip
    assert not listed["grief-b"]["full"]
    late = await connect(small.ws)
    # Same category (any case) and primary language; not Spanish, not another category.
    assert (await _refused(late, FULL))["alternatives"] == ["grief-b", "grief-c", "grief-uk"]
    fac = await _facilitator(connect, small.ws)
    await fac.join("grief-c")
    assert (await fac.request({"type": "lock", "room": "grief-c"}))["type"] == "ack"
    for _ in range(2):
        await (await connect(small.ws)).join("grief-b")
    assert (await _refused(late, FULL))["alternatives"] == ["grief-uk"]  # locked, full: left out
    assert late.frames[-1]["message"] == "this room is full"


async def test_facilitators_always_get_in_and_take_no_seat(
    small: AppServer, connect: ConnectClient
) -> None:
    fac = await _facilitator(connect, small.ws)
    assert (await fac.join(FULL))["role"] == "facilitator"
    a, b = await connect(small.ws), await connect(small.ws)
    await a.join(FULL)
    joined = await b.join(FULL)  # the facilitator took no seat
    assert joined["members"] == 3
    assert (await directory(small.http))[FULL]["full"]
    other = await _facilitator(connect, small.ws)
    assert (await other.join(FULL))["role"] == "facilitator"  # full, and still in
    await _refused(await connect(small.ws), FULL)


async def test_a_participant_inside_keeps_their_seat(
    small: AppServer, connect: ConnectClient
) -> None:
    first = await connect(small.ws)
    token = first.frames[0]["token"]
    await first.join(FULL)
    await (await connect(small.ws)).join(FULL)
    # Another tab of someone inside: the same participant, no new seat.
    tab = await connect(small.ws, hello=False)
    await tab.hello(token=token)
    assert (await tab.join(FULL))["members"] == 2
    # Both their connections drop: the seat is held, a newcomer is refused, they come back.
    await first.close()
    await tab.close()
    newcomer = await connect(small.ws)
    await until(lambda: _members_are(small.http, FULL, 1), 5, "the dropped member's leave")
    assert (await directory(small.http))[FULL]["full"]  # a held seat is a taken seat
    await _refused(newcomer, FULL)
    back = await connect(small.ws, hello=False)
    await back.hello(token=token)
    assert (await back.join(FULL))["members"] == 2
    # Leaving on purpose holds nothing: the newcomer gets the seat at once.
    assert (await back.request({"type": "leave", "room": FULL}))["type"] == "ack"
    await newcomer.join(FULL)


async def test_a_held_seat_ends(start_server: StartServer, rooms_file: Path,
                                connect: ConnectClient) -> None:  # fmt: skip
    server = await start_server(ROOMS_FILE=str(rooms_file), SEAT_HOLD_SECONDS="0.5")
    gone = await connect(server.ws)
    await gone.join(FULL)
    await (await connect(server.ws)).join(FULL)
    await gone.close()
    newcomer = await connect(server.ws)
    async with asyncio.timeout(timeout(10)):
        while True:
            answer = await newcomer.request({"type": "join", "room": FULL})
            if answer["type"] == "joined":
                break
            assert answer["code"] in ("room_full", "rate_limited"), answer
            await asyncio.sleep(0.3)


# -- two processes admitting at once -----------------------------------------------------------

CROWD, CAPACITY, JOINERS, ROUNDS = "crowd", 5, 24, 3


@pytest.fixture
def pair(
    redis_server: RedisServer, rooms_file: Path, tmp_path: Path
) -> Iterator[list[ServerProcess]]:
    env = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": f"cap{uuid.uuid4().hex[:8]}",
           "SECRET_KEY": TEST_SECRET, "ROOMS_FILE": str(rooms_file), "LEAVE_JITTER_SECONDS": "0",
           "SEAT_HOLD_SECONDS": "0"}  # fmt: skip  # each round starts with every seat free
    with server_processes(env, tmp_path) as servers:
        yield servers


async def test_two_processes_admitting_at_once_never_overfill(
    pair: list[ServerProcess], connect: ConnectClient
) -> None:
    """24 members, half on each process, join a room of 5 at the same instant, three times:
    exactly 5 get in each time (the seat is taken atomically with presence: no margin)."""
    for _ in range(ROUNDS):
        clients = [await connect(pair[i % 2].ws) for i in range(JOINERS)]
        answers = await asyncio.gather(
            *(c.request({"type": "join", "room": CROWD}, seconds=15) for c in clients)
        )
        admitted = [c for c, a in zip(clients, answers, strict=True) if a["type"] == "joined"]
        refused = [a for a in answers if a["type"] == "error"]
        assert len(admitted) == CAPACITY, [a.get("code") for a in answers]
        assert {a["code"] for a in refused} == {"room_full"}
        for server in pair:  # both processes see the same room
            entry = (await directory(server.http))[CROWD]
            assert (entry["members"], entry["full"]) == (CAPACITY, True)
        for client in clients:
            await client.close()
        await until(lambda: _members_are(pair[0].http, CROWD, 0), 10, "the room to empty")
