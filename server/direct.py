"""Writing frames straight to a socket that is keeping up, past the ASGI layer.

Measured (bench/, docs/performance.md): a third of the server's CPU per delivery went to
awaiting each socket's send through Starlette and uvicorn and waking each socket's writer. The
`websockets` library's own `broadcast()` writes synchronously to every connection whose write
buffer is below its high-water mark and skips the others; this does the same on uvicorn's
sans-I/O WebSocket protocol (the default with the `websockets` library installed). A socket
that has fallen behind, or a server without that protocol, gets the queued path of
`server.session` instead, so order and backpressure stay what they were.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

__all__ = ["DirectWriter", "forget_handshake"]


class DirectWriter:
    """`write(data)` frames `data` as one text message and hands it to the transport at once,
    or returns False (and writes nothing) when the socket is behind or closing."""

    __slots__ = ("_conn", "_high", "_transport")

    def __init__(self, conn: Any, transport: Any) -> None:
        self._conn = conn
        self._transport = transport
        self._high: int = transport.get_write_buffer_limits()[1]

    @classmethod
    def of(cls, protocol: Any) -> DirectWriter | None:
        """A writer for uvicorn's sans-I/O protocol object, None for anything else."""
        conn = getattr(protocol, "conn", None)
        transport = getattr(protocol, "transport", None)
        if conn is None or transport is None or not hasattr(conn, "send_text"):
            return None
        if not hasattr(transport, "get_write_buffer_limits"):
            return None
        return cls(conn, transport)

    def write(self, data: bytes) -> bool:
        transport = self._transport
        if transport.is_closing() or transport.get_write_buffer_size() >= self._high:
            return False
        try:
            self._conn.send_text(data)
        except Exception:  # the handshake is closing: the queued path reports it
            return False
        transport.write(b"".join(self._conn.data_to_send()))
        return True


def forget_handshake(protocol: Any, scope: MutableMapping[str, Any]) -> None:
    """Drop what only the opening handshake needed, once the socket is accepted: uvicorn's
    sans-I/O protocol keeps the handshake request and response for the life of the connection
    (and the `websockets` parser the request too), the scope a copy of the request headers;
    nothing reads any of them later. About 4 KiB per open connection (bench/ idle scenario)."""
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
