"""Identifiers and the per-room identity of a member.

A member is known to the server by a random `MemberId` carried in their signed token. Inside a
room they are known only by a `ParticipantId` and a friendly handle, both derived from the member
id and the room id with a keyed hash: stable for that member in that room on every process, and
not linkable across rooms without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import NewType

__all__ = [
    "ADJECTIVES",
    "ANIMALS",
    "MemberId",
    "ParticipantId",
    "RoomId",
    "facilitator_participant_id",
    "handle_candidate",
    "is_valid_room_id",
    "participant_id",
]

RoomId = NewType("RoomId", str)
MemberId = NewType("MemberId", str)
ParticipantId = NewType("ParticipantId", str)

_ROOM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

# Calm, neutral words: a handle is shown next to someone's hardest sentences.
ADJECTIVES: tuple[str, ...] = (
    "Quiet", "Gentle", "Steady", "Bright", "Calm", "Kind", "Patient", "Warm",
    "Brave", "Clear", "Hopeful", "Soft", "Still", "Honest", "Open", "Golden",
    "Silver", "Amber", "Misty", "Sunny", "Mellow", "Humble", "Curious", "Friendly",
    "Peaceful", "Tender", "Careful", "Thoughtful", "Earnest", "Restful", "Graceful", "Cheerful",
    "Wise", "Modest", "Serene", "Sincere", "Placid", "Resolute", "Loyal", "Light",
    "Dawn", "Evening", "Autumn", "Spring", "Winter", "Summer", "Ocean", "River",
    "Forest", "Meadow", "Willow", "Cedar", "Maple", "Coral", "Jade", "Azure",
    "Velvet", "Woolly", "Feathered", "Wandering", "Rooted", "Lucky", "Nimble", "Cosy",
)  # fmt: skip
ANIMALS: tuple[str, ...] = (
    "Heron", "Otter", "Sparrow", "Badger", "Fox", "Owl", "Wren", "Deer",
    "Robin", "Finch", "Hare", "Seal", "Swan", "Dove", "Lark", "Crane",
    "Beaver", "Panda", "Koala", "Dolphin", "Turtle", "Falcon", "Marten", "Lynx",
    "Bison", "Moose", "Puffin", "Osprey", "Kestrel", "Plover", "Starling", "Thrush",
    "Hedgehog", "Squirrel", "Rabbit", "Mole", "Vole", "Salmon", "Trout", "Whale",
    "Penguin", "Gull", "Pelican", "Ibis", "Egret", "Kingfisher", "Magpie", "Jay",
    "Raven", "Swift", "Martin", "Curlew", "Lapwing", "Pony", "Lamb", "Goat",
    "Alpaca", "Llama", "Yak", "Gazelle", "Ibex", "Oriole", "Tanager", "Warbler",
)  # fmt: skip


def is_valid_room_id(value: str) -> bool:
    """True for the room id shape the catalogue accepts: lowercase words joined by hyphens."""
    return bool(_ROOM_ID.match(value))


def _digest(key: bytes, *parts: str) -> bytes:
    # A separator that cannot occur in ids keeps ("ab", "c") and ("a", "bc") apart.
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).digest()


def participant_id(key: bytes, member: MemberId, room: RoomId) -> ParticipantId:
    """The member's id in `room`: 16 hex characters, the same on every process holding `key`."""
    return ParticipantId(_digest(key, "participant", member, room)[:8].hex())


def facilitator_participant_id(key: bytes, facilitator: str, room: RoomId) -> ParticipantId:
    """A facilitator's id in `room`, from the facilitator token's id (not from whatever member
    token came with it): the same on every device, and apart from every member's."""
    return ParticipantId(_digest(key, "facilitator", facilitator, room)[:8].hex())


def handle_candidate(key: bytes, member: MemberId, room: RoomId, attempt: int) -> str:
    """The member's `attempt`-th choice of handle in `room` ("Quiet Heron").

    The caller claims candidates in order until one is free in the room, so handles are unique
    within a room yet stable: a member asks for the same sequence every time. Past the word
    pairs' collisions a short number keeps the handle unique.
    """
    digest = _digest(key, "handle", member, room, str(attempt))
    name = f"{ADJECTIVES[digest[0] % len(ADJECTIVES)]} {ANIMALS[digest[1] % len(ANIMALS)]}"
    if attempt < 8:
        return name
    return f"{name} {int.from_bytes(digest[2:4], 'big') % 1000}"
