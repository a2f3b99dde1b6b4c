from dataclasses import replace
from typing import Any

import pytest

from moderation.actions.base import (
    AddItem,
    DeleteMessage,
    EndMoodSession,
    EndSession,
    Field,
    ListChange,
    Outcome,
    PrivateNotice,
    Publish,
    Request,
    ResolveItem,
    SendAudit,
    SetState,
    Target,
)
from moderation.actions.registry import ACTIONS, MODERATION, _build
from moderation.actions.report import OPEN_REPORTS_PER_REPORTER
from moderation.roles import Role
from moderation.room_view import RoomView
from rooms.errors import ChatError
from rooms.ids import ParticipantId, RoomId
from rooms.text import prepare

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
                "lower_hand", "call_on", "private_open", "private_close",
                "mood_summary"}  # fmt: skip
    members = {"send", "join", "agree", "leave", "listen", "talk", "mood"}
    assert set(ACTIONS) == expected | members
    assert expected == MODERATION
    assert all(ACTIONS[n].min_role is Role.MEMBER for n in members)
    assert all(a.min_role is Role.MEMBER for n, a in ACTIONS.items() if n in
               ("report", "raise_hand", "lower_hand"))  # fmt: skip
    assert ACTIONS["mood_summary"].min_role is Role.FACILITATOR


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
    assert any(
        isinstance(e, Publish) and "breath" in e.text.text and e.extra == {"kind": "announcement"}
        for e in effects
    )
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


def applied(view: RoomView, outcome: Outcome) -> RoomView:
    """The view after the outcome's state changes, as every process applies them."""
    for effect in outcome.effects:
        if isinstance(effect, SetState):
            view.apply(effect.name, effect.value)
    return view


def test_unmute_lifts_the_mute_before_it_expires() -> None:
    view = applied(RoomView(), ACTIONS["mute"].decide(request(minutes=10), RoomView()))
    assert view.mute_of(MEMBER.participant, 1_000_000) is not None
    outcome = ACTIONS["unmute"].decide(request(), view)
    assert outcome.effects == [SetState("mute:m1", None)] and outcome.audit
    assert applied(view, outcome).mute_of(MEMBER.participant, 1_000_000) is None


def test_delete_removes_a_stored_message_and_refuses_an_unknown_one() -> None:
    stored = replace(request(target=None, message_id=7), message_author=MEMBER.participant)
    outcome = ACTIONS["delete"].decide(stored, RoomView())
    assert outcome.effects == [DeleteMessage(7)] and outcome.audit
    with pytest.raises(ChatError) as err:
        ACTIONS["delete"].decide(request(target=None, message_id=8), RoomView())
    assert err.value.code == "not_found"


@pytest.mark.parametrize("name", ["flag", "report"])
def test_a_flag_or_report_of_a_message_names_its_author(name: str) -> None:
    note: dict[str, Any] = {"note" if name == "flag" else "reason": "n"}
    about = replace(request(target=None, message_id=7, **note), message_author=ParticipantId("m9"))
    (item,) = ACTIONS[name].decide(about, RoomView()).effects
    assert isinstance(item, AddItem)
    assert (item.kind, item.participant, item.message_id) == (name, "m9", 7)
    # A participant named as well is the one the item is about, whoever wrote the message.
    both = replace(about, fields={"participant": "m1", "message_id": 7, **note}, target=MEMBER)
    (item,) = ACTIONS[name].decide(both, RoomView()).effects
    assert isinstance(item, AddItem) and (item.participant, item.message_id) == ("m1", 7)
    with pytest.raises(ChatError) as err:
        ACTIONS[name].decide(request(target=None, message_id=8, **note), RoomView())
    assert err.value.code == "not_found"
    with pytest.raises(ChatError) as err:
        ACTIONS[name].decide(request(target=STRANGER, participant="zz", **note), RoomView())
    assert err.value.code == "not_found"


def test_slow_mode_is_set_and_zero_clears_it() -> None:
    slow = ACTIONS["slow"].decide(request(target=None, seconds=15), RoomView())
    assert slow.effects == [SetState("slow", 15)] and slow.ack == {"seconds": 15}
    view = applied(RoomView(), slow)
    assert view.slow == 15
    off = ACTIONS["slow"].decide(request(target=None, seconds=0), view)
    assert off.effects == [SetState("slow", None)] and off.ack == {"seconds": 0}
    assert applied(view, off).slow == 0


def test_lock_admits_those_present_and_unlock_opens_the_door() -> None:
    locked = ACTIONS["lock"].decide(request(target=None), RoomView())
    assert locked.effects == [SetState("lock", {"by": "Sam", "admitted": ["m1"]})]
    view = applied(RoomView(), locked)
    view.check_join(MEMBER.participant, Role.MEMBER, 0)  # present when it closed
    with pytest.raises(ChatError) as err:
        view.check_join(ParticipantId("newcomer"), Role.MEMBER, 0)
    assert err.value.code == "locked"
    unlocked = ACTIONS["unlock"].decide(request(target=None), view)
    assert unlocked.effects == [SetState("lock", None)]
    applied(view, unlocked).check_join(ParticipantId("newcomer"), Role.MEMBER, 0)
    assert not view.locked


def test_announce_resolve_and_audit() -> None:
    said = ACTIONS["announce"].decide(request(target=None, text="Welcome"), RoomView())
    assert said.effects == [Publish(prepare("Welcome"), {"kind": "announcement"})] and said.audit
    resolved = ACTIONS["resolve"].decide(request(target=None, item="q3"), RoomView())
    assert resolved.effects == [ResolveItem("q3")] and resolved.audit
    # Reading the audit log changes nothing and is not itself audited.
    read = ACTIONS["audit"].decide(request(target=None), RoomView())
    assert read.effects == [SendAudit()] and not read.audit and not read.acks


def test_a_new_session_starts_with_no_turn_and_no_hands() -> None:
    view = RoomView(hands=["m1", "m2"], turn="m2")
    outcome = ACTIONS["end_session"].decide(request(target=None), view)
    # The ending session's check-in counts go out before the session is reset.
    assert outcome.effects[:2] == [EndMoodSession(), EndSession()]
    applied(view, outcome)
    assert view.turn is None and view.hands == []


@pytest.mark.parametrize("fields", [{}, {"participant": "f1"}])
def test_a_member_lowers_their_own_hand(fields: dict[str, Any]) -> None:
    lowered = ACTIONS["lower_hand"].decide(request(Role.MEMBER, target=None, **fields),
                                           RoomView())  # fmt: skip
    assert lowered.effects == [ListChange("hands", "f1", add=False)] and not lowered.audit


def test_the_registry_refuses_a_malformed_table() -> None:
    assert _build(*ACTIONS.values()) == ACTIONS
    flag = ACTIONS["flag"]
    with pytest.raises(RuntimeError, match="'flag' is registered twice"):
        _build(flag, flag)
    with pytest.raises(RuntimeError, match="declares a field twice"):
        _build(replace(flag, required=(Field.NOTE, Field.PARTICIPANT)))
    with pytest.raises(RuntimeError, match="one_of fields must be optional"):
        _build(replace(flag, one_of=(Field.NOTE,)))
