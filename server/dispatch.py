"""One path for every frame in a room: spec → actor → fields → lookups → decide → budget →
effects → audit → ack → what follows the ack.

Each action (moderation/actions/) declares its frame's fields, the least role that may send it,
the lookups its rule needs and the budget it spends; `decide` is pure. This module parses and
looks up what is declared, asks the rule with the room's local view (no network round trip
for the rule itself), and has server/effects.py carry out what it returns.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from moderation.actions.base import (
    MAX_MINUTES,
    ActionSpec,
    Field,
    Lookup,
    Member,
    Request,
    Target,
)
from moderation.actions.registry import ACTIONS, MODERATION
from moderation.roles import Role
from moderation.sanctions import iso_seconds
from rooms.errors import ChatError, ErrorCode
from rooms.ids import ParticipantId, RoomId
from rooms.text import normalize
from server import wire
from server.effects import Context, perform
from server.replies import membership_of
from server.services import Services
from server.session import Membership, Session

__all__ = ["ACTION_HANDLERS", "Handler", "handler_for", "parse_fields"]

Handler = Callable[[Services, Session, dict[str, Any], str | None], Awaitable[None]]
_NOTE_CHARS = 500  # a reason or a note


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


def _raw_text(frame: dict[str, Any], name: str, required: bool) -> str | None:
    """Words the action prepares itself (normalised and rendered once, with its limits)."""
    raw = frame.get(name)
    if raw is None and not required:
        return None
    if not isinstance(raw, str):
        raise ChatError(ErrorCode.BAD_REQUEST, f"{name} must be a string")
    return raw


def _parse(kind: Field, frame: dict[str, Any], required: bool) -> Any:
    name = kind.value
    if kind in (Field.VALUE, Field.WHEN):
        return frame.get(name)  # checked by the action (moderation/mood.py)
    if kind in (Field.PARTICIPANT, Field.ITEM, Field.CONVERSATION, Field.EPOCH):
        return wire.req_str(frame, name, 64) if required else wire.opt_str(frame, name, 64)
    if kind is Field.MESSAGE_ID:
        return (wire.req_int if required else wire.opt_int)(frame, name, 1, 2**53)
    if kind is Field.MINUTES:
        return (wire.req_int if required else wire.opt_int)(frame, name, 1, MAX_MINUTES)
    if kind is Field.SECONDS:
        return (wire.req_int if required else wire.opt_int)(frame, name, 0, 3600)
    if kind in (Field.TEXT, Field.CW):
        return _raw_text(frame, name, required)
    return _text_field(frame, name, _NOTE_CHARS, required)  # reason, note


def parse_fields(spec: ActionSpec, frame: dict[str, Any]) -> dict[str, Any]:
    """The action's declared fields, validated; `bad_request` names the first bad one."""
    fields = {f.value: _parse(f, frame, True) for f in spec.required}
    fields.update({f.value: _parse(f, frame, False) for f in spec.optional})
    if spec.one_of and all(fields.get(f.value) is None for f in spec.one_of):
        names = " or ".join(f.value for f in spec.one_of)
        raise ChatError(ErrorCode.BAD_REQUEST, f"name a {names}")
    return fields


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


async def _look_up(
    svc: Services, spec: ActionSpec, room: RoomId, fields: dict[str, Any], now_ms: int
) -> tuple[Target | None, ParticipantId | None, tuple[ParticipantId, ...]]:
    """What the action declared it needs: (target, message author, who is present)."""
    target = None
    if Lookup.TARGET in spec.lookups and fields.get("participant") is not None:
        pid = ParticipantId(fields["participant"])
        found = await svc.broker.participant_role(room, pid)
        target = Target(pid, Role(found[0]) if found else None, found[1] if found else None)
    author = None
    if Lookup.AUTHOR in spec.lookups and fields.get("message_id") is not None:
        stored = await svc.broker.get_message(room, fields["message_id"])
        author = ParticipantId(json.loads(stored)["participant"]) if stored else None
    present: tuple[ParticipantId, ...] = ()
    if Lookup.PRESENT in spec.lookups:
        infos = await svc.broker.participants(room, now_ms)
        present = tuple(ParticipantId(json.loads(i)["participant"]) for i in infos)
    return target, author, present


def handler_for(spec: ActionSpec) -> Handler:
    """The frame handler of an action that acts in a room the socket has joined."""

    async def handle(
        svc: Services, session: Session, frame: dict[str, Any], ref: str | None
    ) -> None:
        # Role first: a member learns nothing about rooms or fields from a facilitator frame.
        if spec.min_role is Role.FACILITATOR and session.role is not Role.FACILITATOR:
            raise ChatError(ErrorCode.FORBIDDEN, "only facilitators can do that")
        membership = membership_of(session, frame)
        now = svc.now()
        now_ms = int(now * 1000)
        by = _actor(session, membership, spec, now)
        fields = parse_fields(spec, frame)
        room = membership.room.id
        local = svc.hub.rooms.get(room)
        if local is None:
            raise ChatError(ErrorCode.NOT_JOINED, "join the room first")
        target, author, present = await _look_up(svc, spec, room, fields, now_ms)
        role = session.role_in(membership, now)
        # Randomness only for an action that creates something (not on every message).
        fresh_id = "c" + secrets.token_hex(8) if Lookup.FRESH_ID in spec.lookups else ""
        member = Member(
            membership.participant,
            membership.handle,
            role,
            membership.agreed_version,
            membership.listening,
            membership.last_sent_ms,
        )
        request = Request(
            room, by, role, now_ms, fields, target, author, present,
            fresh_id=fresh_id, actor=membership.participant, member=member,
            place=membership.room, text_limit=svc.settings.max_text_chars,
            crisis=svc.crisis.detector,
        )  # fmt: skip
        outcome = spec.decide(request, local.view)
        if spec.budget == "sends":
            wait = session.sends.take(now)
            if wait > 0:
                raise ChatError(ErrorCode.RATE_LIMITED, "sending too fast", retry_after=wait)
        ctx = Context(svc, session, membership, by, ref)
        ack: dict[str, Any] = {}
        for effect in outcome.effects:
            ack.update(await perform(ctx, effect, ack))
        if spec.name in MODERATION:
            svc.metrics.moderation.labels(spec.name).inc()
        if outcome.audit:
            entry = {
                "at": iso_seconds(now_ms),
                "by": by,
                "action": spec.name,
                "participant": fields.get("participant") or author,
                "message_id": fields.get("message_id"),
                "reason": outcome.audit_reason or fields.get("reason") or fields.get("note") or "",
            }
            keep = svc.settings.audit_days * 86400 * 1000
            await svc.broker.audit_append(room, wire.encode(entry), keep, 1000)
        if outcome.acks:
            ack.update({k: v for k, v in outcome.ack.items() if k != "until_ms"})
            if "until_ms" in outcome.ack:
                ack["until"] = iso_seconds(outcome.ack["until_ms"])
            session.deliver(wire.encode({"type": "ack", "ref": ref, "room": room, **ack}))
        for effect in outcome.then:
            await perform(ctx, effect, ack)

    return handle


# Every action but `join`, whose I/O order is its own (server/joining.py).
ACTION_HANDLERS: dict[str, Handler] = {
    name: handler_for(spec) for name, spec in ACTIONS.items() if name != "join"
}
