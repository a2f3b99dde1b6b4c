"""The WebSocket protocol class (server/ws_protocol.py) over real sockets, on a uvicorn server
with a small ASGI app that echoes what it receives and records what it is told: messages in
fragments, the size limit over a whole message, pings both ways, every way a connection ends,
and a handshake that is not one. The chat server's own suites run on the same class."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
import uvicorn
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from server import ws_protocol
from server.ws_protocol import ChatSocketProtocol
from tests.support import free_port, start_uvicorn, timeout

MAX_SIZE = 1000


@dataclass
class Echo:
    """An ASGI app: accepts, echoes each message, closes when told `close:<code>`, and records
    the disconnect event it was given."""

    disconnects: list[dict[str, Any]] = field(default_factory=list)
    refuse: bool = False
    connected: asyncio.Event = field(default_factory=asyncio.Event)  # told websocket.connect
    hold: asyncio.Event | None = None  # when set: accept only once this is set
    told: asyncio.Event = field(default_factory=asyncio.Event)  # a disconnect was recorded

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Any) -> None:
        assert scope["type"] == "websocket"
        assert (await receive())["type"] == "websocket.connect"
        self.connected.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.refuse:
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "websocket.accept"})
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                self.disconnects.append(event)
                self.told.set()
                return
            text = event.get("text")
            if text is not None and text.startswith("close:"):
                await send({"type": "websocket.close", "code": int(text[6:])})
                self.disconnects.append(await receive())
                self.told.set()
                return
            if text is not None:
                await send({"type": "websocket.send", "text": text})
            else:
                await send({"type": "websocket.send", "bytes": event["bytes"]})


@dataclass
class Served:
    port: int
    app: Echo
    server: uvicorn.Server


@pytest.fixture(params=[False, True], ids=["handshake-read-here", "handshake-by-websockets"])
async def serve(request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Any]]:
    """Starts servers of the Echo app. Every test runs twice: without permessage-deflate (as
    the chat server runs: the handshake is read by `server.ws_handshake`) and with it (the
    handshake is `websockets`' own, which negotiates the extension)."""
    started: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(**options: Any) -> Served:
        options.setdefault("ws_per_message_deflate", request.param)
        app = Echo()
        port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            ws=ChatSocketProtocol,
            ws_max_size=MAX_SIZE,
            lifespan="off",
            log_config=None,
            access_log=False,
            **options,
        )
        server, task = await start_uvicorn(config)
        started.append((server, task))
        return Served(port, app, server)

    yield start
    while Raw.opened:
        Raw.opened.pop().close()
    for server, _ in started:
        server.should_exit = True
    for _, task in started:
        await asyncio.wait_for(task, timeout(15))


