// The client's words in the reader's language: the message catalogues (static/i18n/<code>.js,
// one plain object of key -> string per language), choosing the language, `t(key, params)` with
// {name} placeholders and plural forms, and putting words into elements so that a change of
// language redraws every one of them. No page globals: language.js passes in what it reads from
// the browser, and `node --test tests/static/` imports this as the page does.

import en from "./i18n/en.js";
import es from "./i18n/es.js";

/** Every language the client speaks, by its primary subtag. Adding one is one line here. */
export const CATALOGUES = Object.freeze({ en, es });
export const DEFAULT_LANGUAGE = "en";
// The attributes a catalogue key may fill: `data-i18n-<attribute>="key"` in index.html.
export const ATTRIBUTES = Object.freeze(["aria-label", "placeholder", "title"]);

let current = DEFAULT_LANGUAGE;
let formatting = DEFAULT_LANGUAGE; // the locale for dates and numbers, e.g. "es-MX"
const plurals = new Map(); // language -> Intl.PluralRules
// What each localized element shows, re-run on a change of language: element ->
// {text: () => string, attrs: Map(attribute -> () => string)}. Static text in index.html has
// no entry: its key is read from its data attribute.
const renders = new WeakMap();
const SELECTOR = ["[data-i18n]", ...ATTRIBUTES.map((a) => `[data-i18n-${a}]`)].join(", ");

/** The lowercase primary subtag of a language tag ("es" for "es-MX"); "" for anything else. */
export function primary(tag) {
  const m = /^([a-zA-Z]{2,3})(?:[-_]|$)/.exec(typeof tag === "string" ? tag : "");
  return m ? m[1].toLowerCase() : "";
}

/**
 * The interface language: the choice saved on this device, else the first of the browser's
 * languages the client speaks, else English.
 */
export function chooseLanguage(saved, browserLanguages) {
  const tags = [saved, ...(Array.isArray(browserLanguages) ? browserLanguages : [])];
  for (const tag of tags) {
    const code = primary(tag);
    if (Object.hasOwn(CATALOGUES, code)) return code;
  }
  return DEFAULT_LANGUAGE;
}

/**
 * The locale dates and numbers are written in: the browser's own tag for that language when it
 * has one ("es-MX" for Spanish in Mexico, "en-GB" for English in Britain), else the language.
 */
export function formattingLocale(lang, browserLanguages) {
  for (const tag of Array.isArray(browserLanguages) ? browserLanguages : []) {
    if (primary(tag) !== lang) continue;
    try {
      return Intl.getCanonicalLocales(tag)[0];
    } catch {
      /* not a well-formed tag: try the next */
    }
  }
  return lang;
}

/** Switch the words (and the formatting locale) to `lang`; an unknown code means English. */
export function setLanguage(lang, browserLanguages) {
  current = Object.hasOwn(CATALOGUES, lang) ? lang : DEFAULT_LANGUAGE;
  formatting = formattingLocale(current, browserLanguages);
  return current;
}

/** The interface language in force ("en", "es"). */
export function language() {
  return current;
}

/** The locale dates and numbers are formatted in ("es-MX", "en-US", or the language). */
export function locale() {
  return formatting;
}

function pluralRules(lang) {
  if (!plurals.has(lang)) plurals.set(lang, new Intl.PluralRules(lang));
  return plurals.get(lang);
}

function entryOf(key) {
  const own = CATALOGUES[current];
  if (Object.hasOwn(own, key)) return { entry: own[key], lang: current };
  // A key missing from a catalogue (a test fails on it) still reads, in English.
  if (Object.hasOwn(en, key)) return { entry: en[key], lang: DEFAULT_LANGUAGE };
  return { entry: key, lang: current };
}

function fill(template, params, lang) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!params || !Object.hasOwn(params, name)) return whole; // a slot, or a mistake
    let value = params[name];
    if (typeof value === "function") value = value();
    if (typeof value === "number") return new Intl.NumberFormat(lang).format(value);
    return String(value ?? "");
  });
}

/**
 * The words for `key` in the interface language, with `{name}` filled from `params` (a function
 * value is called, so nested words follow the language too; a number is written in the locale).
 * A plural entry ({one, other, …}) is chosen by `params.count`. A placeholder without a param is
 * left as it is (index.html fills such slots with elements).
 */
