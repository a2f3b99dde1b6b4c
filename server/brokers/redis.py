"""The Redis broker: pub/sub fan-out and shared room state for many processes and hosts.

One subscription connection per process, subscribed to the rooms that have local members.
Every message runs one script on a connection of its own, not a pooled connection each (with
the default pool, clients were dropped once ~100 publishes waited at the same moment): on a
bare RESP connection, the messages of one event-loop turn in one call (`PUBLISH_MESSAGES`,
`redis_publish.MessageScript`) where the URL allows, else one call each (`PUBLISH_MESSAGE`),
batched into pipelines (`_Pipeliner`).
Room keys carry the hash tag `{room}` so a room lives in one Redis Cluster slot.

Two stores, one server unless a state URL is given: the history store (message history, the
message counter and epoch, presence, every channel) and the state store (room fields such as
sanctions, the facilitator queue, the audit log, handles, roles and agreements). The history
store may run without persistence, so message text never reaches disk; the state store runs with
AOF. A history store that lost its data is announced with a new epoch (`room_reset`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from types import TracebackType
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

from moderation.room_view import LOCK_FIELD
from rooms.history import HistoryPage
from rooms.ids import ParticipantId, RoomId
from server import envelope as envelopes
from server.brokers import (
    IDENTITY_SWEEP,
    BrokerUnavailable,
    DirectoryEntry,
    EventHandler,
    HistoryLimits,
    JoinView,
    MoodAnswer,
    MoodSession,
    PresenceChange,
    RoomWrite,
    resp,
)
from server.brokers import redis_mood_scripts as mood_lua
from server.brokers import redis_scripts as lua
from server.brokers.redis_publish import MessageScript, RespScripts
from server.brokers.redis_subscription import RespSubscription

__all__ = ["RedisBroker"]

log = logging.getLogger("peer_support.broker")

_RECONNECT_DELAYS = (0.05, 0.1, 0.25, 0.5, 1.0)
# A subscription that heard none of its own pings for this many intervals is taken for dead:
# a connection can stop delivering without any error (a stalled proxy, a half-open socket).
_SILENT_INTERVALS = 3
# The control events the broker keeps track of: epochs and field versions.
_TRACKED = (envelopes.CONTROL + '{"k":"reset"', envelopes.CONTROL + '{"k":"set"')
# How long a history begun anew after a loss keeps its epoch before its first message sets the
# room's own expiry (as after `end_session`).
_EPOCH_KEEP_MS = 7 * 86400 * 1000


# What a failed Redis call raises: redis-py's errors, socket errors (TimeoutError among them), and
# the cluster client's own, which are no RedisError (no node reachable, a slot not covered).
_REDIS_ERRORS = (RedisError, RedisClusterException, OSError)


class _Unavailable:
    """`with _Unavailable("what failed"):` turns a Redis error raised inside into
    `BrokerUnavailable`; the one place the broker does so. Holds no state, so one instance
    serves every call of a kind."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, _REDIS_ERRORS):
            raise BrokerUnavailable(self.what) from exc


_PUBLISH_FAILED = _Unavailable("publish failed")
_HISTORY_FAILED = _Unavailable("history store failed")
_STATE_FAILED = _Unavailable("state store failed")
_SUBSCRIBE_FAILED = _Unavailable("subscribe failed")


class _SilentSubscription(Exception):
    """The subscription connection stopped delivering without an error."""


