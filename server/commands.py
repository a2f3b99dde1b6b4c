"""The table of client frames and their handlers; `hello` (identity) lives here.

Each handler takes the process's services, the session and the parsed frame, checks it against
the rules, does the I/O, and answers with frames (or raises `ChatError`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from moderation.crisis_lines import country_code
from moderation.roles import Role
from rooms.errors import ChatError, ErrorCode
from server import wire
from server.dispatch import ACTION_HANDLERS
from server.joining import end_standing, join
from server.services import Services
from server.session import Session

__all__ = ["HANDLERS", "Handler", "hello"]

Handler = Callable[[Services, Session, dict[str, Any], str | None], Awaitable[None]]


async def hello(svc: Services, session: Session, frame: dict[str, Any], ref: str | None) -> None:
    """`hello` makes or resumes a member; a facilitator token adds the facilitator role."""
    if session.member is not None:
        raise ChatError(ErrorCode.BAD_REQUEST, "hello was already said")
    token = wire.opt_str(frame, "token", 4096)
    facilitator_token = wire.opt_str(frame, "facilitator_token", 4096)
    claim = svc.tokens.read_facilitator(facilitator_token) if facilitator_token else None
    now_ms = int(svc.now() * 1000)
    # Read from the broker, not the half-second copy: a revoked token never says hello.
    if claim is not None and claim.id in await svc.broker.revoked(now_ms):
        raise ChatError(ErrorCode.UNAUTHORIZED, "facilitator token was revoked")
    if token is not None:
        member = svc.tokens.read_member(token)
    else:
        member, token = svc.tokens.issue_member()
    session.member = member
    # Anything but a covered two-letter code is as if absent: never an error.
    session.country = country_code(frame.get("country"))
    if claim is not None:
        # A token made by the CLI is listed for coordinators once it is used.
        record = {"id": claim.id, "name": claim.name, "revoked": False,
                  "rooms": None if claim.rooms is None else sorted(claim.rooms),
                  "expires": int(claim.expires_at * 1000)}  # fmt: skip
        await svc.broker.facilitator_save(record, now_ms, only_new=True)
        ttl_ms = int(svc.settings.presence_ttl_s * 1000)
        await svc.broker.staff_online([claim.id], svc.process, now_ms, ttl_ms)
        session.role, session.facilitator = Role.FACILITATOR, claim
        svc.standing.watch(session, claim.expires_at, lambda: end_standing(svc, session, "expired"))
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


HANDLERS: dict[str, Handler] = {"hello": hello, "join": join, **ACTION_HANDLERS}
