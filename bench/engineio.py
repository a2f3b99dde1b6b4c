"""Engine.IO 4 / Socket.IO 4 framing over WebSocket, as pure functions for the load generator.

Each WebSocket text frame holds one Engine.IO packet: a type digit, then its data. The ones a
WebSocket-only client meets:

    0{"sid":…,"pingInterval":…}   open (server → client, first frame)
    2 / 3                         ping (server → client) / pong (client → server, answers it)
    1                             close
    4…                            message: a Socket.IO packet follows

and a Socket.IO packet (default namespace) is a type digit, an optional acknowledgement id,
then JSON:

    40 / 40{"sid":…}              connect (client → server) / connected (server → client)
    42<ack>["event",data]         event, with an ack id when the sender wants an answer
    43<ack>[data]                 the answer to event <ack>
    44{"message":…}               connect refused

Frames are parsed into the dicts the load generator's handshake already waits on
(`{"type": …, "ref": …}`), so one `expect` serves both wire formats.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "CONNECT",
    "EIO_PATH",
    "MESSAGE_PREFIX",
    "PING",
    "PONG",
    "event",
    "parse",
]

EIO_PATH = "/socket.io/?EIO=4&transport=websocket"
CONNECT = "40"
PING = b"2"
PONG = "3"
# A delivered chat message: the fast path of the generator tests this prefix only.
MESSAGE_PREFIX = b'42["message",'
ACK_PREFIX = b"43"

_ENGINE_TYPES = {"0": "open", "1": "close", "2": "ping", "3": "pong", "5": "upgrade", "6": "noop"}
_SOCKET_TYPES = {"0": "connect", "1": "disconnect", "2": "event", "3": "ack", "4": "error"}


def event(name: str, data: Any, ack: int | None = None) -> str:
    """The text of a Socket.IO event on the default namespace, asking for an answer when `ack`
    is given."""
    body = json.dumps([name, data], separators=(",", ":"), ensure_ascii=False)
    return f"42{'' if ack is None else ack}{body}"


def parse(frame: bytes | str) -> dict[str, Any]:
    """One Engine.IO packet as `{"type", "ref", "data"}`.

    `type` is the Engine.IO packet type (`open`, `ping`, …) or, for a message, the Socket.IO
    one (`connect`, `event`, `ack`, `error`); `ref` is the acknowledgement id as a string (None
    without one); `data` the decoded JSON (None without any). An `error` (connect refused) also
    carries `code`, as the product's error frames do. Raises ValueError on anything else.
    """
    text = frame.decode() if isinstance(frame, bytes) else frame
    if not text:
        raise ValueError("empty Engine.IO packet")
    kind, rest = text[0], text[1:]
    if kind in _ENGINE_TYPES:
        data = json.loads(rest) if kind == "0" else (rest or None)
        return {"type": _ENGINE_TYPES[kind], "ref": None, "data": data}
    if kind != "4" or not rest or rest[0] not in _SOCKET_TYPES:
        raise ValueError(f"not an Engine.IO 4 packet: {text[:8]!r}")
    socket_type, rest = _SOCKET_TYPES[rest[0]], rest[1:]
    if rest.startswith("/"):  # a namespace other than the default: "/chat,…"
        raise ValueError("only the default namespace is spoken here")
    digits = 0
    while digits < len(rest) and rest[digits].isdigit():
        digits += 1
    ref = rest[:digits] or None
    data = json.loads(rest[digits:]) if rest[digits:] else None
    packet: dict[str, Any] = {"type": socket_type, "ref": ref, "data": data}
    if socket_type == "event" and isinstance(data, list) and data:
        packet["event"] = data[0]
    if socket_type == "error":
        packet["code"] = "connect_error"
    return packet
