"""A server process at its limit of open files keeps serving the members it holds.

Each member is a socket, and so a file; a process that has used up its open files can accept no
one more, but must still publish, deliver and read for the members it has. Found by bench/'s
hold scenario (20,000 members on a process allowed 20,000 files): the Redis connection for
messages was opened at the first message, and the first latency sample imported a module (a file
too), which failed inside a delivery and took the Redis subscription down. Here a real server
process runs under a limit of OPEN_FILES, filled with members until one more cannot connect.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from tests.support import Client, ServerProcess, timeout

OPEN_FILES = 96
ROOM = "big-room"
MESSAGES = 40  # past the metrics' latency sample (every 16th message)


def _rooms(directory: Path) -> Path:
    path = directory / "rooms.toml"
    path.write_text(
        '[defaults]\ntimezone = "UTC"\nrules = ["Be kind."]\n\n[[rooms]]\n'
        f'id = "{ROOM}"\nname = "Big room"\ncategory = "Test"\n'
        'description = "Many members."\ncapacity = 100\n'
    )
    return path


async def _member(url: str) -> Client | None:
    """A member joined to the room, or None when the server could not take one more."""
    client: Client | None = None
    try:
        async with asyncio.timeout(timeout(2)):
            client = await Client.connect(url)
            await client.hello()
            await client.enter(ROOM)
            return client
    except Exception:  # refused, reset or timed out: the server could take no more
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
        return None


async def test_a_process_out_of_open_files_serves_the_members_it_holds(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**base_env, "ROOMS_FILE": str(_rooms(tmp_path)), "MAX_CONNECTIONS_PER_ADDRESS": "0",
           "JOIN_BURST": "1000", "JOIN_PER_SECOND": "1000", "SEND_BURST": "1000",
           "SEND_PER_SECOND": "1000"}  # fmt: skip
    server = ServerProcess(env, tmp_path / "server.log", open_files=OPEN_FILES)
    await asyncio.to_thread(server.start)
    members: list[Client] = []
    try:
        while len(members) < OPEN_FILES:  # bounded: the limit is reached well before
            member = await _member(server.ws)
            if member is None:
                break
            members.append(member)
        assert 10 <= len(members) < OPEN_FILES, len(members)  # the limit was reached
        sender = members[0]
        for i in range(MESSAGES):
            await sender.say(ROOM, f"still here {i}")
        for member in members:
            for i in range(MESSAGES):
                await member.expect("message", seconds=10, text=f"still here {i}")
    finally:
        for member in members:
            with contextlib.suppress(Exception):
                await member.close()
        await asyncio.to_thread(server.stop)
    assert "subscription lost" not in server.log()
