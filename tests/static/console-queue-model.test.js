// node --test tests/static/: the console's queue across rooms and admin audit log, pure parts
// (static/console-queue-model.js): ages, kinds, new crisis alerts, summary, audit sentences.

import test from "node:test";
import assert from "node:assert/strict";
import {
  ageText, alertNews, auditText, invitedNames, itemKey, kindText, newAlerts, queueSummary,
} from "../../static/console-queue-model.js";

const NOW = Date.parse("2026-11-30T12:00:00Z");
const NAMES = new Map([["grief", "Grief and loss"], ["anxiety", "Living with anxiety"]]);
const roomName = (id) => NAMES.get(id) || id;

test("how long an item has waited, in short words", () => {
  assert.equal(ageText("2026-11-30T11:59:31Z", NOW), "just now");
  assert.equal(ageText("2026-11-30T12:00:05Z", NOW), "just now"); // another clock ahead
  assert.equal(ageText("2026-11-30T11:57:00Z", NOW), "3 min ago");
  assert.equal(ageText("2026-11-30T11:00:01Z", NOW), "59 min ago");
  assert.equal(ageText("2026-11-30T10:00:00Z", NOW), "2 h ago");
  assert.equal(ageText("2026-11-28T12:00:00Z", NOW), "2 days ago");
  assert.equal(ageText("2026-11-29T10:00:00Z", NOW), "26 h ago");
  assert.equal(ageText("not a time", NOW), "");
});

test("kinds in words", () => {
  assert.equal(kindText("alert"), "Crisis alert");
  assert.equal(kindText("report"), "Report");
  assert.equal(kindText("flag"), "Flag");
  assert.equal(kindText("something"), "Item");
});

test("new crisis alerts since the last look, said once", () => {
  const items = [
    { room: "grief", id: "q1", kind: "alert" },
    { room: "anxiety", id: "q1", kind: "alert" },
    { room: "grief", id: "q2", kind: "report" },
  ];
  assert.equal(itemKey(items[0]), "grief/q1");
  const known = new Set(["grief/q1"]);
  assert.deepEqual(newAlerts(known, items), [items[1]]);
  assert.deepEqual(newAlerts(new Set(items.map(itemKey)), items), []);
  assert.deepEqual(newAlerts(known, null), []);
  assert.equal(alertNews([items[1]], roomName), "New crisis alert in Living with anxiety.");
  assert.equal(alertNews(items.slice(0, 2), roomName),
    "2 new crisis alerts: Grief and loss, Living with anxiety.");
  assert.equal(alertNews([], roomName), "");
});

test("what waits, summed up", () => {
  assert.equal(queueSummary([]), "Nothing is waiting in any room.");
  assert.equal(queueSummary([{ kind: "alert" }]), "Waiting: 1 crisis alert.");
  assert.equal(queueSummary([{ kind: "report" }, { kind: "flag" }]), "Waiting: 2 other items.");
  assert.equal(queueSummary([{ kind: "alert" }, { kind: "alert" }, { kind: "flag" }]),
    "Waiting: 2 crisis alerts and 1 other item.");
});

test("admin audit entries as sentences, facilitators by name", () => {
  const log = [
    { at: "2026-11-30T10:00:00Z", by: "Kim", action: "facilitator_invite", facilitator: "f1",
      name: "Sam", rooms: ["grief", "gone"] },
    { at: "2026-11-30T10:01:00Z", by: "Kim", action: "facilitator_invite", facilitator: "f2",
      name: "Alex", rooms: null },
    { at: "2026-11-30T10:02:00Z", by: "Kim", action: "facilitator_revoke", facilitator: "f1" },
    { at: "2026-11-30T10:03:00Z", by: "Lee", action: "facilitator_revoke", facilitator: "f9" },
    { at: "2026-11-30T10:04:00Z", by: "Kim", action: "room_create", room: "anxiety" },
    { at: "2026-11-30T10:05:00Z", by: "Kim", action: "room_edit", room: "anxiety",
      fields: ["name", "one_at_a_time"], rules_version: 1 },
    { at: "2026-11-30T10:06:00Z", by: "Kim", action: "room_edit", room: "anxiety",
      fields: ["rules"], rules_version: 2 },
    { at: "2026-11-30T10:07:00Z", by: "Kim", action: "room_archive", room: "old-room" },
    { at: "2026-11-30T10:08:00Z", by: "Kim", action: "something_new" },
    { at: "2026-11-30T10:09:00Z", by: "Kim", action: "queue_resolve", room: "old-room",
      item: "q4" },
  ];
  const names = invitedNames(log);
  assert.deepEqual([...names], [["f1", "Sam"], ["f2", "Alex"]]);
  assert.deepEqual(log.map((e) => auditText(e, names, roomName)), [
    "Kim invited Sam (Grief and loss, gone).",
    "Kim invited Alex (all rooms).",
    "Kim revoked Sam's access.",
    "Lee revoked a facilitator's access.",
    "Kim created the room Living with anxiety.",
    "Kim edited the room Living with anxiety: name, one at a time.",
    "Kim edited the room Living with anxiety: rules. Members agree again to rules version 2.",
    "Kim archived the room old-room.",
    "Kim: something_new.",
    "Kim marked an item in old-room as handled.",
  ]);
});
