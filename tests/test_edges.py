"""Deployment edges: Host and Origin against PUBLIC_ORIGIN, X-Forwarded-For only from
TRUSTED_PROXIES, /metrics behind a token, logs without addresses or headers, strong keys.

Requests are written by hand (`raw_request`): the exact Host, Origin and forwarding headers an
attacker sends, which a client library would not let a test choose."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from server.logs import RedactAddresses
from server.settings import KEY_HINT, Settings, exposure_problems, key_bits
from tests.conftest import TEST_SECRET, StartServer
from tests.support import ROOT, Client, ServerProcess, timeout

STRONG_KEY = "Vq3xN8rT-k2Lw9YbZp4HcJ7uEf5sGd1MaQ6oRi0Xn_tyKzBvUe"
ROOM = "anxiety"


class Raw:
    """One hand-written HTTP request (a WebSocket handshake when `upgrade`); the connection is
    kept open so a test can hold it or read the frames that follow."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.status: int | None = None
        self.body = b""

    async def close_code(self) -> int | None:
        """The code of the close frame the server sends next (None if it sends another)."""
        async with asyncio.timeout(timeout(5)):
            head = await self.reader.readexactly(2)
            length = head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", await self.reader.readexactly(2))[0]
            payload = await self.reader.readexactly(length)
        if head[0] & 0x0F != 0x8 or len(payload) < 2:
            return None
        code: int = struct.unpack("!H", payload[:2])[0]
        return code

    def close(self) -> None:
        self.writer.close()


