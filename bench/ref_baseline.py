"""The baseline reference: chat the way the Starlette docs and `broadcaster` show it.

Starlette on uvicorn; every socket subscribes to its room on its own (one redis.asyncio pub/sub
connection and one pump task per socket, the "subscriber per socket" of those examples) and each
send is one `PUBLISH` through redis-py's default connection pool, awaited. It speaks just enough of
the wire contract for the load generator (hello, join, agree, send) and does none of the
product's work; it shows where the patterns Python users reach for today top out.

    python -m bench.ref_baseline --port P --redis redis://127.0.0.1:6379/0
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
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

__all__ = ["create_app", "main"]

PREFIX = "baseline:"


def create_app(url: str) -> Starlette:
    # Publishes share redis-py's default pool (100 connections); each socket's subscription
    # holds a connection of its own, so subscriptions get a pool without that cap.
    client = aioredis.Redis.from_url(url, decode_responses=True)
    subscriber = aioredis.Redis.from_url(url, decode_responses=True, max_connections=100_000)
    ids: dict[str, int] = {}

    async def pump(pubsub: Any, ws: WebSocket) -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                await ws.send_text(message["data"])

    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        subscriptions: list[tuple[Any, asyncio.Task[None]]] = []
        try:
            while True:
                frame: dict[str, Any] = json.loads(await ws.receive_text())
                kind = frame.get("type")
                if kind == "hello":
                    token = secrets.token_hex(8)
                    await ws.send_text(
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
                    pubsub = subscriber.pubsub()
                    await pubsub.subscribe(PREFIX + room)
                    subscriptions.append((pubsub, asyncio.create_task(pump(pubsub, ws))))
                    await ws.send_text(
                        json.dumps(
                            {
                                "type": "joined",
                                "ref": frame.get("ref"),
                                "room": room,
                                "participant": str(id(ws)),
                                "handle": "member",
                                "history": [],
                                "members": 0,
                                "participants": [],
                                "epoch": "x",
                                "recovered": True,
                            }
                        )
                    )
                elif kind == "agree":
                    await ws.send_text(
                        json.dumps({"type": "ack", "ref": frame.get("ref")}, separators=(",", ":"))
                    )
                elif kind == "send":
                    room, text = str(frame["room"]), str(frame["text"])
                    msg_id = ids[room] = ids.get(room, 0) + 1
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
                    await client.publish(PREFIX + room, out)
                    await ws.send_text(
                        json.dumps(
                            {"type": "ack", "ref": frame.get("ref"), "id": msg_id},
                            separators=(",", ":"),
                        )
                    )
        except WebSocketDisconnect:
            pass
        finally:
            for pubsub, task in subscriptions:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    return Starlette(routes=[WebSocketRoute("/ws", endpoint)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.redis),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        ws_max_size=65536,
    )


if __name__ == "__main__":
    main()
