"""Logging without personal data: no message text, tokens or addresses ever reach a log line.

Exceptions are logged by type and code location only, since their text may quote a frame.
"""

from __future__ import annotations

import json
import logging
import os
import re
import traceback

__all__ = ["JsonFormatter", "RedactAddresses", "configure", "where"]

# IPv4 (with an optional port) and anything shaped like an IPv6 address.
_ADDRESS = re.compile(
    r"\[[0-9a-fA-F.]*:[0-9a-fA-F:.]*\](?::\d+)?"  # [v6]:port
    r"|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"  # v4[:port]
    r"|\b(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}\b"  # v6, four groups or more
    r"|[0-9a-fA-F]*::[0-9a-fA-F:]*[0-9a-fA-F]"  # v6 with ::
)


# The query of a logged request path: uvicorn logs each WebSocket handshake with its path and
# query, and a client may put anything there (a `?token=` the server never reads, for one).
_QUERY = re.compile(r'(?<=[^\s"?])\?[^\s"]+')


_FRAME_DUMP = re.compile(r"^[<>] (?:TEXT|BINARY|CONT|CLOSE|PING|PONG)\b")


class RedactAddresses(logging.Filter):
    """Replaces client addresses in a record (uvicorn names the peer of each socket), drops
    the query of any logged path, and drops the frame dumps of DEBUG logging."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _FRAME_DUMP.match(message):
            # The websockets library logs each frame's start at DEBUG ("> TEXT '{...}'"):
            # message text, reasons and tokens. Never written anywhere.
            return False
        redacted = _QUERY.sub("?[query]", _ADDRESS.sub("[addr]", message))
        if redacted != message:
            record.msg, record.args = redacted, ()
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
