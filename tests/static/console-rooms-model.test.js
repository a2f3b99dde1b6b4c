// node --test tests/static/: the console's rooms, pure parts (static/console-rooms-model.js):
// a room form read and checked against the server's limits, the edit that sends only what
// changed, sessions and facts in words, the time zones offered, an id from a name.

import test from "node:test";
import assert from "node:assert/strict";
import {
  COMMON_LANGUAGES, LIMITS, blankRoom, blankSession, formValues, readRoom, roomChanges,
  roomFacts, sessionText, sessionsText, slugFromName, weekdayName, zoneOptions,
} from "../../static/console-rooms-model.js";
import { wordsFor } from "../../static/console-words.js";

// A room as GET /api/admin/rooms lists it.
const LISTED = Object.freeze({
  id: "evening-calm", name: "Evening calm", category: "Anxiety",
  description: "A quiet evening group.", rules: ["Be kind.", "Stay anonymous."],
  rules_version: 3, requires_facilitator: true, one_at_a_time: false,
  allow_contact_details: false,
  sessions: [{ day: "Thu", start: "20:00", minutes: 60, timezone: "Europe/London" }],
  language: "en-GB", capacity: 12,
});

test("a listed room reads back from its form unchanged: no change to send", () => {
  const values = formValues(LISTED);
  assert.equal(values.capacity, 12);
  assert.deepEqual(values.rules, LISTED.rules);
  const { room, problems } = readRoom(values, false);
  assert.deepEqual(problems, []);
  assert.equal("id" in room, false);
  assert.deepEqual(roomChanges(LISTED, room), {});
});

test("an edit sends only the fields that changed, rules and sessions whole", () => {
  const values = formValues(LISTED);
  values.name = "  Evening calm (Thursdays) ";
  values.capacity = "20";
  values.one_at_a_time = true;
  assert.deepEqual(roomChanges(LISTED, readRoom(values, false).room),
    { name: "Evening calm (Thursdays)", capacity: 20, one_at_a_time: true });

  const rules = formValues(LISTED);
  rules.rules = ["Stay anonymous.", "Be kind.", "  "]; // reordered, one empty field left
  assert.deepEqual(roomChanges(LISTED, readRoom(rules, false).room),
    { rules: ["Stay anonymous.", "Be kind."] });

  const sessions = formValues(LISTED);
  sessions.sessions[0].minutes = "90";
  sessions.sessions.push({ day: "Sun", start: "09:30", minutes: "45", timezone: "UTC" });
  assert.deepEqual(roomChanges(LISTED, readRoom(sessions, false).room), { sessions: [
    { day: "Thu", start: "20:00", minutes: 90, timezone: "Europe/London" },
    { day: "Sun", start: "09:30", minutes: 45, timezone: "UTC" }] });

  const none = formValues(LISTED);
  none.sessions = [];
  assert.deepEqual(roomChanges(LISTED, readRoom(none, false).room), { sessions: [] });
});

test("a new room: what the API takes, with its id", () => {
  const values = { ...blankRoom(), id: " new-dawn ", name: "New dawn", category: "Grief",
    description: "Mornings.", rules: ["", "Be kind.", ""],
    sessions: [{ ...blankSession("America/New_York"), start: "07:00" }] };
  const { room, problems } = readRoom(values, true);
  assert.deepEqual(problems, []);
  assert.deepEqual(room, { id: "new-dawn", name: "New dawn", category: "Grief",
    description: "Mornings.", language: "en", capacity: 15, requires_facilitator: false,
    one_at_a_time: false, allow_contact_details: false, rules: ["Be kind."],
    sessions: [{ day: "Mon", start: "07:00", minutes: 60, timezone: "America/New_York" }] });
});

