// node --test tests/static/: the client's words (static/i18n.js and the catalogues in
// static/i18n/): which language is chosen, placeholders and plurals, the catalogues agreeing
// with each other and with index.html, and elements said again on a change of language.

import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  CATALOGUES, chooseLanguage, errorText, formattingLocale, language, locale, localize,
  localizeAttribute, primary, relocalize, setLanguage, setText, t, words,
} from "../../static/i18n.js";

const en = CATALOGUES.en;
const HTML = readFileSync(new URL("../../static/index.html", import.meta.url), "utf8");

test("the language: the saved choice, then the browser's languages, then English", () => {
  assert.equal(chooseLanguage("es", ["en-US", "en"]), "es");
  assert.equal(chooseLanguage("en", ["es-MX"]), "en");
  assert.equal(chooseLanguage(null, ["es-MX", "en"]), "es");
  assert.equal(chooseLanguage(null, ["fr-FR", "de", "es-419", "en"]), "es");
  assert.equal(chooseLanguage("xx", ["fr-CA", "EN-gb"]), "en");
  assert.equal(chooseLanguage("", ["fr", "de"]), "en");
  assert.equal(chooseLanguage(undefined, undefined), "en");
  assert.equal(chooseLanguage("es_ES", []), "es");
  // Only a catalogue's own code counts: nothing that merely starts like one.
  for (const odd of ["e", "esx-1", "__proto__", "constructor", 7, {}]) {
    assert.equal(chooseLanguage(odd, []), "en", String(odd));
  }
});

test("primary subtags", () => {
  assert.equal(primary("es-MX"), "es");
  assert.equal(primary("EN"), "en");
  assert.equal(primary("zh-Hant-TW"), "zh");
  assert.equal(primary("x"), "");
  assert.equal(primary(null), "");
});

test("dates and numbers in the browser's own tag for the chosen language", () => {
  assert.equal(formattingLocale("es", ["es-MX", "en-US"]), "es-MX");
  assert.equal(formattingLocale("es", ["en-US", "es-ES"]), "es-ES");
  assert.equal(formattingLocale("es", ["en-US"]), "es");
  assert.equal(formattingLocale("en", ["es-MX", "en-GB"]), "en-GB");
  assert.equal(formattingLocale("en", []), "en");
  setLanguage("es", ["es-MX"]);
  assert.equal(language(), "es");
  assert.equal(locale(), "es-MX");
  assert.equal(setLanguage("fr", ["fr-FR"]), "en"); // no catalogue: English
  assert.equal(locale(), "en");
});

test("placeholders are filled; a function is called; numbers are written in the locale", () => {
  setLanguage("en", ["en-US"]);
  assert.equal(t("rooms.nextSession", { when: "Tuesday 19:00, in 2 days" }),
    "Next session Tuesday 19:00, in 2 days");
  assert.equal(t("panel.talk.label", { handle: () => "Warm Yak" }), "Talk privately with Warm Yak");
  assert.equal(t("send.tooLong", { count: 2000 }), "That message is too long: 2,000 characters at most.");
  // A placeholder without a param stays (index.html fills it with an element).
  assert.equal(t("signin.coordinators"), "Coordinators: {link}.");
  // A value is put in as it is: its own braces are not read again.
  assert.equal(t("console.revoke.done", { name: "{who}" }), "{who}'s access is revoked.");
  // Nested words follow the language in force when they are said.
  const say = words("held.contact", { what: words("held.kind.phone") });
  assert.match(say(), /it has a phone number in it/);
  setLanguage("es", ["es-ES"]);
  assert.match(say(), /parece que contiene un número de teléfono/);
  assert.equal(t("send.tooLong", { count: 2000 }),
    "Ese mensaje es demasiado largo: como máximo 2000 caracteres.");
  setLanguage("en");
});

test("plural forms by the language's rules, with `other` when a form is not given", () => {
  setLanguage("en");
  assert.equal(t("rooms.found", { count: 1 }), "1 room found.");
  assert.equal(t("rooms.found", { count: 0 }), "0 rooms found.");
  assert.equal(t("rooms.found", { count: 3 }), "3 rooms found.");
  setLanguage("es");
  assert.equal(t("rooms.found", { count: 1 }), "Se encontró 1 sala.");
  assert.equal(t("rooms.found", { count: 5 }), "Se encontraron 5 salas.");
  // Spanish has a `many` form (a million); the catalogue gives `other` for it.
  assert.equal(new Intl.PluralRules("es").select(1000000), "many");
  assert.equal(t("rooms.here", { count: 1000000 }), "1.000.000 personas aquí");
  assert.equal(t("rooms.here", { count: 1 }), "1 persona aquí");
  setLanguage("en");
});

test("an unknown key reads as itself; an error code is put in words, an unknown one named", () => {
  setLanguage("en");
  assert.equal(t("no.such.key"), "no.such.key");
  assert.equal(errorText("room_full"), "the room is full");
  assert.equal(errorText("made_up"), "the server said made_up");
  setLanguage("es");
  assert.equal(errorText("not_joined"), "no estás en esta sala");
  assert.equal(t("error.didNotWork", { error: () => errorText("locked") }),
    "No funcionó: la sala está cerrada.");
  setLanguage("en");
});

