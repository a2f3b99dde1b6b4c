"""Real parts for tests: a redis-server on a free port, server processes, WebSocket clients.

Waits are on conditions with bounded timeouts, scaled by TEST_TIMEOUT_SCALE on slow machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import websockets
from websockets.asyncio.client import ClientConnection

SCALE = float(os.environ.get("TEST_TIMEOUT_SCALE", "1"))
ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"

Frame = dict[str, Any]


def timeout(seconds: float) -> float:
    """A bounded wait, scaled for slow machines."""
    return seconds * SCALE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def require_binary(name: str) -> str:
    """The path of a system binary; in CI a missing one fails the run instead of skipping."""
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return path


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll `check` until true, failing after `seconds` (scaled)."""
    deadline = time.monotonic() + timeout(seconds)
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def start_uvicorn(config: Any) -> tuple[Any, asyncio.Task[None]]:
    """A uvicorn server for `config` (a `uvicorn.Config`) in this event loop, once it listens;
    its startup error, if it fails. Returns the server and its task (stop: `should_exit`)."""
    import uvicorn

    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(timeout(10)):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    return server, task


async def until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    """Await `check` until true, failing after `seconds` (scaled)."""
    deadline = time.monotonic() + timeout(seconds)
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class RedisServer:
    """A redis-server of the tests' own, on a free loopback port, keeping nothing on disk."""

    def __init__(self, workdir: Path) -> None:
        self.binary = require_binary("redis-server")
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self.ping, 10, "redis-server to answer")

    def ping(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout(5))
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True)


class ServerProcess:
    """A `peer-support serve` process on a free port, with its own environment."""

    def __init__(self, env: dict[str, str], log_path: Path, open_files: int | None = None) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        # A lower limit on open files than the test's own (`prlimit` may always lower it).
        self._limit: list[str] = []
        if open_files is not None:
            nofile = f"--nofile={open_files}:{open_files}"
            self._limit = [require_binary("prlimit"), nofile, "--"]

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> None:
        if self._log_file is None:
            self._log_file = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*self._limit, sys.executable, "-m", "server", "serve", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._healthy, 20, "the server to answer /healthz")

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"server exited with {self.proc.returncode}: {self.log()}")
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc is None:
            return None
        try:
            return self._stop(sig)
        finally:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None

    def _stop(self, sig: int) -> int | None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout(15))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code


@contextlib.contextmanager
def server_processes(
    env: dict[str, str], logs: Path, count: int = 2
) -> Iterator[list[ServerProcess]]:
    """`count` server processes sharing `env` (one broker), logging to `logs`/<n>.log; stopped
    at the end."""
    servers = [ServerProcess(env, logs / f"server{n}.log") for n in range(count)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


class Client:
    """A WebSocket client of the wire contract that keeps every frame it received."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[Frame] = []
        self._used: set[int] = set()

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> Client:
        # An unbounded receive queue: a test that leaves frames unread must not stall the
        # socket (and its closing handshake) behind the client's own backpressure.
        kwargs.setdefault("max_queue", None)
        return cls(await websockets.connect(url, **kwargs))

    async def close(self) -> None:
        await self.ws.close()

    async def send(self, frame: Frame) -> None:
        await self.ws.send(json.dumps(frame))

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def _read(self, seconds: float) -> Frame:
        raw = await asyncio.wait_for(self.ws.recv(), timeout(seconds))
        frame: Frame = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def expect(self, kind: str, /, seconds: float = 5.0, **match: Any) -> Frame:
        """The first frame of `kind` whose fields equal `match` and that no earlier `expect`
        returned, waiting for it up to `seconds` (scaled)."""
        deadline = time.monotonic() + timeout(seconds)
        while True:
            for index, frame in enumerate(self.frames):
                if index in self._used or frame.get("type") != kind:
                    continue
                if all(frame.get(k) == v for k, v in match.items()):
                    self._used.add(index)
                    return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind} frame matching {match}; got {self.frames[-5:]}")
            try:
                await self._read(remaining / SCALE)
            except TimeoutError:
                raise AssertionError(
                    f"no {kind} frame matching {match}; got {self.frames[-5:]}"
                ) from None

    async def quiet(self, kind: str, /, seconds: float = 0.3, **match: Any) -> None:
        """Assert that no frame of `kind` (matching) arrives within `seconds`."""
        with contextlib.suppress(AssertionError):
            frame = await self.expect(kind, seconds, **match)
            raise RuntimeError(f"unexpected {kind}: {frame}")

    async def request(self, frame: Frame, seconds: float = 5.0) -> Frame:
        """Send with a fresh `ref` and return the `ack` or `error` that answers it."""
        ref = uuid.uuid4().hex[:12]
        await self.send({**frame, "ref": ref})
        deadline = time.monotonic() + timeout(seconds)
        while True:
            for frame_ in self.frames:
                if frame_.get("ref") == ref and frame_.get("type") in (
                    "ack",
                    "error",
                    "joined",
                    "welcome",
                    "held",
                ):
                    return frame_
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer to {frame.get('type')}")
            try:
                await self._read(max(0.01, (deadline - time.monotonic()) / SCALE))
            except TimeoutError:
                continue

    async def hello(self, **fields: Any) -> Frame:
        await self.send({"type": "hello", **fields})
        return await self.expect("welcome")

    async def join(self, room: str, **fields: Any) -> Frame:
        answer = await self.request({"type": "join", "room": room, **fields})
        assert answer["type"] == "joined", answer
        return answer

    async def enter(self, room: str, **fields: Any) -> Frame:
        """hello (if needed is the caller's job), join and agree."""
        joined = await self.join(room, **fields)
        ack = await self.request({"type": "agree", "room": room})
        assert ack["type"] == "ack", ack
        return joined

    async def say(self, room: str, text: str) -> Frame:
        answer = await self.request({"type": "send", "room": room, "text": text})
        assert answer["type"] == "ack", answer
        return answer


@contextlib.contextmanager
def env_vars(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            port -= 20000
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise AssertionError("no free port pair for a cluster node")


class RedisClusterNodes:
    """A three-primary Redis Cluster on loopback ports, made with `redis-cli --cluster create`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.nodes = [RedisServer(workdir / f"node{i}") for i in range(3)]
        for node in self.nodes:
            node.port = _cluster_port()
        self.cli = require_binary("redis-cli")

    @property
    def url(self) -> str:
        """The broker URL the server takes for a cluster: one seed node is enough."""
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}/0"

    def start(self) -> None:
        for node in self.nodes:
            node.workdir.mkdir(parents=True, exist_ok=True)
            node.start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                       "--cluster-node-timeout", "2000")  # fmt: skip
        addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
        subprocess.run(
            [self.cli, "--cluster", "create", *addresses, "--cluster-replicas", "0",
             "--cluster-yes"],
            check=True, capture_output=True, timeout=timeout(30),
        )  # fmt: skip

        def ready() -> bool:
            out = subprocess.run(
                [self.cli, "-p", str(self.nodes[0].port), "cluster", "info"],
                capture_output=True, text=True, timeout=timeout(5), check=False,
            )  # fmt: skip
            return "cluster_state:ok" in out.stdout

        wait_until(ready, 20, "the cluster to cover all slots")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
