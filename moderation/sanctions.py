"""Timed sanctions (a mute, a ban): what one says and until when, and how times are shown.

Times are milliseconds since the epoch, always passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Sanction", "iso_seconds"]


def iso_seconds(ms: int) -> str:
    """ISO 8601 UTC to the whole second (as `until` and `at` are shown) of a millisecond
    timestamp (pure: no clock)."""
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Sanction:
    """A mute or a ban: in force until `until_ms`."""

    until_ms: int
    reason: str
    by: str

    def as_value(self) -> dict[str, Any]:
        return {"until": self.until_ms, "reason": self.reason, "by": self.by}

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Sanction:
        return cls(int(value["until"]), str(value.get("reason", "")), str(value.get("by", "")))
