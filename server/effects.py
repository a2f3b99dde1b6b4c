"""The one place an action's effects become I/O: broker calls, frames to the actor, presence.

`perform` takes one effect (moderation/actions/base.py) in the context of the frame that
caused it and returns what it adds to the frame's `ack` (a new message's `id`, a queue item's
id, the new `epoch`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from moderation.actions.base import (
    AddItem,
    Agree,
    CountMood,
    CrisisAlert,
    DeleteMessage,
    Effect,
    EndMoodSession,
    EndSession,
    Hold,
    Leave,
    ListChange,
    PrivateNotice,
    Publish,
    ResolveItem,
    SendAudit,
    SendMoodSummary,
    SetListening,
    SetState,
)
from moderation.sanctions import iso_seconds
from rooms.errors import ChatError, ErrorCode
from rooms.ids import RoomId
from server import envelope as envelopes
from server import moods, wire
from server.joining import STATE_KEEP_MS, leave_room, remember_agreement, set_listening
from server.queue import add_queue_item, to_facilitators
from server.replies import iso
from server.services import Services
from server.session import Membership, Session
from server.support import support_frame

__all__ = ["Context", "perform"]


@dataclass(frozen=True, slots=True)
class Context:
    """Who caused the effects: the socket, its place in the room, its name for queue and audit
    (`by`), and the frame's `ref`."""

    svc: Services
    session: Session
    membership: Membership
    by: str
    ref: str | None

    @property
    def room(self) -> RoomId:
        return self.membership.room.id


async def perform(ctx: Context, effect: Effect, done: dict[str, Any]) -> dict[str, Any]:
    """Carry out one effect, given what the frame's earlier effects produced (`done`, as the
    ack carries it); return what it adds to the ack."""
    svc, room = ctx.svc, ctx.room
    if isinstance(effect, Publish):
        return {"id": await _publish(ctx, effect)}
    if isinstance(effect, Hold):
        # Kept from the room; only the author is told, with the reason.
        held = {"type": "held", "ref": ctx.ref, "room": room, "reason": effect.reason,
                "kind": effect.kind}  # fmt: skip
        ctx.session.deliver(wire.encode(held))
        svc.metrics.held.labels(effect.reason).inc()
    elif isinstance(effect, CrisisAlert):
        await _crisis_alert(ctx, int(done["id"]))
    elif isinstance(effect, SetState):
        value = None if effect.value is None else json.dumps(effect.value)
        await svc.broker.set_field(room, effect.name, value, effect.ttl_ms or STATE_KEEP_MS)
    elif isinstance(effect, ListChange):
        await svc.broker.update_list(
            room, effect.name, effect.participant, effect.add, STATE_KEEP_MS
        )
    elif isinstance(effect, SetListening):
        await set_listening(svc, ctx.membership, effect.on)
    elif isinstance(effect, Agree):
        await remember_agreement(svc, ctx.membership, effect.version)
    elif isinstance(effect, Leave):
        await leave_room(svc, ctx.session, ctx.membership)
    elif isinstance(effect, PrivateNotice):
        frame: dict[str, Any] = {"type": effect.kind, "room": room,
                                 "conversation": effect.conversation,
                                 "participant": effect.participant}  # fmt: skip
        await svc.broker.publish(room, to_facilitators(frame, effect.participant))
        if effect.kind == "private_opened":
            # Each process builds the frame for its own sockets of the participant, in the
            # order their country asks for: the country never leaves the process.
            await svc.broker.publish(room, envelopes.support(effect.participant))
    elif isinstance(effect, DeleteMessage):
        await svc.broker.delete_message(room, effect.message_id)
        deleted = {"type": "deleted", "room": room, "message_id": effect.message_id}
        await svc.broker.publish(room, envelopes.to_room(deleted))
    elif isinstance(effect, EndSession):
        epoch = await svc.broker.reset_history(room)
        await svc.broker.publish(room, envelopes.to_room({"type": "session_ended", "room": room}))
        await svc.broker.publish(room, envelopes.reset(epoch))
        return {"epoch": epoch}
    elif isinstance(effect, AddItem):
        return await _add_item(ctx, effect)
    elif isinstance(effect, ResolveItem):
        keep = svc.settings.audit_days * 86400 * 1000
        item = await svc.broker.queue_resolve(room, effect.item, ctx.by, keep)
        if item is None:
            raise ChatError(ErrorCode.NOT_FOUND, "no such queue item")
        frame = {"type": "resolved", "room": room, "item": effect.item, "by": ctx.by}
        await svc.broker.publish(room, to_facilitators(frame))
    elif isinstance(effect, SendAudit):
        await _send_audit(ctx)
    elif isinstance(effect, CountMood):
        await moods.count_mood(svc, room, ctx.membership.participant, effect)
    elif isinstance(effect, SendMoodSummary):
        await moods.send_summary(svc, ctx.session, room, ctx.ref)
    elif isinstance(effect, EndMoodSession):
        await moods.end_mood_session(svc, room)
    return {}


