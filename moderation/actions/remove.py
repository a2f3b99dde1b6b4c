"""`remove`: out of the room now, on every process, and barred from rejoining for `minutes`."""

from __future__ import annotations

from moderation.actions.base import ActionSpec, Field, Lookup, Outcome, Request, timed_sanction
from moderation.roles import Role
from moderation.room_view import RoomView, ban_field

__all__ = ["ACTION"]


def decide(request: Request, view: RoomView) -> Outcome:
    return timed_sanction(request, ban_field)


ACTION = ActionSpec(
    "remove",
    Role.FACILITATOR,
    (Field.PARTICIPANT, Field.MINUTES),
    decide,
    (Field.REASON,),
    lookups=(Lookup.TARGET,),
)
