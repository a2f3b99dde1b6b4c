// node --test tests/static/: times in the reader's locale and time zone (static/format.js):
// a room's next session ("Tuesday 19:00, in 2 days"), how far off a time is, clock times and
// times on another day.

import test from "node:test";
import assert from "node:assert/strict";
import { fmtRelative, fmtSession, fmtTime, fmtUntil, minutesLeft, parseTime }
  from "../../static/format.js";
import { setLanguage } from "../../static/i18n.js";

const SUNDAY_NOON = Date.parse("2026-12-06T12:00:00Z");
const TUESDAY_7PM = Date.parse("2026-12-08T19:00:00Z");

test("the next session: weekday, time, and how far off, in English and Spanish", () => {
  setLanguage("en");
  assert.equal(fmtSession(TUESDAY_7PM, SUNDAY_NOON, "en-GB", "UTC"), "Tuesday 19:00, in 2 days");
  assert.equal(fmtSession(TUESDAY_7PM, SUNDAY_NOON, "en-US", "UTC"), "Tuesday 7:00 PM, in 2 days");
  setLanguage("es");
  assert.equal(fmtSession(TUESDAY_7PM, SUNDAY_NOON, "es-ES", "UTC"),
    "martes 19:00, dentro de 2 días");
  assert.equal(fmtSession(TUESDAY_7PM, SUNDAY_NOON, "es-MX", "UTC"),
    "martes 7:00 p.m., dentro de 2 días");
  setLanguage("en");
  assert.equal(fmtSession(null, SUNDAY_NOON, "en-GB", "UTC"), "");
});

test("the session is told in the member's time zone", () => {
  setLanguage("en");
  // 19:00 in London on a Tuesday is 13:00 in Mexico City, and Wednesday 04:00 in Tokyo.
  assert.equal(fmtSession(TUESDAY_7PM, SUNDAY_NOON, "en-GB", "America/Mexico_City"),
    "Tuesday 13:00, in 2 days");
  assert.equal(fmtSession(TUESDAY_7PM, SUNDAY_NOON, "en-GB", "Asia/Tokyo"),
    "Wednesday 04:00, in 3 days");
});

test("how far off: minutes within the hour, hours the same day, then calendar days", () => {
  const at = (iso) => Date.parse(iso);
  assert.equal(fmtRelative(at("2026-12-06T12:30:00Z"), SUNDAY_NOON, "en", "UTC"), "in 30 minutes");
  assert.equal(fmtRelative(at("2026-12-06T15:00:00Z"), SUNDAY_NOON, "en", "UTC"), "in 3 hours");
  assert.equal(fmtRelative(at("2026-12-06T09:00:00Z"), SUNDAY_NOON, "en", "UTC"), "3 hours ago");
  assert.equal(fmtRelative(at("2026-12-07T19:00:00Z"), SUNDAY_NOON, "en", "UTC"), "tomorrow");
  assert.equal(fmtRelative(at("2026-12-07T19:00:00Z"), SUNDAY_NOON, "es", "UTC"), "mañana");
  assert.equal(fmtRelative(at("2026-12-04T19:00:00Z"), SUNDAY_NOON, "en", "UTC"), "2 days ago");
  assert.equal(fmtRelative(at("2026-12-13T12:00:00Z"), SUNDAY_NOON, "es", "UTC"), "dentro de 7 días");
  // Just after midnight is tomorrow by the calendar, but a few hours away: said in hours.
  const late = at("2026-12-06T22:00:00Z");
  assert.equal(fmtRelative(at("2026-12-07T01:00:00Z"), late, "en", "UTC"), "in 3 hours");
});

test("clock times and times on another day, in the locale", () => {
  const t = Date.parse("2026-12-06T19:05:00Z");
  assert.equal(fmtTime(t, "en-US", "UTC"), "7:05 PM");
  assert.equal(fmtTime(t, "es-ES", "UTC"), "19:05");
  assert.equal(fmtTime(null, "en-US", "UTC"), "");
  assert.equal(fmtUntil(t, SUNDAY_NOON, "en-GB", "UTC"), "19:05");
  assert.equal(fmtUntil(TUESDAY_7PM, SUNDAY_NOON, "en-GB", "UTC"), "Tue 8 Dec, 19:00");
  assert.equal(fmtUntil(TUESDAY_7PM, SUNDAY_NOON, "es-ES", "UTC"), "mar, 8 dic, 19:00");
  // Same instant, another zone: already the next day there.
  assert.equal(fmtUntil(t, SUNDAY_NOON, "en-GB", "Asia/Tokyo"), "Mon 7 Dec, 04:05");
});

test("times from the wire, and minutes left", () => {
  assert.equal(parseTime("2026-12-06T12:00:00Z"), SUNDAY_NOON);
  assert.equal(parseTime(SUNDAY_NOON / 1000), SUNDAY_NOON);
  assert.equal(parseTime(SUNDAY_NOON), SUNDAY_NOON);
  assert.equal(parseTime("soon"), null);
  assert.equal(minutesLeft(SUNDAY_NOON + 90000, SUNDAY_NOON), 2);
  assert.equal(minutesLeft(SUNDAY_NOON - 5000, SUNDAY_NOON), 1);
});
