"""Entering and leaving: `join` (who may come in), `agree` (the room's ground rules), `leave`.

`join` is decided once the room's view is loaded (server/joining.py subscribes first, then
asks); its I/O (presence, history, the `joined` frame) is the server's. A member also needs a
seat (`TakeSeat`: the room's capacity, rooms/seats.py), which the server takes atomically with
entering presence; facilitators take none and always get in.
"""

from __future__ import annotations

from moderation.actions.base import ActionSpec, Agree, Leave, Outcome, Request, TakeSeat
from moderation.roles import Role
from moderation.room_view import RoomView

__all__ = ["AGREE", "JOIN", "LEAVE"]


def _join(request: Request, view: RoomView) -> Outcome:
    # Banned or locked out (facilitators never are); raises with the code and `until`.
    assert request.actor is not None and request.place is not None
    view.check_join(request.actor, request.role, request.now_ms)
    if request.role is Role.FACILITATOR:
        return Outcome([], audit=False)  # facilitators take no seat: they always get in
    return Outcome([TakeSeat(request.place.capacity)], audit=False)


def _agree(request: Request, view: RoomView) -> Outcome:
    room = request.place
    assert room is not None
    version = room.rules_version
    return Outcome([Agree(version)], audit=False, ack={"rules_version": version})


def _leave(request: Request, view: RoomView) -> Outcome:
    return Outcome([Leave()], audit=False)


JOIN = ActionSpec("join", Role.MEMBER, (), _join)
AGREE = ActionSpec("agree", Role.MEMBER, (), _agree)
LEAVE = ActionSpec("leave", Role.MEMBER, (), _leave)
