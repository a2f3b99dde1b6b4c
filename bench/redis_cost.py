"""`python -m bench.redis_cost [N]`: Redis CPU per message, the product's publish beside a bare
PUBLISH of the same frame, with nothing else running against the redis-server.

Both publish N frames of 200 characters over 50 rooms, 64 at a time, to a redis-server of the
bench's own with one process subscribed to every room (so each PUBLISH is delivered once, as in
a bench step). The CPU is the redis-server's own (/proc), so a busy machine slows the run but
hardly moves the figures; `INFO commandstats` then says which commands of the product's script
cost what. The product's publish also keeps the room's history (XADD and its bounds): the issue's
target is at most twice the bare PUBLISH.
"""

from __future__ import annotations

import asyncio
import sys
import time

import redis
import redis.asyncio

from bench.procs import Cores, RedisProcess, new_workdir
from rooms.ids import RoomId
from server.brokers import HistoryLimits, open_broker

__all__ = ["main"]

ROOMS = [RoomId(f"room-{i}") for i in range(50)]
LIMITS = HistoryLimits(200, 86_400_000)
HEAD = '{"type":"message","room":"r","id":'
TAIL = ',"text":"' + "x" * 200 + '"}'


async def _measure(redis_proc: RedisProcess, n: int) -> None:
    broker = open_broker(redis_proc.url, "cost")
    await broker.start(lambda room, envelope: None)
    for room in ROOMS:
        await broker.subscribe(room)
    gate = asyncio.Semaphore(64)

    async def product(i: int) -> None:
        async with gate:
            now_ms = int(time.time() * 1000)
            await broker.publish_message(ROOMS[i % len(ROOMS)], HEAD, TAIL, now_ms, LIMITS)

    bare_client = redis.asyncio.Redis(port=redis_proc.port)

    async def bare(i: int) -> None:
        async with gate:
            channel = f"cost:{{{ROOMS[i % len(ROOMS)]}}}:ch"  # the product's channel name
            await bare_client.publish(channel, f"R{HEAD}{i}{TAIL}")

    stats = redis.Redis(port=redis_proc.port)
    await asyncio.gather(*(product(i) for i in range(n // 10)))  # warm: streams at their bound
    figures: dict[str, float] = {}
    for name, one in (("product publish", product), ("bare PUBLISH", bare)):
        stats.config_resetstat()
        before = redis_proc.cpu_seconds()
        await asyncio.gather(*(one(i) for i in range(n)))
        figures[name] = (redis_proc.cpu_seconds() - before) * 1e6 / n
        if name == "product publish":
            commands = stats.info("commandstats")
    print(f"{'Redis CPU per message':<28}{'µs':>8}")
    for name, micros in figures.items():
        print(f"  {name:<26}{micros:>8.1f}")
    ratio = figures["product publish"] / max(figures["bare PUBLISH"], 1e-9)
    print(f"  {'ratio (target ≤ 2.0)':<26}{ratio:>8.2f}  {'PASS' if ratio <= 2.0 else 'MISS'}")
    print("\nthe product's commands (INFO commandstats), µs per message:")
    for command, row in sorted(commands.items(), key=lambda kv: -float(kv[1]["usec"]))[:10]:
        if command.startswith("cmdstat_config"):
            continue
        print(f"  {command.removeprefix('cmdstat_'):<26}{float(row['usec']) / n:>8.2f}")
    stats.close()
    await bare_client.aclose()
    await broker.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 20_000
    redis_proc = RedisProcess(new_workdir(), Cores.detect())
    try:
        asyncio.run(_measure(redis_proc, n))
    finally:
        redis_proc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
