"""The load generator: one process holding many WebSocket clients of the wire contract.

It is driven by the bench over stdin/stdout, one JSON object a line:

    {"cmd": "connect", "conns": [{"url", "room", "sender", "slow"}, ...], "parallel": 64}
    {"cmd": "step", "step": 3, "rate": 1000.0, "seconds": 3.0, "drain": 0.7}
    {"cmd": "stall"}      slow members stop reading (their receive buffer is tiny)
    {"cmd": "unstall"}    they read again; answers how many the server had closed, by code
    {"cmd": "close"}

and answers each command with one JSON line. The client is a minimal RFC 6455 client on an
asyncio protocol (uvloop): a `message` frame is recognised by its prefix and its latency read from
the marker at the start of its text, without parsing the JSON, so one generator process can
take well over 100,000 deliveries a second and its own CPU is reported with every step.

Timestamps are `time.monotonic_ns()`: CLOCK_MONOTONIC, one clock for every process of the host.
Traffic goes only to the URLs it is given (the bench gives 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import os
import socket
import struct
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

from websockets import utils as _ws_utils

apply_mask: Callable[[bytes, bytes], bytes] = _ws_utils.apply_mask
try:
    from websockets import speedups as _speedups

    apply_mask = _speedups.apply_mask  # the C version, built in the wheels
except ImportError:  # pragma: no cover
    pass


__all__ = ["MARKER", "Generator", "bucket_of", "bucket_ms", "encode_marker", "main"]

# The text of every bench message starts with Q<step>X<monotonic ns>Y, numbers written with the
# letters a-p for hex digits: no digits, so no rule about phone numbers or links can hold it.
MARKER = b'"text":"Q'
_TO_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
_FROM_LETTERS = bytes.maketrans(b"abcdefghijklmnop", b"0123456789abcdef")
FILLER = "I hear you, and it helps to know that others here feel the same way today. "
TEXT_BYTES = 200
# Latency histogram: bucket i holds latencies in [e^(i/100), e^((i+1)/100)) microseconds (1 %).
_BUCKETS_PER_E = 100


def encode_marker(step: int, ns: int) -> str:
    return f"Q{step:x}X{ns:x}Y".translate(_TO_LETTERS)


def bucket_of(latency_ns: int) -> int:
    return int(math.log(max(latency_ns, 1000) / 1000) * _BUCKETS_PER_E)


def bucket_ms(bucket: int) -> float:
    """The upper bound of a latency bucket, in milliseconds."""
    return math.exp((bucket + 1) / _BUCKETS_PER_E) / 1000


def _text_for(step: int, ns: int) -> str:
    marker = encode_marker(step, ns) + " "
    pad = TEXT_BYTES - len(marker)
    return marker + (FILLER * (pad // len(FILLER) + 1))[:pad]


class Conn(asyncio.Protocol):
    """One client socket: upgrade, frame parsing, and the control frames of the handshake."""

    def __init__(self, gen: Generator, host: str, path: str) -> None:
        self.gen = gen
        self.host = host
        self.path = path
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.mask = os.urandom(4)
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.control: deque[dict[str, Any]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.setup = True
        self.close_code: int | None = None
        self.lost = False
        self.fragments: list[bytes] = []
        self.room = ""
        self.slow = False  # a slow member's deliveries are not counted: the others' are measured

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {self.key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        self.transport.write(request.encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("connection lost during the handshake"))
        self._wake()

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[: buf.find(b"\r\n")])
            del buf[: end + 4]
            if b" 101 " not in status:
                self.opened.set_exception(ConnectionError(status.decode(errors="replace")))
                return
            self.upgraded = True
            self.opened.set_result(None)
        now = time.monotonic_ns()
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1] & 0x7F
            head = 2
            if b1 == 126:
                if size - pos < 4:
                    break
                b1 = (buf[pos + 2] << 8) | buf[pos + 3]
                head = 4
            elif b1 == 127:
                if size - pos < 10:
                    break
                b1 = struct.unpack_from("!Q", buf, pos + 2)[0]
                head = 10
            if size - pos < head + b1:
                break
            payload = bytes(buf[pos + head : pos + head + b1])
            pos += head + b1
            self._frame(b0, payload, now)
        if pos:
            del buf[:pos]

    # -- frames -------------------------------------------------------------------------------

    def _frame(self, b0: int, payload: bytes, now: int) -> None:
        opcode = b0 & 0x0F
        if opcode == 0:  # continuation
            self.fragments.append(payload)
            if b0 & 0x80:
                payload, self.fragments = b"".join(self.fragments), []
                self._text(payload, now)
            return
        if opcode == 1:
            if b0 & 0x80:
                self._text(payload, now)
            else:
                self.fragments = [payload]
        elif opcode == 9:  # ping: answer with the same payload
            self._write(0x8A, payload)
        elif opcode == 8:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            if self.transport is not None:
                self.transport.close()
            self._wake()

    def _text(self, payload: bytes, now: int) -> None:
        gen = self.gen
        if payload.startswith(b'{"type":"message"'):
            i = payload.find(MARKER)
            if i < 0 or self.slow:
                return
            i += len(MARKER)
            j = payload.find(b"Y", i)
            step_s, _, sent_s = payload[i:j].translate(_FROM_LETTERS).partition(b"X")
            if int(step_s, 16) != gen.step:
                gen.late += 1
                return
            gen.received += 1
            gen.hist[int(math.log(max(now - int(sent_s, 16), 1000) / 1000) * 100)] += 1
            return
        if not self.setup and payload.startswith(b'{"type":"ack"'):
            gen.acked += 1
            return
        if not self.setup and payload.startswith(b'{"type":"error"'):
            gen.errors[json.loads(payload).get("code", "?")] += 1
            return
        if self.setup:
            self.control.append(json.loads(payload))
            self._wake()

    def _write(self, first: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", first, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", first, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", first, 0x80 | 127, n)
        self.transport.write(head + self.mask + apply_mask(payload, self.mask))

    def send_text(self, text: str) -> bool:
        if self.lost or self.close_code is not None:
            return False
        self._write(0x81, text.encode())
        return True

    # -- the handshake of the wire contract ------------------------------------------------------

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def expect(self, kinds: tuple[str, ...], ref: str) -> dict[str, Any]:
        """The answer (one of `kinds`) carrying `ref`; other frames (presence, room_state, an
        error that answers nothing of ours) are skipped, errors counted."""
        while True:
            while self.control:
                frame = self.control.popleft()
                if frame.get("type") in kinds and frame.get("ref") == ref:
                    return frame
                if frame.get("type") == "error":
                    self.gen.setup_errors[str(frame.get("code"))] += 1
            if self.lost or self.close_code is not None:
                raise ConnectionError(f"closed ({self.close_code})")
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter

    async def enter(self, room: str) -> None:
        """hello → welcome, join → joined, agree → ack."""
        self.room = room
        for kind, answer in (("hello", "welcome"), ("join", "joined"), ("agree", "ack")):
            frame = (
                {"type": kind, "ref": kind}
                if kind == "hello"
                else {"type": kind, "room": room, "ref": kind}
            )
            self.send_text(json.dumps(frame))
            reply = await self.expect((answer, "error"), kind)
            if reply["type"] != answer:
                raise ConnectionError(f"{kind} refused: {reply.get('code')}")
        self.setup = False
        self.control.clear()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._write(0x88, struct.pack("!H", 1000))
            self.transport.close()


class Generator:
    """The clients of this process and the counters of the current step."""

    def __init__(self) -> None:
        self.conns: list[Conn] = []
        self.senders: list[tuple[Conn, str]] = []
        self.slow: list[Conn] = []
        self.step = -1
        self.received = 0
        self.late = 0
        self.acked = 0
        self.errors: Counter[str] = Counter()
        self.setup_errors: Counter[str] = Counter()
        self.hist: Counter[int] = Counter()

    async def _open(self, spec: dict[str, Any], gate: asyncio.Semaphore) -> Conn:
        url = urlsplit(spec["url"])
        host, port = url.hostname or "127.0.0.1", url.port or 80
        loop = asyncio.get_running_loop()
        async with gate:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            if spec.get("slow"):
                # A tiny receive buffer: a member who never reads backs up into the server fast.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            await loop.sock_connect(sock, (host, port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _, conn = await loop.create_connection(
                lambda: Conn(self, f"{host}:{port}", url.path or "/"), sock=sock
            )
            await asyncio.wait_for(conn.opened, 30)
            await asyncio.wait_for(conn.enter(spec["room"]), 60)
        return conn

    async def connect(self, specs: list[dict[str, Any]], parallel: int) -> dict[str, Any]:
        gate = asyncio.Semaphore(parallel)
        started = time.monotonic()
        results = await asyncio.gather(
            *(self._open(s, gate) for s in specs), return_exceptions=True
        )
        failures: Counter[str] = Counter()
        by_room: dict[str, list[Conn]] = {}
        readers: Counter[str] = Counter()
        for spec, result in zip(specs, results, strict=True):
            if isinstance(result, BaseException):
                failures[str(result)[:80] or type(result).__name__] += 1
                continue
            self.conns.append(result)
            if spec.get("slow"):
                result.slow = True
                self.slow.append(result)
                continue
            readers[spec["room"]] += 1
            if spec.get("sender", True):
                by_room.setdefault(spec["room"], []).append(result)
        # Interleave the rooms so that consecutive sends go to different rooms.
        rooms = list(by_room.values())
        for k in range(max((len(r) for r in rooms), default=0)):
            for members in rooms:
                if k < len(members):
                    conn = members[k]
                    self.senders.append((conn, json.dumps(conn.room)))
        return {
            "connected": len(self.conns),
            "failed": sum(failures.values()),
            "failures": dict(failures.most_common(3)),
            "readers": dict(readers),
            "setup_errors": dict(self.setup_errors),
            "seconds": round(time.monotonic() - started, 3),
        }

    async def run_step(
        self, step: int, rate: float, seconds: float, drain: float
    ) -> dict[str, Any]:
        """Send `rate` messages a second for `seconds`, then listen for `drain` more."""
        self.step, self.received, self.late, self.acked = step, 0, 0, 0
        self.errors.clear()
        self.hist.clear()
        sent_by_room: Counter[str] = Counter()
        cpu0, wall0 = time.process_time(), time.monotonic()
        sent = skipped = 0
        n = len(self.senders)
        i = 0
        if n and rate > 0:
            start = time.monotonic()
            while (elapsed := time.monotonic() - start) < seconds:
                due = min(int(rate * elapsed) - sent - skipped, int(rate * 0.05) + 1)
                for _ in range(due):
                    conn, room_json = self.senders[i % n]
                    i += 1
                    text = _text_for(step, time.monotonic_ns())
                    if conn.send_text(f'{{"type":"send","room":{room_json},"text":"{text}"}}'):
                        sent += 1
                        sent_by_room[conn.room] += 1
                    else:
                        skipped += 1
                await asyncio.sleep(0.002)
        await asyncio.sleep(drain)
        wall = time.monotonic() - wall0
        return {
            "step": step,
            "sent": sent,
            "skipped": skipped,
            "sent_by_room": dict(sent_by_room),
            "acked": self.acked,
            "errors": dict(self.errors),
            "received": self.received,
            "late": self.late,
            "hist": {str(k): v for k, v in self.hist.items()},
            "cpu": round(time.process_time() - cpu0, 4),
            "wall": round(wall, 4),
            "open": sum(1 for c in self.conns if not c.lost and c.close_code is None),
        }

    def stall(self) -> dict[str, Any]:
        for conn in self.slow:
            if conn.transport is not None:
                conn.transport.pause_reading()
        return {"stalled": len(self.slow)}

    async def unstall(self) -> dict[str, Any]:
        for conn in self.slow:
            if conn.transport is not None and not conn.transport.is_closing():
                conn.transport.resume_reading()
        await asyncio.sleep(0.3)  # let what the kernel held (and any close frame) be read
        codes = Counter(str(c.close_code) for c in self.slow if c.close_code is not None)
        return {"slow": len(self.slow), "closed": dict(codes)}

    def close(self) -> dict[str, Any]:
        for conn in self.conns:
            conn.close()
        return {"closed": len(self.conns)}


async def serve(lines: asyncio.Queue[str | None]) -> None:
    gen = Generator()
    while (line := await lines.get()) is not None:
        cmd = json.loads(line)
        kind = cmd["cmd"]
        answer: dict[str, Any]
        if kind == "connect":
            answer = await gen.connect(cmd["conns"], int(cmd.get("parallel", 64)))
        elif kind == "step":
            answer = await gen.run_step(
                int(cmd["step"]), float(cmd["rate"]), float(cmd["seconds"]), float(cmd["drain"])
            )
        elif kind == "stall":
            answer = gen.stall()
        elif kind == "unstall":
            answer = await gen.unstall()
        elif kind == "close":
            answer = gen.close()
            await asyncio.sleep(0.2)
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
            return
        else:
            answer = {"error": f"unknown command {kind!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


async def _amain() -> None:
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    # A daemon thread: the loop must not wait for it at exit (it blocks on stdin).
    threading.Thread(target=read_stdin, daemon=True).start()
    await serve(lines)


def main() -> None:
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    with contextlib.suppress(KeyboardInterrupt):
        runner(_amain())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
