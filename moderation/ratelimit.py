"""Token buckets: a burst allowance refilled at a steady rate. `now` is passed in (seconds)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rate", "TokenBucket"]


@dataclass(frozen=True, slots=True)
class Rate:
    """`burst` actions at once, refilled at `per_second`."""

    burst: float
    per_second: float


class TokenBucket:
    """Counts what one sender may still do; each check that passes spends one token."""

    __slots__ = ("_last", "_rate", "_tokens", "strikes")

    def __init__(self, rate: Rate, now: float) -> None:
        self._rate = rate
        self._tokens = rate.burst
        self._last = now
        self.strikes = 0  # refusals in a row: sustained abuse closes the connection

    def take(self, now: float) -> float:
        """Spend a token and return 0.0, or return the seconds until one is available."""
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self._rate.burst, self._tokens + elapsed * self._rate.per_second)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self.strikes = 0
            return 0.0
        self.strikes += 1
        return (1.0 - self._tokens) / self._rate.per_second
