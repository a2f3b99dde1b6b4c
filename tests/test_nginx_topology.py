"""The compose topology without Docker: two server processes on one Redis behind nginx.

Debian's nginx runs deploy/nginx.conf, rewritten by deploy/local_nginx.py only where the
deployment differs (upstream addresses, listen port, pid/log/temp paths), so its location
blocks — WebSocket upgrade, Host passing, timeouts — are the ones compose runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from deploy.local_nginx import write as write_nginx_conf
from tests.support import (
    ROOT,
    Client,
    RedisServer,
    ServerProcess,
    free_port,
    require_binary,
    timeout,
    wait_until,
)

pytestmark = [pytest.mark.cluster, pytest.mark.redis]

SECRET = "nginx-topology-secret-0123456789"
ROOM = "anxiety"


class Nginx:
    """Debian's nginx in the foreground, with every path in `workdir`."""

    def __init__(self, workdir: Path, upstreams: list[str], port: int | None = None) -> None:
        self.binary = require_binary("nginx")
        self.port = port or free_port()
        self.workdir = workdir
        self.conf = write_nginx_conf(
            workdir, listen=f"127.0.0.1:{self.port}", upstreams=upstreams, error_level="info"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> None:
        with (self.workdir / "stdout.log").open("ab") as out:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [self.binary, "-p", str(self.workdir), "-c", str(self.conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._answering, 10, "nginx to answer /healthz")

    def _answering(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"nginx exited with {self.proc.returncode}: {self.log()}")
        try:
            return get(f"{self.http}/healthz")[0] == 200
        except OSError:
            return False

    def log(self) -> str:
        parts = [self.workdir / "stdout.log", self.workdir / "error.log"]
        return "\n".join(p.read_text(errors="replace") for p in parts if p.exists())

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()  # fast shutdown: open WebSockets are cut, not waited for
        try:
            self.proc.wait(timeout(10))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class App(ServerProcess):
    """`ServerProcess` that closes its copy of the log file once the child has it."""

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "server", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._healthy, 20, "the server to answer /healthz")


def get(url: str) -> tuple[int, str]:
    """GET `url`: status and body (errors included)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout(5)) as resp:
            status: int = resp.status
            return status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@dataclass
class Topology:
    redis: RedisServer
    apps: list[App]
    nginx: Nginx


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[Topology]:
    redis_dir, nginx_dir = tmp_path / "redis", tmp_path / "nginx"
    redis_dir.mkdir()
    nginx_dir.mkdir()
    redis_server = RedisServer(redis_dir)
    apps: list[App] = []
    nginx: Nginx | None = None
    prefix = f"t{uuid.uuid4().hex[:10]}"
    nginx_port = free_port()  # the public origin the apps answer to
    try:
        redis_server.start()
        for i in (1, 2):
            env = {
                "REDIS_URL": redis_server.url,
                "REDIS_PREFIX": prefix,
                "SECRET_KEY": SECRET,
                "SECRET_KEY_FILE": str(tmp_path / f"secret{i}"),
                "PRESENCE_HEARTBEAT_SECONDS": "0.5",
                "PRESENCE_TTL_SECONDS": "2",
                "LEAVE_JITTER_SECONDS": "0",  # leaves at once: tests wait on them
                "PUBLIC_ORIGIN": f"http://127.0.0.1:{nginx_port}",
            }
            app = App(env, tmp_path / f"app{i}.log")
            apps.append(app)
            app.start()
        nginx = Nginx(nginx_dir, [f"127.0.0.1:{app.port}" for app in apps], nginx_port)
        nginx.start()
        yield Topology(redis_server, apps, nginx)
    finally:
        if nginx is not None:
            nginx.stop()
        for app in apps:
            app.stop()
        redis_server.stop()


def test_http_routes_through_nginx(topology: Topology) -> None:
    base = topology.nginx.http
    assert get(f"{base}/healthz") == (200, "ok")
    status, body = get(f"{base}/readyz")
    assert status == 200, body
    status, body = get(f"{base}/")
    assert status == 200, body
    assert "<html" in body.lower()
    # Round-robin: consecutive requests alternate between the replicas; all must answer alike.
    for _ in range(4):
        status, body = get(f"{base}/api/rooms")
        assert status == 200, body
        rooms = json.loads(body)
        assert ROOM in {room["id"] for room in rooms}
    status, body = get(f"{base}/api/rooms?q=anxiety")
    assert status == 200
    assert [room["id"] for room in json.loads(body)] == [ROOM]


async def test_two_members_chat_through_nginx(topology: Topology) -> None:
    ws = topology.nginx.ws
    alice, bob = await Client.connect(ws), await Client.connect(ws)
    try:
        for client in (alice, bob):
            await client.hello()
            await client.enter(ROOM)
        ack = await alice.say(ROOM, "hi from behind the proxy")
        seen = [await c.expect("message", id=ack["id"]) for c in (alice, bob)]
        assert {m["text"] for m in seen} == {"hi from behind the proxy"}
        ack = await bob.say(ROOM, "hello <3 & welcome")
        seen = [await c.expect("message", id=ack["id"]) for c in (alice, bob)]
        assert {m["text"] for m in seen} == {"hello <3 & welcome"}
        assert seen[0]["participant"] == seen[1]["participant"]
    finally:
        await alice.close()
        await bob.close()


async def test_replicas_share_one_redis(topology: Topology) -> None:
    """A member on each replica (directly) and one through nginx see the same messages."""
    app1, app2 = topology.apps
    one, two, proxied = (
        await Client.connect(app1.ws),
        await Client.connect(app2.ws),
        await Client.connect(topology.nginx.ws),
    )
    clients = [one, two, proxied]
    try:
        for client in clients:
            await client.hello()
            await client.enter(ROOM)
        ids = []
        for sender, text in ((one, "from replica one"), (two, "from replica two")):
            ack = await sender.say(ROOM, text)
            ids.append(ack["id"])
            for client in clients:
                message = await client.expect("message", id=ack["id"])
                assert message["text"] == text
        assert ids[1] > ids[0]
        late = await Client.connect(topology.nginx.ws)
        clients.append(late)
        await late.hello()
        joined = await late.join(ROOM)
        assert [m["id"] for m in joined["history"]][-2:] == ids
    finally:
        for client in clients:
            await client.close()


async def test_browser_origin_and_foreign_origin(topology: Topology) -> None:
    """nginx passes Host with its port, so the page's own origin is accepted through it."""
    own = topology.nginx.http
    client = await Client.connect(topology.nginx.ws, origin=own)
    try:
        welcome = await client.hello()
        assert welcome["role"] == "member"
    finally:
        await client.close()
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(topology.nginx.ws, origin=Origin("https://evil.example"))
    assert refused.value.response.status_code == 403


async def test_foreign_host_is_refused_by_nginx_and_by_the_app(topology: Topology) -> None:
    """The review's DNS-rebinding input through nginx: `Host: evil.example` with
    `Origin: http://evil.example` got 101 with `server_name _`. Now nginx's default server
    closes it without a reply; a name nginx serves but that is not PUBLIC_ORIGIN's (another
    port) passes nginx and is refused by the app."""
    from tests.test_edges import raw_request

    port = topology.nginx.port
    for host in ("evil.example", f"evil.example:{port}"):
        for path, upgrade in (("/ws", True), ("/", False), ("/api/rooms", False)):
            answer = await raw_request(port, {"Host": host, "Origin": f"http://{host}"},
                                       path=path, upgrade=upgrade)  # fmt: skip
            assert answer.status is None, (host, path, answer.status)  # 444: no reply at all
    other_port = await raw_request(port, {"Host": f"localhost:{port}"}, path="/", upgrade=False)
    assert other_port.status == 421
    own = await raw_request(
        port, {"Host": f"127.0.0.1:{port}", "Origin": f"http://127.0.0.1:{port}"}
    )
    assert own.status == 101
    own.close()
    foreign_origin = await raw_request(
        port, {"Host": f"127.0.0.1:{port}", "Origin": "http://evil.example"}
    )
    assert foreign_origin.status == 403


def test_nginx_does_not_serve_metrics(topology: Topology) -> None:
    assert get(f"{topology.nginx.http}/metrics")[0] == 404


async def test_replica_restart_moves_members_to_the_other(topology: Topology) -> None:
    """SIGTERM on one replica: its members get 1012, reconnect through nginx, lose nothing."""
    ws = topology.nginx.ws
    # One nginx worker: consecutive connections alternate, so one member sits on each replica.
    members = [await Client.connect(ws), await Client.connect(ws)]
    try:
        tokens, participants = [], []
        for member in members:
            tokens.append((await member.hello())["token"])
            participants.append((await member.enter(ROOM))["participant"])
        first = (await members[0].say(ROOM, "before the restart"))["id"]
        for member in members:
            await member.expect("message", id=first)

        topology.apps[0].stop()

        closed = []
        for i, member in enumerate(members):
            try:
                await member.quiet("never-sent", seconds=1.0)
            except ConnectionClosed:
                closed.append(i)
        assert len(closed) == 1, f"expected one member on the stopped replica, got {closed}"
        moved = closed[0]
        assert members[moved].ws.close_code == 1012
        stayed = members[1 - moved]
        second = (await stayed.say(ROOM, "while you were away"))["id"]

        again = await Client.connect(ws)  # nginx skips the stopped replica
        members[moved] = again
        await again.hello(token=tokens[moved])
        joined = await again.join(ROOM, since=first)
        assert joined["participant"] == participants[moved]
        assert joined["recovered"] is True
        assert [m["id"] for m in joined["history"]] == [second]
    finally:
        for member in members:
            await member.close()
