// node --test tests/static/: what a reconnecting client asks for (static/recovery.js).

import test from "node:test";
import assert from "node:assert/strict";
import * as recovery from "../../static/recovery.js";

const joinedFrame = (extra) => ({ type: "joined", room: "r", epoch: "e1", history: [], ...extra });

test("a first join asks for no since and no epoch", () => {
  const memory = new Map();
  assert.deepEqual(recovery.joinFrame(memory, "r"), { type: "join", room: "r" });
  const seen = recovery.joined(memory, "r", joinedFrame({ history: [{ id: 3 }, { id: 7 }] }));
  assert.deepEqual(seen, { incremental: false, gap: false });
  assert.deepEqual(memory.get("r"), { epoch: "e1", lastId: 7 });
});

test("a rejoin sends the last id seen and its epoch, live messages included", () => {
  const memory = new Map();
  recovery.joined(memory, "r", joinedFrame({ history: [{ id: 4 }] }));
  recovery.seen(memory, "r", 9);
  recovery.seen(memory, "r", 6); // a late replay never moves since back
  recovery.seen(memory, "other", 50); // a room never joined is not remembered
  assert.deepEqual(recovery.joinFrame(memory, "r"),
    { type: "join", room: "r", since: 9, epoch: "e1" });
  assert.equal(memory.has("other"), false);
});

test("a room with nothing seen yet asks from the start", () => {
  const memory = new Map();
  recovery.joined(memory, "r", joinedFrame({ history: [] }));
  assert.deepEqual(recovery.joinFrame(memory, "r"), { type: "join", room: "r" });
});

test("recovered in the same epoch fills the gap and keeps what is on screen", () => {
  const memory = new Map([["r", { epoch: "e1", lastId: 9 }]]);
  const seen = recovery.joined(memory, "r",
    joinedFrame({ recovered: true, history: [{ id: 10 }, { id: 11 }] }));
  assert.deepEqual(seen, { incremental: true, gap: false });
  assert.deepEqual(memory.get("r"), { epoch: "e1", lastId: 11 });
  // Nothing missed: still incremental, and the last id stays.
  assert.deepEqual(recovery.joined(memory, "r", joinedFrame({ recovered: true })),
    { incremental: true, gap: false });
  assert.equal(memory.get("r").lastId, 11);
});

test("recovered:false says so and starts again from the history as kept", () => {
  const memory = new Map([["r", { epoch: "e1", lastId: 40 }]]);
  const seen = recovery.joined(memory, "r",
    joinedFrame({ recovered: false, history: [{ id: 30 }, { id: 31 }] }));
  assert.deepEqual(seen, { incremental: false, gap: true });
  assert.deepEqual(memory.get("r"), { epoch: "e1", lastId: 31 });
});

test("another epoch is never taken as a filled gap", () => {
  const memory = new Map([["r", { epoch: "e1", lastId: 40 }]]);
  const seen = recovery.joined(memory, "r",
    joinedFrame({ epoch: "e2", recovered: true, history: [{ id: 2 }] }));
  assert.deepEqual(seen, { incremental: false, gap: false });
  assert.deepEqual(recovery.joinFrame(memory, "r"),
    { type: "join", room: "r", since: 2, epoch: "e2" });
});

test("room_reset starts the new epoch from nothing; session_ended forgets the room", () => {
  const memory = new Map([["r", { epoch: "e1", lastId: 40 }]]);
  recovery.reset(memory, "r", "e2");
  assert.deepEqual(memory.get("r"), { epoch: "e2", lastId: 0 });
  assert.deepEqual(recovery.joinFrame(memory, "r"), { type: "join", room: "r" });
  recovery.seen(memory, "r", 1);
  assert.deepEqual(recovery.joinFrame(memory, "r"),
    { type: "join", room: "r", since: 1, epoch: "e2" });
  recovery.ended(memory, "r");
  assert.deepEqual(recovery.joinFrame(memory, "r"), { type: "join", room: "r" });
  // The first join after: no since, so not a gap either.
  assert.deepEqual(recovery.joined(memory, "r", joinedFrame({ recovered: false })),
    { incremental: false, gap: false });
});

test("history ids that are not numbers do not poison since", () => {
  const memory = new Map();
  recovery.joined(memory, "r", joinedFrame({ history: [{ id: "x" }, {}, { id: "5" }] }));
  assert.equal(memory.get("r").lastId, 5);
  recovery.seen(memory, "r", NaN);
  assert.equal(memory.get("r").lastId, 5);
});
