// node --test tests/static/: what each frame changes in the room as the client knows it
// (static/room-model.js).

import test from "node:test";
import assert from "node:assert/strict";
import * as model from "../../static/room-model.js";

function joinedRoom() {
  const room = model.newRoom("r", "member");
  room.joined = true;
  room.participant = "me";
  room.handle = "Warm Yak";
  room.participants.set("me", { participant: "me", handle: "Warm Yak", role: "member" });
  room.participants.set("f1", { participant: "f1", handle: "Sam", role: "facilitator" });
  return room;
}

test("presence join, update and leave keep the participant list and the count", () => {
  const room = joinedRoom();
  model.applyPresence(room, { event: "join", participant: "p2", handle: "Blue Owl",
    role: "member", members: 3 });
  assert.equal(room.participants.get("p2").handle, "Blue Owl");
  assert.equal(room.members, 3);
  model.applyPresence(room, { event: "update", participant: "p2", handle: "Blue Owl",
    role: "member", listening: true, muted: true });
  assert.deepEqual(room.participants.get("p2"), { participant: "p2", handle: "Blue Owl",
    role: "member", listening: true, muted: true });
  assert.equal(room.members, 3); // no count given: kept
  model.applyPresence(room, { event: "leave", participant: "p2", members: 2 });
  assert.equal(room.participants.has("p2"), false);
  assert.equal(room.members, 2);
});

test("'Facilitator here' follows the facilitators present", () => {
  const room = joinedRoom();
  room.facilitatorPresent = true; // as the last room_state said
  model.applyPresence(room, { event: "update", participant: "f1", handle: "Sam",
    role: "member" });
  assert.equal(model.facilitatorHere(room), false);
  model.applyPresence(room, { event: "join", participant: "f2", handle: "Ana",
    role: "facilitator" });
  assert.equal(model.facilitatorHere(room), true);
  model.applyPresence(room, { event: "leave", participant: "f2" });
  assert.equal(model.facilitatorHere(room), false);
});

test("a presence update making this very participant a member demotes the room's role", () => {
  const room = joinedRoom();
  room.role = "facilitator";
  assert.deepEqual(model.applyPresence(room, { event: "update", participant: "other",
    handle: "X", role: "member" }), { demoted: false });
  assert.equal(room.role, "facilitator");
  assert.deepEqual(model.applyPresence(room, { event: "update", participant: "me",
    handle: "Warm Yak", role: "member" }), { demoted: true });
  assert.equal(room.role, "member");
  assert.equal(model.isMember(room), true);
  assert.deepEqual(model.applyPresence(room, { event: "update", participant: "me",
    handle: "Warm Yak", role: "member" }), { demoted: false });
});

test("room_state sets the flags and says what changed", () => {
  const room = joinedRoom();
  let changed = model.applyRoomState(room, { locked: true, slow: 30, paused: true,
    waiting: true, one_at_a_time: true, facilitator_present: false, turn: "me",
    rules_version: 1 });
  assert.deepEqual([room.locked, room.slow, room.paused, room.waiting, room.oneAtATime,
    room.facilitatorPresent, room.turn], [true, 30, true, true, true, false, "me"]);
  assert.deepEqual(changed, { paused: true, slow: true, waitingStarted: true, turn: true,
    myTurn: true, rulesChanged: false });
  changed = model.applyRoomState(room, { locked: true, slow: 30, paused: true, waiting: true,
    one_at_a_time: true, turn: "me" });
  assert.deepEqual(changed, { paused: false, slow: false, waitingStarted: false, turn: false,
    myTurn: false, rulesChanged: false });
  assert.equal(room.facilitatorPresent, false); // absent: kept
  changed = model.applyRoomState(room, { turn: "" });
  assert.equal(room.turn, null);
  assert.deepEqual([changed.paused, changed.slow, changed.turn, changed.myTurn],
    [true, true, true, false]);
  assert.deepEqual([room.locked, room.slow, room.waiting], [false, 0, false]);
});

test("a new turn clears 'spoke'; the same turn keeps it", () => {
  const room = joinedRoom();
  model.applyRoomState(room, { turn: "me" });
  room.spoke = true;
  model.applyRoomState(room, { turn: "me" });
  assert.equal(room.spoke, true);
  model.applyRoomState(room, { turn: "f1" });
  assert.equal(room.spoke, false);
});

