"""Check-in and check-out ("How are you feeling right now?"): the rules, never the storage.

A member answers 1 to 5 at the start of a session and again at its end. Only counts are kept,
per room and session (one `epoch`); nothing ties an answer to the person who gave it. Counts are
shown (to the room's facilitators, and to coordinators) only where at least `THRESHOLD` people
answered that question: fewer, and the counts of a question are null as a whole, so that a
small group's answers cannot be read back to its members.

server/moods.py does the I/O: the one-way marker that keeps one answer per participant, question
and session, and the counts in the broker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rooms.errors import ChatError, ErrorCode

__all__ = [
    "LATE_END_MS",
    "THRESHOLD",
    "VALUES",
    "WHENS",
    "check_answer",
    "late_end_allowed",
    "outcome_entry",
    "shown",
    "summary_frame",
]

THRESHOLD = 5  # fewest answers to one question whose counts are shown
VALUES = 5  # answers are 1..VALUES; counts are listed with index 0 counting 1
WHENS = ("start", "end")
# A check-out given after `end_session` (the client asks when the session ends) still counts for
# the session that ended, for this long after it ended.
LATE_END_MS = 15 * 60_000


def check_answer(value: Any, when: Any) -> tuple[int, str]:
    """The answer as (value, when), or `bad_request`: `value` a whole number from 1 to 5,
    `when` "start" or "end"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= VALUES:
        raise ChatError(ErrorCode.BAD_REQUEST, f"value must be a whole number from 1 to {VALUES}")
    if when not in WHENS:
        raise ChatError(ErrorCode.BAD_REQUEST, "when must be start or end")
    return value, str(when)


def late_end_allowed(when: str, ended_ms: int | None, now_ms: int) -> bool:
    """Whether an answer naming a session other than the current one counts: only a
    check-out, and only within `LATE_END_MS` of that session's `end_session`."""
    return when == "end" and ended_ms is not None and 0 <= now_ms - ended_ms <= LATE_END_MS


def shown(counts: Sequence[int]) -> list[int] | None:
    """The counts of one question as they may be shown: null below `THRESHOLD` answers."""
    return list(counts) if sum(counts) >= THRESHOLD else None


def summary_frame(room: str, start: Sequence[int], end: Sequence[int]) -> dict[str, Any]:
    """The `mood_summary` frame for the room's facilitators."""
    return {"type": "mood_summary", "room": room, "start": shown(start), "end": shown(end)}


def outcome_entry(
    room: str, session: str, started: str, start: Sequence[int], end: Sequence[int]
) -> dict[str, Any] | None:
    """One session of `GET /api/admin/outcomes`; None for a session nobody answered in (it
    says nothing, and its listing would only tell when a room was used)."""
    if sum(start) + sum(end) == 0:
        return None
    return {"room": room, "session": session, "started": started, "start": shown(start),
            "end": shown(end)}  # fmt: skip
