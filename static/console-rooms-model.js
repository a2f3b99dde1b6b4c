// The coordinator console's rooms, pure parts: a room form's values read and checked against
// the limits the server holds (rooms/catalog.py, docs/limits.md), the edit that sends only the
// changed fields, a room's weekly sessions and facts in words, the time zones to offer, and a
// room id suggested from its name. No DOM, network or clock, so `node --test tests/static/`
// tests them as the page uses them.

import { wordsFor } from "./console-words.js";

// The words: the message catalogues (static/i18n/), under this prefix.
const say = wordsFor("console.roomsModel");

export const DAYS = Object.freeze(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]);
export const FLAGS = Object.freeze(["requires_facilitator", "one_at_a_time",
  "allow_contact_details"]);
// rooms/catalog.py: MAX_RULES, MAX_RULE_CHARS, MAX_SESSIONS, MAX_CAPACITY, DEFAULT_CAPACITY.
export const LIMITS = Object.freeze({ id: 63, name: 80, category: 40, description: 2000,
  rules: 20, ruleChars: 500, sessions: 14, capacity: 100, minutes: 1440 });
export const DEFAULT_CAPACITY = 15;
export const DEFAULT_MINUTES = 60;
/** Tags offered first in the language select; any other known tag can be typed. */
export const COMMON_LANGUAGES = Object.freeze(["en", "en-GB", "en-US", "es", "es-MX", "fr",
  "de", "it", "pt", "pt-BR", "nl", "pl", "ar", "zh"]);
// The fields a room has besides its id and rules version, in the order the form shows them.
const FIELDS = ["name", "category", "description", "language", "capacity", ...FLAGS, "rules",
  "sessions"];
const ROOM_ID = /^[a-z0-9][a-z0-9-]{0,62}$/; // rooms/ids.py
const LANGUAGE_TAG = /^[A-Za-z]{2}(-[A-Za-z0-9]{1,8}){0,3}$/; // rooms/languages.py
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** A new room's form: nothing filled in but the defaults; sessions in `timezone`. */
export function blankRoom() {
  return { id: "", name: "", category: "", description: "", language: "en",
    capacity: DEFAULT_CAPACITY, requires_facilitator: false, one_at_a_time: false,
    allow_contact_details: false, rules: [""], sessions: [] };
}

/** A new weekly session for the form: Monday 19:00 for an hour in `timezone`. */
export function blankSession(timezone) {
  return { day: "Mon", start: "19:00", minutes: DEFAULT_MINUTES, timezone: timezone || "UTC" };
}

/** An id suggested from a room's name: "Évening calm!" -> "evening-calm". */
export function slugFromName(name) {
  return String(name || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+/, "").slice(0, LIMITS.id).replace(/-+$/, "");
}

function text(value) {
  return String(value ?? "").trim();
}

function whole(value) {
  const s = text(value);
  return /^\d+$/.test(s) ? Number(s) : NaN;
}

function between(n, low, high) {
  return Number.isInteger(n) && n >= low && n <= high;
}

/**
 * The room a form's `values` describe, as the admin API takes it, and the `problems` found (in
 * the form's order, each `{field, index?, text}`: `index` is the rule's or session's place).
 * Empty rule fields are left out; `isNew` also checks the id. The server checks again (a
 * language must also be a known one) and its word is final.
 */
export function readRoom(values, isNew) {
  const v = values || {};
  const problems = [];
  const room = {};
  if (isNew) {
    room.id = text(v.id);
    if (!ROOM_ID.test(room.id)) problems.push({ field: "id", text: say("problem.id") });
  }
  for (const [field, limit] of [["name", LIMITS.name], ["category", LIMITS.category],
    ["description", LIMITS.description]]) {
    room[field] = text(v[field]);
    if (!room[field] || room[field].length > limit) {
      problems.push({ field, text: say(`problem.${field}`) });
    }
  }
  room.language = text(v.language);
  if (room.language.length > 35 || !LANGUAGE_TAG.test(room.language)) {
    problems.push({ field: "language", text: say("problem.language") });
  }
  room.capacity = whole(v.capacity);
  if (!between(room.capacity, 1, LIMITS.capacity)) {
    problems.push({ field: "capacity", text: say("problem.capacity") });
  }
  for (const flag of FLAGS) room[flag] = Boolean(v[flag]);
  const given = Array.isArray(v.rules) ? v.rules.map(text) : [];
  room.rules = given.filter(Boolean);
  if (room.rules.length < 1 || room.rules.length > LIMITS.rules) {
    problems.push({ field: "rules", text: say("problem.rules") });
  }
  given.forEach((rule, i) => {
    if (rule.length > LIMITS.ruleChars) {
      problems.push({ field: "rules", index: i, text: say("problem.rule", { n: i + 1 }) });
    }
  });
  const sessions = Array.isArray(v.sessions) ? v.sessions : [];
  if (sessions.length > LIMITS.sessions) {
    problems.push({ field: "sessions", text: say("problem.sessions") });
  }
  room.sessions = sessions.map((s, i) => {
    const session = { day: text(s && s.day), start: text(s && s.start),
      minutes: whole(s && s.minutes), timezone: text(s && s.timezone) };
    const n = i + 1;
    if (!DAYS.includes(session.day)) problems.push({ field: "day", index: i,
      text: say("problem.day", { n }) });
    if (!HH_MM.test(session.start)) problems.push({ field: "start", index: i,
      text: say("problem.start", { n }) });
    if (!between(session.minutes, 1, LIMITS.minutes)) problems.push({ field: "minutes",
      index: i, text: say("problem.minutes", { n }) });
    if (!session.timezone || session.timezone.length > 64) problems.push({ field: "timezone",
      index: i, text: say("problem.timezone", { n }) });
    return session;
  });
  return { room, problems };
}

