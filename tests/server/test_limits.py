import json

import pytest

from server.limits import frame_cost, peek_ref


def test_frame_cost_is_one_token_per_4096_characters_on_top_of_the_first() -> None:
    assert [frame_cost(n) for n in (0, 1, 4095, 4096, 65536)] == [1, 1, 1, 2, 17]


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ('{"type":"send","ref":"r1"}', "r1"),
        ('{"ref" : "a b", "type":"x"', "a b"),  # malformed, but the ref is plain
        (json.dumps({"type": "send", "text": 'say "ref":"fake"', "ref": "real"}), "real"),
        ('{"type":"send","text":"\\"ref\\":\\"fake\\""}', None),  # only inside a string
        ('{"type":"send","ref":5}', None),
        ('{"type":"send","ref":"' + "r" * 65 + '"}', None),  # longer than a ref may be
        ('{"type":"send","ref":"a\\u0041"}', None),  # escapes: not plainly there
        ("{", None),
    ],
)
def test_peek_ref_finds_only_a_plain_ref_key(text: str, ref: str | None) -> None:
    assert peek_ref(text) == ref
