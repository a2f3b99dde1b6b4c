import pytest

from moderation.contact import find_contact_details


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("mail me at jo.doe+x@example.co.uk", "email"),
        ("call 555-123-4567", "phone"),
        ("+44 (20) 7946 0958", "phone"),
        ("call me 5551234567", "phone"),
        ("my insta is @sunny_day", "social"),
        ("snap: bluebird22", "social"),
        ("instagram.com/someone", "social"),
        ("find me on t.me/someone", "social"),
        ("find me @sunny_day later", "social"),  # a bare handle, no site named
    ],
)
def test_contact_details_found(text: str, kind: str) -> None:
    assert find_contact_details(text) == kind


@pytest.mark.parametrize(
    "text",
    ["I slept 8 hours", "it was 2019 and 2020", "year 1999 2000", "I take 20mg twice",
     "it is 12:30 now", "see you at 10am", "day 1234567 of recovery", "<3 & thanks",
     "meet @ 5pm", "me @ home"],
)  # fmt: skip
def test_everyday_numbers_pass(text: str) -> None:
    assert find_contact_details(text) is None


def test_worst_case_is_linear() -> None:
    assert find_contact_details("1 " * 30000) == "phone"  # digits run together, found at once
    assert find_contact_details("a" * 60000 + "@") is None
