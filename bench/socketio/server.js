// The Socket.IO reference of `make bench`: Socket.IO 4 on Node with @socket.io/redis-adapter,
// the way its documentation sets up rooms across processes. It does what the product's fan-out
// does and nothing more: a client connects, joins a room, sends messages; every member of the
// room receives each message, the sender included, with a server-assigned id and timestamp;
// each send and each join is acknowledged (the product answers `ack` and `joined`).
//
//   node server.js --port P --redis redis://127.0.0.1:6379/0
//
// Events (Engine.IO 4 over WebSocket, Socket.IO 4 default namespace):
//   client → server  42<ack>["join","<room>"]                   → 43<ack>[{"room","members"}]
//   client → server  42<ack>["send",{"room","text"}]             → 43<ack>[{"id"}]
//   server → room    42["message",{"room","id","participant","handle","role","text","html","ts"}]
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) {
    console.error(`usage: node server.js --port P --redis URL (missing --${name})`);
    process.exit(2);
  }
  return fallback;
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;" };

// The same escaping the Python references do with html.escape: a comparable cost per message.
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

async function main() {
  const port = Number(option("port"));
  const url = option("redis");
  const pub = createClient({ url });
  const sub = pub.duplicate();
  pub.on("error", (err) => console.error("redis (publish):", err.message));
  sub.on("error", (err) => console.error("redis (subscribe):", err.message));
  await Promise.all([pub.connect(), sub.connect()]);

  const httpServer = http.createServer((req, res) => {
    res.writeHead(404).end();
  });
  const io = new Server(httpServer, {
    adapter: createAdapter(pub, sub, { key: "socketio-bench" }),
    transports: ["websocket"], // the load generator speaks WebSocket only, as the product's clients do
    serveClient: false,
    maxHttpBufferSize: 65536, // the product's MAX_FRAME_BYTES
    perMessageDeflate: false, // the product's default too
  });
  const ids = new Map();

  io.on("connection", (socket) => {
    socket.on("join", (room, ack) => {
      if (typeof room !== "string") return;
      socket.join(room);
      if (typeof ack === "function") {
        const members = io.sockets.adapter.rooms.get(room);
        ack({ room, members: members ? members.size : 0 });
      }
    });
    socket.on("send", (data, ack) => {
      if (data === null || typeof data !== "object") return;
      const room = String(data.room);
      const text = String(data.text);
      if (!socket.rooms.has(room)) return;
      const id = (ids.get(room) || 0) + 1;
      ids.set(room, id);
      io.to(room).emit("message", {
        room,
        id,
        participant: "p",
        handle: "member",
        role: "member",
        text,
        html: escapeHtml(text),
        ts: new Date().toISOString(),
      });
      if (typeof ack === "function") ack({ id });
    });
  });

  httpServer.listen(port, "127.0.0.1");
  const stop = () => {
    io.close();
    Promise.allSettled([pub.quit(), sub.quit()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
