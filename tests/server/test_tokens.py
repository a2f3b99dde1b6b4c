import hashlib
import time

import pytest

from rooms.errors import ChatError
from rooms.ids import RoomId
from server.tokens import TokenService

KEY_A = "a" * 32
KEY_B = "b" * 32


def test_member_token_round_trip() -> None:
    tokens = TokenService((KEY_A,), 3600)
    member, token = tokens.issue_member()
    assert tokens.read_member(token) == member
    assert member not in token  # the payload is signed, and the id is not the token


@pytest.mark.parametrize("bad", ["", "x", "a.b.c", "x" * 3000])
def test_garbage_is_unauthorized(bad: str) -> None:
    with pytest.raises(ChatError) as err:
        TokenService((KEY_A,), 3600).read_member(bad)
    assert err.value.code == "unauthorized"


def test_tampered_and_foreign_tokens_are_refused() -> None:
    mine = TokenService((KEY_A,), 3600)
    _, token = mine.issue_member()
    payload, stamp, sig = token.split(".")
    with pytest.raises(ChatError):
        mine.read_member(f"{payload}x.{stamp}.{sig}")
    with pytest.raises(ChatError):
        TokenService((KEY_B,), 3600).read_member(token)


def test_key_rotation_keeps_old_tokens_valid() -> None:
    old = TokenService((KEY_A,), 3600)
    member, token = old.issue_member()
    rotated = TokenService((KEY_B, KEY_A), 3600)
    assert rotated.read_member(token) == member
    _, new_token = rotated.issue_member()
    with pytest.raises(ChatError):
        old.read_member(new_token)


def test_expired_member_token() -> None:
    tokens = TokenService((KEY_A,), 0)
    _, token = tokens.issue_member()
    time.sleep(1.1)  # itsdangerous stamps whole seconds
    with pytest.raises(ChatError):
        tokens.read_member(token)


def test_member_token_never_passes_as_facilitator() -> None:
    tokens = TokenService((KEY_A,), 3600)
    _, token = tokens.issue_member()
    with pytest.raises(ChatError):
        tokens.read_facilitator(token)
    fac = tokens.issue_facilitator("Sam", None, 1)
    with pytest.raises(ChatError):
        tokens.read_member(fac)


def test_facilitator_claim_rooms_and_expiry() -> None:
    tokens = TokenService((KEY_A,), 3600)
    claim = tokens.read_facilitator(tokens.issue_facilitator("Sam", ["anxiety"], 1))
    now = time.time()
    assert claim.name == "Sam"
    assert claim.may_moderate(RoomId("anxiety"), now)
    assert not claim.may_moderate(RoomId("grief-and-loss"), now)
    assert not claim.may_moderate(RoomId("anxiety"), now + 7200)
    everywhere = tokens.read_facilitator(tokens.issue_facilitator("Ana", None, 1))
    assert everywhere.may_moderate(RoomId("grief-and-loss"), now)
    expired = tokens.issue_facilitator("Old", None, -1)
    with pytest.raises(ChatError):
        tokens.read_facilitator(expired)


def test_identity_survives_rotation_and_can_be_pinned() -> None:
    # Participant ids, handles and `welcome.member` are keyed by identity_key: prepending a new
    # signing key must not change it, or every ban, mute and handle would be lost.
    original = TokenService((KEY_A,), 3600).identity_key
    assert TokenService((KEY_B, KEY_A), 3600).identity_key == original
    # Once the original signing key is dropped, IDENTITY_KEY keeps the identities.
    assert TokenService((KEY_B,), 3600, identity_secret=KEY_A).identity_key == original
    assert TokenService((KEY_B,), 3600).identity_key != original
    # A single-key install keeps the ids it had before IDENTITY_KEY existed.
    legacy = hashlib.sha256(b"peer-support.identity.v1" + KEY_A.encode()).digest()
    assert original == legacy
