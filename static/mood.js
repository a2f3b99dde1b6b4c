// Check-in and check-out on screen: "How are you feeling right now?" (five faces, skippable,
// never in the way of reading or writing) when a member comes into a room, when they leave by
// "All rooms", and when the session ends; and, for facilitators, the check-in counts
// (`mood_summary`). The words and the rules of when to ask are mood-model.js.

import { $, button, el } from "./dom.js";
import { errorText, localize, t } from "./i18n.js";
import {
  FACES, MOOD_TEXT, askedKey, mouthPath, promptWords, refusalText, shouldAsk, summaryRows,
} from "./mood-model.js";
import { request } from "./network.js";
import { announce, facAlert, facStatus } from "./notices.js";
import { S } from "./state.js";
import { getItem, setItem } from "./storage.js";

const SVG = "http://www.w3.org/2000/svg";
let prompt = null; // {box, question, faces, skip}: built once
let open = null; // the question on screen: {room, epoch, when, moment}
let summary = null; // the facilitator panel's section: {section, out}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** The face for an answer, drawn (no emoji: the same on every device); hidden from readers. */
function faceIcon(value) {
  const icon = svg("svg", { viewBox: "0 0 40 40", class: "mood-face-icon", "aria-hidden": "true",
    focusable: "false" });
  icon.append(svg("circle", { cx: 20, cy: 20, r: 17, class: "mood-face-head" }),
    svg("circle", { cx: 14, cy: 16, r: 2, class: "mood-face-eye" }),
    svg("circle", { cx: 26, cy: 16, r: 2, class: "mood-face-eye" }),
    svg("path", { d: mouthPath(value), class: "mood-face-mouth" }));
  return icon;
}

function build() {
  if (prompt) return prompt;
  const question = el("h2", { id: "mood-question", className: "mood-question", tabindex: "-1" });
  const note = el("p", { id: "mood-note", className: "muted mood-note", say: () => MOOD_TEXT.note });
  const faces = FACES.map((f) => el("button", { type: "button", className: "mood-face",
    dataset: { value: String(f.value) }, onclick: () => answer(f.value) },
  faceIcon(f.value), el("span", { className: "mood-label", say: () => f.label })));
  const row = el("div", { className: "mood-faces", role: "group",
    "aria-labelledby": "mood-question", "aria-describedby": "mood-note", onkeydown: arrows },
  ...faces);
  const skip = button("mood.skip", () => skipped(), { className: "link-button mood-skip" });
  const box = el("section", { id: "mood", className: "mood", "aria-labelledby": "mood-question",
    hidden: true }, question, note, row, skip);
  $("identity").after(box);
  prompt = { box, question, faces, skip };
  return prompt;
}

// Left/right (and up/down, Home, End) move between the faces; Tab leaves the row.
function arrows(ev) {
  const i = prompt.faces.indexOf(document.activeElement);
  if (i < 0) return;
  const last = prompt.faces.length - 1;
  const to = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0,
    End: last }[ev.key];
  if (to === undefined) return;
  ev.preventDefault();
  prompt.faces[Math.min(last, Math.max(0, to))].focus();
}

function asked(room, epoch, when) {
  return getItem("session", askedKey(room, epoch, when));
}

function show(moment, room, epoch, when) {
  const p = build();
  localize(p.question, () => promptWords(moment).question);
  localize(p.skip, () => promptWords(moment).skip);
  p.box.dataset.moment = moment;
  open = { room, epoch, when, moment };
  p.box.hidden = false;
}

/** Put the question away (another room on screen, or it was answered). */
export function hideMood() {
  open = null;
  if (prompt) prompt.box.hidden = true;
}

// Where the focus goes when the question goes away under it: on to writing, or the room.
function moveFocusOn() {
  if (!prompt || !prompt.box.contains(document.activeElement)) return;
  const input = $("message-input");
  if (input && !input.disabled && !$("composer").hidden) input.focus();
  else $("room-title").focus();
}

// The question goes away, remembered as answered or skipped (never the answer itself).
function close(mark) {
  const o = open;
  if (!o) return null;
  setItem("session", askedKey(o.room, o.epoch, o.when), mark);
  if (o.moment !== "leave") moveFocusOn();
  hideMood();
  return o;
}

