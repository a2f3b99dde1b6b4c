"""Check-in and check-out: `mood` (any participant of the room) and `mood_summary` (a
facilitator asks for the current session's counts). The rules are in moderation/mood.py."""

from __future__ import annotations

from moderation.actions.base import ActionSpec, CountMood, Field, Outcome, Request, SendMoodSummary
from moderation.mood import check_answer
from moderation.roles import Role
from moderation.room_view import RoomView

__all__ = ["MOOD", "MOOD_SUMMARY"]


def _mood(request: Request, view: RoomView) -> Outcome:
    # Agreed or not, muted or not: answering is not posting. No audit entry: it would name
    # who answered.
    value, when = check_answer(request.fields.get("value"), request.fields.get("when"))
    return Outcome([CountMood(value, when, request.fields.get("epoch"))], audit=False)


def _summary(request: Request, view: RoomView) -> Outcome:
    return Outcome([SendMoodSummary()], audit=False, acks=False)


MOOD = ActionSpec("mood", Role.MEMBER, (Field.VALUE, Field.WHEN), _mood, optional=(Field.EPOCH,))
MOOD_SUMMARY = ActionSpec("mood_summary", Role.FACILITATOR, (), _summary)
