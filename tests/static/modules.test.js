// node --test tests/static/: the shape of the web client's modules (static/*.js): each says its
// job first, they import in one direction (no cycle), and the pure ones import only pure ones.

import test from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";

const DIR = new URL("../../static/", import.meta.url);
const PURE = ["backoff.js", "recovery.js", "room-model.js", "message-html.js", "device.js",
  "standing.js", "console-model.js", "console-words.js", "console-rooms-model.js",
  "console-queue-model.js", "mood-model.js", "outcomes-model.js"];

const sources = new Map(readdirSync(DIR).filter((n) => n.endsWith(".js"))
  .map((n) => [n, readFileSync(new URL(n, DIR), "utf8")]));
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

test("the pure modules import only pure modules and touch no page globals", () => {
  for (const name of PURE) {
    const src = sources.get(name);
    for (const dep of imports(src)) assert.ok(PURE.includes(dep), `${name} imports ${dep}`);
    const code = src.replace(/\/\/.*$/gm, "");
    assert.doesNotMatch(code, /\b(document|window|WebSocket|fetch|Storage|Date\.now)\b/, name);
  }
});
