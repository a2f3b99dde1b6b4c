// The coordinator console's room form: its fields filled from a room and read back, the ground
// rules as a list of labelled fields (add, remove, move up and down, focus kept where the
// person is), the weekly sessions (day, start, length, time zone from the browser's list, the
// browser's own zone first chosen), and the warning that new rules are agreed again.
// console-rooms.js opens it and saves it.

import {
  COMMON_LANGUAGES, DAYS, FLAGS, LIMITS, blankSession, formValues, readRoom, slugFromName,
  weekdayName, zoneOptions,
} from "./console-rooms-model.js";
import { wordsFor } from "./console-words.js";
import { $, button, el } from "./dom.js";

// The words: the message catalogues (static/i18n/), under this prefix.
const say = wordsFor("console.roomForm");

let listed = null; // the room being edited as the API listed it; null for a new room
let idTyped = false; // the id was typed: the name no longer suggests one
let zones = null; // the time zones offered, once
const HOME_ZONE = browserZone();

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

// Said politely; emptied first, so the same words twice ("Rule moved to place 1") are read twice.
function live(text) {
  $("room-form-live").textContent = "";
  setTimeout(() => { $("room-form-live").textContent = text; }, 60);
}

// ---------- ground rules ----------

function ruleFields() {
  return [...$("room-rules").querySelectorAll("textarea")];
}

function currentRules() {
  return ruleFields().map((t) => t.value);
}

function drawRules(rules) {
  const count = rules.length;
  $("room-rules").replaceChildren(...rules.map((rule, i) => {
    const n = i + 1;
    const id = `room-rule-${n}`;
    const field = el("textarea", { id, rows: "2", maxlength: String(LIMITS.ruleChars),
      dataset: { index: String(i) } });
    field.value = rule;
    const up = button(say("rule.up"), () => moveRule(i, -1, "up"), { ariaLabel:
      say("rule.upLabel", { n }) });
    const down = button(say("rule.down"), () => moveRule(i, 1, "down"), { ariaLabel:
      say("rule.downLabel", { n }) });
    const remove = button(say("rule.remove"), () => removeFrom(RULES, i), { ariaLabel:
      say("rule.removeLabel", { n }) });
    up.disabled = i === 0;
    down.disabled = i === count - 1;
    remove.hidden = count === 1;
    up.dataset.act = "up";
    down.dataset.act = "down";
    return el("li", { className: "room-rule" }, el("label", { for: id,
      text: say("rule.label", { n }) }), field, el("div", { className: "control-row" }, up,
      down, remove));
  }));
  showRulesWarning();
}

function moveRule(i, step, act) {
  const rules = currentRules();
  const j = i + step;
  if (j < 0 || j >= rules.length) return;
  [rules[i], rules[j]] = [rules[j], rules[i]];
  drawRules(rules);
  // The same button on the rule that moved, unless it is now at an end (then the other one).
  const buttons = $("room-rules").children[j].querySelectorAll("button");
  const same = [...buttons].find((b) => b.dataset.act === act && !b.disabled);
  (same || [...buttons].find((b) => !b.disabled && !b.hidden) || ruleFields()[j]).focus();
  live(say("rule.moved", { n: j + 1, count: rules.length }));
}


/** True when the form's rules differ from the room's (editing only): members agree again. */
export function rulesChanged() {
  if (!listed) return false;
  const now = currentRules().map((r) => r.trim()).filter(Boolean);
  return JSON.stringify(now) !== JSON.stringify(listed.rules || []);
}

function showRulesWarning() {
  $("room-rules-warning").hidden = !rulesChanged();
}

// ---------- weekly sessions ----------

function zoneList() {
  if (!zones) {
    let supported = [];
    try {
      supported = Intl.supportedValuesOf("timeZone");
    } catch {
      supported = [];
    }
    zones = zoneOptions(supported, [HOME_ZONE]);
  }
  return zones;
}

function select(id, options, value) {
  const box = el("select", { id });
  for (const [v, label] of options) box.append(el("option", { value: v, text: label }));
  if (!options.some(([v]) => v === value)) box.append(el("option", { value, text: value }));
  box.value = value;
  return box;
}

function labelled(id, label, control) {
  return el("div", { className: "stack" }, el("label", { for: id, text: label }), control);
}

function drawSessions(sessions) {
  $("room-sessions").replaceChildren(...sessions.map((s, i) => {
    const n = i + 1;
    const base = `room-session-${n}`;
    const start = el("input", { id: `${base}-start`, type: "time", step: "60",
      required: true });
    start.value = s.start;
    const minutes = el("input", { id: `${base}-minutes`, type: "number", min: "1",
      max: String(LIMITS.minutes), step: "1", inputmode: "numeric", required: true });
    minutes.value = String(s.minutes);
    const zone = select(`${base}-timezone`, zoneList().map((z) => [z, z.replace(/_/g, " ")]),
      s.timezone || HOME_ZONE);
    return el("li", {}, el("fieldset", { className: "room-session" },
      el("legend", { text: say("session.legend", { n }) }),
      labelled(`${base}-day`, say("session.day"), select(`${base}-day`,
        DAYS.map((d) => [d, weekdayName(d)]), s.day)),
      labelled(`${base}-start`, say("session.start"), start),
      labelled(`${base}-minutes`, say("session.minutes"), minutes),
      labelled(`${base}-timezone`, say("session.timezone"), zone),
      button(say("session.remove"), () => removeFrom(SESSIONS, i), { ariaLabel:
        say("session.removeLabel", { n }) })));
  }));
}

