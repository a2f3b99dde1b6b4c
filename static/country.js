// The member's country, used for one thing only: which crisis lines come first ("Need help
// now?" and the `support` frame, through `hello`). Chosen on the help page and kept on this
// device, else read from the browser's language tags ("es-MX" -> MX). Pure: the saved value
// and the browser's languages are passed in, so `node --test tests/static/` checks it.

// Kept when the person chose "somewhere else": no country, and no guess from the browser.
export const NO_COUNTRY = "-";

/** A country code as the contract has it (two letters, upper case), or null. */
export function countryCode(value) {
  return typeof value === "string" && /^[A-Za-z]{2}$/.test(value) ? value.toUpperCase() : null;
}

/** The region of a language tag when it is a country ("es-MX" -> "MX"); null otherwise. */
export function regionOf(tag) {
  // language, an optional script, then the region: two letters (three digits is a wider
  // area, "es-419", not a country).
  const m = /^[a-z]{2,3}(?:-[a-z]{4})?-([a-z]{2})(?:-|$)/i.exec(typeof tag === "string" ?
    tag.replace(/_/g, "-") : "");
  return m ? m[1].toUpperCase() : null;
}

/**
 * The country whose lines come first: the one chosen on this device, else the region of the
 * first browser language that names one; null when neither says, or the person chose none
 * (the international lines).
 */
export function chooseCountry(saved, browserLanguages) {
  if (saved === NO_COUNTRY) return null;
  const chosen = countryCode(saved);
  if (chosen) return chosen;
  for (const tag of Array.isArray(browserLanguages) ? browserLanguages : []) {
    const region = regionOf(tag);
    if (region) return region;
  }
  return null;
}
