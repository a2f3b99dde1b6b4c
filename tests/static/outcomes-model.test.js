// node --test tests/static/: the console's check-in outcomes, the pure parts
// (static/outcomes-model.js): weeks, sums, the chart's shapes, its words and its table.

import test from "node:test";
import assert from "node:assert/strict";
import {
  OUTCOMES_TEXT, chartShapes, describe, goodShare, roomsOf, tableRows, weekFormatter, weekOf,
  weekly,
} from "../../static/outcomes-model.js";

// Midday times, so the week is the same in every time zone the tests may run in.
const entry = (room, started, start, end) => ({ room, session: started, started, start, end });
const ENTRIES = [
  entry("anxiety", "2026-01-06T12:00:00Z", [1, 2, 1, 0, 1], [0, 0, 1, 3, 1]), // Tue
  entry("anxiety", "2026-01-08T12:00:00Z", [0, 1, 2, 2, 0], null), // Thu, same week
  entry("anxiety", "2026-01-14T12:00:00Z", null, null), // next week, too few both times
  entry("grief", "2026-01-06T12:00:00Z", [5, 0, 0, 0, 0], [0, 0, 0, 0, 5]),
  entry("anxiety", "not a time", [5, 0, 0, 0, 0], null), // ignored
];
const fmt = (ms) => new Date(ms).toISOString().slice(5, 10);

test("a week is keyed by its Monday", () => {
  assert.equal(weekOf("2026-01-07T12:00:00Z").key, "2026-01-05");
  assert.equal(weekOf("2026-01-05T12:00:00Z").key, "2026-01-05"); // Monday itself
  assert.equal(weekOf("2026-01-11T12:00:00Z").key, "2026-01-05"); // Sunday
  assert.equal(weekOf("2026-01-12T12:00:00Z").key, "2026-01-12");
  assert.equal(weekOf("nonsense"), null);
});

test("rooms, and each room's sessions summed per week", () => {
  assert.deepEqual(roomsOf([...ENTRIES, null, { room: 3 }]), ["anxiety", "grief"]);
  assert.deepEqual(roomsOf(undefined), []);
  const weeks = weekly(ENTRIES, "anxiety");
  assert.deepEqual(weeks.map((w) => [w.key, w.sessions]), [["2026-01-05", 2], ["2026-01-12", 1]]);
  assert.deepEqual(weeks[0].start, [1, 3, 3, 2, 1]);
  assert.deepEqual(weeks[0].end, [0, 0, 1, 3, 1]); // the Thursday's end was not shown
  assert.equal(weeks[1].start, null);
  assert.deepEqual(weekly(ENTRIES, "nowhere"), []);
  assert.deepEqual(weekly("nonsense", "anxiety"), []);
  // Something that is not five counts is not added.
  assert.equal(weekly([entry("x", "2026-01-06T12:00:00Z", [1, 2, -1, 0, 5], [1])], "x")[0]
    .start, null);
});

test("the share of good answers", () => {
  assert.deepEqual(goodShare([0, 0, 1, 3, 1]), { total: 5, pct: 80 });
  assert.deepEqual(goodShare([0, 0, 0, 0, 0]), { total: 0, pct: 0 });
});

test("two bars a week, each stacked to the full height, very low at the bottom", () => {
  const weeks = weekly(ENTRIES, "anxiety");
  const shapes = chartShapes(weeks, fmt);
  assert.ok(shapes.width > 0 && shapes.height > 0);
  const of = (week, when) => shapes.bars.filter((b) => b.week === week && b.when === when);
  const start = of("2026-01-05", "start");
  assert.deepEqual(start.map((b) => [b.value, b.count]), [[1, 1], [2, 3], [3, 3], [4, 2], [5, 1]]);
  const sum = start.reduce((a, b) => a + b.h, 0);
  assert.ok(Math.abs(sum - 160) < 1e-9);
  for (let i = 1; i < start.length; i++) assert.ok(start[i].y < start[i - 1].y); // upwards
  assert.ok(of("2026-01-05", "end").every((b) => b.x > start[0].x)); // end beside start
  const empty = of("2026-01-12", "start");
  assert.deepEqual(empty.map((b) => b.value), [0]); // a dashed empty bar: too few answers
  const weekLabels = shapes.labels.filter((l) => l.kind === "week").map((l) => l.text);
  assert.deepEqual(weekLabels, ["01-05", "01-12"]);
  assert.deepEqual(shapes.grid.map((g) => g.text), ["0%", "50%", "100%"]);
  assert.ok(chartShapes([], fmt).width > 0);
});

test("the chart in words, and as table rows", () => {
  const weeks = weekly(ENTRIES, "anxiety");
  const text = describe("Anxiety", weeks, fmt);
  assert.match(text, /^Anxiety, 2 weeks from 01-05 to 01-12\./);
  assert.match(text, /Week of 01-05: start 10 answers, 30% good or very good; end 5 answers, 80% good or very good\./);
  assert.match(text, /Week of 01-12: start fewer than 5 answers; end fewer than 5 answers\./);
  assert.match(describe("Grief", weekly(ENTRIES, "grief"), fmt), /^Grief, week of 01-05\./);
  assert.equal(describe("Grief", [], fmt), OUTCOMES_TEXT.noneRoom);
  const rows = tableRows(weeks, fmt);
  assert.equal(rows.length, 4);
  assert.deepEqual(rows[0], { week: "Week of 01-05", first: true, when: "Start",
    counts: [1, 3, 3, 2, 1], total: 10, sessions: 2 });
  assert.equal(rows[1].first, false);
  assert.equal(rows[3].counts, null);
  assert.equal(rows[3].total, null);
});

test("week labels in the reader's locale", () => {
  const label = weekFormatter("en-GB")(Date.UTC(2026, 0, 5, 12));
  assert.match(label, /5 Jan/);
});