async def raw_request(
    port: int,
    headers: dict[str, str],
    *,
    path: str = "/ws",
    upgrade: bool = True,
    host: str = "127.0.0.1",
) -> Raw:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    reader, writer = await asyncio.open_connection(host, port, family=family)
    raw = Raw(reader, writer)
    lines = [f"GET {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    if upgrade:
        key = base64.b64encode(os.urandom(16)).decode()
        lines += ["Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                  "Sec-WebSocket-Version: 13"]  # fmt: skip
    else:
        lines.append("Connection: close")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    async with asyncio.timeout(timeout(5)):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as closed:  # closed without a reply (nginx's 444)
            if closed.partial:
                raise
            writer.close()
            return raw
        raw.status = int(head.split(b" ", 2)[1])
        if raw.status != 101:
            length = [
                int(line.split(b":", 1)[1])
                for line in head.lower().split(b"\r\n")
                if line.startswith(b"content-length:")
            ]
            # A proxy may keep the connection open: read the body by its length when given.
            raw.body = await (reader.readexactly(length[0]) if length else reader.read())
            writer.close()
    return raw


# --- Host and Origin -------------------------------------------------------------------------


@pytest.mark.parametrize("broker_kind", ["memory"])
async def test_dns_rebinding_host_and_origin_are_refused_on_a_loopback_install(
    start_server: StartServer,
) -> None:
    """The review's input: `Host: evil.example` with `Origin: http://evil.example` got 101."""
    server = await start_server()
    port = server.port
    for host in ("evil.example", f"evil.example:{port}"):
        refused = await raw_request(port, {"Host": host, "Origin": f"http://{host}"})
        assert refused.status == 403, host
        page = await raw_request(port, {"Host": host}, path="/api/rooms", upgrade=False)
        assert page.status == 421 and page.body == b"unknown host", host
    # The loopback names with the bound port are the server's own; another port is not.
    for own in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        ok = await raw_request(port, {"Host": own, "Origin": f"http://{own}"})
        assert ok.status == 101, own
        ok.close()
    for other in (f"127.0.0.1:{port + 1}", "127.0.0.1", "localhost"):
        assert (await raw_request(port, {"Host": other})).status == 403, other
    # Origin is no longer derived from Host: an own Host with a foreign Origin is refused.
    foreign = await raw_request(
        port, {"Host": f"127.0.0.1:{port}", "Origin": "http://evil.example"}
    )
    assert foreign.status == 403
    no_host = await raw_request(port, {}, path="/", upgrade=False)
    assert no_host.status in (400, 421)


@pytest.mark.parametrize("broker_kind", ["memory"])
async def test_public_origin_is_the_only_public_host_and_origin(start_server: StartServer) -> None:
    server = await start_server(
        PUBLIC_ORIGIN="https://Chat.Example.org/", ALLOWED_ORIGINS="https://app.example.net"
    )
    port = server.port
    public = {"Host": "chat.example.org", "Origin": "https://chat.example.org"}
    ok = await raw_request(port, public)
    assert ok.status == 101
    ok.close()
    spelled_port = await raw_request(port, {**public, "Host": "chat.example.org:443"})
    assert spelled_port.status == 101
    spelled_port.close()
    extra = await raw_request(port, {**public, "Origin": "https://app.example.net"})
    assert extra.status == 101
    extra.close()
    for headers in (
        {"Host": "evil.example", "Origin": "http://evil.example"},
        {"Host": "evil.example", "Origin": "https://chat.example.org"},
        {"Host": "chat.example.org", "Origin": "http://evil.example"},
        {"Host": "chat.example.org", "Origin": "http://chat.example.org"},  # not the scheme
        {"Host": "chat.example.org:8443", "Origin": "https://chat.example.org"},
    ):
        assert (await raw_request(port, headers)).status == 403, headers
    page = await raw_request(port, {"Host": "chat.example.org"}, path="/api/rooms", upgrade=False)
    assert page.status == 200
    page = await raw_request(port, {"Host": "evil.example"}, path="/", upgrade=False)
    assert page.status == 421
    # A health check on the machine itself names the loopback address and the bound port.
    health = await raw_request(port, {"Host": f"127.0.0.1:{port}"}, path="/healthz", upgrade=False)
    assert health.status == 200
    # The test client names 127.0.0.1 with the port, and sends no Origin: still a member.
    client = await Client.connect(server.ws)
    assert (await client.hello())["type"] == "welcome"
    await client.close()


# --- /metrics ----------------------------------------------------------------------------------


@pytest.mark.parametrize("broker_kind", ["memory"])
async def test_metrics_are_not_served_without_a_token(start_server: StartServer) -> None:
    plain = await start_server()
    for host in (f"127.0.0.1:{plain.port}", "app1:8000"):
        answer = await raw_request(plain.port, {"Host": host}, path="/metrics", upgrade=False)
        assert answer.status == 404 and b"peer_support" not in answer.body
    token = "scrape-token-0123456789"
    guarded = await start_server(METRICS_TOKEN=token)
    port = guarded.port
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
        answer = await raw_request(port, {"Host": f"127.0.0.1:{port}", **headers},
                                   path="/metrics", upgrade=False)  # fmt: skip
        assert answer.status == 401 and b"peer_support" not in answer.body
    # Prometheus in compose names the replica by its service name: the token is the guard.
    answer = await raw_request(port, {"Host": "app1:8000", "Authorization": f"Bearer {token}"},
                               path="/metrics", upgrade=False)  # fmt: skip
    assert answer.status == 200 and b"peer_support_connections" in answer.body


# --- X-Forwarded-For ----------------------------------------------------------------------------


async def _hold_sockets(port: int, count: int) -> list[int | None]:
    """Open `count` handshakes from loopback, each claiming another X-Forwarded-For address;
    the close code each gets at once (None: admitted and still open)."""
    held: list[Raw] = []
    codes: list[int | None] = []
    try:
        for i in range(count):
            raw = await raw_request(
                port, {"Host": f"127.0.0.1:{port}", "X-Forwarded-For": f"203.0.113.{i + 1}"}
            )
            assert raw.status == 101
            held.append(raw)
        # Refused sockets are accepted and closed at once with 1013; admitted ones wait for
        # hello (HELLO_TIMEOUT_SECONDS is long), so a short read tells the two apart.
        for raw in held:
            try:
                async with asyncio.timeout(timeout(0.5)):
                    codes.append(await raw.close_code())
            except TimeoutError:
                codes.append(None)
    finally:
        for raw in held:
            raw.close()
    return codes


def test_forwarded_for_from_loopback_does_not_bypass_the_address_cap(tmp_path: Path) -> None:
    """`peer-support serve` as shipped: 8 sockets from 127.0.0.1 with distinct X-Forwarded-For
    values are one address, held to MAX_CONNECTIONS_PER_ADDRESS (5); with TRUSTED_PROXIES
    naming loopback they count as 8 addresses."""
    base = {"SECRET_KEY": TEST_SECRET, "SECRET_KEY_FILE": str(tmp_path / "k"),
            "MAX_CONNECTIONS_PER_ADDRESS": "5", "HELLO_TIMEOUT_SECONDS": "30"}  # fmt: skip
    for trusted, expected in (("", [None] * 5 + [1013] * 3), ("127.0.0.1", [None] * 8)):
        server = ServerProcess({**base, "TRUSTED_PROXIES": trusted}, tmp_path / f"{trusted}.log")
        server.start()
        try:
            codes = asyncio.run(_hold_sockets(server.port, 8))
        finally:
            server.stop()
        assert codes == expected, (trusted, codes)
        assert "203.0.113" not in server.log()


# --- logs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("msg", "args"),
    [
        ('%s - "WebSocket %s" [accepted]', ("::ffff:192.0.2.1:51234", "/ws")),
        ('%s - "WebSocket %s" 403', ("2001:db8::1:443", "/ws")),
        ('%s - "WebSocket %s" 403', ("[2001:db8:85a3::8a2e:370:7334]:80", "/ws")),
        ("peer %s closed", (("::ffff:192.0.2.1", 51234),)),
        ("peer %s closed", (("2001:db8::1", 443, 0, 0),)),
        ("client at ::ffff:192.0.2.1 went away", ()),
        ("client at 2001:db8:85a3::8a2e:370:7334 went away", ()),
        ("client at 2001:0db8:85a3:0000:0000:8a2e:0370:7334 went away", ()),
        ("client at fe80::1%eth0 went away", ()),
        ("client at 192.0.2.1:8080 went away", ()),
    ],
)
def test_redaction_covers_ipv6_and_mapped_addresses(msg: str, args: tuple[object, ...]) -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, msg, args, None)
    assert RedactAddresses().filter(record)
    text = record.getMessage()
    assert "[addr]" in text, text
    for piece in ("192.0", "2001", "db8", "ffff", "7334", "fe80", "eth0", ".0.2.1"):
        assert piece not in text, text


