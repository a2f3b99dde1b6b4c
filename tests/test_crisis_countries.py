"""Crisis resources by country, over real sockets: `hello.country` orders `support`, a bad
country changes nothing, `/api/crisis-resources` answers a help page, and the country never
reaches a log line or the broker."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from moderation.crisis_lines import COUNTRIES, DEFAULT_RESOURCES, INTERNATIONAL
from server.tokens import TokenService
from tests.conftest import TEST_SECRET, AppServer, ConnectClient
from tests.support import Client, RedisServer, ServerProcess, server_processes

ROOM = "anxiety"
CRISIS_TEXT = "some days I want to die"
DEFAULT = [r.as_wire() for r in DEFAULT_RESOURCES]


async def _member(connect: ConnectClient, url: str, **hello: Any) -> Client:
    client = await connect(url, hello=False)
    await client.hello(**hello)
    await client.enter(ROOM)
    return client


async def _support(member: Client) -> list[dict[str, Any]]:
    """What the member is shown after a message in crisis language (which is never held)."""
    ack = await member.request({"type": "send", "room": ROOM, "text": CRISIS_TEXT})
    assert ack["type"] == "ack", ack
    resources: list[dict[str, Any]] = (await member.expect("support", room=ROOM))["resources"]
    return resources


def _get(url: str) -> tuple[dict[str, Any], str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response), response.headers.get("cache-control", "")


async def test_support_lists_the_members_country_first_and_the_fallback_last(
    server: AppServer, connect: ConnectClient
) -> None:
    gb = await _support(await _member(connect, server.ws, country="GB"))
    assert gb[0] == {"name": "Samaritans", "contact": "116 123",
                     "url": "https://www.samaritans.org", "country": "GB"}  # fmt: skip
    assert gb[-1] == INTERNATIONAL.as_wire()
    assert {r["country"] for r in gb[:-1]} == {"GB"}
    mx = await _support(await _member(connect, server.ws, country="mx"))  # any case
    assert (mx[0]["name"], mx[0]["contact"], mx[-1]) == (
        "Línea de la Vida", "800 911 2000", INTERNATIONAL.as_wire()
    )  # fmt: skip
    assert await _support(await _member(connect, server.ws)) == DEFAULT


async def test_a_country_that_is_not_two_covered_letters_is_as_if_absent(
    server: AppServer, connect: ConnectClient
) -> None:
    for bad in ("GBR", "G", "", "ZZ", "G1", 44, ["GB"], {"code": "GB"}, None):
        member = await connect(server.ws, hello=False)
        await member.send({"type": "hello", "country": bad, "ref": "h"})
        welcome = await member.expect("welcome", ref="h")  # never an error
        assert welcome["role"] == "member"
        await member.enter(ROOM)
        assert await _support(member) == DEFAULT, bad
        assert not [f for f in member.frames if f["type"] == "error"]


async def test_a_private_conversation_brings_resources_in_the_members_order(
    server: AppServer, connect: ConnectClient
) -> None:
    nz = await _member(connect, server.ws, country="NZ")
    participant = next(f for f in nz.frames if f["type"] == "joined")["participant"]
    plain = await _member(connect, server.ws)
    plain_pid = next(f for f in plain.frames if f["type"] == "joined")["participant"]
    fac = await connect(server.ws, hello=False)
    token = TokenService((TEST_SECRET,), 3600).issue_facilitator("Sam", None, 1)
    await fac.hello(facilitator_token=token)
    await fac.join(ROOM)
    for who in (participant, plain_pid):
        ack = await fac.request({"type": "private_open", "room": ROOM, "participant": who})
        assert ack["type"] == "ack", ack
    assert (await nz.expect("support", room=ROOM))["resources"][0]["name"] == "1737, Need to talk?"
    assert (await plain.expect("support", room=ROOM))["resources"] == DEFAULT
    await fac.quiet("support")  # the facilitator is not shown the member's resources


async def test_the_help_page_endpoint(server: AppServer) -> None:
    body, cache = await asyncio.to_thread(_get, f"{server.http}/api/crisis-resources?country=ie")
    assert body["country"] == "IE" and cache == "no-store"
    assert body["resources"][0]["name"] == "Samaritans Ireland"
    assert body["resources"][-1] == INTERNATIONAL.as_wire()
    assert body["countries"] == [{"code": c, "name": n} for c, n in COUNTRIES]
    assert {"GB", "US", "ES", "MX"} <= {c["code"] for c in body["countries"]}
    for query in ("", "?country=", "?country=GBR", "?country=ZZ", "?country=%00%01"):
        body, _ = await asyncio.to_thread(_get, f"{server.http}/api/crisis-resources{query}")
        assert (body["country"], body["resources"]) == (None, DEFAULT), query


# -- the country is kept nowhere ------------------------------------------------------------

# "NZ" and what only a New Zealand member is shown: if the country, or the list it picks,
# reached a log line or Redis (a key, a value, a published event), one of these would be there.
NZ_MARKERS = re.compile(r"\bNZ\b|(?<!\d)1737(?!\d)|Need to talk")


class Monitor:
    """Everything a redis-server is asked (MONITOR), collected on a thread until stopped."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=0.2)
        self.sock.sendall(b"MONITOR\r\n")
        self.data = bytearray()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self.stopped.is_set():
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return
            self.data += chunk

    def stop(self) -> str:
        self.stopped.set()
        self.thread.join(5)
        self.sock.close()
        return self.data.decode("utf-8", "replace")


