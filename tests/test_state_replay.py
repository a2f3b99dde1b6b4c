"""State plus events equals a fresh join, for every action: both brokers, and two processes.

Two watchers, a member and a facilitator, stay in the room from the start and rebuild it from
the frames they receive (`tests/room_model.py`). After each action, once the watchers have
received what it caused, a member and a facilitator join afresh; their `joined`, `room_state`,
`hands` (and `queue`, `private_opened` for the facilitator) must tell exactly what the
watchers rebuilt: history, participants, member count, room state, hands, and for
facilitators the open queue and private conversations. Then they leave again.

"Received what it caused" is a checkpoint, not a sleep: the watcher facilitator sends a
private message, numbered, to the watcher member. It travels the room's channel behind every
frame the action published before its answer, and changes nothing a model holds (private
messages are never history). Effects that come after the answer (a removal's eviction, a
token's expiry) are waited for by the frames they must bring.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_SECRET, ConnectClient, StartServer
from tests.room_model import RoomModel, Snapshot, differences
from tests.support import SCALE, Client, RedisServer, ServerProcess, server_processes, timeout
from tests.test_moderation import facilitator_token

Frame = dict[str, Any]

# One at a time and requiring a facilitator: the turn and `waiting` are in play too.
ROOM = "grief-and-loss"
# The scenario joins, leaves and changes hands far faster than a person: lift the join bucket.
LIMITS = {"JOIN_BURST": "1000", "JOIN_PER_SECOND": "1000"}
EXPIRES_IN_S = 3.0


async def next_frame(
    client: Client, after: int, kind: str, seconds: float = 5.0, **match: Any
) -> int:
    """The index of the first frame of `kind` matching `match` at or after `after` in what
    `client` received, reading on for up to `seconds` (scaled)."""
    deadline = time.monotonic() + timeout(seconds)
    seen = after
    while True:
        for index in range(seen, len(client.frames)):
            frame = client.frames[index]
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return index
        seen = len(client.frames)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {kind} frame matching {match}; got {client.frames[-5:]}")
        try:
            await client._read(remaining / SCALE)
        except TimeoutError:
            continue


class Divergence(AssertionError):
    """What a newcomer is told differs from what the watchers rebuilt from events."""


class Watcher:
    """A client that stays in the room and folds every frame it receives into its model."""

    def __init__(self, client: Client, joined: Frame) -> None:
        self.client = client
        self.participant = str(joined["participant"])
        self.model = RoomModel.from_joined(joined)
        self.applied = next(i for i, f in enumerate(client.frames) if f is joined) + 1

    def absorb(self) -> Snapshot:
        """Fold in everything received so far; the picture that results."""
        self.model.apply_all(self.client.frames[self.applied :])
        self.applied = len(self.client.frames)
        return self.model.snapshot()


class Scene:
    """The room under test, its watchers and the fresh joiners that check them."""

    def __init__(self, urls: list[str], connect: ConnectClient) -> None:
        self.urls = urls
        self.connect = connect
        self.placed = 0
        self.where: dict[Client, str] = {}
        self.tokens: dict[Client, str] = {}
        self.checks = 0
        self.fresh_tokens: dict[str, str] = {}
        self.fresh_facilitator = facilitator_token("Fresh", [ROOM])
        self.member: Watcher | None = None
        self.staff: Watcher | None = None
        self.line = ""  # the private conversation that carries the checkpoints

    @property
    def watchers(self) -> list[Watcher]:
        return [w for w in (self.member, self.staff) if w is not None]

    def _url(self) -> str:
        """Each new client on the next process in turn, so every path crosses processes."""
        self.placed += 1
        return self.urls[self.placed % len(self.urls)]

    async def client(self, like: Client | None = None) -> Client:
        """A member's socket; `like`: another socket of that member, on the other process
        (if there are two)."""
        url = self._url()
        fields = {} if like is None else {"token": self.tokens[like]}
        if like is not None and len(self.urls) > 1:
            url = next(u for u in self.urls if u != self.where[like])
        client = await self.connect(url, hello=False)
        self.tokens[client] = (await client.hello(**fields))["token"]
        self.where[client] = url
        return client

    async def facilitator(self, name: str, hours: float = 1, like: Client | None = None) -> Client:
        """A facilitator's socket; `like`: that member again, on the process of that socket."""
        url = self._url() if like is None else self.where[like]
        fields = {"facilitator_token": facilitator_token(name, [ROOM], hours)}
        if like is not None:
            fields["token"] = self.tokens[like]
        client = await self.connect(url, hello=False)
        welcome = await client.hello(**fields)
        assert welcome["role"] == "facilitator"
        self.where[client] = url
        self.tokens[client] = welcome["token"]
        return client

    async def open(self) -> Client:
        """The watchers, an acting facilitator (returned) and the checkpoint line, checked."""
        member = await self.client()
        self.member = Watcher(member, await self.enter(member))
        wren = await self.facilitator("Wren")
        self.staff = Watcher(wren, await self.enter(wren))
        sam = await self.facilitator("Sam")
        await self.enter(sam)
        line = {"type": "private_open", "participant": self.member.participant}
        opened = await self.ok(sam, line)
        self.line = opened["conversation"]
        await self.wait_all("private_opened", conversation=self.line)
        await self.check("two watchers, a facilitator and a private line")
        return sam

    async def enter(self, client: Client) -> Frame:
        """join and agree. A socket's frames are handled one after the other, so the agree is
        answered after everything the join published (presence, and `staff` for a facilitator)."""
        return await client.enter(ROOM)

    async def ok(self, client: Client, frame: Frame) -> Frame:
        answer = await client.request({"room": ROOM, **frame})
        assert answer["type"] == "ack", (frame["type"], answer)
        return answer

    async def wait_all(self, kind: str, staff_only: bool = False, **match: Any) -> None:
        """Every watcher (or only the facilitator) received a frame of `kind` matching `match`
        since its last check."""
        for watcher in self.watchers:
            if watcher is self.staff or not staff_only:
                await next_frame(watcher.client, watcher.applied, kind, **match)

    async def settle(self) -> list[Snapshot]:
        """Wait for a checkpoint to reach both watchers; their pictures after it."""
        assert self.member is not None and self.staff is not None
        self.checks += 1
        text = f"checkpoint {self.checks}"
        line = {"type": "send", "conversation": self.line, "text": text}
        await self.ok(self.staff.client, line)
        await self.wait_all("message", conversation=self.line, text=text)
        return [watcher.absorb() for watcher in self.watchers]

    async def check(self, label: str) -> None:
        """The watchers' pictures equal what a member and a facilitator joining now are told."""
        member_view, staff_view = await self.settle()
        diff = "\n".join(differences(member_view.public(), staff_view.public()))
        if diff:
            raise Divergence(f"{label}: the watchers disagree:\n{diff}")
        await self._fresh(label, facilitator=False, want=member_view.public())
        await self._fresh(label, facilitator=True, want=staff_view)

    async def _fresh(self, label: str, facilitator: bool, want: Snapshot) -> None:
        kind = "facilitator" if facilitator else "member"
        fields: dict[str, str] = {}
        if kind in self.fresh_tokens:  # the same participant each time: no handles pile up
            fields["token"] = self.fresh_tokens[kind]
        if facilitator:
            # one facilitator (a token names who it is): the same participant each time
            fields["facilitator_token"] = self.fresh_facilitator
        client = await self.connect(self._url(), hello=False)
        try:
            self.fresh_tokens[kind] = (await client.hello(**fields))["token"]
            answer = await client.request({"type": "join", "room": ROOM})
            if answer["type"] == "error":
                # A locked room refuses a newcomer: what the watchers know says it is locked.
                assert want.state is not None and want.state["locked"], (label, answer)
                assert not facilitator and answer["code"] == "locked", (label, answer)
                return
            pid = answer["participant"]
            start = next(i for i, f in enumerate(client.frames) if f is answer) + 1
            # The join's answer ends where the newcomer's own presence begins.
            end = await next_frame(client, start, "presence", event="join", participant=pid)
            model = RoomModel.from_joined(answer)
            model.apply_all(client.frames[start:end])
            got = model.snapshot().without(pid)
            if not facilitator:
                got = got.public()
            diff = "\n".join(differences(got, want))
            if got != want:
                raise Divergence(f"{label}: a {kind} joining now is told otherwise:\n{diff}")
            await self.ok(client, {"type": "leave"})
            await self.wait_all("presence", event="leave", participant=pid)
        finally:
            await client.close()


