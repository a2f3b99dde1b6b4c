// The interface language on this page: chosen at start (the choice kept on this device, else
// the browser's languages, else English), the picker in the header, `lang` and `dir` on the
// document, and every word on the page said again when it changes. No reload: the connection,
// the room and anything typed stay.

import { LANGUAGE_KEY } from "./device.js";
import { $, el } from "./dom.js";
import { CATALOGUES, chooseLanguage, language, relocalize, setLanguage, t } from "./i18n.js";
import { announce } from "./notices.js";
import { getItem, setItem } from "./storage.js";

const listeners = []; // views that draw more than words (the directory, the help page)

/** The browser's languages, most preferred first. */
export function browserLanguages() {
  const list = Array.isArray(navigator.languages) ? [...navigator.languages] : [];
  if (navigator.language) list.push(navigator.language);
  return list;
}

/** Call `fn(lang)` after every change of language (not at start). */
export function onLanguageChange(fn) {
  listeners.push(fn);
}

function apply(lang) {
  setLanguage(lang, browserLanguages());
  const root = document.documentElement;
  root.lang = language();
  root.dir = t("language.dir") === "rtl" ? "rtl" : "ltr";
  relocalize(root);
  $("lang-select").value = language();
}

/** Choose the language and say the page in it; the picker lists every catalogue. */
export function startLanguage() {
  const select = $("lang-select");
  // Each language by its own name, marked as that language for screen readers.
  select.replaceChildren(...Object.entries(CATALOGUES).map(([code, words]) =>
    el("option", { value: code, lang: code, text: words["language.name"] })));
  apply(chooseLanguage(getItem("local", LANGUAGE_KEY), browserLanguages()));
  select.addEventListener("change", () => changeLanguage(select.value));
}

/** The person chose `lang`: keep the choice on this device and say everything again. */
export function changeLanguage(lang) {
  setItem("local", LANGUAGE_KEY, lang);
  apply(lang);
  for (const fn of listeners) fn(language());
  announce(t("lang.changed"));
}
