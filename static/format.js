// Times in the reader's locale and time zone, with Intl: a clock time, a time that may be on
// another day, how far off something is ("in 2 days", "hace 3 horas"), and a room's next
// session ("Tuesday 19:00, in 2 days"). Pure: the time now, the locale (default: the one
// i18n.js has in force) and the time zone (default: the browser's) are passed in, so
// `node --test tests/static/` checks them.

import { locale as currentLocale, t } from "./i18n.js";

const HOUR_MS = 3600000;
const DAY_MS = 24 * HOUR_MS;
const formats = new Map(); // "locale|zone|options" -> Intl.DateTimeFormat

function dateFormat(loc, timeZone, options) {
  const key = `${loc}|${timeZone || ""}|${JSON.stringify(options)}`;
  if (!formats.has(key)) {
    formats.set(key, new Intl.DateTimeFormat(loc, { ...options, timeZone }));
  }
  return formats.get(key);
}

/** Milliseconds from an ISO string or epoch seconds/ms; null when it is not a time. */
export function parseTime(value) {
  const t = typeof value === "number" ? value * (value < 1e12 ? 1000 : 1) : Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

// The hour as the locale writes it: two digits on a 24-hour clock ("04:05"), else as it is
// said ("4:05 AM").
function hourStyle(loc) {
  const cycle = dateFormat(loc, undefined, { hour: "numeric" }).resolvedOptions().hourCycle;
  return cycle === "h23" || cycle === "h24" ? "2-digit" : "numeric";
}

/** A clock time: "19:05", "7:05 PM". */
export function fmtTime(ms, loc = currentLocale(), timeZone = undefined) {
  if (ms === null || ms === undefined) return "";
  return dateFormat(loc, timeZone, { hour: hourStyle(loc), minute: "2-digit" }).format(ms);
}

// The calendar date of `ms` in the zone, as a day number (days since 1970 there).
function dayNumber(ms, timeZone) {
  const parts = dateFormat("en-US", timeZone, { year: "numeric", month: "numeric",
    day: "numeric" }).formatToParts(ms);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return Date.UTC(get("year"), get("month") - 1, get("day")) / DAY_MS;
}

/** A time today as its clock time; another day with its weekday and date. */
export function fmtUntil(ms, nowMs, loc = currentLocale(), timeZone = undefined) {
  if (ms === null || ms === undefined) return "";
  if (dayNumber(ms, timeZone) === dayNumber(nowMs, timeZone)) return fmtTime(ms, loc, timeZone);
  return dateFormat(loc, timeZone, { weekday: "short", month: "short", day: "numeric",
    hour: hourStyle(loc), minute: "2-digit" }).format(ms);
}

/**
 * How far `ms` is from `nowMs`, in words of the locale: minutes within the hour, hours the
 * same day (or within six hours), else calendar days in the zone ("tomorrow", "in 2 days",
 * "2 days ago").
 */
export function fmtRelative(ms, nowMs, loc = currentLocale(), timeZone = undefined) {
  const diff = ms - nowMs;
  const words = (n, unit) => new Intl.RelativeTimeFormat(loc,
    { numeric: Math.abs(n) === 1 && unit === "day" ? "auto" : "always" }).format(n, unit);
  if (Math.abs(diff) < HOUR_MS) return words(Math.round(diff / 60000), "minute");
  const days = dayNumber(ms, timeZone) - dayNumber(nowMs, timeZone);
  if (days === 0 || Math.abs(diff) < 6 * HOUR_MS) return words(Math.round(diff / HOUR_MS), "hour");
  return words(days, "day");
}

/** A room's next session: "Tuesday 19:00, in 2 days", "martes 19:00, dentro de 2 días". */
export function fmtSession(ms, nowMs, loc = currentLocale(), timeZone = undefined) {
  if (ms === null || ms === undefined) return "";
  return t("time.session", {
    day: dateFormat(loc, timeZone, { weekday: "long" }).format(ms),
    time: fmtTime(ms, loc, timeZone),
    relative: fmtRelative(ms, nowMs, loc, timeZone),
  });
}

/** Whole minutes from `nowMs` to `ms`, at least one. */
export function minutesLeft(ms, nowMs) {
  return Math.max(1, Math.ceil((ms - nowMs) / 60000));
}
