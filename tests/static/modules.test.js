// node --test tests/static/: the shape of the web client's modules (static/*.js and the
// catalogues in static/i18n/): each says its job first, they import in one direction (no
// cycle), and the pure ones import only pure ones and touch no page globals.

import test from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";

const DIR = new URL("../../static/", import.meta.url);
// Pure: no DOM, network or clock. The words (i18n.js and its catalogues) and the time
// formatting (format.js) are pure too, so the other pure modules may use them.
const PURE = ["backoff.js", "recovery.js", "room-model.js", "message-html.js", "device.js",
  "standing.js", "console-model.js", "console-words.js", "console-rooms-model.js",
  "console-queue-model.js", "mood-model.js", "outcomes-model.js", "i18n.js", "format.js",
  "country.js", "seats.js", "i18n/en.js", "i18n/es.js"];

const names = [...readdirSync(DIR).filter((n) => n.endsWith(".js")),
  ...readdirSync(new URL("i18n/", DIR)).filter((n) => n.endsWith(".js")).map((n) => `i18n/${n}`)];
const sources = new Map(names.map((n) => [n, readFileSync(new URL(n, DIR), "utf8")]));
// Imports, as paths from static/ ("./i18n/en.js" from i18n.js is "i18n/en.js").
const imports = (src) => [...src.matchAll(/^import [^;]*? from "\.\/([^"]+)";$/gm)]
  .map((m) => m[1]);

test("every module starts with a comment saying its job", () => {
  assert.ok(sources.size > 10);
  for (const [name, src] of sources) assert.match(src, /^\/\/ \S/, name);
});

test("modules import only modules that exist, with no cycle", () => {
  const state = new Map(); // name -> "visiting" | "done"
  const visit = (name, path) => {
    assert.ok(sources.has(name), `${path.join(" -> ")} imports a missing ${name}`);
    if (state.get(name) === "done") return;
    assert.notEqual(state.get(name), "visiting", `cycle: ${[...path, name].join(" -> ")}`);
    state.set(name, "visiting");
    for (const dep of imports(sources.get(name))) visit(dep, [...path, name]);
    state.set(name, "done");
  };
  for (const name of sources.keys()) visit(name, []);
  assert.equal(state.get("main.js"), "done");
});

test("the pure modules import only pure ones and touch no page globals", () => {
  for (const name of PURE) {
    const src = sources.get(name);
    for (const dep of imports(src)) assert.ok(PURE.includes(dep), `${name} imports ${dep}`);
    // Code only: comments and the words in strings ("a private window") do not count.
    const code = src.replace(/"(?:[^"\\\n]|\\.)*"/g, '""').replace(/\/\/.*$/gm, "");
    assert.doesNotMatch(code, /\b(document|window|WebSocket|fetch|Storage|Date\.now)\b/, name);
  }
});
