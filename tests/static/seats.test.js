// node --test tests/static/: small groups, the pure parts (static/seats.js): whether a
// directory entry is full, the rooms offered instead of a full one (the server's rule applied
// to the directory the page has), and the ids of a `room_full` the page can enter.

import test from "node:test";
import assert from "node:assert/strict";
import { MAX_ALTERNATIVES, alternativeIds, isFull, openAlternatives } from "../../static/seats.js";

const room = (id, fields = {}) => ({ id, name: id, category: "Grief", language: "en",
  locked: false, full: false, ...fields });
const ids = (rooms) => rooms.map((r) => r.id);

test("a room is full only when the directory says so", () => {
  assert.equal(isFull(room("a", { full: true })), true);
  assert.equal(isFull(room("a")), false);
  assert.equal(isFull({ id: "a", full: "true" }), false); // not a boolean: not full
  assert.equal(isFull(null), false);
});

test("a full room offers the open rooms of its category and language, in directory order", () => {
  const full = room("grief-a", { full: true });
  const rooms = [
    full,
    room("grief-b", { category: "grief" }), // any letter case
    room("grief-locked", { locked: true }),
    room("grief-full", { full: true }),
    room("grief-uk", { language: "en-GB" }), // the same primary language
    room("duelo", { language: "es" }),
    room("anxiety", { category: "Anxiety" }),
    room("grief-c", { category: "GRIEF" }),
  ];
  assert.deepEqual(ids(openAlternatives(full, rooms)), ["grief-b", "grief-uk", "grief-c"]);
  // A Spanish room points to Spanish rooms only.
  const duelo = room("duelo-a", { language: "es-MX", full: true });
  assert.deepEqual(ids(openAlternatives(duelo, [duelo, ...rooms])), ["duelo"]);
});

test("at most as many as the server offers, and none when nothing fits", () => {
  const full = room("x", { full: true });
  const many = Array.from({ length: 9 }, (_, i) => room(`g${i}`));
  assert.equal(MAX_ALTERNATIVES, 5);
  assert.deepEqual(ids(openAlternatives(full, many)), ["g0", "g1", "g2", "g3", "g4"]);
  assert.deepEqual(ids(openAlternatives(full, many, 2)), ["g0", "g1"]);
  assert.deepEqual(openAlternatives(full, [full, room("y", { locked: true })]), []);
  assert.deepEqual(openAlternatives(full, undefined), []);
  assert.deepEqual(openAlternatives(null, many), []);
  // An entry the address router could not enter is never offered.
  assert.deepEqual(openAlternatives(full, [room("Bad Id"), null, room("ok")]).map((r) => r.id),
    ["ok"]);
});

test("a room_full's alternatives: room ids only, each once, never the full room", () => {
  assert.deepEqual(alternativeIds(["grief-b", "grief-uk"], "grief-a"), ["grief-b", "grief-uk"]);
  assert.deepEqual(alternativeIds(["grief-b", "grief-b", "grief-a", 7, null, "../x", "A"],
    "grief-a"), ["grief-b"]);
  assert.deepEqual(alternativeIds(["a", "b", "c", "d", "e", "f"], "z"), ["a", "b", "c", "d", "e"]);
  assert.deepEqual(alternativeIds([], "grief-a"), []);
  assert.deepEqual(alternativeIds(undefined, "grief-a"), []); // an older server: none
  assert.deepEqual(alternativeIds("grief-b", "grief-a"), []);
});
