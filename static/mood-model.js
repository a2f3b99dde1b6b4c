// Check-in and check-out, the pure parts: the five answers and their words, the face drawn for
// each, when the question is asked, what this tab remembers (that it asked, never the answer),
// and a `mood_summary` as rows to show. No DOM, network or clock, so `node --test tests/static/`
// tests them as the page uses them.

import { t } from "./i18n.js";

// Every word of the check-in prompt and the facilitator's summary, from the message catalogues
// (keys "mood.<name>"), read when they are shown, so they are in the language in force.
const MOOD_KEYS = Object.freeze([
  "question", "questionLeaving", "questionEnded", "note", "skip", "skipLeaving", "thanks",
  "already", "closed", "notSent", "summaryTitle", "summaryAbout", "summaryShow", "summaryNow",
  "summaryEnded", "summaryStart", "summaryEnd", "summaryTooFew", "summaryAnswers",
  "summaryLoaded", "summaryFailed",
]);
export const MOOD_TEXT = Object.freeze(Object.defineProperties({}, Object.fromEntries(
  MOOD_KEYS.map((name) => [name, { enumerable: true, get: () => t(`mood.${name}`) }]))));

/** The five answers, worst first: `value` is what the wire carries (1..5), `label` its words. */
export const FACES = Object.freeze([1, 2, 3, 4, 5].map((value) => Object.freeze({
  value, get label() { return t(`mood.value.${value}`); } })));

/**
 * The mouth of the face for `value` (an SVG path in a 40 × 40 box): a frown for 1, a straight
 * line for 3, a wide smile for 5.
 */
export function mouthPath(value) {
  const bend = [20, 24, 28, 32, 36][Math.min(5, Math.max(1, Math.round(value))) - 1];
  return `M12 28 Q20 ${bend} 28 28`;
}

// What this tab remembers, in sessionStorage under "psc." (so "leave without a trace" removes
// it): that it asked a question of a session, and whether the person answered or skipped.
// Never the answer.
export const ASKED_PREFIX = "psc.mood.";

/** The storage key for one question (`start` or `end`) of one session of a room. */
export function askedKey(room, epoch, when) {
  return `${ASKED_PREFIX}${room}.${epoch}.${when}`;
}

/**
 * Whether to ask a question now. `role` is the person's role in the room (facilitators are
 * not asked: the counts are the members'), `epoch` the session, `asked` what is remembered
 * for that question ("answered", "skipped" or null), `startAsked` the same for the check-in.
 * At leave the question is asked only of someone who answered the check-in: leaving a room
 * one glanced into is not stopped by a question.
 */
export function shouldAsk(moment, role, epoch, asked, startAsked) {
  if (role !== "member" || !epoch || asked) return false;
  if (moment === "leave") return startAsked === "answered";
  return moment === "join" || moment === "ended";
}

/** The question and skip words for a moment (`join`, `leave`, `ended`). */
export function promptWords(moment) {
  if (moment === "leave") return { question: MOOD_TEXT.questionLeaving, skip: MOOD_TEXT.skipLeaving };
  if (moment === "ended") return { question: MOOD_TEXT.questionEnded, skip: MOOD_TEXT.skip };
  return { question: MOOD_TEXT.question, skip: MOOD_TEXT.skip };
}

/** What to tell the person when the server refused an answer (by `code`). */
export function refusalText(code) {
  if (code === "already_answered") return MOOD_TEXT.already;
  if (code === "not_found" || code === "not_joined") return MOOD_TEXT.closed;
  return MOOD_TEXT.notSent;
}

function countsRow(label, counts) {
  if (!Array.isArray(counts) || counts.length !== 5) {
    return { label, counts: null, total: null };
  }
  const n = counts.map((c) => (Number.isInteger(c) && c >= 0 ? c : 0));
  return { label, counts: n, total: n.reduce((a, b) => a + b, 0) };
}

/** A `mood_summary` frame as two rows (start, end): counts and their total, or null counts. */
export function summaryRows(frame) {
  return [countsRow(MOOD_TEXT.summaryStart, frame && frame.start),
    countsRow(MOOD_TEXT.summaryEnd, frame && frame.end)];
}
