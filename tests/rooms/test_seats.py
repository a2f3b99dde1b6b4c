"""Seats: who may come in, when a room is full, and where a full room points."""

from __future__ import annotations

from dataclasses import replace

from rooms.catalog import Room
from rooms.errors import ErrorCode
from rooms.ids import RoomId
from rooms.seats import MAX_ALTERNATIVES, Occupancy, alternatives, has_seat, room_full

BASE = Room(id=RoomId("grief-1"), name="Grief", category="Grief", description="d",
            rules=("kind",), capacity=4)  # fmt: skip


def room(room_id: str, **changes: object) -> Room:
    return replace(BASE, id=RoomId(room_id), **changes)  # type: ignore[arg-type]


def test_facilitators_take_no_seat_and_held_seats_count() -> None:
    # Six present, two of them facilitators, one seat held for a dropped connection: 5 of 6.
    here = Occupancy(members=6, facilitators=2, held=1)
    assert here.seated == 5
    assert not here.full(6) and here.full(5)
    assert Occupancy(0).seated == 0 and not Occupancy(0).full(1)


def test_a_seat_for_a_newcomer_only_while_one_is_free() -> None:
    assert has_seat(capacity=3, seated=2, holds_one=False)
    assert not has_seat(capacity=3, seated=3, holds_one=False)
    # Present already (another tab, a reconnect within the grace): keeps the seat, even when
    # the room is full or its capacity was lowered meanwhile.
    assert has_seat(capacity=3, seated=3, holds_one=True)
    assert has_seat(capacity=2, seated=5, holds_one=True)


def test_alternatives_share_category_and_language_and_have_space() -> None:
    rooms = [
        BASE,
        room("grief-2"),  # open, one seat left
        room("grief-3"),  # full
        room("grief-4"),  # locked
        room("grief-5", category="grief"),  # the same category in another case
        room("anxiety-1", category="Anxiety"),  # another category
        room("duelo", language="es"),  # another language
        room("grief-gb", language="en-GB"),  # the same primary language
        room("grief-new"),  # no live state known: not offered
    ]
    live = {
        RoomId("grief-1"): Occupancy(4),
        RoomId("grief-2"): Occupancy(4, facilitators=1),
        RoomId("grief-3"): Occupancy(3, held=1),
        RoomId("grief-4"): Occupancy(0, locked=True),
        RoomId("grief-5"): Occupancy(0),
        RoomId("anxiety-1"): Occupancy(0),
        RoomId("duelo"): Occupancy(0),
        RoomId("grief-gb"): Occupancy(1),
    }
    assert alternatives(BASE, rooms, live) == ["grief-2", "grief-5", "grief-gb"]


def test_alternatives_are_few() -> None:
    many = [room(f"grief-{i}") for i in range(2, 12)]
    live = {r.id: Occupancy(0) for r in many}
    found = alternatives(BASE, [BASE, *many], live)
    assert found == [r.id for r in many[:MAX_ALTERNATIVES]]


def test_room_full_names_the_alternatives() -> None:
    err = room_full([RoomId("grief-2")])
    assert err.code is ErrorCode.ROOM_FULL and err.message == "this room is full"
    assert err.extra == {"alternatives": ["grief-2"]}