test("a new rules version asks again only someone who had agreed; it never goes back", () => {
  const room = joinedRoom();
  assert.equal(model.applyRoomState(room, { rules_version: 2 }).rulesChanged, false);
  assert.equal(room.rulesVersion, 2);
  room.agreedVersion = 2;
  assert.equal(model.applyRoomState(room, { rules_version: 3 }).rulesChanged, true);
  assert.equal(room.rulesVersion, 3);
  assert.equal(model.applyRoomState(room, { rules_version: 1 }).rulesChanged, false);
  assert.equal(room.rulesVersion, 3);
});

test("room_updated: new rules are agreed again, once, whichever of it and room_state comes first", () => {
  const room = joinedRoom();
  room.agreedVersion = 1;
  const updated = { type: "room_updated", room: room.id, name: "New name", rules: ["Be kind."],
    rules_version: 2, one_at_a_time: true };
  assert.deepEqual(model.applyRoomUpdated(room, updated), { rulesChanged: true });
  assert.equal(room.rulesVersion, 2);
  assert.equal(room.oneAtATime, true);
  // The room_state that follows says the same version: nothing more to ask.
  assert.equal(model.applyRoomState(room, { rules_version: 2, one_at_a_time: true })
    .rulesChanged, false);
  // Another change (a name) keeps the version: the agreement holds.
  room.agreedVersion = 2;
  assert.deepEqual(model.applyRoomUpdated(room, { ...updated, name: "Other" }),
    { rulesChanged: false });
  assert.equal(room.oneAtATime, true);
  // Someone who never agreed is not asked "again"; the new version is still theirs to agree.
  const fresh = joinedRoom();
  assert.deepEqual(model.applyRoomUpdated(fresh, { rules_version: 4 }), { rulesChanged: false });
  assert.equal(fresh.rulesVersion, 4);
});

test("hands: the queue in order, and who newly raised one (not this participant)", () => {
  const room = joinedRoom();
  assert.deepEqual(model.applyHands(room, { queue: ["p2", "me"] }), ["p2"]);
  assert.deepEqual(room.hands, ["p2", "me"]);
  assert.deepEqual(model.applyHands(room, { queue: ["p2", "me", "p3", "p4"] }), ["p3", "p4"]);
  assert.deepEqual(model.applyHands(room, { queue: ["p4"] }), []);
  assert.deepEqual(model.applyHands(room, { queue: "nonsense" }), []);
  assert.deepEqual(room.hands, []);
});

test("messages go in once, in id order, late replays before the later ones", () => {
  const room = joinedRoom();
  assert.deepEqual(model.addMessage(room, { id: 5, text: "a" }), { id: 5, before: null });
  assert.deepEqual(model.addMessage(room, { id: 9, text: "c" }), { id: 9, before: null });
  assert.deepEqual(model.addMessage(room, { id: 7, text: "b" }), { id: 7, before: 9 });
  assert.deepEqual(model.addMessage(room, { id: 6, text: "b0" }), { id: 6, before: 7 });
  assert.equal(model.addMessage(room, { id: 7, text: "again" }), null);
  assert.equal(model.addMessage(room, { id: "x" }), null);
  assert.equal(room.messages.get(7).text, "b");
});

test("a message in a private conversation goes to its thread, a foreign one nowhere", () => {
  const room = joinedRoom();
  room.foreign.add("c2");
  assert.equal(model.messageTarget(room, { id: 1 }), "room");
  assert.equal(model.messageTarget(room, { id: 1, conversation: "" }), "room");
  assert.equal(model.messageTarget(room, { id: 1, conversation: "c1" }), "private");
  assert.equal(model.messageTarget(room, { id: 1, conversation: "c2" }), "ignore");
});

test("deleted marks a known message; its author is still named", () => {
  const room = joinedRoom();
  model.addMessage(room, { id: 3, participant: "gone", handle: "Old Fox", text: "hi" });
  assert.equal(model.deleteMessage(room, "3"), true);
  assert.equal(model.deleteMessage(room, 4), false);
  assert.equal(model.shownText(room, 3), "This message was removed by a facilitator.");
  assert.equal(model.handleOf(room, "gone"), "Old Fox");
  assert.equal(model.handleOf(room, "f1"), "Sam");
  assert.equal(model.handleOf(room, "nobody"), "a participant");
});

test("session_ended (or a join that did not recover) clears the log", () => {
  const room = joinedRoom();
  model.addMessage(room, { id: 1, text: "a" });
  model.deleteMessage(room, 1);
  model.clearMessages(room);
  assert.equal(room.messages.size, 0);
  assert.equal(room.deleted.size, 0);
  assert.deepEqual(model.addMessage(room, { id: 1, text: "new" }), { id: 1, before: null });
  assert.equal(model.shownText(room, 1), "new");
});
