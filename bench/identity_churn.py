"""`python -m bench.identity_churn`: memory of per-room identity state under one-time members.

Each round, MEMBERS fresh members join every room once (claim a handle, agree to the rules)
through the broker API, with a clock that starts each round a handle lifetime after the last:
what the previous round left has expired and the new round's joins sweep it. Prints this
process's RSS (memory broker) or Redis `used_memory` and the identity entries after each round;
flat rounds mean one-time members leave nothing behind.

python -m bench.identity_churn                       memory broker, 10,000 members, 8 rooms
python -m bench.identity_churn --redis redis://127.0.0.1:6379/0 --members 2000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import secrets
from pathlib import Path

from rooms.ids import MemberId, ParticipantId, RoomId, handle_candidate, participant_id
from server.brokers import Broker, open_broker
from server.brokers.memory import MemoryBroker
from server.joining import HANDLE_TTL_MS

__all__ = ["main"]

_KEY = b"bench-identity-key"
_T0 = 1_700_000_000_000


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _entries(broker: Broker, rooms: list[RoomId], prefix: str) -> int:
    if isinstance(broker, MemoryBroker):
        return sum(len(broker._rooms[r].seen) for r in rooms if r in broker._rooms)
    client = broker._client  # type: ignore[attr-defined]
    return sum([int(await client.zcard(f"{prefix}:{{{r}}}:seen")) for r in rooms])


async def _memory(broker: Broker) -> str:
    if isinstance(broker, MemoryBroker):
        gc.collect()
        return f"rss {_rss_kib() / 1024:7.1f} MiB"
    info = await broker._client.info("memory")  # type: ignore[attr-defined]
    return f"redis used_memory {int(info['used_memory']) / 1048576:7.1f} MiB"


async def churn(url: str | None, members: int, rooms: int, rounds: int) -> None:
    prefix = f"churn{secrets.token_hex(4)}"
    broker = open_broker(url, prefix)
    await broker.start(lambda room, envelope: None)
    room_ids = [RoomId(f"room-{i}") for i in range(rooms)]
    try:
        print(
            f"before   {await _memory(broker)}  entries {await _entries(broker, room_ids, prefix)}"
        )
        for r in range(rounds):
            start = _T0 + r * (HANDLE_TTL_MS + 1)
            for m in range(members):
                member = MemberId(secrets.token_urlsafe(16))
                now = start + m
                for room in room_ids:
                    pid: ParticipantId = participant_id(_KEY, member, room)
                    names = [handle_candidate(_KEY, member, room, i) for i in range(12)]
                    await broker.claim_handle(room, pid, names, HANDLE_TTL_MS, "member", now)
                    await broker.set_agreement(room, pid, 1, HANDLE_TTL_MS, now)
            entries = await _entries(broker, room_ids, prefix)
            print(f"round {r + 1}  {await _memory(broker)}  entries {entries}")
    finally:
        await broker.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.identity_churn", description=__doc__)
    p.add_argument("--redis", default=None, help="a Redis URL (default: the memory broker)")
    p.add_argument("--members", type=int, default=10_000)
    p.add_argument("--rooms", type=int, default=8)
    p.add_argument("--rounds", type=int, default=4)
    args = p.parse_args(argv)
    asyncio.run(churn(args.redis, args.members, args.rooms, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
