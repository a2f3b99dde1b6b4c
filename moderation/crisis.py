"""Crisis language: notice it, never block it.

A configurable list of phrases about suicide and self-harm, matched on word boundaries in the
text the room sees, ignoring case, accents, compatibility forms (fullwidth letters) and every
invisible character (`rooms.text.detection_form`): a fullwidth `die`, or one split by a zero-width
space, is `die`. A match never stops a message: the author is privately shown where to get help
and the room's facilitators are alerted (the `send` action asks for a `CrisisAlert`, which
server/effects.py carries out after the message is out).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moderation.crisis_lines import DEFAULT_RESOURCES, Resource, lines_for
from rooms.text import detection_form

__all__ = [
    "DEFAULT_PHRASES",
    "DEFAULT_RESOURCES",
    "CrisisConfig",
    "CrisisDetector",
    "Resource",
    "fold",
    "parse_crisis_config",
]

DEFAULT_PHRASES: tuple[str, ...] = (
    "kill myself", "killing myself", "end my life", "ending my life", "end it all",
    "take my own life", "taking my own life", "suicide", "suicidal", "want to die",
    "wanna die", "better off dead", "better off without me", "no reason to live",
    "not worth living", "hurt myself", "hurting myself", "harm myself", "self harm",
    "self-harm", "cut myself", "cutting myself", "overdose", "goodbye forever",
    "can't go on", "cant go on", "won't be here tomorrow", "wont be here tomorrow",
    "have a plan to", "jump off", "hang myself",
)  # fmt: skip


_APOSTROPHES = str.maketrans("\u2018\u2019\u02bc", "'" * 3)


def fold(text: str) -> str:
    """The detection form, lowercase, with one kind of apostrophe: phrases and messages alike."""
    if text.isascii():  # most messages: nothing to decompose
        return detection_form(text).casefold()
    # Casefold before and after: it can yield marks (İ, ǰ), and NFKD can yield capitals (㎒).
    return detection_form(text.casefold()).casefold().translate(_APOSTROPHES)


class CrisisDetector:
    """Finds crisis phrases in text with one precompiled, linear-time alternation."""

    def __init__(self, phrases: Iterable[str] = DEFAULT_PHRASES) -> None:
        folded = sorted({fold(p).strip() for p in phrases if p.strip()}, key=len, reverse=True)
        # Whitespace inside a phrase matches any run of whitespace.
        alternatives = [r"\s+".join(re.escape(w) for w in p.split()) for p in folded]
        self._pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)") if folded else None
        )

    def matches(self, text: str) -> bool:
        """True when `text` holds one of the phrases as whole words."""
        return self._pattern is not None and self._pattern.search(fold(text)) is not None


@dataclass(frozen=True)
class CrisisConfig:
    """The phrases to notice and the resources to show, as the operator configured them.
    `resources` is what a member who named no covered country is shown."""

    detector: CrisisDetector = field(default_factory=CrisisDetector)
    resources: tuple[Resource, ...] = DEFAULT_RESOURCES

    def resources_for(self, country: str | None) -> tuple[Resource, ...]:
        """The member's country's lines first and the international fallback last; without a
        country (see `crisis_lines.country_code`), the configured `resources`."""
        return lines_for(country) if country is not None else self.resources


def _strings(raw: Any, name: str) -> list[str]:
    # Empty is refused too: an empty `phrases` would switch crisis detection off unnoticed.
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(x, str) and x.strip() for x in raw)
    ):
        raise ValueError(f"crisis file: {name!r} must be a list of non-empty text")
    return list(raw)


def parse_crisis_config(data: Mapping[str, Any]) -> CrisisConfig:
    """From parsed TOML: `phrases` replaces the default list, `extra_phrases` adds to it, and
    `[[resources]]` (name, contact) replaces the default resources. Raises ValueError."""
    phrases = list(DEFAULT_PHRASES)
    if "phrases" in data:
        phrases = _strings(data["phrases"], "phrases")
    if "extra_phrases" in data:
        phrases += _strings(data["extra_phrases"], "extra_phrases")
    resources = DEFAULT_RESOURCES
    if "resources" in data:
        raw = data["resources"]
        if not isinstance(raw, list) or not raw:
            raise ValueError("crisis file: 'resources' must be a non-empty list of tables")
        parsed = []
        for entry in raw:
            if not isinstance(entry, Mapping):
                raise ValueError("crisis file: each resource must be a table")
            name, contact = entry.get("name"), entry.get("contact")
            if not isinstance(name, str) or not isinstance(contact, str) or not name or not contact:
                raise ValueError("crisis file: each resource needs 'name' and 'contact' text")
            parsed.append(Resource(name, contact))
        resources = tuple(parsed)
    return CrisisConfig(CrisisDetector(phrases), resources)
