"""Escalation: crisis alerts, and reports in rooms nobody is watching, POSTed to a webhook.

Most rooms, most hours, have no facilitator present; an alert there must still reach a person
(an on-call coordinator, a partner crisis service). The process that raised an alert or took a
report is the one that posts it, so each is posted once, whatever the number of processes.

Never on the message path: `notify` only appends to a bounded queue that one task drains. A
failed POST is retried with backoff (doubling up to a minute) for up to ten minutes, in order;
meanwhile later events wait behind it, and past `QUEUE_MAX` waiting events the oldest report
is dropped before any crisis alert is (counted in the logs, never silently).

The body carries `kind`, `room`, `item`, `at` and `facilitator_present`: never message text,
handles or anyone's id. `X-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import ssl
import time
from collections import deque
from urllib.parse import urlsplit

__all__ = ["QUEUE_MAX", "RETRY_FOR_S", "Webhook"]

log = logging.getLogger("peer_support.webhook")

QUEUE_MAX = 1000
RETRY_FOR_S = 600.0
_MAX_DELAY_S = 60.0
_TIMEOUT_S = 10.0


class Webhook:
    """Posts events to `url`, signed with `secret`, from one background task."""

    def __init__(self, url: str, secret: str, first_retry_s: float = 1.0) -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._host_header = parts.netloc.rpartition("@")[2]
        self._secret = secret.encode()
        self._first_retry_s = first_retry_s
        self._waiting: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self.sent = 0  # for operators and tests
        self.dropped = 0

    def notify(self, kind: str, room: str, item: str, at: str, facilitator_present: bool) -> None:
        """Queue one event; returns at once."""
        body = json.dumps(
            {"kind": kind, "room": room, "item": item, "at": at,
             "facilitator_present": facilitator_present},
            separators=(",", ":"),
        ).encode()  # fmt: skip
        if len(self._waiting) >= QUEUE_MAX:
            self._drop_one()
        self._waiting.append(body)
        self._wake.set()

    def _drop_one(self) -> None:
        # The oldest report goes first; crisis alerts only when nothing else is left.
        victim = next((b for b in self._waiting if b'"kind":"report"' in b), self._waiting[0])
        self._waiting.remove(victim)
        self.dropped += 1
        log.warning("webhook queue full: an event was dropped (%d so far)", self.dropped)

    async def run(self) -> None:
        """Deliver events in order until cancelled."""
        while True:
            while not self._waiting:
                self._wake.clear()
                await self._wake.wait()
            body = self._waiting[0]
            await self._deliver(body)
            with contextlib.suppress(ValueError):
                self._waiting.remove(body)

    async def _deliver(self, body: bytes) -> None:
        give_up_at = time.monotonic() + RETRY_FOR_S
        delay = self._first_retry_s
        while True:
            try:
                status = await asyncio.wait_for(self._post(body), _TIMEOUT_S)
                if 200 <= status < 300:
                    self.sent += 1
                    return
                log.warning("webhook answered %d; will retry", status)
            except (OSError, TimeoutError, ValueError) as exc:
                log.warning("webhook unreachable (%s); will retry", type(exc).__name__)
            if time.monotonic() + delay > give_up_at:
                log.error("webhook: an event was given up after %d s of retries", RETRY_FOR_S)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_DELAY_S)

    async def _post(self, body: bytes) -> int:
        """One HTTP/1.1 POST; the response's status code."""
        context = ssl.create_default_context() if self._https else None
        reader, writer = await asyncio.open_connection(self._host, self._port, ssl=context)
        try:
            signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
            head = (
                f"POST {self._path} HTTP/1.1\r\nHost: {self._host_header}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nX-Signature: sha256={signature}\r\n"
                "User-Agent: peer-support-chat\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
            status_line = await reader.readline()
            parts = status_line.split()
            if len(parts) < 2 or not parts[1].isdigit():
                raise ValueError("not an HTTP answer")
            return int(parts[1])
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
