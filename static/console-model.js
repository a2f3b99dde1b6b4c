// The coordinator console's pure parts: the facilitator sign-in link and reading it back from
// the address, expiry and status in the reader's words, durations, and an admin API refusal
// turned into a sentence. No DOM, network or clock (the time is passed in), so
// `node --test tests/static/` tests them as the page uses them. The words are i18n.js's.

import { locale as currentLocale, t } from "./i18n.js";

// A facilitator token is itsdangerous output: letters, digits, "-", "_", "." and ":" only.
const TOKEN_RE = /^[A-Za-z0-9._:-]{1,4096}$/;
export const MAX_HOURS = 24 * 90; // server/admin.py MAX_FACILITATOR_HOURS

/**
 * The link a facilitator opens to sign in: `<origin>/#facilitator=<token>`. The token is in
 * the fragment, which browsers never send to the server, so it is in no request line or log.
 */
export function signInLink(origin, token) {
  return `${String(origin).replace(/\/+$/, "")}/#facilitator=${encodeURIComponent(token)}`;
}

/** The facilitator token a `#facilitator=…` fragment carries; null for any other address. */
export function readFragment(hash) {
  const m = /^#facilitator=([^&#]*)$/.exec(String(hash || ""));
  if (!m) return null;
  let token;
  try {
    token = decodeURIComponent(m[1]).trim();
  } catch {
    return null;
  }
  return TOKEN_RE.test(token) ? token : null;
}

/** Hours for an amount of "hours" or "days"; null when not a valid duration for the API. */
export function durationHours(amount, unit) {
  const n = Number(amount);
  if (!Number.isFinite(n) || n <= 0) return null;
  const hours = unit === "days" ? n * 24 : n;
  return hours > 0 && hours <= MAX_HOURS ? hours : null;
}

// How far off `ms` is, in the locale's words: "in 6 days", "2 hours ago".
function span(ms, loc) {
  const minutes = Math.round(Math.abs(ms) / 60000);
  const sign = ms < 0 ? -1 : 1;
  const words = (n, unit) => new Intl.RelativeTimeFormat(loc).format(sign * n, unit);
  if (minutes < 1) return t(sign > 0 ? "console.span.soon" : "console.span.justNow");
  if (minutes < 90) return words(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (hours < 48) return words(hours, "hour");
  return words(Math.round(hours / 24), "day");
}

/**
 * When a facilitator's access ends, in the reader's locale and time zone (`locale` and
 * `timeZone` undefined: the browser's own), with how far off it is from `nowMs`:
 * "Mon, Dec 7, 14:00 (in 6 days)", or "… (ended 2 hours ago)". "" when it is not a time.
 */
export function expiryText(iso, nowMs, locale = currentLocale(), timeZone = undefined) {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return "";
  const when = new Intl.DateTimeFormat(locale, { weekday: "short", month: "short",
    day: "numeric", hour: "2-digit", minute: "2-digit", timeZone }).format(new Date(at));
  return t(at > nowMs ? "console.expires" : "console.ended",
    { when, span: span(at - nowMs, locale) });
}

/** A listed facilitator's status: "revoked", "expired", "online" or "not-online". */
export function statusOf(record, nowMs) {
  if (record.revoked) return "revoked";
  const at = Date.parse(record.expires);
  if (Number.isFinite(at) && at <= nowMs) return "expired";
  return record.online ? "online" : "not-online";
}

/** One word for a listed facilitator: "Revoked", "Expired", "Online" or "Not online". */
export function statusText(record, nowMs) {
  return t(`console.status.${statusOf(record, nowMs)}`);
}

/** The rooms a facilitator may facilitate, by name where known: "All rooms" for null. */
export function roomsText(rooms, names) {
  if (rooms === null || rooms === undefined) return t("console.invite.all");
  if (!Array.isArray(rooms) || rooms.length === 0) return t("console.rooms.none");
  return rooms.map((id) => (names && names.get(id)) || id).join(", ");
}

function clause(text) {
  return `${String(text).trim().replace(/[.!]+$/, "")}.`;
}

/**
 * An admin API answer that was not a success, as one plain sentence for the person: `status`
 * is the HTTP status (0 when the server was not reached), `body` the parsed JSON or null.
 * The server's own `message` (short, never repeating what was sent) is used for bad input;
 * raw JSON is never shown.
 */
export function errorSentence(status, body) {
  const message = body && typeof body.message === "string" && body.message.length <= 200
    ? body.message : "";
  switch (status) {
    case 0:
      return t("console.error.unreachable");
    case 401:
      return t("console.error.401");
    case 403:
      return t("console.error.403");
    case 404:
      return message ? t("console.error.404.said", { message: clause(message) }) :
        t("console.error.404");
    case 400:
      return message ? t("console.error.400.said", { message: clause(message) }) :
        t("console.error.400");
    case 409:
      return message ? t("console.error.409.said", { message: clause(message) }) :
        t("console.error.409");
    case 503:
      return t("console.error.503");
    default:
      return t(status >= 500 ? "console.error.500" : "console.error.other");
  }
}
