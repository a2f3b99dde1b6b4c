"""A member's frames as pure actions: send, listen/talk, join, agree, leave."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from moderation.actions.base import (
    Agree,
    CrisisAlert,
    Hold,
    Leave,
    ListChange,
    Member,
    Publish,
    Request,
    SetListening,
    SetState,
    TakeSeat,
)
from moderation.actions.registry import ACTIONS
from moderation.crisis import CrisisDetector
from moderation.roles import Role
from moderation.room_view import RoomView
from moderation.sanctions import Sanction
from rooms.catalog import Room
from rooms.errors import ChatError
from rooms.ids import ParticipantId, RoomId
from rooms.text import prepare

ROOM = Room(id=RoomId("r"), name="R", category="c", description="d", rules=("kind",),
            rules_version=2)  # fmt: skip
ME = ParticipantId("p1")
AGREED = Member(ME, "Warm Yak", Role.MEMBER, 2, listening=False, last_sent_ms=None)
NOW = 1_000_000


def send(
    text: str = "hello",
    member: Member = AGREED,
    room: Room = ROOM,
    view: RoomView | None = None,
    **fields: Any,
) -> Any:
    request = Request(
        ROOM.id, member.handle, member.role, NOW, {"text": text, **fields},
        actor=member.participant, member=member, place=room, text_limit=100,
        crisis=CrisisDetector(),
    )  # fmt: skip
    return ACTIONS["send"].decide(request, view or RoomView())


def refused(**kw: Any) -> str:
    with pytest.raises(ChatError) as err:
        send(**kw)
    return err.value.code


def test_a_message_is_prepared_once_and_published() -> None:
    outcome = send("  hi <3  ")
    assert outcome.effects == [Publish(prepare("hi <3"), {})]
    assert outcome.then == [] and not outcome.audit and outcome.acks
    assert ACTIONS["send"].budget == "sends"


def test_the_room_needs_the_rules_agreed_and_its_checks_passed() -> None:
    assert refused(member=replace(AGREED, agreed_version=1)) == "rules_not_accepted"
    assert refused(member=replace(AGREED, listening=True)) == "listening"
    muted = RoomView(mutes={ME: Sanction(NOW + 60_000, "", "Sam")})
    assert refused(view=muted) == "muted"
    assert refused(room=replace(ROOM, requires_facilitator=True)) == "waiting"
    assert refused(room=replace(ROOM, one_at_a_time=True)) == "not_your_turn"
    assert refused(text="\u200b \u2800") == "bad_request"  # nothing visible
    assert refused(text="x" * 101) == "too_large"


def test_content_warnings() -> None:
    assert send(cw=" medical ").effects[0].extra == {"cw": "medical"}
    assert refused(cw="x" * 41) == "bad_request"
    assert refused(cw="x" * 200) == "bad_request"  # refused before any work on it


def test_the_guards_read_the_prepared_text() -> None:
    held = send("call me 555\u200b-123\u200b-4567")
    assert held.effects == [Hold("contact_details", "phone")] and not held.acks
    open_room = replace(ROOM, allow_contact_details=True)
    assert isinstance(send("call me 555-123-4567", room=open_room).effects[0], Publish)
    staff = replace(AGREED, role=Role.FACILITATOR)
    assert isinstance(send("call me 555-123-4567", member=staff).effects[0], Publish)
    crisis = send("some days I want to d\u200bie")
    assert isinstance(crisis.effects[0], Publish) and crisis.then == [CrisisAlert()]
    assert send("I want to die", member=staff).then == []  # a facilitator's words


def test_private_conversations() -> None:
    view = RoomView(conversations={"c1": {"participant": ME}})
    other = replace(AGREED, participant=ParticipantId("p2"), agreed_version=0)
    # its participant may answer before agreeing to the room's rules, and holds no guard
    answer = send("call me 555-123-4567", member=replace(AGREED, agreed_version=0), view=view,
                  conversation="c1")  # fmt: skip
    assert answer.effects == [Publish(prepare("call me 555-123-4567"), {"conversation": "c1"},
                                      private_to=ME)]  # fmt: skip
    assert refused(member=other, view=view, conversation="c1") == "not_found"
    assert refused(view=view, conversation="nope") == "not_found"
    staff = replace(other, role=Role.FACILITATOR)
    assert send(member=staff, view=view, conversation="c1").effects[0].private_to == ME


def listening(on: bool, member: Member = AGREED, view: RoomView | None = None) -> Any:
    request = Request(ROOM.id, "Warm Yak", Role.MEMBER, NOW, {}, member=member, place=ROOM)
    return ACTIONS["listen" if on else "talk"].decide(request, view or RoomView())


def test_listen_gives_up_the_turn_and_the_raised_hand() -> None:
    plain = listening(True)
    assert plain.effects == [SetListening(True)] and plain.ack == {"listening": True}
    speaking = RoomView(turn=ME, hands=[ME, "p2"])
    assert listening(True, view=speaking).effects == [
        SetListening(True), SetState("turn", None), ListChange("hands", ME, add=False)
    ]  # fmt: skip
    # already listening: nothing changes, and the answer says so
    again = listening(True, member=replace(AGREED, listening=True))
    assert again.effects == [] and again.ack == {"listening": True}
    assert listening(False, member=replace(AGREED, listening=True)).effects == [SetListening(False)]


def test_join_agree_and_leave() -> None:
    ask = Request(ROOM.id, "", Role.MEMBER, NOW, {}, actor=ME, place=ROOM)
    # A member needs one of the room's seats; a facilitator takes none.
    assert ACTIONS["join"].decide(ask, RoomView()).effects == [TakeSeat(15)]
    small = replace(ask, place=replace(ROOM, capacity=6))
    assert ACTIONS["join"].decide(small, RoomView()).effects == [TakeSeat(6)]
    banned = RoomView(bans={ME: Sanction(NOW + 1, "", "Sam")})
    with pytest.raises(ChatError) as err:
        ACTIONS["join"].decide(ask, banned)
    assert err.value.code == "banned"
    staff = replace(ask, role=Role.FACILITATOR)
    assert ACTIONS["join"].decide(staff, banned).effects == []
    agreed = ACTIONS["agree"].decide(ask, RoomView())
    assert agreed.effects == [Agree(2)] and agreed.ack == {"rules_version": 2}
    assert ACTIONS["leave"].decide(ask, RoomView()).effects == [Leave()]
