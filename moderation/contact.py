"""Contact-detail guard: phone numbers, e-mail addresses and social-media handles.

Sharing them breaks the anonymity members rely on and opens the door to contact outside the
room. A member's message that holds one is kept from the room (the author is told why, privately)
unless the room allows it; facilitators are exempt. The guard reads the text the room would see,
in its detection form (`rooms.text.detection_form`: fullwidth @ (U+FF20) and digits folded,
invisible characters ignored), so nothing hidden between the digits or around the @ slips past.
Patterns are linear-time.

Phone numbers: a hand-written pattern (7+ digits with the separators people type, minus runs of
years and dates) rather than libphonenumber, measured with tests/moderation/test_contact_corpus.py
(72 lines of ordinary support talk: dates, doses, durations, years, times, counts; 35 numbers in
the national and international formats of the US, UK, DE, FR, IN, AU, MX and ES; 10 more from
other countries). This pattern: 0 of 72 held, 1 of 35 missed (`0171/1234567`), 10 of 10 others
found, ~10 µs a message. Before the year/date rule it held 8 of 72 (year ranges, ISO dates, an
ISBN). `phonenumbers` over those eight regions: `Leniency.VALID` 0 held, 1 missed (a reserved UK
range), 9 of 10 others, ~300 µs a message; `Leniency.POSSIBLE` held 59 of 72.
"""

from __future__ import annotations

import re

from rooms.text import detection_form

__all__ = ["find_contact_details"]

_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
# 7+ digits, optionally with a leading +, spaces, dots, dashes or brackets between them.
_PHONE = re.compile(r"(?<!\w)\+?\(?\d(?:[\s().-]{0,2}\d){6,14}(?!\w)")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,29})")
_SOCIAL = re.compile(
    r"\b(?:instagram\.com|facebook\.com|fb\.com|twitter\.com|x\.com|tiktok\.com|snapchat\.com"
    r"|t\.me|wa\.me|discord\.gg|discord\.com/users|linkedin\.com/in|reddit\.com/u(?:ser)?)/\S+"
    r"|\b(?:snap(?:chat)?|insta(?:gram)?|ig|whatsapp|telegram|discord|kik|wechat|line)"
    r"\s*(?:id|name|handle)?\s*(?:is|:|=|-)\s*@?[A-Za-z0-9_.]{3,}",
    re.IGNORECASE,
)
_DIGIT_GROUP = re.compile(r"\d+")


_DIGITS = str.maketrans("", "", "0123456789")
# Cheap substring tests that must hold before a pattern can match: most messages hold none,
# and then no regular expression runs at all (this runs on every member's message).
_SOCIAL_HINTS = ("/", "snap", "insta", "ig", "whatsapp", "telegram", "discord", "kik",
                 "wechat", "line")  # fmt: skip


def _is_year(group: str) -> bool:
    return len(group) == 4 and group[:2] in ("19", "20")


def _dates_or_years(groups: list[str]) -> bool:
    """Years, year ranges and dates run together ("1999 2000 2001", "2019-2023", "2024-03-12"):
    a year in it, and nothing but years and day or month numbers."""
    return any(map(_is_year, groups)) and all(
        _is_year(g) or (len(g) <= 2 and int(g) <= 31) for g in groups
    )


def _is_phone(candidate: str) -> bool:
    groups = _DIGIT_GROUP.findall(candidate)
    digits = sum(map(len, groups))
    if "+" not in candidate:
        if _dates_or_years(groups):
            return False
        if digits == 13 and groups[0] in ("978", "979") and "-" in candidate:
            return False  # an ISBN: a book someone recommends
    # Bare digits and spaces say "phone" from 9 digits on ("1999 2000" is not one); dashes,
    # brackets or a leading + from 7.
    return digits >= 9 or (digits >= 7 and any(c in candidate for c in "-+()"))


def find_contact_details(text: str) -> str | None:
    """The kind of contact detail found (`email`, `phone`, `social`), or None.

    `text` is what the room would see (normalised); it is matched in its detection form.
    """
    text = detection_form(text)
    has_at = "@" in text
    if has_at and _EMAIL.search(text):
        return "email"
    lowered = text.casefold()
    if any(hint in lowered for hint in _SOCIAL_HINTS) and _SOCIAL.search(text):
        return "social"
    if has_at and _HANDLE.search(text):
        return "social"
    # Fewer than 7 digits: no phone number (counted for ASCII; other scripts have digits too).
    if text.isascii() and len(text) - len(text.translate(_DIGITS)) < 7:
        return None
    if any(_is_phone(match.group()) for match in _PHONE.finditer(text)):
        return "phone"
    return None
