"""A room's shared state as one process sees it (`RoomView`), the names of its fields, and what
a change to it means for the room's local sockets (`notices_for`).

The shared state is a flat map of fields to JSON values, kept in the backend with expiry:
`mute:<participant>`, `ban:<participant>` (sanctions), `lock`, `slow`, `pause`, `hands`, `turn`
and `conv:<conversation>`. This module is the one place that names them. Each process loads the
fields when it first serves a room and applies every change published on the room's channel, so
checks on the hot path need no network round trip. Times are milliseconds since the epoch,
always passed in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from moderation.roles import Role
from moderation.sanctions import Sanction, iso_seconds
from rooms.catalog import Room
from rooms.errors import ChatError, ErrorCode
from rooms.ids import ParticipantId

__all__ = [
    "BAN",
    "CONV",
    "HANDS_FIELD",
    "LOCK_FIELD",
    "MUTE",
    "PAUSE_FIELD",
    "SLOW_FIELD",
    "TURN_FIELD",
    "Evict",
    "Notice",
    "RoomView",
    "StateChanged",
    "ToParticipant",
    "ToRoom",
    "ban_field",
    "conv_field",
    "mute_field",
    "notices_for",
    "parse_field",
    "room_state",
]

# Field kinds. A sanction or a conversation names its subject after a colon.
MUTE, BAN, CONV = "mute", "ban", "conv"
LOCK_FIELD, SLOW_FIELD, PAUSE_FIELD = "lock", "slow", "pause"
HANDS_FIELD, TURN_FIELD = "hands", "turn"


def mute_field(participant: str) -> str:
    return f"{MUTE}:{participant}"


def ban_field(participant: str) -> str:
    return f"{BAN}:{participant}"


def conv_field(conversation: str) -> str:
    return f"{CONV}:{conversation}"


def parse_field(name: str) -> tuple[str, str]:
    """(kind, subject) of a field name; the subject is empty for room-wide fields."""
    kind, _, who = name.partition(":")
    return kind, who


@dataclass
class RoomView:
    """One room's shared state as this process sees it: sanctions, lock, slow mode, pause,
    raised hands and the turn, open private conversations, and how many facilitators are
    present (from the broker's `staff` events)."""

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
        """The view from the backend's stored fields (unknown fields are ignored, and so is a
        value that is not JSON: one bad field must not keep a room from loading)."""
        view = cls()
        for name, raw in fields.items():
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            view.apply(name, value)
        return view

    def apply(self, name: str, value: Any) -> None:
        """Apply one change; `value` None clears the field. Idempotent."""
        kind, who = parse_field(name)
        if kind in (MUTE, BAN):
            table = self.mutes if kind == MUTE else self.bans
            if value is None:
                table.pop(ParticipantId(who), None)
            else:
                table[ParticipantId(who)] = Sanction.from_value(value)
        elif kind == LOCK_FIELD:
            self.locked = value is not None
            self.admitted = frozenset(value.get("admitted", ())) if value else frozenset()
        elif kind == SLOW_FIELD:
            self.slow = int(value or 0)
        elif kind == PAUSE_FIELD:
            self.paused = value is not None
        elif kind == HANDS_FIELD:
            self.hands = [str(p) for p in value or ()]
        elif kind == TURN_FIELD:
            self.turn = str(value) if value else None
        elif kind == CONV:
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
                ErrorCode.BANNED, "you were removed from this room", until=iso_seconds(ban.until_ms)
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
            raise ChatError(ErrorCode.MUTED, "you are muted", until=iso_seconds(mute.until_ms))
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


def room_state(room: Room, view: RoomView) -> dict[str, Any]:
    """The `room_state` frame of `room` as `view` sees it."""
    return {
        "type": "room_state",
        "room": room.id,
        **view.state(room.requires_facilitator),
        "one_at_a_time": room.one_at_a_time,
        "rules_version": room.rules_version,
    }


@dataclass(frozen=True, slots=True)
class ToParticipant:
    """A frame for one participant's sockets."""

    participant: str
    frame: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Evict:
    """Take the participant's sockets out of the room (after they were told why)."""

    participant: str


@dataclass(frozen=True, slots=True)
class ToRoom:
    """A frame for every socket in the room."""

    frame: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StateChanged:
    """What `room_state` shows changed: send the room its new `room_state`."""


Notice = ToParticipant | Evict | ToRoom | StateChanged


def notices_for(room: str, view: RoomView, name: str, value: Any) -> list[Notice]:
    """What the change of field `name` to `value` (None: cleared), already applied to `view`,
    means to the room's local sockets."""
    kind, who = parse_field(name)
    if kind == MUTE:
        if value is None:
            return [ToParticipant(who, {"type": "unmuted", "room": room, "reason": ""})]
        muted = {"type": "muted", "room": room, "until": iso_seconds(int(value["until"])),
                 "reason": value.get("reason", "")}  # fmt: skip
        return [ToParticipant(who, muted)]
    if kind == BAN:
        if value is None:
            return []
        removed = {"type": "removed", "room": room, "until": iso_seconds(int(value["until"])),
                   "reason": value.get("reason", "")}  # fmt: skip
        return [ToParticipant(who, removed), Evict(who)]
    if kind == HANDS_FIELD:
        return [ToRoom({"type": "hands", "room": room, "queue": list(view.hands)})]
    if kind == CONV:
        return []  # private_opened/private_closed are sent by the acting process
    return [StateChanged()]
