// node --test tests/static/: reconnect delays (static/backoff.js).

import test from "node:test";
import assert from "node:assert/strict";
import { Backoff, BASE_MS, FLOOD_MIN_MS, MAX_MS } from "../../static/backoff.js";

const low = () => 0;
const high = () => 0.999999;

test("delays double from half a second and stay within half and all of the cap", () => {
  const b = new Backoff();
  const lows = [];
  for (let i = 0; i < 8; i += 1) lows.push(b.next(1006, low));
  assert.deepEqual(lows, [250, 500, 1000, 2000, 4000, 7500, 7500, 7500]);
  const c = new Backoff();
  const highs = [];
  for (let i = 0; i < 8; i += 1) highs.push(Math.round(c.next(1006, high)));
  assert.deepEqual(highs, [BASE_MS, 1000, 2000, 4000, 8000, MAX_MS, MAX_MS, MAX_MS]);
});

test("jitter spreads tries between half and all of the step, never past the cap", () => {
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const b = new Backoff();
    b.attempt = attempt;
    const step = Math.min(MAX_MS, BASE_MS * 2 ** attempt);
    const d = b.next(1006, Math.random);
    assert.ok(d >= step / 2 && d <= step && d <= MAX_MS, `${attempt}: ${d}`);
  }
  const seen = new Set();
  for (const r of [0, 0.25, 0.5, 0.75]) seen.add(new Backoff().next(1006, () => r));
  assert.equal(seen.size, 4);
});

test("a restarting server (1012) is tried again within a second, once", () => {
  const b = new Backoff();
  const first = b.next(1012, high);
  assert.ok(first >= 300 && first < 800, String(first));
  assert.equal(b.next(1012, low), 500); // the second try backs off as usual
});

test("after a flood close (4029) the client waits at least ten seconds", () => {
  const b = new Backoff();
  assert.equal(b.next(4029, low), FLOOD_MIN_MS);
  b.attempt = 10;
  assert.equal(b.next(4029, high) >= FLOOD_MIN_MS, true);
});

test("a welcome resets the backoff to the shortest step", () => {
  const b = new Backoff();
  assert.equal(b.fresh, true);
  for (let i = 0; i < 6; i += 1) b.next(1006, low);
  assert.equal(b.fresh, false);
  assert.equal(b.next(1006, low), 7500);
  b.reset();
  assert.equal(b.fresh, true);
  assert.equal(b.next(1006, low), 250);
});
