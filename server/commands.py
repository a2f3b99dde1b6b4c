"""Handlers for client frames: each takes the session and the parsed frame, checks it against
the rules, does the I/O, and answers with frames (or raises `ChatError`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from moderation.actions.base import AddItem
from moderation.contact import find_contact_details
from moderation.roles import Role
from rooms.errors import ChatError, ErrorCode
from rooms.history import replay
from rooms.ids import ParticipantId, RoomId, handle_candidate, participant_id
from rooms.text import normalize, prepare
from server import wire
from server.brokers import PresenceChange
from server.hub import LocalRoom
from server.moderate import MODERATION_HANDLERS, add_queue_item, support_frame, to_facilitators
from server.services import Services
from server.session import Membership, Session

__all__ = ["HANDLERS", "Handler", "evict", "leave_all", "publish_text", "room_state_frame"]

Handler = Callable[[Services, Session, dict[str, Any], str | None], Awaitable[None]]

_HANDLE_TTL_MS = 90 * 86400 * 1000
_CW_CHARS = 40


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _ack(session: Session, ref: str | None, **fields: Any) -> None:
    session.deliver(wire.encode({"type": "ack", "ref": ref, **fields}))


def _membership(session: Session, frame: dict[str, Any]) -> Membership:
    room = wire.req_str(frame, "room", 64)
    membership = session.rooms.get(RoomId(room))
    if membership is None:
        raise ChatError(ErrorCode.NOT_JOINED, "join the room first")
    return membership


async def hello(svc: Services, session: Session, frame: dict[str, Any], ref: str | None) -> None:
    """`hello` makes or resumes a member; a facilitator token adds the facilitator role."""
    if session.member is not None:
        raise ChatError(ErrorCode.BAD_REQUEST, "hello was already said")
    token = wire.opt_str(frame, "token", 4096)
    facilitator_token = wire.opt_str(frame, "facilitator_token", 4096)
    claim = svc.tokens.read_facilitator(facilitator_token) if facilitator_token else None
    if token is not None:
        member = svc.tokens.read_member(token)
    else:
        member, token = svc.tokens.issue_member()
    session.member = member
    if claim is not None:
        session.role, session.facilitator = Role.FACILITATOR, claim
    opaque = hmac.new(svc.tokens.identity_key, member.encode(), hashlib.sha256).hexdigest()[:24]
    session.deliver(
        wire.encode(
            {
                "type": "welcome",
                "ref": ref,
                "member": opaque,
                "token": token,
                "role": session.role.value,
            }
        )
    )


async def _claim_handle(
    svc: Services, session: Session, room: RoomId, pid: ParticipantId, role: Role
) -> str:
    assert session.member is not None
    if role is Role.FACILITATOR and session.facilitator is not None:
        name = session.facilitator.name[:40]
        candidates = [name, *(f"{name} {i}" for i in range(2, 10))]
    else:
        key = svc.tokens.identity_key
        candidates = [handle_candidate(key, session.member, room, i) for i in range(12)]
    handle = await svc.broker.claim_handle(room, pid, candidates, _HANDLE_TTL_MS, role.value)
    if handle is None:
        raise ChatError(ErrorCode.LIMIT_REACHED, "no free handle in this room")
    return handle


async def join(svc: Services, session: Session, frame: dict[str, Any], ref: str | None) -> None:
    """Enter a room: replay history (from `since`), list who is here, announce presence."""
    room_id = wire.req_str(frame, "room", 64)
    since = wire.opt_int(frame, "since", 0, 2**53)
    epoch = wire.opt_str(frame, "epoch", 64)
    room = svc.catalog.get(room_id)
    if room is None:
        raise ChatError(ErrorCode.NOT_FOUND, "no such room")
    if room.id in session.rooms:
        raise ChatError(ErrorCode.ALREADY_JOINED, "already in this room")
    if len(session.rooms) >= svc.settings.max_rooms_per_socket:
        raise ChatError(ErrorCode.LIMIT_REACHED, "too many rooms on one connection")
    assert session.member is not None
    pid = participant_id(svc.tokens.identity_key, session.member, room.id)
    claim = session.facilitator
    role = (
        Role.FACILITATOR
        if claim is not None and claim.may_moderate(room.id, svc.now())
        else Role.MEMBER
    )
    handle = await _claim_handle(svc, session, room.id, pid, role)
    membership = Membership(room=room, participant=pid, handle=handle, role=role)
    local = await svc.hub.attach(session, room.id)
    try:
        local.view.check_join(pid, role, int(svc.now() * 1000))
    except ChatError:
        svc.hub.detach(session, local)
        raise
    session.rooms[room.id] = membership
    try:
        summary = wire.encode(membership.summary())
        first_here = svc.hub.count_in(local, pid, summary)
        svc.hub.cancel_deferred_exit(room.id, pid)
        now_ms = int(svc.now() * 1000)
        change = None
        if first_here:
            change = await svc.broker.presence_enter(
                room.id, pid, summary, svc.process, now_ms, svc.hub.presence_ttl_ms
            )
        membership.agreed_version = await svc.broker.agreement(room.id, pid)
        page = await svc.broker.history(room.id, now_ms, svc.limits)
        local.epoch = page.epoch
        plan = replay(page, since, epoch)
        if since is not None:
            svc.metrics.recoveries.labels("recovered" if plan.recovered else "lost").inc()
        participants = [json.loads(p) for p in await svc.broker.participants(room.id, now_ms)]
        queue = None
        if role is Role.FACILITATOR:
            queue = [i for i in await svc.broker.queue_items(room.id) if i["status"] == "open"]
    except BaseException:
        await _leave(svc, session, membership, local, announce=False)
        raise
    head = wire.encode(
        {
            "type": "joined",
            "ref": ref,
            "room": room.id,
            "participant": pid,
            "handle": handle,
            "role": role.value,
            "rules": list(room.rules),
            "rules_version": room.rules_version,
            "agreed": membership.agreed_version >= room.rules_version,
            "description": room.description,
            "members": len(participants),
            "participants": participants,
            "epoch": page.epoch,
            "recovered": plan.recovered,
        }
    )
    session.deliver(f'{head[:-1]},"history":[{",".join(plan.frames)}]}}')
    session.deliver(room_state_frame(svc, local))
    if queue is not None:
        session.deliver(wire.encode({"type": "queue", "room": room.id, "items": queue}))
    svc.hub.promote(session, local, plan.last_id)
    hands = {"type": "hands", "room": room.id, "queue": local.view.hands}
    session.deliver(wire.encode(hands))
    if change is not None and change.changed:
        await _announce_presence(svc, membership, "join", change)


async def _announce_presence(
    svc: Services, membership: Membership, event: str, change: PresenceChange
) -> None:
    """Tell the room someone came or went; a facilitator's coming and going also changes
    whether a facilitator-present room is waiting, on every process."""
    room = membership.room.id
    presence = {"type": "presence", "room": room, "members": change.members}
    presence.update(event=event, **membership.summary())
    await svc.broker.publish(room, "R" + wire.encode(presence))
    if membership.role is Role.FACILITATOR:
        staff = {"k": "staff", "n": change.facilitators}
        await svc.broker.publish(room, "C" + wire.encode(staff))


def room_state_frame(svc: Services, local: LocalRoom) -> str:
    """The `room_state` frame of a room as this process sees it."""
    room = svc.catalog.get(local.id)
    assert room is not None
    return wire.encode(
        {
            "type": "room_state",
            "room": local.id,
            **local.view.state(room.requires_facilitator),
            "one_at_a_time": room.one_at_a_time,
            "rules_version": room.rules_version,
        }
    )


async def agree(svc: Services, session: Session, frame: dict[str, Any], ref: str | None) -> None:
    """Accept the room's current ground rules."""
    membership = _membership(session, frame)
    membership.agreed_version = membership.room.rules_version
    # Remembered for the participant, so a reconnect does not ask again until the rules change.
    await svc.broker.set_agreement(
        membership.room.id, membership.participant, membership.agreed_version, _HANDLE_TTL_MS
    )
    _ack(session, ref, room=membership.room.id, rules_version=membership.agreed_version)


