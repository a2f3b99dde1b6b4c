// The coordinator console's check-in outcomes, the pure parts: `GET /api/admin/outcomes`
// grouped per room and week, the chart's geometry (start-vs-end distributions, as stacked
// bars), its text description, and the rows of the table that stands in for it. No DOM,
// network or clock, so `node --test tests/static/` tests them as the page uses them.

import { t } from "./i18n.js";

// Every word of the console's outcomes view, from the message catalogues (keys
// "outcomes.<name>"), read when shown, so they are in the language in force.
const OUTCOME_WORDS = Object.freeze([
  "title", "about", "room", "refresh", "loading", "none", "noneRoom", "loaded", "failed", "start",
  "end", "startShort", "endShort", "legend", "legendSE", "tooFew", "table", "chartBox", "week",
  "when", "answers", "sessions",
]);
export const OUTCOMES_TEXT = Object.freeze(Object.defineProperties({
  weekOf: (label) => t("outcomes.weekOf", { label }),
  chartTitle: (room) => t("outcomes.chartTitle", { room }),
  tableCaption: (room) => t("outcomes.tableCaption", { room }),
  goodShare: (n, pct) => t("outcomes.goodShare", { count: n, pct: String(pct) }),
  describeIntro: (room, weeks, first, last) => t("outcomes.describeIntro",
    { room, count: weeks, first, last }),
}, {
  values: { enumerable: true, get: () => [1, 2, 3, 4, 5].map((v) => t(`mood.value.${v}`)) },
  ...Object.fromEntries(OUTCOME_WORDS.map((name) => [name,
    { enumerable: true, get: () => t(`outcomes.${name}`) }])),
}));

/**
 * The week an ISO time falls in, in the reader's time zone: its Monday's date as the key
 * ("2026-01-05") and that Monday's midnight (ms); null for something that is not a time.
 */
export function weekOf(iso) {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return null;
  const d = new Date(at);
  const monday = new Date(d.getFullYear(), d.getMonth(), d.getDate() - ((d.getDay() + 6) % 7));
  const pad = (n) => String(n).padStart(2, "0");
  return { key: `${monday.getFullYear()}-${pad(monday.getMonth() + 1)}-${pad(monday.getDate())}`,
    ms: monday.getTime() };
}

function counts(value) {
  return Array.isArray(value) && value.length === 5 &&
    value.every((c) => Number.isInteger(c) && c >= 0) ? value : null;
}

/** The room ids the entries name, sorted, each once. */
export function roomsOf(entries) {
  const ids = new Set();
  for (const e of Array.isArray(entries) ? entries : []) {
    if (e && typeof e.room === "string") ids.add(e.room);
  }
  return [...ids].sort();
}

function add(sum, more) {
  if (!more) return sum;
  return sum ? sum.map((c, i) => c + more[i]) : [...more];
}

/**
 * One room's sessions summed per week, oldest first: `start` and `end` are the summed counts
 * of the sessions whose question was shown (null when none was), `sessions` how many sessions
 * the week had.
 */
export function weekly(entries, room) {
  const weeks = new Map();
  for (const e of Array.isArray(entries) ? entries : []) {
    if (!e || e.room !== room) continue;
    const week = weekOf(e.started);
    if (!week) continue;
    const w = weeks.get(week.key) || { key: week.key, ms: week.ms, start: null, end: null,
      sessions: 0 };
    w.start = add(w.start, counts(e.start));
    w.end = add(w.end, counts(e.end));
    w.sessions += 1;
    weeks.set(week.key, w);
  }
  return [...weeks.values()].sort((a, b) => a.ms - b.ms);
}

/** The total of some counts, and the whole percentage of them that are 4 or 5. */
export function goodShare(c) {
  const total = c.reduce((a, b) => a + b, 0);
  return { total, pct: total ? Math.round(((c[3] + c[4]) / total) * 100) : 0 };
}

// The chart's box, in SVG units (the picture scales to its width).
const LEFT = 40;
const TOP = 12;
const PLOT = 160;
const BOTTOM = 42;
const BAR = 16;
const PAIR_GAP = 4;
const GROUP_GAP = 22;
const RIGHT = 8;

