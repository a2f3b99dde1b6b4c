// node --test tests/static/: check-in and check-out, the pure parts (static/mood-model.js):
// the five answers, the faces, when the question is asked, what the tab remembers, and a
// `mood_summary` as rows.

import test from "node:test";
import assert from "node:assert/strict";
import {
  ASKED_PREFIX, FACES, MOOD_TEXT, askedKey, mouthPath, promptWords, refusalText, shouldAsk,
  summaryRows,
} from "../../static/mood-model.js";

test("five answers, worst first, each with words for everyone", () => {
  assert.deepEqual(FACES.map((f) => f.value), [1, 2, 3, 4, 5]);
  assert.deepEqual(FACES.map((f) => f.label), ["Very low", "Low", "Okay", "Good", "Very good"]);
  assert.ok(Object.isFrozen(FACES) && Object.isFrozen(MOOD_TEXT));
});

test("the mouth frowns at 1, is straight at 3 and smiles at 5", () => {
  const bend = (v) => Number(/Q20 (\d+)/.exec(mouthPath(v))[1]);
  assert.equal(bend(3), 28); // the ends are at 28: a straight line
  assert.ok(bend(1) < bend(2) && bend(2) < bend(3) && bend(3) < bend(4) && bend(4) < bend(5));
  assert.equal(mouthPath(0), mouthPath(1)); // out of range is clamped, never NaN
  assert.equal(mouthPath(9), mouthPath(5));
});

test("the tab remembers that it asked, under psc. so forgetting removes it", () => {
  assert.equal(askedKey("anxiety", "f28d6b3a", "start"), "psc.mood.anxiety.f28d6b3a.start");
  assert.ok(askedKey("a", "e", "end").startsWith(ASKED_PREFIX) && ASKED_PREFIX.startsWith("psc."));
});

test("members are asked at join and at the end, once per question and session", () => {
  assert.equal(shouldAsk("join", "member", "e1", null, null), true);
  assert.equal(shouldAsk("join", "member", "e1", "skipped", null), false);
  assert.equal(shouldAsk("join", "member", "e1", "answered", null), false);
  assert.equal(shouldAsk("ended", "member", "e1", null, null), true);
  assert.equal(shouldAsk("ended", "member", "e1", "answered", null), false);
  assert.equal(shouldAsk("join", "facilitator", "e1", null, null), false);
  assert.equal(shouldAsk("join", "member", undefined, null, null), false); // no session known
  assert.equal(shouldAsk("elsewhere", "member", "e1", null, null), false);
});

test("leaving asks only someone who answered the check-in", () => {
  assert.equal(shouldAsk("leave", "member", "e1", null, "answered"), true);
  assert.equal(shouldAsk("leave", "member", "e1", null, "skipped"), false);
  assert.equal(shouldAsk("leave", "member", "e1", null, null), false);
  assert.equal(shouldAsk("leave", "member", "e1", "answered", "answered"), false);
});

test("the words of each moment", () => {
  assert.equal(promptWords("join").question, "How are you feeling right now?");
  assert.equal(promptWords("leave").skip, "Skip and leave");
  assert.match(promptWords("ended").question, /session has ended/);
  assert.equal(refusalText("already_answered"), MOOD_TEXT.already);
  assert.equal(refusalText("not_found"), MOOD_TEXT.closed);
  assert.equal(refusalText("unavailable"), MOOD_TEXT.notSent);
});

test("a summary is two rows, counts with their total or null", () => {
  const [start, end] = summaryRows({ start: [1, 1, 2, 0, 1], end: null });
  assert.deepEqual(start, { label: "Start", counts: [1, 1, 2, 0, 1], total: 5 });
  assert.deepEqual(end, { label: "End", counts: null, total: null });
  const [odd] = summaryRows({ start: [1, -2, "x", 0, 4] }); // never shows what is not a count
  assert.deepEqual(odd.counts, [1, 0, 0, 0, 4]);
  assert.equal(summaryRows(null)[0].counts, null);
  assert.equal(summaryRows({ start: [1, 2] })[0].counts, null);
});
