"""The phone-number guard on ordinary support talk and on real numbers in national formats.

Run as a script (`python -m tests.moderation.test_contact_corpus`) to print the figures for this
pattern and, when the `phonenumbers` package is installed, for libphonenumber over the same
corpus: the comparison quoted in `moderation/contact.py` and docs/moderation.md.
"""

from __future__ import annotations

import importlib
import timeit
from collections.abc import Callable
from typing import Any

import pytest

from moderation.contact import find_contact_details

# Numbers people write in support groups that are not phone numbers.
ORDINARY = [
    "12/03/2024", "on 03/12/2024 I relapsed again", "2024-03-12 was the worst day", "12.03.2024",
    "20 mg twice a day", "I take 20mg sertraline and 150 mg lamotrigine", "3-4 times a week",
    "day 365", "1999 2000 2001", "years 2019-2023 were a blur", "it was 2019 and 2020",
    "at 10:30 pm", "from 9:00 to 17:30", "I slept 4-5 hours", "I'm 34, he's 36",
    "since 2015, so 9 years", "my PHQ-9 went from 21 to 14", "GAD-7 score 15", "BMI 18.5",
    "lost 10 kg in 3 months", "I walked 10,000 steps", "10 000 steps today", "it costs $1,250.00",
    "£2,500 in debt", "3 kids aged 4, 7 and 12", "room 101", "day 1 2 3 4 5 6 7",
    "1, 2, 3, 4, 5, 6, 7, 8", "page 123 of 456", "1.5 million people", "99.9% sure",
    "between 2010 and 2012 I was in hospital", "on 12/03 and 15/04 and 20/05", "week 12 of 52",
    "5 4 3 2 1 grounding", "the 5-4-3-2-1 grounding technique", "sober 1,234 days",
    "since 1/1/2020", "2020-2021-2022 were hard", "born in 1987, diagnosed 2003",
    "3x a day, 2x at night", "10/10 would recommend", "4 7 8 breathing", "1 in 4 people",
    "the book is ISBN 978-0-14-044913-6", "2 x 500 mg", "take 1-2 tablets every 4-6 hours",
    "max 4000 mg per day", "heart rate 120-130 bpm", "blood pressure 140/90",
    "I've been clean 180 days, 6 months", "12 3 2024", "11/12/2023 - 14/12/2023 in hospital",
    "2023-11-12 to 2023-12-14", "dates 1999-2001 and 2005-2007", "in 2019 2020 2021 2022",
    "10-12 hours of sleep, 3-4 naps", "I slept 8 hours", "year 1999 2000", "I take 20mg twice",
    "it is 12:30 now", "see you at 10am", "day 1234567 of recovery", "2.5 mg, then 5 mg, then 7.5",
    "rated it 7/10 then 3/10", "from 1 to 10, I'm a 3", "between 100 and 200 calories",
    "on 2024.03.12 at 14:30", "0.5 1 1.5 2 mg steps", "15-20 minutes, 2-3 times",
    "2023 - 2024 was hard, 12.5.2023 worst", "the 12 steps, 7 days, 4 weeks, 2022 to 2024",
]  # fmt: skip

# Real formats (fictitious numbers), as people type them in their own country.
PHONES = [
    "call me 555-123-4567", "(212) 555-0198", "212.555.0198", "+1 212 555 0198", "2125550198",
    "07700 900123", "020 7946 0958", "+44 7700 900123", "0161 496 0000", "+44 (20) 7946 0958",
    "030 12345678", "0151 23456789", "+49 30 12345678", "(030) 1234567", "0171/1234567",
    "06 12 34 56 78", "01.23.45.67.89", "+33 6 12 34 56 78", "0612345678",
    "98765 43210", "+91 98765 43210", "022 2345 6789", "9876543210",
    "0412 345 678", "(02) 9876 5432", "+61 412 345 678", "text me on 0412345678",
    "55 1234 5678", "+52 55 1234 5678", "33 1234 5678", "mi número es 55-1234-5678",
    "612 34 56 78", "91 123 45 67", "+34 612 345 678", "llámame al 612345678",
]  # fmt: skip
# Countries outside the list above, written the national way (no +).
OTHER_COUNTRIES = [
    "(11) 91234-5678", "0803 123 4567", "090-1234-5678", "082 123 4567", "347 123 4567",
    "512 345 678", "06 12345678", "416-555-0123", "0912 345 678", "010-1234-5678",
]  # fmt: skip
KNOWN_MISSES = {"0171/1234567"}  # a slash would make "12/03/2024 12/04" a number


def _is_phone(text: str) -> bool:
    return find_contact_details(text) == "phone"


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_talk_is_not_a_phone_number(text: str) -> None:
    assert find_contact_details(text) is None


@pytest.mark.parametrize("text", sorted(set(PHONES + OTHER_COUNTRIES) - KNOWN_MISSES))
def test_phone_numbers_in_national_formats_are_found(text: str) -> None:
    assert _is_phone(text)


def test_the_known_misses_are_still_missed() -> None:
    # When the pattern learns them, move them out of KNOWN_MISSES (and update the figures).
    assert not any(map(_is_phone, KNOWN_MISSES))


def _figures(name: str, found: Callable[[str], bool]) -> str:
    false_positives = [t for t in ORDINARY if found(t)]
    misses = [t for t in PHONES if not found(t)]
    others = sum(map(found, OTHER_COUNTRIES))
    corpus = ORDINARY + PHONES
    seconds = timeit.timeit(lambda: list(map(found, corpus)), number=5) / 5 / len(corpus)
    return (
        f"{name}: false positives {len(false_positives)}/{len(ORDINARY)}, misses "
        f"{len(misses)}/{len(PHONES)}, other countries found {others}/{len(OTHER_COUNTRIES)}, "
        f"{seconds * 1e6:.0f} µs a message\n  held: {false_positives}\n  missed: {misses}"
    )


def main() -> None:
    print(_figures("hand-written pattern", _is_phone))
    try:
        phonenumbers: Any = importlib.import_module("phonenumbers")  # not a dependency
    except ImportError:
        print("phonenumbers is not installed: pip install phonenumbers to compare")
        return
    regions = ("US", "GB", "DE", "FR", "IN", "AU", "MX", "ES")
    matcher, lenient = phonenumbers.PhoneNumberMatcher, phonenumbers.Leniency
    for label, leniency in (("VALID", lenient.VALID), ("POSSIBLE", lenient.POSSIBLE)):

        def libphonenumber(text: str, leniency: int = leniency) -> bool:
            return any(any(True for _ in matcher(text, r, leniency)) for r in regions)

        print(_figures(f"phonenumbers {label} in {','.join(regions)}", libphonenumber))


if __name__ == "__main__":
    main()
