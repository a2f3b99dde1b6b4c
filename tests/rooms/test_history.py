from rooms.history import HistoryPage, replay


def page(ids: list[int], floor: int = 0, last: int | None = None) -> HistoryPage:
    return HistoryPage(
        "E",
        [(i, f"f{i}") for i in ids],
        floor,
        last if last is not None else (max(ids) if ids else 0),
    )


def test_no_since_gets_everything() -> None:
    r = replay(page([3, 4, 5], floor=2), None, None)
    assert r.frames == ["f3", "f4", "f5"] and r.recovered and r.last_id == 5


def test_since_within_window_gets_the_rest() -> None:
    r = replay(page([3, 4, 5], floor=2), 3, "E")
    assert r.frames == ["f4", "f5"] and r.recovered


def test_deleted_messages_are_not_a_gap() -> None:
    r = replay(page([3, 5], floor=2), 3, "E")
    assert r.frames == ["f5"] and r.recovered


def test_gap_below_floor_is_told() -> None:
    r = replay(page([3, 4, 5], floor=2), 1, "E")
    assert r.frames == ["f3", "f4", "f5"] and not r.recovered


def test_other_epoch_is_told() -> None:
    r = replay(page([1, 2]), 1, "OLD")
    assert r.frames == ["f1", "f2"] and not r.recovered


def test_since_beyond_last_is_told() -> None:
    r = replay(page([1, 2]), 7, None)
    assert not r.recovered


def test_up_to_date_client_gets_nothing() -> None:
    r = replay(page([1, 2]), 2, "E")
    assert r.frames == [] and r.recovered and r.last_id == 2


def test_all_trimmed_by_age() -> None:
    r = replay(page([], floor=9, last=9), 9, "E")
    assert r.frames == [] and r.recovered
    r = replay(page([], floor=9, last=9), 4, "E")
    assert not r.recovered
