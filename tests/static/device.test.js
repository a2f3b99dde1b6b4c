// node --test tests/static/: what the web client keeps in this browser (static/device.js).

import test from "node:test";
import assert from "node:assert/strict";
import * as Device from "../../static/device.js";

// The Web Storage interface (getItem, setItem, removeItem, key, length) over a Map: the
// functions under test touch storage only through it, as in the page.
class MemoryStorage {
  constructor(entries = {}) {
    this.map = new Map(Object.entries(entries));
  }
  get length() {
    return this.map.size;
  }
  key(i) {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  setItem(k, v) {
    this.map.set(k, String(v));
  }
  removeItem(k) {
    this.map.delete(k);
  }
  toObject() {
    return Object.fromEntries(this.map);
  }
}

// Storage a browser refuses to write to (a full quota, some private modes).
class RefusingStorage extends MemoryStorage {
  setItem() {
    throw new Error("QuotaExceededError");
  }
}

test("the default keeps the member token on the device, as before", () => {
  const local = new MemoryStorage();
  const session = new MemoryStorage();
  assert.equal(Device.scopeOf(local), "device");
  Device.writeToken(local, session, "tok-1");
  assert.deepEqual(local.toObject(), { "psc.member-token": "tok-1" });
  assert.deepEqual(session.toObject(), {});
  assert.equal(Device.readToken(local, session), "tok-1");
});

test("tab only moves the existing token into sessionStorage and keeps only a preference", () => {
  const local = new MemoryStorage({ "psc.member-token": "tok-1" });
  const session = new MemoryStorage({ "psc.agreed.anxiety": "2" });
  assert.equal(Device.setScope(local, session, "tab"), "tab");
  assert.deepEqual(local.toObject(), { "psc.identity-scope": "tab" });
  assert.deepEqual(session.toObject(), { "psc.agreed.anxiety": "2", "psc.member-token": "tok-1" });
  // The same person, read from the tab.
  assert.equal(Device.readToken(local, session), "tok-1");
  // A new token (after a refused one) stays in the tab too.
  Device.writeToken(local, session, "tok-2");
  assert.equal(session.getItem("psc.member-token"), "tok-2");
  assert.equal(local.getItem("psc.member-token"), null);
});

test("a new tab in tab-only mode never picks up a token left on the device", () => {
  const local = new MemoryStorage({ "psc.identity-scope": "tab", "psc.member-token": "old" });
  assert.equal(Device.readToken(local, new MemoryStorage()), null);
  const session = new MemoryStorage();
  Device.writeToken(local, session, "fresh");
  assert.equal(local.getItem("psc.member-token"), null);
  assert.equal(session.getItem("psc.member-token"), "fresh");
});

test("back to the device moves the tab's token back and drops the preference", () => {
  const local = new MemoryStorage({ "psc.identity-scope": "tab" });
  const session = new MemoryStorage({ "psc.member-token": "tok-1" });
  assert.equal(Device.setScope(local, session, "device"), "device");
  assert.deepEqual(local.toObject(), { "psc.member-token": "tok-1" });
  assert.deepEqual(session.toObject(), {});
});

test("a preference the browser will not store leaves everything as it was", () => {
  const local = new RefusingStorage();
  local.map.set("psc.member-token", "tok-1");
  const session = new MemoryStorage();
  assert.equal(Device.setScope(local, session, "tab"), "device");
  assert.equal(local.getItem("psc.member-token"), "tok-1");
  assert.deepEqual(session.toObject(), {});
});

test("forgetting removes every key of ours from both stores and nothing else", () => {
  const local = new MemoryStorage({ "psc.member-token": "t", "psc.identity-scope": "tab",
    "psc.some-future-key": "x", "other-app": "keep" });
  const session = new MemoryStorage({ "psc.facilitator-token": "f", "psc.agreed.grief": "1",
    "psc.member-token": "t2" });
  assert.deepEqual(Device.forgetAll(local, session), []);
  assert.deepEqual(local.toObject(), { "other-app": "keep" });
  assert.deepEqual(session.toObject(), {});
  assert.deepEqual(Device.ownKeys(local), []);
});

test("forgetting says what a browser refused to remove", () => {
  const stubborn = new MemoryStorage({ "psc.member-token": "t" });
  stubborn.removeItem = () => {
    throw new Error("SecurityError");
  };
  assert.deepEqual(Device.forgetAll(stubborn, null), ["psc.member-token"]);
});

test("missing storage reads as empty and writes nowhere, without throwing", () => {
  assert.equal(Device.readToken(null, null), null);
  Device.writeToken(null, null, "t");
  assert.equal(Device.scopeOf(null), "device");
  assert.deepEqual(Device.forgetAll(null, undefined), []);
});
