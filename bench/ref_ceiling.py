"""The bare ceiling reference: the `websockets` library's own server and `broadcast()` on uvloop,
one Redis subscription and one pipelined publisher per process, nothing else.

It speaks just enough of the wire contract for the load generator (hello, join, agree, send) and
does none of the product's work (no tokens, moderation, history, presence or bleach). It is what
Python can do on this design; the product is measured against it.

    python -m bench.ref_ceiling --port P --redis redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import html
import json
import secrets
from typing import Any

import redis.asyncio as aioredis
from websockets.asyncio.server import ServerConnection, broadcast, serve

__all__ = ["main"]

PREFIX = "ceiling:"


class Ceiling:
    def __init__(self, url: str) -> None:
        self.sub_client = aioredis.Redis.from_url(url)
        self.pub_client = aioredis.Redis.from_url(url, max_connections=1)
        self.pubsub = self.sub_client.pubsub()
        self.rooms: dict[str, set[ServerConnection]] = {}
        self.ids: dict[str, int] = {}
        self.outbox: list[tuple[str, str]] = []
        self.flusher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.pubsub.subscribe(PREFIX + "home")
        asyncio.create_task(self.read_forever())  # noqa: RUF006 - lives as long as the process

    async def read_forever(self) -> None:
        while True:
            message = await self.pubsub.get_message(timeout=None)
            if message is None or message["type"] != "message":
                continue
            room = message["channel"].decode()[len(PREFIX) :]
            members = self.rooms.get(room)
            if members:
                broadcast(members, message["data"].decode())

    def publish(self, room: str, frame: str) -> None:
        self.outbox.append((PREFIX + room, frame))
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.create_task(self.flush())

    async def flush(self) -> None:
        while self.outbox:
            batch, self.outbox = self.outbox, []
            async with self.pub_client.pipeline(transaction=False) as pipe:
                for channel, frame in batch:
                    pipe.publish(channel, frame)
                await pipe.execute()

    async def handler(self, ws: ServerConnection) -> None:
        joined: set[str] = set()
        try:
            async for raw in ws:
                frame: dict[str, Any] = json.loads(raw)
                kind = frame.get("type")
                if kind == "hello":
                    token = secrets.token_hex(8)
                    await ws.send(
                        json.dumps(
                            {
                                "type": "welcome",
                                "ref": frame.get("ref"),
                                "member": token,
                                "token": token,
                                "role": "member",
                            }
                        )
                    )
                elif kind == "join":
                    room = str(frame["room"])
                    members = self.rooms.setdefault(room, set())
                    members.add(ws)  # recorded before awaiting the subscription
                    joined.add(room)
                    if len(members) == 1:
                        await self.pubsub.subscribe(PREFIX + room)
                    await ws.send(
                        json.dumps(
                            {
                                "type": "joined",
                                "ref": frame.get("ref"),
                                "room": room,
                                "participant": str(id(ws)),
                                "handle": "member",
                                "history": [],
                                "members": len(members),
                                "participants": [],
                                "epoch": "x",
                                "recovered": True,
                            }
                        )
                    )
                elif kind == "agree":
                    await ws.send(
                        json.dumps({"type": "ack", "ref": frame.get("ref")}, separators=(",", ":"))
                    )
                elif kind == "send":
                    room, text = str(frame["room"]), str(frame["text"])
                    msg_id = self.ids[room] = self.ids.get(room, 0) + 1
                    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
                    out = json.dumps(
                        {
                            "type": "message",
                            "room": room,
                            "id": msg_id,
                            "participant": "p",
                            "handle": "member",
                            "role": "member",
                            "text": text,
                            "html": html.escape(text),
                            "ts": now,
                        },
                        separators=(",", ":"),
                        ensure_ascii=False,
                    )
                    self.publish(room, out)
                    await ws.send(
                        json.dumps(
                            {"type": "ack", "ref": frame.get("ref"), "id": msg_id},
                            separators=(",", ":"),
                        )
                    )
        finally:
            for room in joined:
                self.rooms.get(room, set()).discard(ws)


async def run(port: int, url: str) -> None:
    ceiling = Ceiling(url)
    await ceiling.start()
    async with serve(
        ceiling.handler, "127.0.0.1", port, compression=None, max_size=65536, ping_interval=None
    ):
        await asyncio.get_running_loop().create_future()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    args = parser.parse_args()
    import uvloop

    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(run(args.port, args.redis))


if __name__ == "__main__":
    main()