async def run_scenario(scene: Scene) -> None:
    """Every client frame that changes what others see, one by one, each checked."""
    s = scene
    ok = s.ok

    sam = await s.open()

    ana = await s.client()
    ana_joined = await s.enter(ana)
    ana_id = ana_joined["participant"]
    await s.check("a member joins")
    await ok(ana, {"type": "agree"})
    await s.check("agree again: nothing visible")
    ben = await s.client()
    ben_id = (await s.enter(ben))["participant"]
    await s.check("a second member joins")

    await ok(sam, {"type": "call_on", "participant": ana_id})
    await s.check("call_on gives the turn")
    first = await ok(ana, {"type": "send", "text": "I lost my dad in May"})
    await s.check("send")
    await ok(ana, {"type": "send", "text": "the hospital, the last week", "cw": "medical"})
    await s.check("send with a content warning")
    crisis = await ok(ana, {"type": "send", "text": "some days I want to die"})
    # The alert is raised after the ack: wait for it, the last frame it brings.
    await s.wait_all("alert", staff_only=True, message_id=crisis["id"])
    await s.check("send with crisis language: an alert for facilitators")
    held = await ana.request({"type": "send", "room": ROOM, "text": "text me on 555-123-4567"})
    assert held["type"] == "held", held
    await s.check("a held message: nothing visible")

    await ok(ana, {"type": "listen"})
    await s.check("listen: the turn is given up")
    await ok(ana, {"type": "talk"})
    await s.check("talk")
    await ok(ben, {"type": "raise_hand"})
    await s.check("raise_hand")
    await ok(ana, {"type": "raise_hand"})
    await s.check("a second hand")
    await ok(ana, {"type": "lower_hand"})
    await s.check("lower_hand, own")
    await ok(sam, {"type": "lower_hand", "participant": ben_id})
    await s.check("lower_hand by a facilitator")
    await ok(ben, {"type": "raise_hand"})
    await ok(sam, {"type": "call_on", "participant": ben_id})
    await s.check("call_on lowers the hand of the one called")
    said = await ok(ben, {"type": "send", "text": "you do not deserve any of this"})
    await s.check("the one called on speaks")

    await ok(sam, {"type": "mute", "participant": ben_id, "minutes": 10})
    await s.check("mute: only the muted are told")
    await ok(sam, {"type": "unmute", "participant": ben_id})
    await s.check("unmute")
    report = await ok(ana, {"type": "report", "message_id": said["id"], "reason": "unkind"})
    await s.check("report")
    merged = await ok(ana, {"type": "report", "message_id": said["id"], "reason": "still"})
    assert merged.get("merged") is True, merged
    await s.check("a report merged into the open one: nothing new")
    await ok(sam, {"type": "flag", "participant": ana_id, "note": "check in later"})
    await s.check("flag")
    await ok(sam, {"type": "resolve", "item": report["item"]})
    await s.check("resolve")
    await ok(sam, {"type": "delete", "message_id": first["id"], "reason": "too much detail"})
    await s.check("delete")

    await ok(sam, {"type": "slow", "seconds": 30})
    await s.check("slow mode on")
    await ok(sam, {"type": "slow", "seconds": 0})
    await s.check("slow mode off")
    await ok(sam, {"type": "lock"})
    await s.check("lock: a newcomer is refused")
    await ok(sam, {"type": "unlock"})
    await s.check("unlock")
    await ok(sam, {"type": "pause"})
    await s.check("pause")
    await ok(sam, {"type": "resume"})
    await s.check("resume")
    await ok(sam, {"type": "announce", "text": "Ten minutes left"})
    await s.check("announce")

    private = await ok(sam, {"type": "private_open", "participant": ana_id})
    await s.check("private_open")
    conversation = private["conversation"]
    await ok(ana, {"type": "send", "conversation": conversation, "text": "I am ok, thanks"})
    await s.check("a private message: never history")
    await ok(sam, {"type": "private_close", "conversation": conversation})
    await s.check("private_close")
    await sam.send({"type": "audit", "room": ROOM, "ref": "audit"})
    await next_frame(sam, 0, "audit_log", ref="audit")  # answered in place of an ack
    await s.check("audit: nothing visible")

    await ok(sam, {"type": "remove", "participant": ben_id, "minutes": 30})
    await s.wait_all("presence", event="leave", participant=ben_id)  # evicted after the ack
    await s.check("remove: the turn goes with the one removed")

    await ok(sam, {"type": "call_on", "participant": ana_id})
    await ok(ana, {"type": "raise_hand"})
    await s.check("a turn and a raised hand")
    await ok(ana, {"type": "leave"})
    await s.check("leave: turn and hand are given up")
    await s.enter(ana)
    await s.check("a member joins again")

    await ok(sam, {"type": "call_on", "participant": ana_id})
    await ok(ana, {"type": "raise_hand"})
    await ok(sam, {"type": "end_session"})
    await s.check("end_session: history, turn and hands cleared")
    await ok(sam, {"type": "send", "text": "welcome to a new session"})
    await s.check("the first message of the new session")

    eve = await s.facilitator("Eve", hours=EXPIRES_IN_S / 3600)
    eve_id = (await s.enter(eve))["participant"]
    await next_frame(eve, 0, "facilitator_ended", seconds=EXPIRES_IN_S + 5)
    await s.wait_all("presence", event="update", participant=eve_id, role="member")
    await s.check("a facilitator's token expires")

    await ana.close()
    await s.wait_all("presence", event="leave", participant=ana_id)
    await s.check("a member's connection drops")
    # Within FACILITATOR_GRACE_SECONDS (30) a dropped facilitator stays present, and coming
    # back to the same process changes nothing for the room.
    await sam.close()
    sam = await s.facilitator("Sam", like=sam)
    await s.enter(sam)
    await s.check("a facilitator's connection drops and comes back")
    await ok(sam, {"type": "leave"})
    await s.check("a facilitator leaves")


