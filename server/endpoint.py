"""The chat socket: one loop per connection that reads, bounds and parses frames and hands each
to the dispatcher, and the one place a failure becomes an `error` frame.

The order is the contract's: the Origin check before accepting, the per-address cap, then for
each frame the frame bucket (before any parsing, a long frame costing more), the parse, the
member-wide budgets, and the frame's handler. Whatever a handler raises is answered here: a
`ChatError` with its code, a broker fault with `unavailable`, anything else with `internal` and
never its text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from moderation.ratelimit import Rate
from rooms.errors import ChatError, ErrorCode
from server import wire
from server.brokers import BrokerUnavailable
from server.direct import DirectWriter, forget_handshake
from server.joining import facilitator_closed, leave_all
from server.limits import PRESENCE_KINDS, AddressCap, Members, frame_cost, peek_ref
from server.logs import where
from server.origins import SiteNames
from server.services import Services
from server.session import CLOSE_SLOW_READER, Session

__all__ = [
    "CLOSE_FLOODING",
    "CLOSE_NO_HELLO",
    "CLOSE_TRY_LATER",
    "ChatEndpoint",
    "Handler",
    "Rates",
]

log = logging.getLogger("peer_support.endpoint")

CLOSE_TRY_LATER = 1013
CLOSE_NO_HELLO = 4408
CLOSE_FLOODING = 4029

Handler = Callable[[Services, Session, dict[str, Any], str | None], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Rates:
    """The token-bucket rates a connection starts with (see server.limits for the shares)."""

    frames: Rate
    sends: Rate


class ChatEndpoint:
    """The ASGI app of the chat socket. Everything it uses is given to it."""

    def __init__(
        self,
        svc: Services,
        handlers: dict[str, Handler],
        names: SiteNames,
        rates: Rates,
        members: Members,
        addresses: AddressCap,
    ) -> None:
        self.svc = svc
        self.handlers = handlers
        self.names = names
        self.rates = rates
        self.members = members
        self.addresses = addresses

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        svc, settings = self.svc, self.svc.settings
        ws = WebSocket(scope, receive, send)
        if not self.names.origin_allowed(scope):
            await ws.close(code=1008)  # before accept: the handshake is refused with HTTP 403
            return
        # With uvicorn, `send` is bound to the connection's protocol object, which holds the
        # transport: direct writes, and an abort for a peer that stopped reading (ASGI has
        # none). With any other server the endpoint uses plain ASGI and the server's timeouts.
        protocol = getattr(send, "__self__", None)
        abort = getattr(getattr(protocol, "transport", None), "abort", None)
        # The address is a dict key while its connections last; never stored or logged.
        address = ws.client.host if ws.client is not None else None
        if not self.addresses.admit(address):
            await ws.accept()  # a close code tells a browser more than a refused handshake
            await ws.close(CLOSE_TRY_LATER, "too many connections from one address")
            return
        try:
            await ws.accept()
            forget_handshake(protocol, scope)
            svc.connections += 1
            session = Session(
                ws,
                settings.outbox_max_frames,
                self.rates.frames,
                self.rates.sends,
                time.time(),
                abort=abort if callable(abort) else None,
                direct=DirectWriter.of(protocol),
                close_grace_s=settings.close_grace_s,
            )
            try:
                await self._serve(ws, session)
            finally:
                svc.standing.forget(session)
                try:
                    await leave_all(svc, session)
                except BrokerUnavailable:
                    log.warning("leave after disconnect failed: broker unavailable")
                try:
                    await facilitator_closed(svc, session)
                except BrokerUnavailable:  # the online entry lapses with the heartbeat
                    log.warning("facilitator offline not recorded: broker unavailable")
                if session.member is not None:
                    self.members.detach(session.member, time.time())
                await session.stop()
                svc.connections -= 1
                if session.close_code == CLOSE_SLOW_READER:
                    svc.metrics.outbox_drops.inc()
        finally:
            self.addresses.release(address)

    async def _serve(self, ws: WebSocket, session: Session) -> None:
        # One deadline for hello from the moment of connection; frames before it do not extend it.
        loop = asyncio.get_running_loop()
        hello_by: float | None = loop.time() + self.svc.settings.hello_timeout_s
        while session.close_code is None:
            if hello_by is None:  # no deadline once hello is done: one timer less per frame
                message = await ws.receive()
            else:
                try:
                    async with asyncio.timeout_at(hello_by):
                        message = await ws.receive()
                except TimeoutError:
                    session.close(CLOSE_NO_HELLO, "no hello in time")
                    return
            if message["type"] == "websocket.disconnect":
                return
            await self._handle(session, message)
            if session.member is not None:
                hello_by = None

    def _read(self, session: Session, message: Message) -> tuple[dict[str, Any], str | None] | None:
        """The frame and its ref, after the frame bucket and the parse; None when the socket
        was closed for flooding. Raises `ChatError` (with the ref it could find)."""
        flood_strikes = self.svc.settings.flood_strikes
        text = message.get("text")
        size = len(text) if text is not None else len(message.get("bytes") or b"")
        # The frame bucket is taken before any parsing, and a long frame costs more: a flood of
        # malformed or oversized frames is refused (and closed) like any other.
        frames = session.frames
        wait = frames.take(time.time(), frame_cost(size), clears=False)
        if wait > 0:
            if frames.strikes >= flood_strikes:
                session.close(CLOSE_FLOODING, "too many frames")
                return None
            # Not parsed: the ref is found by a bounded search, or null.
            ref = peek_ref(text) if text is not None else None
            raise ChatError(ErrorCode.RATE_LIMITED, "too many frames", retry_after=wait, ref=ref)
        try:
            if text is None:
                raise ChatError(ErrorCode.BAD_REQUEST, "frames must be text (JSON)")
            if size > self.svc.settings.max_frame_bytes:
                raise ChatError(ErrorCode.TOO_LARGE, "frame is too large")
            parsed = wire.parse(text)  # bounded work; gives the ref for the answer
        except ChatError as err:
            # A malformed frame is a strike like a refused one: no client sends them in a row.
            if frames.settle(False) >= flood_strikes:
                session.close(CLOSE_FLOODING, "too many malformed frames")
                return None
            if text is not None and err.extra.get("ref") is None:
                err.extra["ref"] = peek_ref(text)  # not parsed: a bounded search, or null
            raise
        frames.settle(True)
        return parsed

    def _take_budgets(self, session: Session, kind: str, frame: dict[str, Any]) -> None:
        """The member-wide budgets a frame spends (server.limits); `rate_limited` when spent."""
        if session.member is None:
            if kind != "hello":
                raise ChatError(ErrorCode.HELLO_REQUIRED, "say hello first")
            self._check_member_cap(frame)
        elif kind in PRESENCE_KINDS and session.joins is not None:
            # Each of these puts a frame into the whole room (presence or hands): the member's
            # one join budget bounds them together. A facilitator lowering someone else's hand
            # is running the room, not churning it.
            claim = session.facilitator
            if not (
                kind == "lower_hand"
                and frame.get("participant") is not None
                and claim is not None
                and time.time() < claim.expires_at
            ):
                wait = session.joins.take(time.time())
                if wait > 0:
                    what = "joining" if kind in ("join", "leave") else "changing"
                    raise ChatError(ErrorCode.RATE_LIMITED, f"{what} too fast", retry_after=wait)
        elif kind == "report" and (share := self.members.share_of(session.member)) is not None:
            # Every report lands in each facilitator's queue: a member-wide budget.
            wait = share.reports.take(time.time())
            if wait > 0:
                raise ChatError(ErrorCode.RATE_LIMITED, "reporting too fast", retry_after=wait)

    def _check_member_cap(self, frame: dict[str, Any]) -> None:
        token = frame.get("token")
        if not isinstance(token, str):
            return  # a new member has no sockets yet
        try:
            member = self.svc.tokens.read_member(token)
        except ChatError:
            return  # the hello handler answers a bad token
        if self.members.full(member):
            raise ChatError(ErrorCode.LIMIT_REACHED, "too many connections for one member")

    async def _handle(self, session: Session, message: Message) -> None:
        ref: str | None = None
        try:
            read = self._read(session, message)
            if read is None:
                return
            frame, ref = read
            kind = frame["type"]
            handler = self.handlers.get(kind)
            if handler is None:
                raise ChatError(ErrorCode.UNKNOWN_TYPE, "unknown frame type")
            self._take_budgets(session, kind, frame)
            await handler(self.svc, session, frame, ref)
            if kind == "hello" and session.member is not None:
                share = self.members.attach(session.member, time.time())
                session.share_member(share.sends, share.joins)
        except ChatError as err:
            self.svc.metrics.errors.labels(err.code.value).inc()
            ref = err.extra.pop("ref", ref)
            if "retry_after" in err.extra:
                err.extra["retry_after"] = round(float(err.extra["retry_after"]), 2)
            self._error(session, err.code, err.message, ref, err.extra)
        except BrokerUnavailable:
            self._error(
                session, ErrorCode.UNAVAILABLE, "service temporarily unavailable, try again", ref
            )
        except WebSocketDisconnect:
            raise
        except Exception as exc:
            # Never the exception's text: it may quote the frame.
            log.error("frame handling failed: %s at %s", type(exc).__name__, where(exc))
            message_ = "something went wrong; the message was not sent"
            self._error(session, ErrorCode.INTERNAL, message_, ref)

    @staticmethod
    def _error(
        session: Session,
        code: ErrorCode,
        message: str,
        ref: str | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        error = {"type": "error", "code": code.value, "message": message, "ref": ref}
        session.deliver(wire.encode({**error, **(extra or {})}))
