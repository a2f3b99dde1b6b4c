"""Message text: normalisation, limits, and the safe HTML rendering.

This is the only module that imports bleach (no longer developed upstream), so it can be swapped
without touching anything else. `prepare` runs once per message, before any fan-out.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, cast

from bleach.linkifier import Linker

from rooms.errors import ChatError, ErrorCode

__all__ = ["DEFAULT_MAX_CHARS", "PreparedText", "normalize", "prepare", "render_html"]

DEFAULT_MAX_CHARS = 2000

# Control characters except tab and newline, bidirectional overrides and isolates (used to make
# text display differently from what it is), zero-width characters and the BOM, and lone
# surrogates (which cannot be encoded as UTF-8 and would break every reader).
_STRIP = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ud800-\udfff]"
)
_BLANK_LINES = re.compile(r"\n{3,}")
# Anything the linkifier could turn into a link has a scheme or a dot inside a word followed
# by letters ("example.org"); a sentence's full stop does not.
_MAYBE_LINK = re.compile(r"://|\w\.[A-Za-z]{2,}")


@dataclass(frozen=True, slots=True)
class PreparedText:
    """`text` is plain text for `textContent`; `html` is the same words made safe as markup."""

    text: str
    html: str


def normalize(raw: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """NFC, line endings unified, invisible and direction-changing characters removed, trimmed.

    Raises `ChatError(bad_request)` when nothing is left and `too_large` past `max_chars`.
    """
    # Bound the work before normalising: NFC can grow a string, but not by more than 3x.
    if len(raw) > max_chars * 4:
        raise ChatError(ErrorCode.TOO_LARGE, f"text is longer than {max_chars} characters")
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _STRIP.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if not text:
        raise ChatError(ErrorCode.BAD_REQUEST, "text is empty")
    if len(text) > max_chars:
        raise ChatError(ErrorCode.TOO_LARGE, f"text is longer than {max_chars} characters")
    return text


def _only_web_links(
    attrs: dict[tuple[str | None, str], str], new: bool = False
) -> dict[tuple[str | None, str], str] | None:
    href = attrs.get((None, "href"), "")
    if not href.startswith(("http://", "https://")):
        return None  # javascript:, data:, mailto: stay plain text
    attrs[(None, "rel")] = "nofollow noopener ugc"
    attrs[(None, "target")] = "_blank"
    return attrs


# bleach drops a link whose callback returns None; its stubs do not say so.
_LINKER = Linker(callbacks=[cast(Any, _only_web_links)], parse_email=False)


def render_html(text: str) -> str:
    """Every tag escaped, http(s) links made clickable with rel="nofollow noopener ugc".

    Escaping comes first (bleach's own `clean` keeps entities such as `&lt;` as they are, so
    typed entity text would show as the character); bleach's linkifier then re-parses the
    escaped text, so nothing but its own `<a>` elements can come out as markup.
    """
    escaped = html.escape(text, quote=False)
    if _MAYBE_LINK.search(text) is None:
        # No domain and no scheme: nothing can become a link, and the linkifier (an HTML
        # parse and re-serialisation) is the dearest step of a message's preparation.
        return escaped.replace("\n", "<br>")
    return _LINKER.linkify(escaped).replace("\n", "<br>")


def prepare(raw: str, max_chars: int = DEFAULT_MAX_CHARS) -> PreparedText:
    """Normalise and render once; the result is shared by every reader."""
    text = normalize(raw, max_chars)
    return PreparedText(text=text, html=render_html(text))
