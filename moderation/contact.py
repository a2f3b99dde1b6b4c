"""Contact-detail guard: phone numbers, e-mail addresses and social-media handles.

Sharing them breaks the anonymity members rely on and opens the door to contact outside the
room. A member's message that holds one is kept from the room (the author is told why, privately)
unless the room allows it; facilitators are exempt. Patterns are linear-time.
"""

from __future__ import annotations

import re

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


_DIGITS = str.maketrans("", "", "0123456789")
# Cheap substring tests that must hold before a pattern can match: most messages hold none,
# and then no regular expression runs at all (this runs on every member's message).
_SOCIAL_HINTS = ("/", "snap", "insta", "ig", "whatsapp", "telegram", "discord", "kik",
                 "wechat", "line")  # fmt: skip


def find_contact_details(text: str) -> str | None:
    """The kind of contact detail found (`email`, `phone`, `social`), or None."""
    has_at = "@" in text
    if has_at and _EMAIL.search(text):
        return "email"
    lowered = text.casefold()
    if any(hint in lowered for hint in _SOCIAL_HINTS) and _SOCIAL.search(text):
        return "social"
    if has_at and _HANDLE.search(text):
        return "social"
    if len(text) - len(text.translate(_DIGITS)) < 7:
        return None
    for match in _PHONE.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        # Years and counts run together ("1999 2000") are not phone numbers; dashes, brackets
        # or a leading + say "phone" from 7 digits on, bare digits and spaces from 9.
        if digits >= 9 or (digits >= 7 and any(c in match.group() for c in "-+()")):
            return "phone"
    return None