def test_redaction_drops_header_and_frame_dumps_and_exception_text() -> None:
    keep = RedactAddresses()
    for msg, args in (
        ("< GET %s HTTP/1.1", ("/ws?token=abc",)),
        ("< %s: %s", ("Cookie", "session=c00kie")),
        ("> %s: %s", ("Set-Cookie", "x=y")),
        ("< %s", ('TEXT \'{"type":"send"}\' [20 bytes]',)),
        ("ASGI [%d] Receive %s", (3, {"headers": [(b"authorization", b"Bearer x")]})),
    ):
        record = logging.LogRecord("uvicorn.error", logging.DEBUG, __file__, 1, msg, args, None)
        assert not keep.filter(record), msg
    try:
        raise ValueError("header value session=c00kie from 192.0.2.1")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), exc_info)
    assert keep.filter(record)
    assert record.exc_info is None and record.exc_text is None
    formatted = logging.Formatter().format(record)
    assert "ValueError at test_edges.py" in formatted and "c00kie" not in formatted


class V6Server(ServerProcess):
    """A server bound to `::` (asyncio makes it IPv6 only): ready when [::1] answers."""

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"server exited with {self.proc.returncode}: {self.log()}")
        with socket.socket(socket.AF_INET6) as s:
            s.settimeout(0.2)
            return s.connect_ex(("::1", self.port)) == 0


def test_debug_log_of_ipv6_clients_carries_no_address_or_header(tmp_path: Path) -> None:
    """`serve` on `::` at DEBUG: a client on ::1 whose handshakes carry Cookie and
    Authorization; neither its address nor the headers reach the log (IPv4-mapped forms are
    covered record by record above: asyncio's IPv6 listeners are IPv6 only)."""
    cookie, bearer = "session=c00kie-value-4711", "Bearer auth-value-0815"
    env = {"HOST": "::", "PUBLIC_ORIGIN": "https://chat.example.org", "SECRET_KEY": STRONG_KEY,
           "SECRET_KEY_FILE": str(tmp_path / "k"), "LOG_LEVEL": "DEBUG"}  # fmt: skip
    server = V6Server(env, tmp_path / "server.log")
    server.start()

    async def visit() -> None:
        for host in ("::1", "::1"):
            headers = {"Host": "chat.example.org", "Origin": "https://chat.example.org",
                       "Cookie": cookie, "Authorization": bearer}  # fmt: skip
            raw = await raw_request(server.port, headers, path="/ws?token=q-secret", host=host)
            assert raw.status == 101
            raw.writer.write(_masked_text(b'{"type":"hello"}'))
            await raw.reader.readexactly(2)  # the welcome's head: the frame was handled
            raw.close()
            refused = await raw_request(server.port, {**headers, "Host": "evil.example"}, host=host)
            assert refused.status == 403

    try:
        asyncio.run(visit())
    finally:
        server.stop()
    log = server.log()
    assert "WebSocket" in log and "[addr]" in log, log  # the lines are there, redacted
    for secret in ("c00kie", "auth-value", "Cookie", "Authorization", "q-secret", "127.0.0.1",
                   "::1", "ffff", "evil.example"):  # fmt: skip
        assert secret not in log, (secret, log)


