"""What travels on a room's channel, and the byte layout of a `message` frame: known here only.

An envelope is `R` + a frame every local socket of the room gets verbatim, or `C` + a JSON
control event for the hub (`to`: a frame for some sockets only; `support`: crisis resources for
one participant's sockets; `set`: a state field changed; `staff`: the room's facilitator count;
`reset`: a new history epoch). The Redis scripts build two
of these themselves (the `reset` event and the message frame from `message_head` and
`message_tail`); tests/server/test_envelope.py holds their literals to this module.
"""

from __future__ import annotations

import json
from typing import Any

from moderation.roles import Role
from server.wire import encode

__all__ = [
    "CONTROL",
    "MESSAGE_START",
    "ROOM",
    "control",
    "field_set",
    "message_head",
    "message_id",
    "message_tail",
    "private_message",
    "reset",
    "staff",
    "support",
    "to_participant",
    "to_role",
    "to_room",
]

ROOM = "R"
CONTROL = "C"
# Every `message` frame starts so (type, then room, then id), and nothing else does.
MESSAGE_START = '{"type":"message","room":'


def to_room(frame: dict[str, Any]) -> str:
    """A frame for every socket in the room."""
    return ROOM + encode(frame)


def control(event: dict[str, Any]) -> str:
    """A control event for the hubs of every process serving the room."""
    return CONTROL + encode(event)


def to_role(frame: dict[str, Any], role: Role, participant: str | None = None) -> str:
    """A frame for the room's sockets with `role` (and `participant`'s, if given)."""
    event: dict[str, Any] = {"k": "to", "role": role.value, "frame": encode(frame)}
    if participant is not None:
        event["participant"] = participant
    return control(event)


def private_message(frame: str, participant: str) -> str:
    """An encoded message frame of a private conversation: for its participant and the room's
    facilitators only, never stored (the Redis script builds the same event)."""
    return control({"k": "to", "role": Role.FACILITATOR.value, "participant": participant,
                    "frame": frame})  # fmt: skip


def to_participant(frame: str, participant: str) -> str:
    """An encoded frame for one participant's sockets only."""
    return control({"k": "to", "participant": participant, "frame": frame})


def support(participant: str) -> str:
    """Crisis resources for one participant's sockets, built by each process for its own
    sockets (their order follows a country that only that process knows)."""
    return control({"k": "support", "participant": participant})


def staff(facilitators: int) -> str:
    """The room's live facilitator count changed (a room that needs one may wait)."""
    return control({"k": "staff", "n": facilitators})


def reset(epoch: str) -> str:
    """The room's history begins anew under `epoch`."""
    return control({"k": "reset", "epoch": epoch})


def field_set(name: str, value_json: str | None, version: int | None = None) -> str:
    """A state field's new JSON value (None: cleared); `version` orders changes of one field
    where the write and the announcement are two steps (the Redis broker's two stores)."""
    value = "null" if value_json is None else value_json
    tail = "}" if version is None else f',"n":{version}}}'
    return f'C{{"k":"set","f":{json.dumps(name)},"v":{value}{tail}'


def message_head(room: str) -> str:
    """A message frame up to its id: the broker appends the id it gives, then `message_tail`."""
    return f'{MESSAGE_START}{json.dumps(room, ensure_ascii=False)},"id":'


def message_tail(fields: dict[str, Any]) -> str:
    """The rest of a message frame after its id (participant, handle, role, text, html, ts...)."""
    return "," + encode(fields)[1:]


def message_id(frame: str) -> int | None:
    """The id of a `message` frame, or of an `R` envelope holding one, read without parsing
    the JSON (every delivery may pass here); None for any other frame."""
    start = 1 if frame.startswith(ROOM) else 0
    if not frame.startswith(MESSAGE_START, start):
        return None
    at = frame.find(',"id":', start + len(MESSAGE_START))
    if at < 0:
        return None
    at += 6
    end = at
    while end < len(frame) and frame[end].isdigit():
        end += 1
    return int(frame[at:end]) if end > at else None
