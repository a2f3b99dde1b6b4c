"""Typed errors with the stable codes of the wire contract.

A rule that refuses a command raises `ChatError`; `server/` turns it into an `error` frame.
Messages are short, lowercase and factual, and never echo user text or tokens.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

__all__ = ["ChatError", "ErrorCode"]


class ErrorCode(StrEnum):
    """Every `code` an `error` frame can carry (documented in docs/protocol.md)."""

    BAD_REQUEST = "bad_request"
    UNKNOWN_TYPE = "unknown_type"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    NOT_JOINED = "not_joined"
    RULES_NOT_ACCEPTED = "rules_not_accepted"
    MUTED = "muted"
    BANNED = "banned"
    LOCKED = "locked"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    UNAUTHORIZED = "unauthorized"
    UNAVAILABLE = "unavailable"
    SLOW_MODE = "slow_mode"
    WAITING = "waiting"
    NOT_YOUR_TURN = "not_your_turn"
    LISTENING = "listening"
    HELLO_REQUIRED = "hello_required"
    ALREADY_JOINED = "already_joined"
    LIMIT_REACHED = "limit_reached"
    ROOM_FULL = "room_full"
    ALREADY_ANSWERED = "already_answered"  # a second check-in (or check-out) in one session
    INTERNAL = "internal"


class ChatError(Exception):
    """A refused command: `code` is stable, `message` is for people, `extra` adds fields.

    `extra` holds machine-readable details such as `until` or `retry_after`; it must never
    contain user text or tokens.
    """

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra
