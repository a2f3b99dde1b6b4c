"""`mute`: the participant may read but not send, for `minutes`; it expires by itself."""

from __future__ import annotations

from moderation.actions.base import ActionSpec, Field, Lookup, Outcome, Request, timed_sanction
from moderation.roles import Role
from moderation.room_view import RoomView, mute_field

__all__ = ["ACTION"]


def decide(request: Request, view: RoomView) -> Outcome:
    return timed_sanction(request, mute_field)


ACTION = ActionSpec(
    "mute",
    Role.FACILITATOR,
    (Field.PARTICIPANT, Field.MINUTES),
    decide,
    (Field.REASON,),
    lookups=(Lookup.TARGET,),
)
