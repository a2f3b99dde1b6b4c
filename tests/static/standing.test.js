// node --test tests/static/: facilitator standing in the web client (static/standing.js).

import test from "node:test";
import assert from "node:assert/strict";
import * as Standing from "../../static/standing.js";

test("the person is told plainly why standing ended and that they may stay", () => {
  assert.equal(Standing.endedText("expired", true),
    "Your facilitator access has ended (expired). You can stay in the room as a member.");
  assert.equal(Standing.endedText("revoked", true),
    "Your facilitator access has ended (revoked). You can stay in the room as a member.");
  assert.equal(Standing.endedText("expired", false),
    "Your facilitator access has ended (expired). You can carry on as a member.");
});

test("a reason the contract does not name is never put into the words", () => {
  for (const reason of [undefined, null, "", "<b>x</b>", "toString", "__proto__", 7]) {
    assert.equal(Standing.endedText(reason, true),
      "Your facilitator access has ended. You can stay in the room as a member.");
  }
});

test("facilitator-only frames are known; what members receive is not among them", () => {
  for (const type of ["queue", "queue_item", "resolved", "alert", "reported", "flagged",
    "audit_log", "mood_summary"]) {
    assert.equal(Standing.facilitatorOnly(type), true, type);
  }
  for (const type of ["message", "presence", "room_state", "joined", "support", "muted",
    "private_opened", "facilitator_ended", "hands"]) {
    assert.equal(Standing.facilitatorOnly(type), false, type);
  }
});
