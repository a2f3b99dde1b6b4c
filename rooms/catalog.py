"""The room catalogue: which rooms exist, what they are for, their ground rules and schedule.

The rooms file (`rooms/starter_rooms.toml`, or the file named by `ROOMS_FILE`) seeds the
catalogue; coordinators then edit rooms live through the admin API. This module turns parsed TOML,
or an admin request, or a stored record, into typed rooms (`parse_room`, one set of checks for
all three), turns a room back into a record (`room_record`), and answers directory queries.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rooms.ids import RoomId, is_valid_room_id
from rooms.languages import is_known_language, primary_language

__all__ = [
    "DEFAULT_CAPACITY",
    "MAX_CAPACITY",
    "MAX_RULES",
    "MAX_SESSIONS",
    "Catalog",
    "CatalogError",
    "Room",
    "WeeklySession",
    "edit_room",
    "parse_catalog",
    "parse_room",
    "room_record",
]

# Peer groups work when everyone can be heard: fifteen is the default, a large meeting the top.
DEFAULT_CAPACITY = 15
MAX_CAPACITY = 100
MAX_RULES = 20
MAX_RULE_CHARS = 500
MAX_SESSIONS = 14

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HH_MM = re.compile(r"\d\d:\d\d")


class CatalogError(ValueError):
    """A room definition is not valid; the message names the room and the field (never the
    value), `field` names the field alone."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


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
    language: str = "en"
    capacity: int = DEFAULT_CAPACITY

    def next_session(self, now: dt.datetime) -> dt.datetime | None:
        """Start of the session running at `now` or the next one; None when unscheduled."""
        if not self.sessions:
            return None
        return min(s.next_window(now)[0] for s in self.sessions)

    def in_session(self, now: dt.datetime) -> bool:
        """True while one of the room's scheduled sessions is running."""
        return any(s.next_window(now)[0] <= now for s in self.sessions)

    def matches(
        self, words: Iterable[str], category: str | None, language: str | None = None
    ) -> bool:
        """Directory filter: every word in the name or description, the category if given, and
        the language if given (its primary subtag: `en` finds `en-GB` rooms too)."""
        if category is not None and category.casefold() != self.category.casefold():
            return False
        if language is not None and primary_language(language) != primary_language(self.language):
            return False
        haystack = f"{self.name} {self.description}".casefold()
        return all(w.casefold() in haystack for w in words)


class Catalog:
    """The rooms in the order the operator listed them. One object for the life of a process:
    `replace` swaps the rooms in place when coordinators change them, so every holder sees
    the change."""

    def __init__(self, rooms: Iterable[Room]) -> None:
        self._rooms: dict[RoomId, Room] = self._checked(rooms)
        self._retired: dict[RoomId, Room] = {}  # rooms `replace` took away, as they were

    @staticmethod
    def _checked(rooms: Iterable[Room]) -> dict[RoomId, Room]:
        checked: dict[RoomId, Room] = {}
        for room in rooms:
            if room.id in checked:
                raise CatalogError(f"room {room.id!r}: listed twice", "id")
            checked[room.id] = room
        return checked

    def replace(self, rooms: Iterable[Room]) -> None:
        """Serve `rooms` from now on, in their order. A room left out is retired: `get` no
        longer finds it, `last_known` still does (for those still leaving it)."""
        new = self._checked(rooms)
        for room_id, room in self._rooms.items():
            if room_id not in new:
                self._retired[room_id] = room
        for room_id in new:
            self._retired.pop(room_id, None)
        self._rooms = new

    def last_known(self, room_id: str) -> Room | None:
        """The room served now, or as it was when retired; None when never served."""
        key = RoomId(room_id)
        return self._rooms.get(key) or self._retired.get(key)

    def __iter__(self) -> Any:
        return iter(self._rooms.values())

    def __len__(self) -> int:
        return len(self._rooms)

    def get(self, room_id: str) -> Room | None:
        """The room with that id, or None."""
        return self._rooms.get(RoomId(room_id))

    def search(
        self, q: str | None = None, category: str | None = None, language: str | None = None
    ) -> list[Room]:
        """Rooms whose name/description hold every word of `q`, in `category` and `language`
        if given."""
        words = (q or "").split()
        return [
            r for r in self._rooms.values() if r.matches(words, category or None, language or None)
        ]

    def categories(self) -> list[str]:
        """Distinct categories in catalogue order."""
        return list(dict.fromkeys(r.category for r in self._rooms.values()))