export function t(key, params) {
  const { entry, lang } = entryOf(key);
  let template = entry;
  if (entry && typeof entry === "object") {
    const form = pluralRules(lang).select(Number(params && params.count) || 0);
    template = Object.hasOwn(entry, form) ? entry[form] : entry.other;
  }
  const locale = lang === current ? formatting : lang;
  return fill(String(template), params, locale);
}

/** Words for later: a function that says `key` with `params` in whatever language is in force. */
export function words(key, params) {
  return () => t(key, params);
}

/** True when the catalogues (English, which has every key) have `key`. */
export function hasKey(key) {
  return Object.hasOwn(en, key);
}

/** A code from the wire (`error` frames) in the reader's words; an unknown code says so. */
export function errorText(code) {
  const key = `error.${code}`;
  return hasKey(key) ? t(key) : t("error.other", { code: String(code || "") });
}

// ---------- putting words into elements ----------
// The functions below touch only the elements they are given.

function registration(node) {
  let r = renders.get(node);
  if (!r) {
    r = { text: null, attrs: new Map() };
    renders.set(node, r);
  }
  return r;
}

// The element's `[data-slot]` children, kept the first time: a catalogue string places them
// with `{name}` where the language's word order wants them.
function slotsOf(node) {
  const r = registration(node);
  if (!r.slots) {
    r.slots = new Map();
    for (const child of node.children || []) {
      if (child.dataset && child.dataset.slot) r.slots.set(child.dataset.slot, child);
    }
  }
  return r.slots;
}

function putText(node, text) {
  const slots = slotsOf(node);
  if (slots.size === 0) {
    if (node.textContent !== text) node.textContent = text;
    return;
  }
  const parts = text.split(/\{(\w+)\}/);
  node.replaceChildren(...parts.map((part, i) => (i % 2 ? slots.get(part) || `{${part}}` : part))
    .filter((part) => part !== ""));
}

// Words to say: a function (from `words`), or text given as it is (said the same in any
// language).
function sayer(say) {
  return typeof say === "function" ? say : () => String(say ?? "");
}

/**
 * Show `say` (a function returning the words, e.g. from `words`) in `node`, now and on a change
 * of language.
 */
export function localize(node, say) {
  const fn = sayer(say);
  registration(node).text = fn;
  node.dataset.i18n = "*";
  putText(node, fn());
  return node;
}

/** Fill `attribute` of `node` with `say()`, now and on a change of language. */
export function localizeAttribute(node, attribute, say) {
  const fn = sayer(say);
  registration(node).attrs.set(attribute, fn);
  node.dataset[camel(`i18n-${attribute}`)] = "*";
  node.setAttribute(attribute, fn());
  return node;
}

/** Put text that is not ours (a room's name, a person's words) in `node`: no longer localized. */
export function setText(node, text) {
  const r = renders.get(node);
  if (r) r.text = null;
  delete node.dataset.i18n;
  node.textContent = text;
  return node;
}

function camel(name) {
  return name.replace(/-(\w)/g, (_, c) => c.toUpperCase());
}

function relocalizeOne(node) {
  const r = renders.get(node);
  const key = node.dataset.i18n;
  if (r && r.text) putText(node, r.text());
  else if (key && key !== "*") putText(node, t(key));
  for (const attribute of ATTRIBUTES) {
    const say = r && r.attrs.get(attribute);
    const attrKey = node.dataset[camel(`i18n-${attribute}`)];
    if (say) node.setAttribute(attribute, say());
    else if (attrKey && attrKey !== "*") node.setAttribute(attribute, t(attrKey));
  }
}

/**
 * Say every localized element under `root` (and `root`) again in the language in force:
 * index.html's `data-i18n="key"` and `data-i18n-<attribute>="key"`, and what `localize` and
 * `localizeAttribute` put in. Parents come before their slots, so slot elements are in place.
 */
export function relocalize(root) {
  if (root.dataset && (root.dataset.i18n || ATTRIBUTES.some((a) =>
    root.dataset[camel(`i18n-${a}`)]))) relocalizeOne(root);
  for (const node of root.querySelectorAll(SELECTOR)) relocalizeOne(node);
}
