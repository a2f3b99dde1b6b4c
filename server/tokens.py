"""Signed identity tokens (itsdangerous), one salt per purpose, several keys for rotation.

Per-room participant ids and handles are keyed by a separate identity secret (IDENTITY_KEY,
by default the oldest signing key), so rotating the signing keys changes no one's identity.

A member token carries only a random member id. A facilitator token names the facilitator, the
rooms they may moderate (none named: all rooms) and when it expires. The salts differ, so a
member token never passes as a facilitator token. Tokens are never logged.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

from rooms.errors import ChatError, ErrorCode
from rooms.ids import MemberId, RoomId

__all__ = ["CoordinatorClaim", "FacilitatorClaim", "TokenService"]

_MEMBER_SALT = "peer-support.member.v1"
_FACILITATOR_SALT = "peer-support.facilitator.v1"
_COORDINATOR_SALT = "peer-support.coordinator.v1"


@dataclass(frozen=True, slots=True)
class FacilitatorClaim:
    """What a facilitator token says. `rooms` None means every room."""

    name: str
    rooms: frozenset[RoomId] | None
    expires_at: float
    id: str = ""  # what the facilitator is known by in rooms (and revoked by)

    def may_moderate(self, room: RoomId, now: float) -> bool:
        """True while the token is unexpired and names `room` (or names no room)."""
        return now < self.expires_at and (self.rooms is None or room in self.rooms)


@dataclass(frozen=True, slots=True)
class CoordinatorClaim:
    """What a coordinator token says: who runs the service, until when."""

    name: str
    expires_at: float


class TokenService:
    """Issues and reads tokens with `keys` (newest first: the first signs, all verify)."""

    def __init__(
        self, keys: tuple[str, ...], member_max_age_s: int, identity_secret: str | None = None
    ) -> None:
        """`identity_secret` (IDENTITY_KEY) keys participant ids, handles and `welcome.member`;
        None means the oldest of `keys`."""
        if not keys:
            raise ValueError("at least one key is required")
        # itsdangerous wants the list oldest to newest and signs with the last.
        ordered = list(reversed(keys))
        self._member = URLSafeTimedSerializer(ordered, salt=_MEMBER_SALT)
        self._facilitator = URLSafeTimedSerializer(ordered, salt=_FACILITATOR_SALT)
        self._coordinator = URLSafeTimedSerializer(ordered, salt=_COORDINATOR_SALT)
        self._member_max_age = member_max_age_s
        # The key for per-room ids and handles, never sent. Not the signing key: prepending a
        # new signing key (rotation) must not rename anyone or lift their bans and mutes. The
        # oldest key by default, which for a single-key install is the key ids always came from.
        secret = identity_secret if identity_secret is not None else keys[-1]
        self.identity_key = hashlib.sha256(b"peer-support.identity.v1" + secret.encode()).digest()

    def issue_member(self) -> tuple[MemberId, str]:
        """A new anonymous member and their token."""
        member = MemberId(secrets.token_urlsafe(16))
        return member, self._member.dumps({"m": member})

    def read_member(self, token: str) -> MemberId:
        """The member a token was issued to; `unauthorized` if forged, tampered or expired."""
        data = self._load(self._member, token, self._member_max_age)
        member = data.get("m")
        if not isinstance(member, str) or not member:
            raise ChatError(ErrorCode.UNAUTHORIZED, "token is not valid")
        return MemberId(member)

    def issue_facilitator(
        self, name: str, rooms: list[str] | None, hours: float, facilitator_id: str | None = None
    ) -> str:
        """A facilitator token for `rooms` (None: all), valid for `hours`, naming the
        facilitator's id (a new random one unless given)."""
        expires = time.time() + hours * 3600
        fid = facilitator_id or "f" + secrets.token_hex(8)
        return self._facilitator.dumps({"i": fid, "n": name, "r": rooms, "e": expires})

    @staticmethod
    def facilitator_id_of(claim_data: dict[str, Any]) -> str:
        """The id a token's data names; a token made before ids existed gets one derived from
        what it says (name and expiry), stable for that token."""
        fid = claim_data.get("i")
        if isinstance(fid, str) and 0 < len(fid) <= 64:
            return fid
        seed = f"{claim_data.get('n')}\x1f{claim_data.get('e')}".encode()
        return "t" + hashlib.sha256(seed).hexdigest()[:16]

    def read_facilitator(self, token: str) -> FacilitatorClaim:
        """The claim a facilitator token carries; `unauthorized` if invalid or expired."""
        data = self._load(self._facilitator, token, None)
        name, rooms, expires = data.get("n"), data.get("r"), data.get("e")
        if not isinstance(name, str) or not isinstance(expires, int | float):
            raise ChatError(ErrorCode.UNAUTHORIZED, "facilitator token is not valid")
        if expires <= time.time():
            raise ChatError(ErrorCode.UNAUTHORIZED, "facilitator token has expired")
        if rooms is not None and not (
            isinstance(rooms, list) and all(isinstance(r, str) for r in rooms)
        ):
            raise ChatError(ErrorCode.UNAUTHORIZED, "facilitator token is not valid")
        room_set = None if rooms is None else frozenset(RoomId(r) for r in rooms)
        return FacilitatorClaim(
            name=name, rooms=room_set, expires_at=float(expires), id=self.facilitator_id_of(data)
        )

    def issue_coordinator(self, name: str, hours: float) -> str:
        """A coordinator token, valid for `hours`."""
        return self._coordinator.dumps({"n": name, "e": time.time() + hours * 3600})

    def read_coordinator(self, token: str) -> CoordinatorClaim:
        """The claim a coordinator token carries; `unauthorized` if invalid or expired."""
        data = self._load(self._coordinator, token, None)
        name, expires = data.get("n"), data.get("e")
        if not isinstance(name, str) or not isinstance(expires, int | float):
            raise ChatError(ErrorCode.UNAUTHORIZED, "coordinator token is not valid")
        if expires <= time.time():
            raise ChatError(ErrorCode.UNAUTHORIZED, "coordinator token has expired")
        return CoordinatorClaim(name=name, expires_at=float(expires))

    def purpose_of(self, token: str) -> str | None:
        """`member` or `facilitator` when `token` is a valid token of that kind (so an admin
        request made with one is told 403, not 401); None otherwise."""
        for purpose, serializer in (("member", self._member), ("facilitator", self._facilitator)):
            try:
                self._load(serializer, token, None)
            except ChatError:
                continue
            return purpose
        return None

    @staticmethod
    def _load(serializer: URLSafeTimedSerializer, token: str, max_age: int | None) -> Any:
        if len(token) > 2048:
            raise ChatError(ErrorCode.UNAUTHORIZED, "token is not valid")
        try:
            data = serializer.loads(token, max_age=max_age)
        except BadData:
            raise ChatError(ErrorCode.UNAUTHORIZED, "token is not valid or has expired") from None
        if not isinstance(data, dict):
            raise ChatError(ErrorCode.UNAUTHORIZED, "token is not valid")
        return data