/**
 * The chart as shapes: for each week two bars (start, end), each 100 % tall and stacked from
 * "very low" at the bottom to "very good" at the top; a dashed empty bar where a question had
 * too few answers. `fmtWeek(ms)` labels a week. Returns `{width, height, bars, labels, grid}`.
 */
export function chartShapes(weeks, fmtWeek) {
  const group = 2 * BAR + PAIR_GAP + GROUP_GAP;
  const width = LEFT + Math.max(1, weeks.length) * group + RIGHT;
  const height = TOP + PLOT + BOTTOM;
  const base = TOP + PLOT;
  const bars = [];
  const labels = [];
  weeks.forEach((w, i) => {
    const x0 = LEFT + GROUP_GAP / 2 + i * group;
    for (const [j, when] of [[0, "start"], [1, "end"]]) {
      const x = x0 + j * (BAR + PAIR_GAP);
      const c = w[when];
      const shortLabel = when === "start" ? OUTCOMES_TEXT.startShort : OUTCOMES_TEXT.endShort;
      labels.push({ x: x + BAR / 2, y: base + 14, text: shortLabel, kind: "when" });
      if (!c || c.every((n) => n === 0)) {
        bars.push({ x, y: TOP, w: BAR, h: PLOT, value: 0, count: 0, total: 0, when,
          week: w.key, weekMs: w.ms });
        continue;
      }
      const total = c.reduce((a, b) => a + b, 0);
      let top = base;
      c.forEach((n, v) => {
        if (n === 0) return;
        const h = (n / total) * PLOT;
        top -= h;
        bars.push({ x, y: top, w: BAR, h, value: v + 1, count: n, total, when, week: w.key,
          weekMs: w.ms });
      });
    }
    labels.push({ x: x0 + BAR + PAIR_GAP / 2, y: base + 32, text: fmtWeek(w.ms), kind: "week" });
  });
  const grid = [0, 50, 100].map((pct) => ({ y: base - (pct / 100) * PLOT, text: `${pct}%`,
    x: LEFT - 6, x2: width - RIGHT }));
  return { width, height, bars, labels, grid };
}

function shareText(c) {
  if (!c) return OUTCOMES_TEXT.tooFew;
  const { total, pct } = goodShare(c);
  return OUTCOMES_TEXT.goodShare(total, pct);
}

/** The chart in words, for its `<desc>`: per week, start and end as "n answers, x% good". */
export function describe(roomName, weeks, fmtWeek) {
  if (weeks.length === 0) return OUTCOMES_TEXT.noneRoom;
  const first = fmtWeek(weeks[0].ms);
  const last = fmtWeek(weeks[weeks.length - 1].ms);
  const parts = [OUTCOMES_TEXT.describeIntro(roomName, weeks.length, first, last)];
  for (const w of weeks) {
    parts.push(`${OUTCOMES_TEXT.weekOf(fmtWeek(w.ms))}: ${OUTCOMES_TEXT.start.toLowerCase()} ` +
      `${shareText(w.start)}; ${OUTCOMES_TEXT.end.toLowerCase()} ${shareText(w.end)}.`);
  }
  return parts.join(" ");
}

/**
 * The table's rows: two per week (start, end), each with the week's label (on the first),
 * the counts per answer (null: too few answers) and their total.
 */
export function tableRows(weeks, fmtWeek) {
  const rows = [];
  for (const w of weeks) {
    for (const when of ["start", "end"]) {
      const c = w[when];
      rows.push({ week: OUTCOMES_TEXT.weekOf(fmtWeek(w.ms)), first: when === "start",
        when: when === "start" ? OUTCOMES_TEXT.start : OUTCOMES_TEXT.end, counts: c,
        total: c ? c.reduce((a, b) => a + b, 0) : null, sessions: w.sessions });
    }
  }
  return rows;
}

/** A formatter of week labels in `locale` (undefined: the browser's), "5 Jan" or "Jan 5". */
export function weekFormatter(locale) {
  const fmt = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short" });
  return (ms) => fmt.format(new Date(ms));
}
