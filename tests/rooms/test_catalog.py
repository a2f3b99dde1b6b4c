import datetime as dt
import tomllib
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rooms.catalog import (
    DEFAULT_CAPACITY,
    CatalogError,
    edit_room,
    parse_catalog,
    parse_room,
    room_record,
)
from rooms.ids import RoomId

ROOM = {"id": "a", "name": "n", "category": "c", "description": "d", "rules": ["x"]}


def starter() -> dict[str, Any]:
    raw = resources.files("rooms").joinpath("starter_rooms.toml").read_text()
    return tomllib.loads(raw)


def test_starter_catalogue_covers_the_groups_people_look_for() -> None:
    catalog = parse_catalog(starter())
    categories = {c.casefold() for c in catalog.categories()}
    for kind in ("anxiety", "depression", "bipolar", "grief and loss", "addiction recovery",
                 "chronic illness", "caregivers", "general"):  # fmt: skip
        assert kind in categories
    for room in catalog.search(language="en"):
        text = " ".join(room.rules).casefold()
        assert "stays here" in text and "judgment" in text and "own experience" in text
        assert "advice" in text and "anonymous" in text and "not a crisis service" in text
        assert "988" in text
    assert any(r.requires_facilitator for r in catalog)
    assert any(r.one_at_a_time for r in catalog)


def test_search_by_words_and_category() -> None:
    catalog = parse_catalog(starter())
    assert [r.id for r in catalog.search("anxiety")] == ["anxiety"]
    assert [r.id for r in catalog.search("PANIC worry")] == ["anxiety"]
    assert [r.id for r in catalog.search(category="caregivers")] == ["caregivers"]
    assert catalog.search("nothing-matches-this") == []
    assert len(catalog.search()) == len(catalog)