test("every limit the server holds is checked, each problem naming its field", () => {
  const values = { id: "Bad id", name: "", category: "c".repeat(LIMITS.category + 1),
    description: " ", language: "english", capacity: "101", rules: ["", "r".repeat(501)],
    sessions: [{ day: "Monkey", start: "7pm", minutes: "0", timezone: "" }] };
  const { problems } = readRoom(values, true);
  assert.deepEqual(problems.map((p) => [p.field, p.index]), [
    ["id", undefined], ["name", undefined], ["category", undefined],
    ["description", undefined], ["language", undefined], ["capacity", undefined],
    ["rules", 1], ["day", 0], ["start", 0], ["minutes", 0], ["timezone", 0]]);
  for (const p of problems) assert.match(p.text, /^[A-Z].*\.$/);
  assert.equal(problems[6].text, "Rule 2 is longer than 500 characters.");
  assert.equal(problems[8].text, "Session 1: give a start time such as 19:00.");

  assert.equal(readRoom({ ...blankRoom(), rules: [] }, false).problems.some(
    (p) => p.field === "rules"), true);
  const many = { ...blankRoom(), name: "n", category: "c", description: "d",
    rules: Array.from({ length: 21 }, (_, i) => `rule ${i}`),
    sessions: Array.from({ length: 15 }, () => blankSession("UTC")) };
  assert.deepEqual(readRoom(many, false).problems.map((p) => p.field), ["rules", "sessions"]);
  for (const capacity of ["1.5", "-1", "0", "", "x"]) {
    assert.deepEqual(readRoom({ ...blankRoom(), name: "n", category: "c", description: "d",
      rules: ["r"], capacity }, false).problems.map((p) => p.field), ["capacity"], capacity);
  }
  for (const start of ["24:00", "19:60", "9:00", "19:00:00"]) {
    const s = { ...blankSession("UTC"), start };
    assert.deepEqual(readRoom({ ...blankRoom(), name: "n", category: "c", description: "d",
      rules: ["r"], sessions: [s] }, false).problems.map((p) => p.field), ["start"], start);
  }
  for (const tag of COMMON_LANGUAGES) {
    assert.deepEqual(readRoom({ ...blankRoom(), name: "n", category: "c", description: "d",
      rules: ["r"], language: tag }, false).problems, [], tag);
  }
});

test("weekly sessions and a room's facts in words", () => {
  assert.equal(sessionText({ day: "Tue", start: "19:00", minutes: 60,
    timezone: "Europe/Madrid" }), "Tuesdays at 19:00 for 1 hour (Europe/Madrid time)");
  assert.equal(sessionText({ day: "Sun", start: "09:30", minutes: 90, timezone: "UTC" }),
    "Sundays at 09:30 for 1 hour 30 minutes (UTC time)");
  assert.equal(sessionText({ day: "Fri", start: "23:00", minutes: 1, timezone: "UTC" }),
    "Fridays at 23:00 for 1 minute (UTC time)");
  assert.equal(sessionText({ day: "Sat", start: "08:00", minutes: 120, timezone: "UTC" }),
    "Saturdays at 08:00 for 2 hours (UTC time)");
  assert.deepEqual(sessionsText([]), ["No weekly sessions"]);
  assert.deepEqual(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    .map((d) => weekdayName(d, "en")), ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]);
  assert.equal(weekdayName("Sun", "es"), "domingo");
  assert.equal(weekdayName("Monkey", "en"), "Monkey");
  assert.deepEqual(sessionsText(LISTED.sessions),
    ["Thursdays at 20:00 for 1 hour (Europe/London time)"]);
  assert.equal(roomFacts(LISTED),
    "up to 12 members · 2 ground rules (version 3) · opens only with a facilitator");
  assert.equal(roomFacts({ capacity: 1, rules: ["x"], one_at_a_time: true,
    allow_contact_details: true }),
    "up to 1 member · 1 ground rule (version 1) · one at a time · contact details allowed");
});

test("time zones: the browser's list, the ones wanted, and UTC, each once", () => {
  assert.deepEqual(zoneOptions(["Europe/Madrid", "America/New_York"],
    ["Europe/Madrid", "Etc/GMT+5", "", null]),
  ["America/New_York", "Etc/GMT+5", "Europe/Madrid", "UTC"]);
  assert.deepEqual(zoneOptions(undefined, undefined), ["UTC"]);
  const real = zoneOptions(Intl.supportedValuesOf("timeZone"), []);
  assert.ok(real.length > 300 && real.includes("Europe/Madrid"));
});

test("an id suggested from a name fits the room id rules", () => {
  assert.equal(slugFromName("Évening calm!"), "evening-calm");
  assert.equal(slugFromName("  --Grief & loss (Tuesdays)-- "), "grief-loss-tuesdays");
  assert.equal(slugFromName("ÑOÑO año"), "nono-ano");
  assert.equal(slugFromName("日本"), "");
  const long = slugFromName(`${"a".repeat(62)} b`);
  assert.equal(long, "a".repeat(62));
  assert.ok(slugFromName("x ".repeat(80)).length <= LIMITS.id);
});

test("console words: from the catalogues under a module's prefix, with plural forms", () => {
  const say = wordsFor("console.roomsModel");
  assert.equal(say("capacity", { count: 1 }), "up to 1 member");
  assert.equal(say("capacity", { count: 3 }), "up to 3 members");
  assert.equal(say("problem.rule", { n: 2 }), "Rule 2 is longer than 500 characters.");
  assert.equal(say("problem.rule"), "Rule {n} is longer than 500 characters.");
  assert.equal(say("missing"), "console.roomsModel.missing"); // an unknown key, said as itself
});