def _json_or_none(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


class _Script:
    """A Lua script run by EVALSHA, loaded again after NOSCRIPT (a Redis restart or flush)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha: str | None = None

    async def __call__(self, client: Any, keys: list[str], args: list[Any]) -> Any:
        if self.sha is None:
            self.sha = await client.script_load(self.source)
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            self.sha = await client.script_load(self.source)
            return await client.evalsha(self.sha, len(keys), *keys, *args)


class _Pipeliner:
    """Runs the message script (`PUBLISH_MESSAGE`, one message a call) queued in pipelines on
    one connection, one batch at a time (on Redis Cluster, which refuses EVALSHA in a pipeline,
    the calls of a batch run side by side). `publish` as `MessageScript.publish`."""

    def __init__(self, client: Any, script: _Script, pipelines: bool = True) -> None:
        self._client = client
        self._script = script
        self._pipelines = pipelines  # Redis Cluster refuses EVALSHA in a pipeline
        self._queue: list[tuple[list[str], list[Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def aclose(self) -> None:
        """Nothing of its own to close: its client is the broker's."""

    async def publish(self, keys: list[str], args: list[Any]) -> tuple[int, str]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((keys, args, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        msg_id, epoch = await future
        return int(msg_id), str(epoch)

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                results = await self._run(batch)
            except Exception as exc:  # the whole batch failed: every caller is told
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def _run(self, batch: list[tuple[list[str], list[Any], asyncio.Future[Any]]]) -> Any:
        if not self._pipelines:
            # One connection per node in a cluster; the calls run side by side.
            calls = (self._script(self._client, keys, args) for keys, args, _ in batch)
            return await asyncio.gather(*calls, return_exceptions=True)
        if self._script.sha is None:
            self._script.sha = await self._client.script_load(self._script.source)
        for attempt in range(2):
            async with self._client.pipeline(transaction=False) as pipe:
                for keys, args, _ in batch:
                    pipe.evalsha(self._script.sha, len(keys), *keys, *args)
                results = await pipe.execute(raise_on_error=False)
            if attempt == 0 and any(isinstance(r, NoScriptError) for r in results):
                # Redis lost its script cache; nothing of the batch ran, so it is safe to rerun.
                self._script.sha = await self._client.script_load(self._script.source)
                continue
            return results
        return results


class RedisBroker:
    """Implements `server.brokers.Broker` on Redis (pub/sub, streams, sorted sets)."""

    # Redis Cluster runs no MULTI in its pipelines (server/brokers/redis_cluster.py sets this
    # False; what else it changes is below, under "what Redis Cluster changes").
    transactions = True

    def __init__(
        self,
        url: str,
        prefix: str = "psc",
        state_url: str | None = None,
        ping_interval_s: float = 5.0,
    ) -> None:
        self._prefix = prefix
        self._url = url
        # The history store: history, presence and pub/sub.
        self._client: Any = self._make_client(
            url, socket_connect_timeout=2, health_check_interval=0
        )
        # The state store: what must survive a restart. The same client when on the same server.
        self._state: Any = (
            self._client
            if state_url is None or state_url == url
            else self._make_client(state_url, socket_connect_timeout=2, health_check_interval=0)
        )
        self._publisher_client: Any = self._make_client(
            url, socket_connect_timeout=2, max_connections=4
        )
        # Every accepted message runs a script: on a bare connection where the URL allows.
        self._publish: _Pipeliner | MessageScript = (
            MessageScript(url, lua.PUBLISH_MESSAGES)
            if resp.supports(url)
            else _Pipeliner(
                self._publisher_client, self._script(lua.PUBLISH_MESSAGE), self.transactions
            )
        )
        # The other scripts (a join runs several) on a bare connection per store too, where the
        # URL allows; redis-py's layers were a quarter of a join-only load.
        self._bare_history = RespScripts(url) if resp.supports(url) else None
        self._bare_state = (
            self._bare_history
            if self._state is self._client
            else RespScripts(state_url) if state_url is not None and resp.supports(state_url)
            else None
        )  # fmt: skip
        self._history = self._script(lua.HISTORY)
        self._reset = self._script(lua.RESET_HISTORY)
        self._claim = self._script(lua.CLAIM_HANDLE)
        self._agree = self._script(lua.SET_AGREEMENT)
        self._enter = self._script(lua.PRESENCE_ENTER)
        self._exit = self._script(lua.PRESENCE_EXIT)
        self._presence_update = self._script(lua.PRESENCE_UPDATE)
        self._sweep = self._script(lua.PRESENCE_SWEEP)
        self._participants = self._script(lua.PARTICIPANTS)
        self._refresh = self._script(lua.PRESENCE_REFRESH)
        self._set_field = self._script(lua.SET_FIELD)
        self._update_list = self._script(lua.UPDATE_LIST)
        self._directory = self._script(lua.DIRECTORY)
        self._snapshot = self._script(lua.STATE_SNAPSHOT)
        self._ensure_epoch = self._script(lua.ENSURE_EPOCH)
        self._queue_add = self._script(lua.QUEUE_ADD)
        self._queue_resolve = self._script(lua.QUEUE_RESOLVE)
        self._queue_once = self._script(lua.QUEUE_ADD_ONCE)
        self._mood_add = self._script(mood_lua.MOOD_ADD)
        self._mood_end = self._script(mood_lua.MOOD_END)
        self._room_write = self._script(lua.ROOM_WRITE)
        self._on_event: EventHandler | None = None
        self._rooms: set[RoomId] = set()
        self._channel_room: dict[str, RoomId] = {}
        self._pending: dict[str, asyncio.Future[None]] = {}
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._home = f"{prefix}:proc:{secrets.token_hex(6)}"
        # What this process has delivered of each subscribed room, so a new subscription
        # connection can deliver what was published while there was none: the highest message
        # id, the epoch, and the shared state fields (parsed).
        self._last_id: dict[RoomId, int] = {}
        self._epoch: dict[RoomId, str] = {}
        self._fields: dict[RoomId, dict[str, Any]] = {}
        # The state version each field was last delivered at, and the version of the last
        # snapshot read: a change published at or below either is stale and is not delivered.
        self._field_version: dict[RoomId, dict[str, int]] = {}
        self._snapshot_version: dict[RoomId, int] = {}
        self._heard = 0.0
        self._pinger: asyncio.Task[None] | None = None
        self._closing = False
        self.ping_interval_s = ping_interval_s
        self.resubscriptions = 0  # for operators and tests: how often the subscription was lost
        self.recovered = 0  # messages delivered from history after a resubscription

    # -- what Redis Cluster changes ------------------------------------------------------------

    def _make_client(self, url: str, **options: Any) -> Any:
        # A pool that makes a caller wait for a free connection (bounded) instead of failing:
        # redis-py's default pool raises once all its connections are busy, which showed as
        # `unavailable` errors when a thousand members joined at once (bench/).
        options.setdefault("max_connections", 64)
        pool = aioredis.BlockingConnectionPool.from_url(
            url, decode_responses=True, timeout=5, **options
        )
        return aioredis.Redis.from_pool(pool)

    def _script(self, source: str) -> _Script:
        return _Script(source)

    def _new_pubsub(self) -> Any:
        if resp.supports(self._url):
            return RespSubscription(self._url)  # every message passes here: the lean reader
        return self._client.pubsub()

    async def _publish_to(self, client: Any, channel: str, data: str) -> None:
        await client.publish(channel, data)

    # -- keys ----------------------------------------------------------------------------------

    def _key(self, room: RoomId, name: str) -> str:
        return f"{self._prefix}:{{{room}}}:{name}"

    def _history_keys(self, room: RoomId) -> list[str]:
        return [self._key(room, n) for n in ("seq", "epoch", "hist", "floor", "ch")]

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event
        try:
            await self._connect_pubsub()
            # The bare connections now, not at the first message: a process that has used up
            # its open files on members could open none later (bench/ hold scenario: 19,968
            # members held, then not one message delivered).
            for bare in (self._publish, self._bare_history, self._bare_state):
                if isinstance(bare, MessageScript | RespScripts):
                    await bare.ready()
        except _REDIS_ERRORS as exc:
            # Not fatal: /readyz says 503 and the reader keeps trying until Redis answers.
            log.warning("redis not reachable at start: %s", type(exc).__name__)
        self._reader = asyncio.create_task(self._read_forever(), name="redis-subscriber")
        self._pinger = asyncio.create_task(self._ping_forever(), name="redis-subscriber-ping")

    async def close(self) -> None:
        self._on_event = None
        self._closing = True
        tasks = [t for t in (self._reader, self._pinger) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            # Bounded: a cancel that lands while redis-py finishes a command can be lost (seen
            # in tests/test_faults_redis.py); the loops also stop at their next turn.
            await asyncio.wait(tasks, timeout=self.ping_interval_s + 1.0)
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        await self._client.aclose()
        if self._state is not self._client:
            await self._state.aclose()
        await self._publish.aclose()
        for bare in {self._bare_history, self._bare_state} - {None}:
            await bare.aclose()  # type: ignore[union-attr]
        await self._publisher_client.aclose()

    async def ping(self) -> bool:
        """True when both stores answer (one server: the one)."""
        try:
            if not await self._client.ping():
                return False
            return self._state is self._client or bool(await self._state.ping())
        except _REDIS_ERRORS:
            return False

    # -- subscriptions -------------------------------------------------------------------------

    async def _connect_pubsub(self) -> list[dict[str, Any]]:
        """Subscribe a new connection to the home channel and every room, and wait until Redis
        confirmed them all (only then can history be read without a gap). Returns messages
        that arrived meanwhile, for the caller to deliver after catching up."""
        pubsub: Any = self._new_pubsub()
        # A home channel keeps the connection subscribed while no room is, and carries pings.
        channels = [self._home, *(self._key(r, "ch") for r in self._rooms)]
        early: list[dict[str, Any]] = []
        try:
            await pubsub.subscribe(*channels)
            unconfirmed = set(channels)
            async with asyncio.timeout(5.0):
                while unconfirmed:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message.get("type") == "subscribe":
                        unconfirmed.discard(str(message.get("channel")))
                    else:
                        early.append(message)
        except BaseException:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await pubsub.aclose()
            raise
        self._pubsub = pubsub
        self._heard = asyncio.get_running_loop().time()
        return early

    async def _read_forever(self) -> None:
        attempt = 0
        loop = asyncio.get_running_loop()
        while not self._closing:
            try:
                if self._pubsub is None:
                    early = await self._connect_pubsub()
                    if attempt:
                        self.resubscriptions += 1
                        await self._catch_up()
                        log.info("subscription restored")
                    for message in early:
                        self._dispatch(message)
                    attempt = 0
                message = await self._pubsub.get_message(timeout=self.ping_interval_s)
                if message is not None:
                    self._dispatch(message)
                if loop.time() - self._heard > _SILENT_INTERVALS * self.ping_interval_s:
                    raise _SilentSubscription
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("subscription lost: %s", type(exc).__name__)
                old, self._pubsub = self._pubsub, None
                if old is not None:
                    with contextlib.suppress(Exception):
                        async with asyncio.timeout(1.0):
                            await old.aclose()
                await asyncio.sleep(_RECONNECT_DELAYS[min(attempt, len(_RECONNECT_DELAYS) - 1)])
                attempt += 1

    async def _ping_forever(self) -> None:
        """Publish to our own home channel, on another connection, every interval: the reader
        expects to hear it back, else it reconnects."""
        while not self._closing:
            await asyncio.sleep(self.ping_interval_s)
            # A cancel that lands during this ping can be lost (seen in tests/test_faults_redis.py:
            # the loop went on and close() waited forever), so the loop also stops on `_closing`
            # and close() waits for it with a bound.
            with contextlib.suppress(*_REDIS_ERRORS):
                async with asyncio.timeout(2.0):
                    await self._publish_plain(self._client, self._home, "ping")
            with contextlib.suppress(*_REDIS_ERRORS):
                async with asyncio.timeout(self.ping_interval_s):
                    await self._reconcile()

    async def _reconcile(self) -> None:
        """Compare each subscribed room's stored fields with what was delivered, and deliver
        the difference: a change written on the state store whose publish never came (the
        writer died between the two, or its publish failed), or one the state store lost (a
        crash loses its last second of writes) while the subscription, on the history store,
        stayed up and so never caught up."""
        for room in sorted(self._rooms):
            if self._pubsub is None:
                return  # the reader catches up when its subscription is back
            before = dict(self._field_version.get(room, {}))
            version, fields = await self._read_snapshot(room)
            if room not in self._rooms:
                continue
            # A change delivered while the snapshot was read may be newer than it: keep it.
            moved = {n for n, v in self._field_version.get(room, {}).items() if before.get(n) != v}
            self._catch_up_fields(room, fields, version, moved)

    async def _catch_up(self) -> None:
        """After a new subscription connection: deliver, per room and in order, the messages
        published while there was none (from the stored history), the state changes missed
        (as `set` control events) and a `reset` when the room's history was lost meanwhile."""
        for room in sorted(self._rooms):
            last = self._last_id.get(room, 0)
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.get(self._key(room, "epoch"))
                pipe.get(self._key(room, "seq"))
                pipe.xrange(self._key(room, "hist"), f"{last + 1}-0", "+")
                epoch, seq, entries = await pipe.execute()
            version, fields = await self._read_snapshot(room)
            known = self._epoch.get(room)
            if epoch is None and known is not None:
                # The history store lost the room (restarted without persistence): begin the
                # new epoch now, so the room hears of it at once rather than at its next message.
                keys = self._history_keys(room)
                epoch = await self._ensure_epoch(
                    self._client, keys, [secrets.token_hex(8), _EPOCH_KEEP_MS]
                )
            if epoch is not None and known is not None and epoch != known:
                # Lost and begun anew while we were away: what we hold of it is void.
                self._deliver(room, envelopes.reset(epoch))
                self._last_id[room] = int(seq or 0)
            elif epoch is not None:
                for _, entry in entries:
                    if entry and "f" in entry:
                        before = self._last_id.get(room, 0)
                        self._deliver(room, envelopes.ROOM + str(entry["f"]))
                        self.recovered += self._last_id.get(room, 0) > before
            self._catch_up_fields(room, fields, version)

    async def _read_snapshot(self, room: RoomId) -> tuple[int, dict[str, str]]:
        """The room's fields and the state version they are at, read at once."""
        keys = [self._key(room, "state"), self._key(room, "sver")]
        out = await self._snapshot(self._state, keys, [])
        return int(out[0]), {str(out[i]): str(out[i + 1]) for i in range(1, len(out) - 1, 2)}

    def _catch_up_fields(
        self, room: RoomId, stored: dict[str, str], version: int, skip: set[str] | None = None
    ) -> None:
        """Deliver, as `set` events, how the stored fields (but `skip`) differ from what was
        delivered; the changes published up to `version` are then stale."""
        self._snapshot_version[room] = max(version, self._snapshot_version.get(room, 0))
        known = self._fields.setdefault(room, {})
        current = {name: _json_or_none(raw) for name, raw in stored.items()}
        for name in sorted(set(known) | set(current)):
            if skip and name in skip:
                continue
            value = current.get(name)
            if known.get(name) != value:
                self._deliver(room, envelopes.field_set(name, stored.get(name)))

    def _deliver(self, room: RoomId, envelope: str) -> None:
        """Hand one envelope of a subscribed room to the hub, once: a message whose id was
        delivered already (caught up from history, then heard live) is dropped."""
        msg_id = envelopes.message_id(envelope)
        if msg_id is not None:
            if msg_id <= self._last_id.get(room, 0):
                return
            self._last_id[room] = msg_id
        elif envelope.startswith(_TRACKED) and not self._track(room, envelope):
            return
        if self._on_event is not None:
            self._on_event(room, envelope)

    def _track(self, room: RoomId, envelope: str) -> bool:
        """Record a reset or a field change; False for a change older than what is held."""
        try:
            event = json.loads(envelope[1:])
        except ValueError:
            return True
        if event.get("k") == "reset" and isinstance(event.get("epoch"), str):
            if event["epoch"] != self._epoch.get(room):
                self._last_id[room] = 0  # ids of the new epoch start over from its floor
            self._epoch[room] = event["epoch"]
        elif event.get("k") == "set" and isinstance(event.get("f"), str):
            version = event.get("n")
            if isinstance(version, int):
                # Publishes from different processes can arrive out of the order they were
                # written in; the state store's version orders them.
                versions = self._field_version.setdefault(room, {})
                if version <= max(self._snapshot_version.get(room, 0), versions.get(event["f"], 0)):
                    return False
                versions[event["f"]] = version
            fields = self._fields.setdefault(room, {})
            if event.get("v") is None:
                fields.pop(event["f"], None)
            else:
                fields[event["f"]] = event["v"]
        return True

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind, channel = message.get("type"), str(message.get("channel"))
        if kind == "message":
            if channel == self._home:
                self._heard = asyncio.get_running_loop().time()
                return
            room = self._channel_room.get(channel)
            if room is not None:
                self._deliver(room, str(message["data"]))
        elif kind == "subscribe":
            future = self._pending.pop(channel, None)
            if future is not None and not future.done():
                future.set_result(None)

    async def subscribe(self, room: RoomId) -> None:
        channel = self._key(room, "ch")
        self._rooms.add(room)
        self._channel_room[channel] = room
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending[channel] = future
        try:
            with _SUBSCRIBE_FAILED:
                if self._pubsub is None:
                    raise BrokerUnavailable("no subscription connection")
                await self._pubsub.subscribe(channel)
                await asyncio.wait_for(future, timeout=5.0)
                # Where this process starts to deliver the room from: what was published before
                # is history, which a joining socket reads itself.
                async with self._client.pipeline(transaction=False) as pipe:
                    pipe.get(self._key(room, "seq"))
                    pipe.get(self._key(room, "epoch"))
                    seq, epoch = await pipe.execute()
                version, fields = await self._read_snapshot(room)
                self._last_id[room] = max(int(seq or 0), self._last_id.get(room, 0))
                if epoch is not None:
                    self._epoch[room] = epoch
                self._fields[room] = {name: _json_or_none(raw) for name, raw in fields.items()}
                self._snapshot_version[room] = max(version, self._snapshot_version.get(room, 0))
        except BrokerUnavailable:
            self._pending.pop(channel, None)
            self._rooms.discard(room)
            self._channel_room.pop(channel, None)
            raise

    async def unsubscribe(self, room: RoomId) -> None:
        channel = self._key(room, "ch")
        self._rooms.discard(room)
        self._channel_room.pop(channel, None)
        for table in (
            self._last_id,
            self._epoch,
            self._fields,
            self._field_version,
            self._snapshot_version,
        ):
            table.pop(room, None)
        if self._pubsub is not None:
            with contextlib.suppress(*_REDIS_ERRORS):
                await self._pubsub.unsubscribe(channel)

    # -- messages and history (`Messages`) -----------------------------------------------------

    async def publish(self, room: RoomId, envelope: str) -> None:
        with _PUBLISH_FAILED:
            await self._publish_plain(self._publisher_client, self._key(room, "ch"), envelope)

    async def _publish_plain(self, client: Any, channel: str, data: str) -> None:
        """PUBLISH on the bare connection where there is one (open since `start`), else on
        `client`."""
        if self._bare_history is not None:
            await self._bare_history.command("PUBLISH", channel, data)
        else:
            await self._publish_to(client, channel, data)

    async def publish_message(
        self,
        room: RoomId,
        head: str,
        tail: str,
        now_ms: int,
        limits: HistoryLimits,
        private_to: str | None = None,
    ) -> tuple[int, str]:
        args = [
            now_ms, limits.max_messages, limits.max_age_ms, secrets.token_hex(8), head, tail,
            private_to or "",
        ]  # fmt: skip
        with _PUBLISH_FAILED:
            return await self._publish.publish(self._history_keys(room), args)

    async def history(self, room: RoomId, now_ms: int, limits: HistoryLimits) -> HistoryPage:
        args = _history_args(now_ms, limits)
        return _history_page(await self._run(self._history, self._history_keys(room), args))

    async def join_view(
        self, room: RoomId, participant: ParticipantId, now_ms: int, limits: HistoryLimits
    ) -> JoinView:
        history, state = self._bare_history, self._bare_state
        if history is None or state is None:
            agreed = await self.agreement(room, participant)
            page = await self.history(room, now_ms, limits)
            return JoinView(agreed, page, await self.participants(room, now_ms))
        # Sent together, answered together: one round trip for the three reads.
        with _STATE_FAILED:
            await state.ready()
        with _HISTORY_FAILED:
            await history.ready()
        with _STATE_FAILED:
            agreeing = state.send_command("HGET", self._key(room, "agreed"), participant)
        with _HISTORY_FAILED:
            args = _history_args(now_ms, limits)
            reading = history.send_script(self._history.source, self._history_keys(room), args)
            keys = self._presence_keys(room)[:2]
            present = history.send_script(self._participants.source, keys, [now_ms])
        with _STATE_FAILED:
            raw = await agreeing
        with _HISTORY_FAILED:
            out = await reading
            infos = await present
        return JoinView(int(raw) if raw else 0, _history_page(out), [str(i) for i in infos])

    async def get_message(self, room: RoomId, message_id: int) -> str | None:
        with _HISTORY_FAILED:
            entries = await self._client.xrange(
                self._key(room, "hist"), f"{message_id}-0", f"{message_id}-0"
            )
        if not entries or entries[0][1] is None:
            return None
        return str(entries[0][1]["f"])

    async def delete_message(self, room: RoomId, message_id: int) -> bool:
        with _HISTORY_FAILED:
            removed = await self._client.xdel(self._key(room, "hist"), f"{message_id}-0")
        return bool(removed)

    async def reset_history(self, room: RoomId) -> str:
        keys = self._history_keys(room)[:4]
        return str(await self._run(self._reset, keys, [secrets.token_hex(8), _EPOCH_KEEP_MS]))

    async def _run(self, script: _Script, keys: list[str], args: list[Any]) -> Any:
        """A script on the history store."""
        with _HISTORY_FAILED:
            if self._bare_history is not None:
                return await self._bare_history.run(script.source, keys, args)
            return await script(self._client, keys, args)

    async def _run_state(self, script: _Script, keys: list[str], args: list[Any]) -> Any:
        """A script on the state store."""
        with _STATE_FAILED:
            if self._bare_state is not None:
                return await self._bare_state.run(script.source, keys, args)
            return await script(self._state, keys, args)

    # -- presence (`Presence`) -----------------------------------------------------------------

    def _presence_keys(self, room: RoomId) -> list[str]:
        return [self._key(room, "pres"), self._key(room, "pinfo"), self._key(room, "seats")]

    async def presence_enter(
        self,
        room: RoomId,
        participant: ParticipantId,
        info: str,
        process: str,
        now_ms: int,
        ttl_ms: int,
        capacity: int = 0,
    ) -> PresenceChange:
        args = [participant, process, now_ms, ttl_ms, info, capacity]
        first, count, staff, replaced, full = await self._run(
            self._enter, self._presence_keys(room), args
        )
        return PresenceChange(bool(first), int(count), int(staff), bool(replaced), bool(full))

    async def presence_exit(
        self,
        room: RoomId,
        participant: ParticipantId,
        process: str,
        now_ms: int,
        hold_ms: int = 0,
    ) -> PresenceChange:
        args = [participant, process, now_ms, hold_ms]
        last, count, staff = await self._run(self._exit, self._presence_keys(room), args)
        return PresenceChange(bool(last), int(count), int(staff))

    async def presence_update(self, room: RoomId, participant: ParticipantId, info: str) -> None:
        await self._run(self._presence_update, [self._key(room, "pinfo")], [participant, info])

    async def presence_refresh(
        self,
        entries: list[tuple[RoomId, ParticipantId, str | None]],
        process: str,
        now_ms: int,
        ttl_ms: int,
    ) -> None:
        by_room: dict[RoomId, list[str]] = {}
        for room, participant, summary in entries:
            by_room.setdefault(room, []).extend((f"{participant}|{process}", summary or ""))
        keep = max(ttl_ms * 4, 120000)
        # One script per room, one after the other: the heartbeat is in no hurry, and never
        # builds many commands in one turn of the event loop (bench/: thousands of commands in
        # one pipeline, and later 50 scripts started side by side, each stalled every delivery
        # of the process for 20 ms and more).
        for room, args in by_room.items():
            await self._run(
                self._refresh, self._presence_keys(room), [now_ms + ttl_ms, keep, *args]
            )

    async def presence_sweep(self, room: RoomId, now_ms: int) -> list[str]:
        out = await self._run(self._sweep, self._presence_keys(room), [now_ms])
        return [str(x) for x in out]

    async def _live(self, rooms: list[RoomId], now_ms: int) -> list[set[str]]:
        with _HISTORY_FAILED:
            async with self._client.pipeline(transaction=False) as pipe:
                for room in rooms:
                    pipe.zrangebyscore(self._key(room, "pres"), f"({now_ms}", "+inf")
                results = await pipe.execute()
        return [{m.split("|", 1)[0] for m in members} for members in results]

    async def participants(self, room: RoomId, now_ms: int) -> list[str]:
        keys = self._presence_keys(room)[:2]
        return [str(i) for i in await self._run(self._participants, keys, [now_ms])]

    async def member_counts(self, rooms: list[RoomId], now_ms: int) -> dict[RoomId, int]:
        if not rooms:
            return {}
        return {
            r: len(live) for r, live in zip(rooms, await self._live(rooms, now_ms), strict=True)
        }

    async def directory(self, rooms: list[RoomId], now_ms: int) -> dict[RoomId, DirectoryEntry]:
        with _STATE_FAILED:
            async with self._state.pipeline(transaction=False) as pipe:
                for room in rooms:
                    pipe.hexists(self._key(room, "state"), LOCK_FIELD)
                locks = await pipe.execute()
        out = {}
        for room, locked in zip(rooms, locks, strict=True):
            keys = self._presence_keys(room)
            members, staff, held = await self._run(self._directory, keys, [now_ms])
            out[room] = DirectoryEntry(int(members), int(staff), bool(locked), int(held))
        return out

    # -- room state (`RoomState`) --------------------------------------------------------------

    def _state_keys(self, room: RoomId) -> list[str]:
        return [self._key(room, "state"), self._key(room, "sver")]

    async def room_fields(self, room: RoomId) -> dict[str, str]:
        with _STATE_FAILED:
            fields: dict[str, str] = await self._state.hgetall(self._key(room, "state"))
        return fields

    async def set_field(self, room: RoomId, name: str, value: str | None, ttl_ms: int) -> None:
        # Written on the state store, then published on the history store: two servers, so not
        # one script; the version in the event keeps subscribers right whatever the order.
        version = await self._run_state(
            self._set_field, self._state_keys(room), [name, value or "", ttl_ms]
        )
        await self.publish(room, envelopes.field_set(name, value, int(version)))

    async def update_list(
        self, room: RoomId, name: str, item: str, add: bool, ttl_ms: int
    ) -> list[str]:
        raw, version = await self._run_state(
            self._update_list, self._state_keys(room), [name, item, "1" if add else "0", ttl_ms]
        )
        await self.publish(room, envelopes.field_set(name, str(raw), int(version)))
        items: list[str] = json.loads(raw)
        return items

    # -- queue and audit (`Queue`) -------------------------------------------------------------

    async def queue_add(self, room: RoomId, item: dict[str, Any], ttl_ms: int) -> str:
        keys = [self._key(room, "queue"), self._key(room, "qseq")]
        return str(await self._run_state(self._queue_add, keys, [json.dumps(item), ttl_ms]))

    async def queue_add_once(
        self, room: RoomId, item: dict[str, Any], ttl_ms: int, cap: int
    ) -> tuple[str, str]:
        keys = [self._key(room, "queue"), self._key(room, "qseq")]
        outcome, item_id = await self._run_state(
            self._queue_once, keys, [json.dumps(item), ttl_ms, cap]
        )
        return str(outcome), str(item_id)

    async def queue_resolve(
        self, room: RoomId, item_id: str, by: str, ttl_ms: int
    ) -> dict[str, Any] | None:
        raw = await self._run_state(
            self._queue_resolve, [self._key(room, "queue")], [item_id, by, ttl_ms]
        )
        return json.loads(raw) if raw else None

    async def queue_items(self, room: RoomId) -> list[dict[str, Any]]:
        with _STATE_FAILED:
            raw: dict[str, str] = await self._state.hgetall(self._key(room, "queue"))
        items = [json.loads(v) for v in raw.values()]
        return sorted(items, key=lambda i: int(str(i.get("id", "q0"))[1:] or 0))

    async def audit_append(self, room: RoomId, entry: str, ttl_ms: int, keep: int) -> None:
        key = self._key(room, "audit")
        with _STATE_FAILED:
            async with self._state.pipeline(transaction=self.transactions) as pipe:
                pipe.rpush(key, entry)
                pipe.ltrim(key, -keep, -1)
                pipe.pexpire(key, ttl_ms)
                await pipe.execute()

    async def audit_entries(self, room: RoomId) -> list[str]:
        with _STATE_FAILED:
            entries: list[str] = await self._state.lrange(self._key(room, "audit"), 0, -1)
        return entries

    # -- rooms edited live (`RoomDefinitions`) ---------------------------------------------------
    # One hash on the state store for the whole service (one key: a cluster is fine): "r:<id>"
    # -> the record's JSON, "a:<id>" for an archived id, "v" the version.

    async def room_write(
        self, mode: RoomWrite, room_id: str, record: dict[str, Any] | None, expect_rev: int = 0
    ) -> str:
        args = [mode, room_id, json.dumps(record) if record is not None else "", expect_rev]
        answer = await self._run_state(self._room_write, [self._service_key("rooms")], args)
        return answer.decode() if isinstance(answer, bytes) else str(answer)

    async def room_records(self) -> tuple[int, list[dict[str, Any]]]:
        with _STATE_FAILED:
            raw: dict[str, str] = await self._state.hgetall(self._service_key("rooms"))
        records = [json.loads(v) for k, v in raw.items() if k.startswith("r:")]
        return int(raw.get("v", 0)), records

    async def rooms_version(self) -> int:
        with _STATE_FAILED:
            version = await self._state.hget(self._service_key("rooms"), "v")
        return int(version or 0)

    async def archived_rooms(self) -> list[str]:
        with _STATE_FAILED:
            fields: list[str] = await self._state.hkeys(self._service_key("rooms"))
        return sorted(f[2:] for f in fields if f.startswith("a:"))

    # -- the service's facilitators (`Staff`) ---------------------------------------------------
    # Three keys for the whole service (each command touches one, so a cluster is fine): the
    # records (hash id -> JSON), the revoked ids (sorted set scored by the token's expiry) on
    # the state store, and who is online (sorted set of "id|process" scored by expiry) with
    # presence on the history store.

    def _service_key(self, name: str) -> str:
        return f"{self._prefix}:svc:{name}"

    async def facilitator_save(
        self, record: dict[str, Any], now_ms: int, only_new: bool = False
    ) -> None:
        key, fid = self._service_key("staff"), str(record["id"])
        with _STATE_FAILED:
            if only_new:
                await self._state.hsetnx(key, fid, json.dumps(record))
            else:
                await self._state.hset(key, fid, json.dumps(record))

    async def facilitator_records(self, now_ms: int) -> list[dict[str, Any]]:
        key = self._service_key("staff")
        with _STATE_FAILED:
            raw: dict[str, str] = await self._state.hgetall(key)
            records = [json.loads(r) for r in raw.values()]
            lapsed = [str(r["id"]) for r in records if int(r["expires"]) <= now_ms]
            if lapsed:
                await self._state.hdel(key, *lapsed)
        return [r for r in records if int(r["expires"]) > now_ms]

    async def revoke(self, facilitator: str, now_ms: int) -> bool:
        key = self._service_key("staff")
        with _STATE_FAILED:
            raw = await self._state.hget(key, facilitator)
            if raw is None or int(json.loads(raw)["expires"]) <= now_ms:
                return False
            record = {**json.loads(raw), "revoked": True}
            # The revocation first: a record marked revoked whose id is not yet in the set
            # would be listed as revoked while its sockets keep standing.
            await self._state.zadd(self._service_key("revoked"), {facilitator: record["expires"]})
            await self._state.hset(key, facilitator, json.dumps(record))
        return True

    async def revoked(self, now_ms: int) -> set[str]:
        key = self._service_key("revoked")
        with _STATE_FAILED:
            await self._state.zremrangebyscore(key, "-inf", now_ms)
            ids: list[str] = await self._state.zrange(key, 0, -1)
        return set(ids)

    async def staff_online(self, ids: list[str], process: str, now_ms: int, ttl_ms: int) -> None:
        if not ids:
            return
        with _HISTORY_FAILED:
            await self._client.zadd(
                self._service_key("online"), {f"{fid}|{process}": now_ms + ttl_ms for fid in ids}
            )

    async def staff_offline(self, facilitator: str, process: str) -> None:
        with _HISTORY_FAILED:
            await self._client.zrem(self._service_key("online"), f"{facilitator}|{process}")

    async def online(self, now_ms: int) -> set[str]:
        key = self._service_key("online")
        with _HISTORY_FAILED:
            await self._client.zremrangebyscore(key, "-inf", now_ms)
            entries: list[str] = await self._client.zrange(key, 0, -1)
        return {entry.rpartition("|")[0] for entry in entries}

    # -- identity (`Identity`) -----------------------------------------------------------------

    def _identity_keys(self, room: RoomId) -> list[str]:
        names = ("handles", "owned", "roles", "agreed", "seen", "idscan")
        return [self._key(room, n) for n in names]

    async def claim_handle(
        self,
        room: RoomId,
        participant: ParticipantId,
        candidates: list[str],
        ttl_ms: int,
        role: str,
        now_ms: int,
    ) -> str | None:
        args = [participant, now_ms, ttl_ms, IDENTITY_SWEEP, role, *candidates]
        result = await self._run_state(self._claim, self._identity_keys(room), args)
        return str(result) if result else None

    async def participant_role(
        self, room: RoomId, participant: ParticipantId
    ) -> tuple[str, str] | None:
        with _STATE_FAILED:
            async with self._state.pipeline(transaction=False) as pipe:
                pipe.hget(self._key(room, "roles"), participant)
                pipe.hget(self._key(room, "owned"), participant)
                role, handle = await pipe.execute()
        return (str(role), str(handle)) if role and handle else None

    async def set_agreement(
        self, room: RoomId, participant: ParticipantId, version: int, ttl_ms: int, now_ms: int
    ) -> None:
        args = [participant, now_ms, ttl_ms, IDENTITY_SWEEP, version]
        await self._run_state(self._agree, self._identity_keys(room), args)

    async def agreement(self, room: RoomId, participant: ParticipantId) -> int:
        with _STATE_FAILED:
            if self._bare_state is not None:
                raw = await self._bare_state.command("HGET", self._key(room, "agreed"), participant)
            else:
                raw = await self._state.hget(self._key(room, "agreed"), participant)
        return int(raw) if raw else 0

    # -- check-in and check-out counts (`Moods`) ------------------------------------------------
    # On the state store: a record hash per session, a listing per room, a key per marker
    # (server/brokers/redis_mood_scripts.py).

    def _mood_keys(self, room: RoomId, session: str) -> list[str]:
        return [self._key(room, f"mood:{session}"), self._key(room, "moods")]

    async def mood_add(
        self, room: RoomId, answer: MoodAnswer, now_ms: int, marker_ttl_ms: int, keep_ms: int
    ) -> bool:
        keys = [
            *self._mood_keys(room, answer.session),
            self._key(room, f"moodmark:{answer.marker}"),
        ]
        args = [now_ms, keep_ms, answer.session, f"{answer.when}:{answer.value}", marker_ttl_ms]
        return bool(await self._run_state(self._mood_add, keys, args))

    async def mood_end(self, room: RoomId, session: str, now_ms: int, keep_ms: int) -> None:
        await self._run_state(
            self._mood_end, self._mood_keys(room, session), [now_ms, keep_ms, session]
        )

    @staticmethod
    def _mood_record(session: str, raw: dict[str, str]) -> MoodSession | None:
        if "started" not in raw:
            return None
        start = tuple(int(raw.get(f"start:{v}", 0)) for v in range(1, 6))
        end = tuple(int(raw.get(f"end:{v}", 0)) for v in range(1, 6))
        ended = int(raw["ended"]) if "ended" in raw else None
        return MoodSession(session, int(raw["started"]), start, end, ended)

    async def mood_session(self, room: RoomId, session: str) -> MoodSession | None:
        with _STATE_FAILED:
            raw: dict[str, str] = await self._state.hgetall(self._mood_keys(room, session)[0])
        return self._mood_record(session, raw)

    async def mood_sessions(self, room: RoomId, since_ms: int) -> list[MoodSession]:
        with _STATE_FAILED:
            names: list[str] = await self._state.zrangebyscore(
                self._key(room, "moods"), since_ms, "+inf"
            )
            if not names:
                return []
            async with self._state.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.hgetall(self._mood_keys(room, name)[0])
                raws = await pipe.execute()
        found = (self._mood_record(n, r) for n, r in zip(names, raws, strict=True))
        listed = [s for s in found if s is not None and s.started_ms >= since_ms]
        return sorted(listed, key=lambda s: s.order)


def _history_page(out: list[Any]) -> HistoryPage:
    """The HISTORY script's reply: epoch, floor, last id, then id and frame of each entry."""
    entries = [(int(out[i]), str(out[i + 1])) for i in range(3, len(out), 2)]
    return HistoryPage(epoch=str(out[0]), entries=entries, floor=int(out[1]), last_id=int(out[2]))


def _history_args(now_ms: int, limits: HistoryLimits) -> list[Any]:
    """The HISTORY script's arguments (the last is the epoch it sets if the room has none)."""
    return [now_ms, limits.max_messages, limits.max_age_ms, secrets.token_hex(8)]
