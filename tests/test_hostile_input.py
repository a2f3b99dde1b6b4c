"""Hostile frames and identities, on both brokers: each gets its error or close code, the
connection (where the protocol allows) and the process live on, and the work stays bounded."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

import pytest
import websockets

from rooms.errors import ChatError
from server.tokens import TokenService
from tests.conftest import TEST_SECRET, AppServer, ConnectClient, StartServer
from tests.rawws import RawClient
from tests.support import Client, timeout

ROOM = "anxiety"

MALFORMED = {
    "empty": "",
    "blank": "  \n ",
    "array": "[1, 2]",
    "string": '"hello"',
    "number": "42",
    "null": "null",
    "not json": "{type: hello}",
    "truncated": '{"type":"hel',
    "duplicate keys": '{"type":"hello","type":"join"}',
    "NaN": '{"type":"join","room":"anxiety","since":NaN}',
    "Infinity": '{"type":"join","room":"anxiety","since":Infinity}',
    "-Infinity": '{"type":"join","room":"anxiety","since":-Infinity}',
    "huge int": '{"type":"join","room":"anxiety","since":' + "9" * 5000 + "}",
    "deep arrays": '{"type":"join","x":' + "[" * 500 + "]" * 500 + "}",
    "deep objects": '{"a":' * 300 + "1" + "}" * 300,
    "many keys": json.dumps({f"k{i}": i for i in range(100)} | {"type": "hello"}),
    "no type": '{"room":"anxiety"}',
    "type not a string": '{"type":5}',
    "ref too long": json.dumps({"type": "hello", "ref": "r" * 65}),
    "ref not a string": '{"type":"hello","ref":{"a":1}}',
}


def _healthy(server: AppServer) -> bool:
    with urllib.request.urlopen(f"{server.http}/healthz", timeout=5) as response:
        return bool(response.status == 200)


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_malformed_frame_is_bad_request_and_connection_lives(
    server: AppServer, connect: ConnectClient, name: str
) -> None:
    client = await connect(server.ws, hello=False)
    await client.send_raw(MALFORMED[name])
    error = await client.expect("error")
    assert error["code"] == "bad_request", error
    # the same socket still works, before and after hello
    await client.hello()
    await client.send_raw(MALFORMED[name])
    assert (await client.expect("error"))["code"] == "bad_request"
    await client.enter(ROOM)
    assert await asyncio.to_thread(_healthy, server)


WRONG_TYPES: list[dict[str, Any]] = [
    {"type": "join", "room": 5},
    {"type": "join", "room": ["anxiety"]},
    {"type": "join", "room": None},
    {"type": "join", "room": ""},
    {"type": "join", "room": "x" * 65},
    {"type": "join", "room": ROOM, "since": "3"},
    {"type": "join", "room": ROOM, "since": -1},
    {"type": "join", "room": ROOM, "since": True},
    {"type": "join", "room": ROOM, "since": 1.5},
    {"type": "join", "room": ROOM, "since": 2**60},
    {"type": "join", "room": ROOM, "epoch": 7},
    {"type": "send", "room": ROOM, "text": 5},
    {"type": "send", "room": ROOM, "text": None},
    {"type": "send", "room": ROOM, "text": {"a": 1}},
    {"type": "send", "room": ROOM, "text": ["x"]},
    {"type": "send", "room": ROOM, "text": "   "},
    {"type": "send", "room": ROOM, "text": "\u200b\u202e\u0007"},
    {"type": "send", "room": ROOM, "text": "x", "cw": 5},
    {"type": "leave", "room": True},
    {"type": "report", "room": ROOM, "message_id": "one", "reason": "r"},
    {"type": "report", "room": ROOM, "participant": 5, "reason": "r"},
]


async def test_wrong_field_types_are_bad_request(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(JOIN_BURST="1000")
    client = await connect(server.ws)
    await client.enter(ROOM)
    for frame in WRONG_TYPES:
        answer = await client.request(frame)
        assert answer["type"] == "error" and answer["code"] == "bad_request", (frame, answer)
    assert (await client.request({"type": "nonsense"}))["code"] == "unknown_type"
    await client.say(ROOM, "still here")


async def test_binary_and_invalid_utf8_frames(server: AppServer) -> None:
    raw = await RawClient.connect(server.ws)
    raw.frame(0x2, b'{"type":"hello"}')  # binary
    await raw.writer.drain()
    (error,) = await raw.receive()
    assert error["code"] == "bad_request"
    await raw.send_json({"type": "hello"})
    assert (await raw.receive())[0]["type"] == "welcome"
    # an empty text frame
    await raw.send_text(b"")
    assert (await raw.receive())[0]["code"] == "bad_request"
    # Invalid UTF-8 in a text frame: RFC 6455 makes the server fail the connection (1007);
    # the process lives on and serves the next client.
    await raw.send_text(b'{"type":"join","room":"\xff\xfe"}')
    assert await raw.until_closed() in (1007, 1006)
    await raw.close()
    assert await asyncio.to_thread(_healthy, server)
    again = await Client.connect(server.ws)
    await again.hello()
    await again.close()


async def test_frame_over_the_transport_limit_closes_1009_and_text_over_limit_is_too_large(
    server: AppServer, connect: ConnectClient
) -> None:
    client = await connect(server.ws)
    await client.enter(ROOM)
    answer = await client.request({"type": "send", "room": ROOM, "text": "x" * 2001})
    assert answer["code"] == "too_large"
    big = await connect(server.ws, max_size=None)
    await big.send_raw(json.dumps({"type": "send", "room": ROOM, "text": "y" * 70000}))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await big.expect("error")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    await client.say(ROOM, "the room goes on")


async def test_lone_surrogates_in_every_string_field(
    server: AppServer, connect: ConnectClient
) -> None:
    client = await connect(server.ws, hello=False)
    # a ref with a lone surrogate cannot be sent back as UTF-8: refused, never crashes a writer
    await client.send_raw('{"type":"hello","ref":"a\\ud800b"}')
    assert (await client.expect("error"))["code"] == "bad_request"
    await client.send_raw('{"type":"hello","token":"x\\udfff.y"}')
    assert (await client.expect("error"))["code"] in ("unauthorized", "bad_request")
    await client.hello()
    for raw in (
        '{"type":"join","room":"anx\\udc00iety"}',
        '{"type":"join","room":"anxiety","epoch":"\\ud800"}',
    ):
        await client.send_raw(raw)
        assert (await client.expect("error"))["code"] in ("bad_request", "not_found")
    other = await connect(server.ws)
    await other.enter(ROOM)
    await client.enter(ROOM)
    # a proper pair is one character (an emoji) and is kept; lone halves are not
    ack = await client.request({"type": "send", "room": ROOM, "text": "ok \ud83d\ude00"})
    assert ack["type"] == "ack"
    await client.send_raw(
        '{"type":"send","room":"anxiety","text":"lone \\ud800 half","cw":"c\\udfffw"}'
    )
    await client.send_raw(
        '{"type":"report","room":"anxiety","participant":"p","reason":"bad \\udc00"}'
    )
    said = await other.say(ROOM, "after the surrogates")
    msg = await other.expect("message", id=said["id"])
    assert msg["text"] == "after the surrogates"
    for frame in other.frames + client.frames:
        json.dumps(frame).encode("utf-8")  # everything received was valid UTF-8
        assert "\ud800" not in json.dumps(frame, ensure_ascii=False)
    assert await asyncio.to_thread(_healthy, server)


async def test_identity_fields_are_always_the_servers(
    server: AppServer, connect: ConnectClient
) -> None:
    client = await connect(server.ws, hello=False)
    welcome = await client.request({"type": "hello", "role": "facilitator", "member": "root"})
    assert welcome["role"] == "member" and welcome["member"] != "root"
    joined = await client.request(
        {"type": "join", "room": ROOM, "participant": "p0", "role": "facilitator", "handle": "X"}
    )
    assert joined["participant"] != "p0" and joined["role"] == "member"
    assert joined["handle"] != "X"
    await client.request({"type": "agree", "room": ROOM})
    ack = await client.request(
        {
            "type": "send",
            "room": ROOM,
            "text": "hi",
            "id": 999999,
            "ts": "1970-01-01T00:00:00Z",
            "participant": "p0",
            "role": "facilitator",
            "handle": "Admin",
            "kind": "announcement",
            "html": "<script>x()</script>",
        }
    )
    msg = await client.expect("message", id=ack["id"])
    assert ack["id"] != 999999
    assert msg["participant"] == joined["participant"] and msg["role"] == "member"
    assert msg["handle"] == joined["handle"] and msg["ts"] != "1970-01-01T00:00:00Z"
    assert msg.get("kind") is None and msg["html"] == "hi"
    # a member's facilitator frame is refused whatever it claims
    answer = await client.request(
        {
            "type": "mute",
            "room": ROOM,
            "participant": joined["participant"],
            "minutes": 1,
            "role": "facilitator",
        }
    )
    assert answer["code"] == "forbidden"


async def test_worst_case_text_stays_bounded(server: AppServer, connect: ConnectClient) -> None:
    """Inputs built to make a linkifier or sanitizer work hard: each is answered (sent or
    refused) well within the bound, and the room's next message is not held up."""
    client = await connect(server.ws, max_size=None)
    await client.enter(ROOM)
    worst = [
        "<a " * 666,
        "http://" * 285,
        "http://a." * 222,
        "<" * 2000,
        "&lt;" * 500,
        "a" * 1999 + "\u0301" * 1,
        "\u0301" * 2000,
        "javascript:alert(1) " * 100,
        "www." * 500,
        "x." * 1000,
        "<a href=" * 250,
    ]
    for text in worst:
        started = time.monotonic()
        answer = await client.request({"type": "send", "room": ROOM, "text": text[:2000]})
        assert answer["type"] in ("ack", "error"), answer
        assert time.monotonic() - started < timeout(2), text[:20]
    # 64 KiB of the same, past the text limit: refused cheaply (too_large), never parsed
    for unit in ("<a ", "http://"):
        big = unit * (60000 // len(unit))
        started = time.monotonic()
        answer = await client.request({"type": "send", "room": ROOM, "text": big})
        assert answer["code"] == "too_large"
        assert time.monotonic() - started < timeout(2)
    said = await client.say(ROOM, "javascript:alert(1) data:text/html,x http://example.org <3 &lt;")
    msg = await client.expect("message", id=said["id"])
    assert msg["text"] == "javascript:alert(1) data:text/html,x http://example.org <3 &lt;"
    assert msg["html"].count("<a ") == 1 and 'href="http://example.org"' in msg["html"]
    assert "&lt;3 &amp;lt;" in msg["html"]


# -- identity -----------------------------------------------------------------------------------


async def test_forged_tampered_expired_and_wrong_purpose_tokens(
    server: AppServer, connect: ConnectClient
) -> None:
    mine = TokenService((TEST_SECRET,), 3600)
    other = TokenService(("another-secret-key-0123456789",), 3600)
    _, good = mine.issue_member()
    forged = other.issue_member()[1]
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    payload_swapped = forged.split(".")[0] + "." + ".".join(good.split(".")[1:])
    facilitator = mine.issue_facilitator("Sam", None, 1)
    expired_facilitator = mine.issue_facilitator("Sam", None, -1)
    expired_member = TokenService((TEST_SECRET,), -1)
    cases = {
        "forged": {"token": forged},
        "tampered": {"token": tampered},
        "swapped payload": {"token": payload_swapped},
        "facilitator token as member token": {"token": facilitator},
        "member token as facilitator token": {"facilitator_token": good},
        "expired facilitator": {"facilitator_token": expired_facilitator},
        "garbage": {"token": "not.a.token"},
        "too long": {"token": "a" * 4000},
    }
    for name, fields in cases.items():
        client = await connect(server.ws, hello=False)
        answer = await client.request({"type": "hello", **fields})
        assert answer["type"] == "error" and answer["code"] == "unauthorized", name
        for value in fields.values():
            assert value[:20] not in answer["message"]
        await client.hello()  # and then a new member, on the same socket
    # a member token past MEMBER_TOKEN_DAYS: the service that reads it has max_age -1
    _, token = mine.issue_member()
    with pytest.raises(ChatError, match=r"not valid|expired"):
        expired_member.read_member(token)


async def test_key_rotation_reads_tokens_of_every_listed_key(
    start_server: StartServer, connect: ConnectClient
) -> None:
    old_key, new_key = "old-secret-key-0123456789abcdef", "new-secret-key-0123456789abcdef"
    old = await start_server(SECRET_KEY=old_key)
    client = await connect(old.ws, hello=False)
    old_token = (await client.hello())["token"]
    joined_old = await client.join(ROOM)
    facilitator = TokenService((old_key,), 3600).issue_facilitator("Sam", [ROOM], 1)

    rotated = await start_server(SECRET_KEY=f"{new_key},{old_key}")
    again = await connect(rotated.ws, hello=False)
    welcome = await again.hello(token=old_token)
    assert welcome["token"]  # resumed, not refused
    staff = await connect(rotated.ws, hello=False)
    assert (await staff.hello(facilitator_token=facilitator))["role"] == "facilitator"
    new_token = (await (await connect(rotated.ws, hello=False)).hello())["token"]

    dropped = await start_server(SECRET_KEY=new_key)
    late = await connect(dropped.ws, hello=False)
    assert (await late.request({"type": "hello", "token": old_token}))["code"] == "unauthorized"
    await late.hello(token=new_token)
    del joined_old


async def test_token_in_the_url_is_never_read(server: AppServer, connect: ConnectClient) -> None:
    first = await connect(server.ws, hello=False)
    welcome = await first.hello()
    joined = await first.join(ROOM)
    url = f"{server.ws}?token={welcome['token']}&facilitator_token=x"
    second = await connect(url, hello=False)
    fresh = await second.hello()  # no token in the frame: a new member, whatever the URL said
    assert fresh["member"] != welcome["member"]
    assert (await second.join(ROOM))["participant"] != joined["participant"]
    raw = await RawClient.connect(server.ws, path_extra=f"?token={welcome['token']}")
    await raw.send_json({"type": "join", "room": ROOM})
    assert (await raw.receive())[0]["code"] == "hello_required"
    await raw.close()


# -- text the room sees: guards read it, normalisation keeps what scripts need ------------------

# Contact details hidden by characters that normalisation removes or that detection folds: each
# is held, never shown to anyone (issue 12, item 2).
HIDDEN_CONTACT_DETAILS = {
    "call me 555\u200b-123\u200b-4567": "phone",
    "5\x015\x015\x01-1\x012\x013-4567": "phone",
    "555\u2060123\u20604567": "phone",
    "+44\u20607700\u2060900\u2060123": "phone",
    "bob.smith@\ufeffexample.com": "email",
    "bob.smith\uff20example.com": "email",
    "@\u200bbobsmith99": "social",
    "instagram\u200b.com/bobsmith99": "social",
    "\uff15\uff15\uff15-\uff11\uff12\uff13-\uff14\uff15\uff16\uff17": "phone",  # fullwidth digits
}


async def test_hidden_contact_details_are_held(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(SEND_BURST="50", SEND_PER_SECOND="50")
    author = await connect(server.ws)
    reader = await connect(server.ws)
    await author.enter(ROOM)
    await reader.enter(ROOM)
    for text, kind in HIDDEN_CONTACT_DETAILS.items():
        answer = await author.request({"type": "send", "room": ROOM, "text": text})
        assert answer["type"] == "held", (text, answer)
        assert answer["reason"] == "contact_details" and answer["kind"] == kind
    # normalisation comes first: too long is too long, whatever it holds
    too_long = "call 555-123-4567 " + "x" * 2000
    answer = await author.request({"type": "send", "room": ROOM, "text": too_long})
    assert answer["code"] == "too_large"
    said = await author.say(ROOM, "after the held ones")
    await reader.expect("message", id=said["id"])
    assert [f["text"] for f in reader.frames if f["type"] == "message"] == ["after the held ones"]
    late = await connect(server.ws)
    assert [m["text"] for m in (await late.join(ROOM))["history"]] == ["after the held ones"]


async def test_crisis_language_split_by_an_invisible_character_alerts(
    server: AppServer, connect: ConnectClient
) -> None:
    staff = await connect(server.ws, hello=False)
    token = TokenService((TEST_SECRET,), 3600).issue_facilitator("Sam", None, 1)
    assert (await staff.hello(facilitator_token=token))["role"] == "facilitator"
    await staff.enter(ROOM)
    member = await connect(server.ws)
    joined = await member.enter(ROOM)
    ack = await member.request(
        {"type": "send", "room": ROOM, "text": "some days I want to d\u200bie"}
    )
    assert ack["type"] == "ack", ack
    msg = await staff.expect("message", id=ack["id"])
    assert msg["text"] == "some days I want to die"  # what the room sees is what was checked
    await member.expect("support")
    alert = await staff.expect("alert", message_id=ack["id"])
    assert alert["participant"] == joined["participant"]


async def test_unpaired_surrogate_error_carries_the_ref(
    server: AppServer, connect: ConnectClient
) -> None:
    client = await connect(server.ws)
    await client.enter(ROOM)
    await client.send_raw('{"type":"send","room":"r","text":"\\ud800","ref":"x1"}')
    error = await client.expect("error", ref="x1")
    assert error["code"] == "bad_request" and "surrogate" in error["message"]
    # the other faults found while parsing keep the ref too, when it can be read
    for raw, ref in (
        ('{"type":"send","room":"anxiety","text":"a","text":"b","ref":"x2"}', "x2"),
        ('{"type":"join","room":"anxiety","since":NaN,"ref":"x3"}', "x3"),
        ('{"type":"join","room":"anxiety","since":' + "9" * 5000 + ',"ref":"x4"}', "x4"),
        (json.dumps({f"k{i}": i for i in range(40)} | {"type": "join", "ref": "x5"}), "x5"),
    ):
        await client.send_raw(raw)
        assert (await client.expect("error", ref=ref))["code"] == "bad_request"
    # a ref that cannot be echoed is not: the error has none
    await client.send_raw('{"type":"send","room":"anxiety","text":"\\ud800","ref":"a\\udc00"}')
    assert (await client.expect("error", ref=None))["code"] == "bad_request"


PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"


async def test_normalisation_keeps_joiners_and_drops_what_hides(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(SEND_BURST="50", SEND_PER_SECOND="50")
    author = await connect(server.ws)
    reader = await connect(server.ws)
    await author.enter(ROOM)
    await reader.enter(ROOM)
    delivered = {
        "👩\u200d👩\u200d👧": "👩\u200d👩\u200d👧",
        PERSIAN: PERSIAN,  # "I want": the ZWNJ is part of the spelling
        "क्\u200dष": "क्\u200dष",  # Devanagari half form
        "അവന്\u200d": "അവന്\u200d",  # Malayalam chillu (ZWJ at the word's end)
        "\u200dhi\u200d\u200d there\u200c": "hi there",
        "❤\ufe0f": "❤\ufe0f",
        "hi\U000e0069\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065 there": "hi there",
        "a\u180eb\ufff9c\ufffad\ufffb": "abcd",
        "one\u2028\u2028\u2029\u2029\u2028two": "one\n\ntwo",
        "a" + "\u0336" * 1500: "a" + "\u0336" * 4,
    }
    for raw, text in delivered.items():
        said = await author.say(ROOM, raw)
        assert (await reader.expect("message", id=said["id"]))["text"] == text, raw
    for invisible in ("\u3164", "\u2800", "\u00ad", "\u034f", "\ufe0f", " \u3164\u2800 \n",
                      "\U000e0041\U000e0042", "\u200d\u200c", "\u115f\u1160\uffa0"):  # fmt: skip
        answer = await author.request({"type": "send", "room": ROOM, "text": invisible})
        assert answer["code"] == "bad_request" and answer["message"] == "text is empty"
        answer = await author.request(
            {"type": "send", "room": ROOM, "text": "visible", "cw": invisible}
        )
        assert answer["code"] == "bad_request", answer
    said = await author.request(
        {"type": "send", "room": ROOM, "text": "x", "cw": "\u200bgrief\U000e0041"}
    )
    assert (await reader.expect("message", id=said["id"]))["cw"] == "grief"
