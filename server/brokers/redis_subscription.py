"""The broker's pub/sub connection on a bare RESP connection (`server.brokers.resp`).

Every message of every room this process serves arrives here. redis-py's `PubSub.get_message`
costs about 20 µs a message in its layers (measured, docs/performance.md); here a message that
already arrived costs a dict. The broker uses only what redis-py's PubSub offers it too:
`subscribe`, `unsubscribe`, `get_message` and `aclose`, with the same message dicts.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError

from server.brokers.resp import RespConnection, command

__all__ = ["RespSubscription"]


class RespSubscription:
    """One subscription connection; connects on the first `subscribe`."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: RespConnection | None = None
        self._replies: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._broken: str | None = None  # why the connection is unusable, once it is

    async def subscribe(self, *channels: str) -> None:
        if self._conn is None and self._broken is None:
            self._conn = await RespConnection.open(self._url, self._on_reply, self._on_lost)
        self._write(command("SUBSCRIBE", *channels))

    async def unsubscribe(self, *channels: str) -> None:
        self._write(command("UNSUBSCRIBE", *channels))

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
        if self._conn is not None:
            self._conn.close()
        self._wake()

    def _write(self, data: bytes) -> None:
        self._check()
        assert self._conn is not None
        self._conn.write(data)

    def _check(self) -> None:
        if self._broken is not None:
            raise RedisConnectionError(f"subscription connection {self._broken}")
        if self._conn is None:
            raise RedisConnectionError("subscription connection not open")

    def _on_reply(self, reply: Any) -> None:
        if isinstance(reply, hiredis.ReplyError):  # e.g. NOAUTH: this connection is no use
            self._broken = "refused a command"
            if self._conn is not None:
                self._conn.close()
        else:
            self._replies.append(reply)
        self._wake()

    def _on_lost(self, why: str) -> None:
        self._broken = self._broken or why
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
