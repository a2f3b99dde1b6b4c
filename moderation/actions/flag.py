"""`flag`: mark a participant and/or message for follow-up; only facilitators ever see it."""

from __future__ import annotations

from moderation.actions.base import (
    ActionSpec,
    AddItem,
    Field,
    Lookup,
    Outcome,
    Request,
    refuse_unknown,
)
from moderation.roles import Role
from moderation.room_view import RoomView
from rooms.errors import ChatError, ErrorCode

__all__ = ["ACTION", "queue_item"]


def queue_item(request: Request, kind: str, note_field: str) -> AddItem:
    """The queue item for a flag or report, checking that what it names exists."""
    participant = None
    if request.fields.get("participant") is not None:
        participant = refuse_unknown(request).participant
    message_id = request.fields.get("message_id")
    if message_id is not None:
        if request.message_author is None:
            raise ChatError(ErrorCode.NOT_FOUND, "no such message in this room")
        participant = participant or request.message_author
    return AddItem(kind, participant, message_id, request.fields[note_field])


def decide(request: Request, view: RoomView) -> Outcome:
    return Outcome([queue_item(request, "flag", "note")])


ACTION = ActionSpec(
    "flag",
    Role.FACILITATOR,
    (Field.NOTE,),
    decide,
    (Field.PARTICIPANT, Field.MESSAGE_ID),
    one_of=(Field.PARTICIPANT, Field.MESSAGE_ID),
    lookups=(Lookup.TARGET, Lookup.AUTHOR),
)
