"""A lean pub/sub connection for the Redis broker: RESP2 over plain TCP, parsed with hiredis.

Every message of every room this process serves arrives here. redis-py's `PubSub.get_message`
costs about 20 µs a message in its layers (retry wrapper, timeout context, response callbacks;
measured, docs/performance.md); here a message that already arrived costs a dict. The broker
uses only what redis-py's PubSub offers it too: `subscribe`, `unsubscribe`, `get_message` and
`aclose`, with the same message dicts. `redis://` URLs only; TLS and Unix sockets keep
redis-py's PubSub (`RespSubscription.supports`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis
from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError

__all__ = ["RespSubscription"]

CONNECT_TIMEOUT_S = 2.0


def _command(*args: str) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Protocol(asyncio.Protocol):
    def __init__(self, owner: RespSubscription) -> None:
        self._owner = owner

    def data_received(self, data: bytes) -> None:
        self._owner._received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner._lost()


class RespSubscription:
    """One subscription connection; connects on the first `subscribe`."""

    @staticmethod
    def supports(url: str) -> bool:
        return urlsplit(url).scheme == "redis"

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or "localhost"
        self._port = parts.port or 6379
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._parser = hiredis.Reader(encoding="utf-8")
        self._replies: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._broken: str | None = None  # why the connection is unusable, once it is

    # -- what the broker calls ----------------------------------------------------------------

    async def subscribe(self, *channels: str) -> None:
        if self._transport is None and self._broken is None:
            await self._connect()
        self._write(_command("SUBSCRIBE", *channels))

    async def unsubscribe(self, *channels: str) -> None:
        self._write(_command("UNSUBSCRIBE", *channels))

    async def get_message(
        self,
        timeout: float | None = 0.0,  # noqa: ASYNC109 - the interface of redis-py's PubSub
    ) -> dict[str, Any] | None:
        """The next message, subscribe or unsubscribe confirmation, as redis-py's PubSub gives
        it ({"type", "channel", "data"}); None when none came within `timeout` seconds."""
        if not self._replies:
            self._check()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await self._waiter
            except TimeoutError:
                return None
            finally:
                self._waiter = None
            if not self._replies:
                self._check()
                return None
        reply = self._replies.popleft()
        if isinstance(reply, list) and len(reply) == 3:
            return {"type": reply[0], "channel": reply[1], "data": reply[2]}
        return None  # nothing else is sent on a subscribed connection

    async def aclose(self) -> None:
        self._broken = self._broken or "closed"
        if self._transport is not None:
            self._transport.close()
        self._wake()

    # -- the connection -----------------------------------------------------------------------

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                transport, _ = await loop.create_connection(
                    lambda: _Protocol(self), self._host, self._port
                )
        except (OSError, TimeoutError) as exc:
            raise RedisConnectionError(f"connecting failed: {type(exc).__name__}") from None
        self._transport = transport
        if self._password is None:
            return
        auth = [self._username, self._password] if self._username else [self._password]
        try:
            self._write(_command("AUTH", *auth))
            if await self._next_reply() != "OK":  # a refusal raises in _next_reply
                raise AuthenticationError("authentication failed")
        except BaseException:
            await self.aclose()  # a half-set-up connection is not left open
            raise

    async def _next_reply(self) -> Any:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            while not self._replies:
                self._check()
                self._waiter = asyncio.get_running_loop().create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
        return self._replies.popleft()

    def _write(self, data: bytes) -> None:
        self._check()
        assert self._transport is not None
        self._transport.write(data)

    def _check(self) -> None:
        if self._broken is not None:
            raise RedisConnectionError(f"subscription connection {self._broken}")
        if self._transport is None:
            raise RedisConnectionError("subscription connection not open")

    def _received(self, data: bytes) -> None:
        parser = self._parser
        parser.feed(data)
        try:
            while (reply := parser.gets()) is not False:
                if isinstance(reply, hiredis.ReplyError):
                    self._broken = "refused a command"
                    break
                self._replies.append(reply)
        except hiredis.ProtocolError:
            self._broken = "sent what is not RESP"
        if self._broken is not None and self._transport is not None:
            self._transport.close()
        self._wake()

    def _lost(self) -> None:
        self._broken = self._broken or "lost"
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
