"""The I/O of entering and leaving rooms, and of presence: `join` in the order that matters
(subscribe and load the room's view, ask the `join` action, claim the handle, enter presence,
read history, answer `joined`), leaving (at once, or after a delay for a dropped connection),
the presence announcements, and the end of a facilitator's standing.

A participant is present from their first socket in a room (on any process) to their last;
a dropped connection keeps them present for a short delay (see `leave_all`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

from moderation.actions.base import Request, TakeSeat
from moderation.actions.membership import JOIN
from moderation.roles import Role
from moderation.room_view import HANDS_FIELD, TURN_FIELD
from rooms.catalog import Room
from rooms.errors import ChatError, ErrorCode
from rooms.history import replay
from rooms.ids import (
    ParticipantId,
    RoomId,
    facilitator_participant_id,
    handle_candidate,
    participant_id,
)
from rooms.seats import alternatives, room_full
from server import envelope as envelopes
from server import wire
from server.brokers import PresenceChange
from server.hub import LocalRoom
from server.queue import queue_frame
from server.services import Services
from server.session import Membership, Session
from server.tokens import FacilitatorClaim

__all__ = [
    "HANDLE_TTL_MS",
    "STATE_KEEP_MS",
    "close_room_for",
    "end_standing",
    "evict",
    "facilitator_closed",
    "join",
    "leave_all",
    "leave_room",
    "remember_agreement",
    "set_listening",
]

HANDLE_TTL_MS = 90 * 86400 * 1000
# A member's handle choices (rooms.ids.handle_candidate), asked for in two rounds.
_CHOICES = 12
_FIRST_CHOICES = 3
# Shared room state without a lifetime of its own (a sanction has one) is kept this long.
STATE_KEEP_MS = 31 * 86400 * 1000
# Leave delays are not a secret, but an observer must not be able to predict them.
_jitter = random.SystemRandom()


def _handle_rounds(
    svc: Services, session: Session, room: RoomId, role: Role
) -> Iterator[list[str]]:
    """The handles to ask for, round after round: a facilitator's name (numbered past the
    first); a member's choices (`rooms.ids.handle_candidate`), the first few first, since one of
    them is nearly always free (or the member's own from before) and each costs an HMAC."""
    assert session.member is not None
    if role is Role.FACILITATOR and session.facilitator is not None:
        name = session.facilitator.name[:40]
        yield [name, *(f"{name} {i}" for i in range(2, 10))]
        return
    key, member = svc.tokens.identity_key, session.member
    for start, stop in ((0, _FIRST_CHOICES), (_FIRST_CHOICES, _CHOICES)):
        yield [handle_candidate(key, member, room, i) for i in range(start, stop)]


async def _claim_handle(
    svc: Services, session: Session, room: RoomId, pid: ParticipantId, role: Role, now_ms: int
) -> str:
    for candidates in _handle_rounds(svc, session, room, role):
        handle = await svc.broker.claim_handle(
            room, pid, candidates, HANDLE_TTL_MS, role.value, now_ms
        )
        if handle is not None:
            return handle
    raise ChatError(ErrorCode.LIMIT_REACHED, "no free handle in this room")


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
    claim = session.facilitator
    key = svc.tokens.identity_key
    if claim is not None and claim.may_moderate(room.id, svc.now()):
        # Known by the token's id: one participant and handle on every device and reconnect,
        # and never the same participant as a member-only tab of the same browser.
        role, pid = Role.FACILITATOR, facilitator_participant_id(key, claim.id, room.id)
    else:
        role, pid = Role.MEMBER, participant_id(key, session.member, room.id)
    # Attach (subscribe, load the room's state) and check before claiming a handle: a refused
    # join writes nothing to the room's identity state.
    local = await svc.hub.attach(session, room.id)
    try:
        now_ms = int(svc.now() * 1000)
        asked = Request(room.id, "", role, now_ms, {}, actor=pid, place=room)
        decided = JOIN.decide(asked, local.view)  # raises the refusal (banned, locked)
        seat = next((e for e in decided.effects if isinstance(e, TakeSeat)), None)
        handle = await _claim_handle(svc, session, room.id, pid, role, now_ms)
    except BaseException:
        svc.hub.detach(session, local)
        raise
    membership = Membership(room, pid, handle, role, catalog=svc.catalog)
    session.rooms[room.id] = membership
    try:
        summary = wire.encode(membership.summary())
        first_here = svc.hub.count_in(local, pid, summary)
        svc.hub.cancel_deferred_exit(room.id, pid)
        now_ms = int(svc.now() * 1000)
        change = None
        if first_here:
            # A member's seat is checked and taken in the same atomic step (rooms/seats.py).
            change = await svc.broker.presence_enter(
                room.id, pid, summary, svc.process, now_ms, svc.hub.presence_ttl_ms,
                seat.capacity if seat is not None else 0,
            )  # fmt: skip
            if change.full:
                raise await _room_full(svc, room, now_ms)
        view = await svc.broker.join_view(room.id, pid, now_ms, svc.limits)
        membership.agreed_version = view.agreed
        page = view.history
        local.epoch = page.epoch
        plan = replay(page, since, epoch)
        if since is not None:
            svc.metrics.recoveries.labels("recovered" if plan.recovered else "lost").inc()
        participants = [json.loads(p) for p in view.participants]
        queue = None
        if role is Role.FACILITATOR:
            queue = await queue_frame(svc, room.id)
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
    session.deliver(svc.hub.state_frame(local))
    if queue is not None:
        session.deliver(queue)
    svc.hub.promote(session, local, plan.last_id)
    hands = {"type": "hands", "room": room.id, "queue": local.view.hands}
    session.deliver(wire.encode(hands))
    # Open private conversations survive a reconnect: tell the joiner about theirs (all of
    # them, for a facilitator).
    for conversation, opened in local.view.conversations.items():
        if role is Role.FACILITATOR or opened.get("participant") == pid:
            notice = {"type": "private_opened", "room": room.id, "conversation": conversation,
                      "participant": opened.get("participant")}  # fmt: skip
            session.deliver(wire.encode(notice))
    if svc.catalog.get(room.id) is None:
        # Archived while this join was under way (server/live_rooms.py told the others).
        await close_room_for(svc, session, membership)
        return
    if change is not None and change.changed:
        await _announce_presence(svc, membership, "join", change)
    elif change is not None and change.summary_changed:
        # Present already (another process, or a reconnect within a delayed leave), and this
        # socket's summary replaced the one the room was shown: tell the room.
        await _announce_update(svc, membership, staff=True)


# -- seats -----------------------------------------------------------------------------------


async def _room_full(svc: Services, room: Room, now_ms: int) -> ChatError:
    """The `room_full` refusal, with the rooms of the same category and language that are open
    and have a seat now."""
    candidates = svc.catalog.search(None, room.category, room.language)
    live = await svc.broker.directory([r.id for r in candidates if r.id != room.id], now_ms)
    found = alternatives(room, candidates, {rid: e.occupancy for rid, e in live.items()})
    return room_full(found)


async def _announce_presence(
    svc: Services, membership: Membership, event: str, change: PresenceChange
) -> None:
    """Tell the room someone came or went; a facilitator's coming and going also changes
    whether a facilitator-present room is waiting, on every process."""
    room = membership.room.id
    presence = {"type": "presence", "room": room, "members": change.members}
    presence.update(event=event, **membership.summary())
    await svc.broker.publish(room, envelopes.to_room(presence))
    if membership.role is Role.FACILITATOR:
        await svc.broker.publish(room, envelopes.staff(change.facilitators))


async def _leave(
    svc: Services,
    session: Session,
    membership: Membership,
    local: LocalRoom,
    announce: bool,
    grace_s: float = 0.0,
    hold: bool = False,
) -> None:
    session.rooms.pop(membership.room.id, None)
    svc.hub.detach(session, local)
    if local.local_count.get(membership.participant, 0) <= 0:
        return
    if not svc.hub.count_out(local, membership.participant):
        return
    if grace_s > 0:
        # A dropped connection (see leave_all): a reconnect meanwhile changes nothing, and a
        # facilitator's does not flip the room to waiting and back.
        svc.hub.defer_exit(
            membership.room.id,
            membership.participant,
            grace_s,
            lambda: _exit_presence(svc, membership, announce, hold),
        )
        return
    await _exit_presence(svc, membership, announce, hold)


async def _exit_presence(
    svc: Services, membership: Membership, announce: bool, hold: bool = False
) -> None:
    # A dropped connection (`hold`) keeps a member's seat a while: a reconnect gets back in.
    hold_ms = int(svc.settings.seat_hold_s * 1000) if hold else 0
    change = await svc.broker.presence_exit(
        membership.room.id, membership.participant, svc.process, int(svc.now() * 1000), hold_ms
    )
    if change.changed:
        await _give_up_turn(svc, membership.room.id, membership.participant)
    if announce and change.changed:
        await _announce_presence(svc, membership, "leave", change)


async def _give_up_turn(svc: Services, room: RoomId, participant: ParticipantId) -> None:
    """Someone who left neither holds the turn nor waits with a raised hand, so a
    one-at-a-time room never waits on a person who is not there (read from the stored fields:
    the exit may run on a process that no longer serves the room)."""
    fields = await svc.broker.room_fields(room)
    if json.loads(fields.get(TURN_FIELD, "null")) == participant:
        await svc.broker.set_field(room, TURN_FIELD, None, STATE_KEEP_MS)
    if participant in json.loads(fields.get(HANDS_FIELD, "[]")):
        await svc.broker.update_list(room, HANDS_FIELD, participant, False, STATE_KEEP_MS)


async def leave_room(svc: Services, session: Session, membership: Membership) -> None:
    """The socket leaves one room on purpose: announced at once."""
    local = svc.hub.rooms.get(membership.room.id)
    if local is not None:
        await _leave(svc, session, membership, local, announce=True)
    else:
        session.rooms.pop(membership.room.id, None)


async def close_room_for(svc: Services, session: Session, membership: Membership) -> None:
    """The room was archived: the socket is told (`room_closed`) and is out of it."""
    session.deliver(wire.encode({"type": "room_closed", "room": membership.room.id}))
    await leave_room(svc, session, membership)


async def leave_all(svc: Services, session: Session) -> None:
    """The connection ended: leave every room it was in.

    Each room's leave waits a random delay of its own (up to LEAVE_JITTER_SECONDS): announced
    at the same instant, the leaves would link one person's participants across the rooms to
    anyone present in several. A facilitator's waits the grace period instead, never past the
    token's expiry. Coming back to this process within the delay cancels it (no leave at all)."""
    now = svc.now()
    claim = session.facilitator
    for membership in list(session.rooms.values()):
        local = svc.hub.rooms.get(membership.room.id)
        if local is None:
            continue
        if membership.role is Role.FACILITATOR and claim is not None:
            delay = min(svc.settings.facilitator_grace_s, max(0.0, claim.expires_at - now))
        else:
            delay = _jitter.uniform(0.0, svc.settings.leave_jitter_s)
        await _leave(svc, session, membership, local, announce=True, grace_s=delay, hold=True)
    session.rooms.clear()


async def set_listening(svc: Services, membership: Membership, on: bool) -> None:
    """Listen-only on or off for the participant, shown to the room."""
    membership.listening = on
    await _announce_update(svc, membership)


async def remember_agreement(svc: Services, membership: Membership, version: int) -> None:
    """The participant agreed to `version` of the room's rules: remembered for them, so a
    reconnect does not ask again until the rules change."""
    membership.agreed_version = version
    await svc.broker.set_agreement(
        membership.room.id, membership.participant, version, HANDLE_TTL_MS, int(svc.now() * 1000)
    )


async def _announce_update(svc: Services, membership: Membership, staff: bool = False) -> None:
    """The participant's summary changed (listening, role): store it where presence keeps it
    and tell the room with a `presence` `update`; with `staff`, also tell every process how
    many facilitators the room has now."""
    room = membership.room.id
    summary = membership.summary()
    local = svc.hub.rooms.get(room)
    if local is not None and membership.participant in local.summaries:
        local.summaries[membership.participant] = wire.encode(summary)
    await svc.broker.presence_update(room, membership.participant, wire.encode(summary))
    live = (await svc.broker.directory([room], int(svc.now() * 1000)))[room]
    presence = {"type": "presence", "room": room, "members": live.members, "event": "update"}
    presence.update(summary)
    await svc.broker.publish(room, envelopes.to_room(presence))
    if staff:
        await svc.broker.publish(room, envelopes.staff(live.facilitators))


async def facilitator_closed(
    svc: Services, session: Session, claim: FacilitatorClaim | None = None
) -> None:
    """A socket with a facilitator token (`claim`, by default the socket's own) closed or lost
    standing: its id is offline here unless another socket of this process holds it."""
    claim = claim or session.facilitator
    if claim is None:
        return
    if any(s is not session and s.facilitator is not None and s.facilitator.id == claim.id
           for s in svc.standing.sessions()):  # fmt: skip
        return
    await svc.broker.staff_offline(claim.id, svc.process)


async def end_standing(svc: Services, session: Session, reason: str) -> None:
    """The socket's facilitator token no longer grants standing (`expired` or `revoked`).

    Everything local changes first and at once: the socket is told, its role in every room is
    member, so the hub's role-filtered fan-out (queue, alerts, reports, other people's private
    conversations) skips it from this instant. Then each room's presence shows the new role and
    every process learns the room's facilitator count, which turns a room that requires a
    facilitator `waiting` when this was its last."""
    claim = session.facilitator
    if claim is None:
        return
    svc.standing.forget(session)
    session.facilitator = None
    session.role = Role.MEMBER
    demoted = [m for m in session.rooms.values() if m.role is Role.FACILITATOR]
    for membership in demoted:
        membership.role = Role.MEMBER
    session.deliver(wire.encode({"type": "facilitator_ended", "reason": reason}))
    for membership in demoted:
        if session.rooms.get(membership.room.id) is membership:
            await _announce_update(svc, membership, staff=True)
    await facilitator_closed(svc, session, claim)


async def evict(svc: Services, session: Session, room: RoomId) -> None:
    """Take a socket out of a room (a removal): no more deliveries, presence updated."""
    membership = session.rooms.get(room)
    local = svc.hub.rooms.get(room)
    if membership is not None and local is not None:
        await _leave(svc, session, membership, local, announce=True)
