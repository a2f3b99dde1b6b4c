"""The room reducer of the replay test (tests/room_model.py), frame by frame, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.room_model import ModelError, Participant, RoomModel, differences

ROOM = "anxiety"
ME = "5b8ee2acaf956c92"
OTHER = "07a25a1449a64640"
FAC = "2e4e288b5b752ec7"

Frame = dict[str, Any]


def message(id_: int, text: str = "hello", **extra: Any) -> Frame:
    return {
        "type": "message",
        "room": ROOM,
        "id": id_,
        "participant": OTHER,
        "handle": "Lucky Alpaca",
        "role": "member",
        "text": text,
        "html": text,
        "ts": "2026-11-25T22:50:21.126Z",
        **extra,
    }


def person(pid: str, handle: str, role: str = "member", listening: bool = False) -> Frame:
    return {"participant": pid, "handle": handle, "role": role, "listening": listening}


def joined(role: str = "member", history: list[Frame] | None = None) -> Frame:
    present = [person(OTHER, "Lucky Alpaca"), person(ME, "Serene Goat", role)]
    return {
        "type": "joined",
        "ref": "j1",
        "room": ROOM,
        "participant": ME,
        "handle": "Serene Goat",
        "role": role,
        "rules": ["be kind"],
        "rules_version": 1,
        "agreed": False,
        "description": "…",
        "members": 2,
        "participants": present,
        "epoch": "e1",
        "recovered": True,
        "history": history or [],
    }


def presence(event: str, pid: str, handle: str, members: int, **extra: Any) -> Frame:
    return {
        "type": "presence",
        "room": ROOM,
        "members": members,
        "event": event,
        **person(pid, handle),
        **extra,
    }


def room_state(**changes: Any) -> Frame:
    state = {
        "locked": False,
        "slow": 0,
        "paused": False,
        "waiting": False,
        "facilitator_present": False,
        "turn": None,
        "one_at_a_time": False,
        "rules_version": 1,
    }
    return {"type": "room_state", "room": ROOM, **state, **changes}


def item(id_: str, kind: str = "report") -> Frame:
    return {
        "kind": kind,
        "participant": OTHER,
        "message_id": 1,
        "note": "feels unsafe",
        "by": "Brave Seal",
        "at": "2026-11-25T22:50:24Z",
        "status": "open",
        "id": id_,
    }


def facilitator_model() -> RoomModel:
    model = RoomModel.from_joined(joined("facilitator"))
    model.apply({"type": "queue", "room": ROOM, "items": [item("q1")], "total": 1, "more": False})
    return model


def test_joined_gives_participants_members_history_and_epoch() -> None:
    model = RoomModel.from_joined(joined(history=[message(1), message(3)]))
    snap = model.snapshot()
    assert snap.epoch == "e1" and snap.members == 2
    assert snap.participants == {
        OTHER: Participant("Lucky Alpaca", "member", False),
        ME: Participant("Serene Goat", "member", False),
    }
    assert [m["id"] for m in snap.history] == [1, 3]
    assert snap.state is None and snap.hands is None and snap.queue is None


def test_a_model_starts_only_from_joined() -> None:
    with pytest.raises(ModelError, match="starts from joined"):
        RoomModel.from_joined(room_state())


def test_a_second_joined_for_the_room_is_refused() -> None:
    model = RoomModel.from_joined(joined())
    with pytest.raises(ModelError, match="second joined"):
        model.apply(joined())


def test_presence_adds_updates_and_removes_participants() -> None:
    model = RoomModel.from_joined(joined())
    model.apply(presence("join", FAC, "Sam", 3, role="facilitator"))
    assert model.snapshot().participants[FAC] == Participant("Sam", "facilitator", False)
    model.apply(presence("update", FAC, "Sam", 3, role="member", listening=True))
    assert model.snapshot().participants[FAC] == Participant("Sam", "member", True)
    model.apply(presence("leave", OTHER, "Lucky Alpaca", 2))
    snap = model.snapshot()
    assert set(snap.participants) == {ME, FAC} and snap.members == 2


def test_a_leave_of_someone_not_listed_only_sets_the_count() -> None:
    model = RoomModel.from_joined(joined())
    model.apply(presence("leave", "ffffffffffffffff", "Gone Owl", 2))
    assert set(model.snapshot().participants) == {ME, OTHER}


def test_an_unknown_presence_event_is_refused() -> None:
    model = RoomModel.from_joined(joined())
    with pytest.raises(ModelError, match="presence event"):
        model.apply(presence("wave", OTHER, "Lucky Alpaca", 2))


def test_messages_join_history_in_id_order_and_private_ones_do_not() -> None:
    model = RoomModel.from_joined(joined(history=[message(1)]))
    model.apply(message(4, "later", cw="medical"))
    model.apply(message(3, "in private", conversation="c85f2b9e462411fef"))
    model.apply(message(2, "notice", kind="announcement"))
    history = model.snapshot().history
    assert [m["id"] for m in history] == [1, 2, 4]
    assert history[2]["cw"] == "medical" and history[1]["kind"] == "announcement"


def test_a_message_delivered_twice_is_a_divergence() -> None:
    model = RoomModel.from_joined(joined(history=[message(1)]))
    with pytest.raises(ModelError, match="message 1 delivered twice"):
        model.apply(message(1))


def test_deleted_takes_a_message_out() -> None:
    model = RoomModel.from_joined(joined(history=[message(1), message(2)]))
    model.apply({"type": "deleted", "room": ROOM, "message_id": 1})
    model.apply({"type": "deleted", "room": ROOM, "message_id": 9})  # long gone: nothing
    assert [m["id"] for m in model.snapshot().history] == [2]


def test_end_of_session_clears_history_and_takes_the_new_epoch() -> None:
    model = RoomModel.from_joined(joined(history=[message(1)]))
    model.apply({"type": "session_ended", "room": ROOM})
    assert model.snapshot().history == ()
    model.apply(message(2))
    model.apply({"type": "room_reset", "room": ROOM, "epoch": "e2"})  # history lost
    snap = model.snapshot()
    assert snap.history == () and snap.epoch == "e2"


def test_room_state_and_hands_replace_what_was_known() -> None:
    model = RoomModel.from_joined(joined())
    model.apply(room_state(locked=True))
    model.apply(room_state(slow=30, turn=OTHER))
    model.apply({"type": "hands", "room": ROOM, "queue": [OTHER, ME]})
    snap = model.snapshot()
    assert snap.state is not None
    assert snap.state["locked"] is False and snap.state["slow"] == 30
    assert snap.state["turn"] == OTHER and "type" not in snap.state and "room" not in snap.state
    assert snap.hands == (OTHER, ME)


def test_a_facilitator_queue_grows_and_resolved_items_leave_it() -> None:
    model = facilitator_model()
    model.apply({"type": "queue_item", "room": ROOM, "item": item("q2", "flag")})
    model.apply({"type": "resolved", "room": ROOM, "item": "q1", "by": "Sam"})
    model.apply({"type": "resolved", "room": ROOM, "item": "q1", "by": "Sam"})  # again
    queue = model.snapshot().queue
    assert queue is not None and list(queue) == ["q2"] and queue["q2"]["kind"] == "flag"


def test_a_queue_page_that_leaves_items_out_is_refused() -> None:
    model = RoomModel.from_joined(joined("facilitator"))
    with pytest.raises(ModelError, match="leaves items out"):
        model.apply({"type": "queue", "room": ROOM, "items": [], "total": 60, "more": True})


@pytest.mark.parametrize("kind", ["queue_item", "resolved"])
def test_queue_changes_before_the_queue_are_refused(kind: str) -> None:
    model = RoomModel.from_joined(joined("facilitator"))
    with pytest.raises(ModelError, match=f"{kind} before the queue"):
        model.apply({"type": kind, "room": ROOM, "item": item("q1")})


@pytest.mark.parametrize("kind", ["queue", "queue_item", "resolved"])
def test_a_facilitator_frame_reaching_a_member_is_a_divergence(kind: str) -> None:
    model = RoomModel.from_joined(joined())
    with pytest.raises(ModelError, match="reached a member"):
        model.apply({"type": kind, "room": ROOM, "items": [], "item": item("q1")})


def test_facilitator_ended_makes_the_socket_a_member() -> None:
    model = facilitator_model()
    model.apply({"type": "facilitator_ended", "reason": "expired"})
    assert model.snapshot().queue is None
    with pytest.raises(ModelError, match="reached a member"):
        model.apply({"type": "queue_item", "room": ROOM, "item": item("q2")})


def test_private_conversations_open_and_close() -> None:
    model = facilitator_model()
    opened = {"type": "private_opened", "room": ROOM, "conversation": "c1", "participant": OTHER}
    model.apply(opened)
    model.apply({**opened, "conversation": "c2", "participant": None})
    model.apply(
        {"type": "private_closed", "room": ROOM, "conversation": "c1", "participant": OTHER}
    )
    model.apply({"type": "private_closed", "room": ROOM, "conversation": "c9"})  # unknown
    assert model.snapshot().conversations == {"c2": None}


def test_notices_to_this_socket_change_nothing() -> None:
    model = facilitator_model()
    before = model.snapshot()
    for frame in (
        {"type": "ack", "ref": "a", "room": ROOM},
        {"type": "error", "code": "muted", "message": "you are muted", "ref": None},
        {"type": "welcome", "ref": None, "member": "m", "token": "t", "role": "member"},
        {"type": "held", "ref": "c1", "room": ROOM, "reason": "contact_details", "kind": "phone"},
        {"type": "support", "room": ROOM, "resources": []},
        {"type": "muted", "room": ROOM, "until": "2026-11-25T23:00:25Z", "reason": ""},
        {"type": "unmuted", "room": ROOM, "reason": ""},
        {"type": "removed", "room": ROOM, "until": "2026-11-25T23:00:25Z", "reason": ""},
        {"type": "reported", "room": ROOM, "item": "q1"},
        {"type": "flagged", "room": ROOM, "item": "q1"},
        {"type": "alert", "room": ROOM, "item": "q1"},
        {"type": "audit_log", "ref": "au", "room": ROOM, "entries": []},
    ):
        model.apply(frame)
    assert model.snapshot() == before


def test_frames_of_other_rooms_are_skipped_but_unknown_types_are_not() -> None:
    model = RoomModel.from_joined(joined(history=[message(1)]))
    before = model.snapshot()
    model.apply_all([{**message(2), "room": "caregivers"}, {**room_state(), "room": "x"}])
    assert model.snapshot() == before
    with pytest.raises(ModelError, match="no rule for a typing frame"):
        model.apply({"type": "typing", "room": "caregivers"})


def test_snapshot_public_part_and_a_newcomer_taken_out() -> None:
    model = facilitator_model()
    model.apply(
        {"type": "private_opened", "room": ROOM, "conversation": "c1", "participant": OTHER}
    )
    snap = model.snapshot()
    public = snap.public()
    assert public.queue is None and public.conversations == {}
    assert public.participants == snap.participants
    alone = snap.without(OTHER)
    assert set(alone.participants) == {ME} and alone.members == 1
    with pytest.raises(ModelError, match="is not present"):
        alone.without(OTHER)


def test_events_after_a_join_equal_a_later_join() -> None:
    """The property the replay test checks against a server, here on hand-made frames."""
    watcher = RoomModel.from_joined(joined(history=[message(1)]))
    watcher.apply_all(
        [
            room_state(),
            {"type": "hands", "room": ROOM, "queue": []},
            presence("join", FAC, "Sam", 3, role="facilitator"),
            room_state(facilitator_present=True),
            message(2),
            {"type": "deleted", "room": ROOM, "message_id": 1},
            {"type": "hands", "room": ROOM, "queue": [OTHER]},
        ]
    )
    late_joined = {
        **joined(history=[message(2)]),
        "participant": "aaaaaaaaaaaaaaaa",
        "members": 4,
        "participants": [
            person(OTHER, "Lucky Alpaca"),
            person(ME, "Serene Goat"),
            person(FAC, "Sam", "facilitator"),
            person("aaaaaaaaaaaaaaaa", "New Hare"),
        ],
    }
    late = RoomModel.from_joined(late_joined)
    late.apply_all(
        [room_state(facilitator_present=True), {"type": "hands", "room": ROOM, "queue": [OTHER]}]
    )
    assert late.snapshot().without("aaaaaaaaaaaaaaaa") == watcher.snapshot()


def test_differences_name_each_field_and_each_id_that_differs() -> None:
    model = facilitator_model()
    want = model.snapshot()
    assert differences(want, want) == []
    model.apply(presence("update", OTHER, "Lucky Alpaca", 2, listening=True))
    model.apply({"type": "hands", "room": ROOM, "queue": [OTHER]})
    assert differences(model.snapshot(), want) == [
        f"participants[{OTHER}]: got Participant(handle='Lucky Alpaca', role='member', "
        "listening=True), want Participant(handle='Lucky Alpaca', role='member', "
        "listening=False)",
        f"hands: got ('{OTHER}',), want None",
    ]
