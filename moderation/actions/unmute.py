"""`unmute`: lift a mute before it expires."""

from __future__ import annotations

from moderation.actions.base import (
    ActionSpec,
    Field,
    Lookup,
    Outcome,
    Request,
    SetState,
    refuse_unknown,
)
from moderation.roles import Role
from moderation.room_view import RoomView, mute_field

__all__ = ["ACTION"]


def decide(request: Request, view: RoomView) -> Outcome:
    target = refuse_unknown(request)
    return Outcome([SetState(mute_field(target.participant), None)])


ACTION = ActionSpec(
    "unmute", Role.FACILITATOR, (Field.PARTICIPANT,), decide, lookups=(Lookup.TARGET,)
)
