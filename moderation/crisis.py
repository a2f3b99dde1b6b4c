"""Crisis language: notice it, never block it.

A configurable list of phrases about suicide and self-harm, matched on word boundaries, ignoring
case and accents. A match never stops a message: the author is privately shown where to get help
and the room's facilitators are alerted (see `server.moderate`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DEFAULT_PHRASES", "DEFAULT_RESOURCES", "CrisisDetector", "Resource", "fold"]

DEFAULT_PHRASES: tuple[str, ...] = (
    "kill myself", "killing myself", "end my life", "ending my life", "end it all",
    "take my own life", "taking my own life", "suicide", "suicidal", "want to die",
    "wanna die", "better off dead", "better off without me", "no reason to live",
    "not worth living", "hurt myself", "hurting myself", "harm myself", "self harm",
    "self-harm", "cut myself", "cutting myself", "overdose", "goodbye forever",
    "can't go on", "cant go on", "won't be here tomorrow", "wont be here tomorrow",
    "have a plan to", "jump off", "hang myself",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Resource:
    """A place to get help: shown to the author, never to the room."""

    name: str
    contact: str


DEFAULT_RESOURCES: tuple[Resource, ...] = (
    Resource("988 Suicide & Crisis Lifeline (US)", "Call or text 988"),
    Resource("Find a helpline in your country", "https://findahelpline.com"),
    Resource(
        "If you are in danger now", "Call your local emergency number (911 US, 112 EU, 999 UK)"
    ),
)


def fold(text: str) -> str:
    """Lowercase without accents and with one kind of apostrophe, for matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("\u2019", "'").replace("\u2018", "'")


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
