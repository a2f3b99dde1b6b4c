"""The facilitator queue as a joining facilitator is shown it: a bounded page of open items.

Crisis alerts come first, newest first, so no number of reports or flags can push one out of
the page. The rest fill what is left with the newest, and are listed oldest first, the order in
which the queue grows (each later `queue_item` comes after them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["QUEUE_PAGE_ITEMS", "QueuePage", "queue_page", "service_queue"]

# A facilitator takes in a screenful at join; 50 items of ~700 bytes is a ~35 KB frame, where
# 400 unbounded reports made one of 262 KB.
QUEUE_PAGE_ITEMS = 50


@dataclass(frozen=True, slots=True)
class QueuePage:
    """`items` to show; `total` open items in the queue (more exist when it is larger)."""

    items: list[dict[str, Any]]
    total: int

    @property
    def more(self) -> bool:
        return self.total > len(self.items)


def _order(item: dict[str, Any]) -> int:
    # A room's items get increasing ids (q1, q2, ...) from one counter, whichever process
    # added them: a truer order than their `at`, which comes from each process's clock.
    raw = str(item.get("id", ""))[1:]
    return int(raw) if raw.isdigit() else 0


def queue_page(items: list[dict[str, Any]], limit: int = QUEUE_PAGE_ITEMS) -> QueuePage:
    """The open items of `items` to show a joining facilitator, at most `limit`."""
    open_items = [i for i in items if i.get("status") == "open"]
    newest_first = sorted(open_items, key=_order, reverse=True)
    alerts = [i for i in newest_first if i.get("kind") == "alert"][:limit]
    rest = [i for i in newest_first if i.get("kind") != "alert"][: limit - len(alerts)]
    return QueuePage(alerts + rest[::-1], len(open_items))


def service_queue(rooms: dict[str, list[dict[str, Any]]], limit: int) -> QueuePage:
    """The open items of every room (each marked with its `room`) for the people who run the
    service: crisis alerts first, then the rest, oldest first within each (the longest
    waiting first), at most `limit`; `total` counts them all."""
    open_items = [
        {**item, "room": room}
        for room, items in sorted(rooms.items())
        for item in items
        if item.get("status") == "open"
    ]
    ordered = sorted(
        open_items,
        key=lambda i: (i.get("kind") != "alert", str(i.get("at", "")), i["room"], _order(i)),
    )
    return QueuePage(ordered[:limit], len(open_items))
