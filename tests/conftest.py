"""Fixtures: a real redis-server, the app served on a real socket for each broker, clients."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette

from server.app import create_app
from server.cli import proxy_options, websocket_options
from server.settings import Settings
from tests.support import (
    Client,
    RedisClusterNodes,
    RedisServer,
    free_port,
    start_uvicorn,
    timeout,
)

TEST_SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session; tests keep apart by key prefix."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_state_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A second redis-server for the session: the state store of the two-store layout."""
    server = RedisServer(tmp_path_factory.mktemp("redis-state"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["memory", "redis"])
def broker_kind(request: pytest.FixtureRequest) -> str:
    """The broker of the behaviour suites. `redis` is the layout docker-compose.yml ships:
    history and pub/sub on one redis-server, durable state on another (two URLs), so the split
    path is the one exercised. `redis-single` (one URL for both) is what tests about one
    Redis's faults choose."""
    kind: str = request.param
    return kind


@pytest.fixture
def base_env(broker_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Environment for a server of this test: its broker, a unique Redis prefix, test limits."""
    env = {
        "SECRET_KEY": TEST_SECRET,
        "SECRET_KEY_FILE": str(tmp_path / "secret"),
        "PRESENCE_HEARTBEAT_SECONDS": "0.5",
        "PRESENCE_TTL_SECONDS": "2",
        "LEAVE_JITTER_SECONDS": "0",  # leaves at once: tests wait on them
        "SEND_BURST": "50",
        "SEND_PER_SECOND": "50",
        "FRAME_BURST": "200",
        "FRAME_PER_SECOND": "100",
    }
    if broker_kind in ("redis", "redis-single"):
        redis_server: RedisServer = request.getfixturevalue("redis_server")
        env["REDIS_URL"] = redis_server.url
        env["REDIS_PREFIX"] = f"t{uuid.uuid4().hex[:10]}"
    if broker_kind == "redis":
        state_server: RedisServer = request.getfixturevalue("redis_state_server")
        env["REDIS_STATE_URL"] = state_server.url
    return env


@dataclass
class AppServer:
    app: Starlette
    port: int

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"


StartServer = Callable[..., Awaitable[AppServer]]


@pytest.fixture
async def start_server(base_env: dict[str, str]) -> AsyncIterator[StartServer]:
    """Start the app in this event loop on a free port; `**overrides` change settings."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(**overrides: str) -> AppServer:
        settings = Settings.from_env({**base_env, **overrides})
        app = create_app(settings)
        port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            lifespan="on",
            log_config=None,
            access_log=False,
            **websocket_options(settings),  # as `peer-support serve` runs it
            **proxy_options(settings),
        )
        server, task = await start_uvicorn(config)
        servers.append((server, task))
        return AppServer(app, port)

    yield start
    for server, _ in servers:
        server.should_exit = True
    for _, task in servers:
        async with asyncio.timeout(timeout(15)):
            await task


@pytest.fixture
async def server(start_server: StartServer) -> AppServer:
    """The app with default test settings on the parametrized broker."""
    return await start_server()


ConnectClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def connect() -> AsyncIterator[ConnectClient]:
    """Open clients (closed at the end); `hello=True` also says hello."""
    clients: list[Client] = []

    async def open_client(url: str, hello: bool = True, **kwargs: object) -> Client:
        client = await Client.connect(url, **kwargs)
        clients.append(client)
        if hello:
            await client.hello()
        return client

    yield open_client
    for client in clients:
        await client.close()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    """A three-node Redis Cluster for the session; tests keep apart by key prefix."""
    cluster = RedisClusterNodes(tmp_path_factory.mktemp("cluster"))
    cluster.start()
    yield cluster
    cluster.stop()