async def send(svc: Services, session: Session, frame: dict[str, Any], ref: str | None) -> None:
    """Post a message: checked from local state, prepared once, stored and published at once."""
    membership = _membership(session, frame)
    raw = frame.get("text")
    if not isinstance(raw, str):
        raise ChatError(ErrorCode.BAD_REQUEST, "text must be a string")
    if membership.agreed_version < membership.room.rules_version:
        raise ChatError(ErrorCode.RULES_NOT_ACCEPTED, "agree to the room's ground rules first")
    now = svc.now()
    local = svc.hub.rooms.get(membership.room.id)
    if local is None:
        raise ChatError(ErrorCode.NOT_JOINED, "join the room first")
    now_ms = int(now * 1000)
    role = session.role_in(membership, now)
    conversation = wire.opt_str(frame, "conversation", 64)
    private_to = None
    if conversation is not None:
        # A private conversation: only its participant and the room's facilitators may write,
        # and its text never reaches the rest of the room or the room's history.
        opened = local.view.conversations.get(conversation)
        if opened is None or (
            role is not Role.FACILITATOR and opened["participant"] != membership.participant
        ):
            raise ChatError(ErrorCode.NOT_FOUND, "no such conversation")
        private_to = str(opened["participant"])
    else:
        room = membership.room
        local.view.check_send(
            membership.participant,
            role,
            now_ms,
            membership.last_sent_ms,
            listening=membership.listening,
            requires_facilitator=room.requires_facilitator,
            one_at_a_time=room.one_at_a_time,
        )
    wait = session.sends.take(now)
    if wait > 0:
        raise ChatError(ErrorCode.RATE_LIMITED, "sending too fast", retry_after=round(wait, 2))
    extra: dict[str, Any] = {}
    cw = frame.get("cw")
    if cw is not None:
        if not isinstance(cw, str) or len(cw) > 160:
            raise ChatError(
                ErrorCode.BAD_REQUEST, f"cw must be text of at most {_CW_CHARS} characters"
            )
        try:
            extra["cw"] = normalize(cw, _CW_CHARS)
        except ChatError:
            raise ChatError(
                ErrorCode.BAD_REQUEST, f"cw must be text of at most {_CW_CHARS} characters"
            ) from None
    if (
        private_to is None
        and role is not Role.FACILITATOR
        and not membership.room.allow_contact_details
        and (found := find_contact_details(raw)) is not None
    ):
        # Kept from the room; only the author is told, with the reason.
        held = {"type": "held", "ref": ref, "room": membership.room.id,
                "reason": "contact_details", "kind": found}  # fmt: skip
        session.deliver(wire.encode(held))
        svc.metrics.held.labels("contact_details").inc()
        return
    if conversation is not None:
        extra["conversation"] = conversation
    msg_id = await publish_text(svc, session, membership, raw, extra, private_to)
    membership.last_sent_ms = now_ms
    svc.metrics.messages_in.inc()
    _ack(session, ref, room=membership.room.id, id=msg_id)
    if svc.crisis.detector.matches(raw) and role is not Role.FACILITATOR:
        await _crisis(svc, session, membership, msg_id)


