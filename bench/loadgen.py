"""The load generator: one process holding many WebSocket clients of the wire contract.

It is driven by the bench over stdin/stdout, one JSON object a line:

    {"cmd": "connect", "conns": [{"url", "room", "sender", "slow", "proto"}, ...], "parallel": 64}
    {"cmd": "step", "step": 3, "rate": 1000.0, "seconds": 3.0, "drain": 0.7}
    {"cmd": "stall"}      slow members stop reading (their receive buffer is tiny)
    {"cmd": "unstall"}    they read again; answers how many the server had closed, by code
    {"cmd": "churn", "conns": [...], "rate": 10.0, "live": 50}
                          in the background, open `rate` extra members a second (uncounted,
                          like slow ones) and close the oldest beyond `live`: members joining
                          and leaving throughout the steps that follow
    {"cmd": "churn_stop"} stop, close the extra members; answers how many opened and failed
    {"cmd": "close"}

and answers each command with one JSON line. The client is a minimal RFC 6455 client on an
asyncio protocol (uvloop): a `message` frame is recognised by its prefix and its latency read from
the marker at the start of its text, without parsing the JSON, so one generator process can
take well over 100,000 deliveries a second and its own CPU is reported with every step.

Two wire formats: the product's contract (`"proto": "psc"`, the default; also the Python
references') and Socket.IO 4 over Engine.IO 4 (`"proto": "sio"`, bench/engineio.py): connect
(`40`), join a room and send with acknowledgements, pong every ping. A message is timed the same
way in both: from the marker its sender wrote into the text to its arrival.

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

from bench import engineio

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

    def __init__(self, gen: Generator, host: str, path: str, sio: bool = False) -> None:
        self.gen = gen
        self.sio = sio  # Socket.IO 4 (Engine.IO 4 packets) instead of the product's contract
        self.acks = 0  # Socket.IO acknowledgement ids of this socket
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
        self.slow = False  # stalled on `stall`
        # Slow and churning members' deliveries are not counted: the others' are measured.
        self.counted = True

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

    def _delivered(self, payload: bytes, now: int) -> None:
        """A chat message: its latency from the sender's marker into the step's histogram."""
        gen = self.gen
        i = payload.find(MARKER)
        if i < 0 or not self.counted:
            return
        i += len(MARKER)
        j = payload.find(b"Y", i)
        step_s, _, sent_s = payload[i:j].translate(_FROM_LETTERS).partition(b"X")
        step = int(step_s, 16)
        if step != gen.step:
            gen.late += 1
            gen.late_steps[step] += 1
            return
        gen.received += 1
        gen.hist[int(math.log(max(now - int(sent_s, 16), 1000) / 1000) * 100)] += 1

    def _text(self, payload: bytes, now: int) -> None:
        if self.sio:
            self._sio_text(payload, now)
            return
        gen = self.gen
        if payload.startswith(b'{"type":"message"'):
            self._delivered(payload, now)
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

    def _sio_text(self, payload: bytes, now: int) -> None:
        """One Engine.IO packet: messages and acks by prefix, a ping answered at once (the
        server closes a client that misses one), the handshake's packets to `expect`."""
        gen = self.gen
        if payload.startswith(engineio.MESSAGE_PREFIX):
            self._delivered(payload, now)
            return
        if payload == engineio.PING:
            self.send_text(engineio.PONG)
            return
        if not self.setup and payload.startswith(engineio.ACK_PREFIX):
            gen.acked += 1
            return
        try:
            packet = engineio.parse(payload)
        except ValueError:
            gen.errors["bad_packet"] += 1
            return
        if packet["type"] == "close" and self.transport is not None:
            self.transport.close()
        if self.setup:
            self.control.append(packet)
            self._wake()
        elif packet["type"] == "error":
            gen.errors[packet["code"]] += 1

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

    def send_message(self, room_json: str, text: str) -> bool:
        """One chat message to `room_json` (the room as a JSON string); `text` needs no
        escaping (the generator's own letters and spaces)."""
        if self.sio:
            self.acks += 1
            return self.send_text(f'42{self.acks}["send",{{"room":{room_json},"text":"{text}"}}]')
        return self.send_text(f'{{"type":"send","room":{room_json},"text":"{text}"}}')

    # -- the handshake of the wire contract ------------------------------------------------------

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def expect(self, kinds: tuple[str, ...], ref: str | None) -> dict[str, Any]:
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
        """hello → welcome, join → joined, agree → ack (Socket.IO: open, connect, join → ack)."""
        self.room = room
        if self.sio:
            await self._enter_sio(room)
            return
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

    async def _enter_sio(self, room: str) -> None:
        await self.expect(("open",), None)
        self.send_text(engineio.CONNECT)
        reply = await self.expect(("connect", "error"), None)
        if reply["type"] != "connect":
            raise ConnectionError("connect refused")
        self.acks += 1
        self.send_text(engineio.event("join", room, self.acks))
        await self.expect(("ack",), str(self.acks))
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
        self.reported = 0  # `received` when the step's answer was written
        self.late = 0
        self.late_steps: Counter[int] = Counter()  # late arrivals by the step that sent them
        self.acked = 0
        self.errors: Counter[str] = Counter()
        self.setup_errors: Counter[str] = Counter()
        self.hist: Counter[int] = Counter()
        self.churn_task: asyncio.Task[None] | None = None
        self.churning = False
        self.churned: deque[Conn] = deque()
        self.churn_counts: Counter[str] = Counter()
        self.churn_failures: Counter[str] = Counter()

    async def _open(self, spec: dict[str, Any], gate: asyncio.Semaphore) -> Conn:
        url = urlsplit(spec["url"])
        host, port = url.hostname or "127.0.0.1", url.port or 80
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        sio = spec.get("proto") == "sio"
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
                lambda: Conn(self, f"{host}:{port}", path, sio), sock=sock
            )
            conn.counted = bool(spec.get("counted", True)) and not spec.get("slow")
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
        """Send `rate` messages a second for `seconds`, then listen for `drain` more. Arrivals
        are counted by the step whose sender wrote them: late ones (and those of the last step
        that came after its answer) are answered by step in `late_steps`, so none goes
        uncounted across a run of steps."""
        if self.received > self.reported:
            self.late_steps[self.step] += self.received - self.reported
        self.step, self.received, self.reported, self.late, self.acked = step, 0, 0, 0, 0
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
                    if conn.send_message(room_json, _text_for(step, time.monotonic_ns())):
                        sent += 1
                        sent_by_room[conn.room] += 1
                    else:
                        skipped += 1
                await asyncio.sleep(0.002)
        await asyncio.sleep(drain)
        wall = time.monotonic() - wall0
        self.reported = self.received
        late_steps = {str(k): v for k, v in self.late_steps.items()}
        self.late_steps.clear()
        return {
            "step": step,
            "sent": sent,
            "skipped": skipped,
            "sent_by_room": dict(sent_by_room),
            "acked": self.acked,
            "errors": dict(self.errors),
            "received": self.received,
            "late": self.late,
            "late_steps": late_steps,
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

    def churn(self, specs: list[dict[str, Any]], rate: float, live: int) -> dict[str, Any]:
        """Start opening `rate` uncounted members a second from `specs` (in turn), closing the
        oldest beyond `live`, until `churn_stop`."""
        if self.churn_task is None and specs and rate > 0:
            self.churning = True
            self.churn_task = asyncio.create_task(self._churn(specs, rate, live))
        return {"churning": self.churn_task is not None}

    async def _churn(self, specs: list[dict[str, Any]], rate: float, live: int) -> None:
        gate = asyncio.Semaphore(16)
        pending: set[asyncio.Task[None]] = set()
        started, opened = time.monotonic(), 0
        while self.churning:
            due = int((time.monotonic() - started) * rate) - opened
            for _ in range(max(due, 0)):
                spec = {**specs[opened % len(specs)], "counted": False, "sender": False}
                opened += 1
                task = asyncio.create_task(self._churn_one(spec, gate, live))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.sleep(0.05)
        # Handshakes under way finish (each is bounded by _open's timeouts), so none is left open.
        await asyncio.gather(*pending, return_exceptions=True)

    async def _churn_one(self, spec: dict[str, Any], gate: asyncio.Semaphore, live: int) -> None:
        try:
            conn = await self._open(spec, gate)
        except Exception as exc:  # counted and reported, like the connect command's failures
            self.churn_failures[str(exc)[:80] or type(exc).__name__] += 1
            return
        self.churn_counts["opened"] += 1
        self.churned.append(conn)
        while len(self.churned) > live:
            self.churned.popleft().close()  # a member leaves: the server sees the socket close
            self.churn_counts["closed"] += 1

    async def churn_stop(self) -> dict[str, Any]:
        if self.churn_task is not None:
            self.churning = False
            await self.churn_task
            self.churn_task = None
        while self.churned:
            self.churned.popleft().close()
            self.churn_counts["closed"] += 1
        answer = {
            **self.churn_counts,
            "failed": sum(self.churn_failures.values()),
            "failures": dict(self.churn_failures.most_common(3)),
        }
        self.churn_counts.clear()
        self.churn_failures.clear()
        return answer

    def close(self) -> dict[str, Any]:
        for conn in self.conns:
            conn.close()
        for conn in self.churned:
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
        elif kind == "churn":
            answer = gen.churn(cmd["conns"], float(cmd["rate"]), int(cmd["live"]))
        elif kind == "churn_stop":
            answer = await gen.churn_stop()
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
