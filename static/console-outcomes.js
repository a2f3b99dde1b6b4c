// The coordinator console's check-in outcomes (`GET /api/admin/outcomes`): per room, how
// members felt at the start and at the end of sessions, week by week, as a chart drawn here in
// SVG (`role="img"`, with a title and a description in words) and the same numbers as a
// table. The grouping, geometry and words are outcomes-model.js.

import { $, button, el } from "./dom.js";
import {
  OUTCOMES_TEXT as T, chartShapes, describe, roomsOf, tableRows, weekFormatter, weekly,
} from "./outcomes-model.js";

const SVG = "http://www.w3.org/2000/svg";
let view = null; // the card's parts, built once
let entries = []; // the last answer of the API
let names = new Map(); // room id -> name, from /api/rooms
let token = null;
let asked = 0; // the latest load; an older answer is dropped

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c);
  return node;
}

function build() {
  if (view) return view;
  const select = el("select", { id: "outcomes-room" });
  select.addEventListener("change", draw);
  const status = el("p", { id: "outcomes-status", className: "muted", role: "status",
    "aria-live": "polite" });
  const body = el("div", { id: "outcomes-body" });
  const card = el("section", { id: "outcomes", className: "console-card",
    "aria-labelledby": "outcomes-title" },
  el("h2", { id: "outcomes-title", text: T.title }),
  el("p", { className: "muted", text: T.about }),
  el("div", { className: "outcomes-controls" }, el("label", { for: "outcomes-room",
    text: T.room }), select, button(T.refresh, () => load(), { className:
    "button small secondary" })),
  status, body);
  $("console-signed-in").append(card);
  view = { card, select, status, body };
  return view;
}

function nameOf(id) {
  return names.get(id) || id;
}

async function getJson(path, headers) {
  try {
    const res = await fetch(path, { headers: { accept: "application/json", ...headers },
      cache: "no-store" });
    return { ok: res.ok, status: res.status, data: res.ok ? await res.json() : null };
  } catch {
    return { ok: false, status: 0, data: null };
  }
}

async function load() {
  const v = build();
  const mine = ++asked;
  v.status.textContent = T.loading;
  const [answer, rooms] = await Promise.all([
    getJson("/api/admin/outcomes", { authorization: `Bearer ${token || ""}` }),
    getJson("/api/rooms", {}),
  ]);
  if (mine !== asked || !token) return;
  if (rooms.ok && Array.isArray(rooms.data)) {
    names = new Map(rooms.data.filter((r) => r && typeof r.id === "string")
      .map((r) => [r.id, String(r.name || r.id)]));
  }
  if (!answer.ok || !Array.isArray(answer.data)) {
    v.status.textContent = T.failed;
    return;
  }
  entries = answer.data;
  const ids = roomsOf(entries);
  const was = v.select.value;
  v.select.replaceChildren(...ids.map((id) => el("option", { value: id, text: nameOf(id) })));
  if (ids.includes(was)) v.select.value = was;
  v.select.disabled = ids.length === 0;
  v.status.textContent = ids.length === 0 ? T.none : T.loaded;
  draw();
}

function legend() {
  return el("ul", { className: "outcomes-legend", "aria-label": T.legend },
    ...T.values.map((label, i) => el("li", {}, svg("svg", { viewBox: "0 0 10 10",
      "aria-hidden": "true", focusable: "false" }, svg("rect", { width: 10, height: 10,
      class: `mood-v${i + 1}` })), label)),
    el("li", { text: T.legendSE }));
}

