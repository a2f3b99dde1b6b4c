"""Server processes signalled for real: SIGTERM closes with 1012 and removes presence, SIGKILL
loses no acknowledged message and repeats no id, a storm of reconnects is served, and the logs
of it all hold no address, token or message text."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import TEST_SECRET, ConnectClient
from tests.support import Client, RedisServer, ServerProcess, timeout

pytestmark = [pytest.mark.cluster, pytest.mark.redis]
ROOM = "general-check-in"
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


@pytest.fixture
def env(redis_server: RedisServer) -> dict[str, str]:
    return {
        "REDIS_URL": redis_server.url,
        "REDIS_PREFIX": f"p{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": TEST_SECRET,
        "PRESENCE_HEARTBEAT_SECONDS": "0.5",
        "PRESENCE_TTL_SECONDS": "2",
        "LEAVE_JITTER_SECONDS": "0",  # leaves at once: tests wait on them
        "SEND_BURST": "1000",
        "SEND_PER_SECOND": "1000",
        "FRAME_BURST": "1000",
        "FRAME_PER_SECOND": "1000",
        "JOIN_BURST": "100",
        "JOIN_PER_SECOND": "100",
        "MAX_CONNECTIONS_PER_ADDRESS": "0",
        "LOG_LEVEL": "DEBUG",
    }


@pytest.fixture
def processes(env: dict[str, str], tmp_path: Path) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for proc in started:
        proc.stop()
    # Privacy: whatever happened above, the logs never hold an address, a token or a text.
    for proc in started:
        log = proc.log()
        assert not IPV4.findall(log), IPV4.findall(log)[:3]
        for secret in _secrets:
            assert secret not in log
    _secrets.clear()


_secrets: list[str] = []


def _start(processes: list[ServerProcess], env: dict[str, str], tmp_path: Path) -> ServerProcess:
    proc = ServerProcess(env, tmp_path / f"server{len(processes)}.log")
    proc.start()
    processes.append(proc)
    return proc


async def _member(connect: ConnectClient, url: str) -> Client:
    client = await connect(url, hello=False)
    welcome = await client.hello()
    _secrets.append(welcome["token"])
    return client


def _members_on(proc: ServerProcess) -> int:
    with urllib.request.urlopen(f"{proc.http}/api/rooms", timeout=5) as response:
        rooms = json.load(response)
    return int(next(r for r in rooms if r["id"] == ROOM)["members"])


async def test_sigterm_closes_with_1012_and_removes_presence(
    processes: list[ServerProcess], env: dict[str, str], tmp_path: Path, connect: ConnectClient
) -> None:
    doomed = _start(processes, env, tmp_path)
    other = _start(processes, env, tmp_path)
    clients = [await _member(connect, doomed.ws) for _ in range(5)]
    for client in clients:
        await client.enter(ROOM)
    secret_text = f"private words {uuid.uuid4().hex}"
    _secrets.append(secret_text)
    await clients[0].say(ROOM, secret_text)
    assert await asyncio.to_thread(_members_on, other) == 5
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert doomed.proc is not None
    doomed.proc.send_signal(signal.SIGTERM)
    for client in clients:
        await asyncio.wait_for(client.ws.wait_closed(), timeout(10))
        assert client.ws.close_code == 1012
    assert loop.time() - started < 10
    code = await asyncio.to_thread(doomed.proc.wait, timeout(10))
    # uvicorn shuts down cleanly, then re-raises the signal so the exit status tells of it
    assert code in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in doomed.log()

    async def gone() -> bool:
        return await asyncio.to_thread(_members_on, other) == 0

    deadline = loop.time() + timeout(5)
    while not await gone():
        assert loop.time() < deadline, "presence outlived a clean shutdown"
        await asyncio.sleep(0.05)


async def test_sigkill_loses_no_acknowledged_message_and_repeats_no_id(
    processes: list[ServerProcess], env: dict[str, str], tmp_path: Path, connect: ConnectClient
) -> None:
    doomed = _start(processes, env, tmp_path)
    survivor = _start(processes, env, tmp_path)
    writer = await _member(connect, doomed.ws)
    await writer.enter(ROOM)
    reader = await _member(connect, survivor.ws)
    await reader.enter(ROOM)
    acked: list[int] = []
    twenty = asyncio.Event()

    async def write() -> None:
        for i in range(500):
            answer = await writer.request({"type": "send", "room": ROOM, "text": f"k{i}"})
            acked.append(answer["id"])
            if len(acked) == 20:
                twenty.set()

    task = asyncio.ensure_future(write())
    await asyncio.wait_for(twenty.wait(), timeout(10))
    doomed.stop(signal.SIGKILL)
    with pytest.raises(ConnectionClosed):  # the writer's socket dies mid-request
        await task
    # the survivor keeps numbering after the last id anyone saw
    after = await reader.say(ROOM, "still here")
    assert after["id"] > max(acked)
    late = await _member(connect, survivor.ws)
    ids = [m["id"] for m in (await late.join(ROOM))["history"]]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    assert set(acked) <= set(ids)  # every acknowledged message is in history


async def test_reconnect_storm_after_restart(
    processes: list[ServerProcess], env: dict[str, str], tmp_path: Path, connect: ConnectClient
) -> None:
    # Fifty members in one room: more than the default capacity of a peer group (15).
    rooms = tmp_path / "rooms.toml"
    rooms.write_text(
        '[defaults]\nrules = ["Be kind."]\n[[rooms]]\nid = "general-check-in"\n'
        'name = "Drop-in"\ncategory = "General"\ndescription = "A large room."\ncapacity = 60\n'
    )
    server = _start(processes, {**env, "ROOMS_FILE": str(rooms)}, tmp_path)
    clients = [await _member(connect, server.ws) for _ in range(50)]
    tokens = [c.frames[0]["token"] for c in clients]
    joined = await asyncio.gather(*(c.enter(ROOM) for c in clients))
    last = (await clients[0].say(ROOM, "before the restart"))["id"]
    epoch = joined[0]["epoch"]
    server.stop(signal.SIGTERM)
    server.start()  # the same port

    async def back(token: str) -> dict[str, Any]:
        client = await connect(server.ws, hello=False)
        await client.hello(token=token)
        return await client.join(ROOM, since=last - 1, epoch=epoch)

    results = await asyncio.gather(*(back(t) for t in tokens))
    assert all(r["type"] == "joined" and r["recovered"] is True for r in results)
    assert all([m["id"] for m in r["history"]] == [last] for r in results)
