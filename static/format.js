// Times and counts in the reader's words and time zone.

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
export const dayTimeFmt = new Intl.DateTimeFormat(undefined,
  { weekday: "short", hour: "2-digit", minute: "2-digit" });
export const dateTimeFmt = new Intl.DateTimeFormat(undefined,
  { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

/** Milliseconds from an ISO string or epoch seconds/ms; null when it is not a time. */
export function parseTime(value) {
  const t = typeof value === "number" ? value * (value < 1e12 ? 1000 : 1) : Date.parse(value);
  return Number.isFinite(t) ? t : null;
}
export function fmtTime(ms) {
  return ms === null ? "" : timeFmt.format(new Date(ms));
}
/** A time today as hh:mm, another day with its date. */
export function fmtUntil(ms) {
  if (ms === null) return "";
  const sameDay = new Date(ms).toDateString() === new Date().toDateString();
  return sameDay ? timeFmt.format(new Date(ms)) : dateTimeFmt.format(new Date(ms));
}
export function minutesLeft(ms) {
  return Math.max(1, Math.ceil((ms - Date.now()) / 60000));
}
export function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
