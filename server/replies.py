"""Small helpers shared by the frame handlers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rooms.errors import ChatError, ErrorCode
from rooms.ids import RoomId
from server import wire
from server.session import Membership, Session

__all__ = ["ack", "iso", "membership_of"]


def iso(ts: float) -> str:
    """ISO 8601 UTC with milliseconds, as `message.ts` carries it."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


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
