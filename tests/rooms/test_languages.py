import pytest

from rooms.languages import is_known_language, primary_language


@pytest.mark.parametrize("tag", ["en", "es", "es-MX", "pt-BR", "zh-Hant-TW", "EN-gb", "sr-Latn"])
def test_known_tags(tag: str) -> None:
    assert is_known_language(tag)


@pytest.mark.parametrize(
    "tag", ["", "english", "xx", "e", "en_GB", "en-", "en-toolongsubtag", "en-" + "a-" * 20 + "b"]
)
def test_unknown_or_malformed_tags(tag: str) -> None:
    assert not is_known_language(tag)


def test_primary_subtag() -> None:
    assert primary_language(" ES-mx") == "es"
