"""The shape every action shares, a member's as much as a facilitator's: declared fields, a
minimum role, the lookups it needs, and a pure `decide`.

`server/` (server/dispatch.py) parses the frame's fields by the declared kinds, looks up what
the action declares it needs (the target participant's role, the message's author, who is
present), calls `decide` with the room's view, and carries out the effects it returns
(server/effects.py): messages to publish or hold, changes to shared room state, history edits,
queue items, an audit entry. An action decides what happens, never when: the I/O order that
matters (subscribe before reading history) stays in `server/`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from moderation.crisis import CrisisDetector
from moderation.roles import Role
from moderation.room_view import RoomView
from moderation.sanctions import Sanction
from rooms.catalog import Room
from rooms.errors import ChatError, ErrorCode
from rooms.ids import ParticipantId, RoomId
from rooms.text import DEFAULT_MAX_CHARS, PreparedText

__all__ = [
    "MAX_MINUTES",
    "ActionSpec",
    "AddItem",
    "Agree",
    "CountMood",
    "CrisisAlert",
    "DeleteMessage",
    "Effect",
    "EndMoodSession",
    "EndSession",
    "Field",
    "Hold",
    "Leave",
    "ListChange",
    "Lookup",
    "Member",
    "Outcome",
    "PrivateNotice",
    "Publish",
    "Request",
    "ResolveItem",
    "SendAudit",
    "SendMoodSummary",
    "SetListening",
    "SetState",
    "TakeSeat",
    "Target",
    "refuse_unknown",
    "require_lower_rank",
    "timed_sanction",
]

MAX_MINUTES = 30 * 24 * 60  # a month: longer is not a timed sanction any more


class Field(StrEnum):
    """Field kinds an action can declare; each has one validation rule (server/dispatch.py)."""

    PARTICIPANT = "participant"
    MESSAGE_ID = "message_id"
    MINUTES = "minutes"
    SECONDS = "seconds"
    REASON = "reason"
    NOTE = "note"
    TEXT = "text"
    ITEM = "item"
    CONVERSATION = "conversation"
    MESSAGE = "message"  # the `text` of a member's message: prepared by the action itself
    CW = "cw"
    # Check-in and check-out: `value` and `when` are checked by the action itself
    # (moderation/mood.py); `epoch` names the session a late check-out is for.
    VALUE = "value"
    WHEN = "when"
    EPOCH = "epoch"


class Lookup(StrEnum):
    """What an action may need beyond the room's view, got before `decide`: the role and handle
    of the `participant` it names, the author of the `message_id` it names, the participants
    present in the room now, and a new random id (for what it creates)."""

    TARGET = "target"
    AUTHOR = "author"
    PRESENT = "present"
    FRESH_ID = "fresh_id"


@dataclass(frozen=True, slots=True)
class Member:
    """The actor's own place in the room, as its connection holds it."""

    participant: ParticipantId
    handle: str
    role: Role  # the role that counts now (a facilitator whose token expired is a member)
    agreed_version: int
    listening: bool
    last_sent_ms: int | None


@dataclass(frozen=True, slots=True)
class Target:
    """The participant acted on: `role` None means no such participant in the room."""

    participant: ParticipantId
    role: Role | None
    handle: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """A validated action request. `by` names the actor (facilitator name or handle)."""

    room: RoomId
    by: str
    role: Role
    now_ms: int
    fields: dict[str, Any]
    target: Target | None = None
    message_author: ParticipantId | None = None  # when `message_id` names a stored message
    present: tuple[ParticipantId, ...] = ()
    fresh_id: str = ""  # a new random id from the server, for actions that create something
    actor: ParticipantId | None = None  # the actor's own participant id in the room
    member: Member | None = None  # the actor's place in the room
    place: Room | None = None  # the room as the catalogue describes it
    text_limit: int = DEFAULT_MAX_CHARS
    crisis: CrisisDetector | None = None  # for actions that post words of a member


@dataclass(frozen=True, slots=True)
class SetState:
    """Set (or clear, with None) one field of the room's shared moderation state."""

    name: str
    value: dict[str, Any] | int | str | None
    ttl_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ListChange:
    """Add `participant` to the end of (or remove it from) the shared list field `name`,
    atomically on every process."""

    name: str
    participant: str
    add: bool


@dataclass(frozen=True, slots=True)
class PrivateNotice:
    """Tell a conversation's participant and the room's facilitators that it opened/closed."""

    kind: str  # private_opened or private_closed
    conversation: str
    participant: ParticipantId


@dataclass(frozen=True, slots=True)
class DeleteMessage:
    message_id: int


@dataclass(frozen=True, slots=True)
class EndSession:
    pass


