"""`delete`: the message disappears for everyone and from history; the audit keeps who/why."""

from __future__ import annotations

from moderation.actions.base import ActionSpec, DeleteMessage, Field, Lookup, Outcome, Request
from moderation.roles import Role
from moderation.room_view import RoomView
from rooms.errors import ChatError, ErrorCode

__all__ = ["ACTION"]


def decide(request: Request, view: RoomView) -> Outcome:
    if request.message_author is None:
        raise ChatError(ErrorCode.NOT_FOUND, "no such message in this room")
    return Outcome([DeleteMessage(request.fields["message_id"])])


ACTION = ActionSpec(
    "delete",
    Role.FACILITATOR,
    (Field.MESSAGE_ID,),
    decide,
    (Field.REASON,),
    lookups=(Lookup.AUTHOR,),
)