class Raw:
    """A client on a bare stream: sends any frame, fragmented or not; parses what comes."""

    opened: ClassVar[list[Raw]] = []  # closed after each test (the `serve` fixture)

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = ClientProtocol(parse_uri("ws://x/"), state=State.OPEN, max_size=None)
        self.pending: list[Frame] = []

    @classmethod
    async def open(cls, port: int, key: str | None = None) -> tuple[Raw, bytes]:
        """A client whose handshake is answered: it and the answer's head."""
        raw = await cls.connect(port, key)
        return raw, await raw.head()

    @classmethod
    async def connect(cls, port: int, key: str | None = None) -> Raw:
        """A client that has sent its upgrade request; `head` reads the answer."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode() if key is None else key
        writer.write(
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        raw = cls(reader, writer)
        cls.opened.append(raw)
        return raw

    async def head(self) -> bytes:
        return await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout(5))

    def frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
        mask = os.urandom(4)
        self.writer.write(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    async def next(self, seconds: float = 5.0) -> Frame | None:
        """The next frame from the server; None when the connection ended without one."""
        async with asyncio.timeout(timeout(seconds)):
            while True:
                self.pending += [e for e in self.parser.events_received() if isinstance(e, Frame)]
                if self.pending:
                    return self.pending.pop(0)
                data = await self.reader.read(65536)
                if not data:
                    return None
                self.parser.receive_data(data)

    async def ended(self, seconds: float = 5.0) -> bool:
        """True once the server has closed the TCP connection (frames until then are dropped)."""
        async with asyncio.timeout(timeout(seconds)):
            while await self.reader.read(65536):
                pass
        return True

    def close(self) -> None:
        self.writer.transport.abort()
        self.writer.close()


def _close_code(frame: Frame | None) -> int | None:
    assert frame is not None and frame.opcode is Opcode.CLOSE, frame
    return Close.parse(frame.data).code


async def _disconnected(app: Echo) -> dict[str, Any]:
    async with asyncio.timeout(timeout(5)):
        await app.told.wait()
    return app.disconnects[0]


async def test_a_message_in_fragments_arrives_whole_with_a_ping_between(serve: Any) -> None:
    served = await serve()
    raw, head = await Raw.open(served.port)
    assert head.startswith(b"HTTP/1.1 101")
    raw.frame(0x1, b'{"a":', fin=False)
    raw.frame(0x9, b"beat")  # a control frame may come between fragments
    raw.frame(0x0, b'"caf\xc3', fin=False)  # a character split across two fragments
    raw.frame(0x0, b'\xa9"}')
    pong = await raw.next()
    assert pong is not None and pong.opcode is Opcode.PONG and pong.data == b"beat"
    echo = await raw.next()
    assert echo is not None and echo.opcode is Opcode.TEXT
    assert json.loads(bytes(echo.data)) == {"a": "café"}
    raw.frame(0x2, b"\x00\x01")
    binary = await raw.next()
    assert binary is not None and binary.opcode is Opcode.BINARY and binary.data == b"\x00\x01"
    raw.close()


async def test_the_size_limit_counts_the_whole_message(serve: Any) -> None:
    served = await serve()
    raw, _ = await Raw.open(served.port)
    for _ in range(3):  # 3 x 400 bytes: every fragment is under the limit, the message is not
        raw.frame(0x1 if _ == 0 else 0x0, b"x" * 400, fin=False)
    assert _close_code(await raw.next()) == 1009
    assert await raw.ended()
    assert (await _disconnected(served.app))["code"] == 1009


async def test_invalid_utf8_fails_the_connection_with_1007(serve: Any) -> None:
    served = await serve()
    raw, _ = await Raw.open(served.port)
    raw.frame(0x1, b'{"x":"\xff\xfe"}')
    assert _close_code(await raw.next()) == 1007
    assert await raw.ended()
    assert (await _disconnected(served.app))["code"] == 1007


async def test_the_peer_closing_is_answered_and_the_app_told(serve: Any) -> None:
    served = await serve()
    raw, _ = await Raw.open(served.port)
    raw.frame(0x8, Close(4000, "bye").serialize())
    assert _close_code(await raw.next()) == 4000  # echoed
    assert await raw.ended()
    told = await _disconnected(served.app)
    assert told["code"] == 4000 and told["reason"] == "bye"


async def test_the_app_closing_waits_for_the_answer_then_for_the_timeout(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = await serve()
    answered, _ = await Raw.open(served.port)
    answered.frame(0x1, b"close:4001")
    assert _close_code(await answered.next()) == 4001
    answered.frame(0x8, Close(4001, "").serialize())
    assert await answered.ended()
    # A peer that never answers is cut off after CLOSE_TIMEOUT_S.
    monkeypatch.setattr(ws_protocol, "CLOSE_TIMEOUT_S", 0.3)
    silent, _ = await Raw.open(served.port)
    silent.frame(0x1, b"close:4002")
    assert _close_code(await silent.next()) == 4002
    assert await silent.ended(seconds=5)
    codes = sorted(event["code"] for event in served.app.disconnects)
    assert codes == [4001, 4002]


async def test_keepalive_pings_and_a_silent_peer_is_failed_with_1011(serve: Any) -> None:
    served = await serve(ws_ping_interval=0.2, ws_ping_timeout=0.3)
    lively, _ = await Raw.open(served.port)
    silent, _ = await Raw.open(served.port)
    for _ in range(3):  # answered pings keep it open, round after round
        ping = await lively.next()
        assert ping is not None and ping.opcode is Opcode.PING
        lively.frame(0xA, bytes(ping.data))
    ping = await silent.next()
    assert ping is not None and ping.opcode is Opcode.PING
    assert _close_code(await silent.next()) == 1011
    assert await silent.ended()
    assert (await _disconnected(served.app))["code"] == 1011
    lively.frame(0x1, b"still here")
    while (frame := await lively.next()) is not None and frame.opcode is Opcode.PING:
        lively.frame(0xA, bytes(frame.data))
    assert frame is not None and bytes(frame.data) == b"still here"
    lively.close()


async def test_the_101_carries_the_accept_key_and_the_servers_headers(serve: Any) -> None:
    served = await serve()
    key = base64.b64encode(os.urandom(16)).decode()
    _, head = await Raw.open(served.port, key=key)
    status, *lines = head.decode("latin-1").strip().split("\r\n")
    assert status == "HTTP/1.1 101 Switching Protocols"
    headers = {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in lines)}
    guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
    digest = hashlib.sha1((key + guid).encode(), usedforsecurity=False).digest()
    assert headers["sec-websocket-accept"] == base64.b64encode(digest).decode()
    assert headers["upgrade"].lower() == "websocket"
    assert headers["connection"].lower() == "upgrade"
    assert headers["server"] == "uvicorn"  # uvicorn's default headers, as it sends them


async def test_frames_sent_before_the_101_are_read_after_it(serve: Any) -> None:
    """A client that does not wait for the 101 (RFC 6455 says it must) loses nothing, and a
    ping of its is not answered before the 101."""
    served = await serve()
    served.app.hold = asyncio.Event()
    raw = await Raw.connect(served.port)
    async with asyncio.timeout(timeout(5)):
        await served.app.connected.wait()  # the upgrade is read; the app has not accepted
    raw.frame(0x9, b"early ping")
    raw.frame(0x1, b"early")
    for _ in range(10):  # loop turns in which the server (this loop) could read them
        await asyncio.sleep(0)
    served.app.hold.set()
    assert (await raw.head()).startswith(b"HTTP/1.1 101 ")
    pong = await raw.next()
    assert pong is not None and pong.opcode is Opcode.PONG and bytes(pong.data) == b"early ping"
    echo = await raw.next()
    assert echo is not None and bytes(echo.data) == b"early"


async def test_not_a_handshake_is_answered_400_and_a_refusal_403(serve: Any) -> None:
    served = await serve()
    bad, head = await Raw.open(served.port, key="not base64 of 16 bytes")
    assert head.startswith(b"HTTP/1.1 400")
    assert await bad.ended()
    served.app.refuse = True
    refused, head = await Raw.open(served.port)
    assert head.startswith(b"HTTP/1.1 403")
    assert await refused.ended()


async def test_a_dropped_connection_tells_the_app_and_shutdown_says_1012(serve: Any) -> None:
    served = await serve()
    dropped, _ = await Raw.open(served.port)
    dropped.frame(0x1, b"hi")
    assert (await dropped.next()) is not None
    dropped.close()
    assert (await _disconnected(served.app))["code"] == 1005
    staying, _ = await Raw.open(served.port)
    staying.frame(0x1, b"hi")
    assert (await staying.next()) is not None
    served.server.should_exit = True
    assert _close_code(await staying.next(seconds=10)) == 1012
    assert await staying.ended()
    assert served.app.disconnects[-1]["code"] == 1012


def test_a_connection_keeps_its_state_in_slots() -> None:
    """What each open connection costs is its slots, not an attribute dict (the reason for
    this class: docs/performance.md)."""
    assert not hasattr(ChatSocketProtocol.__new__(ChatSocketProtocol), "__dict__")
