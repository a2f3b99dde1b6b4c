"""The WebSocket opening handshake (RFC 6455, section 4.2) of an upgrade request that uvicorn
has parsed already, checked and answered here.

uvicorn parses the request with httptools, then hands the upgrade to the `ws=` class as the
request's bytes again. Parsed a second time by `websockets`' HTTP reader and answered through
its `Headers` and `Response`, a handshake cost ~66 µs; read here, ~8 µs (measured,
docs/performance.md). The connection's frames are still `websockets`' work. With
permessage-deflate on, `server.ws_protocol` leaves the handshake to `websockets`, which
negotiates the extension.

Nothing here echoes what the client sent: a refusal says what was wrong in fixed words.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

__all__ = ["Upgrade", "read_upgrade", "refusal", "switching"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3

_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    405: "Method Not Allowed",
    426: "Upgrade Required",
    500: "Internal Server Error",
    505: "HTTP Version Not Supported",
}


@dataclass(frozen=True, slots=True)
class Upgrade:
    """A valid upgrade request: its target split at `?`, its headers as ASGI wants them (names
    lowercased, in order), the `Sec-WebSocket-Accept` value, and the subprotocols offered."""

    path: str
    query: str
    headers: list[tuple[bytes, bytes]]
    accept: bytes
    subprotocols: list[str]


def _refused(status: int, why: str, headers: list[tuple[bytes, bytes]] | None = None) -> bytes:
    return refusal(status, f"Failed to open a WebSocket connection: {why}.\n", headers)


def read_upgrade(data: bytes) -> Upgrade | bytes:
    """The upgrade request that `data` holds, or the HTTP response (bytes) that refuses it."""
    head, found, _ = data.partition(b"\r\n\r\n")
    if not found:
        return _refused(400, "incomplete request")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        return _refused(400, "invalid request line")
    method, target, version = parts
    if method != b"GET":
        return _refused(405, "only GET opens a WebSocket", [(b"Allow", b"GET")])
    if version != b"HTTP/1.1":
        return _refused(505, "only HTTP/1.1 opens a WebSocket")
    headers: list[tuple[bytes, bytes]] = []
    connection: list[bytes] = []
    upgrade: list[bytes] = []
    keys: list[bytes] = []
    versions: list[bytes] = []
    offered: list[str] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name:
            return _refused(400, "invalid header line")
        name = name.strip().lower()
        value = value.strip()
        headers.append((name, value))
        if name == b"connection":
            connection += [v.strip().lower() for v in value.split(b",")]
        elif name == b"upgrade":
            upgrade += [v.strip().lower() for v in value.split(b",") if v.strip()]
        elif name == b"sec-websocket-key":
            keys.append(value)
        elif name == b"sec-websocket-version":
            versions.append(value)
        elif name == b"sec-websocket-protocol":
            offered += [t for v in value.decode("latin-1").split(",") if (t := v.strip())]
    if b"upgrade" not in connection or upgrade != [b"websocket"]:
        return _refused(
            426, "the request does not ask for a WebSocket", [(b"Upgrade", b"websocket")]
        )
    if len(keys) != 1 or not _valid_key(keys[0]):
        return _refused(400, "missing or invalid Sec-WebSocket-Key")
    if versions != [b"13"]:
        return _refused(
            426, "only WebSocket version 13 is spoken", [(b"Sec-WebSocket-Version", b"13")]
        )
    try:
        path, _, query = target.decode("ascii").partition("?")
    except UnicodeDecodeError:
        return _refused(400, "invalid request target")
    accept = base64.b64encode(hashlib.sha1(keys[0] + _GUID, usedforsecurity=False).digest())
    return Upgrade(path, query, headers, accept, offered)


def _valid_key(key: bytes) -> bool:
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def switching(accept: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The 101 answer that opens the connection, with `headers` after the handshake's own."""
    lines = [
        b"HTTP/1.1 101 Switching Protocols",
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Accept: " + accept,
        *(name + b": " + value for name, value in headers),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def refusal(status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None) -> bytes:
    """An HTTP response that refuses the handshake and ends the connection, with `text` as its
    plain-text body (fixed words, never the client's)."""
    body = text.encode()
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}".encode(),
        b"Connection: close",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Length: %d" % len(body),
        *(name + b": " + value for name, value in headers or []),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
