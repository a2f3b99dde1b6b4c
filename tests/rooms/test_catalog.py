import datetime as dt
import tomllib
from importlib import resources
from typing import Any

import pytest

from rooms.catalog import CatalogError, parse_catalog


def starter() -> dict[str, Any]:
    raw = resources.files("rooms").joinpath("starter_rooms.toml").read_text()
    return tomllib.loads(raw)


def test_starter_catalogue_covers_the_groups_people_look_for() -> None:
    catalog = parse_catalog(starter())
    categories = {c.casefold() for c in catalog.categories()}
    for kind in ("anxiety", "depression", "bipolar", "grief and loss", "addiction recovery",
                 "chronic illness", "caregivers", "general"):  # fmt: skip
        assert kind in categories
    for room in catalog:
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
    ],
)  # fmt: skip
def test_bad_catalogue_names_the_problem(rooms: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_catalog({"rooms": rooms})
