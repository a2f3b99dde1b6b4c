"""`mute`: the participant may read but not send, for `minutes`; it expires by itself."""

from __future__ import annotations

from moderation.actions.base import (
    ActionSpec,
    Field,
    Outcome,
    Request,
    SetState,
    require_lower_rank,
)
from moderation.roles import Role
from moderation.sanctions import RoomView, Sanction

__all__ = ["ACTION"]


def decide(request: Request, view: RoomView) -> Outcome:
    target = require_lower_rank(request)
    until = request.now_ms + request.fields["minutes"] * 60_000
    sanction = Sanction(until, request.fields.get("reason") or "", request.by)
    change = SetState(f"mute:{target.participant}", sanction.as_value(), until - request.now_ms)
    return Outcome([change], ack={"participant": target.participant, "until_ms": until})


ACTION = ActionSpec(
    "mute", Role.FACILITATOR, (Field.PARTICIPANT, Field.MINUTES), decide, (Field.REASON,)
)
