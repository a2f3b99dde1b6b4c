"""The crisis lines table: every entry sourced, every covered country first, the fallback last."""

from __future__ import annotations

import re

import pytest

from moderation.crisis import CrisisConfig
from moderation.crisis_lines import (
    COUNTRIES,
    COUNTRY_LINES,
    DEFAULT_RESOURCES,
    INTERNATIONAL,
    Resource,
    country_code,
    lines_for,
)

# The list: the table must cover at least these.
REQUIRED = {"US", "CA", "GB", "IE", "AU", "NZ", "IN", "DE", "FR", "ES", "MX"}
DIALLED = re.compile(r"\d[\d ]*\d")  # what a client turns into a tel: link


def test_every_entry_names_its_country_and_the_page_it_was_checked_against() -> None:
    codes = {code for code, _ in COUNTRIES}
    assert codes >= REQUIRED
    for line in (*COUNTRY_LINES, INTERNATIONAL):
        assert line.source is not None and line.source.startswith("https://"), line
        assert line.url is not None and line.url.startswith("https://"), line
        assert line.name.strip() == line.name and line.name
    for line in COUNTRY_LINES:
        assert line.country in codes, line
        assert DIALLED.fullmatch(line.contact), line  # a number, nothing to translate
    # Every covered country has a line of its own, crisis line first.
    assert {line.country for line in COUNTRY_LINES} == codes


@pytest.mark.parametrize(
    ("country", "first", "contact"),
    [
        ("GB", "Samaritans", "116 123"),
        ("MX", "Línea de la Vida", "800 911 2000"),
        ("DE", "TelefonSeelsorge", "0800 111 0 111"),
        ("IN", "Tele-MANAS", "14416"),
        ("NZ", "1737, Need to talk?", "1737"),
    ],
)
def test_a_country_gets_its_own_lines_first_and_the_fallback_last(
    country: str, first: str, contact: str
) -> None:
    lines = lines_for(country)
    assert (lines[0].name, lines[0].contact) == (first, contact)
    assert all(line.country == country for line in lines[:-1])
    assert lines[-1] is INTERNATIONAL


def test_the_fallback_is_the_same_last_entry_everywhere() -> None:
    assert {lines_for(code)[-1] for code, _ in COUNTRIES} == {INTERNATIONAL}
    assert DEFAULT_RESOURCES[-1] is INTERNATIONAL
    assert INTERNATIONAL.country is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("GB", "GB"), ("gb", "GB"), ("Nz", "NZ"), ("UK", "GB"), ("uk", "GB"),
        ("ZZ", None),  # two letters, not covered: as if absent
        ("GBR", None), ("G", None), ("", None), ("G1", None), ("ÉS", None), (" GB", None),
        ("GB\n", None), (None, None), (44, None), (["GB"], None), ({"code": "GB"}, None),
    ],
)  # fmt: skip
def test_a_country_is_two_covered_letters_or_nothing(raw: object, code: str | None) -> None:
    assert country_code(raw) == code


def test_without_a_country_the_configured_list_is_shown() -> None:
    config = CrisisConfig()
    assert config.resources_for(None) == DEFAULT_RESOURCES
    assert config.resources_for("IE")[0].name == "Samaritans Ireland"
    # The emergency number comes first when the member's country is not known.
    assert DEFAULT_RESOURCES[0].name == "If you are in danger now"
    own = CrisisConfig(resources=(Resource("Our partner line", "0800 000 000"),))
    assert own.resources_for(None) == own.resources
    assert own.resources_for("FR") == lines_for("FR")


def test_the_wire_form_never_carries_the_source() -> None:
    assert lines_for("AU")[0].as_wire() == {
        "name": "Lifeline Australia",
        "contact": "13 11 14",
        "url": "https://www.lifeline.org.au",
        "country": "AU",
    }
    assert Resource("x", "y").as_wire() == {"name": "x", "contact": "y", "url": None,
                                             "country": None}  # fmt: skip
