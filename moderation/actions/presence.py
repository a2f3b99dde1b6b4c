"""`listen` / `talk`: listen-only mode on and off, shown to the room in presence.

Someone who only listens neither holds the turn nor waits with a raised hand, so a
one-at-a-time room never waits on a person who chose not to speak.
"""

from __future__ import annotations

from moderation.actions.base import (
    ActionSpec,
    Effect,
    ListChange,
    Outcome,
    Request,
    SetListening,
    SetState,
)
from moderation.roles import Role
from moderation.room_view import HANDS_FIELD, TURN_FIELD, RoomView

__all__ = ["LISTEN", "TALK", "give_up_turn"]


def give_up_turn(view: RoomView, participant: str) -> list[Effect]:
    """What takes `participant` out of the speaking order: the turn, a raised hand."""
    effects: list[Effect] = []
    if view.turn == participant:
        effects.append(SetState(TURN_FIELD, None))
    if participant in view.hands:
        effects.append(ListChange(HANDS_FIELD, participant, add=False))
    return effects


def _listening(on: bool) -> ActionSpec:
    def decide(request: Request, view: RoomView) -> Outcome:
        member = request.member
        assert member is not None
        effects: list[Effect] = []
        if member.listening != on:
            effects.append(SetListening(on))
            if on:
                effects += give_up_turn(view, member.participant)
        return Outcome(effects, audit=False, ack={"listening": on})

    return ActionSpec("listen" if on else "talk", Role.MEMBER, (), decide)


LISTEN = _listening(True)
TALK = _listening(False)
