"""Message text: normalisation, limits, the safe HTML rendering, and the form guards read.

This is the only module that imports bleach (no longer developed upstream), so it can be swapped
without touching anything else. `prepare` runs once per message, before any fan-out, and every
check (contact details, crisis language) reads the `text` it returns, the text the room sees.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, cast

from bleach.linkifier import Linker

from rooms.errors import ChatError, ErrorCode
from rooms.marks import ASTRAL_MARKS_SPAN, MARKS, MARKS_BMP

__all__ = [
    "DEFAULT_MAX_CHARS",
    "MAX_MARKS_PER_BASE",
    "PreparedText",
    "detection_form",
    "normalize",
    "prepare",
    "render_html",
]

DEFAULT_MAX_CHARS = 2000
# Enough for Vietnamese, Hebrew with points and cantillation, or a Tibetan stack; "Zalgo" text
# stacks hundreds on one letter to spill over the lines around it.
MAX_MARKS_PER_BASE = 4

# Characters that only hide things, removed everywhere: control characters except tab and
# newline; the soft hyphen, the combining grapheme joiner and the Khmer inherent vowels (all
# invisible); bidirectional marks, embeddings, overrides and isolates (they make text display
# differently from what it is); zero-width space, word joiner, invisible operators and the
# deprecated format controls (U+2060-206F); the BOM; the Mongolian vowel separator; the
# interlinear annotation controls; the shorthand and musical format controls; the invisible
# fillers (Hangul fillers, halfwidth filler, braille blank); and lone surrogates (they cannot be
# encoded as UTF-8 and would break every reader). Tag characters are handled on their own below.
# ZWJ and ZWNJ (U+200C-200D) are not here: scripts and emoji sequences need them.
_HIDDEN = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b"
    "\u200e\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufeff\uffa0\ufff9-\ufffb\ud800-\udfff"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
)
_STRIP = re.compile(f"[{_HIDDEN}]+")
_STRIP_ASCII = re.compile("[\x00-\x08\x0b-\x1f\x7f]+")
# Three or more line breaks, blank lines holding only spaces included, become one blank line.
_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n){2,}")
# Tag characters (U+E0000 block) spell hidden text; the only use they have in visible text is in
# the three RGI subdivision flags (England, Scotland, Wales), which are kept.
_TAGS = re.compile(
    "(\U0001f3f4\U000e0067\U000e0062(?:\U000e0065\U000e006e\U000e0067|\U000e0073\U000e0063"
    "\U000e0074|\U000e0077\U000e006c\U000e0073)\U000e007f)|[\U000e0000-\U000e007f]+"
)
_TAG = re.compile("[\U000e0000-\U000e007f]")
# Variation selectors (standard, ideographic, Mongolian): one after a visible character chooses
# its form (❤️); one at the start or after a space shows nothing, and a second one never counts.
_VS = "\u180b-\u180d\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef"
_VS_ALONE = re.compile(f"(?:^|(?<=\\s))[{_VS}]+")
_VS_REPEAT = re.compile(f"([{_VS}])[{_VS}]+")
_ANY_VS = re.compile(f"[{_VS}]")
_JOINERS = re.compile("[\u200c\u200d]+")
_VIRAMA = 9  # canonical combining class of the Indic viramas
_JOINER_ROUNDS = 3
# Anything the linkifier could turn into a link has a scheme or a dot inside a word followed
# by letters ("example.org"); a sentence's full stop does not.
_MAYBE_LINK = re.compile(r"://|\w\.[A-Za-z]{2,}")

# What detection ignores on top of the above: every format character (ZWJ and ZWNJ too), the
# variation selectors, and every combining mark (accents, strokes, keycaps, enclosing circles).
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e007f"
)


@dataclass(frozen=True, slots=True)
class _MarkPatterns:
    run: re.Pattern[str]  # more marks than one base may carry: the first MAX_MARKS_PER_BASE stay
    unseen: re.Pattern[str]  # what detection ignores
    visible: re.Pattern[str]  # a character someone can see (a mark needs a base)


def _mark_patterns(marks: str) -> _MarkPatterns:
    return _MarkPatterns(
        run=re.compile(f"([{marks}]{{{MAX_MARKS_PER_BASE}}})[{marks}]+"),
        unseen=re.compile(f"[{_HIDDEN}{_FORMAT}{_VS}{marks}]+"),
        visible=re.compile(f"[^\\s{_HIDDEN}{_FORMAT}{_VS}{marks}]"),
    )


# Text without a mark past U+FFFF (nearly all, emoji included) is matched with the BMP marks
# only: a class listing the ~150 ranges of astral marks costs ~10 times as much per character.
_BMP_MARKS = _mark_patterns(MARKS_BMP)
_ALL_MARKS = _mark_patterns(MARKS)
_MAY_HOLD_ASTRAL_MARKS = re.compile(f"[{ASTRAL_MARKS_SPAN}]")


def _marks_of(text: str) -> _MarkPatterns:
    return _ALL_MARKS if _MAY_HOLD_ASTRAL_MARKS.search(text) else _BMP_MARKS


@dataclass(frozen=True, slots=True)
class PreparedText:
    """`text` is plain text for `textContent`; `html` is the same words made safe as markup."""

    text: str
    html: str


def _keep_flag(match: re.Match[str]) -> str:
    return match.group(1) or ""


def _joins(char: str) -> bool:
    # Letters and symbols (emoji, skin tones) outside ASCII are what ZWJ and ZWNJ join: between
    # ASCII letters or digits they only hide a word from a filter.
    return not char.isascii() and unicodedata.category(char)[0] in "LS"


def _keep_joiner(match: re.Match[str]) -> str:
    text, start, end = match.string, match.start(), match.end()
    keep = match.group()[0]  # a run of joiners is one joiner
    # The marks before the joiner (at most a few: capped before NFC) and the base they sit on.
    base = start - 1
    while base >= 0 and unicodedata.category(text[base])[0] == "M":
        # After a virama a joiner selects a half form or a chillu, also at the end of a word.
        if unicodedata.combining(text[base]) == _VIRAMA:
            return keep
        base -= 1
    # Otherwise a letter or emoji on each side. Never before a mark or a selector: those would
    # chain invisibly (ZWJ, VS, ZWJ, VS ... can spell hidden bytes) or stack past the mark cap.
    if base >= 0 and end < len(text) and _joins(text[base]) and _joins(text[end]):
        return keep
    return ""


def normalize(raw: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The text as the room will see it; raises `ChatError(bad_request)` "text is empty" when no
    visible character is left and `too_large` past `max_chars`.

    Line endings and U+2028/2029 become `\\n`; characters that only hide things are removed
    (`_HIDDEN`, tag characters); ZWJ/ZWNJ kept only inside words and emoji sequences (and after
    a virama), one at a time; at most MAX_MARKS_PER_BASE combining marks per base; NFC; a
    variation selector only right after a visible character; blank lines collapsed; trimmed.
    Linear in the length of `raw`, which is refused past 4 times `max_chars` before any work.
    """
    # Bound the work before normalising: NFC can grow a string, but not by more than 3x.
    if len(raw) > max_chars * 4:
        raise ChatError(ErrorCode.TOO_LARGE, f"text is longer than {max_chars} characters")
    if raw.isascii():
        # Most messages: nothing below applies to ASCII but line endings and controls.
        text = raw.replace("\r\n", "\n").replace("\r", "\n") if "\r" in raw else raw
        text = _STRIP_ASCII.sub("", text)
        text = _BLANK_LINES.sub("\n\n", text).strip()
        visible = bool(text)  # after the controls, only whitespace is invisible in ASCII
    else:
        text = raw.replace("\r\n", "\n").replace("\r", "\n") if "\r" in raw else raw
        if "\u2028" in text or "\u2029" in text:
            text = text.replace("\u2028", "\n").replace("\u2029", "\n")
        text = _STRIP.sub("", text)
        if _TAG.search(text):
            text = _TAGS.sub(_keep_flag, text)
        marks = _marks_of(text)
        # Cap before NFC too: its canonical reordering is quadratic in a run of marks.
        capped = marks.run.sub(r"\1", text)
        text = unicodedata.normalize("NFC", capped)
        # A joiner gone can bring marks together (NFC and the cap again), and that can move a
        # virama away from the next joiner: a few rounds settle every text but contrived ones.
        for _ in range(_JOINER_ROUNDS):
            if "\u200c" not in text and "\u200d" not in text:
                break
            # A selector after a space goes first, so a joiner never leans on one.
            joined = _JOINERS.sub(_keep_joiner, _VS_ALONE.sub("", text))
            if joined == text:
                break
            text = unicodedata.normalize("NFC", marks.run.sub(r"\1", joined))
        if text != capped:  # NFC decomposes as well as composes: a run may have grown
            text = marks.run.sub(r"\1", text)
        if _ANY_VS.search(text):
            text = _VS_REPEAT.sub(r"\1", _VS_ALONE.sub("", text))
        text = _BLANK_LINES.sub("\n\n", text).strip()
        visible = marks.visible.search(text) is not None
    if not visible:
        raise ChatError(ErrorCode.BAD_REQUEST, "text is empty")
    if len(text) > max_chars:
        raise ChatError(ErrorCode.TOO_LARGE, f"text is longer than {max_chars} characters")
    return text


def detection_form(text: str) -> str:
    """The form guards and detectors match against: compatibility forms folded (fullwidth
    letters, digits and @ (U+FF20), ligatures, circled digits), every format character, variation
    selector, combining mark and control ignored. Never shown to anyone.

    Feed it the normalised text (what the room sees); any text is safe, in linear time.
    """
    if text.isascii():
        # Ordinary messages: only controls could differ, and normalised text has none (tab and
        # newline are the only ones it keeps; testing for them is cheaper than a regex scan).
        if text.isprintable() or text.replace("\n", " ").replace("\t", " ").isprintable():
            return text
        return _STRIP_ASCII.sub("", text)
    unseen = _marks_of(text).unseen  # NFKD yields no astral mark from a text without one
    # Drop before NFKD (bounds its reordering) and after it (it decomposes é into e + ◌́).
    return unseen.sub("", unicodedata.normalize("NFKD", unseen.sub("", text)))


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