async def test_fresh_join_equals_events_on_each_broker(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(**LIMITS)
    await run_scenario(Scene([server.ws], connect))


@pytest.fixture
def two_processes(
    redis_server: RedisServer, redis_state_server: RedisServer, tmp_path: Path
) -> Iterator[list[ServerProcess]]:
    """Two `peer-support serve` processes sharing Redis as docker-compose.yml ships it."""
    env = {
        "REDIS_URL": redis_server.url,
        "REDIS_STATE_URL": redis_state_server.url,
        "REDIS_PREFIX": f"r{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": TEST_SECRET,
        "PRESENCE_HEARTBEAT_SECONDS": "0.5",
        "PRESENCE_TTL_SECONDS": "2",
        "LEAVE_JITTER_SECONDS": "0",
        "SEND_BURST": "100",
        "SEND_PER_SECOND": "100",
        "FRAME_BURST": "200",
        "FRAME_PER_SECOND": "200",
        **LIMITS,
    }
    with server_processes(env, tmp_path) as servers:
        yield servers


@pytest.mark.cluster
async def test_fresh_join_equals_events_across_two_processes(
    two_processes: list[ServerProcess], connect: ConnectClient
) -> None:
    await run_scenario(Scene([server.ws for server in two_processes], connect))


# A participant already present elsewhere (another process, or a facilitator held present by
# FACILITATOR_GRACE_SECONDS) who joins with another summary (listening, role): the room is told
# with a `presence` `update`, so a newcomer and the room agree. A facilitator's member-only tab
# is another participant altogether (facilitators are known by their token's id).


async def test_listening_facilitator_back_within_the_grace(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(**LIMITS)
    s = Scene([server.ws], connect)
    sam = await s.open()
    await s.ok(sam, {"type": "listen"})
    await s.check("a facilitator listens")
    await sam.close()  # held present for FACILITATOR_GRACE_SECONDS (30)
    sam = await s.facilitator("Sam", like=sam)
    await s.enter(sam)
    await s.check("a listening facilitator comes back within the grace")


@pytest.mark.cluster
async def test_second_tab_of_a_listening_member_on_another_process(
    two_processes: list[ServerProcess], connect: ConnectClient
) -> None:
    s = Scene([server.ws for server in two_processes], connect)
    await s.open()
    ana = await s.client()
    await s.enter(ana)
    await s.ok(ana, {"type": "listen"})
    await s.check("a member listens")
    tab = await s.client(like=ana)
    await s.enter(tab)
    await s.check("a second tab of the listening member, on the other process")


@pytest.mark.cluster
async def test_member_tab_of_a_facilitator_on_another_process(
    two_processes: list[ServerProcess], connect: ConnectClient
) -> None:
    s = Scene([server.ws for server in two_processes], connect)
    sam = await s.open()
    tab = await s.client(like=sam)  # the facilitator's member token, no facilitator token
    await s.enter(tab)
    await s.check("a facilitator's second tab, as a member, on the other process")