function currentSessions() {
  return [...$("room-sessions").querySelectorAll("fieldset")].map((f) => {
    const [day, zone] = f.querySelectorAll("select");
    const [start, minutes] = f.querySelectorAll("input");
    return { day: day.value, start: start.value, minutes: minutes.value, timezone: zone.value };
  });
}

// ---------- adding and removing, alike for rules and sessions ----------

// Each list: how it is read from the page and drawn again, its limit, what a new entry is,
// where the focus goes (the entry at an index; -1 when none is left), and what is said.
const RULES = { read: currentRules, draw: drawRules, limit: LIMITS.rules, blank: () => "",
  focus: (i) => ruleFields()[i].focus(), said: "rule" };
const SESSIONS = { read: currentSessions, draw: drawSessions, limit: LIMITS.sessions,
  blank: () => blankSession(HOME_ZONE), said: "session",
  focus: (i) => (i < 0 ? $("room-session-add") : $(`room-session-${i + 1}-day`)).focus() };

function addTo(list) {
  const items = list.read();
  if (items.length >= list.limit) {
    live(say(`${list.said}.full`));
    return;
  }
  list.draw([...items, list.blank()]);
  list.focus(items.length);
  live(say(`${list.said}.added`, { n: items.length + 1 }));
}

function removeFrom(list, i) {
  const items = list.read();
  items.splice(i, 1);
  list.draw(items);
  list.focus(Math.min(i, items.length - 1));
  live(say(`${list.said}.removed`, { n: i + 1 }));
}

// ---------- the whole form ----------

function languageOptions() {
  let names = null;
  try {
    names = new Intl.DisplayNames(["en"], { type: "language" });
  } catch {
    names = null;
  }
  return [...COMMON_LANGUAGES.map((tag) => [tag, say("language.option",
    { name: (names && names.of(tag)) || tag, tag })]), ["other", say("language.other")]];
}

function setLanguage(tag) {
  const common = COMMON_LANGUAGES.includes(tag);
  $("room-f-language").value = common ? tag : "other";
  $("room-f-language-other").value = common ? "" : tag;
  $("room-f-language-other-row").hidden = common;
}

/** Fill the form with `room` as the API listed it, or a new room's defaults (null). */
export function fillForm(room) {
  listed = room;
  idTyped = false;
  const values = formValues(room);
  for (const field of ["id", "name", "category", "description", "capacity"]) {
    $(`room-f-${field}`).value = String(values[field]);
  }
  for (const flag of FLAGS) $(`room-f-${flag}`).checked = values[flag];
  setLanguage(values.language);
  $("room-f-id-row").hidden = room !== null;
  drawRules(values.rules);
  drawSessions(values.sessions);
  markInvalid([]);
}

/** The form read and checked: `{room, problems}` (console-rooms-model.js readRoom). */
export function readForm() {
  const language = $("room-f-language").value;
  const values = {
    id: $("room-f-id").value,
    name: $("room-f-name").value,
    category: $("room-f-category").value,
    description: $("room-f-description").value,
    capacity: $("room-f-capacity").value,
    language: language === "other" ? $("room-f-language-other").value : language,
    rules: currentRules(),
    sessions: currentSessions(),
  };
  for (const flag of FLAGS) values[flag] = $(`room-f-${flag}`).checked;
  return readRoom(values, listed === null);
}

/** The field a problem is about (for focus and `aria-invalid`). */
function fieldOf(problem) {
  const n = (problem.index ?? 0) + 1;
  switch (problem.field) {
    case "rules": return ruleFields()[problem.index ?? 0] || $("room-rule-add");
    case "sessions": return $("room-session-add");
    case "day": case "start": case "minutes": case "timezone":
      return $(`room-session-${n}-${problem.field}`);
    case "language":
      return $("room-f-language").value === "other" ? $("room-f-language-other") :
        $("room-f-language");
    default: return $(`room-f-${problem.field}`);
  }
}

/** Mark the fields of `problems` invalid (and no other); the first one's field, or null. */
export function markInvalid(problems) {
  for (const node of $("room-form").querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
  }
  const fields = problems.map(fieldOf).filter(Boolean);
  for (const f of fields) f.setAttribute("aria-invalid", "true");
  return fields[0] || null;
}

/** Wire the form's own controls once. */
export function wireForm() {
  $("room-f-language").replaceChildren(...languageOptions().map(([value, text]) =>
    el("option", { value, text })));
  $("room-f-language").addEventListener("change", () => {
    const other = $("room-f-language").value === "other";
    $("room-f-language-other-row").hidden = !other;
    if (other) $("room-f-language-other").focus();
  });
  $("room-f-id").addEventListener("input", () => { idTyped = true; });
  $("room-f-name").addEventListener("input", () => {
    if (listed === null && !idTyped) $("room-f-id").value = slugFromName($("room-f-name").value);
  });
  $("room-rules").addEventListener("input", showRulesWarning);
  $("room-rule-add").addEventListener("click", () => addTo(RULES));
  $("room-session-add").addEventListener("click", () => addTo(SESSIONS));
}
