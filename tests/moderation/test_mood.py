"""Check-in and check-out rules (moderation/mood.py) and their actions (`mood`,
`mood_summary`): pure, no server."""

from __future__ import annotations

from typing import Any

import pytest

from moderation.actions.base import CountMood, Request, SendMoodSummary
from moderation.actions.registry import ACTIONS
from moderation.mood import (
    LATE_END_MS,
    THRESHOLD,
    check_answer,
    late_end_allowed,
    outcome_entry,
    shown,
    summary_frame,
)
from moderation.roles import Role
from moderation.room_view import RoomView
from rooms.errors import ChatError
from rooms.ids import ParticipantId, RoomId


def request(role: Role = Role.MEMBER, **fields: Any) -> Request:
    return Request(RoomId("r"), "Quiet Heron", role, 1_000_000, fields,
                   actor=ParticipantId("m1"))  # fmt: skip


@pytest.mark.parametrize(("value", "when"), [(1, "start"), (5, "end"), (3.0, "start")])
def test_an_answer_is_a_value_from_one_to_five_at_start_or_end(value: Any, when: str) -> None:
    assert check_answer(value, when) == (int(value), when)


@pytest.mark.parametrize(
    ("value", "when"),
    [(0, "start"), (6, "end"), (-1, "start"), (2.5, "start"), (True, "start"), ("3", "start"),
     (None, "start"), ([3], "end"), (3, "middle"), (3, None), (3, "START"), (3, 1)],
)  # fmt: skip
def test_anything_else_is_a_bad_request(value: Any, when: Any) -> None:
    with pytest.raises(ChatError) as err:
        check_answer(value, when)
    assert err.value.code == "bad_request"
    # A fixed message: what was sent is never echoed.
    assert err.value.message in ("value must be a whole number from 1 to 5",
                                 "when must be start or end")  # fmt: skip


def test_the_mood_action_counts_once_and_names_nobody() -> None:
    outcome = ACTIONS["mood"].decide(request(value=4, when="end"), RoomView())
    assert outcome.effects == [CountMood(4, "end", None)]
    assert not outcome.audit  # an audit entry would name who answered
    assert outcome.acks and outcome.ack == {}  # the value is not echoed
    late = ACTIONS["mood"].decide(request(value=2, when="end", epoch="e1"), RoomView())
    assert late.effects == [CountMood(2, "end", "e1")]
    with pytest.raises(ChatError) as err:
        ACTIONS["mood"].decide(request(value=9, when="end"), RoomView())
    assert err.value.code == "bad_request"


def test_the_summary_request_answers_the_facilitator_only() -> None:
    outcome = ACTIONS["mood_summary"].decide(request(Role.FACILITATOR), RoomView())
    assert outcome.effects == [SendMoodSummary()]
    assert not outcome.audit and not outcome.acks  # the summary frame is the answer


def test_counts_are_shown_from_five_answers() -> None:
    assert THRESHOLD == 5
    assert shown([1, 1, 1, 1, 0]) is None
    assert shown([0, 0, 0, 0, 0]) is None
    assert shown([1, 1, 2, 0, 1]) == [1, 1, 2, 0, 1]
    frame = summary_frame("r", [0, 4, 0, 0, 0], [0, 0, 5, 0, 0])
    assert frame == {"type": "mood_summary", "room": "r", "start": None, "end": [0, 0, 5, 0, 0]}


def test_a_late_check_out_counts_only_just_after_end_session() -> None:
    ended = 1_000_000
    assert late_end_allowed("end", ended, ended)
    assert late_end_allowed("end", ended, ended + LATE_END_MS)
    assert not late_end_allowed("end", ended, ended + LATE_END_MS + 1)
    assert not late_end_allowed("end", ended, ended - 1)
    assert not late_end_allowed("end", None, ended)  # never ended: not a late check-out
    assert not late_end_allowed("start", ended, ended)  # a check-in after the end is not one


def test_an_outcome_entry_lists_a_session_someone_answered_in() -> None:
    assert outcome_entry("r", "e1", "2026-01-05T19:00:00Z", (0,) * 5, (0,) * 5) is None
    entry = outcome_entry("r", "e1", "2026-01-05T19:00:00Z", (1, 0, 0, 0, 0), (1, 1, 1, 1, 1))
    assert entry == {"room": "r", "session": "e1", "started": "2026-01-05T19:00:00Z",
                     "start": None, "end": [1, 1, 1, 1, 1]}  # fmt: skip
