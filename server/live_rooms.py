"""Rooms edited live: the catalogue every process serves follows the broker's room definitions.

The rooms file only seeds: at start each process stores every room of the file whose id the
broker has never seen (an edited room keeps its edit, an archived id stays archived). From then
on the broker's definitions are the catalogue. Each process reads their version twice a second
(the same rhythm as revocations, server/standing.py) and, after a change, the records; so a
room created, edited or archived through the admin API holds on every process within a second.

What a change means for the sockets a process serves in a room is done here too, locally:
- edited: `room_updated` (the new definition) then `room_state`; memberships read the room
  from the catalogue (server/session.py), so new rules are required at the next `send`
  (`rules_not_accepted` until the member agrees to the new `rules_version`);
- archived: `room_closed` `{room}`, and the socket is out of the room.
"""

from __future__ import annotations

import logging
from typing import Any

from rooms.catalog import Catalog, CatalogError, Room, parse_room, room_record
from rooms.ids import RoomId
from server import wire
from server.joining import close_room_for
from server.services import Services

__all__ = ["ROOMS_POLL_S", "refresh", "seed", "stored", "updated_frame"]

log = logging.getLogger("peer_support.rooms")

ROOMS_POLL_S = 0.5  # with the write's own process refreshing at once: within 1 s everywhere


def stored(room: Room, rev: int, order: int) -> dict[str, Any]:
    """The broker's record of `room`: its definition, its revision, its place in the list."""
    return {**room_record(room), "rev": rev, "order": order}


async def seed(svc: Services, seeds: Catalog) -> None:
    """Store the rooms of the file that the broker has never seen, in the file's order."""
    for order, room in enumerate(seeds):
        await svc.broker.room_write("seed", room.id, stored(room, 1, order))


def updated_frame(room: Room) -> str:
    """What members are told when their room's definition changes."""
    return wire.encode(
        {
            "type": "room_updated",
            "room": room.id,
            "name": room.name,
            "category": room.category,
            "description": room.description,
            "rules": list(room.rules),
            "rules_version": room.rules_version,
            "language": room.language,
            "capacity": room.capacity,
            "requires_facilitator": room.requires_facilitator,
            "one_at_a_time": room.one_at_a_time,
        }
    )


async def refresh(svc: Services) -> bool:
    """Serve the broker's definitions if their version moved; True when it did. Raises
    `BrokerUnavailable` (the current catalogue stays)."""
    async with svc.rooms_lock:
        return await _refresh(svc)


async def _refresh(svc: Services) -> bool:
    if await svc.broker.rooms_version() == svc.rooms_version:
        return False
    version, records = await svc.broker.room_records()
    rooms: list[Room] = []
    for record in sorted(records, key=lambda r: (int(r.get("order", 0)), str(r.get("id")))):
        try:
            rooms.append(parse_room(record, "stored room"))
        except CatalogError as exc:  # written by an older or newer version: skipped, said
            log.error("a stored room definition is not valid (field %s): skipped", exc.field)
    before = {room.id: room for room in svc.catalog}
    svc.catalog.replace(rooms)
    svc.rooms_version = version
    for room in rooms:
        if room.id in before and before[room.id] != room:
            _announce(svc, room)
    for room_id in before.keys() - {room.id for room in rooms}:
        await _close(svc, room_id)
    return True


def _announce(svc: Services, room: Room) -> None:
    local = svc.hub.rooms.get(room.id)
    if local is not None:
        local.broadcast(updated_frame(room))
        local.broadcast(svc.hub.state_frame(local))


async def _close(svc: Services, room_id: RoomId) -> None:
    local = svc.hub.rooms.get(room_id)
    if local is None:
        return
    # Sockets still joining are told by their join, which looks again once it is done.
    for session in list(local.sessions):
        membership = session.rooms.get(room_id)
        if membership is not None:
            await close_room_for(svc, session, membership)
