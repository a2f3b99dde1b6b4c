"""`python -m bench.redis_floor [RATE] [SECONDS]`: Redis CPU per message by how many messages
reach Redis together, for a bare PUBLISH, the product's message script one message a call
(`PUBLISH_MESSAGE`) and k messages a call (`PUBLISH_MESSAGES`, as the broker sends the messages
of one event-loop turn), and the least a script that stores a message can do (INCR, XADD,
PUBLISH, nothing else).

Messages go out at RATE a second (2,000 by default: the bench's message rate at 40,000
deliveries/s) in groups of k written together, to 50 rooms, with one subscriber reading every
channel. A paced load shows what a burst does not: a Redis that waits between reads pays more
per command than one that reads 64 at a time (`bench.redis_cost`). The CPU is the redis-server
thread's own, from /proc/<pid>/schedstat (nanoseconds), so the figures do not depend on
the 10 ms ticks of /proc/<pid>/stat.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import redis

from bench.procs import Cores, RedisProcess, new_workdir
from server.brokers import redis_scripts as lua

__all__ = ["main"]

ROOMS = [f"room-{i}" for i in range(50)]
HEAD = '{"type":"message","room":"r","id":'
TAIL = ',"text":"' + "x" * 200 + '"}'
# The least a script that keeps a room's history can do.
LEAST = """
local id = redis.call('INCR', KEYS[1])
local frame = ARGV[5] .. id .. ARGV[6]
redis.call('XADD', KEYS[3], id .. '-0', 't', ARGV[1], 'f', frame)
redis.call('PUBLISH', KEYS[5], 'R' .. frame)
return {id, 'e'}
"""
WAYS = ("bare PUBLISH", "least script", "PUBLISH_MESSAGE", "PUBLISH_MESSAGES")


def _keys(way: str, room: str) -> list[str]:
    tag = way.split()[0].lower()
    return [f"floor:{tag}:{{{room}}}:{name}" for name in ("seq", "epoch", "hist", "floor", "ch")]


def _cpu_seconds(pid: int) -> float:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def _run(
    client: redis.Redis, shas: dict[str, str], proc: RedisProcess, way: str, k: int, total: int,
    rate: float,
) -> float:  # fmt: skip
    """Redis CPU µs per message for `total` messages sent `k` at a time at `rate`."""
    before, start, sent = _cpu_seconds(proc.pid), time.monotonic(), 0
    while sent < total:
        if int(rate * (time.monotonic() - start)) - sent < k:
            time.sleep(0.0005)
            continue
        now = int(time.time() * 1000)
        rooms = [ROOMS[(sent + j) % len(ROOMS)] for j in range(k)]
        args: list[list[str | int]] = [[now, 200, 86_400_000, "e", HEAD, TAIL, ""] for _ in rooms]
        pipe = client.pipeline(transaction=False)
        if way == "bare PUBLISH":
            for room in rooms:
                pipe.publish(_keys(way, room)[4], f"R{HEAD}{sent}{TAIL}")
        elif way == "PUBLISH_MESSAGES":
            keys = [key for room in rooms for key in _keys(way, room)]
            flat = [a for one in args for a in one]
            pipe.evalsha(shas[way], len(keys), *keys, *flat)
        else:
            for room, one in zip(rooms, args, strict=True):
                pipe.evalsha(shas[way], 5, *_keys(way, room), *one)
        pipe.execute()
        sent += k
    return (_cpu_seconds(proc.pid) - before) * 1e6 / total


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    rate = float(args[0]) if args else 2000.0
    seconds = float(args[1]) if len(args) > 1 else 3.0
    proc = RedisProcess(new_workdir(), Cores.detect())
    stop = threading.Event()
    try:
        subscriber = redis.Redis(port=proc.port).pubsub()  # type: ignore[no-untyped-call]
        subscriber.psubscribe("floor:*")

        def read() -> None:
            while not stop.is_set():
                subscriber.get_message(timeout=0.1)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        client = redis.Redis(port=proc.port)
        sources = {
            "least script": LEAST,
            "PUBLISH_MESSAGE": lua.PUBLISH_MESSAGE,
            "PUBLISH_MESSAGES": lua.PUBLISH_MESSAGES,
        }
        shas = {way: str(client.script_load(source)) for way, source in sources.items()}
        for way in WAYS:  # warm up: every stream at its bound
            _run(client, shas, proc, way, 4, int(rate), rate)
        print(f"Redis CPU µs per message at {rate:,.0f} messages/s, k written together")
        print(f"{'k':>3}  " + "  ".join(f"{way:>16}" for way in WAYS) + "  script ÷ PUBLISH")
        for k in (1, 2, 4, 8, 16):
            row = {way: _run(client, shas, proc, way, k, int(rate * seconds), rate) for way in WAYS}
            ratio = row["PUBLISH_MESSAGES"] / max(row["bare PUBLISH"], 1e-9)
            cells = "  ".join(f"{row[way]:>16.1f}" for way in WAYS)
            print(f"{k:>3}  {cells}  {ratio:>16.2f}", flush=True)
        stop.set()
        reader.join(timeout=2)
        subscriber.close()
        client.close()
    finally:
        proc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
