"""Check-in and check-out I/O: counting an answer once per participant, question and session
without storing who gave it, and the `mood_summary` frames. The rules are moderation/mood.py's.

What keeps "once": a marker, HMAC-SHA256 of (room, session, question, participant) under the
server's identity key, cut to 128 bits. The broker stores it apart from the counts, as a key of
its own that lapses after `MARKER_TTL_MS`; it holds no value and the counts hold no marker, so
nothing stored says who answered what. It is one-way: without the key, a marker does not say
whose it is; with the key, it says only that a participant answered, never what.
(docs/moderation.md, "Check-in and check-out", has the reasoning and what it leaves open.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from moderation.actions.base import CountMood
from moderation.mood import late_end_allowed, outcome_entry, summary_frame
from rooms.errors import ChatError, ErrorCode
from rooms.ids import ParticipantId, RoomId
from server import wire
from server.brokers import MoodAnswer
from server.queue import to_facilitators
from server.services import Services
from server.session import Session

__all__ = [
    "KEEP_MS",
    "MARKER_TTL_MS",
    "OUTCOME_DAYS",
    "count_mood",
    "end_mood_session",
    "marker",
    "outcomes",
    "send_summary",
]

# A marker outlives any one sitting; a room whose session (epoch) runs on for days, with no
# `end_session`, asks a member back the next day again.
MARKER_TTL_MS = 24 * 3600 * 1000
OUTCOME_DAYS = 90  # what `GET /api/admin/outcomes` lists
KEEP_MS = (OUTCOME_DAYS + 1) * 86400 * 1000  # counts are kept a day past that, then dropped


def marker(key: bytes, room: RoomId, session: str, when: str, participant: ParticipantId) -> str:
    """The one-way marker of one participant's answer to one question of one session."""
    message = "\x00".join(("mood.v1", room, session, when, participant)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _current(svc: Services, room: RoomId) -> str:
    """The room's current session, as this process holds it (set at join, moved on by the
    broker's `reset`)."""
    local = svc.hub.rooms.get(room)
    if local is None or local.epoch is None:
        raise ChatError(ErrorCode.UNAVAILABLE, "service temporarily unavailable, try again")
    return local.epoch


async def count_mood(
    svc: Services, room: RoomId, participant: ParticipantId, effect: CountMood
) -> None:
    """Count the answer, or refuse it: `already_answered` (that question, that session), or
    `not_found` when it names a session that is neither current nor just ended (a check-out)."""
    now_ms = int(svc.now() * 1000)
    current = _current(svc, room)
    session = effect.session or current
    if session != current:
        found = await svc.broker.mood_session(room, session)
        if not late_end_allowed(effect.when, found.ended_ms if found else None, now_ms):
            raise ChatError(ErrorCode.NOT_FOUND, "that session is not open for answers")
    mark = marker(svc.tokens.identity_key, room, session, effect.when, participant)
    given = MoodAnswer(session, effect.when, effect.value, mark)
    counted = await svc.broker.mood_add(room, given, now_ms, MARKER_TTL_MS, KEEP_MS)
    if not counted:
        raise ChatError(ErrorCode.ALREADY_ANSWERED, "already answered in this session")


async def _summary(svc: Services, room: RoomId, session: str) -> dict[str, Any]:
    found = await svc.broker.mood_session(room, session)
    zeros = (0,) * 5
    return summary_frame(room, found.start if found else zeros, found.end if found else zeros)


async def send_summary(svc: Services, session: Session, room: RoomId, ref: str | None) -> None:
    """Answer a facilitator's `mood_summary` request with the current session's counts."""
    frame = await _summary(svc, room, _current(svc, room))
    session.deliver(wire.encode({**frame, "ref": ref}))


async def end_mood_session(svc: Services, room: RoomId) -> None:
    """The session ends: its counts go to the room's facilitators; its end is recorded so that
    check-outs given just after still count for it."""
    current = _current(svc, room)
    frame = await _summary(svc, room, current)
    await svc.broker.mood_end(room, current, int(svc.now() * 1000), KEEP_MS)
    await svc.broker.publish(room, to_facilitators(frame))


def _hour(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms // 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def outcomes(svc: Services) -> list[dict[str, Any]]:
    """`GET /api/admin/outcomes`: every room's sessions of the last `OUTCOME_DAYS` days that
    someone answered in (archived rooms' too), by room id then oldest first, with the threshold
    applied."""
    since_ms = int((svc.now() - OUTCOME_DAYS * 86400) * 1000)
    # Archived rooms too: their sessions happened, and count for the organisation.
    ids = {str(room.id) for room in svc.catalog} | set(await svc.broker.archived_rooms())
    listed: list[dict[str, Any]] = []
    for room in sorted(ids):
        for found in await svc.broker.mood_sessions(RoomId(room), since_ms):
            entry = outcome_entry(room, found.session, _hour(found.started_ms), found.start,
                                  found.end)  # fmt: skip
            if entry is not None:
                listed.append(entry)
    return listed
