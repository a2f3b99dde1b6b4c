// "Need help now?": the crisis lines, the member's country first, with a country picker. The
// lines come from `GET /api/crisis-resources?country=XX` (that country's lines first, the
// international ones last); when that cannot be reached, the built-in list in index.html
// stays. The country is kept on this device, sent only there and in `hello`, never logged.
// The list of lines is drawn here for the `support` frame too.

import { chooseCountry, countryCode, NO_COUNTRY } from "./country.js";
import { COUNTRY_KEY } from "./device.js";
import { $, el } from "./dom.js";
import { language } from "./i18n.js";
import { browserLanguages, onLanguageChange } from "./language.js";
import { getItem, setItem } from "./storage.js";

let countries = []; // [{code, name}] the server has lines for
let answer = null; // the last answer shown: {country, resources}
let asked = 0; // the latest request; an older answer is dropped

/** The country whose lines come first, or null (none chosen and none in the browser's tags). */
export function memberCountry() {
  return chooseCountry(getItem("local", COUNTRY_KEY), browserLanguages());
}

/** The crisis lines dialog, one tap away on every screen: opened, and its lines fetched. */
export function openHelp() {
  $("help").showModal();
  loadLines(memberCountry());
}

// A web address as a link showing its host ("findahelpline.com").
function webLink(url) {
  let host = url;
  try {
    host = new URL(url).host.replace(/^www\./, "");
  } catch {
    /* shown as given */
  }
  return el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: host });
}

// A contact that is a web address is a link; in anything else, each phone number (digits and
// spaces, as the contract has them) is a `tel:` link, so it is one tap to call.
function contactNodes(contact) {
  const text = String(contact || "");
  if (/^https?:\/\/\S+$/i.test(text)) return [webLink(text)];
  return text.split(/(\+?\d[\d ]{1,18}\d)/).map((part, i) => (i % 2 === 0 ? part :
    el("a", { href: `tel:${part.replace(/ /g, "")}`, text: part }))).filter((part) => part !== "");
}

/**
 * List items for crisis lines as the contract carries them ({name, contact, url?}): the name,
 * the way to reach them first (the number to call), then their page.
 */
export function resourceItems(resources) {
  return (Array.isArray(resources) ? resources : []).map((r) => {
    const url = typeof r.url === "string" && /^https?:\/\//i.test(r.url) &&
      r.url !== r.contact ? r.url : null;
    return el("li", {}, el("strong", { text: String(r.name || "") }), ": ",
      ...contactNodes(r.contact), url ? " · " : null, url ? webLink(url) : null);
  });
}

// A country's name in the reader's language; the server's (English) name when Intl has none.
function countryName(code, fallback) {
  try {
    return new Intl.DisplayNames([language()], { type: "region" }).of(code) || fallback;
  } catch {
    return fallback || code;
  }
}

function drawPicker(country) {
  const select = $("help-country");
  const named = countries.map((c) => ({ code: c.code, name: countryName(c.code, c.name) }))
    .sort((a, b) => a.name.localeCompare(b.name, language()));
  select.replaceChildren(el("option", { value: "", t: "help.country.none" }),
    ...named.map((c) => el("option", { value: c.code, text: c.name })));
  select.value = countries.some((c) => c.code === country) ? country : "";
  $("help-country-row").hidden = countries.length === 0;
}

function drawLines() {
  const box = $("help-resources");
  const { country, resources } = answer;
  const own = country ? resources.filter((r) => r.country === country) : [];
  const rest = resources.filter((r) => !own.includes(r));
  const parts = [];
  if (own.length > 0) {
    const name = countryName(country, country);
    parts.push(el("h3", { t: "help.in", args: { country: name } }),
      el("ul", { className: "help-list" }, ...resourceItems(own)));
  }
  if (rest.length > 0) {
    parts.push(el("h3", { t: own.length ? "help.elsewhereAll" : "help.anywhere" }),
      el("ul", { className: "help-list" }, ...resourceItems(rest)));
  }
  box.replaceChildren(...parts);
  box.hidden = parts.length === 0;
  $("help-fallback").hidden = parts.length > 0;
}

// The built-in lines: the server's list could not be had.
function drawFallback() {
  $("help-resources").hidden = true;
  $("help-fallback").hidden = false;
  $("help-country-row").hidden = countries.length === 0;
}

async function loadLines(country) {
  const mine = ++asked;
  const query = country ? `?country=${encodeURIComponent(country)}` : "";
  let data = null;
  try {
    const res = await fetch(`/api/crisis-resources${query}`,
      { headers: { accept: "application/json" }, cache: "no-store" });
    if (res.ok) data = await res.json();
  } catch {
    data = null; // not reached: the built-in list stays
  }
  if (mine !== asked) return;
  if (!data || !Array.isArray(data.resources)) {
    drawFallback();
    return;
  }
  countries = (Array.isArray(data.countries) ? data.countries : [])
    .filter((c) => c && countryCode(c.code) === c.code);
  answer = { country: countryCode(data.country), resources: data.resources.filter(Boolean) };
  drawPicker(answer.country || country);
  drawLines();
}

/** The country picker; the lines follow the language too. */
export function wireHelp() {
  $("help-country").addEventListener("change", () => {
    const code = countryCode($("help-country").value);
    setItem("local", COUNTRY_KEY, code || NO_COUNTRY);
    loadLines(code);
  });
  onLanguageChange(() => {
    if (answer) {
      drawPicker($("help-country").value);
      drawLines();
    }
  });
}
