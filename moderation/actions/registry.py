"""Every action by frame name, checked when imported: a member's frames and the moderation
actions alike (`MODERATION` names the latter, for the metric that counts them)."""

from __future__ import annotations

from moderation.actions import (
    delete,
    flag,
    hands,
    membership,
    mood,
    mute,
    pause,
    presence,
    private,
    remove,
    report,
    room_controls,
    send,
    unmute,
)
from moderation.actions.base import ActionSpec

__all__ = ["ACTIONS", "MODERATION"]


def _build(*specs: ActionSpec) -> dict[str, ActionSpec]:
    table: dict[str, ActionSpec] = {}
    for spec in specs:
        if spec.name in table:
            raise RuntimeError(f"action {spec.name!r} is registered twice")
        if set(spec.required) & set(spec.optional):
            raise RuntimeError(f"action {spec.name!r} declares a field twice")
        if not set(spec.one_of) <= set(spec.optional):
            raise RuntimeError(f"action {spec.name!r}: one_of fields must be optional fields")
        table[spec.name] = spec
    return table


ACTIONS: dict[str, ActionSpec] = _build(
    send.ACTION,
    membership.JOIN,
    membership.AGREE,
    membership.LEAVE,
    presence.LISTEN,
    presence.TALK,
    mute.ACTION,
    unmute.ACTION,
    remove.ACTION,
    flag.ACTION,
    report.ACTION,
    delete.ACTION,
    room_controls.SLOW,
    room_controls.LOCK,
    room_controls.UNLOCK,
    room_controls.ANNOUNCE,
    room_controls.END_SESSION,
    room_controls.RESOLVE,
    room_controls.AUDIT,
    pause.PAUSE,
    pause.RESUME,
    hands.RAISE_HAND,
    hands.LOWER_HAND,
    hands.CALL_ON,
    private.PRIVATE_OPEN,
    private.PRIVATE_CLOSE,
    mood.MOOD,
    mood.MOOD_SUMMARY,
)

# Facilitation and safety: the frames that run a session, counted by name in the metrics.
MODERATION = frozenset(ACTIONS) - {"send", "join", "agree", "leave", "listen", "talk", "mood"}
