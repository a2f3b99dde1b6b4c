"""Language tags for rooms: which are known, and the primary subtag a directory filters by.

A room's `language` is a BCP 47 tag (`en`, `es`, `es-MX`, `pt-BR`): a known ISO 639-1 primary
subtag, then optional subtags of 1 to 8 letters or digits. "Known" keeps typos (`english`,
`sp`) out of the directory, where a member filtering by language would never find the room.
"""

from __future__ import annotations

import re

__all__ = ["is_known_language", "primary_language"]

# ISO 639-1: the two-letter codes (every language a group here is likely to meet in).
_ISO_639_1_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu "
    "cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi "
    "ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks "
    "ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl "
    "nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl "
    "sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve "
    "vi vo wa wo xh yi yo za zh zu "
)
_ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
_TAG = re.compile(r"^([A-Za-z]{2})(-[A-Za-z0-9]{1,8}){0,3}$")


def primary_language(tag: str) -> str:
    """The tag's primary subtag, lower case: `es-MX` → `es`."""
    return tag.partition("-")[0].strip().lower()


def is_known_language(tag: str) -> bool:
    """True for a well-formed tag of at most 35 characters whose primary subtag is known."""
    match = _TAG.match(tag) if len(tag) <= 35 else None
    return match is not None and match.group(1).lower() in _ISO_639_1
