"""Lua scripts on a bare RESP connection (`server.brokers.resp`): the message-publishing script
(the messages of one event-loop turn in one call), and the broker's other scripts (a join runs
several).

Through redis-py each call took a retry wrapper, a pool checkout, a timeout context and packing
(measured, docs/performance.md: a quarter of a join-only load). Here each call writes its
EVALSHA on one connection (the calls of one event-loop turn in one write), and the replies
resolve the calls in order.
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

__all__ = ["CALL_TIMEOUT_S", "MESSAGES_PER_CALL", "MessageScript", "RespScripts"]

# A script call: its source, keys and arguments.
_Source = tuple[str, list[str], list[str]]

# As long as redis-py's socket timeout in this broker: a Redis that stopped answering fails the
# call (the caller says `unavailable`) instead of holding it for ever.
CALL_TIMEOUT_S = 5.0

# At most this many messages in one call of the message script: Redis runs a script to its end
# before anything else, so a call of a few hundred messages would hold every other client.
MESSAGES_PER_CALL = 64


class RespScripts:
    """`run(source, keys, args)` runs a Lua script, `command(*args)` a plain command; each
    returns its reply (decoded as redis-py does with `decode_responses`), or raises a redis-py
    error. A lost connection, or a call not answered within `CALL_TIMEOUT_S` (the connection is
    then closed: the replies after it would answer the wrong calls), fails the calls in flight;
    the next call opens a new connection."""

    def __init__(self, url: str) -> None:
        self._url = url
        # What Redis names each script (SHA-1 is its choice, not a security measure here).
        self._shas: dict[str, str] = {}
        self._conn: RespConnection | None = None
        self._opening: asyncio.Task[RespConnection] | None = None
        self._closed = False
        # In the order sent: the script (to send again after NOSCRIPT), and who waits.
        self._calls: deque[tuple[_Source | None, asyncio.Future[Any], float]] = deque()
        self._watch: asyncio.TimerHandle | None = None  # at the oldest call's deadline

    async def run(self, source: str, keys: list[str], args: list[Any]) -> Any:
        await self.ready()
        return await self.send_script(source, keys, args)

    async def command(self, *args: str) -> Any:
        """One plain command (no script), answered like `run`."""
        await self.ready()
        return await self.send_command(*args)

    async def ready(self) -> None:
        """Open the connection if there is none (or it broke)."""
        conn = self._conn
        if conn is None or conn.broken is not None:
            await self._connection()

    def send_script(
        self, source: str, keys: list[str], args: list[Any], now: bool = False
    ) -> asyncio.Future[Any]:
        """`run` without waiting: the reply's future (after `ready`). Calls sent one after the
        other leave in one write at the end of the turn and are answered in one read; `now`
        sends at once (with what waits before it), for a caller that waited for the end of
        its turn itself."""
        sha = self._shas.get(source)
        if sha is None:
            sha = self._shas[source] = hashlib.sha1(
                source.encode(), usedforsecurity=False
            ).hexdigest()
        texts = [str(a) for a in args]
        payload = command("EVALSHA", sha, str(len(keys)), *keys, *texts)
        return self._send(payload, (source, keys, texts), now)

    def send_command(self, *args: str) -> asyncio.Future[Any]:
        """`command` without waiting, as `send_script`."""
        return self._send(command(*args), None)

    def _send(
        self, payload: bytes, script: _Source | None, now: bool = False
    ) -> asyncio.Future[Any]:
        conn = self._conn
        if conn is None:
            raise RedisConnectionError("redis connection not open")
        if now:
            conn.write_now(payload)  # raises when the connection broke
        else:
            conn.write_soon(payload)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        # A caller that stops waiting (a timeout, a cancel) cancels the future; its answer
        # still comes, in order, and is dropped.
        future.add_done_callback(_retrieved)
        deadline = loop.time() + CALL_TIMEOUT_S
        self._calls.append((script, future, deadline))
        if self._watch is None:
            self._watch = loop.call_at(deadline, self._check_deadline)
        return future

    def _check_deadline(self) -> None:
        """One timer for all calls in flight, not a timeout context and a shield per call
        (about a tenth of a join-only load's samples, py-spy): replies come in order, so the
        oldest call is the one that can be late."""
        self._watch = None
        if not self._calls:
            return
        deadline = self._calls[0][2]
        loop = asyncio.get_running_loop()
        if deadline > loop.time():
            self._watch = loop.call_at(deadline, self._check_deadline)
            return
        self._fail_all("redis call timed out")
        if self._conn is not None:
            self._conn.close()  # the replies after it would answer the wrong calls

    async def aclose(self) -> None:
        self._closed = True
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
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
        script, future, deadline = self._calls.popleft()
        if isinstance(reply, hiredis.ReplyError):
            if script is not None and str(reply).startswith("NOSCRIPT") and self._conn is not None:
                # Redis lost its script cache (a restart): send the source, which caches it.
                source, keys, texts = script
                self._conn.write_soon(command("EVAL", source, str(len(keys)), *keys, *texts))
                self._calls.append((script, future, deadline))
                return
            if not future.done():
                future.set_exception(ResponseError(str(reply)))
        elif not future.done():
            future.set_result(reply)

    def _on_lost(self, why: str) -> None:
        self._fail_all(f"redis connection {why}")

    def _fail_all(self, why: str) -> None:
        calls, self._calls = self._calls, deque()
        for _, future, _ in calls:
            if not future.done():
                future.set_exception(RedisConnectionError(why))


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class MessageScript:
    """The message-publishing script (`PUBLISH_MESSAGES`) on a connection of its own (every
    accepted message runs it, so nothing else waits behind it). `publish(keys, args)` takes one
    message's five keys and seven arguments and returns its id and epoch. The messages of one
    event-loop turn go to Redis as one call: Redis pays for a script call once, not once per
    message (docs/performance.md), and at most `MESSAGES_PER_CALL` a call. A message Redis
    failed raises `ResponseError` for its caller alone; a lost connection or a timeout fails
    every message of the call."""

    def __init__(self, url: str, source: str) -> None:
        self._scripts = RespScripts(url)
        self._source = source
        # The messages of this turn, not yet sent: their keys, arguments, and who waits.
        self._keys: list[str] = []
        self._args: list[str] = []
        self._waiting: list[asyncio.Future[tuple[int, str]]] = []

    async def publish(self, keys: list[str], args: list[Any]) -> tuple[int, str]:
        await self._scripts.ready()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[int, str]] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._send)
        self._keys.extend(keys)
        self._args.extend(str(a) for a in args)
        self._waiting.append(future)
        if len(self._waiting) >= MESSAGES_PER_CALL:
            self._send()  # this call now; the turn's later messages make the next
        return await future

    def _send(self) -> None:
        keys, args, waiting = self._keys, self._args, self._waiting
        if not waiting:
            return  # sent already, a full call
        self._keys, self._args, self._waiting = [], [], []
        try:
            reply = self._scripts.send_script(self._source, keys, args, now=True)
        except Exception as exc:  # the connection broke since `ready`
            _fail(waiting, exc)
            return
        reply.add_done_callback(lambda done: _answer(waiting, done))

    async def ready(self) -> None:
        await self._scripts.ready()

    async def aclose(self) -> None:
        await self._scripts.aclose()


def _answer(waiting: list[asyncio.Future[tuple[int, str]]], reply: asyncio.Future[Any]) -> None:
    """Each message's id and epoch (or its error) to its caller."""
    if reply.cancelled():
        _fail(waiting, RedisConnectionError("redis call cancelled"))
        return
    exc = reply.exception()
    if exc is not None:
        _fail(waiting, exc)
        return
    values = reply.result()
    if not isinstance(values, list) or len(values) != 2 * len(waiting):
        _fail(waiting, ResponseError("unexpected reply to the message script"))
        return
    for i, future in enumerate(waiting):
        if future.done():
            continue  # its caller stopped waiting
        msg_id, epoch = values[2 * i], values[2 * i + 1]
        if msg_id == 0:
            future.set_exception(ResponseError(str(epoch)))
        else:
            future.set_result((int(msg_id), str(epoch)))


def _fail(waiting: list[asyncio.Future[tuple[int, str]]], exc: BaseException) -> None:
    for future in waiting:
        if not future.done():
            future.set_exception(exc)
