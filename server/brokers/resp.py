"""A bare RESP2 connection to Redis over plain TCP, parsed with hiredis, for the broker's two
per-message paths: the subscription and the message-publishing script.

redis-py wraps each call in layers (a retry policy, a timeout context, pool checkout, response
callbacks) that cost tens of microseconds per message (measured, docs/performance.md). Here a
reply costs one callback. Only `redis://` URLs (user, password, host, port) are taken;
`supports` tells the broker when to keep redis-py instead (TLS, Unix sockets).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import hiredis
from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError

__all__ = ["CONNECT_TIMEOUT_S", "RespConnection", "command", "supports"]

CONNECT_TIMEOUT_S = 2.0


def supports(url: str) -> bool:
    """Whether `url` is one this module connects to (plain TCP `redis://`)."""
    return urlsplit(url).scheme == "redis"


def command(*args: str) -> bytes:
    """One command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class RespConnection(asyncio.Protocol):
    """Replies go to `on_reply` in order, from the event loop's read callback; error replies
    arrive there too, as `hiredis.ReplyError` values. `on_lost(why)` is called once, when the
    connection ends for any reason (after which `write` raises)."""

    def __init__(self, on_reply: Callable[[Any], None], on_lost: Callable[[str], None]) -> None:
        self._on_reply = on_reply
        self._on_lost = on_lost
        self._parser = hiredis.Reader(encoding="utf-8")
        self._transport: asyncio.Transport | None = None
        self._first: asyncio.Future[Any] | None = None  # the AUTH reply, while opening
        self._queued: list[bytes] = []  # written by `write_soon`, not yet sent
        self.broken: str | None = None  # why the connection is unusable, once it is

    @classmethod
    async def open(
        cls, url: str, on_reply: Callable[[Any], None], on_lost: Callable[[str], None]
    ) -> RespConnection:
        """Connect (and AUTH when the URL has a password); raises a redis-py error."""
        parts = urlsplit(url)
        conn = cls(on_reply, on_lost)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                await loop.create_connection(
                    lambda: conn, parts.hostname or "localhost", parts.port or 6379
                )
                if parts.password:
                    auth = [unquote(parts.password)]
                    if parts.username:
                        auth.insert(0, unquote(parts.username))
                    conn._first = loop.create_future()
                    conn.write(command("AUTH", *auth))
                    reply = await conn._first
                    if isinstance(reply, hiredis.ReplyError) or reply != "OK":
                        raise AuthenticationError("authentication failed")
        except BaseException as exc:
            conn.close()
            if isinstance(exc, OSError | TimeoutError):
                raise RedisConnectionError(f"connecting failed: {type(exc).__name__}") from None
            raise
        conn._first = None
        return conn

    def write(self, data: bytes) -> None:
        if self.broken is not None or self._transport is None:
            raise RedisConnectionError(f"redis connection {self.broken or 'not open'}")
        self._transport.write(data)

    def write_soon(self, data: bytes) -> None:
        """Send `data` at the end of this event-loop turn, with everything else written so in
        the same turn: one write for all of them, so Redis reads them with one read (at a
        steady message rate each command had a wake-up and a read of its own). Raises as
        `write` does; order is kept (use only this once used)."""
        if self.broken is not None or self._transport is None:
            raise RedisConnectionError(f"redis connection {self.broken or 'not open'}")
        self._queued.append(data)
        if len(self._queued) == 1:
            asyncio.get_running_loop().call_soon(self._send_queued)

    def write_now(self, data: bytes) -> None:
        """Send `data` now, after whatever `write_soon` holds (order is kept): for a caller that
        already waited for the end of its turn. Raises as `write` does."""
        if self.broken is not None or self._transport is None:
            raise RedisConnectionError(f"redis connection {self.broken or 'not open'}")
        if self._queued:
            self._queued.append(data)
            data, self._queued = b"".join(self._queued), []  # the pending send finds none
        self._transport.write(data)

    def _send_queued(self) -> None:
        if not self._queued:
            return  # `write_now` sent it
        data, self._queued = b"".join(self._queued), []
        if self.broken is None and self._transport is not None:
            self._transport.write(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._end("closed")

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        parser.feed(data)
        try:
            while (reply := parser.gets()) is not False:
                first = self._first
                if first is not None:
                    self._first = None
                    if not first.done():
                        first.set_result(reply)
                    continue
                self._on_reply(reply)
        except hiredis.ProtocolError:
            self._end("sent what is not RESP")
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end("lost")

    def _end(self, why: str) -> None:
        if self.broken is None:
            self.broken = why
            first = self._first
            if first is not None and not first.done():
                first.set_exception(RedisConnectionError(f"redis connection {why}"))
            self._on_lost(why)