@dataclass(frozen=True, slots=True)
class AddItem:
    """A new open item in the room's facilitator queue."""

    kind: str  # report, flag or alert
    participant: ParticipantId | None
    message_id: int | None
    note: str
    # When set: an open item of the same kind, actor and target is not added again (the
    # actor is answered with its id), and an actor with this many open items of the kind
    # is refused `limit_reached`. Checked and stored in one atomic step by the broker.
    open_cap: int | None = None


@dataclass(frozen=True, slots=True)
class ResolveItem:
    item: str


@dataclass(frozen=True, slots=True)
class Publish:
    """Store and publish a message of the actor's (`private_to`: only to that participant and
    the room's facilitators, never stored). `extra` adds `cw`, `conversation` or `kind`."""

    text: PreparedText
    extra: dict[str, Any] = field(default_factory=dict)
    private_to: str | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """Keep the actor's message from the room; only the author is told why (`held`)."""

    reason: str
    kind: str


@dataclass(frozen=True, slots=True)
class CrisisAlert:
    """The message just published used crisis language: the author privately gets where to
    find help, the room's facilitators an alert. Never stops the message."""


@dataclass(frozen=True, slots=True)
class SetListening:
    """The actor's listen-only mode on or off, shown to the room in presence."""

    on: bool


@dataclass(frozen=True, slots=True)
class Agree:
    """The actor accepted version `version` of the room's rules (remembered for them)."""

    version: int


@dataclass(frozen=True, slots=True)
class Leave:
    """The actor's connection leaves the room."""


@dataclass(frozen=True, slots=True)
class TakeSeat:
    """The joining member needs one of the room's `capacity` seats (rooms/seats.py), taken in
    the same atomic step that enters presence."""

    capacity: int


@dataclass(frozen=True, slots=True)
class SendAudit:
    """Answer the actor with the room's audit log."""


# -- check-in and check-out (moderation/actions/mood.py; I/O in server/moods.py) -------------


@dataclass(frozen=True, slots=True)
class CountMood:
    """Count one answer in the room's session (`session` None: the current one), once per
    participant, question and session; never stored with who gave it."""

    value: int
    when: str
    session: str | None = None


@dataclass(frozen=True, slots=True)
class SendMoodSummary:
    """Answer the actor (a facilitator) with the current session's `mood_summary`."""


@dataclass(frozen=True, slots=True)
class EndMoodSession:
    """The session ends: its `mood_summary` goes to the room's facilitators, and its end is
    recorded (late check-outs count for it a while longer). Before `EndSession`."""


Effect = (
    SetState
    | ListChange
    | PrivateNotice
    | DeleteMessage
    | EndSession
    | AddItem
    | ResolveItem
    | Publish
    | Hold
    | CrisisAlert
    | SetListening
    | Agree
    | Leave
    | SendAudit
    | TakeSeat
    | CountMood
    | SendMoodSummary
    | EndMoodSession
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the action does: `effects` in order, then the `ack` (unless `acks` is False: an
    effect answered the frame), then `then` (what must not delay the answer). `audit` False
    for actions that leave no audit entry; `audit_reason` when the entry's reason is not the
    frame's `reason` or `note`."""

    effects: list[Effect] = field(default_factory=list)
    audit: bool = True
    ack: dict[str, Any] = field(default_factory=dict)
    acks: bool = True
    then: list[Effect] = field(default_factory=list)
    audit_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action: its frame name, who may use it, its fields, and its rule."""

    name: str
    min_role: Role
    required: tuple[Field, ...]
    decide: Callable[[Request, RoomView], Outcome]
    optional: tuple[Field, ...] = ()
    one_of: tuple[Field, ...] = ()  # at least one of these must be given
    lookups: tuple[Lookup, ...] = ()
    budget: str | None = None  # a bucket of the connection's the action spends ("sends")


def refuse_unknown(request: Request) -> Target:
    """The request's target, or `not_found` when the room has no such participant."""
    if request.target is None or request.target.role is None:
        raise ChatError(ErrorCode.NOT_FOUND, "no such participant in this room")
    return request.target


def require_lower_rank(request: Request) -> Target:
    """The target, refused with `forbidden` when it ranks as high as the actor."""
    target = refuse_unknown(request)
    assert target.role is not None
    if target.role.rank >= request.role.rank:
        raise ChatError(ErrorCode.FORBIDDEN, "you cannot act on another facilitator")
    return target


def timed_sanction(request: Request, field_of: Callable[[str], str]) -> Outcome:
    """A mute or a ban (`field_of` names its field for a participant) of the target, lower in
    rank, for the request's `minutes`."""
    target = require_lower_rank(request)
    until = request.now_ms + request.fields["minutes"] * 60_000
    sanction = Sanction(until, request.fields.get("reason") or "", request.by)
    change = SetState(field_of(target.participant), sanction.as_value(), until - request.now_ms)
    return Outcome([change], ack={"participant": target.participant, "until_ms": until})