async def _crisis(svc: Services, session: Session, membership: Membership, msg_id: int) -> None:
    """Never blocks the message: the author privately gets help, facilitators get an alert."""
    room = membership.room.id
    svc.metrics.crisis_alerts.inc()
    session.deliver(support_frame(svc, room))
    item = AddItem("alert", membership.participant, msg_id, "possible crisis language")
    stored = await add_queue_item(svc, room, item, "system")
    alert = {"type": "alert", "room": room, "item": stored["id"], "message_id": msg_id,
             "participant": membership.participant, "handle": membership.handle}  # fmt: skip
    await svc.broker.publish(room, to_facilitators(alert))


async def publish_text(
    svc: Services,
    session: Session,
    membership: Membership,
    raw: str,
    extra: dict[str, Any],
    private_to: str | None = None,
) -> int:
    """Prepare the text once, then store and publish the message in one broker round trip."""
    text = prepare(raw, svc.settings.max_text_chars)
    room = membership.room.id
    now = svc.now()
    head = wire.encode({"type": "message", "room": room, "id": 0})[:-2]
    tail = wire.encode(
        {
            "participant": membership.participant,
            "handle": membership.handle,
            "role": session.role_in(membership, now).value,
            "text": text.text,
            "html": text.html,
            "ts": _iso(now),
            **extra,
        }
    )
    msg_id, _ = await svc.broker.publish_message(
        room, head, "," + tail[1:], int(now * 1000), svc.limits, private_to
    )
    return msg_id