def _masked_text(payload: bytes) -> bytes:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked


# --- SECRET_KEY strength and PUBLIC_ORIGIN off loopback -------------------------------------


def test_weak_keys_are_refused_off_loopback_and_warned_on_it(tmp_path: Path) -> None:
    import secrets

    assert key_bits(secrets.token_urlsafe(48)) >= 128
    assert key_bits(secrets.token_hex(32)) >= 128
    for weak in ("test-key-123456789", TEST_SECRET, "changeme-changeme-changeme-changeme",
                 "a" * 64, "0123456789abcdef0123456789abcdef"):  # fmt: skip
        settings = Settings.from_env(
            {
                "SECRET_KEY": weak,
                "SECRET_KEY_FILE": str(tmp_path / "k"),
                "PUBLIC_ORIGIN": "https://chat.example.org",
            }
        )
        errors, warnings = exposure_problems(settings, "0.0.0.0")
        assert len(errors) == 1 and "SECRET_KEY" in errors[0] and KEY_HINT in errors[0], weak
        assert weak not in errors[0]
        errors, warnings = exposure_problems(settings, "127.0.0.1")
        assert errors == [] and len(warnings) == 1 and "SECRET_KEY" in warnings[0], weak
    strong = Settings.from_env({"SECRET_KEY": f"{STRONG_KEY},{TEST_SECRET}",
                                "PUBLIC_ORIGIN": "https://chat.example.org"})  # fmt: skip
    errors, _ = exposure_problems(strong, "::")
    assert len(errors) == 1 and "key 2 of 2" in errors[0], "an old key verifies tokens too"


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "-m", "server", *args], capture_output=True, text=True,
        env={**base, **env}, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip


def test_serve_and_check_refuse_a_reachable_bind_without_public_origin_or_strong_key(
    tmp_path: Path,
) -> None:
    env = {"SECRET_KEY": STRONG_KEY, "SECRET_KEY_FILE": str(tmp_path / "k")}
    for command in (["serve", "--host", "0.0.0.0", "--port", "1"], ["check", "--host", "0.0.0.0"]):
        result = run_cli(*command, env=env)
        assert result.returncode == 2, result
        assert "PUBLIC_ORIGIN" in result.stderr and "configuration error" in result.stderr
        weak = run_cli(*command, env={**env, "SECRET_KEY": "test-key-123456789",
                                      "PUBLIC_ORIGIN": "https://chat.example.org"})  # fmt: skip
        assert weak.returncode == 2
        assert "SECRET_KEY" in weak.stderr and "token_urlsafe(48)" in weak.stderr
        assert "test-key-123456789" not in weak.stderr
    fine = run_cli("check", "--host", "0.0.0.0",
                   env={**env, "PUBLIC_ORIGIN": "https://chat.example.org"})  # fmt: skip
    assert fine.returncode == 0, fine.stderr
    assert "https://chat.example.org" in fine.stdout and "X-Forwarded-For ignored" in fine.stdout
    assert "/metrics: off (404)" in fine.stdout
    loopback = run_cli("check", env={**env, "SECRET_KEY": TEST_SECRET})
    assert loopback.returncode == 0
    assert "warning" in loopback.stdout and "SECRET_KEY" in loopback.stdout
    assert TEST_SECRET not in loopback.stdout
    key = run_cli("new-key", env={}).stdout.strip()
    assert key_bits(key) >= 128 and len(key) >= 60
