// The web client of peer-support-chat. Plain JavaScript, no build step, speaking only the wire
// contract (docs/protocol.md). Nothing from the wire is ever inserted as markup: every text goes
// in with textContent, links are built as elements.
"use strict";

(() => {
  // What is kept in this browser and where: static/device.js. Facilitator-only frames and the
  // words when standing ends: static/standing.js. Both load before this file.
  const { FAC_KEY, AGREED_PREFIX } = window.DeviceStorage;
  const Device = window.DeviceStorage;
  const Standing = window.Standing;
  const ROOMS_POLL_MS = 10000;
  const MAX_BACKOFF_MS = 15000;

  const $ = (id) => document.getElementById(id);
  const body = document.body;

  const S = {
    ws: null,
    conn: "connecting",
    attempt: 0,
    retryTimer: null,
    welcomed: false,
    role: "member",
    helloPlans: [],
    helloIndex: 0,
    refSeq: 0,
    pending: new Map(), // ref -> {onAck, onError}
    memory: new Map(), // room -> {epoch, lastId}: what `since` recovers after a reconnect
    catalog: new Map(), // room id -> directory entry
    categories: new Set(),
    cur: null, // the room on screen
    roomsTimer: null,
    navigated: false,
    inRooms: new Set(), // rooms joined on this socket: "leave without a trace" leaves each
    forgotten: false, // after "leave without a trace": never connect or store again
  };

  // ---------- small helpers ----------

  function store(kind) {
    try {
      return kind === "local" ? window.localStorage : window.sessionStorage;
    } catch {
      return null;
    }
  }
  function getItem(kind, key) {
    const s = store(kind);
    try {
      return s ? s.getItem(key) : null;
    } catch {
      return null;
    }
  }
  function setItem(kind, key, value) {
    const s = store(kind);
    try {
      if (s) s.setItem(key, value);
    } catch {
      /* storage full or blocked: the client still works, without persistence */
    }
  }
  function removeItem(kind, key) {
    const s = store(kind);
    try {
      if (s) s.removeItem(key);
    } catch {
      /* ignore */
    }
  }

  function el(tag, opts, ...children) {
    const node = document.createElement(tag);
    if (opts) {
      for (const [k, v] of Object.entries(opts)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "text") node.textContent = v;
        else if (k === "className") node.className = v;
        else if (k === "dataset") Object.assign(node.dataset, v);
        else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : v);
      }
    }
    for (const c of children) if (c) node.append(c);
    return node;
  }

  function button(label, onClick, opts = {}) {
    return el("button", { type: "button", className: opts.className || "button small secondary",
      "aria-label": opts.ariaLabel, onclick: onClick, text: label });
  }

  // Links made from plain text: http(s) only, as elements, never as markup.
  const URL_RE = /https?:\/\/[^\s<>"']+/g;
  function linkified(text) {
    const frag = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(URL_RE)) {
      let url = match[0];
      const trail = url.match(/[.,;:!?)\]]+$/);
      if (trail) url = url.slice(0, -trail[0].length);
      frag.append(text.slice(last, match.index));
      frag.append(el("a", { href: url, rel: "nofollow noopener noreferrer ugc",
        target: "_blank", text: url }));
      last = match.index + url.length;
    }
    frag.append(text.slice(last));
    return frag;
  }

  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const dayTimeFmt = new Intl.DateTimeFormat(undefined,
    { weekday: "short", hour: "2-digit", minute: "2-digit" });
  const dateTimeFmt = new Intl.DateTimeFormat(undefined,
    { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

  function parseTime(value) {
    const t = typeof value === "number" ? value * (value < 1e12 ? 1000 : 1) : Date.parse(value);
    return Number.isFinite(t) ? t : null;
  }
  function fmtTime(ms) {
    return ms === null ? "" : timeFmt.format(new Date(ms));
  }
  function fmtUntil(ms) {
    if (ms === null) return "";
    const sameDay = new Date(ms).toDateString() === new Date().toDateString();
    return sameDay ? timeFmt.format(new Date(ms)) : dateTimeFmt.format(new Date(ms));
  }
  function minutesLeft(ms) {
    return Math.max(1, Math.ceil((ms - Date.now()) / 60000));
  }
  function plural(n, word) {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
  }

  // ---------- announcements ----------

  let alertTimer = null;
  function announce(text) {
    // Assertive: read at once. Cleared first so the same words are read again.
    const box = $("alerts");
    box.textContent = "";
    clearTimeout(alertTimer);
    alertTimer = setTimeout(() => { box.textContent = text; }, 60);
  }

  function setConn(state) {
    S.conn = state;
    body.dataset.state = state;
    const label = {
      connecting: "Connecting…",
      connected: "Connected",
      reconnecting: "Reconnecting…",
      offline: "Offline: we will reconnect when you are back online",
      left: "Not connected",
    }[state];
    $("conn-text").textContent = label;
    $("conn-retry").hidden = state !== "reconnecting" && state !== "offline";
    updateComposer();
  }

  // ---------- the socket ----------

  function wsUrl() {
    return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
  }

  function connect() {
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    if (S.forgotten) return; // a new connection would make and store a new member
    if (!navigator.onLine) {
      setConn("offline");
      return;
    }
    setConn(S.attempt === 0 && !S.everConnected ? "connecting" : "reconnecting");
    let ws;
    try {
      ws = new WebSocket(wsUrl());
    } catch {
      scheduleReconnect(1006);
      return;
    }
    S.ws = ws;
    ws.addEventListener("open", () => {
      if (S.ws === ws) startHello();
    });
    ws.addEventListener("message", (ev) => {
      if (S.ws !== ws) return;
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (frame && typeof frame === "object") handle(frame);
    });
    ws.addEventListener("close", (ev) => {
      if (S.ws !== ws) return;
      S.ws = null;
      disconnected(ev.code);
    });
  }

  function reconnectNow() {
    const old = S.ws;
    S.ws = null;
    if (old) old.close(1000, "reconnecting");
    disconnected(1000, true);
    S.memory.clear(); // the role may change: draw the room again from its history
    S.attempt = 0;
    connect();
  }

  function disconnected(code, quiet) {
    S.welcomed = false;
    S.inRooms.clear();
    for (const p of S.pending.values()) p.onError({ code: "disconnected",
      message: "the connection was lost" });
    S.pending.clear();
    const cur = S.cur;
    if (cur && !cur.removed) {
      cur.joined = false;
      body.dataset.roomState = "joining";
    }
    if (!quiet) scheduleReconnect(code);
  }

  function scheduleReconnect(code) {
    if (S.forgotten) return;
    if (!navigator.onLine) {
      setConn("offline");
      return;
    }
    setConn("reconnecting");
    let delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** S.attempt);
    delay = delay / 2 + Math.random() * (delay / 2);
    if (code === 1012 && S.attempt === 0) delay = 300 + Math.random() * 500; // restarting
    if (code === 4029) delay = Math.max(delay, 10000); // we were flooding: back off
    S.attempt += 1;
    S.retryTimer = setTimeout(connect, delay);
  }

  function send(frame) {
    if (!S.ws || S.ws.readyState !== WebSocket.OPEN) return false;
    S.ws.send(JSON.stringify(frame));
    return true;
  }

  // Send with a `ref`; the `ack`, `error` (or `held`, `joined`) that carries it settles it.
  function request(frame, onAck, onError) {
    const ref = `r${++S.refSeq}`;
    const fail = onError || ((err) => showError(err));
    if (!S.welcomed || !send({ ...frame, ref })) {
      fail({ code: "disconnected", message: "not connected" });
      return;
    }
    S.pending.set(ref, { onAck: onAck || (() => {}), onError: fail });
  }

  // ---------- hello, and what to do with a token the server refuses ----------

  function startHello() {
    const token = Device.readToken(store("local"), store("session"));
    const fac = getItem("session", FAC_KEY);
    // On `unauthorized` try the next plan: the plans tell apart which token was bad.
    const plans = [];
    if (token && fac) plans.push({ token, facilitator_token: fac }, { token },
      { facilitator_token: fac });
    else if (token) plans.push({ token });
    else if (fac) plans.push({ facilitator_token: fac });
    plans.push({});
    S.helloPlans = plans;
    S.helloIndex = 0;
    S.helloHad = { token: Boolean(token), fac: Boolean(fac) };
    sendHello();
  }

  function sendHello() {
    send({ type: "hello", ...S.helloPlans[S.helloIndex], ref: "hello" });
  }

  function onWelcome(f) {
    const plan = S.helloPlans[S.helloIndex] || {};
    if (S.helloHad.fac && !plan.facilitator_token) {
      removeItem("session", FAC_KEY);
      showFacilitatorNotice("Your facilitator token was not accepted (it may have expired). " +
        "You are here as a member.");
    }
    // Kept where the person chose (this device, or this tab only), read afresh: another tab
    // may have changed the choice since this one loaded.
    if (typeof f.token === "string") Device.writeToken(store("local"), store("session"), f.token);
    S.welcomed = true;
    S.everConnected = true;
    S.attempt = 0;
    S.role = f.role === "facilitator" ? "facilitator" : "member";
    body.dataset.role = S.role;
    updateFacilitatorSignin();
    $("fac-panel").hidden = !(S.cur && S.role === "facilitator");
    setConn("connected");
    if (S.cur && !S.cur.removed) joinRoom();
    if (!S.cur) loadRooms();
  }

  // ---------- incoming frames ----------

  function handle(f) {
    const ref = typeof f.ref === "string" ? f.ref : null;
    if (f.type === "welcome") return onWelcome(f);
    if (f.type === "facilitator_ended") return onFacilitatorEnded(f);
    // Standing may have ended while a facilitator-only frame was on its way: never show it.
    if (S.role !== "facilitator" && Standing.facilitatorOnly(f.type)) return;
    if (f.type === "error" && ref === "hello") {
      if (f.code === "unauthorized" && S.helloIndex < S.helloPlans.length - 1) {
        S.helloIndex += 1;
        sendHello();
      }
      return;
    }
    if (ref && S.pending.has(ref)) {
      // The answer to a frame we sent: an ack or error, or a frame that stands for the ack
      // (`joined`, `audit_log`, `held`), which is then also handled as itself below.
      const p = S.pending.get(ref);
      S.pending.delete(ref);
      if (f.type === "error") p.onError(f);
      else if (f.type === "held") p.onError({ code: "held", reason: f.reason, kind: f.kind });
      else p.onAck(f);
      if (f.type === "ack" || f.type === "error" || f.type === "held") return;
    }
    const cur = S.cur;
    if (f.type === "error") return showError(f);
    if (f.type === "ack") return;
    if (!cur || f.room !== cur.id) return;
    const handler = HANDLERS[f.type];
    if (handler) handler(f, cur);
  }

  const HANDLERS = {
    joined: onJoined,
    message: (f, cur) => {
      if (typeof f.conversation === "string" && f.conversation) {
        if (!cur.foreign.has(f.conversation)) addPrivateMessage(cur, f);
        return;
      }
      addMessages(cur, [f], true);
    },
    presence: onPresence,
    room_state: onRoomState,
    deleted: (f, cur) => markDeleted(cur, f.message_id),
    muted: onMuted,
    unmuted: (f, cur) => {
      cur.mutedUntil = null;
      clearNotice("muted");
      setNotice("unmuted", "A facilitator unmuted you. You can write again.", "info", true);
      announce("You can write again.");
      updateComposer();
    },
    removed: onRemoved,
    support: onSupport,
    held: (f) => showHeld(f.reason, f.kind),
    session_ended: (f, cur) => {
      resetLog(cur);
      S.memory.delete(cur.id);
      setNotice("ended", "This session has ended and the conversation was cleared for " +
        "everyone. Thank you for being here.", "info", true);
      announce("The session has ended.");
    },
    room_reset: (f, cur) => {
      resetLog(cur);
      S.memory.set(cur.id, { epoch: f.epoch, lastId: 0 });
      setNotice("reset", "The room's earlier messages were lost on the server and can't be " +
        "shown. New messages appear as usual.", "warn", true);
    },
    queue: (f, cur) => {
      cur.queue.clear();
      for (const item of f.items || []) cur.queue.set(String(item.id), item);
      renderQueue(cur);
    },
    queue_item: (f, cur) => {
      if (f.item && f.item.id !== undefined) {
        cur.queue.set(String(f.item.id), f.item);
        renderQueue(cur);
        facStatus(`New ${kindLabel(f.item.kind).toLowerCase()} in the queue.`);
      }
    },
    resolved: (f, cur) => {
      const id = typeof f.item === "object" && f.item ? f.item.id : f.item;
      cur.queue.delete(String(id));
      renderQueue(cur);
    },
    reported: (f) => facStatus(`A member reported ${f.message_id ? "a message" : "a participant"}.`),
    flagged: () => facStatus("Flag saved."),
    alert: onAlert,
    audit_log: onAuditLog,
    private_opened: onPrivateOpened,
    private_closed: onPrivateClosed,
    hands: onHands,
  };

  // ---------- rooms: enter, join, leave ----------

  function newRoom(id) {
    return {
      id, joined: false, participant: null, handle: null, rulesVersion: 1, agreedVersion: 0,
      messages: new Map(), participants: new Map(), queue: new Map(), mutedUntil: null,
      removed: false, slow: 0, locked: false, paused: false, waiting: false, members: 0,
      muting: new Map(), // participant -> until (ms), what this facilitator did
      role: S.role, // this room's role (a facilitator's token may not cover every room)
      listening: false, // listen-only: chosen by the member, asked for again after a reconnect
      hands: [], // raised hands, in order (participant ids)
      turn: null, // who was called on
      oneAtATime: false, facilitatorPresent: false,
      threads: new Map(), // conversation id -> private thread
      foreign: new Set(), // others' conversations, seen only while this tab was a facilitator
      frames: new WeakMap(), // message item -> its frame, to draw its actions again
      supportFor: null, // the conversation whose crisis resources are on their way
    };
  }

  function enterRoom(id) {
    if (S.cur && S.cur.id === id) return;
    leaveRoom();
    stopRoomsPoll();
    const cur = newRoom(id);
    S.cur = cur;
    showView("room");
    const known = S.catalog.get(id);
    $("room-title").textContent = known ? known.name : "Joining…";
    $("room-desc").textContent = known ? known.description : "";
    $("room-members").textContent = "";
    $("room-flags").replaceChildren();
    $("room-notices").replaceChildren();
    $("identity").hidden = true;
    $("rules").hidden = true;
    $("rules-show").hidden = true;
    $("support").hidden = true;
    $("composer").hidden = true;
    $("message-input").value = "";
    $("composer-status").textContent = "";
    $("audit").hidden = true;
    $("private-threads").replaceChildren();
    $("cw-input").value = "";
    showCw(false);
    resetLog(cur);
    renderMemberTools(cur);
    renderHands(cur);
    renderParticipants(cur);
    renderQueue(cur);
    body.dataset.roomState = "joining";
    if (S.welcomed) joinRoom();
  }

  function leaveRoom() {
    const cur = S.cur;
    if (!cur) return;
    if (cur.joined && S.welcomed) send({ type: "leave", room: cur.id });
    S.inRooms.delete(cur.id);
    S.cur = null;
    body.dataset.roomState = "none";
  }

  function joinRoom() {
    const cur = S.cur;
    const frame = { type: "join", room: cur.id };
    const saved = S.memory.get(cur.id);
    if (saved && saved.lastId > 0) {
      frame.since = saved.lastId;
      if (saved.epoch) frame.epoch = saved.epoch;
    }
    body.dataset.roomState = "joining";
    request(frame, () => {}, (err) => {
      if (S.cur !== cur) return;
      if (err.code === "disconnected") return;
      body.dataset.roomState = "error";
      if (err.code === "banned") {
        showRemoved(cur, parseTime(err.until), null);
      } else if (err.code === "locked") {
        setNotice("join", "This room is locked right now: no one new can join. Please try " +
          "again later or choose another room.", "warn");
      } else if (err.code === "not_found") {
        $("room-title").textContent = "Room not found";
        setNotice("join", "There is no room here. It may have been closed.", "warn");
      } else if (err.code === "unavailable") {
        setNotice("join", "The service is busy. Trying again…", "warn");
        setTimeout(() => { if (S.cur === cur && S.welcomed && !cur.joined) joinRoom(); }, 3000);
      } else {
        setNotice("join", `Could not join: ${err.message || err.code}.`, "warn");
      }
    });
  }

  function onJoined(f, cur) {
    const saved = S.memory.get(cur.id);
    const hadSince = Boolean(saved && saved.lastId > 0);
    const incremental = hadSince && f.recovered === true && saved.epoch === f.epoch;
    cur.joined = true;
    cur.everJoined = true;
    S.inRooms.add(cur.id);
    cur.participant = f.participant;
    cur.handle = f.handle;
    cur.role = f.role === "facilitator" || f.role === "member" ? f.role : S.role;
    cur.rulesVersion = Number(f.rules_version) || 1;
    clearNotice("join");
    const known = S.catalog.get(cur.id);
    $("room-title").textContent = (known && known.name) || f.name || cur.id;
    if (typeof f.description === "string") $("room-desc").textContent = f.description;
    $("my-handle").textContent = f.handle;
    $("identity").hidden = false;
    renderRules(Array.isArray(f.rules) ? f.rules : []);

    cur.participants.clear();
    for (const p of f.participants || []) cur.participants.set(p.participant, p);
    cur.members = Number(f.members) || cur.participants.size;
    renderMembers(cur);
    renderParticipants(cur);

    const history = Array.isArray(f.history) ? f.history : [];
    if (!incremental) resetLog(cur);
    addMessages(cur, history, false);
    S.memory.set(cur.id, { epoch: f.epoch, lastId: Math.max(incremental ? saved.lastId : 0,
      ...history.map((m) => Number(m.id) || 0)) });
    if (hadSince && f.recovered === false) {
      setNotice("gap", "You were disconnected, and some messages from that time could not " +
        "be recovered. What you see now is the room's history as it is kept.", "warn", true);
      announce("Reconnected. Some messages could not be recovered.");
    } else if (incremental) {
      clearNotice("gap");
      if (history.length > 0) {
        setStatus(`Reconnected. ${plural(history.length, "message")} you missed ` +
          `${history.length === 1 ? "is" : "are"} shown.`);
      }
    }

    // The server remembers whether this participant agreed to the current rules version
    // (`agreed`). When it does not know (an older server, or one that lost its data on a
    // restart) but this tab agreed to this very version, agree again without asking. Frames
    // are read in order, so the `agree` lands before anything typed next.
    const agreed = Number(getItem("session", AGREED_PREFIX + cur.id)) || 0;
    if (f.agreed === true) {
      cur.agreedVersion = cur.rulesVersion;
      setItem("session", AGREED_PREFIX + cur.id, String(cur.rulesVersion));
      showRules(false);
    } else if (agreed >= cur.rulesVersion) {
      cur.agreedVersion = agreed;
      showRules(false);
      agree(cur, true);
    } else {
      cur.agreedVersion = 0;
      showRules(true);
    }
    // Listen-only belongs to the connection: ask for it again after a reconnect.
    if (cur.listening) setListening(cur, true, true);
    body.dataset.roomState = "joined";
    renderMemberTools(cur);
    updateComposer();
    if (S.role === "facilitator") $("fac-panel").hidden = false;
  }

  function agree(cur, silent) {
    request({ type: "agree", room: cur.id }, () => {
      if (S.cur !== cur) return;
      cur.agreedVersion = cur.rulesVersion;
      setItem("session", AGREED_PREFIX + cur.id, String(cur.rulesVersion));
      showRules(false);
      clearNotice("rules");
      renderMemberTools(cur);
      updateComposer();
      if (!silent && !$("message-input").disabled) $("message-input").focus();
      else if (!silent) $("member-tools").querySelector("button:not([hidden])")?.focus();
    });
  }

  // Before agreeing the rules stand open with the agree button; afterwards they can be read
  // again from the "Ground rules" toggle.
  function showRules(open) {
    const cur = S.cur;
    const agreed = Boolean(cur && cur.agreedVersion > 0 && cur.agreedVersion >= cur.rulesVersion);
    $("rules").hidden = !open;
    $("agree").hidden = agreed;
    $("rules-show").hidden = !agreed;
    $("rules-show").setAttribute("aria-expanded", String(open && agreed));
  }

  function renderRules(rules) {
    $("rules-list").replaceChildren(...rules.map((r) => el("li", { text: String(r) })));
  }

  function onPresence(f, cur) {
    const was = cur.participants.get(f.participant);
    if (f.event === "leave") cur.participants.delete(f.participant);
    else if (f.participant) {
      cur.participants.set(f.participant, { participant: f.participant, handle: f.handle,
        role: f.role, listening: Boolean(f.listening), muted: f.muted });
      // Standing can end while the socket lives (`facilitator_ended`); the server then tells
      // the room, this tab included, that this participant is a member.
      if (f.participant === cur.participant && f.role === "member" && cur.role !== "member") {
        cur.role = "member";
        renderMemberTools(cur);
        updateComposer();
      }
    }
    // A facilitator gone or no longer one: "Facilitator here" follows the people present, not
    // only the last `room_state` (which need not come when standing ends in an open room).
    if (was && was.role === "facilitator" && (f.event === "leave" || f.role !== "facilitator")) {
      recountFacilitators(cur);
    }
    if (typeof f.members === "number") cur.members = f.members;
    renderMembers(cur);
    renderParticipants(cur);
    renderHands(cur);
    renderTurn(cur);
    for (const t of cur.threads.values()) labelThread(cur, t);
  }

  function recountFacilitators(cur) {
    cur.facilitatorPresent = [...cur.participants.values()].some((p) => p.role === "facilitator");
  }

  function renderMembers(cur) {
    $("room-members").textContent = `${cur.members} here`;
    const flags = [];
    const facHere = cur.facilitatorPresent ||
      [...cur.participants.values()].some((p) => p.role === "facilitator");
    if (facHere) flags.push(el("span", { className: "badge fac", text: "Facilitator here" }));
    if (cur.locked) flags.push(el("span", { className: "badge", text: "Locked" }));
    if (cur.slow > 0) flags.push(el("span", { className: "badge",
      text: `Slow mode: ${cur.slow} s` }));
    if (cur.paused) flags.push(el("span", { className: "badge warn", text: "Paused" }));
    if (cur.oneAtATime) flags.push(el("span", { className: "badge", text: "One at a time" }));
    $("room-flags").replaceChildren(...flags);
  }

  function onRoomState(f, cur) {
    const slowWas = cur.slow;
    const pausedWas = cur.paused;
    const waitingWas = cur.waiting;
    const turnWas = cur.turn;
    cur.locked = Boolean(f.locked);
    cur.slow = Number(f.slow) || 0;
    cur.paused = Boolean(f.paused);
    cur.waiting = Boolean(f.waiting);
    cur.oneAtATime = Boolean(f.one_at_a_time);
    if (typeof f.facilitator_present === "boolean") cur.facilitatorPresent = f.facilitator_present;
    cur.turn = typeof f.turn === "string" && f.turn ? f.turn : null;
    if (cur.slow > 0) {
      setNotice("slow", `Slow mode is on: each person can write once every ` +
        `${plural(cur.slow, "second")}.`, "info");
    } else {
      clearNotice("slow");
    }
    if (pausedWas !== cur.paused && cur.joined) {
      announce(cur.paused ? "A facilitator has paused the room for a moment." :
        "The room has resumed.");
    } else if (slowWas !== cur.slow && cur.joined) {
      announce(cur.slow > 0 ? "Slow mode is on." : "Slow mode is off.");
    }
    if (cur.locked) setNotice("locked", "The room is locked: no one new can join for now.",
      "info");
    else clearNotice("locked");
    if (cur.paused) setNotice("paused", "A facilitator has paused the room for a moment. " +
      "Take a breath; the conversation will continue shortly.", "warn");
    else clearNotice("paused");
    if (cur.waiting) {
      renderWaiting(cur);
      if (!waitingWas) refreshRoomInfo(cur);
    } else {
      clearNotice("waiting");
    }
    if (turnWas !== cur.turn) cur.spoke = false;
    if (turnWas !== cur.turn && cur.joined && cur.turn === cur.participant) {
      announce("It's your turn to share. Take your time.");
    }
    const version = Number(f.rules_version) || cur.rulesVersion;
    if (version > cur.rulesVersion && cur.agreedVersion > 0) {
      cur.rulesVersion = version;
      showRules(true);
      setNotice("rules", "The ground rules have changed. Please read them and agree again " +
        "to keep writing.", "warn");
      announce("The ground rules have changed.");
    }
    cur.rulesVersion = Math.max(cur.rulesVersion, version);
    $("lock-toggle").textContent = cur.locked ? "Unlock room" : "Lock room";
    $("pause-toggle").textContent = cur.paused ? "Resume room" : "Pause room";
    $("slow-select").value = String([0, 10, 30, 60, 120].includes(cur.slow) ? cur.slow : 0);
    renderMembers(cur);
    renderTurn(cur);
    renderHands(cur);
    updateComposer();
  }

  // A room that opens only with a facilitator: say so, and when the next session is.
  function renderWaiting(cur) {
    const info = S.catalog.get(cur.id);
    let when = "";
    if (info && info.in_session) {
      when = " A session is scheduled now, so a facilitator should be here soon.";
    } else if (info && info.next_session) {
      const t = parseTime(info.next_session);
      if (t !== null) when = ` The next session is ${dateTimeFmt.format(new Date(t))} (your time).`;
    }
    setNotice("waiting", "This room opens when a facilitator is here, and none is here right " +
      `now. You can read along; writing opens when a facilitator joins.${when}`, "info");
  }

  async function refreshRoomInfo(cur) {
    try {
      const res = await fetch("/api/rooms", { headers: { accept: "application/json" } });
      if (!res.ok) return;
      const rooms = await res.json();
      if (!Array.isArray(rooms)) return;
      for (const r of rooms) if (r && typeof r.id === "string") S.catalog.set(r.id, r);
    } catch {
      return; // the notice stands without a time
    }
    if (S.cur === cur && cur.waiting) renderWaiting(cur);
  }

  // ---------- taking part: listen only, raised hands, turns ----------

  function isMember(cur) {
    return cur.role !== "facilitator";
  }

  function renderMemberTools(cur) {
    const show = cur.everJoined && !cur.removed && isMember(cur);
    $("member-tools").hidden = !show;
    if (!show) return;
    const toggle = $("listen-toggle");
    toggle.textContent = cur.listening ? "Talk" : "Just listen";
    $("listen-note").textContent = cur.listening ?
      "You are listening. Nobody will call on you, and the message box is put away. " +
      "Choose Talk whenever you want to write." :
      "You can just listen: nobody will ask you to speak.";
    const agreed = cur.agreedVersion > 0 && cur.agreedVersion >= cur.rulesVersion;
    const hand = $("hand-toggle");
    const place = cur.hands.indexOf(cur.participant);
    hand.hidden = cur.listening || !agreed;
    hand.textContent = place >= 0 ? "Lower hand" : "Raise hand";
    hand.setAttribute("aria-pressed", String(place >= 0));
    let status = "";
    if (place >= 0 && !hand.hidden) {
      status = place === 0 ? "Your hand is raised: you are next in line." :
        `Your hand is raised: you are number ${place + 1} in line.`;
    }
    if ($("hand-status").textContent !== status) $("hand-status").textContent = status;
  }

  function renderTurn(cur) {
    const box = $("turn-status");
    let text = "";
    if (cur.oneAtATime) {
      if (cur.turn && cur.turn === cur.participant) {
        text = "One person speaks at a time, and it's your turn now. Take your time.";
      } else if (cur.turn) {
        text = `One person speaks at a time. Now speaking: ${handleOf(cur, cur.turn)}. ` +
          (isMember(cur) ? "Raise your hand to speak next." : "");
      } else {
        text = "One person speaks at a time. " + (isMember(cur) ?
          "Raise your hand and wait to be called on." : "Nobody has been called on yet.");
      }
    } else if (cur.turn && cur.turn === cur.participant && isMember(cur) && !cur.spoke) {
      text = "A facilitator has invited you to share.";
    }
    text = text.trim();
    box.hidden = !text;
    if (box.textContent !== text) box.textContent = text;
    const fac = $("turn-fac");
    const facText = cur.turn ? `Called on: ${handleOf(cur, cur.turn)}` : "";
    fac.hidden = !facText;
    fac.textContent = facText;
  }

  function onHands(f, cur) {
    const before = cur.hands;
    cur.hands = (Array.isArray(f.queue) ? f.queue : []).map(String);
    if (S.role === "facilitator" && cur.joined) {
      const raised = cur.hands.filter((p) => !before.includes(p) && p !== cur.participant);
      if (raised.length > 0) {
        facStatus(`${raised.map((p) => handleOf(cur, p)).join(", ")} raised a hand.`);
      }
    }
    renderHands(cur);
    renderMemberTools(cur);
    updateComposer();
  }

  function renderHands(cur) {
    const rows = cur.hands.map((pid, i) => {
      const h = handleOf(cur, pid);
      const p = cur.participants.get(pid);
      return el("li", { className: "hand", dataset: { participant: pid } },
        el("div", { className: "p-info" },
          el("span", { className: "p-handle", text: `${i + 1}. ${h}` }),
          p && p.listening ? el("span", { className: "badge", text: "Listening" }) : null),
        el("div", { className: "p-actions" },
          button("Call on", () => callOn(cur, pid, h), { className: "button small",
            ariaLabel: `Call on ${h}` }),
          button("Lower", () => roomFrame("lower_hand", { participant: pid },
            `${h}'s hand is lowered.`), { ariaLabel: `Lower ${h}'s hand` })));
    });
    $("hands").replaceChildren(...rows);
    $("hands-empty").hidden = rows.length > 0;
    $("hands-count").textContent = rows.length ? `(${rows.length})` : "";
  }

  function callOn(cur, pid, h) {
    roomFrame("call_on", { participant: pid }, `You called on ${h}.`);
  }

  function setListening(cur, on, quiet) {
    request({ type: on ? "listen" : "talk", room: cur.id }, (ack) => {
      if (S.cur !== cur) return;
      cur.listening = typeof ack.listening === "boolean" ? ack.listening : on;
      const me = cur.participants.get(cur.participant);
      if (me) me.listening = cur.listening;
      renderParticipants(cur);
      renderMemberTools(cur);
      updateComposer();
      if (quiet) return;
      setStatus("");
      if (cur.listening) {
        announce("You are listening. The message box is put away.");
        $("listen-toggle").focus();
      } else if (!$("message-input").disabled) {
        $("message-input").focus();
      }
    }, (err) => {
      if (S.cur !== cur || err.code === "disconnected") return;
      if (err.code === "unknown_type") {
        cur.listening = false;
        $("listen-toggle").hidden = true; // an older server
      }
      alertStatus(`That did not work: ${err.message || err.code}.`);
    });
  }

  // ---------- messages ----------

  function resetLog(cur) {
    cur.messages.clear();
    $("messages").replaceChildren();
    $("empty-log").hidden = false;
  }

  function addMessages(cur, frames, live) {
    const log = $("messages");
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    if (!live) {
      // History is not news: keep the live region quiet while it is put in.
      log.setAttribute("aria-live", "off");
      log.setAttribute("aria-busy", "true");
    }
    const frag = document.createDocumentFragment();
    for (const m of frames) {
      const id = Number(m.id);
      if (!Number.isFinite(id) || cur.messages.has(id)) continue;
      const li = renderMessage(cur, m);
      cur.messages.set(id, li);
      // Ids increase, so a replayed message that arrives late is put in its place.
      const after = [...cur.messages.keys()].filter((k) => k > id);
      if (after.length > 0 && live) {
        log.insertBefore(li, cur.messages.get(Math.min(...after)));
      } else {
        frag.append(li);
      }
      const saved = S.memory.get(cur.id);
      if (live && saved) saved.lastId = Math.max(saved.lastId, id);
    }
    log.append(frag);
    $("empty-log").hidden = cur.messages.size > 0;
    if (!live) {
      requestAnimationFrame(() => {
        log.removeAttribute("aria-busy");
        log.setAttribute("aria-live", "polite");
      });
    }
    if (!live || nearBottom) log.scrollTop = log.scrollHeight;
  }

  function renderMessage(cur, m, inPrivate) {
    const li = $("tpl-message").content.firstElementChild.cloneNode(true);
    const own = m.participant === cur.participant;
    li.dataset.id = String(m.id);
    li.dataset.participant = String(m.participant || "");
    li.tabIndex = -1;
    if (own) li.classList.add("own");
    if (m.role === "facilitator") li.classList.add("from-facilitator");
    if (m.kind === "announcement") li.classList.add("announcement");
    if (m.conversation) li.classList.add("private");
    li.querySelector(".msg-handle").textContent = String(m.handle || "Someone") +
      (own ? " (you)" : "");
    const badge = li.querySelector(".msg-badge");
    const badgeText = m.kind === "announcement" ? "Announcement" :
      m.role === "facilitator" ? "Facilitator" : m.conversation ? "Private" : "";
    if (badgeText) {
      badge.textContent = badgeText;
      badge.hidden = false;
    }
    const ms = parseTime(m.ts);
    const time = li.querySelector(".msg-time");
    if (ms !== null) {
      time.dateTime = new Date(ms).toISOString();
      time.textContent = fmtTime(ms);
    }
    const text = el("p", { className: "msg-text" }, linkified(String(m.text ?? "")));
    const bodyBox = li.querySelector(".msg-body");
    if (typeof m.cw === "string" && m.cw) {
      // Collapsed until the reader chooses to open it (the writer sees their own open).
      li.classList.add("has-cw");
      text.id = `msg-${inPrivate ? "p" : ""}${String(m.id).replace(/\D/g, "")}-text`;
      text.hidden = !own;
      const toggle = button(own ? "Hide message" : "Show message", () => {
        const open = text.hidden;
        text.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
        toggle.textContent = open ? "Hide message" : "Show message";
      }, { className: "button small secondary cw-toggle" });
      toggle.setAttribute("aria-expanded", String(own));
      toggle.setAttribute("aria-controls", text.id);
      bodyBox.append(el("div", { className: "cw" },
        el("p", { className: "cw-label" }, el("strong", { text: "Content warning: " }),
          String(m.cw)), toggle), text);
    } else {
      bodyBox.append(text);
    }
    cur.frames.set(li, m);
    if (!inPrivate) li.querySelector(".msg-actions").replaceChildren(...messageActions(cur, m));
    return li;
  }

  // Report for a member, Flag and Delete for a facilitator. Private messages have none: the
  // facilitators are the other side.
  function messageActions(cur, m) {
    const actions = [];
    const own = m.participant === cur.participant;
    const who = String(m.handle || "someone");
    if (S.role === "facilitator") {
      actions.push(
        button("Flag", () => openMod({ action: "flag", messageId: m.id, handle: who,
          text: m.text }), { className: "link-button", ariaLabel: `Flag message from ${who}` }),
        button("Delete", () => openMod({ action: "delete", messageId: m.id, handle: who,
          text: m.text }), { className: "link-button danger-text",
          ariaLabel: `Delete message from ${who}` }),
      );
    } else if (!own) {
      actions.push(button("Report", () => openReport(cur, m), { className: "link-button",
        ariaLabel: `Report message from ${who}` }));
    }
    return actions;
  }

  // The role changed under messages already drawn: give each the actions of the new role.
  function redrawMessageActions(cur) {
    for (const li of cur.messages.values()) {
      const m = cur.frames.get(li);
      if (m && !li.classList.contains("deleted")) {
        li.querySelector(".msg-actions").replaceChildren(...messageActions(cur, m));
      }
    }
  }

  function markDeleted(cur, messageId) {
    const li = cur.messages.get(Number(messageId));
    if (!li) return;
    li.classList.add("deleted");
    li.querySelector(".msg-body").replaceChildren(el("p", { className: "msg-text",
      text: "This message was removed by a facilitator." }));
    li.querySelector(".msg-actions").replaceChildren();
  }

  // ---------- composing ----------

  function updateComposer() {
    const cur = S.cur;
    if (!cur) return;
    const input = $("message-input");
    const muted = cur.mutedUntil && cur.mutedUntil > Date.now();
    let reason = "";
    if (cur.removed) reason = "You can't write in this room right now";
    else if (cur.agreedVersion === 0 || cur.agreedVersion < cur.rulesVersion) {
      reason = cur.joined ? "Agree to the ground rules to write" : "Joining…";
    } else if (muted) reason = `You are muted until ${fmtUntil(cur.mutedUntil)}`;
    else if (cur.listening) reason = "You are listening";
    else if (cur.waiting && isMember(cur)) {
      reason = "Writing opens when a facilitator is here";
    } else if (cur.oneAtATime && isMember(cur) && cur.turn !== cur.participant) {
      reason = "One person speaks at a time: raise your hand and wait to be called on";
    }
    input.disabled = Boolean(reason);
    $("send").disabled = Boolean(reason);
    $("cw-toggle").disabled = Boolean(reason);
    $("cw-input").disabled = Boolean(reason);
    input.placeholder = reason || "Write a message. Enter sends, Shift+Enter adds a line.";
    $("composer").hidden = !cur.everJoined || cur.removed || cur.listening;
    body.dataset.composer = reason ? "closed" : "open";
    body.dataset.listening = cur.listening ? "true" : "false";
    for (const t of cur.threads.values()) updateThread(cur, t);
  }

  function showCw(open) {
    $("cw-row").hidden = !open;
    $("cw-toggle").setAttribute("aria-expanded", String(open));
    $("cw-toggle").textContent = open ? "Remove the content warning" : "Add a content warning";
    if (!open) $("cw-input").value = "";
  }

  function submitMessage(ev) {
    ev.preventDefault();
    const cur = S.cur;
    const input = $("message-input");
    const text = input.value.trim();
    if (!cur || !text || input.disabled) return;
    if (!S.welcomed || !cur.joined) {
      setStatus("Not connected right now. Your message is kept here; send it again once " +
        "we are connected.");
      return;
    }
    const frame = { type: "send", room: cur.id, text };
    const cw = $("cw-row").hidden ? "" : $("cw-input").value.trim().slice(0, 40);
    if (cw) frame.cw = cw;
    request(frame, () => {
      if (input.value.trim() === text) input.value = "";
      if (cw && $("cw-input").value.trim() === cw) showCw(false);
      setStatus("");
      clearNotice("held");
      if (S.cur === cur && cur.turn === cur.participant && !cur.spoke) {
        cur.spoke = true;
        renderTurn(cur);
      }
    }, (err) => sendFailed(cur, err));
  }

  function sendFailed(cur, err) {
    const secs = Math.ceil(Number(err.retry_after) || 0);
    switch (err.code) {
      case "held": return showHeld(err.reason, err.kind);
      case "muted":
        cur.mutedUntil = parseTime(err.until) || cur.mutedUntil || Date.now() + 60000;
        showMuted(cur, null);
        return;
      case "rules_not_accepted":
        cur.agreedVersion = 0;
        showRules(true);
        updateComposer();
        return alertStatus("Please agree to the ground rules before writing.");
      case "slow_mode":
        return alertStatus(`Slow mode is on. You can write again in ${plural(secs || 1,
          "second")}.`);
      case "rate_limited":
        return alertStatus("You are writing quickly. Please wait a moment, then send again.");
      case "waiting":
        return alertStatus("Writing opens when a facilitator is here.");
      case "listening":
        return alertStatus("You are in listen-only mode.");
      case "not_your_turn":
        return alertStatus("One person speaks at a time here. Please wait to be called on.");
      case "too_large":
        return alertStatus("That message is too long: 2,000 characters at most.");
      case "not_joined":
      case "banned":
        return alertStatus("You are not in this room any more.");
      case "disconnected":
        return alertStatus("The connection dropped before your message was sent. It is kept " +
          "here; send it again once we are connected.");
      default:
        return alertStatus(`Your message was not sent: ${err.message || err.code}.`);
    }
  }

  // Kindly, and only to the writer: nothing was shown to anyone, the words are still here.
  function showHeld(reason, kind) {
    const what = { phone: "a phone number", email: "an e-mail address",
      social: "a social media handle or profile" }[kind] || "contact details";
    const text = reason === "contact_details" ?
      `Your message wasn't shared: it looks like it has ${what} in it. To keep everyone ` +
      "here safe and anonymous, contact details stay out of this room. Nobody else saw it. " +
      "You can edit your message and send it again." :
      "Your message wasn't shared: it was held back by this room's safety rules. Nobody " +
      "else saw it. You can edit it and send it again.";
    const n = setNotice("held", text, "info", true);
    n.insertBefore(el("p", { className: "muted", text: "Only you can see this note." }),
      n.children[1] || null);
    setStatus("Your message was not shared. It is still in the box for you to edit.");
    announce(text);
  }

  function setStatus(text) {
    $("composer-status").textContent = text;
  }
  function alertStatus(text) {
    setStatus(text);
    announce(text);
  }

  function showError(err) {
    if (err.code === "disconnected") return;
    if (S.cur) setStatus(err.message ? `Something went wrong: ${err.message}.` : "");
  }

  // ---------- notices ----------

  function setNotice(key, text, level, dismissible, extra) {
    const box = $("room-notices");
    let n = box.querySelector(`[data-key="${key}"]`);
    if (!n) {
      n = el("div", { className: "notice", dataset: { key } });
      box.append(n);
    }
    n.className = `notice ${level || "info"}`;
    const parts = [el("p", { text })];
    if (extra) parts.push(extra);
    if (dismissible) {
      parts.push(button("Dismiss", () => n.remove(), { className: "link-button",
        ariaLabel: "Dismiss this notice" }));
    }
    n.replaceChildren(...parts);
    return n;
  }
  function clearNotice(key) {
    const n = $("room-notices").querySelector(`[data-key="${key}"]`);
    if (n) n.remove();
  }

  function showMuted(cur, reason) {
    if (!cur.mutedUntil) return;
    const text = `A facilitator has muted you: you can read, but not write, for ` +
      `${plural(minutesLeft(cur.mutedUntil), "more minute")} (until ` +
      `${fmtUntil(cur.mutedUntil)}).` + (reason ? ` Reason: ${reason}` : "");
    setNotice("muted", text, "warn");
    updateComposer();
  }

  function onMuted(f, cur) {
    cur.mutedUntil = parseTime(f.until) || Date.now() + 15 * 60000;
    cur.muteReason = typeof f.reason === "string" ? f.reason : "";
    clearNotice("unmuted");
    showMuted(cur, cur.muteReason);
    announce(`You have been muted for ${plural(minutesLeft(cur.mutedUntil), "minute")}.`);
  }

  function onRemoved(f, cur) {
    showRemoved(cur, parseTime(f.until), typeof f.reason === "string" ? f.reason : "");
  }

  function showRemoved(cur, until, reason) {
    cur.removed = true;
    cur.joined = false;
    body.dataset.roomState = "removed";
    $("rules").hidden = true;
    $("rules-show").hidden = true;
    $("composer").hidden = true;
    $("fac-panel").hidden = true;
    renderMemberTools(cur);
    const when = until ? ` You can come back after ${fmtUntil(until)}.` : "";
    const text = `A facilitator has removed you from this room.${when}` +
      (reason ? ` Reason: ${reason}` : "");
    const links = el("p", {}, el("a", { href: "#/", text: "Find another room" }), " · ",
      button("Get help now", openHelp, { className: "link-button" }));
    setNotice("removed", text, "alert", false, links);
    announce(text);
    updateComposer();
  }

  function onSupport(f, cur) {
    const thread = cur.supportFor ? cur.threads.get(cur.supportFor) : null;
    cur.supportFor = null;
    if (thread && !thread.closed) {
      // Sent with a private conversation: the resources belong in that thread.
      thread.support.replaceChildren(el("p", { text: "If you need help right now, these " +
        "people are there for you, day and night:" }), el("ul", {}, ...resourceItems(f)));
      thread.support.hidden = false;
      return;
    }
    $("support-list").replaceChildren(...resourceItems(f));
    $("support").hidden = false;
    announce("A private message for you: help is available right now. It is shown above " +
      "the messages.");
  }

  function resourceItems(f) {
    const items = (Array.isArray(f.resources) ? f.resources : []).map((r) => {
      const contact = String(r.contact || "");
      let target = null;
      if (/^https?:\/\//.test(contact)) target = contact;
      else if (/^[+\d][\d\s-]{1,20}$/.test(contact)) target = `tel:${contact.replace(/[\s-]/g, "")}`;
      const c = target ? el("a", { href: target, rel: "noopener noreferrer",
        target: target.startsWith("http") ? "_blank" : null, text: contact }) :
        document.createTextNode(contact);
      return el("li", {}, el("strong", { text: String(r.name || "") }), ": ", c);
    });
    if (items.length === 0) {
      items.push(el("li", {}, "Call or text ", el("a", { href: "tel:988", text: "988" }),
        " in the US; elsewhere see ", el("a", { href: "https://findahelpline.com",
          target: "_blank", rel: "noopener noreferrer", text: "findahelpline.com" }), "."));
    }
    return items;
  }

  // ---------- private conversations ----------

  function ensureThread(cur, conversation, participant) {
    let t = cur.threads.get(conversation);
    if (t) {
      if (!t.participant && participant) t.participant = participant;
      return t;
    }
    const n = cur.threads.size + 1;
    const titleId = `pt-title-${conversation.replace(/[^\w-]/g, "")}-${n}`;
    const fac = S.role === "facilitator" && !isMember(cur);
    const title = el("h2", { id: titleId, className: "pt-title" });
    const note = el("p", { className: "muted" });
    const support = el("div", { className: "pt-support" });
    support.hidden = true;
    const log = el("ol", { className: "messages pt-log", role: "log", "aria-live": "polite",
      "aria-relevant": "additions", "aria-label": "Messages in this private conversation" });
    const inputId = `${titleId}-input`;
    const input = el("textarea", { id: inputId, rows: "2", maxlength: "2000",
      placeholder: "Write privately. Enter sends, Shift+Enter adds a line." });
    const sendBtn = el("button", { type: "submit", className: "button small",
      text: "Send privately" });
    const status = el("p", { className: "muted composer-status", "aria-live": "polite" });
    const form = el("form", { className: "pt-composer" },
      el("label", { for: inputId, className: "sr-only", text: "Private message" }), input,
      el("div", { className: "composer-row" }, status, sendBtn));
    const tools = el("div", { className: "control-row" });
    const section = el("section", { className: "private-thread", tabindex: "-1",
      "aria-labelledby": titleId, dataset: { conversation } },
    title, note, support, log, form, tools);
    t = { id: conversation, participant, section, title, note, support, log, form, input,
      sendBtn, status, tools, closed: false, ids: new Set(), fac };
    cur.threads.set(conversation, t);
    const submit = (ev) => {
      ev.preventDefault();
      sendPrivate(cur, t);
    };
    form.addEventListener("submit", submit);
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) submit(ev);
    });
    if (fac) {
      tools.append(button("End private conversation", () => request({ type: "private_close",
        room: cur.id, conversation }, () => facStatus("The private conversation has ended."),
      (err) => facAlert(`That did not work: ${err.message || err.code}.`)),
      { className: "button small secondary" }));
    }
    $("private-threads").append(section);
    labelThread(cur, t);
    updateThread(cur, t);
    return t;
  }

  function labelThread(cur, t) {
    if (t.fac) {
      const who = t.participant ? handleOf(cur, t.participant) : "a participant";
      t.title.textContent = `Private conversation with ${who}`;
      t.note.textContent = `Only ${who} and this room's facilitators can see this.`;
    } else {
      t.title.textContent = "Private conversation with a facilitator";
      t.note.textContent = "Only you and this room's facilitators can see this. Nobody " +
        `else in the room does. You are still ${cur.handle || "anonymous"} here.`;
    }
  }

  function updateThread(cur, t) {
    const off = t.closed || !S.welcomed || !cur.joined;
    t.input.disabled = off;
    t.sendBtn.disabled = off;
    t.form.hidden = t.closed;
  }

  function onPrivateOpened(f, cur) {
    if (typeof f.conversation !== "string" || cur.foreign.has(f.conversation)) return;
    const mine = f.participant === cur.participant && isMember(cur);
    const known = cur.threads.has(f.conversation);
    const t = ensureThread(cur, f.conversation, typeof f.participant === "string" ?
      f.participant : null);
    if (mine) cur.supportFor = f.conversation;
    if (known) return;
    if (mine) {
      announce("A facilitator has opened a private conversation with you. Only you and the " +
        "facilitators can see it. It is shown above the messages.");
    } else if (S.role === "facilitator") {
      facStatus(`A private conversation with ${handleOf(cur, f.participant)} is open.`);
    }
    t.section.scrollIntoView({ block: "nearest" });
  }

  function onPrivateClosed(f, cur) {
    const t = cur.threads.get(String(f.conversation));
    if (!t || t.closed) return;
    t.closed = true;
    updateThread(cur, t);
    const text = t.fac ? "This private conversation has ended." :
      "The facilitator has ended this private conversation. You can still reach the " +
      "crisis lines at any time from \"Need help now?\".";
    t.tools.replaceChildren(el("p", { className: "muted", text }),
      button("Put away", () => {
        t.section.remove();
        cur.threads.delete(t.id);
        $("message-input").focus();
      }, { className: "button small secondary",
        ariaLabel: "Put away the ended private conversation" }));
    if (!t.fac) announce("The facilitator has ended the private conversation.");
  }

  function addPrivateMessage(cur, m) {
    const participant = S.role === "facilitator" && m.role !== "facilitator" ?
      String(m.participant) : null;
    const t = ensureThread(cur, m.conversation, participant);
    const id = Number(m.id);
    if (t.ids.has(id)) return;
    t.ids.add(id);
    const li = renderMessage(cur, m, true);
    li.classList.add("private");
    t.log.append(li);
    t.log.scrollTop = t.log.scrollHeight;
  }

  function sendPrivate(cur, t) {
    const text = t.input.value.trim();
    if (!text || t.input.disabled) return;
    request({ type: "send", room: cur.id, text, conversation: t.id }, () => {
      if (t.input.value.trim() === text) t.input.value = "";
      t.status.textContent = "";
    }, (err) => {
      if (err.code === "rules_not_accepted") {
        showRules(true);
        t.status.textContent = "Please agree to the ground rules first (above), then send " +
          "again. Your words are kept here.";
      } else if (err.code === "not_found") {
        onPrivateClosed({ conversation: t.id }, cur);
        t.status.textContent = "This private conversation has ended.";
      } else {
        t.status.textContent = err.code === "disconnected" ? "Not connected: your message " +
          "is kept here. Send it again once we are connected." :
          `Not sent: ${err.message || err.code}.`;
      }
      announce(t.status.textContent);
    });
  }

  function talkPrivately(cur, pid, h) {
    for (const t of cur.threads.values()) {
      if (t.participant === pid && !t.closed) {
        t.input.focus();
        return;
      }
    }
    request({ type: "private_open", room: cur.id, participant: pid }, (ack) => {
      if (S.cur !== cur || typeof ack.conversation !== "string") return;
      const t = ensureThread(cur, ack.conversation, pid);
      facStatus(`A private conversation with ${h} is open.`);
      t.input.focus();
    }, (err) => facAlert(`The private conversation did not open: ${err.message || err.code}.`));
  }

  function showFacilitatorNotice(text) {
    if (S.cur) setNotice("fac-token", text, "warn", true);
    announce(text);
    updateFacilitatorSignin(text);
  }

  // ---------- losing facilitator standing ----------

  // The server ended this socket's standing (`facilitator_ended`: the token expired or was
  // revoked). This tab is a member from now on, at once: the side panel, queue, hands, audit
  // and every facilitator action go, others' private conversations are put away and ignored
  // from here on, and the token is forgotten so no reconnect presents it again. The socket
  // and its participant stay (the server follows with `presence` `update`, role member).
  function onFacilitatorEnded(f) {
    const hadToken = Boolean(getItem("session", FAC_KEY));
    if (S.role !== "facilitator" && !hadToken) return; // said once already
    removeItem("session", FAC_KEY);
    S.role = "member";
    body.dataset.role = "member";
    for (const d of [$("mod-dialog")]) if (d.open) d.close("");
    $("fac-panel").hidden = true;
    $("audit").hidden = true;
    $("audit-list").replaceChildren();
    const cur = S.cur;
    if (cur) {
      cur.role = "member";
      const me = cur.participants.get(cur.participant);
      if (me) me.role = "member";
      recountFacilitators(cur);
      cur.queue.clear();
      cur.muting.clear();
      for (const t of [...cur.threads.values()]) {
        if (!t.fac) continue;
        cur.foreign.add(t.id);
        t.section.remove();
        cur.threads.delete(t.id);
      }
      renderQueue(cur);
      renderParticipants(cur);
      renderHands(cur);
      renderMembers(cur);
      renderTurn(cur);
      redrawMessageActions(cur);
      renderMemberTools(cur);
      updateComposer();
    }
    showFacilitatorNotice(Standing.endedText(f.reason, Boolean(cur && cur.everJoined)));
    // Focus was on something that just went away: put it somewhere a keyboard user can go on.
    const active = document.activeElement;
    if (!active || active === document.body || !active.isConnected || !active.offsetParent) {
      const h = document.querySelector(`#view-${body.dataset.view} h1`);
      if (h) h.focus();
    }
  }

  // ---------- leave without a trace ----------

  // Other tabs of this site on this device forget too: one of them reconnecting would write
  // its member token straight back. BroadcastChannel leaves nothing in storage.
  const forgetChannel = "BroadcastChannel" in window ? new BroadcastChannel("psc.forget") : null;

  function openForget() {
    const dialog = $("forget-dialog");
    const opener = document.activeElement;
    dialog.onclose = () => {
      if (dialog.returnValue === "forget") forgetDevice(false);
      else if (opener && opener.focus && document.contains(opener)) opener.focus();
    };
    dialog.returnValue = "";
    dialog.showModal();
  }

  // Leave every room, close the socket, remove every key of ours from localStorage and
  // sessionStorage, clear what is on screen, and never connect again in this page (a new
  // connection would mint and store a new member). Coming back is a fresh page load.
  function forgetDevice(fromOtherTab) {
    S.forgotten = true;
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    stopRoomsPoll();
    const ws = S.ws;
    S.ws = null; // nothing this socket still says is handled, so nothing is stored again
    if (ws && ws.readyState === WebSocket.OPEN) {
      // Explicit leaves before the close: the rooms see a plain leave now, not a dropped
      // connection (whose leave the server may announce later).
      for (const room of S.inRooms) ws.send(JSON.stringify({ type: "leave", room }));
      ws.close(1000, "left");
    } else if (ws) {
      ws.addEventListener("open", () => ws.close(1000, "left"));
    }
    S.welcomed = false;
    S.inRooms.clear();
    S.pending.clear();
    S.memory.clear();
    S.catalog.clear();
    S.cur = null;
    S.role = "member";
    const left = Device.forgetAll(store("local"), store("session"));
    for (const d of document.querySelectorAll("dialog[open]")) d.close("");
    // What was on screen goes too: the conversation, names, anything typed.
    for (const id of ["messages", "private-threads", "participants", "hands", "queue",
      "audit-list", "rooms", "room-notices", "rules-list", "support-list"]) {
      $(id).replaceChildren();
    }
    for (const id of ["my-handle", "room-title", "room-desc", "room-members",
      "composer-status", "hand-status", "turn-status", "fac-panel-status", "report-quote"]) {
      $(id).textContent = "";
    }
    for (const field of document.querySelectorAll("textarea, input[type=text], " +
      "input[type=search]")) field.value = "";
    const problem = $("fac-problem");
    if (problem) problem.remove();
    // The address bar (and this history entry) no longer names a room.
    history.replaceState(null, "", location.pathname);
    if (forgetChannel && !fromOtherTab) forgetChannel.postMessage("forget");
    body.dataset.role = "member";
    body.dataset.roomState = "none";
    setConn("left");
    // Said only when true: a browser that refused a removal gets the honest heading instead.
    $("left-title").textContent = left.length === 0 ? "Nothing about you is left on this " +
      "device" : "Some of what this site kept could not be removed";
    $("left-problem").hidden = left.length === 0;
    showView("left");
    $("left-title").focus();
  }

  // ---------- reporting ----------

  function openReport(cur, m) {
    const dialog = $("report-dialog");
    const form = $("report-form");
    form.reset();
    $("report-quote").textContent = `${m.handle}: ${String(m.text || "").slice(0, 200)}`;
    const opener = document.activeElement;
    dialog.onclose = () => {
      if (opener && opener.focus) opener.focus();
      if (dialog.returnValue !== "send") return;
      const choice = form.querySelector("input[name=reason]:checked");
      const detail = $("report-detail").value.trim();
      const reason = [choice ? choice.value : "other", detail].filter(Boolean).join(": ");
      request({ type: "report", room: cur.id, message_id: m.id, reason: reason.slice(0, 300) },
        () => alertStatus("Thank you. Your report went to this room's facilitators."),
        (err) => alertStatus(err.code === "disconnected" ? "Not connected: the report was " +
          "not sent. Please try again." : `The report was not sent: ${err.message || err.code}.`));
    };
    dialog.returnValue = "";
    dialog.showModal();
  }

  // ---------- facilitator tools ----------

  function facStatus(text) {
    $("fac-panel-status").textContent = text;
  }
  function facAlert(text) {
    facStatus(text);
    announce(text);
  }

  function handleOf(cur, pid) {
    const p = cur.participants.get(pid);
    if (p) return p.handle;
    for (const li of cur.messages.values()) {
      if (li.dataset.participant === pid) {
        return li.querySelector(".msg-handle").textContent.replace(/ \(you\)$/, "");
      }
    }
    return "a participant";
  }

  const MOD = {
    mute: { title: "Mute", about: (h) => `${h} will still read the room but can't write.`,
      minutes: true, reason: "Reason (shown to them)", confirm: "Mute" },
    unmute: { title: "Unmute", about: (h) => `${h} will be able to write again.`,
      confirm: "Unmute" },
    remove: { title: "Remove", about: (h) => `${h} leaves the room now and can't come back ` +
      "for the time you choose.", minutes: true, reason: "Reason (shown to them)",
      confirm: "Remove" },
    flag: { title: "Flag for follow-up", about: (h) => `A private note about ${h}, for ` +
      "facilitators only.", reason: "Note (facilitators only)", required: true,
      confirm: "Flag" },
    delete: { title: "Delete message", about: (h) => `The message from ${h} disappears for ` +
      "everyone. The audit log keeps a record of the action.", confirm: "Delete" },
    end_session: { title: "End session", about: () => "The conversation is cleared for " +
      "everyone and the session ends.", confirm: "End session" },
  };

  function openMod(target) {
    const cur = S.cur;
    if (!cur) return;
    const spec = MOD[target.action];
    const dialog = $("mod-dialog");
    const who = target.handle || (target.participant ? handleOf(cur, target.participant) : "");
    $("mod-title").textContent = who && target.action !== "end_session" ?
      `${spec.title}: ${who}` : spec.title;
    $("mod-about").textContent = spec.about(who);
    $("mod-minutes-row").hidden = !spec.minutes;
    $("mod-reason-row").hidden = !spec.reason;
    $("mod-reason-label").textContent = spec.reason || "";
    const reasonInput = $("mod-reason");
    reasonInput.value = "";
    reasonInput.required = Boolean(spec.required);
    $("mod-minutes").value = "15";
    $("mod-confirm").textContent = spec.confirm;
    $("mod-confirm").className = ["remove", "delete", "end_session"].includes(target.action) ?
      "button danger" : "button";
    const opener = document.activeElement;
    dialog.onclose = () => {
      if (opener && opener.focus && document.contains(opener)) opener.focus();
      if (dialog.returnValue !== "confirm") return;
      const frame = { type: target.action, room: cur.id };
      const minutes = Number($("mod-minutes").value);
      const reason = reasonInput.value.trim();
      if (target.participant) frame.participant = target.participant;
      if (target.messageId !== undefined) frame.message_id = target.messageId;
      if (spec.minutes) frame.minutes = minutes;
      if (target.action === "flag") frame.note = reason;
      else if (spec.reason && reason) frame.reason = reason;
      request(frame, () => {
        if (target.action === "mute") cur.muting.set(target.participant,
          Date.now() + minutes * 60000);
        if (target.action === "unmute") cur.muting.delete(target.participant);
        if (target.action === "remove") cur.participants.delete(target.participant);
        renderParticipants(cur);
        facStatus(done(target.action, who, minutes));
      }, (err) => facAlert(`${spec.title} did not work: ${err.message || err.code}.`));
    };
    dialog.returnValue = "";
    dialog.showModal();
  }

  function done(action, who, minutes) {
    const dur = minutes >= 60 ? plural(Math.round(minutes / 60), "hour") :
      plural(minutes, "minute");
    return {
      mute: `${who} is muted for ${dur}.`, unmute: `${who} can write again.`,
      remove: `${who} was removed for ${dur}.`, flag: "Flag saved.",
      delete: "Message deleted.", end_session: "The session has ended.",
    }[action];
  }

  function renderParticipants(cur) {
    const list = $("participants");
    const rows = [...cur.participants.values()]
      .sort((a, b) => (a.role === b.role ? String(a.handle).localeCompare(String(b.handle)) :
        a.role === "facilitator" ? -1 : 1))
      .map((p) => {
        const self = p.participant === cur.participant;
        const until = cur.muting.get(p.participant);
        const muted = (until && until > Date.now()) || p.muted === true;
        const info = el("div", { className: "p-info" },
          el("span", { className: "p-handle", text: String(p.handle) + (self ? " (you)" : "") }),
          p.role === "facilitator" ? el("span", { className: "badge fac", text: "Facilitator" })
            : null,
          p.listening ? el("span", { className: "badge", text: "Listening" }) : null,
          muted ? el("span", { className: "badge warn", text: until ?
            `Muted until ${fmtUntil(until)}` : "Muted" }) : null);
        const li = el("li", { className: "participant", dataset: { participant: p.participant } },
          info);
        if (!self && p.role !== "facilitator" && S.role === "facilitator") {
          const h = String(p.handle);
          const target = { participant: p.participant, handle: h };
          li.append(el("div", { className: "p-actions" },
            button("Mute", () => openMod({ ...target, action: "mute" }),
              { ariaLabel: `Mute ${h}` }),
            button("Unmute", () => openMod({ ...target, action: "unmute" }),
              { ariaLabel: `Unmute ${h}` }),
            button("Remove", () => openMod({ ...target, action: "remove" }),
              { className: "button small danger", ariaLabel: `Remove ${h}` }),
            button("Flag", () => openMod({ ...target, action: "flag" }),
              { ariaLabel: `Flag ${h}` }),
            button("Talk privately", () => talkPrivately(cur, p.participant, h),
              { ariaLabel: `Talk privately with ${h}` })));
        }
        return li;
      });
    list.replaceChildren(...rows);
  }

  function kindLabel(kind) {
    return { report: "Report", flag: "Flag", alert: "Crisis alert" }[kind] || "Item";
  }

  function renderQueue(cur) {
    const items = [...cur.queue.values()].filter((i) => i.status !== "resolved");
    const rows = items.map((item) => {
      const about = [];
      if (item.participant) about.push(`about ${handleOf(cur, item.participant)}`);
      const msg = item.message_id !== undefined && item.message_id !== null ?
        cur.messages.get(Number(item.message_id)) : null;
      const at = parseTime(item.at);
      const li = el("li", { className: `queue-item ${item.kind || ""}`,
        dataset: { item: String(item.id) } },
        el("p", {}, el("strong", { text: kindLabel(item.kind) }),
          ` ${about.join(" ")}${at ? ` · ${fmtTime(at)}` : ""}`),
        msg ? el("blockquote", { className: "quote",
          text: msg.querySelector(".msg-text").textContent.slice(0, 160) }) : null,
        item.note ? el("p", { className: "muted", text: String(item.note) }) : null);
      const actions = el("div", { className: "p-actions" });
      if (item.kind === "alert" && item.participant) {
        const h = handleOf(cur, item.participant);
        actions.append(button("Talk privately", () => talkPrivately(cur,
          String(item.participant), h), { ariaLabel: `Talk privately with ${h}` }));
      }
      if (msg) {
        actions.append(button("Show message", () => {
          msg.scrollIntoView({ block: "center" });
          msg.focus();
        }));
      }
      actions.append(button("Resolve", () => request({ type: "resolve", room: cur.id,
        item: item.id }, () => {
        cur.queue.delete(String(item.id));
        renderQueue(cur);
        facStatus("Resolved.");
      }, (err) => facAlert(`Resolve did not work: ${err.message || err.code}.`)),
      { className: "button small", ariaLabel: `Resolve ${kindLabel(item.kind).toLowerCase()}` }));
      li.append(actions);
      return li;
    });
    $("queue").replaceChildren(...rows);
    $("queue-empty").hidden = rows.length > 0;
    $("queue-count").textContent = rows.length ? `(${rows.length})` : "";
  }

  function onAlert(f, cur) {
    if (S.role !== "facilitator") return;
    const who = f.participant ? handleOf(cur, f.participant) : "someone";
    const msg = cur.messages.get(Number(f.message_id));
    if (msg) msg.classList.add("alerted");
    facAlert(`Crisis language alert: a message from ${who} may need your attention.`);
  }

  function onAuditLog(f, cur) {
    const rows = (Array.isArray(f.entries) ? f.entries : []).map((e) => {
      const at = parseTime(e.at);
      const parts = [at ? fmtUntil(at) : "", String(e.by || ""), String(e.action || "")];
      if (e.participant) parts.push(handleOf(cur, e.participant));
      if (e.message_id !== undefined && e.message_id !== null) parts.push(`message ${e.message_id}`);
      return el("li", {}, el("span", { text: parts.filter(Boolean).join(" · ") }),
        e.reason ? el("span", { className: "muted", text: ` — ${e.reason}` }) : null);
    });
    if (rows.length === 0) rows.push(el("li", { className: "muted", text: "No actions yet." }));
    $("audit-list").replaceChildren(...rows);
    $("audit").hidden = false;
  }

  function roomFrame(type, extra, doneText, control) {
    const cur = S.cur;
    if (!cur) return;
    request({ type, room: cur.id, ...extra }, () => facStatus(doneText), (err) => {
      if (err.code === "unknown_type" && control) {
        // An older server without this action: say so once and put the control away.
        control.disabled = true;
        facAlert("This server does not support that action yet.");
        return;
      }
      facAlert(`That did not work: ${err.message || err.code}.`);
    });
  }

  // The "remember me only in this tab" box shows the choice in force; `said` is read out.
  function showScope(said) {
    $("tab-only").checked = Device.scopeOf(store("local")) === "tab";
    if (said) $("tab-only-status").textContent = said;
  }

  function updateFacilitatorSignin(problem) {
    const signedIn = Boolean(getItem("session", FAC_KEY));
    $("fac-signed-in").hidden = !signedIn;
    $("fac-signed-out").hidden = signedIn;
    if (problem) {
      $("fac-details").open = true;
      let p = $("fac-problem");
      if (!p) {
        p = el("p", { id: "fac-problem", className: "notice warn" });
        $("fac-signed-out").prepend(p);
      }
      p.textContent = problem;
    }
  }

  // ---------- the directory ----------

  let roomsQuery = 0;
  async function loadRooms() {
    if (S.cur) return;
    const q = $("room-search").value.trim();
    const checked = document.querySelector("#categories input:checked");
    const category = checked ? checked.value : "";
    const params = new URLSearchParams();
    if (q) params.set("q", q);
    if (category) params.set("category", category);
    const mine = ++roomsQuery;
    let rooms;
    try {
      const res = await fetch(`/api/rooms?${params}`, { headers: { accept: "application/json" } });
      if (!res.ok) throw new Error(String(res.status));
      rooms = await res.json();
    } catch {
      if (mine === roomsQuery) $("rooms-status").textContent = "Couldn't load the rooms. " +
        "Trying again shortly.";
      return;
    }
    if (mine !== roomsQuery || !Array.isArray(rooms)) return;
    for (const r of rooms) S.catalog.set(r.id, r);
    if (!q && !category) addCategories(rooms.map((r) => r.category));
    renderRooms(rooms, q || category);
    body.dataset.rooms = "loaded";
  }

  function addCategories(names) {
    const box = $("categories");
    for (const name of names) {
      if (!name || S.categories.has(name)) continue;
      S.categories.add(name);
      box.append(el("label", { className: "chip" },
        el("input", { type: "radio", name: "category", value: name }),
        el("span", { text: name })));
    }
  }

  function renderRooms(rooms, filtered) {
    const items = rooms.map((r) => {
      const meta = [el("span", { className: "count", text: `${Number(r.members) || 0} here` })];
      if (r.facilitator_present) meta.push(el("span", { className: "badge fac",
        text: "Facilitator here" }));
      else if (r.requires_facilitator) meta.push(el("span", { className: "badge",
        text: "Opens with a facilitator" }));
      if (r.locked) meta.push(el("span", { className: "badge warn", text: "Locked" }));
      if (r.one_at_a_time) meta.push(el("span", { className: "badge",
        text: "One at a time" }));
      if (r.in_session) meta.push(el("span", { className: "badge live", text: "Session on now" }));
      else if (r.next_session) {
        const t = parseTime(r.next_session);
        if (t) meta.push(el("span", { className: "muted",
          text: `Next session ${dayTimeFmt.format(new Date(t))}` }));
      }
      return el("li", { className: `room-card${r.locked ? " locked" : ""}`,
        dataset: { room: r.id } },
        el("h3", {}, el("a", { href: `#/room/${encodeURIComponent(r.id)}`,
          text: String(r.name) })),
        el("p", { className: "category", text: String(r.category || "") }),
        el("p", { className: "desc", text: String(r.description || "") }),
        el("p", { className: "room-meta" }, ...meta));
    });
    $("rooms").replaceChildren(...items);
    $("rooms-status").textContent = items.length === 0 ? "No rooms match. Try other words." :
      filtered ? `${plural(items.length, "room")} found.` : "";
  }

  function startRoomsPoll() {
    stopRoomsPoll();
    S.roomsTimer = setInterval(() => {
      if (!document.hidden && S.conn === "connected") loadRooms();
    }, ROOMS_POLL_MS);
  }
  function stopRoomsPoll() {
    clearInterval(S.roomsTimer);
    S.roomsTimer = null;
  }

  // ---------- views and routing ----------

  function showView(name) {
    body.dataset.view = name;
    $("view-home").hidden = name !== "home";
    $("view-room").hidden = name !== "room";
    $("view-left").hidden = name !== "left";
    $("fac-panel").hidden = !(name === "room" && S.role === "facilitator");
    if (S.navigated) {
      const h = document.querySelector(`#view-${name} h1`);
      if (h) h.focus({ preventScroll: false });
    }
  }

  function route() {
    // After "leave without a trace" any way onward is a new page: a new, unknown member.
    if (S.forgotten) {
      location.reload();
      return;
    }
    const m = location.hash.match(/^#\/room\/([a-z0-9-]{1,64})$/);
    if (m) {
      enterRoom(m[1]);
    } else {
      leaveRoom();
      showView("home");
      if (S.welcomed) loadRooms();
      startRoomsPoll();
    }
    S.navigated = true;
  }

  function openHelp() {
    $("help").showModal();
  }

  // ---------- wiring ----------

  function wire() {
    for (const h of document.querySelectorAll("h1")) h.tabIndex = -1;
    $("help-open").addEventListener("click", openHelp);
    for (const b of document.querySelectorAll(".help-link")) b.addEventListener("click", openHelp);
    $("conn-retry").addEventListener("click", () => {
      S.attempt = 0;
      connect();
    });
    $("agree").addEventListener("click", () => { if (S.cur) agree(S.cur, false); });
    $("rules-show").addEventListener("click", () => showRules($("rules").hidden));
    $("composer").addEventListener("submit", submitMessage);
    $("listen-toggle").addEventListener("click", () => {
      if (S.cur && S.cur.joined) setListening(S.cur, !S.cur.listening, false);
    });
    $("hand-toggle").addEventListener("click", () => {
      const cur = S.cur;
      if (!cur || !cur.joined) return;
      const raised = cur.hands.includes(cur.participant);
      request({ type: raised ? "lower_hand" : "raise_hand", room: cur.id }, () => {
        if (S.cur !== cur) return;
        // Raised: the place in line is read from its own status line.
        setStatus(raised ? "Your hand is lowered." : "");
      }, (err) => {
        if (err.code !== "disconnected") alertStatus(`That did not work: ` +
          `${err.message || err.code}.`);
      });
    });
    $("cw-toggle").addEventListener("click", () => {
      const open = $("cw-row").hidden;
      showCw(open);
      (open ? $("cw-input") : $("message-input")).focus();
    });
    $("message-input").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) submitMessage(ev);
    });
    $("support-close").addEventListener("click", () => {
      $("support").hidden = true;
      $("message-input").focus();
    });

    let searchTimer = null;
    $("room-search").addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(loadRooms, 200);
    });
    $("room-filter").addEventListener("submit", (ev) => {
      ev.preventDefault();
      loadRooms();
    });
    $("categories").addEventListener("change", loadRooms);

    $("fac-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const token = $("fac-token").value.trim();
      if (!token) return;
      setItem("session", FAC_KEY, token);
      $("fac-token").value = "";
      const p = $("fac-problem");
      if (p) p.remove();
      updateFacilitatorSignin();
      reconnectNow();
    });
    for (const b of document.querySelectorAll(".forget-open")) {
      b.addEventListener("click", openForget);
    }
    if (forgetChannel) {
      forgetChannel.addEventListener("message", (ev) => {
        if (ev.data === "forget" && !S.forgotten) forgetDevice(true);
      });
    }
    $("tab-only").addEventListener("change", () => {
      const want = $("tab-only").checked ? "tab" : "device";
      const got = Device.setScope(store("local"), store("session"), want);
      showScope(got === want ? (got === "tab" ? "Now remembered in this tab only. Closing " +
        "it forgets you." : "Now remembered on this device.") :
        "This browser does not let the site keep that setting.");
    });
    // Another tab changed the choice: show it here too.
    window.addEventListener("storage", (ev) => {
      if (ev.key === Device.SCOPE_KEY || ev.key === null) showScope();
    });

    $("fac-signout").addEventListener("click", () => {
      removeItem("session", FAC_KEY);
      updateFacilitatorSignin();
      reconnectNow();
    });

    $("slow-apply").addEventListener("click", () => {
      const seconds = Number($("slow-select").value);
      roomFrame("slow", { seconds }, seconds ? `Slow mode set to ${seconds} seconds.` :
        "Slow mode is off.");
    });
    $("lock-toggle").addEventListener("click", () => {
      const locked = S.cur && S.cur.locked;
      roomFrame(locked ? "unlock" : "lock", {}, locked ? "The room is unlocked." :
        "The room is locked.");
    });
    $("pause-toggle").addEventListener("click", () => {
      const paused = S.cur && S.cur.paused;
      roomFrame(paused ? "resume" : "pause", {}, paused ? "The room has resumed." :
        "The room is paused.", $("pause-toggle"));
    });
    $("announce-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = $("announce-text").value.trim();
      if (!text || !S.cur) return;
      request({ type: "announce", room: S.cur.id, text }, () => {
        $("announce-text").value = "";
        facStatus("Announcement sent.");
      }, (err) => facAlert(`The announcement was not sent: ${err.message || err.code}.`));
    });
    $("audit-load").addEventListener("click", () => roomFrame("audit", {}, "Audit log loaded."));
    $("end-session").addEventListener("click", () => openMod({ action: "end_session" }));

    window.addEventListener("hashchange", route);
    window.addEventListener("online", () => {
      if (!S.ws) {
        S.attempt = 0;
        connect();
      }
    });
    window.addEventListener("offline", () => {
      if (!S.welcomed) setConn("offline");
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && !S.ws && S.retryTimer) {
        S.attempt = 0;
        connect();
      }
    });
    // Time left on a mute, and its end.
    setInterval(() => {
      const cur = S.cur;
      if (cur && cur.mutedUntil) {
        if (cur.mutedUntil <= Date.now()) {
          cur.mutedUntil = null;
          clearNotice("muted");
          setNotice("unmuted", "Your mute has ended. You can write again.", "info", true);
        } else {
          showMuted(cur, cur.muteReason);
        }
        updateComposer();
      }
    }, 15000);
  }

  wire();
  showScope();
  updateFacilitatorSignin();
  route();
  connect();
})();
