import pytest

from moderation.roles import Role
from moderation.room_view import RoomView
from rooms.errors import ChatError
from rooms.ids import ParticipantId, RoomId

P = ParticipantId("p1")


def refused(view: RoomView, **kw: object) -> str:
    with pytest.raises(ChatError) as err:
        view.check_send(P, Role.MEMBER, 1_000_000, kw.pop("last", None), **kw)  # type: ignore[arg-type]
    return str(err.value.code)


def test_state_rebuilt_from_fields_equals_state_from_events() -> None:
    events = [
        ("mute:p1", {"until": 2_000_000, "reason": "r", "by": "Sam"}),
        ("lock", {"by": "Sam", "admitted": ["p1"]}),
        ("slow", 10),
        ("hands", ["p2", "p1"]),
        ("turn", "p2"),
        ("conv:c1", {"participant": "p1", "by": "Sam"}),
        ("ban:p3", {"until": 2_000_000, "reason": "", "by": "Sam"}),
        ("ban:p3", None),
    ]
    live = RoomView()
    stored: dict[str, str] = {}
    import json

    for name, value in events:
        live.apply(name, value)
        if value is None:
            stored.pop(name, None)
        else:
            stored[name] = json.dumps(value)
    assert RoomView.from_fields(stored) == live


def test_send_refusals_in_order() -> None:
    view = RoomView()
    view.apply("mute:p1", {"until": 2_000_000, "reason": "", "by": "x"})
    assert refused(view, listening=True) == "muted"
    view.apply("mute:p1", None)
    assert refused(view, listening=True) == "listening"
    assert refused(view, requires_facilitator=True) == "waiting"
    view.facilitators = 1
    assert refused(view, one_at_a_time=True) == "not_your_turn"
    view.apply("turn", "p1")
    view.check_send(P, Role.MEMBER, 1_000_000, None, one_at_a_time=True)
    view.apply("slow", 30)
    assert refused(view, last=990_000) == "slow_mode"
    view.check_send(P, Role.MEMBER, 1_000_000, 969_000)


def test_expired_sanctions_lapse_by_themselves() -> None:
    view = RoomView()
    view.apply("mute:p1", {"until": 1_000_000, "reason": "", "by": "x"})
    view.check_send(P, Role.MEMBER, 1_000_000, None)
    view.apply("ban:p1", {"until": 1_500_000, "reason": "", "by": "x"})
    with pytest.raises(ChatError) as err:
        view.check_join(P, Role.MEMBER, 1_000_000)
    assert err.value.extra["until"].endswith("Z")
    view.check_join(P, Role.MEMBER, 1_500_000)


def test_facilitators_are_never_refused() -> None:
    view = RoomView(locked=True, slow=60)
    view.apply("ban:p1", {"until": 2_000_000, "reason": "", "by": "x"})
    view.check_join(P, Role.FACILITATOR, 1_000_000)
    view.check_send(P, Role.FACILITATOR, 1_000_000, 999_999, requires_facilitator=True)


def test_lock_admits_who_was_present() -> None:
    view = RoomView()
    view.apply("lock", {"by": "Sam", "admitted": ["p1"]})
    view.check_join(P, Role.MEMBER, 0)
    with pytest.raises(ChatError):
        view.check_join(ParticipantId("newcomer"), Role.MEMBER, 0)


def test_unknown_fields_are_ignored() -> None:
    assert RoomView.from_fields({"colour": '"blue"', "mood:p1": "1"}) == RoomView()


def test_pause_and_a_closed_conversation() -> None:
    view = RoomView()
    view.apply("pause", {"by": "Sam"})
    paused = view.paused
    view.apply("pause", None)
    assert (paused, view.paused) == (True, False)
    view.apply("conv:c1", {"participant": "p1", "by": "Sam"})
    view.apply("conv:c2", {"participant": "p2", "by": "Sam"})
    view.apply("conv:c1", None)
    view.apply("conv:c1", None)  # idempotent
    assert view.conversations == {"c2": {"participant": "p2", "by": "Sam"}}


def test_public_state_is_what_room_state_carries() -> None:
    view = RoomView()
    view.apply("lock", {"by": "Sam", "admitted": []})
    view.apply("slow", 20)
    view.apply("pause", {"by": "Sam"})
    view.apply("turn", "p2")
    view.apply("mute:p1", {"until": 2_000_000, "reason": "private", "by": "Sam"})
    assert view.state(requires_facilitator=True) == {
        "locked": True, "slow": 20, "paused": True, "waiting": True,
        "facilitator_present": False, "turn": "p2",
    }  # fmt: skip
    view.facilitators = 2
    state = view.state(requires_facilitator=True)
    assert not state["waiting"] and state["facilitator_present"]
    view.facilitators = 0
    assert not view.state(requires_facilitator=False)["waiting"]  # no facilitator needed


def test_field_names_round_trip() -> None:
    from moderation.room_view import (
        BAN,
        CONV,
        MUTE,
        ban_field,
        conv_field,
        mute_field,
        parse_field,
    )

    assert parse_field(mute_field("p1")) == (MUTE, "p1")
    assert parse_field(ban_field("p1")) == (BAN, "p1")
    assert parse_field(conv_field("c9")) == (CONV, "c9")
    assert parse_field("lock") == ("lock", "")


def test_a_field_that_is_not_json_does_not_keep_the_room_from_loading() -> None:
    view = RoomView.from_fields({"lock": "{broken", "slow": "5"})
    assert view.slow == 5 and not view.locked


def test_room_state_of_a_room() -> None:
    from moderation.room_view import room_state
    from rooms.catalog import Room

    room = Room(id=RoomId("depression"), name="D", category="c", description="d",
                rules=("be kind",), rules_version=3, requires_facilitator=True)  # fmt: skip
    view = RoomView(slow=10, turn="p2")
    assert room_state(room, view) == {
        "type": "room_state", "room": "depression", "locked": False, "slow": 10,
        "paused": False, "waiting": True, "facilitator_present": False, "turn": "p2",
        "one_at_a_time": False, "rules_version": 3,
    }  # fmt: skip


def test_what_a_change_means_to_the_rooms_sockets() -> None:
    from moderation.room_view import (
        Evict,
        StateChanged,
        ToParticipant,
        ToRoom,
        notices_for,
    )

    view = RoomView()
    sanction = {"until": 1_764_500_000_000, "reason": "spam", "by": "Sam"}
    muted = notices_for("r", view, "mute:p1", sanction)
    assert muted == [
        ToParticipant(
            "p1", {"type": "muted", "room": "r", "until": "2025-11-30T10:53:20Z", "reason": "spam"}
        )
    ]
    assert notices_for("r", view, "mute:p1", None) == [
        ToParticipant("p1", {"type": "unmuted", "room": "r", "reason": ""})
    ]
    removed = notices_for("r", view, "ban:p2", sanction)
    assert removed[1] == Evict("p2") and isinstance(removed[0], ToParticipant)
    assert removed[0].frame["type"] == "removed" and removed[0].participant == "p2"
    assert notices_for("r", view, "ban:p2", None) == []  # a lifted ban tells nobody
    view.apply("hands", ["p3", "p1"])
    assert notices_for("r", view, "hands", ["p3", "p1"]) == [
        ToRoom({"type": "hands", "room": "r", "queue": ["p3", "p1"]})
    ]
    assert notices_for("r", view, "conv:c1", {"participant": "p1"}) == []
    for name in ("lock", "slow", "pause", "turn"):
        assert notices_for("r", view, name, None) == [StateChanged()]
