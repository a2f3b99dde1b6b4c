"""What a joining client is owed from a room's bounded history.

History is for continuity, not archive. The backend keeps at most N messages no older than a
maximum age and remembers `floor`, the highest id that fell out of that window, so a gap can be
told apart from messages a facilitator deleted. A client that cannot be caught up is told so
(`recovered: false`), never left with a silent gap.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HistoryPage", "Replay", "replay"]


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """A room's retained history: `entries` are (id, encoded message frame), oldest first.

    `floor` is the highest id trimmed away by the count or age bound (0 when none was);
    `last_id` the highest id ever given in this `epoch` (0 when none was).
    """

    epoch: str
    entries: list[tuple[int, str]]
    floor: int
    last_id: int


@dataclass(frozen=True, slots=True)
class Replay:
    """The frames to put in `joined.history` and whether the client's `since` was honoured."""

    frames: list[str]
    recovered: bool
    last_id: int


def replay(page: HistoryPage, since: int | None, epoch: str | None) -> Replay:
    """Decide what a `join` replays.

    Without `since` the client gets the whole retained history. With `since` it gets what came
    after it, unless the epoch changed, the gap reaches below `floor`, or `since` lies beyond
    anything this epoch has given: then it gets the whole retained history and
    `recovered=False`, so it can tell its reader that something was lost.
    """
    last = page.entries[-1][0] if page.entries else 0
    everything = Replay([f for _, f in page.entries], since is None, last)
    if since is None:
        return everything
    if (epoch is not None and epoch != page.epoch) or since < page.floor or since > page.last_id:
        return Replay(everything.frames, False, last)
    return Replay([f for i, f in page.entries if i > since], True, max(last, since))
