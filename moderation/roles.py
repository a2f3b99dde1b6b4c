"""Who may do what: members and facilitators."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Role"]


class Role(StrEnum):
    """A connection's role; `facilitator` outranks `member`."""

    MEMBER = "member"
    FACILITATOR = "facilitator"

    @property
    def rank(self) -> int:
        """Higher ranks may act on lower ones, never on equal or higher."""
        return 1 if self is Role.FACILITATOR else 0
