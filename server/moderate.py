"""Carries out moderation actions: checks the actor, parses the declared fields, looks up what
the pure rule needs, calls it, and performs its effects on every process through the broker."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from moderation.actions.base import (
    MAX_MINUTES,
    ActionSpec,
    AddItem,
    Announce,
    DeleteMessage,
    Effect,
    EndSession,
    Field,
    ListChange,
    PrivateNotice,
    Request,
    ResolveItem,
    SetState,
    Target,
)
from moderation.actions.registry import ACTIONS
from moderation.queue import queue_page
from moderation.roles import Role
from moderation.sanctions import iso_seconds
from rooms.errors import ChatError, ErrorCode
from rooms.ids import ParticipantId, RoomId
from rooms.text import normalize, prepare
from server import envelope as envelopes
from server import wire
from server.replies import membership_of
from server.services import Services
from server.session import Membership, Session

__all__ = [
    "MODERATION_HANDLERS",
    "add_queue_item",
    "queue_frame",
    "support_frame",
    "to_facilitators",
]

_STATE_KEEP_MS = 31 * 86400 * 1000


def _text_field(frame: dict[str, Any], name: str, limit: int, required: bool) -> str | None:
    raw = frame.get(name)
    if raw is None and not required:
        return None
    if not isinstance(raw, str):
        raise ChatError(ErrorCode.BAD_REQUEST, f"{name} must be a string")
    if not raw.strip() and not required:
        return ""
    if len(raw) > limit * 4:
        raise ChatError(ErrorCode.BAD_REQUEST, f"{name} is longer than {limit} characters")
    try:
        return normalize(raw, limit)
    except ChatError as err:
        raise ChatError(ErrorCode.BAD_REQUEST, f"{name}: {err.message}") from None


def _parse(kind: Field, frame: dict[str, Any], required: bool, svc: Services) -> Any:
    name = kind.value
    if kind is Field.PARTICIPANT:
        return wire.req_str(frame, name, 64) if required else wire.opt_str(frame, name, 64)
    if kind in (Field.ITEM, Field.CONVERSATION):
        return wire.req_str(frame, name, 64) if required else wire.opt_str(frame, name, 64)
    if kind is Field.MESSAGE_ID:
        return (wire.req_int if required else wire.opt_int)(frame, name, 1, 2**53)
    if kind is Field.MINUTES:
        return (wire.req_int if required else wire.opt_int)(frame, name, 1, MAX_MINUTES)
    if kind is Field.SECONDS:
        return (wire.req_int if required else wire.opt_int)(frame, name, 0, 3600)
    if kind is Field.TEXT:
        return _text_field(frame, name, svc.settings.max_text_chars, required)
    return _text_field(frame, name, 500, required)  # reason, note


def parse_fields(spec: ActionSpec, frame: dict[str, Any], svc: Services) -> dict[str, Any]:
    """The action's declared fields, validated; `bad_request` names the first bad one."""
    fields = {f.value: _parse(f, frame, True, svc) for f in spec.required}
    fields.update({f.value: _parse(f, frame, False, svc) for f in spec.optional})
    if spec.one_of and all(fields.get(f.value) is None for f in spec.one_of):
        names = " or ".join(f.value for f in spec.one_of)
        raise ChatError(ErrorCode.BAD_REQUEST, f"name a {names}")
    return fields


def to_facilitators(frame: dict[str, Any], participant: str | None = None) -> str:
    """An envelope every process delivers to the room's facilitators only (and to
    `participant`'s sockets, if given)."""
    return envelopes.to_role(frame, Role.FACILITATOR, participant)


