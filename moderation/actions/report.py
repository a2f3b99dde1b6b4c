"""`report`: any member tells the room's own facilitators about a message or participant.

Reports are bounded where they land: a reporter's second report of the same target while the
first is open merges into it (the reporter is answered with the open item's id, facilitators
are not told again), and a reporter has at most `OPEN_REPORTS_PER_REPORTER` open reports in a
room. The rate of reports is bounded per member in `server` (REPORT_BURST/REPORT_PER_MINUTE).
"""

from __future__ import annotations

from dataclasses import replace

from moderation.actions.base import ActionSpec, Field, Lookup, Outcome, Request
from moderation.actions.flag import queue_item
from moderation.roles import Role
from moderation.room_view import RoomView

__all__ = ["ACTION", "OPEN_REPORTS_PER_REPORTER"]

# Ten things one person is waiting on facilitators about in one room is already a lot; past
# that, more reports bury the others' (and the crisis alerts') in the queue.
OPEN_REPORTS_PER_REPORTER = 10


def decide(request: Request, view: RoomView) -> Outcome:
    # Reports are the members' voice, not a facilitator's act: no audit entry of their own.
    item = replace(queue_item(request, "report", "reason"), open_cap=OPEN_REPORTS_PER_REPORTER)
    return Outcome([item], audit=False)


ACTION = ActionSpec(
    "report",
    Role.MEMBER,
    (Field.REASON,),
    decide,
    (Field.PARTICIPANT, Field.MESSAGE_ID),
    one_of=(Field.PARTICIPANT, Field.MESSAGE_ID),
    lookups=(Lookup.TARGET, Lookup.AUTHOR),
)
