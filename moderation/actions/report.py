"""`report`: any member tells the room's own facilitators about a message or participant."""

from __future__ import annotations

from moderation.actions.base import ActionSpec, Field, Outcome, Request
from moderation.actions.flag import queue_item
from moderation.roles import Role
from moderation.sanctions import RoomView

__all__ = ["ACTION"]


def decide(request: Request, view: RoomView) -> Outcome:
    # Reports are the members' voice, not a facilitator's act: no audit entry of their own.
    return Outcome([queue_item(request, "report", "reason")], audit=False)


ACTION = ActionSpec(
    "report",
    Role.MEMBER,
    (Field.REASON,),
    decide,
    (Field.PARTICIPANT, Field.MESSAGE_ID),
    one_of=(Field.PARTICIPANT, Field.MESSAGE_ID),
)
