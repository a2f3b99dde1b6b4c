"""Logging without personal data: no message text, tokens or addresses ever reach a log line.

Exceptions are logged by type and code location only, since their text may quote a frame.
"""

from __future__ import annotations

import json
import logging
import os
import re
import traceback
from collections.abc import Mapping

__all__ = ["ADDRESS", "JsonFormatter", "RedactAddresses", "configure", "where"]

# The second net, over the finished text: bracketed IPv6 with a port, IPv6 in full, with `::`
# and with an IPv4 tail (`::ffff:192.0.2.1`, IPv4-mapped), and IPv4, each with an optional port.
_HEX = r"[0-9A-Fa-f]{1,4}"
_V4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_V6_TAIL = rf"(?:(?:{_HEX}:)*(?:{_V4}|{_HEX}))"
_ADDRESS = re.compile(
    r"\[[0-9A-Fa-f.:%\w]*:[0-9A-Fa-f.:%\w]*\](?::\d+)?"  # [v6]:port
    rf"|(?<![\w:.])(?:(?:{_HEX}:)*{_HEX})?::{_V6_TAIL}?(?:%\w+)?(?::\d{{1,5}})?(?![\w:])"  # with ::
    rf"|(?<![\w:.])(?:{_HEX}:){{3,7}}(?:{_V4}|{_HEX})(?:%\w+)?(?::\d{{1,5}})?(?![\w:])"  # full
    rf"|(?<![\w.]){_V4}(?::\d+)?(?!\w)"  # v4[:port]
)


# The query of a logged request path: uvicorn logs each WebSocket handshake with its path and
# query, and a client may put anything there (a `?token=` the server never reads, for one).
_QUERY = re.compile(r'(?<=[^\s"?])\?[^\s"]+')

ADDRESS = "[addr]"


def _scrub(text: str) -> str:
    return _QUERY.sub("?[query]", _ADDRESS.sub(ADDRESS, text))


def _scrub_arg(value: object) -> object:
    """One argument of a log call, with any address in it replaced."""
    if (
        isinstance(value, tuple)
        and len(value) in (2, 4)
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    ):
        return ADDRESS  # a socket address: (host, port[, flow, scope])
    if isinstance(value, str):
        return _scrub(value)
    if isinstance(value, bytes | bytearray):
        return _scrub(bytes(value).decode("latin-1"))
    return value


def _is_dump(record: logging.LogRecord) -> bool:
    """Lines that copy traffic: the `websockets` library writes every handshake line, header
    (Cookie, Authorization included) and frame at DEBUG as "< ..." / "> ...", and uvicorn's
    message logger writes whole ASGI messages (scopes with their headers) as "ASGI [n] ..."."""
    msg = record.msg
    return isinstance(msg, str) and (msg.startswith(("< ", "> ")) or msg.startswith("ASGI ["))


class RedactAddresses(logging.Filter):
    """Removes client addresses, queries and traffic from every record.

    Addresses are replaced in the record's arguments, where the servers put them (uvicorn
    passes the client as the first `%s` of each connection line, as "host:port"; a socket
    address may come as a tuple), before the message is built; the finished text is then
    scrubbed again by pattern. Dumps of headers and frames are dropped whole, and an
    exception is reduced to its type and code location: its text may quote a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _is_dump(record):
            return False
        args = record.args
        if isinstance(args, tuple) and args:
            scrubbed = [_scrub_arg(a) for a in args]
            if record.name.startswith("uvicorn") and str(record.msg).startswith("%s - "):
                scrubbed[0] = ADDRESS  # uvicorn's connection lines lead with the client
            record.args = tuple(scrubbed)
        elif isinstance(args, Mapping):
            record.args = {k: _scrub_arg(v) for k, v in args.items()}
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            message = f"{message} ({type(exc).__name__} at {where(exc)})"
        record.exc_info = record.exc_text = record.stack_info = None
        record.msg, record.args = _scrub(message), ()
        return True


def where(exc: BaseException) -> str:
    """`file:line` of the innermost frame that raised `exc`, without any of its values."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{os.path.basename(last.filename)}:{last.lineno}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (already redacted)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """One line per event on stderr; `fmt` "json" writes JSON objects."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactAddresses())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
