"""Escalation to a webhook: a real HTTP receiver on loopback, both brokers, two processes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_SECRET, ConnectClient, StartServer
from tests.support import RedisServer, ServerProcess, free_port, timeout
from tests.test_moderation import facilitator

SECRET = "webhook-secret-0123456789"
CRISIS = "some days I want to die"


class Receiver:
    """An HTTP endpoint that records every POST (headers, body) and answers 200."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.readline()  # request line
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            async with self._arrived:
                self.posts.append((headers, body))
                self._arrived.notify_all()
        writer.close()

    async def wait_for(self, count: int, seconds: float = 8.0) -> list[dict[str, Any]]:
        """The bodies of the first `count` POSTs, waiting (bounded) until they came."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.posts) >= count), timeout(seconds)
            )
        return [json.loads(body) for _, body in self.posts]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver(free_port())
    await hook.start()
    yield hook
    await hook.stop()


def _signed(headers: dict[str, str], body: bytes) -> bool:
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("x-signature", ""), f"sha256={expected}")


async def test_a_crisis_alert_is_posted_once_signed_and_without_words(
    start_server: StartServer, connect: ConnectClient, receiver: Receiver
) -> None:
    server = await start_server(ALERT_WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=SECRET)
    member = await connect(server.ws)
    joined = await member.enter("anxiety")
    sent = await member.say("anxiety", CRISIS)
    (event,) = await receiver.wait_for(1)
    assert event["kind"] == "crisis_alert" and event["room"] == "anxiety"
    assert event["facilitator_present"] is False and event["at"].endswith("Z")
    assert set(event) == {"kind", "room", "item", "at", "facilitator_present"}
    raw = receiver.posts[0][1].decode()
    for private in ("die", joined["handle"], joined["participant"]):
        assert private not in raw
    assert sent["type"] == "ack" and _signed(*receiver.posts[0])
    fac = await facilitator(server, connect)
    await fac.enter("anxiety")
    queue = await fac.expect("queue", room="anxiety")
    assert event["item"] in {i["id"] for i in queue["items"]}


async def test_reports_are_posted_only_when_nobody_is_watching(
    start_server: StartServer, connect: ConnectClient, receiver: Receiver
) -> None:
    server = await start_server(ALERT_WEBHOOK_URL=receiver.url, WEBHOOK_SECRET=SECRET)
    writer = await connect(server.ws)
    reporter = await connect(server.ws)
    await writer.enter("anxiety")
    await reporter.enter("anxiety")
    first = await writer.say("anxiety", "first")
    report = {"type": "report", "room": "anxiety", "reason": "rude"}
    await reporter.request({**report, "message_id": first["id"]})
    (unwatched,) = await receiver.wait_for(1)
    assert (unwatched["kind"], unwatched["facilitator_present"]) == ("report", False)
    fac = await facilitator(server, connect)
    await fac.enter("anxiety")
    second = await writer.say("anxiety", "second")
    await reporter.request({**report, "message_id": second["id"]})
    await fac.expect("reported", message_id=second["id"])
    await writer.say("anxiety", CRISIS)  # events are posted in order: this one comes next
    events = await receiver.wait_for(2)
    assert [(e["kind"], e["facilitator_present"]) for e in events] == [
        ("report", False),
        ("crisis_alert", True),
    ]


async def test_an_unreachable_webhook_slows_nothing_and_gets_the_event_later(
    start_server: StartServer, connect: ConnectClient
) -> None:
    hook = Receiver(free_port())  # not listening yet
    server = await start_server(
        ALERT_WEBHOOK_URL=hook.url, WEBHOOK_SECRET=SECRET, WEBHOOK_RETRY_SECONDS="0.2"
    )
    member = await connect(server.ws)
    await member.enter("anxiety")
    await member.say("anxiety", CRISIS)  # answered while the webhook is down
    await member.expect("support", room="anxiety")
    for n in range(3):
        assert (await member.say("anxiety", f"still talking {n}"))["type"] == "ack"
    await hook.start()
    try:
        (event,) = await hook.wait_for(1)
        assert event["kind"] == "crisis_alert"
    finally:
        await hook.stop()


async def test_two_processes_post_each_alert_once(
    redis_server: RedisServer, connect: ConnectClient, receiver: Receiver, tmp_path: Path
) -> None:
    env = {
        "REDIS_URL": redis_server.url,
        "REDIS_PREFIX": f"w{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": TEST_SECRET,
        "PRESENCE_HEARTBEAT_SECONDS": "0.5",
        "PRESENCE_TTL_SECONDS": "2",
        "LEAVE_JITTER_SECONDS": "0",
        "ALERT_WEBHOOK_URL": receiver.url,
        "WEBHOOK_SECRET": SECRET,
    }
    servers = [ServerProcess(env, tmp_path / f"{n}.log") for n in ("a", "b")]
    for server in servers:
        server.start()
    try:
        a = await connect(servers[0].ws)
        b = await connect(servers[1].ws)
        await a.enter("anxiety")
        await b.enter("anxiety")
        await a.say("anxiety", CRISIS)
        await b.say("anxiety", CRISIS)
        events = await receiver.wait_for(2)
        await a.say("anxiety", CRISIS)  # a third, after both: posted after them
        events = await receiver.wait_for(3)
        assert len(events) == 3 and len({e["item"] for e in events}) == 3
        assert all(_signed(h, body) for h, body in receiver.posts)
    finally:
        for server in servers:
            server.stop()
