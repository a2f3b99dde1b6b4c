"""`send`: a message to the room, or into a private conversation.

The rules, in order. A private conversation is written in only by its participant and the
room's facilitators, and its participant may answer before agreeing to the room's rules (it is
a facilitator reaching out); the room itself needs the agreement and passes the room's checks
(mute, listen-only, waiting, turn, slow mode: `RoomView.check_send`). The text is prepared once
(normalised and rendered) and every guard reads exactly that prepared text, what the room would
see: a member's message holding contact details is held unless the room allows them; crisis
language raises an alert once the message is out, never instead of it. Facilitators are exempt
from the room's checks and the guards.
"""

from __future__ import annotations

from moderation.actions.base import (
    ActionSpec,
    CrisisAlert,
    Effect,
    Field,
    Hold,
    Outcome,
    Publish,
    Request,
)
from moderation.contact import find_contact_details
from moderation.roles import Role
from moderation.room_view import RoomView
from rooms.errors import ChatError, ErrorCode
from rooms.text import normalize, prepare

__all__ = ["ACTION", "CW_CHARS"]

CW_CHARS = 40


def _content_warning(raw: str | None) -> str | None:
    if raw is None:
        return None
    refused = ChatError(ErrorCode.BAD_REQUEST, f"cw must be text of at most {CW_CHARS} characters")
    if len(raw) > CW_CHARS * 4:
        raise refused
    try:
        return normalize(raw, CW_CHARS)
    except ChatError:
        raise refused from None


def decide(request: Request, view: RoomView) -> Outcome:
    member, room = request.member, request.place
    assert member is not None and room is not None
    staff = member.role is Role.FACILITATOR
    conversation = request.fields.get("conversation")
    private_to = None
    if conversation is not None:
        opened = view.conversations.get(conversation)
        if opened is None or (not staff and opened["participant"] != member.participant):
            raise ChatError(ErrorCode.NOT_FOUND, "no such conversation")
        private_to = str(opened["participant"])
    else:
        if member.agreed_version < room.rules_version:
            raise ChatError(ErrorCode.RULES_NOT_ACCEPTED, "agree to the room's ground rules first")
        view.check_send(
            member.participant,
            member.role,
            request.now_ms,
            member.last_sent_ms,
            listening=member.listening,
            requires_facilitator=room.requires_facilitator,
            one_at_a_time=room.one_at_a_time,
        )
    extra = {}
    cw = _content_warning(request.fields.get("cw"))
    if cw is not None:
        extra["cw"] = cw
    text = prepare(request.fields["text"], request.text_limit)
    if private_to is None and not staff and not room.allow_contact_details:
        found = find_contact_details(text.text)
        if found is not None:
            return Outcome([Hold("contact_details", found)], audit=False, acks=False)
    if conversation is not None:
        extra["conversation"] = conversation
    then: list[Effect] = []
    if not staff and request.crisis is not None and request.crisis.matches(text.text):
        then.append(CrisisAlert())
    return Outcome([Publish(text, extra, private_to)], audit=False, then=then)


ACTION = ActionSpec(
    "send",
    Role.MEMBER,
    (Field.TEXT,),
    decide,
    (Field.CW, Field.CONVERSATION),
    budget="sends",
)
