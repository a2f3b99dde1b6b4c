"""Posting messages: `send`, and the one path every message takes to the room.

Checks come from the process's local view (no network round trip), the text is prepared once,
every guard reads that prepared text (what the room will see), and one broker call stores and
publishes it.
"""

from __future__ import annotations

from typing import Any

from moderation.actions.base import AddItem
from moderation.contact import find_contact_details
from moderation.roles import Role
from rooms.errors import ChatError, ErrorCode
from rooms.text import PreparedText, normalize, prepare
from server import envelope as envelopes
from server import wire
from server.moderate import add_queue_item, support_frame, to_facilitators
from server.replies import ack, iso, membership_of
from server.services import Services
from server.session import Membership, Session

__all__ = ["publish_text", "send"]

_CW_CHARS = 40


async def send(svc: Services, session: Session, frame: dict[str, Any], ref: str | None) -> None:
    """Post a message: checked from local state, prepared once, stored and published at once."""
    membership = membership_of(session, frame)
    raw = frame.get("text")
    if not isinstance(raw, str):
        raise ChatError(ErrorCode.BAD_REQUEST, "text must be a string")
    now = svc.now()
    local = svc.hub.rooms.get(membership.room.id)
    if local is None:
        raise ChatError(ErrorCode.NOT_JOINED, "join the room first")
    now_ms = int(now * 1000)
    role = session.role_in(membership, now)
    conversation = wire.opt_str(frame, "conversation", 64)
    private_to = None
    if conversation is not None:
        # A private conversation: only its participant and the room's facilitators may write,
        # and its text never reaches the rest of the room or the room's history.
        opened = local.view.conversations.get(conversation)
        if opened is None or (
            role is not Role.FACILITATOR and opened["participant"] != membership.participant
        ):
            raise ChatError(ErrorCode.NOT_FOUND, "no such conversation")
        private_to = str(opened["participant"])
    else:
        # A private conversation is a facilitator reaching out: the person may answer even
        # before agreeing to the room's rules. The room itself needs the agreement.
        if membership.agreed_version < membership.room.rules_version:
            raise ChatError(ErrorCode.RULES_NOT_ACCEPTED, "agree to the room's ground rules first")
        room = membership.room
        local.view.check_send(
            membership.participant,
            role,
            now_ms,
            membership.last_sent_ms,
            listening=membership.listening,
            requires_facilitator=room.requires_facilitator,
            one_at_a_time=room.one_at_a_time,
        )
    wait = session.sends.take(now)
    if wait > 0:
        raise ChatError(ErrorCode.RATE_LIMITED, "sending too fast", retry_after=round(wait, 2))
    extra: dict[str, Any] = {}
    cw = frame.get("cw")
    if cw is not None:
        if not isinstance(cw, str) or len(cw) > 160:
            raise ChatError(
                ErrorCode.BAD_REQUEST, f"cw must be text of at most {_CW_CHARS} characters"
            )
        try:
            extra["cw"] = normalize(cw, _CW_CHARS)
        except ChatError:
            raise ChatError(
                ErrorCode.BAD_REQUEST, f"cw must be text of at most {_CW_CHARS} characters"
            ) from None
    # Normalised once, before any guard: the contact guard and the crisis detector read exactly
    # the text the room would get (a check on the raw frame is slipped past by what
    # normalisation removes, such as a zero-width space inside a number).
    text = prepare(raw, svc.settings.max_text_chars)
    if (
        private_to is None
        and role is not Role.FACILITATOR
        and not membership.room.allow_contact_details
        and (found := find_contact_details(text.text)) is not None
    ):
        # Kept from the room; only the author is told, with the reason.
        held = {"type": "held", "ref": ref, "room": membership.room.id,
                "reason": "contact_details", "kind": found}  # fmt: skip
        session.deliver(wire.encode(held))
        svc.metrics.held.labels("contact_details").inc()
        return
    if conversation is not None:
        extra["conversation"] = conversation
    msg_id = await publish_text(svc, session, membership, text, extra, private_to)
    membership.last_sent_ms = now_ms
    svc.metrics.messages_in += 1
    ack(session, ref, room=membership.room.id, id=msg_id)
    if role is not Role.FACILITATOR and svc.crisis.detector.matches(text.text):
        await _crisis(svc, session, membership, msg_id)


async def _crisis(svc: Services, session: Session, membership: Membership, msg_id: int) -> None:
    """Never blocks the message: the author privately gets help, facilitators get an alert."""
    room = membership.room.id
    svc.metrics.crisis_alerts.inc()
    session.deliver(support_frame(svc, room))
    item = AddItem("alert", membership.participant, msg_id, "possible crisis language")
    stored = await add_queue_item(svc, room, item, "system")
    alert = {"type": "alert", "room": room, "item": stored["id"], "message_id": msg_id,
             "participant": membership.participant, "handle": membership.handle}  # fmt: skip
    await svc.broker.publish(room, to_facilitators(alert))


async def publish_text(
    svc: Services,
    session: Session,
    membership: Membership,
    text: PreparedText,
    extra: dict[str, Any],
    private_to: str | None = None,
) -> int:
    """Store and publish the prepared text in one broker round trip."""
    room = membership.room.id
    now = svc.now()
    head = envelopes.message_head(room)
    tail = envelopes.message_tail(
        {
            "participant": membership.participant,
            "handle": membership.handle,
            "role": session.role_in(membership, now).value,
            "text": text.text,
            "html": text.html,
            "ts": iso(now),
            **extra,
        }
    )
    msg_id, _ = await svc.broker.publish_message(
        room, head, tail, int(now * 1000), svc.limits, private_to
    )
    return msg_id
