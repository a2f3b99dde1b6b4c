"""Seats: small groups stay small.

A room seats `capacity` members at once. Facilitators take no seat. A participant who is
present already (another tab, another process) holds theirs, and so does one whose connection
dropped, for a while (`held`): a reconnect never loses its place to a newcomer. The rule is
`has_seat`; the broker applies it in the same atomic step that enters presence (the Redis
script repeats it in Lua), so two processes admitting at once cannot both take the last seat.

A full room points elsewhere: `alternatives` are the rooms of the same category and language
that are open and have a seat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rooms.catalog import Room
from rooms.errors import ChatError, ErrorCode
from rooms.ids import RoomId
from rooms.languages import primary_language

__all__ = ["MAX_ALTERNATIVES", "Occupancy", "alternatives", "has_seat", "room_full"]

MAX_ALTERNATIVES = 5  # enough to choose from; a longer list is for the directory


@dataclass(frozen=True, slots=True)
class Occupancy:
    """A room's live state as the directory sees it: participants present (facilitators
    included, as presence counts them), facilitators among them, seats held for dropped
    connections, and the lock."""

    members: int
    facilitators: int = 0
    held: int = 0
    locked: bool = False

    @property
    def seated(self) -> int:
        """Seats taken: members present and seats held, never facilitators."""
        return self.members - self.facilitators + self.held

    def full(self, capacity: int) -> bool:
        """No seat left for a newcomer."""
        return self.seated >= capacity


def has_seat(capacity: int, seated: int, holds_one: bool) -> bool:
    """May a member come in? Yes if they hold a seat already (present, or held since their
    connection dropped), else if fewer than `capacity` seats are taken."""
    return holds_one or seated < capacity


def alternatives(
    room: Room, rooms: Iterable[Room], live: Mapping[RoomId, Occupancy]
) -> list[RoomId]:
    """Other rooms of `room`'s category and language (primary subtag) that are not locked and
    not full, in catalogue order, at most MAX_ALTERNATIVES. `rooms` are the rooms open now (an
    archived room is not in the catalogue); one missing from `live` is not offered."""
    language = primary_language(room.language)
    found: list[RoomId] = []
    for other in rooms:
        state = live.get(other.id)
        if (
            other.id != room.id
            and other.category.casefold() == room.category.casefold()
            and primary_language(other.language) == language
            and state is not None
            and not state.locked
            and not state.full(other.capacity)
        ):
            found.append(other.id)
            if len(found) == MAX_ALTERNATIVES:
                break
    return found


def room_full(found: list[RoomId]) -> ChatError:
    """The refusal of a join to a full room, naming where there is space."""
    return ChatError(ErrorCode.ROOM_FULL, "this room is full", alternatives=list(found))
