"""`private_open` and `private_close`: a facilitator takes a participant aside.

Only the participant and the room's facilitators see the conversation; the participant stays
known by their handle only. Opening it also shows the participant the crisis resources.
"""

from __future__ import annotations

from moderation.actions.base import (
    ActionSpec,
    Field,
    Lookup,
    Outcome,
    PrivateNotice,
    Request,
    SetState,
    require_lower_rank,
)
from moderation.roles import Role
from moderation.room_view import RoomView, conv_field
from rooms.errors import ChatError, ErrorCode
from rooms.ids import ParticipantId

__all__ = ["PRIVATE_CLOSE", "PRIVATE_OPEN"]


def _open(request: Request, view: RoomView) -> Outcome:
    target = require_lower_rank(request)
    conversation = request.fresh_id
    value = {"participant": target.participant, "by": request.by}
    return Outcome(
        [
            SetState(conv_field(conversation), value),
            PrivateNotice("private_opened", conversation, target.participant),
        ],
        ack={"conversation": conversation, "participant": target.participant},
    )


def _close(request: Request, view: RoomView) -> Outcome:
    conversation = request.fields["conversation"]
    open_ = view.conversations.get(conversation)
    if open_ is None:
        raise ChatError(ErrorCode.NOT_FOUND, "no such conversation")
    participant = ParticipantId(str(open_["participant"]))
    return Outcome(
        [
            SetState(conv_field(conversation), None),
            PrivateNotice("private_closed", conversation, participant),
        ],
        ack={"conversation": conversation},
    )


PRIVATE_OPEN = ActionSpec(
    "private_open",
    Role.FACILITATOR,
    (Field.PARTICIPANT,),
    _open,
    lookups=(Lookup.TARGET, Lookup.FRESH_ID),
)
PRIVATE_CLOSE = ActionSpec("private_close", Role.FACILITATOR, (Field.CONVERSATION,), _close)
