"""A room's moderation state as one process sees it, and the checks made from it.

The shared state is a flat map of fields (`mute:<participant>`, `ban:<participant>`, `lock`,
`slow`) to JSON values, kept in the backend with expiry. Each process loads it when it first
serves a room and applies every change published on the room's channel, so checks on the hot
path need no network round trip. Times are milliseconds since the epoch, always passed in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from moderation.roles import Role
from rooms.errors import ChatError, ErrorCode
from rooms.ids import ParticipantId

__all__ = ["RoomView", "Sanction", "iso_ms"]


def iso_ms(ms: int) -> str:
    """An ISO 8601 UTC time for a millisecond timestamp (pure: no clock)."""
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


@dataclass
class RoomView:
    """Mutes, bans, lock and slow mode of one room."""

    mutes: dict[ParticipantId, Sanction] = field(default_factory=dict)
    bans: dict[ParticipantId, Sanction] = field(default_factory=dict)
    locked: bool = False
    admitted: frozenset[str] = frozenset()  # present when the room was locked: may rejoin
    slow: int = 0
    paused: bool = False
    facilitators: int = 0  # facilitators present in the room, on any process
    hands: list[str] = field(default_factory=list)  # raised hands, in order
    turn: str | None = None  # who was called on, in one-at-a-time rooms
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> RoomView:
        """The view from the backend's stored fields (unknown fields are ignored)."""
        view = cls()
        for name, raw in fields.items():
            view.apply(name, json.loads(raw))
        return view

    def apply(self, name: str, value: Any) -> None:
        """Apply one change; `value` None clears the field. Idempotent."""
        kind, _, who = name.partition(":")
        if kind in ("mute", "ban"):
            table = self.mutes if kind == "mute" else self.bans
            if value is None:
                table.pop(ParticipantId(who), None)
            else:
                table[ParticipantId(who)] = Sanction.from_value(value)
        elif kind == "lock":
            self.locked = value is not None
            self.admitted = frozenset(value.get("admitted", ())) if value else frozenset()
        elif kind == "slow":
            self.slow = int(value or 0)
        elif kind == "pause":
            self.paused = value is not None
        elif kind == "hands":
            self.hands = [str(p) for p in value or ()]
        elif kind == "turn":
            self.turn = str(value) if value else None
        elif kind == "conv":
            if value is None:
                self.conversations.pop(who, None)
            else:
                self.conversations[who] = dict(value)

    def _active(
        self, table: dict[ParticipantId, Sanction], who: ParticipantId, now_ms: int
    ) -> Sanction | None:
        sanction = table.get(who)
        if sanction is not None and sanction.until_ms <= now_ms:
            del table[who]  # expired by itself
            return None
        return sanction

    def mute_of(self, who: ParticipantId, now_ms: int) -> Sanction | None:
        return self._active(self.mutes, who, now_ms)

    def ban_of(self, who: ParticipantId, now_ms: int) -> Sanction | None:
        return self._active(self.bans, who, now_ms)

    def check_join(self, who: ParticipantId, role: Role, now_ms: int) -> None:
        """Raise `banned` (with `until`) or `locked`; facilitators are never refused."""
        if role is Role.FACILITATOR:
            return
        ban = self.ban_of(who, now_ms)
        if ban is not None:
            raise ChatError(
                ErrorCode.BANNED, "you were removed from this room", until=iso_ms(ban.until_ms)
            )
        if self.locked and who not in self.admitted:
            raise ChatError(ErrorCode.LOCKED, "this room is not taking new people right now")

    def waiting(self, requires_facilitator: bool) -> bool:
        """A room that needs a facilitator waits while none is present."""
        return requires_facilitator and self.facilitators == 0

    def check_send(
        self,
        who: ParticipantId,
        role: Role,
        now_ms: int,
        last_sent_ms: int | None,
        *,
        listening: bool = False,
        requires_facilitator: bool = False,
        one_at_a_time: bool = False,
    ) -> None:
        """Raise the first reason a participant may not post now: `muted` (with `until`),
        `listening`, `waiting`, `not_your_turn` or `slow_mode` (with `retry_after` seconds).
        Facilitators are never refused."""
        if role is Role.FACILITATOR:
            return
        mute = self.mute_of(who, now_ms)
        if mute is not None:
            raise ChatError(ErrorCode.MUTED, "you are muted", until=iso_ms(mute.until_ms))
        if listening:
            raise ChatError(ErrorCode.LISTENING, "you are in listen-only mode; choose talk first")
        if self.waiting(requires_facilitator):
            raise ChatError(ErrorCode.WAITING, "this room opens when a facilitator is here")
        if one_at_a_time and self.turn != who:
            raise ChatError(ErrorCode.NOT_YOUR_TURN, "raise your hand and wait to be called on")
        if self.slow and last_sent_ms is not None:
            wait_ms = last_sent_ms + self.slow * 1000 - now_ms
            if wait_ms > 0:
                raise ChatError(
                    ErrorCode.SLOW_MODE, "slow mode is on", retry_after=round(wait_ms / 1000, 1)
                )

    def state(self, requires_facilitator: bool) -> dict[str, Any]:
        """The public part of the view, as `room_state` carries it."""
        return {
            "locked": self.locked,
            "slow": self.slow,
            "paused": self.paused,
            "waiting": self.waiting(requires_facilitator),
            "facilitator_present": self.facilitators > 0,
            "turn": self.turn,
        }
