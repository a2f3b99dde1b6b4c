"""What one server process holds: settings, catalogue, tokens, broker and hub."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from moderation.crisis import CrisisConfig
from rooms.catalog import Catalog
from server.brokers import Broker, HistoryLimits
from server.hub import Hub
from server.metrics import Metrics
from server.settings import Settings
from server.standing import StandingWatch
from server.tokens import TokenService
from server.webhook import Webhook

__all__ = ["Services"]


@dataclass
class Services:
    """Shared by every connection of the process."""

    settings: Settings
    catalog: Catalog
    tokens: TokenService
    broker: Broker
    hub: Hub
    crisis: CrisisConfig
    metrics: Metrics
    process: str  # a random name for this process in presence entries
    standing: StandingWatch = field(default_factory=StandingWatch)
    webhook: Webhook | None = None  # escalation, when ALERT_WEBHOOK_URL is set
    connections: int = 0
    rooms_version: int = -1  # of the broker's room definitions served (server/live_rooms.py)
    # One refresh at a time: two at once could serve an older read after a newer one.
    rooms_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def limits(self) -> HistoryLimits:
        return HistoryLimits(
            self.settings.history_max_messages, self.settings.history_max_age_s * 1000
        )

    @staticmethod
    def now() -> float:
        """Wall-clock seconds; the one clock the rules are given."""
        return time.time()
