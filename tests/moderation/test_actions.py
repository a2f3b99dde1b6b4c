from typing import Any

import pytest

from moderation.actions.base import (
    AddItem,
    Announce,
    ListChange,
    PrivateNotice,
    Request,
    SetState,
    Target,
)
from moderation.actions.registry import ACTIONS
from moderation.actions.report import OPEN_REPORTS_PER_REPORTER
from moderation.roles import Role
from moderation.sanctions import RoomView
from rooms.errors import ChatError
from rooms.ids import ParticipantId, RoomId

MEMBER = Target(ParticipantId("m1"), Role.MEMBER, "Quiet Heron")
OTHER_FAC = Target(ParticipantId("f2"), Role.FACILITATOR, "Ana")
STRANGER = Target(ParticipantId("zz"), None)


def request(
    role: Role = Role.FACILITATOR, target: Target | None = MEMBER, **fields: Any
) -> Request:
    return Request(RoomId("r"), "Sam", role, 1_000_000, fields, target, None, (MEMBER.participant,),
                   fresh_id="c1", actor=ParticipantId("f1"))  # fmt: skip


def test_every_contract_action_is_registered_once() -> None:
    expected = {"mute", "unmute", "remove", "flag", "report", "delete", "slow", "lock", "unlock",
                "announce", "end_session", "resolve", "audit", "pause", "resume", "raise_hand",
                "lower_hand", "call_on", "private_open", "private_close"}  # fmt: skip
    assert set(ACTIONS) == expected
    assert all(a.min_role is Role.MEMBER for n, a in ACTIONS.items() if n in
               ("report", "raise_hand", "lower_hand"))  # fmt: skip


def test_mute_sets_an_expiring_sanction() -> None:
    outcome = ACTIONS["mute"].decide(request(minutes=10, reason="calm"), RoomView())
    (change,) = outcome.effects
    assert isinstance(change, SetState) and change.name == "mute:m1"
    assert change.value == {"until": 1_600_000, "reason": "calm", "by": "Sam"}
    assert change.ttl_ms == 600_000


@pytest.mark.parametrize("name", ["mute", "remove", "private_open"])
def test_never_on_an_equal_or_higher_role(name: str) -> None:
    with pytest.raises(ChatError) as err:
        ACTIONS[name].decide(request(target=OTHER_FAC, minutes=5), RoomView())
    assert err.value.code == "forbidden"


@pytest.mark.parametrize("name", ["mute", "unmute", "remove", "call_on"])
def test_unknown_participants_are_not_found(name: str) -> None:
    with pytest.raises(ChatError) as err:
        ACTIONS[name].decide(request(target=STRANGER, minutes=5), RoomView())
    assert err.value.code == "not_found"


def test_pause_locks_slows_and_speaks_calmly_and_resume_undoes() -> None:
    effects = ACTIONS["pause"].decide(request(target=None), RoomView()).effects
    names = [e.name for e in effects if isinstance(e, SetState)]
    assert names == ["lock", "slow", "pause"]
    assert any(isinstance(e, Announce) and "breath" in e.text for e in effects)
    undo = ACTIONS["resume"].decide(request(target=None), RoomView()).effects
    assert {e.name for e in undo if isinstance(e, SetState) and e.value is None} == {
        "lock", "slow", "pause"}  # fmt: skip


def test_hands() -> None:
    raised = ACTIONS["raise_hand"].decide(request(Role.MEMBER, target=None), RoomView())
    assert raised.effects == [ListChange("hands", "f1", add=True)] and not raised.audit
    with pytest.raises(ChatError):
        ACTIONS["lower_hand"].decide(request(Role.MEMBER, participant="m1"), RoomView())
    lowered = ACTIONS["lower_hand"].decide(request(participant="m1"), RoomView())
    assert lowered.effects == [ListChange("hands", "m1", add=False)]
    called = ACTIONS["call_on"].decide(request(participant="m1"), RoomView()).effects
    assert SetState("turn", "m1") in called


def test_private_conversations() -> None:
    opened = ACTIONS["private_open"].decide(request(participant="m1"), RoomView()).effects
    assert PrivateNotice("private_opened", "c1", MEMBER.participant) in opened
    view = RoomView()
    with pytest.raises(ChatError):
        ACTIONS["private_close"].decide(request(target=None, conversation="c1"), view)
    view.apply("conv:c1", {"participant": "m1", "by": "Sam"})
    closed = ACTIONS["private_close"].decide(request(target=None, conversation="c1"), view)
    assert PrivateNotice("private_closed", "c1", MEMBER.participant) in closed.effects


def test_a_report_is_added_once_per_target_under_the_reporters_cap() -> None:
    outcome = ACTIONS["report"].decide(
        request(Role.MEMBER, participant="m1", reason="unkind"), RoomView()
    )
    assert outcome.effects == [
        AddItem("report", ParticipantId("m1"), None, "unkind", OPEN_REPORTS_PER_REPORTER)
    ]
    assert not outcome.audit
    flagged = ACTIONS["flag"].decide(request(participant="m1", note="check in"), RoomView())
    assert flagged.effects == [AddItem("flag", ParticipantId("m1"), None, "check in")]  # no cap
