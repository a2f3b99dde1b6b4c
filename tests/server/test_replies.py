"""`iso` formats a second once and reuses it: it must still equal datetime's own rendering."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from server.replies import iso


def _reference(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


@pytest.mark.parametrize(
    "ts", [0.0, 0.0005, 1.9999996, 1.0005, 1767225599.9999995, 1767225600.0, -0.25, 1.8e9]
)
def test_iso_at_the_edges_of_a_second(ts: float) -> None:
    assert iso(ts) == _reference(ts)


def test_iso_agrees_with_datetime_on_many_timestamps() -> None:
    rng = random.Random(8)
    stamps = [rng.uniform(1.7e9, 1.9e9) for _ in range(20_000)]
    stamps += [1.8e9 + i / 1000 + rng.uniform(-1e-6, 1e-6) for i in range(5_000)]  # in order
    assert [iso(ts) for ts in stamps] == [_reference(ts) for ts in stamps]
