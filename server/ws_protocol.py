"""One WebSocket connection, from the upgrade request to the close: the handshake read here
(`server.ws_handshake`; by `websockets` when permessage-deflate is on), the frames by the
`websockets` library's sans-I/O `ServerProtocol`, served to the ASGI app as uvicorn serves it.

uvicorn's HTTP protocol hands every upgrade request to the class given as `ws=`
(`server.cli.websocket_options`). Its own sans-I/O class keeps, for every open connection, an
`asyncio.Queue` (three deques and an `Event`) for incoming events, another `Event` for write
pauses, the handshake request and response, and about forty attributes in a dict: measured with
tracemalloc (bench/ idle scenario), ~5 KiB of the ~16 KiB a joined, idle connection held. This
class keeps the same behaviour in slots: incoming events in a short list (reading pauses after
each message until the app asks for it, so it holds one or two), and a future made only while
somebody waits: for an event, or for the transport to drain.

What it does, as the ASGI spec and uvicorn do:
- `websocket.connect` first; a text or binary message as `websocket.receive` (fragments joined,
  `max_size` over the whole message); `websocket.disconnect` with the code once the peer closes,
  the connection drops, the app closes, or the server shuts down (1012).
- `websocket.accept` answers 101 (uvicorn's default `server`/`date` headers, the app's headers and
  subprotocol); `websocket.close` before it answers 403; after it, a close frame, then the TCP
  connection is closed when the peer answers or after `CLOSE_TIMEOUT_S`.
- Keepalive: a ping every `ws_ping_interval` seconds, and the connection fails (1011) when its
  pong is not back within `ws_ping_timeout`.
- Invalid UTF-8 closes with 1007, an oversized message with 1009, a protocol error with 1002;
  the app is told with the same code.
- Nothing it logs holds an address, a header or a frame: each handshake's line keeps uvicorn's
  shape (`[addr] - "WebSocket /ws" [accepted]`, or 403), with the address never passed in.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from typing import Any
from urllib.parse import unquote

from uvicorn.config import Config
from uvicorn.protocols.utils import ClientDisconnected, get_local_addr, get_remote_addr, is_ssl
from uvicorn.server import ServerState
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol

from server.logs import ADDRESS, where
from server.ws_handshake import read_upgrade, refusal, switching

__all__ = ["CLOSE_TIMEOUT_S", "ChatSocketProtocol"]

log = logging.getLogger("peer_support.websocket")

CLOSE_TIMEOUT_S = 10.0  # after our close frame, for the peer's answer

Event = dict[str, Any]

# States of a connection, in order.
_CONNECTING, _OPEN, _CLOSING, _GONE = range(4)


class ChatSocketProtocol(asyncio.Protocol):
    """The `ws=` protocol class of uvicorn: one instance per upgraded connection."""

    __slots__ = (
        "_drained",
        "_early",
        "_fragments",
        "_inbox",
        "_lean",
        "_paused",
        "_ping_payload",
        "_read_paused",
        "_response",
        "_state",
        "_text",
        "_timer",
        "_waiter",
        "app",
        "app_state",
        "config",
        "conn",
        "loop",
        "scope",
        "server_state",
        "transport",
    )

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.config = config
        self.app = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.server_state = server_state
        self.app_state = app_state
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.scope: dict[str, Any] = {}
        extensions = []
        if config.ws_per_message_deflate:
            extensions = [
                ServerPerMessageDeflateFactory(
                    server_max_window_bits=12,
                    client_max_window_bits=12,
                    compress_settings={"memLevel": 5},
                )
            ]
        # Without extensions to negotiate the handshake is read here (`server.ws_handshake`),
        # and `conn` starts open: it only frames.
        self._lean = not extensions
        self.conn = ServerProtocol(
            extensions=extensions,
            max_size=config.ws_max_size,
            logger=log,
            state=State.OPEN if self._lean else State.CONNECTING,
        )
        self._early = b""  # what came after the upgrade request, before the app accepted
        self._fragments: list[bytes] | None = None  # the message being received
        self._text = False  # ... is text
        self._state = _CONNECTING
        self._inbox: list[Event] = []
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False  # the transport's write buffer is above its high-water mark
        self._drained: asyncio.Future[None] | None = None
        self._read_paused = False
        # Until the app accepts: the 101 answer (`websockets`' handshake), or the accept key.
        self._response: Response | bytes | None = None
        self._timer: asyncio.TimerHandle | None = None  # the next ping, pong deadline or close
        self._ping_payload: bytes | None = None

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server_state.connections.add(self)  # type: ignore[arg-type]

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        if self._state != _GONE:
            code = 1006 if self._state == _CONNECTING else 1005
            self._push({"type": "websocket.disconnect", "code": code})
        self._state = _GONE
        self.server_state.connections.discard(self)
        self._wake_writer()
        if exc is None:
            self.transport.close()

    def eof_received(self) -> None:
        return None  # the transport closes itself

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake_writer()

    def data_received(self, data: bytes) -> None:
        if self._lean and self._state == _CONNECTING and not self.scope:
            data = self._on_upgrade(data)  # uvicorn hands over the whole request at once
            if not data:
                return
        conn = self.conn
        conn.receive_data(data)
        for event in conn.events_received():
            if isinstance(event, Frame):
                self._on_frame(event)
            elif isinstance(event, Request):
                self._on_request(event)
        if conn.parser_exc is not None:  # `conn` has queued the close frame with its code
            self._failed()
        self._flush()

    # -- uvicorn's server ------------------------------------------------------------------------

    def shutdown(self) -> None:
        """The server is stopping: 1012 to an open socket, 500 to a handshake under way."""
        self._cancel_timer()
        if self._state == _OPEN:
            self._push({"type": "websocket.disconnect", "code": 1012})
            self.conn.send_close(1012)
            self._flush()
        elif self._state == _CONNECTING and self.scope:
            self._send_500()
        self._state = _GONE
        self.transport.close()

    # -- incoming ---------------------------------------------------------------------------------

    def _on_upgrade(self, data: bytes) -> bytes:
        """The upgrade request, read here; returns what came after it."""
        upgrade = read_upgrade(data)
        if isinstance(upgrade, bytes):  # not a valid WebSocket handshake: refused
            self._state = _GONE
            self.transport.write(upgrade)
            self.transport.close()
            return b""
        self._response = upgrade.accept
        self._open(upgrade.path, upgrade.query, upgrade.headers, upgrade.subprotocols)
        self._early = data[data.index(b"\r\n\r\n") + 4 :]  # read once the app accepts
        return b""

    def _on_request(self, request: Request) -> None:
        """The upgrade request, read by `conn` (with extensions to negotiate)."""
        conn = self.conn
        response = conn.accept(request)
        if response.status_code != 101:  # not a valid WebSocket handshake
            conn.send_response(response)  # and the end of the stream: `_flush` closes
            self._state = _GONE
            return
        self._response = response
        headers = request.headers
        path, _, query = request.path.partition("?")
        subprotocols = [
            token.strip()
            for value in headers.get_all("Sec-WebSocket-Protocol")
            for token in value.split(",")
        ]
        raw = [(k.lower().encode("ascii"), v.encode("latin-1")) for k, v in headers.raw_items()]
        # The parser keeps the request for the connection's life; nothing reads it again.
        headers.clear()
        self._open(path, query, raw, subprotocols)

    def _open(
        self, path: str, query: str, headers: list[tuple[bytes, bytes]], subprotocols: list[str]
    ) -> None:
        """The handshake is valid: the app is started and told `websocket.connect`."""
        config = self.config
        self.scope = {
            "type": "websocket",
            "asgi": {"version": config.asgi_version, "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "wss" if is_ssl(self.transport) else "ws",
            "server": get_local_addr(self.transport),
            "client": get_remote_addr(self.transport),
            "root_path": config.root_path,
            "path": config.root_path + unquote(path),
            "raw_path": config.root_path.encode("ascii") + path.encode("ascii"),
            "query_string": query.encode("ascii"),
            "headers": headers,
            "subprotocols": subprotocols,
        }
        if self.app_state:
            self.scope["state"] = self.app_state.copy()
        # Nothing more is read until the app accepts: a frame sent before the 101 would be
        # dropped (the connection is not open), and a ping answered before the 101.
        self.transport.pause_reading()
        self._push({"type": "websocket.connect"})
        task = self.loop.create_task(self._run_app())
        tasks = self.server_state.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def _on_frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY or opcode is Opcode.CONT:
            if opcode is not Opcode.CONT:
                self._fragments = [bytes(frame.data)]
                self._text = opcode is Opcode.TEXT
            elif self._fragments is not None:
                self._fragments.append(bytes(frame.data))
            if frame.fin and self._fragments is not None:
                parts, self._fragments = self._fragments, None
                self._message(parts)
        elif opcode is Opcode.PONG:
            if self._ping_payload is not None and bytes(frame.data) == self._ping_payload:
                self._ping_payload = None
                self._schedule_ping()
        elif opcode is Opcode.CLOSE:
            self._on_close()
        # PING: `conn` has queued the pong; `_flush` writes it.

    def _message(self, parts: list[bytes]) -> None:
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if self._state != _OPEN:
            return  # past our close: read on only for the peer's answer
        if self._text:
            event: Event
            try:
                event = {"type": "websocket.receive", "text": data.decode()}
            except UnicodeDecodeError:
                self.conn.fail(1007, "invalid UTF-8")
                self._failed()
                return
        else:
            event = {"type": "websocket.receive", "bytes": data}
        self._push(event)
        if not self._read_paused:
            # One message at a time: the next is read when the app asks for this one.
            self._read_paused = True
            self.transport.pause_reading()

    def _on_close(self) -> None:
        """The peer's close frame: an answer to ours, or theirs (`conn` has queued our answer).
        Either way `conn` has ended the stream, and `_flush` closes the connection."""
        self._ended(self.conn.close_rcvd, 1005)

    def _failed(self) -> None:
        """The connection failed (a protocol error, an oversized or invalid message, no pong):
        `conn` has queued a close frame with the code, and the end of the stream."""
        self._ended(self.conn.close_sent, 1006)

    def _ended(self, close: Close | None, code: int) -> None:
        """The app, if it was still open, is told the code and reason of `close`."""
        if self._state == _OPEN:
            if close is not None:
                code, reason = close.code, close.reason
            else:
                reason = ""
            self._push({"type": "websocket.disconnect", "code": code, "reason": reason})
        self._state = _GONE
        self._cancel_timer()

    # -- the ASGI app ----------------------------------------------------------------------------

    async def _run_app(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException as exc:
            log.error("websocket app failed: %s at %s", type(exc).__name__, where(exc))
            if self._state == _CONNECTING:
                self._send_500()
                self._state = _GONE
            if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
        if self._state == _CONNECTING:
            log.error("websocket app returned without accepting or closing")
            self._send_500()
            self._state = _GONE
        if self._state != _CLOSING:  # not waiting for the peer's answer to our close
            self.transport.close()

    async def receive(self) -> Event:
        """The next event for the app: waits while there is none."""
        while not self._inbox:
            if self._state == _GONE:  # told of the disconnect already, and asking again
                return {"type": "websocket.disconnect", "code": 1006}
            waiter = self._waiter = self.loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        event = self._inbox.pop(0)
        if self._read_paused and not self._inbox and self._state != _GONE:
            self._read_paused = False
            self.transport.resume_reading()
        return event

    async def send(self, message: Event) -> None:
        """An ASGI `websocket.*` message from the app."""
        while self._paused and self._state != _GONE:
            drained = self._drained = self._drained or self.loop.create_future()
            await drained
        kind = message["type"]
        state = self._state
        if state == _GONE:
            raise ClientDisconnected()
        if state == _CONNECTING:
            if kind == "websocket.accept":
                self._accept(message)
            elif kind == "websocket.close":  # refused before accepting
                log.info('%s - "WebSocket %s" 403', ADDRESS, self.scope.get("path"))
                self._push({"type": "websocket.disconnect", "code": 1006})
                self._refuse(403, "")
            else:
                raise RuntimeError(f"expected websocket.accept or websocket.close, not {kind}")
            return
        if state == _CLOSING:
            raise RuntimeError(f"{kind} after websocket.close")
        if kind == "websocket.send":
            data = message.get("bytes")
            if data is not None:
                self.conn.send_binary(data)
            else:
                self.conn.send_text(str(message.get("text") or "").encode())
            self._flush()
        elif kind == "websocket.close":
            code = int(message.get("code") or 1000)
            reason = str(message.get("reason") or "")
            self._push({"type": "websocket.disconnect", "code": code, "reason": reason})
            self.conn.send_close(code, reason)
            self._flush()
            self._state = _CLOSING
            if self._read_paused:  # read on, for the peer's answer
                self._read_paused = False
                self.transport.resume_reading()
            self._cancel_timer()
            self._timer = self.loop.call_later(CLOSE_TIMEOUT_S, self.transport.close)
        else:
            raise RuntimeError(f"expected websocket.send or websocket.close, not {kind}")

    def _accept(self, message: Event) -> None:
        response = self._response
        assert response is not None
        self._response = None
        if self.transport.is_closing():
            return
        log.info('%s - "WebSocket %s" [accepted]', ADDRESS, self.scope.get("path"))
        if isinstance(response, bytes):  # the handshake read here: `response` is the key
            headers = [*self.server_state.default_headers, *message.get("headers", [])]
            subprotocol = message.get("subprotocol")
            if subprotocol:
                headers.append((b"Sec-WebSocket-Protocol", subprotocol.encode("latin-1")))
            self.transport.write(switching(response, headers))
            self._opened()
            return
        del response.headers["Date"]
        for name, value in [*self.server_state.default_headers, *message.get("headers", [])]:
            response.headers[name.decode("latin-1")] = value.decode("latin-1")
        subprotocol = message.get("subprotocol")
        if subprotocol:
            response.headers["Sec-WebSocket-Protocol"] = subprotocol
        self.conn.send_response(response)
        self._flush()
        self._opened()

    def _opened(self) -> None:
        """The 101 is written: frames are read from now on, those that came early first."""
        self._state = _OPEN
        self._schedule_ping()
        self.transport.resume_reading()
        early, self._early = self._early, b""
        if early:
            self.data_received(early)

    # -- keepalive -------------------------------------------------------------------------------

    def _schedule_ping(self) -> None:
        interval = self.config.ws_ping_interval
        self._cancel_timer()
        if interval and self._state == _OPEN:
            self._timer = self.loop.call_later(interval, self._ping)

    def _ping(self) -> None:
        self._timer = None
        if self._state != _OPEN or self.transport.is_closing():
            return
        payload = self._ping_payload = struct.pack("!I", random.getrandbits(32))
        self.conn.send_ping(payload)
        self._flush()
        timeout = self.config.ws_ping_timeout
        if timeout:
            self._timer = self.loop.call_later(timeout, self._ping_timed_out)
        else:
            self._ping_payload = None
            self._schedule_ping()

    def _ping_timed_out(self) -> None:
        self._timer = None
        if self._state != _OPEN:
            return
        self.conn.fail(1011, "keepalive ping timeout")
        self._failed()
        self._flush()

    # -- helpers ---------------------------------------------------------------------------------

    def _push(self, event: Event) -> None:
        self._inbox.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_writer(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def _flush(self) -> None:
        """Write what `conn` has queued; an empty chunk last is its end of the stream."""
        output = self.conn.data_to_send()
        if not output:
            return
        transport = self.transport
        if not transport.is_closing():
            transport.write(b"".join(output))
        if not output[-1]:
            transport.close()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _send_500(self) -> None:
        self._refuse(500, "Internal Server Error")

    def _refuse(self, status: int, text: str) -> None:
        """Answer the handshake with `status` and end the connection."""
        self._state = _GONE
        if self._lean:
            if not self.transport.is_closing():
                self.transport.write(refusal(status, text))
            self.transport.close()
            return
        self.conn.send_response(self.conn.reject(status, text))
        self._flush()
