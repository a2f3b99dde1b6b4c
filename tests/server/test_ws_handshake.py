"""The opening handshake read by `server.ws_handshake` (RFC 6455, section 4.2): what it takes,
what it answers, and that a refusal never repeats what the client sent."""

from __future__ import annotations

import pytest

from server.ws_handshake import Upgrade, read_upgrade, refusal, switching

# The key and answer of RFC 6455, section 1.3.
KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def _request(first: bytes = b"GET /ws?token=t HTTP/1.1", **replace: bytes | None) -> bytes:
    headers = {
        b"host": b"example.org",
        b"upgrade": b"websocket",
        b"connection": b"keep-alive, Upgrade",
        b"sec-websocket-key": KEY,
        b"sec-websocket-version": b"13",
        b"sec-websocket-protocol": b"chat, superchat",
    }
    for name, value in replace.items():
        key = name.replace("_", "-").encode()
        if value is None:
            headers.pop(key, None)
        else:
            headers[key] = value
    lines = [first, *(k + b": " + v for k, v in headers.items())]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def test_a_valid_request_gives_the_rfc_accept_key_and_asgi_headers() -> None:
    upgrade = read_upgrade(_request().replace(b"host:", b"Host:"))
    assert isinstance(upgrade, Upgrade)
    assert upgrade.accept == ACCEPT
    assert (upgrade.path, upgrade.query) == ("/ws", "token=t")
    assert upgrade.subprotocols == ["chat", "superchat"]
    assert upgrade.headers[0] == (b"host", b"example.org")  # names lowercased, in order
    assert [name for name, _ in upgrade.headers] == [
        b"host",
        b"upgrade",
        b"connection",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-protocol",
    ]


def test_the_answer_opens_with_101_and_carries_the_given_headers() -> None:
    answer = switching(ACCEPT, [(b"server", b"uvicorn")])
    assert answer.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"\r\nSec-WebSocket-Accept: " + ACCEPT + b"\r\n" in answer
    assert b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" in answer
    assert answer.endswith(b"\r\nserver: uvicorn\r\n\r\n")


@pytest.mark.parametrize(
    ("request_bytes", "status", "header"),
    [
        (_request(b"POST /ws HTTP/1.1"), 405, b"Allow: GET"),
        (_request(b"GET /ws HTTP/1.0"), 505, None),
        (_request(b"GET /ws"), 400, None),
        (_request(upgrade=None), 426, b"Upgrade: websocket"),
        (_request(upgrade=b"h2c"), 426, b"Upgrade: websocket"),
        (_request(connection=b"keep-alive"), 426, b"Upgrade: websocket"),
        (_request(sec_websocket_key=None), 400, None),
        (_request(sec_websocket_key=b"c2hvcnQ="), 400, None),  # 5 bytes, not 16
        (_request(sec_websocket_key=b"not base64 at all!"), 400, None),
        (_request(sec_websocket_version=b"8"), 426, b"Sec-WebSocket-Version: 13"),
        (_request(sec_websocket_version=None), 426, b"Sec-WebSocket-Version: 13"),
        (_request().replace(b"host: example.org", b"no colon here"), 400, None),
        (_request()[:-2], 400, None),  # the request never ends
        (_request(b"GET /\xff HTTP/1.1"), 400, None),
    ],
)
def test_what_is_not_a_handshake_is_refused(
    request_bytes: bytes, status: int, header: bytes | None
) -> None:
    answer = read_upgrade(request_bytes)
    assert isinstance(answer, bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"\r\nConnection: close" in head
    assert b"\r\nContent-Length: %d" % len(body) in head
    assert body.startswith(b"Failed to open a WebSocket connection: ")
    if header is not None:
        assert b"\r\n" + header in head


def test_a_refusal_never_repeats_what_the_client_sent() -> None:
    hostile = b"<script>alert(1)</script>"
    for request_bytes in (
        _request(sec_websocket_key=hostile),
        _request(upgrade=hostile),
        _request(sec_websocket_version=hostile),
        _request(b"GET " + hostile + b" HTTP/1.0"),
    ):
        answer = read_upgrade(request_bytes)
        assert isinstance(answer, bytes) and hostile not in answer


def test_a_refusal_of_the_app_has_its_own_words_or_none() -> None:
    assert refusal(403, "").endswith(b"Content-Length: 0\r\n\r\n")
    assert refusal(500, "Internal Server Error").startswith(b"HTTP/1.1 500 Internal Server Error")
