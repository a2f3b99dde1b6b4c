"""Room-wide controls: `slow`, `lock`, `unlock`, `announce`, `end_session`, `resolve`, `audit`."""

from __future__ import annotations

from moderation.actions.base import (
    ActionSpec,
    EndMoodSession,
    EndSession,
    Field,
    Lookup,
    Outcome,
    Publish,
    Request,
    ResolveItem,
    SendAudit,
    SetState,
)
from moderation.roles import Role
from moderation.room_view import HANDS_FIELD, LOCK_FIELD, SLOW_FIELD, TURN_FIELD, RoomView
from rooms.text import prepare

__all__ = ["ANNOUNCE", "AUDIT", "END_SESSION", "LOCK", "RESOLVE", "SLOW", "UNLOCK"]


def _slow(request: Request, view: RoomView) -> Outcome:
    seconds = request.fields["seconds"]
    return Outcome(
        [SetState(SLOW_FIELD, seconds or None)],
        ack={"seconds": seconds},
        audit_reason=f"{seconds} s",
    )


def _lock(request: Request, view: RoomView) -> Outcome:
    # Those present when the door closes may come back after a dropped connection.
    return Outcome([SetState(LOCK_FIELD, {"by": request.by, "admitted": list(request.present)})])


def _unlock(request: Request, view: RoomView) -> Outcome:
    return Outcome([SetState(LOCK_FIELD, None)])


def _announce(request: Request, view: RoomView) -> Outcome:
    text = prepare(request.fields["text"], request.text_limit)
    return Outcome([Publish(text, {"kind": "announcement"})])


def _end_session(request: Request, view: RoomView) -> Outcome:
    # The ending session's check-in counts go to its facilitators first. A new session starts
    # with nobody holding the turn and no hands up.
    return Outcome(
        [EndMoodSession(), EndSession(), SetState(TURN_FIELD, None), SetState(HANDS_FIELD, None)]
    )


def _resolve(request: Request, view: RoomView) -> Outcome:
    return Outcome([ResolveItem(request.fields["item"])])


def _audit(request: Request, view: RoomView) -> Outcome:
    return Outcome([SendAudit()], audit=False, acks=False)


SLOW = ActionSpec("slow", Role.FACILITATOR, (Field.SECONDS,), _slow)
LOCK = ActionSpec("lock", Role.FACILITATOR, (), _lock, lookups=(Lookup.PRESENT,))
UNLOCK = ActionSpec("unlock", Role.FACILITATOR, (), _unlock)
ANNOUNCE = ActionSpec("announce", Role.FACILITATOR, (Field.TEXT,), _announce)
END_SESSION = ActionSpec("end_session", Role.FACILITATOR, (), _end_session)
RESOLVE = ActionSpec("resolve", Role.FACILITATOR, (Field.ITEM,), _resolve)
AUDIT = ActionSpec("audit", Role.FACILITATOR, (), _audit)
