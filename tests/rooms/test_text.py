import pytest

from rooms.errors import ChatError
from rooms.text import normalize, prepare, render_html


@pytest.mark.parametrize(
    ("raw", "text", "html"),
    [
        ("<3", "<3", "&lt;3"),
        ("&lt;", "&lt;", "&amp;lt;"),
        ("a & b", "a & b", "a &amp; b"),
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>",
         "&lt;img src=x onerror=alert(1)&gt;"),
        ("two\nlines", "two\nlines", "two<br>lines"),
    ],
)  # fmt: skip
def test_text_and_html_round_trip(raw: str, text: str, html: str) -> None:
    prepared = prepare(raw)
    assert prepared.text == text
    assert prepared.html == html


def test_web_links_are_clickable_with_safe_rel() -> None:
    html = render_html("see https://example.org/x?a=1&b=2")
    assert '<a href="https://example.org/x?a=1&amp;b=2" rel="nofollow noopener ugc"' in html


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "data:text/html,<b>x</b>", "mailto:a@b.c"])
def test_dangerous_schemes_never_become_links(raw: str) -> None:
    assert "<a" not in render_html(raw)


def test_invisible_and_direction_characters_are_removed() -> None:
    assert normalize("a\u202eb\u200bc\u2066d\x00e\x7f") == "abcde"
    assert normalize("e\u0301") == "\u00e9"  # NFC
    assert normalize("a\r\nb\rc") == "a\nb\nc"
    assert normalize("a\n\n\n\n\nb") == "a\n\nb"
    assert normalize("x\ud800y") == "xy"


def test_empty_and_too_long_are_refused() -> None:
    with pytest.raises(ChatError) as empty:
        normalize(" \u200b\n ")
    assert empty.value.code == "bad_request"
    with pytest.raises(ChatError) as long:
        normalize("x" * 11, max_chars=10)
    assert long.value.code == "too_large"
    with pytest.raises(ChatError):
        normalize("x" * 100, max_chars=10)
    assert normalize("x" * 10, max_chars=10) == "x" * 10


def test_worst_case_input_is_bounded() -> None:
    # many would-be links and tags: still one linear pass, no blow-up
    prepared = prepare("<a " * 600 + "http://x.io " * 60, max_chars=5000)
    assert prepared.html.count("<a href") == 60


@pytest.mark.parametrize(
    "text",
    ["hi. you", "e.g. this", "see example.org", "www.nhs.uk/help", "https://x.io/a?b=1",
     "Mr.Smith said", "a.b", "mail: a@b.co", "ftp://files.example.com", "3.14 and 2.5",
     "UPPER.CASE.ORG", "例え.jp"],
)  # fmt: skip
def test_skipping_the_linkifier_changes_nothing(text: str) -> None:
    import html

    from rooms.text import _LINKER

    full = _LINKER.linkify(html.escape(text, quote=False)).replace("\n", "<br>")
    assert render_html(text) == full
