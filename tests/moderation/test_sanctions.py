import pytest

from moderation.roles import Role
from moderation.room_view import RoomView
from rooms.errors import ChatError
from rooms.ids import ParticipantId

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
