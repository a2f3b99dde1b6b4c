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
    """Counts what one sender may still do; each check that passes spends its cost in tokens."""

    __slots__ = ("_last", "_rate", "_tokens", "strikes")

    def __init__(self, rate: Rate, now: float) -> None:
        self._rate = rate
        self._tokens = rate.burst
        self._last = now
        self.strikes = 0  # faults in a row: sustained abuse closes the connection

    def take(self, now: float, cost: float = 1.0, *, clears: bool = True) -> float:
        """Spend `cost` tokens and return 0.0, or return the seconds until they are available
        (nothing spent; one more strike).

        A cost above the burst is charged as the whole burst, so an action the caller allows
        at all can always pass once the bucket is full. A take that passes clears the strikes,
        unless `clears` is False: the caller then calls `settle` once it knows whether what it
        admitted was good (a frame is only known to be malformed after it was admitted)."""
        cost = min(cost, self._rate.burst)
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self._rate.burst, self._tokens + elapsed * self._rate.per_second)
        if self._tokens >= cost:
            self._tokens -= cost
            if clears:
                self.strikes = 0
            return 0.0
        self.strikes += 1
        return (cost - self._tokens) / self._rate.per_second

    def settle(self, good: bool) -> int:
        """After a `take(clears=False)` that passed: a good action clears the strikes, a bad
        one counts as one more. Returns the strikes in a row."""
        self.strikes = 0 if good else self.strikes + 1
        return self.strikes