async def add_queue_item(svc: Services, room: RoomId, item: AddItem, by: str) -> dict[str, Any]:
    """Store an item in the room's facilitator queue and show it to the room's facilitators.

    With `item.open_cap`: an open item of the same kind, `by` and target is returned as it is
    stored, with `"merged": True`, and nothing is shown again; `by` already having that many
    open items of the kind is refused with `limit_reached`."""
    body = {
        "kind": item.kind,
        "participant": item.participant,
        "message_id": item.message_id,
        "note": item.note,
        "by": by,
        "at": iso_seconds(int(svc.now() * 1000)),
        "status": "open",
    }
    keep = svc.settings.audit_days * 86400 * 1000
    if item.open_cap is None:
        item_id = await svc.broker.queue_add(room, body, keep)
    else:
        outcome, item_id = await svc.broker.queue_add_once(room, body, keep, item.open_cap)
        if outcome == "merged":
            return {**body, "id": item_id, "merged": True}
        if outcome == "full":
            raise ChatError(ErrorCode.LIMIT_REACHED, "too many open reports in this room")
    stored = {**body, "id": item_id}
    await svc.broker.publish(
        room, to_facilitators({"type": "queue_item", "room": room, "item": stored})
    )
    return stored


async def _perform(
    svc: Services, session: Session, membership: Membership, effect: Effect, by: str
) -> dict[str, Any]:
    room = membership.room.id
    if isinstance(effect, SetState):
        value = None if effect.value is None else json.dumps(effect.value)
        await svc.broker.set_field(room, effect.name, value, effect.ttl_ms or _STATE_KEEP_MS)
    elif isinstance(effect, ListChange):
        await svc.broker.update_list(
            room, effect.name, effect.participant, effect.add, _STATE_KEEP_MS
        )
    elif isinstance(effect, PrivateNotice):
        frame: dict[str, Any] = {"type": effect.kind, "room": room,
                                 "conversation": effect.conversation,
                                 "participant": effect.participant}  # fmt: skip
        await svc.broker.publish(room, to_facilitators(frame, effect.participant))
        if effect.kind == "private_opened":
            await svc.broker.publish(
                room, envelopes.to_participant(support_frame(svc, room), effect.participant)
            )
    elif isinstance(effect, DeleteMessage):
        await svc.broker.delete_message(room, effect.message_id)
        deleted = {"type": "deleted", "room": room, "message_id": effect.message_id}
        await svc.broker.publish(room, envelopes.to_room(deleted))
    elif isinstance(effect, EndSession):
        epoch = await svc.broker.reset_history(room)
        await svc.broker.publish(room, envelopes.to_room({"type": "session_ended", "room": room}))
        await svc.broker.publish(room, envelopes.reset(epoch))
        return {"epoch": epoch}
    elif isinstance(effect, Announce):
        from server.posting import publish_text

        text = prepare(effect.text, svc.settings.max_text_chars)
        msg_id = await publish_text(svc, session, membership, text, {"kind": "announcement"})
        return {"id": msg_id}
    elif isinstance(effect, AddItem):
        stored = await add_queue_item(svc, room, effect, by)
        if stored.get("merged"):
            return {"item": stored["id"], "merged": True}  # facilitators were told already
        kind = "reported" if effect.kind == "report" else "flagged"
        note_name = "reason" if effect.kind == "report" else "note"
        notice = {"type": kind, "room": room, "participant": effect.participant,
                  "message_id": effect.message_id, note_name: effect.note, "by": by,
                  "item": stored["id"]}  # fmt: skip
        await svc.broker.publish(room, to_facilitators(notice))
        return {"item": stored["id"]}
    elif isinstance(effect, ResolveItem):
        keep = svc.settings.audit_days * 86400 * 1000
        item = await svc.broker.queue_resolve(room, effect.item, by, keep)
        if item is None:
            raise ChatError(ErrorCode.NOT_FOUND, "no such queue item")
        frame = {"type": "resolved", "room": room, "item": effect.item, "by": by}
        await svc.broker.publish(room, to_facilitators(frame))
    return {}


def _actor(session: Session, membership: Membership, spec: ActionSpec, now: float) -> str:
    """The actor's name for queue and audit; refuses members and out-of-scope facilitators."""
    if spec.min_role is Role.MEMBER:
        return membership.handle
    claim = session.facilitator
    if session.role is not Role.FACILITATOR or claim is None:
        raise ChatError(ErrorCode.FORBIDDEN, "only facilitators can do that")
    if now >= claim.expires_at:
        raise ChatError(ErrorCode.UNAUTHORIZED, "facilitator token has expired")
    if session.role_in(membership, now) is not Role.FACILITATOR:
        raise ChatError(ErrorCode.FORBIDDEN, "you do not facilitate this room")
    return claim.name