/** A room as the API listed it, in the form's terms (missing fields get their defaults). */
export function formValues(room) {
  const r = room || {};
  const blank = blankRoom();
  const values = { ...blank };
  for (const field of ["id", "name", "category", "description", "language"]) {
    if (typeof r[field] === "string") values[field] = r[field];
  }
  if (Number.isInteger(r.capacity)) values.capacity = r.capacity;
  for (const flag of FLAGS) values[flag] = r[flag] === true;
  values.rules = Array.isArray(r.rules) && r.rules.length ? r.rules.map(String) : blank.rules;
  values.sessions = Array.isArray(r.sessions) ? r.sessions.map((s) => ({
    day: String(s.day || ""), start: String(s.start || ""),
    minutes: Number(s.minutes) || DEFAULT_MINUTES, timezone: String(s.timezone || "") })) : [];
  return values;
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The body of `PUT /api/admin/rooms/{id}`: only the fields of `edited` (from `readRoom`) that
 * differ from `listed` (the room as the API listed it). Rules and sessions go whole when any
 * part changed; an empty object means nothing changed.
 */
export function roomChanges(listed, edited) {
  const before = readRoom(formValues(listed), false).room;
  const changes = {};
  for (const field of FIELDS) {
    if (field in edited && !same(before[field], edited[field])) changes[field] = edited[field];
  }
  return changes;
}

function length(minutes) {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return say("minutes", { count: m });
  if (m === 0) return say("hours", { count: h });
  return say("hoursMinutes", { hours: say("hours", { count: h }),
    minutes: say("minutes", { count: m }) });
}

/** A weekday's name ("Mon" -> "Monday") in `locale` (undefined: the browser's language). */
export function weekdayName(day, locale) {
  const i = DAYS.indexOf(day);
  if (i < 0) return String(day || "");
  // 1 January 2024 was a Monday.
  return new Intl.DateTimeFormat(locale, { weekday: "long", timeZone: "UTC" })
    .format(new Date(Date.UTC(2024, 0, 1 + i)));
}

/** A weekly session in words: "Tuesdays at 19:00 for 1 hour (Europe/Madrid time)". */
export function sessionText(session) {
  const s = session || {};
  const day = DAYS.includes(s.day) ? say(`day.${s.day}`) : String(s.day || "");
  return say("session", { day, start: String(s.start || ""),
    length: length(Number(s.minutes) || 0), timezone: String(s.timezone || "") });
}

/** The weekly sessions of a room in words, one line each; "No weekly sessions" for none. */
export function sessionsText(sessions) {
  const list = Array.isArray(sessions) ? sessions : [];
  return list.length ? list.map(sessionText) : [say("noSessions")];
}

/** A room's facts for the list: "up to 15 members · 8 ground rules (version 2) · …". */
export function roomFacts(room) {
  const r = room || {};
  const rules = Array.isArray(r.rules) ? r.rules.length : 0;
  const parts = [say("capacity", { count: Number(r.capacity) || DEFAULT_CAPACITY }),
    say("rules", { count: rules, version: Number(r.rules_version) || 1 })];
  for (const flag of FLAGS) if (r[flag] === true) parts.push(say(`flag.${flag}`));
  return parts.join(" · ");
}

/**
 * The time zones to offer: the browser's list (`Intl.supportedValuesOf("timeZone")`) with
 * `wanted` added (the browser's own zone, a room's zones, which an older list may lack), and
 * UTC, sorted, each once.
 */
export function zoneOptions(supported, wanted) {
  const all = new Set(["UTC"]);
  for (const zone of [...(supported || []), ...(wanted || [])]) {
    if (typeof zone === "string" && zone) all.add(zone);
  }
  return [...all].sort();
}
