from typing import Any

from moderation.queue import QUEUE_PAGE_ITEMS, queue_page


def _item(n: int, kind: str = "report", status: str = "open") -> dict[str, Any]:
    return {"id": f"q{n}", "kind": kind, "status": status, "at": "2025-01-01T00:00:00.000Z"}


def test_a_small_queue_is_shown_whole_in_queue_order() -> None:
    items = [_item(1), _item(2, "flag"), _item(3, status="resolved")]
    page = queue_page(items)
    assert [i["id"] for i in page.items] == ["q1", "q2"] and page.total == 2 and not page.more


def test_crisis_alerts_come_first_newest_first_and_are_never_crowded_out() -> None:
    items = [_item(1, "alert"), *(_item(n) for n in range(2, 400)), _item(400, "alert")]
    page = queue_page(items)
    assert len(page.items) == QUEUE_PAGE_ITEMS and page.total == 400 and page.more
    assert [i["id"] for i in page.items[:2]] == ["q400", "q1"]
    rest = [int(i["id"][1:]) for i in page.items[2:]]
    assert rest == list(range(352, 400))  # the newest reports, oldest of them first


def test_ids_order_numerically_not_as_text() -> None:
    page = queue_page([_item(10), _item(9), _item(100)], limit=2)
    assert [i["id"] for i in page.items] == ["q10", "q100"]


def test_alerts_alone_can_fill_the_page() -> None:
    page = queue_page([_item(n, "alert") for n in range(1, 6)] + [_item(9)], limit=3)
    assert [i["id"] for i in page.items] == ["q5", "q4", "q3"] and page.total == 6


def test_the_service_queue_puts_alerts_first_and_the_longest_waiting_first() -> None:
    from moderation.queue import service_queue

    def at(kind: str, ident: str, when: str, status: str = "open") -> dict[str, Any]:
        return {"id": ident, "kind": kind, "at": f"2026-11-30T{when}Z", "status": status}

    rooms = {
        "grief": [at("report", "q1", "06:00:00"), at("alert", "q2", "06:05:00")],
        "anxiety": [
            at("alert", "q1", "06:01:00"),
            at("flag", "q2", "05:00:00"),
            at("report", "q3", "04:00:00", status="resolved"),
        ],
    }
    page = service_queue(rooms, 10)
    assert [(i["room"], i["id"]) for i in page.items] == [
        ("anxiety", "q1"),  # alerts first, the older first
        ("grief", "q2"),
        ("anxiety", "q2"),  # then the rest, oldest first
        ("grief", "q1"),
    ]
    assert page.total == 4 and not page.more
    cut = service_queue(rooms, 1)
    assert [i["id"] for i in cut.items] == ["q1"] and cut.more and cut.total == 4