def _text(raw: Mapping[str, Any], key: str, where: str, limit: int = 2000) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise CatalogError(f"{where}: {key!r} must be non-empty text of at most {limit} chars", key)
    return value.strip()


def _flag(raw: Mapping[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise CatalogError(f"{where}: {key!r} must be true or false", key)
    return value


def _whole(raw: Mapping[str, Any], key: str, where: str, default: int, top: int) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
        raise CatalogError(f"{where}: {key!r} must be a whole number from 1 to {top}", key)
    return value


def _session(raw: Any, where: str, default_tz: str) -> WeeklySession:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: each session must be a table", "sessions")
    # "Mon" or "Monday", any case; not anything that begins with "mon" ("Monkey").
    named = str(raw.get("day", "")).strip().lower()
    day = named[:3]
    if day not in _WEEKDAYS or named not in (day, _WEEKDAY_NAMES[_WEEKDAYS.index(day)]):
        raise CatalogError(f"{where}: session 'day' must be a weekday name", "sessions")
    # Exactly HH:MM: seconds or an offset ("10:00+05:00") would be dropped or overruled by
    # the session's time zone without a word.
    start_text = str(raw.get("start", ""))
    try:
        if not _HH_MM.fullmatch(start_text):
            raise ValueError(start_text)
        start = dt.time.fromisoformat(start_text)
    except ValueError:
        raise CatalogError(f"{where}: session 'start' must be HH:MM", "sessions") from None
    minutes = raw.get("minutes", 60)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 24 * 60:
        raise CatalogError(f"{where}: session 'minutes' must be 1 to 1440", "sessions")
    tz_name = raw.get("timezone", default_tz)
    try:
        if not isinstance(tz_name, str) or not tz_name or len(tz_name) > 64:
            raise ValueError(tz_name)
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CatalogError(
            f"{where}: session 'timezone' is not a known time zone", "sessions"
        ) from None
    return WeeklySession(weekday=_WEEKDAYS.index(day), start=start, minutes=minutes, tz=tz)


def _rules(raw: Any, where: str) -> list[str]:
    # A string is not a list of rules (spread, it would become one rule per character).
    if not isinstance(raw, list) or not all(
        isinstance(r, str) and r.strip() and len(r) <= MAX_RULE_CHARS for r in raw
    ):
        raise CatalogError(
            f"{where}: 'rules' must be a list of non-empty text of at most {MAX_RULE_CHARS} chars",
            "rules",
        )
    return [r.strip() for r in raw]


def parse_room(
    raw: Any,
    where: str,
    common_rules: Mapping[str, list[str]] | None = None,
    default_tz: str = "UTC",
) -> Room:
    """One room from a table (the rooms file), a JSON object (the admin API) or a stored record.

    `common_rules` maps a primary language subtag to the rules every room in that language
    starts with (`""`: any other language); they come first, the room's own after. Raises
    `CatalogError` naming the room and the field at the first problem found.
    """
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: must be a table")
    room_id = raw.get("id")
    if not isinstance(room_id, str) or not is_valid_room_id(room_id):
        raise CatalogError(f"{where}: 'id' must be lowercase letters, digits and hyphens", "id")
    where = f"room {room_id!r}"
    language = raw.get("language", "en")
    if not isinstance(language, str) or not is_known_language(language):
        raise CatalogError(f"{where}: 'language' must be a known BCP 47 language tag", "language")
    common = dict(common_rules or {})
    rules = [*common.get(primary_language(language), common.get("", [])),
             *_rules(raw.get("rules", []), where)]  # fmt: skip
    if not rules or len(rules) > MAX_RULES:
        raise CatalogError(f"{where}: 'rules' must hold 1 to {MAX_RULES} rules", "rules")
    version = raw.get("rules_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CatalogError(
            f"{where}: 'rules_version' must be a positive whole number", "rules_version"
        )
    sessions = raw.get("sessions", [])
    if not isinstance(sessions, list) or len(sessions) > MAX_SESSIONS:
        raise CatalogError(
            f"{where}: 'sessions' must be a list of at most {MAX_SESSIONS}", "sessions"
        )
    return Room(
        id=RoomId(room_id),
        name=_text(raw, "name", where, 80),
        category=_text(raw, "category", where, 40),
        description=_text(raw, "description", where),
        rules=tuple(rules),
        rules_version=version,
        requires_facilitator=_flag(raw, "requires_facilitator", where),
        one_at_a_time=_flag(raw, "one_at_a_time", where),
        allow_contact_details=_flag(raw, "allow_contact_details", where),
        sessions=tuple(_session(s, where, default_tz) for s in sessions),
        language=language,
        capacity=_whole(raw, "capacity", where, DEFAULT_CAPACITY, MAX_CAPACITY),
    )


def room_record(room: Room) -> dict[str, Any]:
    """The room as plain JSON data that `parse_room` reads back into an equal room."""
    return {
        "id": room.id,
        "name": room.name,
        "category": room.category,
        "description": room.description,
        "rules": list(room.rules),
        "rules_version": room.rules_version,
        "requires_facilitator": room.requires_facilitator,
        "one_at_a_time": room.one_at_a_time,
        "allow_contact_details": room.allow_contact_details,
        "sessions": [
            {
                "day": _WEEKDAYS[s.weekday].capitalize(),
                "start": s.start.strftime("%H:%M"),
                "minutes": s.minutes,
                "timezone": s.tz.key,
            }
            for s in room.sessions
        ],
        "language": room.language,
        "capacity": room.capacity,
    }


def edit_room(room: Room, changes: Mapping[str, Any]) -> Room:
    """`room` with the fields `changes` names replaced (never its id, never its rules version
    directly): new rules raise `rules_version` by one, so members agree again."""
    if "id" in changes and changes["id"] != room.id:
        raise CatalogError(f"room {room.id!r}: 'id' cannot change", "id")
    if "rules_version" in changes:
        raise CatalogError(f"room {room.id!r}: 'rules_version' follows the rules", "rules_version")
    merged = {**room_record(room), **changes}
    edited = parse_room(merged, f"room {room.id!r}")
    if edited.rules != room.rules:
        edited = replace(edited, rules_version=room.rules_version + 1)
    return edited


def parse_catalog(data: Mapping[str, Any]) -> Catalog:
    """Build the catalogue from parsed TOML (`[defaults]` and a list of `[[rooms]]`).

    `[defaults]` may hold `timezone`, `rules` (common to every room) and `rules_by_language`
    (a table: primary language subtag → the common rules for rooms in that language, instead
    of `rules`). Raises `CatalogError` naming the room and field at the first problem found.
    """
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise CatalogError("'defaults' must be a table")
    default_tz = str(defaults.get("timezone", "UTC"))
    common = {"": _rules(defaults.get("rules", []), "defaults")}
    by_language = defaults.get("rules_by_language", {})
    if not isinstance(by_language, Mapping):
        raise CatalogError("'defaults.rules_by_language' must be a table")
    for language, rules in by_language.items():
        common[primary_language(str(language))] = _rules(rules, f"defaults ({language})")
    raw_rooms = data.get("rooms")
    if not isinstance(raw_rooms, list) or not raw_rooms:
        raise CatalogError("the catalogue needs at least one [[rooms]] entry")
    return Catalog(
        parse_room(raw, f"rooms[{i}]", common, default_tz) for i, raw in enumerate(raw_rooms)
    )