async def _publish(ctx: Context, effect: Publish) -> int:
    """Store and publish the prepared text in one broker round trip (the message's head and
    tail are laid out once, by server/envelope.py)."""
    svc, membership = ctx.svc, ctx.membership
    now = svc.now()
    tail = envelopes.message_tail(
        {
            "participant": membership.participant,
            "handle": membership.handle,
            "role": ctx.session.role_in(membership, now).value,
            "text": effect.text.text,
            "html": effect.text.html,
            "ts": iso(now),
            **effect.extra,
        }
    )
    msg_id, _ = await svc.broker.publish_message(
        ctx.room,
        envelopes.message_head(ctx.room),
        tail,
        int(now * 1000),
        svc.limits,
        effect.private_to,
    )
    membership.last_sent_ms = int(now * 1000)
    svc.metrics.messages_in += 1
    return msg_id


async def _crisis_alert(ctx: Context, msg_id: int) -> None:
    """Never holds the message `msg_id`: the author privately gets help, facilitators get an
    alert."""
    svc, room, membership = ctx.svc, ctx.room, ctx.membership
    svc.metrics.crisis_alerts.inc()
    ctx.session.deliver(support_frame(svc.crisis, room, ctx.session))
    item = AddItem("alert", membership.participant, msg_id, "possible crisis language")
    stored = await add_queue_item(svc, room, item, "system")
    _escalate(ctx, "crisis_alert", str(stored["id"]), always=True)
    alert = {"type": "alert", "room": room, "item": stored["id"], "message_id": msg_id,
             "participant": membership.participant, "handle": membership.handle}  # fmt: skip
    await svc.broker.publish(room, to_facilitators(alert))


async def _add_item(ctx: Context, effect: AddItem) -> dict[str, Any]:
    stored = await add_queue_item(ctx.svc, ctx.room, effect, ctx.by)
    if stored.get("merged"):
        return {"item": stored["id"], "merged": True}  # facilitators were told already
    if effect.kind == "report":
        _escalate(ctx, "report", str(stored["id"]), always=False)
    kind = "reported" if effect.kind == "report" else "flagged"
    note_name = "reason" if effect.kind == "report" else "note"
    notice = {"type": kind, "room": ctx.room, "participant": effect.participant,
              "message_id": effect.message_id, note_name: effect.note, "by": ctx.by,
              "item": stored["id"]}  # fmt: skip
    await ctx.svc.broker.publish(ctx.room, to_facilitators(notice))
    return {"item": stored["id"]}


def _escalate(ctx: Context, kind: str, item: str, always: bool) -> None:
    """Tell the webhook (if set): every crisis alert, and a report only when no facilitator
    is present to see it. Queued, never awaited: a dead webhook slows no message."""
    webhook = ctx.svc.webhook
    if webhook is None:
        return
    local = ctx.svc.hub.rooms.get(ctx.room)
    present = local is not None and local.view.facilitators > 0
    if always or not present:
        webhook.notify(kind, ctx.room, item, iso(ctx.svc.now()), present)


async def _send_audit(ctx: Context) -> None:
    svc = ctx.svc
    cutoff = iso_seconds(int((svc.now() - svc.settings.audit_days * 86400) * 1000))
    entries = [json.loads(e) for e in await svc.broker.audit_entries(ctx.room)]
    entries = [e for e in entries if e.get("at", "") >= cutoff]
    audit_log = {"type": "audit_log", "ref": ctx.ref, "room": ctx.room, "entries": entries}
    ctx.session.deliver(wire.encode(audit_log))
