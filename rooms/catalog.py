"""The room catalogue: which rooms exist, what they are for, their ground rules and schedule.

The catalogue is data the operator edits (`rooms/starter_rooms.toml`, or the file named by
`ROOMS_FILE`); this module turns the parsed TOML into typed rooms and answers directory queries.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rooms.ids import RoomId, is_valid_room_id

__all__ = ["Catalog", "CatalogError", "Room", "WeeklySession", "parse_catalog"]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HH_MM = re.compile(r"\d\d:\d\d")


class CatalogError(ValueError):
    """The catalogue file is not valid; the message names the room and the field."""


@dataclass(frozen=True, slots=True)
class WeeklySession:
    """A weekly session: `weekday` 0 = Monday, local `start` time, `minutes` long, in `tz`."""

    weekday: int
    start: dt.time
    minutes: int
    tz: ZoneInfo

    def next_window(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """The session window (start, end) that is running at `now` or comes next after it."""
        local = now.astimezone(self.tz)
        days_ahead = (self.weekday - local.weekday()) % 7
        # Last week's window may still be running (a session past midnight); if not, this
        # week's, else next week's: it starts after today, so at most two steps are taken.
        day = local.date() + dt.timedelta(days=days_ahead - 7)
        start = dt.datetime.combine(day, self.start, tzinfo=self.tz)
        while start + dt.timedelta(minutes=self.minutes) <= now:
            start += dt.timedelta(days=7)  # wall-clock arithmetic: the same local time
        return start, start + dt.timedelta(minutes=self.minutes)


@dataclass(frozen=True, slots=True)
class Room:
    """One room of the catalogue. `rules_version` goes up whenever the rules change."""

    id: RoomId
    name: str
    category: str
    description: str
    rules: tuple[str, ...]
    rules_version: int = 1
    requires_facilitator: bool = False
    one_at_a_time: bool = False
    allow_contact_details: bool = False
    sessions: tuple[WeeklySession, ...] = field(default=())

    def next_session(self, now: dt.datetime) -> dt.datetime | None:
        """Start of the session running at `now` or the next one; None when unscheduled."""
        if not self.sessions:
            return None
        return min(s.next_window(now)[0] for s in self.sessions)

    def in_session(self, now: dt.datetime) -> bool:
        """True while one of the room's scheduled sessions is running."""
        return any(s.next_window(now)[0] <= now for s in self.sessions)

    def matches(self, words: Iterable[str], category: str | None) -> bool:
        """Directory filter: every word in the name or description, and the category if given."""
        if category is not None and category.casefold() != self.category.casefold():
            return False
        haystack = f"{self.name} {self.description}".casefold()
        return all(w.casefold() in haystack for w in words)


class Catalog:
    """The rooms in the order the operator listed them."""

    def __init__(self, rooms: Iterable[Room]) -> None:
        self._rooms: dict[RoomId, Room] = {}
        for room in rooms:
            if room.id in self._rooms:
                raise CatalogError(f"room {room.id!r}: listed twice")
            self._rooms[room.id] = room

    def __iter__(self) -> Any:
        return iter(self._rooms.values())

    def __len__(self) -> int:
        return len(self._rooms)

    def get(self, room_id: str) -> Room | None:
        """The room with that id, or None."""
        return self._rooms.get(RoomId(room_id))

    def search(self, q: str | None = None, category: str | None = None) -> list[Room]:
        """Rooms whose name/description hold every word of `q`, in `category` if given."""
        words = (q or "").split()
        return [r for r in self._rooms.values() if r.matches(words, category or None)]

    def categories(self) -> list[str]:
        """Distinct categories in catalogue order."""
        return list(dict.fromkeys(r.category for r in self._rooms.values()))


def _text(raw: Mapping[str, Any], key: str, where: str, limit: int = 2000) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise CatalogError(f"{where}: {key!r} must be non-empty text of at most {limit} chars")
    return value.strip()


def _flag(raw: Mapping[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise CatalogError(f"{where}: {key!r} must be true or false")
    return value


def _session(raw: Any, where: str, default_tz: str) -> WeeklySession:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: each session must be a table")
    # "Mon" or "Monday", any case; not anything that begins with "mon" ("Monkey").
    named = str(raw.get("day", "")).strip().lower()
    day = named[:3]
    if day not in _WEEKDAYS or named not in (day, _WEEKDAY_NAMES[_WEEKDAYS.index(day)]):
        raise CatalogError(f"{where}: session 'day' must be a weekday name")
    # Exactly HH:MM: seconds or an offset ("10:00+05:00") would be dropped or overruled by
    # the session's time zone without a word.
    start_text = str(raw.get("start", ""))
    try:
        if not _HH_MM.fullmatch(start_text):
            raise ValueError(start_text)
        start = dt.time.fromisoformat(start_text)
    except ValueError:
        raise CatalogError(f"{where}: session 'start' must be HH:MM") from None
    minutes = raw.get("minutes", 60)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 24 * 60:
        raise CatalogError(f"{where}: session 'minutes' must be 1 to 1440")
    tz_name = raw.get("timezone", default_tz)
    try:
        tz = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise CatalogError(f"{where}: unknown timezone {tz_name!r}") from None
    return WeeklySession(weekday=_WEEKDAYS.index(day), start=start, minutes=minutes, tz=tz)


def parse_catalog(data: Mapping[str, Any]) -> Catalog:
    """Build the catalogue from parsed TOML (`[defaults]` and a list of `[[rooms]]`).

    Raises `CatalogError` naming the room and field at the first problem found.
    """
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise CatalogError("'defaults' must be a table")
    common_rules = defaults.get("rules", [])
    default_tz = str(defaults.get("timezone", "UTC"))
    raw_rooms = data.get("rooms")
    if not isinstance(raw_rooms, list) or not raw_rooms:
        raise CatalogError("the catalogue needs at least one [[rooms]] entry")
    rooms = []
    for i, raw in enumerate(raw_rooms):
        if not isinstance(raw, Mapping):
            raise CatalogError(f"rooms[{i}]: must be a table")
        room_id = raw.get("id")
        if not isinstance(room_id, str) or not is_valid_room_id(room_id):
            raise CatalogError(f"rooms[{i}]: 'id' must be lowercase letters, digits and hyphens")
        where = f"room {room_id!r}"
        own_rules = raw.get("rules", [])
        # A string is not a list of rules (spread, it would become one rule per character).
        if not isinstance(common_rules, list) or not isinstance(own_rules, list):
            raise CatalogError(f"{where}: 'rules' must be a list of non-empty text")
        rules = [*common_rules, *own_rules]
        if not rules or not all(isinstance(r, str) and r.strip() for r in rules):
            raise CatalogError(f"{where}: 'rules' must be a list of non-empty text")
        version = raw.get("rules_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise CatalogError(f"{where}: 'rules_version' must be a positive whole number")
        sessions = raw.get("sessions", [])
        if not isinstance(sessions, list):
            raise CatalogError(f"{where}: 'sessions' must be a list")
        rooms.append(
            Room(
                id=RoomId(room_id),
                name=_text(raw, "name", where, 80),
                category=_text(raw, "category", where, 40),
                description=_text(raw, "description", where),
                rules=tuple(r.strip() for r in rules),
                rules_version=version,
                requires_facilitator=_flag(raw, "requires_facilitator", where),
                one_at_a_time=_flag(raw, "one_at_a_time", where),
                allow_contact_details=_flag(raw, "allow_contact_details", where),
                sessions=tuple(_session(s, where, default_tz) for s in sessions),
            )
        )
    return Catalog(rooms)
