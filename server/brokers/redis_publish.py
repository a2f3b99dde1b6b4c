"""The message-publishing script on a bare RESP connection (`server.brokers.resp`).

Each accepted message runs one script (store, trim, publish). Through redis-py that took a
pipeline object, a pool checkout, a retry wrapper and a timeout context per batch (measured,
docs/performance.md). Here each call writes its EVALSHA on one connection (the calls of one
event-loop turn in one write), and the replies resolve the calls in order.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from typing import Any

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from server.brokers.resp import RespConnection, command

__all__ = ["RespScript"]


class RespScript:
    """`call(keys, args)` runs one Lua script and returns its reply (decoded as redis-py does
    with `decode_responses`), or raises a redis-py error. A lost connection fails the calls in
    flight (the caller reports `unavailable`); the next call opens a new connection."""

    def __init__(self, url: str, source: str) -> None:
        self._url = url
        self._source = source
        # What Redis names the script (SHA-1 is its choice, not a security measure here).
        self._sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        self._conn: RespConnection | None = None
        self._opening: asyncio.Task[RespConnection] | None = None
        self._closed = False
        self._calls: deque[tuple[list[str], list[str], asyncio.Future[Any]]] = deque()

    async def call(self, keys: list[str], args: list[Any]) -> Any:
        conn = self._conn
        if conn is None or conn.broken is not None:
            conn = await self._connection()
        texts = [str(a) for a in args]
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        conn.write_soon(command("EVALSHA", self._sha, str(len(keys)), *keys, *texts))
        self._calls.append((keys, texts, future))
        return await future

    async def aclose(self) -> None:
        self._closed = True
        if self._opening is not None:
            self._opening.cancel()  # a connection being opened is closed by `open` itself
        if self._conn is not None:
            self._conn.close()

    async def _connection(self) -> RespConnection:
        # Callers arriving while a connection is being opened wait for that one; it is kept
        # even when they all gave up meanwhile, so no connection is ever left unowned.
        if self._opening is None or self._opening.done():
            self._opening = asyncio.create_task(self._open())
        return await asyncio.shield(self._opening)

    async def _open(self) -> RespConnection:
        if self._closed:
            raise RedisConnectionError("closed")
        conn = await RespConnection.open(self._url, self._on_reply, self._on_lost)
        self._conn = conn
        return conn

    def _on_reply(self, reply: Any) -> None:
        if not self._calls:
            return  # nothing is waiting for it (cannot happen on an ordered connection)
        keys, texts, future = self._calls.popleft()
        if isinstance(reply, hiredis.ReplyError):
            if str(reply).startswith("NOSCRIPT") and self._conn is not None:
                # Redis lost its script cache (a restart): send the source, which caches it.
                self._conn.write_soon(command("EVAL", self._source, str(len(keys)), *keys, *texts))
                self._calls.append((keys, texts, future))
                return
            if not future.done():
                future.set_exception(ResponseError(str(reply)))
        elif not future.done():
            future.set_result(reply)

    def _on_lost(self, why: str) -> None:
        calls, self._calls = self._calls, deque()
        for _, _, future in calls:
            if not future.done():
                future.set_exception(RedisConnectionError(f"redis connection {why}"))