function chart(room, weeks, fmt) {
  const shapes = chartShapes(weeks, fmt);
  const title = svg("title", { id: "outcomes-chart-title" });
  title.textContent = T.chartTitle(nameOf(room));
  const desc = svg("desc", { id: "outcomes-chart-desc" });
  desc.textContent = describe(nameOf(room), weeks, fmt);
  const picture = svg("svg", { viewBox: `0 0 ${shapes.width} ${shapes.height}`, role: "img",
    "aria-labelledby": "outcomes-chart-title outcomes-chart-desc",
    width: shapes.width, height: shapes.height }, title, desc);
  for (const g of shapes.grid) {
    picture.append(svg("line", { x1: g.x + 4, x2: g.x2, y1: g.y, y2: g.y, class: "grid" }));
    const t = svg("text", { x: g.x, y: g.y + 4, "text-anchor": "end", class: "axis" });
    t.textContent = g.text;
    picture.append(t);
  }
  for (const b of shapes.bars) {
    const rect = svg("rect", { x: b.x, y: b.y, width: b.w, height: Math.max(0, b.h),
      class: b.value ? `mood-v${b.value}` : "none", "data-week": b.week, "data-when": b.when });
    const tip = svg("title", {});
    tip.textContent = b.value ? `${T.weekOf(fmt(b.weekMs))}, ` +
      `${b.when === "start" ? T.start : T.end}: ${T.values[b.value - 1]} ${b.count} / ${b.total}`
      : T.tooFew;
    rect.append(tip);
    picture.append(rect);
  }
  for (const l of shapes.labels) {
    const t = svg("text", { x: l.x, y: l.y, "text-anchor": "middle",
      class: l.kind === "week" ? "" : "axis" });
    t.textContent = l.text;
    picture.append(t);
  }
  picture.style.maxWidth = `${Math.round(shapes.width * 1.25)}px`; // CSSOM: allowed by the CSP
  // Its own scrolling box on a narrow screen, reachable from the keyboard.
  return el("div", { className: "outcomes-chart", tabindex: "0", role: "group",
    "aria-label": T.chartBox }, picture);
}

function table(room, weeks, fmt) {
  const head = el("tr", {}, el("th", { scope: "col", text: T.week }),
    el("th", { scope: "col", text: T.when }),
    ...T.values.map((label) => el("th", { scope: "col", text: label })),
    el("th", { scope: "col", text: T.answers }), el("th", { scope: "col", text: T.sessions }));
  const rows = tableRows(weeks, fmt).map((r) => {
    const cells = [];
    if (r.first) cells.push(el("th", { scope: "rowgroup", rowspan: "2", text: r.week }));
    cells.push(el("th", { scope: "row", text: r.when }));
    if (r.counts) {
      cells.push(...r.counts.map((n) => el("td", { text: String(n) })),
        el("td", { text: String(r.total) }));
    } else {
      cells.push(el("td", { colspan: "6", className: "muted", text: T.tooFew }));
    }
    if (r.first) cells.push(el("td", { rowspan: "2", text: String(r.sessions) }));
    return el("tr", {}, ...cells);
  });
  return el("details", { className: "outcomes-details" }, el("summary", { text: T.table }),
    el("div", { className: "outcomes-table-wrap" }, el("table", { className: "outcomes-table" },
      el("caption", { text: T.tableCaption(nameOf(room)) }), el("thead", {}, head),
      el("tbody", {}, ...rows))));
}

function draw() {
  const v = build();
  const room = v.select.value;
  if (!room) {
    v.body.replaceChildren();
    return;
  }
  const weeks = weekly(entries, room);
  const fmt = weekFormatter(undefined);
  if (!weeks.some((w) => w.start || w.end)) {
    v.body.replaceChildren(el("p", { className: "muted", text: T.noneRoom }));
    return;
  }
  const open = v.body.querySelector("details")?.open;
  const numbers = table(room, weeks, fmt);
  numbers.open = Boolean(open);
  v.body.replaceChildren(legend(), chart(room, weeks, fmt), numbers);
}

/** Signed in (console.js): show the outcomes, loaded with the coordinator's `bearer` token. */
export function showOutcomes(bearer) {
  token = bearer;
  build().card.hidden = false;
  load();
}

/** Signed out: nothing of the outcomes stays on screen or in memory. */
export function hideOutcomes() {
  token = null;
  entries = [];
  asked += 1;
  if (!view) return;
  view.card.hidden = true;
  view.select.replaceChildren();
  view.body.replaceChildren();
  view.status.textContent = "";
}
