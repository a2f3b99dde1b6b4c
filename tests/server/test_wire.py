import pytest

from rooms.errors import ChatError
from server.wire import encode, opt_int, parse, req_int, req_str


def test_parse_returns_frame_and_ref() -> None:
    frame, ref = parse('{"type": "join", "room": "a", "ref": "r1"}')
    assert frame["room"] == "a" and ref == "r1"


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "null", "3", '"x"', "[]", "{}", '{"type": null}', '{"a":1,"a":2,"type":"x"}',
     '{"type":"x","n":NaN}', '{"type":"x","n":Infinity}', '{"type":"x","n":-Infinity}',
     '{"type":"x","ref":5}', '{"type":"x","ref":"' + "r" * 65 + '"}',
     '{"type":"x","a":' + "[" * 20 + "]" * 20 + "}", '{"type":"x","n":' + "9" * 5000 + "}",
     "{" + ",".join(f'"k{i}":1' for i in range(40)) + ',"type":"x"}'],
)  # fmt: skip
def test_malformed_frames_are_bad_requests(raw: str) -> None:
    with pytest.raises(ChatError) as err:
        parse(raw)
    assert err.value.code == "bad_request"


def test_ref_survives_a_missing_type() -> None:
    with pytest.raises(ChatError) as err:
        parse('{"ref": "keep"}')
    assert err.value.extra["ref"] == "keep"


def test_field_helpers() -> None:
    frame = {"s": "abc", "i": 5, "f": 5.0, "b": True, "frac": 1.5, "none": None}
    assert req_str(frame, "s", 3) == "abc"
    assert req_int(frame, "i", 0, 10) == 5
    assert req_int(frame, "f", 0, 10) == 5
    assert opt_int(frame, "none", 0, 1) is None
    for name in ("b", "frac", "missing"):
        with pytest.raises(ChatError):
            req_int(frame, name, 0, 10)
    with pytest.raises(ChatError):
        req_int(frame, "i", 6, 10)
    with pytest.raises(ChatError):
        req_str(frame, "s", 2)
    with pytest.raises(ChatError):
        req_str(frame, "i", 9)


def test_encode_is_compact_and_keeps_unicode() -> None:
    assert encode({"type": "x", "t": "é<3"}) == '{"type":"x","t":"é<3"}'


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"type":"send","room":"r","text":"\\ud800","ref":"x1"}', "unpaired surrogate"),
        ('{"type":"send","text":"a","text":"b","ref":"x1"}', "duplicate field"),
        ('{"type":"join","since":NaN,"ref":"x1"}', "NaN"),
        ('{"type":"join","since":' + "9" * 5000 + ',"ref":"x1"}', "number is too long"),
        ('{"ref":"x1","type":"x",' + ",".join(f'"k{i}":1' for i in range(40)) + "}",
         "too many fields"),
        ('{"type":"x","a":{"b":"\\udc00"},"ref":"x1"}', "unpaired surrogate"),
    ],
)  # fmt: skip
def test_every_fault_after_the_frame_parsed_carries_its_ref(raw: str, message: str) -> None:
    with pytest.raises(ChatError) as err:
        parse(raw)
    assert err.value.code == "bad_request" and message in err.value.message
    assert err.value.extra["ref"] == "x1"


@pytest.mark.parametrize(
    "raw",
    ['{"type":"x","ref":"a","ref":"b"}', '{"type":"x","text":"\\ud800","ref":"r\\udfff"}',
     '{"type":"x","n":NaN,"ref":5}', '{"type":"x","n":NaN,"ref":"' + "r" * 65 + '"}'],
)  # fmt: skip
def test_a_ref_that_cannot_be_sent_back_is_left_out(raw: str) -> None:
    with pytest.raises(ChatError) as err:
        parse(raw)
    assert err.value.code == "bad_request" and err.value.extra.get("ref") is None


def test_a_fault_does_not_leak_into_the_next_frame() -> None:
    with pytest.raises(ChatError):
        parse('{"type":"x","n":NaN}')
    assert parse('{"type":"x","n":1,"ref":"ok"}') == ({"type": "x", "n": 1, "ref": "ok"}, "ok")
