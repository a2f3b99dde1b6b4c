"""Small helpers shared by the frame handlers."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from rooms.errors import ChatError, ErrorCode
from rooms.ids import RoomId
from server import wire
from server.session import Membership, Session

__all__ = ["ack", "iso", "membership_of"]


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def iso(ts: float) -> str:
    """ISO 8601 UTC with milliseconds, as `message.ts` carries it (every message stamps one:
    the date and time of day are formatted once a second)."""
    # Rounded to microseconds as datetime.fromtimestamp rounds them, then cut to milliseconds.
    frac, whole_f = math.modf(ts)
    micros = round(frac * 1e6)
    whole = int(whole_f)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    elif micros < 0:
        whole, micros = whole - 1, micros + 1_000_000
    if _second[0] != whole:
        _second[1] = dt.datetime.fromtimestamp(whole, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second[0] = whole
    return f"{_second[1]}.{micros // 1000:03d}Z"


def ack(session: Session, ref: str | None, **fields: Any) -> None:
    """Answer a frame that succeeded."""
    session.deliver(wire.encode({"type": "ack", "ref": ref, **fields}))


def membership_of(session: Session, frame: dict[str, Any]) -> Membership:
    """The session's place in the frame's `room`; `not_joined` when it has none."""
    room = wire.req_str(frame, "room", 64)
    membership = session.rooms.get(RoomId(room))
    if membership is None:
        raise ChatError(ErrorCode.NOT_JOINED, "join the room first")
    return membership
