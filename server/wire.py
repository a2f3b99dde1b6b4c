"""Frames on the wire: parse and validate what clients send, encode what the server sends.

Parsing is strict and bounded: one JSON object per text frame, no duplicate keys, no NaN or
Infinity, no nesting past a small depth, no over-long numbers, no unpaired surrogate escapes.
Every fault raises `ChatError` with a stable code, carrying the frame's `ref` whenever the frame
parsed far enough for it to be read; nothing here echoes the frame's content.
"""

from __future__ import annotations

import json
import math
import re
import threading
from typing import Any

from rooms.errors import ChatError, ErrorCode

__all__ = [
    "MAX_DEPTH",
    "MAX_REF_CHARS",
    "encode",
    "opt_int",
    "opt_str",
    "parse",
    "req_int",
    "req_str",
]

MAX_REF_CHARS = 64
MAX_DEPTH = 4  # a client frame is flat; a little room for future nested fields
MAX_KEYS = 32


class _Faults:
    """What the JSON parser's hooks found wrong. Raising inside a hook would lose the frame
    before its `ref` is known; the first fault is kept and raised once the ref has been read."""

    __slots__ = ("first", "ref_unclear")

    def __init__(self) -> None:
        self.first: str | None = None
        self.ref_unclear = False  # two `ref` keys: which one the client meant is unknown

    def clear(self) -> None:
        self.first = None
        self.ref_unclear = False

    def _note(self, message: str) -> None:
        if self.first is None:
            self.first = message

    def pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)  # the frame is within MAX_FRAME_BYTES: this much work is bounded
        if len(pairs) > MAX_KEYS:
            self._note("too many fields")
        if len(obj) != len(pairs):
            self._note("duplicate field")
            self.ref_unclear |= sum(key == "ref" for key, _ in pairs) > 1
        return obj

    def constant(self, name: str) -> None:
        self._note("NaN and Infinity are not valid JSON")

    def integer(self, digits: str) -> int:
        try:
            return int(digits)
        except ValueError:  # past Python's digit limit
            self._note("number is too long")
            return 0


def _depth_ok(text: str) -> bool:
    # Cheap pre-check so a deeply nested frame never reaches the recursive parser. Brackets in
    # strings are counted too, which can only make the limit stricter for odd frames.
    depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


# What decodes from a `\uD800`-style escape with no partner: not a character, and it cannot be
# encoded as UTF-8, so echoing it (in a `ref`, a reason, a note) would break the writer.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


# One decoder per thread, reused (building one per frame costs more than parsing a small frame);
# `parse` never awaits, so one frame's faults cannot mix with another's.
_PER_THREAD = threading.local()


def _decoder() -> tuple[_Faults, json.JSONDecoder]:
    try:
        pair: tuple[_Faults, json.JSONDecoder] = _PER_THREAD.pair
    except AttributeError:
        faults = _Faults()
        decoder = json.JSONDecoder(
            object_pairs_hook=faults.pairs, parse_constant=faults.constant, parse_int=faults.integer
        )
        pair = (faults, decoder)
        _PER_THREAD.pair = pair
    return pair


def _answerable(ref: Any, faults: _Faults) -> str | None:
    """The ref an error can carry: one that can be sent back exactly as it came, else None."""
    if not isinstance(ref, str) or len(ref) > MAX_REF_CHARS or faults.ref_unclear:
        return None
    return ref if _LONE_SURROGATE.search(ref) is None else None


def parse(raw: str) -> tuple[dict[str, Any], str | None]:
    """The frame as a dict and its `ref` (None when absent).

    Raises `ChatError(bad_request)` for anything but a JSON object with a string `type`.
    """
    if not raw.strip():
        raise ChatError(ErrorCode.BAD_REQUEST, "empty frame")
    # Nesting cannot go deeper than the brackets opened: counting them (in C) spares the
    # character walk for every ordinary frame.
    if raw.count("[") + raw.count("{") > MAX_DEPTH and not _depth_ok(raw):
        raise ChatError(ErrorCode.BAD_REQUEST, "frame is nested too deeply")
    faults, decoder = _decoder()
    faults.clear()
    try:
        frame = decoder.decode(raw)
    except (ValueError, RecursionError):
        raise ChatError(ErrorCode.BAD_REQUEST, "frame is not valid JSON") from None
    if not isinstance(frame, dict):
        raise ChatError(ErrorCode.BAD_REQUEST, "frame must be a JSON object")
    ref = frame.get("ref")
    # Only an escape can produce a surrogate: text off the wire was valid UTF-8.
    if faults.first is not None or ("\\u" in raw and _has_lone_surrogate(frame)):
        message = faults.first or "text holds an unpaired surrogate escape"
        raise ChatError(ErrorCode.BAD_REQUEST, message, ref=_answerable(ref, faults))
    if ref is not None and (not isinstance(ref, str) or len(ref) > MAX_REF_CHARS):
        raise ChatError(ErrorCode.BAD_REQUEST, f"ref must be a string of at most {MAX_REF_CHARS}")
    if not isinstance(frame.get("type"), str):
        raise ChatError(ErrorCode.BAD_REQUEST, "type is missing", ref=ref)
    return frame, ref


def req_str(frame: dict[str, Any], name: str, max_len: int) -> str:
    """A required non-empty string field of at most `max_len` characters."""
    value = frame.get(name)
    if not isinstance(value, str) or not value:
        raise ChatError(ErrorCode.BAD_REQUEST, f"{name} must be a non-empty string")
    if len(value) > max_len:
        raise ChatError(ErrorCode.BAD_REQUEST, f"{name} is longer than {max_len} characters")
    return value


def opt_str(frame: dict[str, Any], name: str, max_len: int) -> str | None:
    """An optional string field; None when absent or null."""
    if frame.get(name) is None:
        return None
    return req_str(frame, name, max_len)


def req_int(frame: dict[str, Any], name: str, lo: int, hi: int) -> int:
    """A required whole number in [lo, hi]; booleans and floats with a fraction are refused."""
    value = frame.get(name)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ChatError(ErrorCode.BAD_REQUEST, f"{name} must be a whole number from {lo} to {hi}")
    return value


def opt_int(frame: dict[str, Any], name: str, lo: int, hi: int) -> int | None:
    """An optional whole number in [lo, hi]; None when absent or null."""
    if frame.get(name) is None:
        return None
    return req_int(frame, name, lo, hi)


def encode(frame: dict[str, Any]) -> str:
    """One compact JSON text; non-ASCII kept as is (smaller than \\u escapes)."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