def _handler(
    spec: ActionSpec,
) -> Callable[[Services, Session, dict[str, Any], str | None], Awaitable[None]]:
    async def handle(
        svc: Services, session: Session, frame: dict[str, Any], ref: str | None
    ) -> None:
        # Role first: a member learns nothing about rooms or fields from a facilitator frame.
        if spec.min_role is Role.FACILITATOR and session.role is not Role.FACILITATOR:
            raise ChatError(ErrorCode.FORBIDDEN, "only facilitators can do that")
        membership = membership_of(session, frame)
        now = svc.now()
        by = _actor(session, membership, spec, now)
        fields = parse_fields(spec, frame, svc)
        room = membership.room.id
        local = svc.hub.rooms.get(room)
        if local is None:
            raise ChatError(ErrorCode.NOT_JOINED, "join the room first")
        target = None
        if fields.get("participant") is not None:
            pid = ParticipantId(fields["participant"])
            found = await svc.broker.participant_role(room, pid)
            target = Target(pid, Role(found[0]) if found else None, found[1] if found else None)
        author = None
        if fields.get("message_id") is not None:
            stored = await svc.broker.get_message(room, fields["message_id"])
            author = ParticipantId(json.loads(stored)["participant"]) if stored else None
        present: tuple[ParticipantId, ...] = ()
        if spec.name in ("lock", "pause"):
            infos = await svc.broker.participants(room, int(now * 1000))
            present = tuple(ParticipantId(json.loads(i)["participant"]) for i in infos)
        role = session.role_in(membership, now)
        request = Request(
            room, by, role, int(now * 1000), fields, target, author, present,
            fresh_id="c" + secrets.token_hex(8), actor=membership.participant,
        )  # fmt: skip
        outcome = spec.decide(request, local.view)
        ack: dict[str, Any] = {}
        for effect in outcome.effects:
            ack.update(await _perform(svc, session, membership, effect, by))
        svc.metrics.moderation.labels(spec.name).inc()
        if spec.name == "audit":
            await _send_audit(svc, session, room, ref)
            return
        if outcome.audit:
            entry = {
                "at": iso_seconds(request.now_ms),
                "by": by,
                "action": spec.name,
                "participant": fields.get("participant") or author,
                "message_id": fields.get("message_id"),
                "reason": fields.get("reason") or fields.get("note") or "",
            }
            if spec.name == "slow":
                entry["reason"] = f"{fields['seconds']} s"
            keep = svc.settings.audit_days * 86400 * 1000
            await svc.broker.audit_append(room, wire.encode(entry), keep, 1000)
        ack.update({k: v for k, v in outcome.ack.items() if k != "until_ms"})
        if "until_ms" in outcome.ack:
            ack["until"] = iso_seconds(outcome.ack["until_ms"])
        session.deliver(wire.encode({"type": "ack", "ref": ref, "room": room, **ack}))

    return handle


async def _send_audit(svc: Services, session: Session, room: RoomId, ref: str | None) -> None:
    cutoff = iso_seconds(int((svc.now() - svc.settings.audit_days * 86400) * 1000))
    entries = [json.loads(e) for e in await svc.broker.audit_entries(room)]
    entries = [e for e in entries if e.get("at", "") >= cutoff]
    session.deliver(
        wire.encode({"type": "audit_log", "ref": ref, "room": room, "entries": entries})
    )


async def queue_frame(svc: Services, room: RoomId) -> str:
    """The `queue` frame a joining facilitator gets: a bounded page of the open items, crisis
    alerts first (moderation.queue), with `total` open items and `more` when some are left
    out (resolving items brings them into the page at the next join)."""
    page = queue_page(await svc.broker.queue_items(room))
    return wire.encode(
        {"type": "queue", "room": room, "items": page.items, "total": page.total,
         "more": page.more}
    )  # fmt: skip


def support_frame(svc: Services, room: RoomId) -> str:
    """The private `support` frame with the configured crisis resources."""
    resources = [{"name": r.name, "contact": r.contact} for r in svc.crisis.resources]
    return wire.encode({"type": "support", "room": room, "resources": resources})


MODERATION_HANDLERS = {name: _handler(spec) for name, spec in ACTIONS.items()}
