"""The private `support` frame: where to get help now, for one socket.

Built for the socket that gets it, on the process that holds it: the order of the resources
follows the country its `hello` named (server/session.py keeps it in memory only), so the
country never travels through the broker, and nothing that does travel depends on it.
"""

from __future__ import annotations

from moderation.crisis import CrisisConfig
from rooms.ids import RoomId
from server import wire
from server.session import Session

__all__ = ["support_frame"]


def support_frame(crisis: CrisisConfig, room: RoomId, session: Session) -> str:
    """The `support` frame for `session`: its country's lines first, the fallback last."""
    resources = [r.as_wire() for r in crisis.resources_for(session.country)]
    return wire.encode({"type": "support", "room": room, "resources": resources})
