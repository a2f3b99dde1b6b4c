"""The envelope module (the Redis scripts are held to it in tests/test_broker_contract.py)."""

from __future__ import annotations

import json
import re

from moderation.roles import Role
from server import envelope
from server.brokers import redis_scripts as lua

ROOM = "anxiety"


def test_a_message_frame_is_head_id_tail() -> None:
    frame = envelope.message_head(ROOM) + "17" + envelope.message_tail({"text": "hi <3"})
    assert json.loads(frame) == {"type": "message", "room": ROOM, "id": 17, "text": "hi <3"}
    assert frame.startswith(envelope.MESSAGE_START)
    assert envelope.message_id(frame) == 17
    assert envelope.message_id(envelope.ROOM + frame) == 17
    assert envelope.message_id('{"type":"presence","room":"anxiety","id":3}') is None
    assert envelope.message_id(envelope.to_room({"type": "message", "room": "x"})) is None


def test_control_events_read_back() -> None:
    assert json.loads(envelope.staff(2)[1:]) == {"k": "staff", "n": 2}
    assert json.loads(envelope.reset("ab12")[1:]) == {"k": "reset", "epoch": "ab12"}
    assert json.loads(envelope.field_set("slow", "10")[1:]) == {"k": "set", "f": "slow", "v": 10}
    assert json.loads(envelope.field_set("lock", None, 7)[1:]) == {
        "k": "set",
        "f": "lock",
        "v": None,
        "n": 7,
    }
    to = json.loads(envelope.to_role({"type": "alert"}, Role.FACILITATOR, "p1")[1:])
    assert to == {
        "k": "to",
        "role": "facilitator",
        "frame": '{"type":"alert"}',
        "participant": "p1",
    }
    assert json.loads(envelope.to_participant('{"type":"support"}', "p2")[1:]) == {
        "k": "to",
        "participant": "p2",
        "frame": '{"type":"support"}',
    }
    assert all(e[0] == envelope.CONTROL for e in (envelope.staff(1), envelope.reset("e")))


def test_the_scripts_build_envelopes_only_where_this_module_says() -> None:
    """Every envelope literal in the Lua sources is one of those the broker contract suite
    checks against a real Redis (test_envelopes_are_the_envelope_modules): a new one must be
    added there too."""
    literals = set()
    for name in lua.__all__:
        source: str = getattr(lua, name)
        literals.update(re.findall(r"'[CR](?:\{[^']*)?'", source))
    assert literals == {'\'C{"k":"reset","epoch":"\'', "'C'", "'R'"}
