"""The facilitator queue's I/O: storing an item and showing it to the room's facilitators, and
the bounded `queue` frame a joining facilitator gets."""

from __future__ import annotations

from typing import Any

from moderation.actions.base import AddItem
from moderation.queue import queue_page
from moderation.roles import Role
from moderation.sanctions import iso_seconds
from rooms.errors import ChatError, ErrorCode
from rooms.ids import RoomId
from server import envelope as envelopes
from server import wire
from server.services import Services

__all__ = ["add_queue_item", "queue_frame", "to_facilitators"]


def to_facilitators(frame: dict[str, Any], participant: str | None = None) -> str:
    """An envelope every process delivers to the room's facilitators only (and to
    `participant`'s sockets, if given)."""
    return envelopes.to_role(frame, Role.FACILITATOR, participant)


async def add_queue_item(svc: Services, room: RoomId, item: AddItem, by: str) -> dict[str, Any]:
    """Store an item in the room's facilitator queue and show it to the room's facilitators.

    With `item.open_cap`: an open item of the same kind, `by` and target is returned as it is
    stored, with `"merged": True`, and nothing is shown again; `by` already having that many
    open items of the kind is refused with `limit_reached`."""
    body = {
        "kind": item.kind,
        "participant": item.participant,
        "message_id": item.message_id,
        "note": item.note,
        "by": by,
        "at": iso_seconds(int(svc.now() * 1000)),
        "status": "open",
    }
    keep = svc.settings.audit_days * 86400 * 1000
    if item.open_cap is None:
        item_id = await svc.broker.queue_add(room, body, keep)
    else:
        outcome, item_id = await svc.broker.queue_add_once(room, body, keep, item.open_cap)
        if outcome == "merged":
            return {**body, "id": item_id, "merged": True}
        if outcome == "full":
            raise ChatError(ErrorCode.LIMIT_REACHED, "too many open reports in this room")
    stored = {**body, "id": item_id}
    await svc.broker.publish(
        room, to_facilitators({"type": "queue_item", "room": room, "item": stored})
    )
    return stored


async def queue_frame(svc: Services, room: RoomId) -> str:
    """The `queue` frame a joining facilitator gets: a bounded page of the open items, crisis
    alerts first (moderation.queue), with `total` open items and `more` when some are left
    out (resolving items brings them into the page at the next join)."""
    page = queue_page(await svc.broker.queue_items(room))
    return wire.encode(
        {"type": "queue", "room": room, "items": page.items, "total": page.total,
         "more": page.more}
    )  # fmt: skip
