// node --test tests/static/: the member's country for crisis lines (static/country.js): the
// one chosen on this device, else the region of the browser's language, else none.

import test from "node:test";
import assert from "node:assert/strict";
import { chooseCountry, countryCode, NO_COUNTRY, regionOf } from "../../static/country.js";

test("the region of a language tag, when it is a country", () => {
  assert.equal(regionOf("es-MX"), "MX");
  assert.equal(regionOf("en-gb"), "GB");
  assert.equal(regionOf("zh-Hant-TW"), "TW");
  assert.equal(regionOf("pt_BR"), "BR");
  assert.equal(regionOf("sr-Latn-RS-u-nu-latn"), "RS");
  for (const tag of ["es", "es-419", "en-Latn", "", null, 7, "x-MX", "english-US"]) {
    assert.equal(regionOf(tag), null, String(tag));
  }
});

test("the chosen country, then the browser's first region, then none", () => {
  assert.equal(chooseCountry("ie", ["en-GB"]), "IE");
  assert.equal(chooseCountry(null, ["es-MX", "en-US"]), "MX");
  assert.equal(chooseCountry(null, ["es", "en-US"]), "US");
  assert.equal(chooseCountry(null, ["es", "fr"]), null);
  assert.equal(chooseCountry("USA", ["es-ES"]), "ES"); // not a code: the browser's
  assert.equal(chooseCountry(NO_COUNTRY, ["es-MX"]), null); // "somewhere else" is honoured
  assert.equal(chooseCountry(undefined, undefined), null);
});

test("a country code is two letters, upper case", () => {
  assert.equal(countryCode("mx"), "MX");
  for (const odd of ["MEX", "M", "", "1A", null, {}, " MX"]) assert.equal(countryCode(odd), null);
});
