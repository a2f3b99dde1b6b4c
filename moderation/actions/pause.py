"""`pause` and `resume`: steady the room in one step (lock, slow mode, a calm statement) and
undo it. Resume lifts the lock and slow mode whatever set them: a paused room is a special
moment, and the facilitator can set either again at once if needed."""

from __future__ import annotations

from moderation.actions.base import ActionSpec, Lookup, Outcome, Publish, Request, SetState
from moderation.roles import Role
from moderation.room_view import LOCK_FIELD, PAUSE_FIELD, SLOW_FIELD, RoomView
from rooms.text import prepare

__all__ = ["CALM_STATEMENT", "PAUSE", "PAUSE_SLOW_SECONDS", "RESUME", "RESUME_STATEMENT"]

PAUSE_SLOW_SECONDS = 30
CALM_STATEMENT = (
    "Let's pause here for a moment. Everyone in this room matters, and we are taking a short "
    "break to keep this space safe. Take a slow breath. If you need help right now, the crisis "
    "lines are one tap away. A facilitator is here and we will continue shortly."
)
RESUME_STATEMENT = "Thank you for your patience. We are continuing now, gently."


def _announcement(text: str, request: Request) -> Publish:
    return Publish(prepare(text, request.text_limit), {"kind": "announcement"})


def _pause(request: Request, view: RoomView) -> Outcome:
    return Outcome(
        [
            SetState(LOCK_FIELD, {"by": request.by, "admitted": list(request.present)}),
            SetState(SLOW_FIELD, PAUSE_SLOW_SECONDS),
            SetState(PAUSE_FIELD, {"by": request.by}),
            _announcement(CALM_STATEMENT, request),
        ]
    )


def _resume(request: Request, view: RoomView) -> Outcome:
    return Outcome(
        [
            SetState(PAUSE_FIELD, None),
            SetState(SLOW_FIELD, None),
            SetState(LOCK_FIELD, None),
            _announcement(RESUME_STATEMENT, request),
        ]
    )


PAUSE = ActionSpec("pause", Role.FACILITATOR, (), _pause, lookups=(Lookup.PRESENT,))
RESUME = ActionSpec("resume", Role.FACILITATOR, (), _resume)