def _stored(client: redis.Redis, prefix: str) -> str:
    """Every key under `prefix` and its value, as text."""
    out = []
    for key in client.scan_iter(f"{prefix}*"):
        kind = client.type(key)
        if kind == "string":
            value: Any = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "set":
            value = sorted(client.smembers(key))
        else:
            value = client.xrange(key)
        out.append(f"{key} {value}")
    return "\n".join(out)


@pytest.fixture
def two_processes(redis_server: RedisServer, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    env = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": f"nz{uuid.uuid4().hex[:8]}",
           "SECRET_KEY": TEST_SECRET, "LEAVE_JITTER_SECONDS": "0",
           "LOG_LEVEL": "DEBUG"}  # fmt: skip  # everything the server would ever log
    with server_processes(env, tmp_path) as servers:
        yield servers


async def test_the_country_reaches_no_log_line_and_nothing_in_redis(
    two_processes: list[ServerProcess], redis_server: RedisServer, connect: ConnectClient
) -> None:
    a, b = two_processes
    prefix = a.env["REDIS_PREFIX"]
    monitor = Monitor(redis_server.port)
    try:
        fac = await connect(a.ws, hello=False)
        token = TokenService((TEST_SECRET,), 3600).issue_facilitator("Sam", None, 1)
        await fac.hello(facilitator_token=token)
        await fac.join(ROOM)
        nz = await _member(connect, b.ws, country="NZ")
        participant = next(f for f in nz.frames if f["type"] == "joined")["participant"]
        shown = await _support(nz)  # the crisis path, on the member's process
        assert shown[0]["country"] == "NZ"
        await fac.expect("alert", room=ROOM)
        # A private conversation opened on the other process: the resources are built on
        # the member's, in the member's order, and only a participant id crosses.
        ack = await fac.request({"type": "private_open", "room": ROOM, "participant": participant})
        assert ack["type"] == "ack", ack
        private = await nz.expect("support", room=ROOM)
        assert private["resources"][0]["name"] == "1737, Need to talk?"
        body, _ = await asyncio.to_thread(_get, f"{a.http}/api/crisis-resources?country=NZ")
        assert body["country"] == "NZ"
        await nz.close()
        await fac.close()
        stored = _stored(redis_server.client(), prefix)
    finally:
        seen = monitor.stop()
    # The checks can fail: Redis saw this test's traffic, including the private conversation.
    assert participant in seen and "PUBLISH" in seen.upper() and participant in stored
    assert not NZ_MARKERS.search(seen), NZ_MARKERS.search(seen)
    assert not NZ_MARKERS.search(stored), NZ_MARKERS.search(stored)
    for server in (a, b):
        server.stop()  # flushes and closes the log
        log = server.log()
        assert "DEBUG" in log or "INFO" in log  # it did log
        assert not NZ_MARKERS.search(log), NZ_MARKERS.search(log)
