"""A WebSocket client on a bare asyncio stream, for what a well-behaved library refuses to do:
send invalid UTF-8 or any opcode, and stop reading altogether (its kernel buffer small).

Frames are parsed by `websockets`' sans-I/O client protocol, so only the sending side is raw.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
from typing import Any

from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from tests.support import timeout

__all__ = ["RawClient"]


class RawClient:
    """One connection; `frame()` sends any opcode and payload, `receive()` parses what came."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.parser: ClientProtocol | None = None
        self.received: list[Any] = []
        self.close_code: int | None = None

    @classmethod
    async def connect(
        cls, url: str, *, path_extra: str = "", rcvbuf: int | None = None
    ) -> RawClient:
        """Open and upgrade; `rcvbuf` shrinks the kernel receive buffer (a slow reader)."""
        uri = parse_uri(url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (uri.host, uri.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        client = cls(reader, writer)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {uri.resource_name}{path_extra} HTTP/1.1\r\nHost: {uri.host}:{uri.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout(5))
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
        # The handshake above replaced the protocol's own: it starts open.
        client.parser = ClientProtocol(uri, state=State.OPEN, max_size=None)
        return client

    def frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        """Queue one masked frame, whatever its opcode or payload."""
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(head + mask + body)

    async def send_text(self, payload: bytes | str) -> None:
        self.frame(0x1, payload.encode() if isinstance(payload, str) else payload)
        await self.writer.drain()

    async def send_json(self, frame: dict[str, Any]) -> None:
        await self.send_text(json.dumps(frame))

    async def receive(self, seconds: float = 5.0) -> list[Any]:
        """Read until at least one new frame arrived or the connection ended; the parsed JSON
        frames (the close code, if any, lands in `close_code`)."""
        return await self._receive(asyncio.get_running_loop().time() + timeout(seconds))

    async def _receive(self, deadline: float) -> list[Any]:
        assert self.parser is not None
        new: list[Any] = []
        loop = asyncio.get_running_loop()
        while not new and self.close_code is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("no frame")
            data = await asyncio.wait_for(self.reader.read(65536), remaining)
            if not data:
                self.parser.receive_eof()
                if self.close_code is None:
                    self.close_code = 1006
            else:
                self.parser.receive_data(data)
            for event in self.parser.events_received():
                if not isinstance(event, Frame):
                    continue
                if event.opcode is Opcode.TEXT:
                    new.append(json.loads(bytes(event.data)))
                elif event.opcode is Opcode.CLOSE:
                    self.close_code = Close.parse(event.data).code if event.data else 1005
        self.received.extend(new)
        return new

    async def until_closed(self, seconds: float = 10.0) -> int:
        """Drain everything until the server closes; its close code (1006 if none came)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout(seconds)
        while self.close_code is None:
            await self._receive(deadline)
        return self.close_code

    def abort(self) -> None:
        self.writer.transport.abort()

    async def close(self) -> None:
        """Drop the connection without a closing handshake."""
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
