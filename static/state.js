// The page's shared state, in one place: the socket and its bookkeeping, the room on screen
// (`cur`, a model from room-model.js), and what outlives one room (the directory, `since`
// memory). Every module reads and writes it here; nothing else is global.

import { Backoff } from "./backoff.js";

export const S = {
  ws: null,
  conn: "connecting",
  backoff: new Backoff(), // reconnect delays; reset when a connection is welcomed
  retryTimer: null,
  welcomed: false,
  everConnected: false,
  role: "member",
  helloPlans: [],
  helloIndex: 0,
  helloHad: { token: false, fac: false },
  refSeq: 0,
  pending: new Map(), // ref -> {onAck, onError}
  memory: new Map(), // room -> {epoch, lastId}: what `since` recovers after a reconnect
  catalog: new Map(), // room id -> directory entry
  categories: new Set(),
  cur: null, // the room on screen
  roomsTimer: null,
  roomsQuery: 0, // the latest directory request; an older answer is dropped
  navigated: false,
  inRooms: new Set(), // rooms joined on this socket: "leave without a trace" leaves each
  forgotten: false, // after "leave without a trace": never connect or store again
};
