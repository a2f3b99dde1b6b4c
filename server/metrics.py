"""Prometheus metrics of one process, in a registry of its own.

Labels carry only fixed vocabularies (frame kinds, error codes, outcomes): never a room's text,
a handle, a token or an address. Counts that already live elsewhere (sockets, rooms, broker
reconnects) are read at scrape time instead of being kept twice.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.envelope import MESSAGE_START

# `time.strptime` imports `_strptime` on its first call, which opens a file: in a process that
# has used up its open files on members, that first call failed inside a delivery and took the
# Redis subscription down with it (bench/ hold scenario). So it is first called here, at start.
time.strptime("2000", "%Y")

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Delivery latency is sampled (1 message in N) so the hot path parses no timestamps.
LATENCY_SAMPLE_EVERY = 16


class _Live(Collector):
    """Values read from the running process at scrape time."""

    def __init__(self, read: Callable[[], dict[str, float]]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        values = self._read()
        yield GaugeMetricFamily(
            "peer_support_connections", "Open WebSocket connections", value=values["connections"]
        )
        yield GaugeMetricFamily(
            "peer_support_rooms_served", "Rooms with members on this process", value=values["rooms"]
        )
        yield CounterMetricFamily(
            "peer_support_broker_reconnects",
            "Times the broker subscription was re-established",
            value=values["reconnects"],
        )
        yield CounterMetricFamily(
            "peer_support_messages_in",
            "Messages accepted from members",
            value=values["messages_in"],
        )
        yield CounterMetricFamily(
            "peer_support_deliveries",
            "Frames handed to local sockets by fan-out",
            value=values["deliveries"],
        )


class Metrics:
    """Every metric the server exports; `read_live` supplies the scrape-time values."""

    def __init__(self, read_live: Callable[[], dict[str, float]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # Counted on every message and every fan-out: plain integers, read at scrape time
        # (a prometheus_client Counter takes a lock on each increment).
        self.messages_in = 0
        self.deliveries = 0
        self.delivery_latency = Histogram(
            "peer_support_delivery_latency_seconds",
            "Time from a message's acceptance to its local fan-out (sampled)",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.loop_lag = Gauge(
            "peer_support_event_loop_lag_seconds", "Latest measured event-loop lag", registry=r
        )
        self.outbox_drops = Counter(
            "peer_support_outbox_drops", "Sockets closed because they did not read", registry=r
        )
        self.errors = Counter(
            "peer_support_errors", "Error frames sent, by code", ["code"], registry=r
        )
        self.moderation = Counter(
            "peer_support_moderation_actions", "Moderation actions taken, by kind", ["action"],
            registry=r,
        )  # fmt: skip
        self.recoveries = Counter(
            "peer_support_recoveries", "Joins with `since`, by outcome", ["outcome"], registry=r
        )
        self.held = Counter(
            "peer_support_held_messages", "Messages kept from the room", ["reason"], registry=r
        )
        self.crisis_alerts = Counter(
            "peer_support_crisis_alerts", "Messages that raised a crisis alert", registry=r
        )
        r.register(
            _Live(
                lambda: {
                    **read_live(),
                    "messages_in": float(self.messages_in),
                    "deliveries": float(self.deliveries),
                }
            )
        )
        self._sample = 0

    def delivered(self, frame: str, sockets: int) -> None:
        """Count a fan-out; every Nth message frame also measures its latency from `ts`."""
        self.deliveries += sockets
        self._sample += 1
        if self._sample < LATENCY_SAMPLE_EVERY or not frame.startswith(MESSAGE_START):
            return
        self._sample = 0
        at = frame.rfind('"ts":"')
        if at < 0:
            return
        try:
            stamp = time.strptime(frame[at + 6 : at + 25], "%Y-%m-%dT%H:%M:%S")
            millis = int(frame[at + 26 : at + 29])
        except ValueError:
            return
        sent = calendar.timegm(stamp) + millis / 1000
        self.delivery_latency.observe(max(0.0, time.time() - sent))

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
