"""Connection caps and member-wide buckets, kept in this process's memory only.

A client address is a dict key only while that address has a connection open: it is never
stored, logged or sent anywhere, and it is gone with its last connection. Behind a reverse proxy
that hides client addresses (ours does, deploy/nginx.conf) every connection comes from the proxy,
so there the proxy enforces the per-address cap and MAX_CONNECTIONS_PER_ADDRESS is set to 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from moderation.ratelimit import Rate, TokenBucket
from rooms.ids import MemberId

__all__ = ["AddressCap", "MemberShare", "Members"]


class AddressCap:
    """Concurrent connections per client address; `limit` 0 means no cap."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._open: Counter[str] = Counter()

    def admit(self, address: str | None) -> bool:
        """Count one more connection of `address`; False (nothing counted) at the cap."""
        if not self._limit or address is None:
            return True
        if self._open[address] >= self._limit:
            return False
        self._open[address] += 1
        return True

    def release(self, address: str | None) -> None:
        """The connection `admit` counted has ended."""
        if not self._limit or address is None or address not in self._open:
            return
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]

    def __len__(self) -> int:
        return len(self._open)


@dataclass(slots=True)
class MemberShare:
    """What all sockets of one member on this process share."""

    sockets: int
    sends: TokenBucket
    joins: TokenBucket
    idle_since: float | None = None


class Members:
    """Sockets per member on this process, and the buckets they share: a member with five tabs
    may send no faster than with one, and cannot churn presence by joining from many sockets.
    A member's entry outlives its last socket until its buckets would be full again, so
    reconnecting does not refill them; idle entries are pruned as new sockets arrive."""

    def __init__(self, max_sockets: int, send_rate: Rate, join_rate: Rate) -> None:
        self.max_sockets = max_sockets
        self._send_rate = send_rate
        self._join_rate = join_rate
        self._shares: dict[MemberId, MemberShare] = {}
        self._refill_s = max(
            send_rate.burst / send_rate.per_second, join_rate.burst / join_rate.per_second
        )
        self._attached = 0

    def sockets_of(self, member: MemberId) -> int:
        share = self._shares.get(member)
        return share.sockets if share is not None else 0

    def full(self, member: MemberId) -> bool:
        """True when the member already has its maximum of sockets here."""
        return self.sockets_of(member) >= self.max_sockets

    def attach(self, member: MemberId, now: float) -> MemberShare:
        """Count one more socket of `member` (the caller checked `full`)."""
        self._attached += 1
        if self._attached % 256 == 0:
            self._prune(now)
        share = self._shares.get(member)
        if share is None:
            share = self._shares[member] = MemberShare(
                0, TokenBucket(self._send_rate, now), TokenBucket(self._join_rate, now)
            )
        share.sockets += 1
        share.idle_since = None
        return share

    def detach(self, member: MemberId, now: float) -> None:
        """One socket of `member` has ended."""
        share = self._shares.get(member)
        if share is None:
            return
        share.sockets -= 1
        if share.sockets <= 0:
            share.idle_since = now

    def _prune(self, now: float) -> None:
        cutoff = now - self._refill_s
        for member in [
            m for m, s in self._shares.items() if s.idle_since is not None and s.idle_since < cutoff
        ]:
            del self._shares[member]

    def __len__(self) -> int:
        return len(self._shares)
