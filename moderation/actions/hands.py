"""The speaking queue: `raise_hand`, `lower_hand` and `call_on`.

Any member raises or lowers their own hand; a facilitator can lower anyone's and calls on the
next speaker, which in one-at-a-time rooms gives them the turn.
"""

from __future__ import annotations

from moderation.actions.base import (
    ActionSpec,
    Field,
    ListChange,
    Lookup,
    Outcome,
    Request,
    SetState,
    refuse_unknown,
)
from moderation.roles import Role
from moderation.room_view import HANDS_FIELD, TURN_FIELD, RoomView
from rooms.errors import ChatError, ErrorCode

__all__ = ["CALL_ON", "LOWER_HAND", "RAISE_HAND"]


def _raise(request: Request, view: RoomView) -> Outcome:
    assert request.actor is not None
    return Outcome([ListChange(HANDS_FIELD, request.actor, add=True)], audit=False)


def _lower(request: Request, view: RoomView) -> Outcome:
    assert request.actor is not None
    who = request.actor
    if request.fields.get("participant") not in (None, request.actor):
        if request.role is not Role.FACILITATOR:
            raise ChatError(ErrorCode.FORBIDDEN, "only facilitators can lower someone else's hand")
        who = refuse_unknown(request).participant
    return Outcome([ListChange(HANDS_FIELD, who, add=False)], audit=False)


def _call_on(request: Request, view: RoomView) -> Outcome:
    target = refuse_unknown(request)
    return Outcome(
        [
            SetState(TURN_FIELD, target.participant),
            ListChange(HANDS_FIELD, target.participant, add=False),
        ],
        audit=False,
        ack={"participant": target.participant},
    )


RAISE_HAND = ActionSpec("raise_hand", Role.MEMBER, (), _raise)
LOWER_HAND = ActionSpec(
    "lower_hand", Role.MEMBER, (), _lower, (Field.PARTICIPANT,), lookups=(Lookup.TARGET,)
)
CALL_ON = ActionSpec(
    "call_on", Role.FACILITATOR, (Field.PARTICIPANT,), _call_on, lookups=(Lookup.TARGET,)
)