async def _leave(
    svc: Services,
    session: Session,
    membership: Membership,
    local: LocalRoom,
    announce: bool,
    grace_s: float = 0.0,
) -> None:
    session.rooms.pop(membership.room.id, None)
    svc.hub.detach(session, local)
    if local.local_count.get(membership.participant, 0) <= 0:
        return
    if not svc.hub.count_out(local, membership.participant):
        return
    if grace_s > 0:
        # A facilitator's dropped connection: the room keeps them a moment so a reconnect
        # does not flip it to waiting and back.
        svc.hub.defer_exit(
            membership.room.id,
            membership.participant,
            grace_s,
            lambda: _exit_presence(svc, membership, announce),
        )
        return
    await _exit_presence(svc, membership, announce)


async def _exit_presence(svc: Services, membership: Membership, announce: bool) -> None:
    change = await svc.broker.presence_exit(
        membership.room.id, membership.participant, svc.process, int(svc.now() * 1000)
    )
    if announce and change.changed:
        await _announce_presence(svc, membership, "leave", change)


async def leave(svc: Services, session: Session, frame: dict[str, Any], ref: str | None) -> None:
    """Leave a room."""
    membership = _membership(session, frame)
    local = svc.hub.rooms.get(membership.room.id)
    if local is not None:
        await _leave(svc, session, membership, local, announce=True)
    else:
        session.rooms.pop(membership.room.id, None)
    _ack(session, ref, room=membership.room.id)


async def leave_all(svc: Services, session: Session) -> None:
    """The connection ended: leave every room it was in."""
    for membership in list(session.rooms.values()):
        local = svc.hub.rooms.get(membership.room.id)
        if local is not None:
            grace = svc.settings.facilitator_grace_s if membership.role is Role.FACILITATOR else 0.0
            await _leave(svc, session, membership, local, announce=True, grace_s=grace)
    session.rooms.clear()


async def listen(svc: Services, session: Session, frame: dict[str, Any], ref: str | None) -> None:
    """Listen-only on: the member reads, is shown as listening, and is not called on."""
    await _set_listening(svc, session, frame, ref, True)


async def talk(svc: Services, session: Session, frame: dict[str, Any], ref: str | None) -> None:
    """Listen-only off."""
    await _set_listening(svc, session, frame, ref, False)


async def _set_listening(
    svc: Services, session: Session, frame: dict[str, Any], ref: str | None, on: bool
) -> None:
    membership = _membership(session, frame)
    room = membership.room.id
    if membership.listening != on:
        membership.listening = on
        summary = membership.summary()
        local = svc.hub.rooms.get(room)
        if local is not None and membership.participant in local.summaries:
            local.summaries[membership.participant] = wire.encode(summary)
        await svc.broker.presence_update(room, membership.participant, wire.encode(summary))
        members = (await svc.broker.member_counts([room], int(svc.now() * 1000)))[room]
        presence = {"type": "presence", "room": room, "members": members, "event": "update"}
        presence.update(summary)
        await svc.broker.publish(room, "R" + wire.encode(presence))
        if on:
            await svc.broker.update_list(room, "hands", membership.participant, False, 86400000)
    _ack(session, ref, room=room, listening=on)


async def evict(svc: Services, session: Session, room: RoomId) -> None:
    """Take a socket out of a room (a removal): no more deliveries, presence updated."""
    membership = session.rooms.get(room)
    local = svc.hub.rooms.get(room)
    if membership is not None and local is not None:
        await _leave(svc, session, membership, local, announce=True)


HANDLERS: dict[str, Handler] = {
    "hello": hello,
    "join": join,
    "agree": agree,
    "send": send,
    "leave": leave,
    "listen": listen,
    "talk": talk,
    **MODERATION_HANDLERS,
}
