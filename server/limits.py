"""Connection caps and member-wide buckets, kept in this process's memory only.

A client address is a dict key only while that address has a connection open: it is never
stored, logged or sent anywhere, and it is gone with its last connection. Behind a reverse proxy
that hides client addresses (ours does, deploy/nginx.conf) every connection comes from the proxy,
so there the proxy enforces the per-address cap and MAX_CONNECTIONS_PER_ADDRESS is set to 0.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from moderation.ratelimit import Rate, TokenBucket
from rooms.ids import MemberId

__all__ = [
    "FRAME_COST_CHARS",
    "PRESENCE_KINDS",
    "AddressCap",
    "MemberShare",
    "Members",
    "frame_cost",
    "peek_ref",
]

# A frame's parse and validation work grows with its length: one token of the frame bucket per
# 4,096 characters on top of the first, so 64 KiB of junk costs 17 tokens, not one.
FRAME_COST_CHARS = 4096

# Frames that change what the whole room is shown about a participant (a `presence` or a
# `hands` frame to every member) spend the member's join budget, the one join/leave spends.
# One budget rather than coalescing: a refused change is answered at once with `retry_after`
# (the client knows its state), where a coalesced one would be acked and shown up to 2 s later,
# or lost if the socket closed meanwhile; and toggling listen/talk or a hand is as rare for a
# person as joining is. A facilitator lowering someone else's hand is exempt (see server.app).
PRESENCE_KINDS = frozenset({"join", "leave", "listen", "talk", "raise_hand", "lower_hand"})

# The `ref` of a frame refused before it is parsed. A JSON string cannot hold an unescaped
# quote, so `"ref"` followed by `:` only ever occurs as a key; the value is taken only when it
# is a plain string (no escapes) of at most 64 characters, as `wire.parse` would accept it.
_REF = re.compile(r'"ref"\s*:\s*"([^"\\\x00-\x1f]{0,64})"')


def frame_cost(chars: int) -> int:
    """Tokens of the frame bucket a frame of `chars` characters (or bytes) costs."""
    return 1 + chars // FRAME_COST_CHARS


def peek_ref(text: str) -> str | None:
    """The frame's `ref`, found without parsing (a search in C), or None when it is not
    plainly there. For answering a frame refused before parsing: with one `ref` key (what a
    well-formed frame has) it is that frame's own `ref`."""
    at = text.find('"ref"')
    if at < 0:
        return None
    found = _REF.match(text, at)
    return found.group(1) if found is not None else None


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
    reports: TokenBucket
    idle_since: float | None = None


class Members:
    """Sockets per member on this process, and the buckets they share: a member with five tabs
    may send no faster than with one, cannot churn presence by joining from many sockets, and
    cannot file reports faster from many sockets.
    A member's entry outlives its last socket until its buckets would be full again, so
    reconnecting does not refill them; idle entries are pruned as new sockets arrive."""

    def __init__(
        self, max_sockets: int, send_rate: Rate, join_rate: Rate, report_rate: Rate
    ) -> None:
        self.max_sockets = max_sockets
        self._send_rate = send_rate
        self._join_rate = join_rate
        self._report_rate = report_rate
        self._shares: dict[MemberId, MemberShare] = {}
        self._refill_s = max(r.burst / r.per_second for r in (send_rate, join_rate, report_rate))
        self._attached = 0

    def sockets_of(self, member: MemberId) -> int:
        share = self._shares.get(member)
        return share.sockets if share is not None else 0

    def share_of(self, member: MemberId) -> MemberShare | None:
        """The buckets `member` shares on this process (None before its first socket)."""
        return self._shares.get(member)

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
                0,
                TokenBucket(self._send_rate, now),
                TokenBucket(self._join_rate, now),
                TokenBucket(self._report_rate, now),
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