def test_next_session_and_live_window() -> None:
    catalog = parse_catalog(
        {"rooms": [{"id": "r", "name": "R", "category": "C", "description": "d", "rules": ["x"],
                    "sessions": [{"day": "Wed", "start": "19:00", "minutes": 60,
                                  "timezone": "Europe/London"}]}]}
    )  # fmt: skip
    room = catalog.get("r")
    assert room is not None
    before = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)  # a Wednesday
    assert room.next_session(before) == dt.datetime(2026, 11, 25, 19, 0, tzinfo=dt.UTC)
    assert not room.in_session(before)
    during = dt.datetime(2026, 11, 25, 19, 30, tzinfo=dt.UTC)
    assert room.in_session(during)
    after = dt.datetime(2026, 11, 25, 20, 30, tzinfo=dt.UTC)
    assert room.next_session(after) == dt.datetime(2026, 12, 2, 19, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("rooms", "message"),
    [
        ([], "at least one"),
        ([{"id": "Bad Id"}], "'id'"),
        ([{"id": "a", "name": "", "category": "c", "description": "d", "rules": ["x"]}], "name"),
        ([{"id": "a", "name": "n", "category": "c", "description": "d"}], "rules"),
        ([{"id": "a", "name": "n", "category": "c", "description": "d", "rules": ["x"],
           "sessions": [{"day": "Funday", "start": "10:00"}]}], "weekday"),
        ([{"id": "a", "name": "n", "category": "c", "description": "d", "rules": ["x"],
           "sessions": [{"day": "Mon", "start": "10:00", "timezone": "Mars/Base"}]}], "timezone"),
        ([{"id": "a", "name": "n", "category": "c", "description": "d", "rules": ["x"],
           "requires_facilitator": "yes"}], "true or false"),
        ([{"id": "a", "name": "n", "category": "c", "description": "d", "rules": ["x"]}] * 2,
         "twice"),
        (["anxiety"], r"rooms\[0\]: must be a table"),
        ([{**ROOM, "rules": "be kind"}], "'rules' must be a list"),
        ([{**ROOM, "rules_version": 0}], "'rules_version' must be a positive"),
        ([{**ROOM, "rules_version": True}], "'rules_version' must be a positive"),
        ([{**ROOM, "rules_version": "2"}], "'rules_version' must be a positive"),
        ([{**ROOM, "sessions": {"day": "Mon"}}], "'sessions' must be a list"),
        ([{**ROOM, "sessions": ["Mon 10:00"]}], "each session must be a table"),
        ([{**ROOM, "sessions": [{"day": "Mon", "start": "ten"}]}], "'start' must be HH:MM"),
        ([{**ROOM, "sessions": [{"day": "Monkey", "start": "10:00"}]}], "weekday"),
        ([{**ROOM, "sessions": [{"day": "Mon", "start": "10"}]}], "'start' must be HH:MM"),
        ([{**ROOM, "sessions": [{"day": "Mon", "start": "10:00:00+05:00"}]}],
         "'start' must be HH:MM"),
        ([{**ROOM, "sessions": [{"day": "Mon", "start": "25:00"}]}], "'start' must be HH:MM"),
        ([{**ROOM, "sessions": [{"day": "Mon"}]}], "'start' must be HH:MM"),
        *(([{**ROOM, "sessions": [{"day": "Mon", "start": "10:00", "minutes": bad}]}],
           "'minutes' must be 1 to 1440") for bad in (0, 1441, True, "60", 1.5)),
    ],
)  # fmt: skip
def test_bad_catalogue_names_the_problem(rooms: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_catalog({"rooms": rooms})


@pytest.mark.parametrize("defaults", [[], "rules", 1])
def test_defaults_must_be_a_table(defaults: object) -> None:
    with pytest.raises(CatalogError, match="'defaults' must be a table"):
        parse_catalog({"defaults": defaults, "rooms": [ROOM]})


def test_common_rules_must_be_a_list() -> None:
    with pytest.raises(CatalogError, match="'rules' must be a list"):
        parse_catalog({"defaults": {"rules": "hi"}, "rooms": [ROOM]})


def test_defaults_give_every_room_the_common_rules_and_timezone() -> None:
    catalog = parse_catalog(
        {"defaults": {"rules": ["Be kind"], "timezone": "Asia/Kolkata"},
         "rooms": [{**ROOM, "rules": ["Stay on topic"],
                    "sessions": [{"day": "Mon", "start": "10:00"}]}]}
    )  # fmt: skip
    room = catalog.get("a")
    assert room is not None and room.rules == ("Be kind", "Stay on topic")
    (session,) = room.sessions
    assert session.tz.key == "Asia/Kolkata" and session.minutes == 60  # the default hour


def test_an_unscheduled_room_has_no_session() -> None:
    room = parse_catalog({"rooms": [ROOM]}).get("a")
    assert room is not None and room.sessions == ()
    now = dt.datetime(2026, 11, 25, 19, 0, tzinfo=dt.UTC)
    assert room.next_session(now) is None and not room.in_session(now)


def test_a_session_past_midnight_is_running_the_next_day() -> None:
    catalog = parse_catalog(
        {"rooms": [{**ROOM, "sessions": [{"day": "Mon", "start": "23:30", "minutes": 90,
                                          "timezone": "America/New_York"}]}]}
    )  # fmt: skip
    room = catalog.get("a")
    assert room is not None
    monday = dt.datetime(2026, 11, 23, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    tuesday_early = dt.datetime(2026, 11, 24, 5, 30, tzinfo=dt.UTC)  # 00:30 in New York
    assert room.in_session(tuesday_early)
    assert room.next_session(tuesday_early) == monday
    tuesday_later = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)  # 01:00: it has ended
    assert not room.in_session(tuesday_later)
    assert room.next_session(tuesday_later) == monday + dt.timedelta(days=7)


def test_the_earliest_of_several_sessions_comes_next() -> None:
    catalog = parse_catalog(
        {"rooms": [{**ROOM, "sessions": [{"day": "Fri", "start": "18:00"},
                                         {"day": "Tue", "start": "09:00"}]}]}
    )  # fmt: skip
    room = catalog.get("a")
    assert room is not None
    wednesday = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    assert room.next_session(wednesday) == dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)
    saturday = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    assert room.next_session(saturday) == dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def test_weekdays_by_short_or_full_name() -> None:
    for day in ("Mon", "monday", " MONDAY "):
        room = {**ROOM, "sessions": [{"day": day, "start": "09:30"}]}
        found = parse_catalog({"rooms": [room]}).get(RoomId("a"))
        assert found is not None
        (session,) = found.sessions
        assert (session.weekday, session.start.isoformat()) == (0, "09:30:00")