function answer(value) {
  const o = close("answered");
  if (!o) return;
  request({ type: "mood", room: o.room, value, when: o.when, epoch: o.epoch }, () => {
    if (o.moment !== "leave") announce(MOOD_TEXT.thanks);
  }, (err) => {
    if (o.moment === "leave" || err.code === "disconnected") return;
    announce(refusalText(err.code));
  });
  // On the way out: go on now. The answer was sent first, so it lands before the `leave`.
  if (o.moment === "leave") location.hash = "#/";
}

function skipped() {
  const o = close("skipped");
  if (o && o.moment === "leave") location.hash = "#/";
}

/** The room is joined (again): ask the check-in, once per session, of members only. */
export function offerCheckIn(cur, epoch) {
  if (open && (open.room !== cur.id || open.epoch !== epoch)) hideMood();
  if (open) return;
  if (shouldAsk("join", cur.role, epoch, asked(cur.id, epoch, "start"), null)) {
    show("join", cur.id, epoch, "start");
  }
}

/** The session ended (`session_ended`; `epoch` is the one that ended): ask the check-out. */
export function offerCheckOut(cur, epoch) {
  if (open && open.when === "start") setItem("session", askedKey(open.room, open.epoch,
    "start"), "skipped");
  hideMood();
  if (shouldAsk("ended", cur.role, epoch, asked(cur.id, epoch, "end"), null)) {
    show("ended", cur.id, epoch, "end");
  }
}

// "All rooms" from a room: someone who answered the check-in is asked the check-out first
// (answering or skipping goes on to the rooms). Any other way out is not held up.
function onBack(ev) {
  const cur = S.cur;
  if (!cur || !cur.joined || (open && open.moment === "leave")) return;
  const epoch = S.memory.get(cur.id)?.epoch;
  if (!shouldAsk("leave", cur.role, epoch, asked(cur.id, epoch, "end"),
    asked(cur.id, epoch, "start"))) return;
  ev.preventDefault();
  show("leave", cur.id, epoch, "end");
  prompt.question.focus();
}

// ---------- the facilitator's check-in counts ----------

function buildSummary() {
  if (summary) return summary;
  const out = el("div", { className: "mood-summary", id: "mood-summary" });
  const section = el("section", { "aria-labelledby": "mood-sum-title", className: "mood-panel" },
    el("h3", { id: "mood-sum-title", say: () => MOOD_TEXT.summaryTitle }),
    el("p", { className: "muted", say: () => MOOD_TEXT.summaryAbout }),
    button("mood.summaryShow", askSummary, { className: "button small secondary" }), out);
  $("fac-panel").insertBefore(section, $("audit"));
  summary = { section, out };
  return summary;
}

function askSummary() {
  const cur = S.cur;
  if (!cur) return;
  request({ type: "mood_summary", room: cur.id }, () => {},
    (err) => facAlert(() => t("mood.summaryFailed", { error: () => errorText(err.code) })));
}

function renderSummary(f) {
  const { out } = buildSummary();
  const caption = f.ref ? MOOD_TEXT.summaryNow : MOOD_TEXT.summaryEnded;
  const head = el("tr", {}, el("td"), ...FACES.map((face) => el("th", { scope: "col" },
    faceIcon(face.value), el("span", { className: "mood-label", text: face.label }))),
  el("th", { scope: "col", text: MOOD_TEXT.summaryAnswers }));
  const rows = summaryRows(f).map((r) => el("tr", {}, el("th", { scope: "row", text: r.label }),
    ...(r.counts ? [...r.counts.map((n) => el("td", { text: String(n) })),
      el("td", { text: String(r.total) })] :
      [el("td", { colspan: "6", className: "muted", text: MOOD_TEXT.summaryTooFew })])));
  out.replaceChildren(el("table", { className: "mood-table" },
    el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, ...rows)));
  facStatus(f.ref ? MOOD_TEXT.summaryLoaded : caption);
}

/** Another room (or none) on screen: nothing of the last one's question or counts stays. */
export function resetMood() {
  hideMood();
  if (summary) summary.out.replaceChildren();
}

/** Wire once (main.js): the "All rooms" link of the room view, the facilitator section. */
export function wireMood() {
  document.querySelector("#view-room a.back").addEventListener("click", onBack);
  buildSummary();
}

/** The frames of this module, by type (dispatch.js). */
export const MOOD_HANDLERS = {
  mood_summary: (f) => renderSummary(f),
};