const placeholders = (entry) => {
  const forms = typeof entry === "string" ? [entry] : Object.values(entry);
  return [...new Set(forms.flatMap((s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))]
    .sort();
};

test("every catalogue has every key of English and no other, none empty", () => {
  const codes = Object.keys(CATALOGUES);
  assert.deepEqual(codes.sort(), ["en", "es"]);
  for (const code of codes) {
    const words = CATALOGUES[code];
    assert.deepEqual(Object.keys(words).filter((k) => !Object.hasOwn(en, k)), [], `${code}: extra`);
    assert.deepEqual(Object.keys(en).filter((k) => !Object.hasOwn(words, k)), [],
      `${code}: missing`);
    for (const [key, entry] of Object.entries(words)) {
      const forms = typeof entry === "string" ? [entry] : Object.entries(entry);
      if (typeof entry !== "string") {
        assert.ok(typeof entry.other === "string", `${code} ${key}: a plural needs "other"`);
        assert.ok(typeof entry.one === "string", `${code} ${key}: a plural needs "one"`);
        for (const [form, s] of forms) {
          assert.ok(["zero", "one", "two", "few", "many", "other"].includes(form), key);
          assert.equal(typeof s, "string", `${code} ${key}.${form}`);
          assert.notEqual(s.trim(), "", `${code} ${key}.${form} is empty`);
        }
      } else {
        assert.notEqual(entry.trim(), "", `${code} ${key} is empty`);
      }
      // The same places to fill, so no value is lost or shown as {name}.
      assert.deepEqual(placeholders(entry), placeholders(en[key]), `${code} ${key}`);
    }
    assert.ok(["ltr", "rtl"].includes(words["language.dir"]), code);
  }
});

test("the Spanish catalogue is Spanish: no value is left as the English one", () => {
  // Names and symbols that read the same in both languages.
  const same = new Set(["language.dir", "time.session", "footer.forget", "msg.cw",
    "mod.titleWho", "console.expires", "room.flag.slow", "mood.summaryAnswers",
    "console.queue.audit.other", "console.roomForm.language.option"]);
  const untranslated = Object.keys(en).filter((k) => !same.has(k) &&
    JSON.stringify(en[k]) === JSON.stringify(CATALOGUES.es[k]));
  assert.deepEqual(untranslated, []);
});

test("every key index.html names is in the catalogues", () => {
  const keys = [...HTML.matchAll(/data-i18n(?:-[a-z-]+)?="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(keys.length > 100);
  for (const key of keys) assert.ok(Object.hasOwn(en, key), key);
  // Each slot an element fills is a placeholder of its parent's words (checked in a browser by
  // tests/browser/test_spanish.py, which also holds index.html's English to en.js).
  for (const m of HTML.matchAll(/data-slot="(\w+)"/g)) {
    assert.ok(Object.values(en).some((v) => typeof v === "string" && v.includes(`{${m[1]}}`)),
      m[1]);
  }
});

// ---------- elements: a few fields of the DOM, enough for what i18n.js touches ----------

class FakeNode {
  constructor(data = {}, children = []) {
    this.dataset = { ...data };
    this.attributes = new Map();
    this.children = children;
    this.childNodes = [...children];
    this.text = "";
  }

  get textContent() {
    if (this.childNodes.length === 0) return this.text;
    return this.childNodes.map((n) => (typeof n === "string" ? n : n.textContent)).join("");
  }

  set textContent(value) {
    this.childNodes = [];
    this.text = value;
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }

  replaceChildren(...nodes) {
    this.childNodes = nodes;
  }

  querySelectorAll() {
    const all = [];
    const walk = (node) => {
      for (const child of node.childNodes) {
        if (typeof child === "string") continue;
        if (Object.keys(child.dataset).some((k) => k.startsWith("i18n"))) all.push(child);
        walk(child);
      }
    };
    walk(this);
    return all;
  }
}

test("localized elements are said again in the new language; other text is left alone", () => {
  setLanguage("en");
  const status = new FakeNode();
  const label = new FakeNode();
  const name = new FakeNode();
  const root = new FakeNode({}, [status, label, name]);
  localize(status, words("rooms.found", { count: 2 }));
  localizeAttribute(label, "aria-label", words("panel.talk.label", { handle: "Warm Yak" }));
  localize(name, words("room.joining"));
  setText(name, "Vivir con ansiedad"); // a room's own name: not ours to translate
  assert.equal(status.textContent, "2 rooms found.");
  assert.equal(label.attributes.get("aria-label"), "Talk privately with Warm Yak");
  setLanguage("es");
  relocalize(root);
  assert.equal(status.textContent, "Se encontraron 2 salas.");
  assert.equal(label.attributes.get("aria-label"), "Hablar en privado con Warm Yak");
  assert.equal(name.textContent, "Vivir con ansiedad");
  setLanguage("en");
});

test("index.html's keys and slots: elements go where each language's words put them", () => {
  setLanguage("en");
  const link = new FakeNode({ slot: "link", i18n: "signin.console" });
  link.textContent = "open the coordinator console";
  const p = new FakeNode({ i18n: "signin.coordinators" }, [link]);
  const placeholder = new FakeNode({ i18nPlaceholder: "rooms.search.placeholder" });
  const root = new FakeNode({}, [p, placeholder]);
  setLanguage("es");
  relocalize(root);
  assert.deepEqual(p.childNodes.map((n) => (typeof n === "string" ? n : "<a>")),
    ["Coordinadores: ", "<a>", "."]);
  assert.equal(link.textContent, "abre la consola de coordinación");
  assert.equal(placeholder.attributes.get("placeholder"), "p. ej., ansiedad, duelo, cuidados");
  setLanguage("en");
  relocalize(root);
  assert.equal(p.textContent, "Coordinators: open the coordinator console.");
});
