"""A fan-out frames each message once: those bytes must be what `websockets` would send."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from server.direct import text_frame


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_text_frame_is_what_websockets_serializes(length: int) -> None:
    payload = ("é" * length).encode()[:length]
    expected = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
    assert text_frame(payload) == expected
