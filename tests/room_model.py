"""A client's picture of one room, rebuilt from the frames it receives: a pure reducer.

`RoomModel.from_joined` starts from a `joined` frame; `apply` folds in each later frame the
socket receives, in order; `snapshot` returns what can be compared with another client's
picture. Its use (tests/test_state_replay.py) is the "state before plus events equals state
fetched after" check: a watcher's picture, rebuilt from the events of every action, must equal
what `joined` + `room_state` + `hands` (+ `queue` and `private_opened` for a facilitator) tell
someone who joins right after.

The reducer knows every server frame: a frame type it has not been taught raises
`ModelError`, so a new frame that changes what others see cannot slip past the check.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelError", "Participant", "RoomModel", "Snapshot", "differences"]

Frame = dict[str, Any]

# Frames that change nothing of the room as this model holds it: answers to this socket,
# notices about this socket only, and the facilitator notices that come with a `queue_item`
# (the item itself is the state; `reported`, `flagged` and `alert` only name it).
_NO_ROOM_STATE = frozenset(
    {
        "ack",
        "error",
        "welcome",
        "held",
        "support",
        "muted",
        "unmuted",
        "removed",
        "reported",
        "flagged",
        "alert",
        "audit_log",
    }
)
_FACILITATOR_ONLY = frozenset({"queue", "queue_item", "resolved", "mood_summary"})


class ModelError(AssertionError):
    """A frame the model cannot fold in: unknown, out of place, or contradicting the picture
    (a message id seen twice, a facilitator-only frame reaching a member). An AssertionError,
    so a test shows it as a failure with its reason."""


@dataclass(frozen=True)
class Participant:
    """One present participant, as `joined.participants` and `presence` describe them."""

    handle: str
    role: str
    listening: bool

    @classmethod
    def of(cls, frame: Frame) -> Participant:
        return cls(str(frame["handle"]), str(frame["role"]), bool(frame["listening"]))


@dataclass(frozen=True)
class Snapshot:
    """What one client knows of a room. `queue` (open items by id) is None for a member view;
    `conversations` (open private conversation -> its participant) holds the ones this socket
    was told of, which for a member are only its own."""

    epoch: str
    members: int
    participants: dict[str, Participant]
    history: tuple[Frame, ...]
    state: Frame | None
    hands: tuple[str, ...] | None
    queue: dict[str, Frame] | None
    conversations: dict[str, str | None]

    def public(self) -> Snapshot:
        """The part every member of the room sees alike."""
        return dataclasses.replace(self, queue=None, conversations={})

    def without(self, participant: str) -> Snapshot:
        """This picture with `participant` not present (a newcomer's own entry taken out)."""
        if participant not in self.participants:
            raise ModelError(f"{participant} is not present")
        rest = {p: info for p, info in self.participants.items() if p != participant}
        return dataclasses.replace(self, participants=rest, members=self.members - 1)


@dataclass
class RoomModel:
    """One socket's picture of one room. Build it with `from_joined`; feed it with `apply`."""

    room: str
    participant: str
    role: str
    epoch: str
    members: int
    participants: dict[str, Participant]
    history: dict[int, Frame]
    state: Frame | None = None
    hands: list[str] | None = None
    queue: dict[str, Frame] | None = None
    conversations: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_joined(cls, joined: Frame) -> RoomModel:
        """The picture a `joined` frame gives; `room_state`, `hands` (and for a facilitator
        `queue`, `private_opened`) follow it as ordinary frames."""
        if joined.get("type") != "joined":
            raise ModelError(f"a model starts from joined, not {joined.get('type')}")
        history: dict[int, Frame] = {}
        for message in joined["history"]:
            _add_message(history, message)
        return cls(
            room=str(joined["room"]),
            participant=str(joined["participant"]),
            role=str(joined["role"]),
            epoch=str(joined["epoch"]),
            members=int(joined["members"]),
            participants={str(p["participant"]): Participant.of(p) for p in joined["participants"]},
            history=history,
        )

    def apply(self, frame: Frame) -> None:
        """Fold in one frame this socket received; frames of other rooms are skipped."""
        kind = frame.get("type")
        if kind == "facilitator_ended":
            # The socket is a plain member from now on: the queue is no longer its to see.
            self.role = "member"
            self.queue = None
            return
        if kind in _NO_ROOM_STATE:
            return
        handler = _HANDLERS.get(str(kind))
        if handler is None:
            raise ModelError(f"no rule for a {kind} frame")
        if frame.get("room") != self.room:
            return
        if kind in _FACILITATOR_ONLY and self.role != "facilitator":
            raise ModelError(f"{kind} reached a member's socket")
        handler(self, frame)

    def apply_all(self, frames: list[Frame]) -> None:
        for frame in frames:
            self.apply(frame)

    def snapshot(self) -> Snapshot:
        return Snapshot(
            epoch=self.epoch,
            members=self.members,
            participants=dict(self.participants),
            history=tuple(self.history[i] for i in sorted(self.history)),
            state=None if self.state is None else dict(self.state),
            hands=None if self.hands is None else tuple(self.hands),
            queue=None if self.queue is None else dict(self.queue),
            conversations=dict(self.conversations),
        )

    # -- one rule per frame type ----------------------------------------------------------

    def _presence(self, frame: Frame) -> None:
        who = str(frame["participant"])
        self.members = int(frame["members"])
        event = frame["event"]
        if event in ("join", "update"):
            self.participants[who] = Participant.of(frame)
        elif event == "leave":
            # A leave published while this socket was joining may name someone its
            # participant list already left out: nothing to take away then.
            self.participants.pop(who, None)
        else:
            raise ModelError(f"no rule for presence event {event}")

    def _message(self, frame: Frame) -> None:
        if frame.get("conversation") is not None:
            return  # private: never part of the room's history
        _add_message(self.history, frame)

    def _deleted(self, frame: Frame) -> None:
        self.history.pop(int(frame["message_id"]), None)

    def _session_ended(self, frame: Frame) -> None:
        self.history.clear()

    def _room_reset(self, frame: Frame) -> None:
        # A new epoch starts empty: what was shown belongs to the previous session.
        self.history.clear()
        self.epoch = str(frame["epoch"])

    def _room_state(self, frame: Frame) -> None:
        self.state = {k: v for k, v in frame.items() if k not in ("type", "room")}

    def _hands(self, frame: Frame) -> None:
        self.hands = [str(p) for p in frame["queue"]]

    def _queue(self, frame: Frame) -> None:
        if frame.get("more"):
            raise ModelError("a queue page that leaves items out cannot be compared")
        self.queue = {str(item["id"]): item for item in frame["items"]}

    def _queue_item(self, frame: Frame) -> None:
        item = frame["item"]
        self._open_queue("queue_item")[str(item["id"])] = item

    def _resolved(self, frame: Frame) -> None:
        self._open_queue("resolved").pop(str(frame["item"]), None)

    def _open_queue(self, kind: str) -> dict[str, Frame]:
        if self.queue is None:
            raise ModelError(f"{kind} before the queue")
        return self.queue

    def _private_opened(self, frame: Frame) -> None:
        participant = frame.get("participant")
        self.conversations[str(frame["conversation"])] = (
            None if participant is None else str(participant)
        )

    def _private_closed(self, frame: Frame) -> None:
        self.conversations.pop(str(frame["conversation"]), None)

    def _mood_summary(self, frame: Frame) -> None:
        """Check-in counts: told to facilitators as they stand, not part of the picture a
        joiner gets (a facilitator asks for them)."""

    def _joined(self, frame: Frame) -> None:
        raise ModelError("a second joined for a room already joined")


def _add_message(history: dict[int, Frame], message: Frame) -> None:
    message_id = int(message["id"])
    if message_id in history:
        raise ModelError(f"message {message_id} delivered twice")
    history[message_id] = message


_HANDLERS = {
    "presence": RoomModel._presence,
    "message": RoomModel._message,
    "deleted": RoomModel._deleted,
    "session_ended": RoomModel._session_ended,
    "room_reset": RoomModel._room_reset,
    "room_state": RoomModel._room_state,
    "hands": RoomModel._hands,
    "queue": RoomModel._queue,
    "queue_item": RoomModel._queue_item,
    "resolved": RoomModel._resolved,
    "private_opened": RoomModel._private_opened,
    "private_closed": RoomModel._private_closed,
    "mood_summary": RoomModel._mood_summary,
    "joined": RoomModel._joined,
}


def differences(got: Snapshot, want: Snapshot) -> list[str]:
    """Where two pictures differ, one line per field, or per key of the fields that map ids:
    `field[key]: got … , want …` (empty when they are equal)."""
    lines = []
    for name in (f.name for f in dataclasses.fields(Snapshot)):
        a, b = getattr(got, name), getattr(want, name)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(a.keys() | b.keys()):
                if a.get(key) != b.get(key):
                    lines.append(f"{name}[{key}]: got {a.get(key)!r}, want {b.get(key)!r}")
        else:
            lines.append(f"{name}: got {a!r}, want {b!r}")
    return lines