@pytest.mark.parametrize(
    ("room", "field"),
    [
        ({**ROOM, "language": "english"}, "language"),
        ({**ROOM, "language": "xx"}, "language"),
        ({**ROOM, "language": 7}, "language"),
        ({**ROOM, "capacity": 0}, "capacity"),
        ({**ROOM, "capacity": 101}, "capacity"),
        ({**ROOM, "capacity": True}, "capacity"),
        ({**ROOM, "rules": ["x" * 501]}, "rules"),
        ({**ROOM, "rules": ["x"] * 21}, "rules"),
        ({**ROOM, "sessions": [{"day": "Mon", "start": "10:00"}] * 15}, "sessions"),
        ({**ROOM, "sessions": [{"day": "Mon", "start": "10:00", "timezone": ""}]}, "sessions"),
        ({**ROOM, "sessions": [{"day": "Mon", "start": "10:00", "timezone": 3}]}, "sessions"),
        ({**ROOM, "id": "A"}, "id"),
    ],
)
def test_a_bad_room_names_the_field(room: dict[str, Any], field: str) -> None:
    with pytest.raises(CatalogError) as raised:
        parse_room(room, "new room")
    assert raised.value.field == field


def test_language_and_capacity_default_and_filter_the_directory() -> None:
    catalog = parse_catalog(
        {"rooms": [ROOM, {**ROOM, "id": "b", "language": "es-MX", "capacity": 6}]}
    )
    assert catalog.get("a") is not None and catalog.get("a").language == "en"  # type: ignore[union-attr]
    assert catalog.get("a").capacity == DEFAULT_CAPACITY  # type: ignore[union-attr]
    assert [r.id for r in catalog.search(language="ES")] == ["b"]
    assert [r.id for r in catalog.search(language="en-GB")] == ["a"]
    assert len(catalog.search(language=None)) == 2


def test_rooms_in_a_language_start_with_its_common_rules() -> None:
    catalog = parse_catalog(
        {
            "defaults": {"rules": ["be kind"], "rules_by_language": {"es": ["sé amable"]}},
            "rooms": [ROOM, {**ROOM, "id": "b", "language": "es"}],
        }
    )
    assert catalog.get("a").rules == ("be kind", "x")  # type: ignore[union-attr]
    assert catalog.get("b").rules == ("sé amable", "x")  # type: ignore[union-attr]
    with pytest.raises(CatalogError, match="rules_by_language"):
        parse_catalog({"defaults": {"rules_by_language": ["es"]}, "rooms": [ROOM]})


def test_the_starter_catalogue_has_spanish_rooms_with_spanish_rules() -> None:
    spanish = parse_catalog(starter()).search(language="es")
    assert len(spanish) >= 2
    assert all("Escucha sin juzgar" in " ".join(r.rules) for r in spanish)


def test_a_record_reads_back_into_the_same_room() -> None:
    for room in parse_catalog(starter()):
        assert parse_room(room_record(room), "stored") == room


def test_editing_rules_raises_the_version_and_nothing_else_does() -> None:
    room = parse_room({**ROOM, "sessions": [{"day": "Tue", "start": "19:00"}]}, "r")
    renamed = edit_room(room, {"name": "New name", "capacity": 8})
    assert (renamed.name, renamed.capacity, renamed.rules_version) == ("New name", 8, 1)
    assert renamed.sessions == room.sessions
    same_rules = edit_room(room, {"rules": ["x"]})
    assert same_rules.rules_version == 1
    new_rules = edit_room(renamed, {"rules": ["x", "y"]})
    assert (new_rules.rules, new_rules.rules_version, new_rules.name) == (("x", "y"), 2, "New name")
    for bad in ({"id": "other"}, {"rules_version": 5}, {"capacity": -1}):
        with pytest.raises(CatalogError):
            edit_room(room, bad)
    assert edit_room(room, {"id": "a"}) == room


def test_replace_swaps_the_rooms_in_place() -> None:
    catalog = parse_catalog({"rooms": [ROOM]})
    a = catalog.get("a")
    catalog.replace([parse_room({**ROOM, "id": "b"}, "b")])
    assert [r.id for r in catalog] == ["b"]
    assert catalog.get("a") is None and catalog.last_known("a") == a  # retired, still known
    assert catalog.last_known("b") == catalog.get("b") and catalog.last_known("c") is None
    catalog.replace([parse_room({**ROOM, "id": "b", "name": "renamed"}, "b")])  # b stays
    assert catalog.get("b").name == "renamed"  # type: ignore[union-attr]
    catalog.replace([parse_room(ROOM, "a")])  # back again: served, no longer retired
    assert catalog.last_known("a") == catalog.get("a") and catalog.last_known("b") is not None
    with pytest.raises(CatalogError, match="twice"):
        catalog.replace([parse_room(ROOM, "a")] * 2)
