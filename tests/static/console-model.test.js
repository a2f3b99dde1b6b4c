// node --test tests/static/: the coordinator console's pure parts (static/console-model.js):
// the sign-in link and reading it back, durations, expiry and status words, and API refusals
// as sentences.

import test from "node:test";
import assert from "node:assert/strict";
import {
  MAX_HOURS, durationHours, errorSentence, expiryText, readFragment, roomsText, signInLink,
  statusText,
} from "../../static/console-model.js";

const TOKEN = "eyJuIjoiU2FtIn0.Z1x2Yw.abc-DEF_123";

test("the sign-in link carries the token in the fragment only", () => {
  const link = signInLink("https://chat.example.org", TOKEN);
  assert.equal(link, `https://chat.example.org/#facilitator=${TOKEN}`);
  const url = new URL(link);
  assert.equal(url.pathname, "/");
  assert.equal(url.search, "");
  assert.equal(readFragment(url.hash), TOKEN);
  assert.equal(signInLink("http://localhost:8000/", TOKEN), `http://localhost:8000/#facilitator=${TOKEN}`);
});

test("only a #facilitator= fragment with a token-shaped value is read", () => {
  assert.equal(readFragment(`#facilitator=${TOKEN}`), TOKEN);
  assert.equal(readFragment(`#facilitator=${encodeURIComponent(TOKEN)}`), TOKEN);
  for (const hash of ["", "#", "#/", "#/room/grief", "#facilitator=", "#facilitator=a b",
    "#facilitator=<script>", "#facilitator=%E0%A4%A", `#/facilitator=${TOKEN}`,
    `#facilitator=${TOKEN}&x=1`, null, undefined]) {
    assert.equal(readFragment(hash), null, String(hash));
  }
});

test("durations in hours or days, within what the server allows", () => {
  assert.equal(durationHours("8", "hours"), 8);
  assert.equal(durationHours("2", "days"), 48);
  assert.equal(durationHours("1.5", "hours"), 1.5);
  assert.equal(durationHours("90", "days"), MAX_HOURS);
  for (const [amount, unit] of [["91", "days"], ["0", "hours"], ["-1", "days"], ["", "hours"],
    ["x", "days"], ["Infinity", "hours"]]) {
    assert.equal(durationHours(amount, unit), null, `${amount} ${unit}`);
  }
});

test("expiry in the reader's locale and time zone, with how far off it is", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");
  const later = expiryText("2026-12-07T14:00:00.000Z", now, "en-GB", "UTC");
  assert.equal(later, "Mon 7 Dec, 14:00 (in 6 days)");
  // The same moment reads in the viewer's own zone.
  assert.match(expiryText("2026-12-07T14:00:00.000Z", now, "en-GB", "Asia/Tokyo"),
    /^Mon 7 Dec, 23:00 /);
  assert.match(expiryText("2026-12-01T15:00:00Z", now, "en-US", "UTC"), /\(in 3 hours\)$/);
  assert.match(expiryText("2026-12-01T12:30:00Z", now, "en-US", "UTC"), /\(in 30 minutes\)$/);
  assert.match(expiryText("2026-12-01T10:00:00Z", now, "en-US", "UTC"), /\(ended 2 hours ago\)$/);
  assert.equal(expiryText("not a time", now, "en-US", "UTC"), "");
});

test("status: revoked and expired before online", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");
  const future = "2026-12-02T12:00:00Z";
  assert.equal(statusText({ revoked: true, online: true, expires: future }, now), "Revoked");
  assert.equal(statusText({ revoked: false, online: true, expires: "2026-12-01T11:00:00Z" }, now),
    "Expired");
  assert.equal(statusText({ revoked: false, online: true, expires: future }, now), "Online");
  assert.equal(statusText({ revoked: false, online: false, expires: future }, now), "Not online");
});

test("rooms by name, null meaning all rooms", () => {
  const names = new Map([["grief", "Grief and loss"]]);
  assert.equal(roomsText(null, names), "All rooms");
  assert.equal(roomsText(["grief", "gone"], names), "Grief and loss, gone");
  assert.equal(roomsText([], names), "No rooms");
});

test("API refusals become plain sentences, never JSON", () => {
  const bad = { error: "bad_request", message: "name must be 1 to 40 characters" };
  assert.equal(errorSentence(400, bad), "That was not accepted: name must be 1 to 40 characters.");
  assert.match(errorSentence(401, { error: "unauthorized", message: "x" }), /^The coordinator token was not accepted/);
  assert.match(errorSentence(403, null), /not a coordinator token/);
  assert.equal(errorSentence(404, { error: "not_found", message: "no such facilitator" }),
    "Not found: no such facilitator.");
  assert.match(errorSentence(0, null), /could not be reached/);
  assert.match(errorSentence(503, { error: "unavailable", message: "try again" }), /busy/);
  assert.match(errorSentence(500, null), /on the server/);
  assert.match(errorSentence(415, { error: "unsupported_media_type" }), /did not work/);
  assert.equal(errorSentence(409, { error: "archived", message: "that id belonged to an " +
    "archived room" }), "That was not done: that id belonged to an archived room.");
  assert.match(errorSentence(409, null), /changed meanwhile/);
  for (const s of [400, 401, 403, 404, 409, 415, 500, 503, 0]) {
    const text = errorSentence(s, bad);
    assert.doesNotMatch(text, /[{}"]|bad_request/, `${s}: ${text}`);
    assert.match(text, /^[A-Z].*\.$/, `${s}: ${text}`);
  }
});
