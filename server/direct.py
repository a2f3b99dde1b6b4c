"""Writing frames straight to a socket that is keeping up, past the ASGI layer.

Measured (bench/, docs/performance.md): a third of the server's CPU per delivery went to
awaiting each socket's send through Starlette and uvicorn and waking each socket's writer. The
`websockets` library's own `broadcast()` writes synchronously to every connection whose write
buffer is below its high-water mark and skips the others; this does the same on the
connection's protocol object (`server.ws_protocol`, or uvicorn's own sans-I/O one). A socket
that has fallen behind, or a server without that protocol, gets the queued path of
`server.session` instead, so order and backpressure stay what they were.
"""

from __future__ import annotations

import struct
from collections.abc import MutableMapping
from typing import Any

from websockets.protocol import State

__all__ = ["DirectWriter", "forget_handshake", "text_frame"]


def text_frame(payload: bytes) -> bytes:
    """`payload` as one unmasked, uncompressed WebSocket text frame (RFC 6455 5.2), as a server
    sends it: the same bytes for every socket without extensions, so a fan-out frames a message
    once instead of once per socket."""
    length = len(payload)
    if length < 126:
        return struct.pack("!BB", 0x81, length) + payload
    if length < 65536:
        return struct.pack("!BBH", 0x81, 126, length) + payload
    return struct.pack("!BBQ", 0x81, 127, length) + payload


class DirectWriter:
    """`write(data)` frames `data` as one text message and hands it to the transport at once,
    or returns False (and writes nothing) when the socket is behind or closing."""

    __slots__ = ("_conn", "_high", "_plain", "_transport")

    def __init__(self, conn: Any, transport: Any) -> None:
        self._conn = conn
        self._transport = transport
        self._high: int = transport.get_write_buffer_limits()[1]
        # Extensions are settled by the handshake, before this is made: without any (no
        # per-message deflate), a frame from `text_frame` is exactly what `send_text` would write.
        self._plain = not getattr(conn, "extensions", None)

    @classmethod
    def of(cls, protocol: Any) -> DirectWriter | None:
        """A writer for a protocol object with a sans-I/O `conn` and a transport
        (`server.ws_protocol.ChatSocketProtocol`, uvicorn's sans-I/O one), None for anything
        else."""
        conn = getattr(protocol, "conn", None)
        transport = getattr(protocol, "transport", None)
        if conn is None or transport is None or not hasattr(conn, "send_text"):
            return None
        if not hasattr(transport, "get_write_buffer_limits"):
            return None
        return cls(conn, transport)

    def write(self, data: bytes, framed: bytes | None = None) -> bool:
        """`framed`, when given, is `text_frame(data)`, built once for a whole fan-out."""
        transport = self._transport
        if transport.is_closing() or transport.get_write_buffer_size() >= self._high:
            return False
        conn = self._conn
        if (
            framed is not None
            and self._plain
            and conn.state is State.OPEN
            and not conn.expect_continuation_frame
        ):
            transport.write(framed)
            return True
        try:
            conn.send_text(data)
        except Exception:  # the handshake is closing: the queued path reports it
            return False
        transport.write(b"".join(conn.data_to_send()))
        return True


def forget_handshake(protocol: Any, scope: MutableMapping[str, Any]) -> None:
    """Drop what only the opening handshake needed, once the socket is accepted: the scope's
    copy of the request headers, and under uvicorn's own sans-I/O protocol the handshake
    request and response it keeps for the life of the connection (`server.ws_protocol` keeps
    neither); nothing reads any of them later. About 4 KiB per open connection (bench/ idle
    scenario)."""
    if getattr(protocol, "handshake_complete", False):
        for name in ("request", "response"):
            message = getattr(protocol, name, None)
            if message is None:
                continue
            headers = getattr(message, "headers", None)
            if isinstance(headers, MutableMapping):
                headers.clear()
            setattr(protocol, name, None)
    scope["headers"] = []
