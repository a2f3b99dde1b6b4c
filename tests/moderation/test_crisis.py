import pytest

from moderation.crisis import CrisisDetector, fold


@pytest.mark.parametrize(
    "text",
    ["I want to KILL  myself", "feeling suicidal", "I can\u2019t go on", "Better off dead",
     "thinking about self-harm", "i have a plan to end my life"],
)  # fmt: skip
def test_crisis_language_is_noticed(text: str) -> None:
    assert CrisisDetector().matches(text)


@pytest.mark.parametrize("text", ["my skills myself", "overdosed on coffee", "goodbye"])
def test_words_inside_words_do_not_match(text: str) -> None:
    assert not CrisisDetector().matches(text)


def test_accents_and_custom_phrases() -> None:
    detector = CrisisDetector(["quiero morir"])
    assert detector.matches("QUIÉRO morir")
    assert not detector.matches("kill myself")
    assert fold("Ça") == "ca"
    assert not CrisisDetector([]).matches("anything")


def test_operator_configuration() -> None:
    from moderation.crisis import DEFAULT_RESOURCES, parse_crisis_config

    config = parse_crisis_config(
        {"extra_phrases": ["no way out"],
         "resources": [{"name": "Samaritans (UK)", "contact": "Call 116 123"}]}
    )  # fmt: skip
    assert config.detector.matches("there is no way out")
    assert config.detector.matches("I want to die")
    assert [r.name for r in config.resources] == ["Samaritans (UK)"]
    only = parse_crisis_config({"phrases": ["quiero morir"]})
    assert not only.detector.matches("I want to die")
    assert only.resources == DEFAULT_RESOURCES
    bads: list[dict[str, object]] = [
        {"phrases": "x"},
        {"phrases": []},  # would switch detection off unnoticed
        {"resources": []},
        {"resources": [{"name": "x"}]},
        {"resources": ["Samaritans (UK), call 116 123"]},
    ]
    for bad in bads:
        with pytest.raises(ValueError, match="crisis file"):
            parse_crisis_config(bad)
