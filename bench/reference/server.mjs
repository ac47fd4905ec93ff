// Minimal socket.io 4 relay: the baseline the Playroom relay is measured against.
//
// It speaks just enough of Playroom's wire protocol (docs/PROTOCOL.md) for the same
// load generator to drive it: the room comes from the connect auth `{v, room}`;
// `sync` answers with an empty `state` and joins the room; `eph` goes to the rest of
// the room as `{by, items: [payload]}` (no validation, no coalescing); `op` gets the
// room's next seq, goes to everyone in the room (sender included) and is acked.
// No storage, no auth, no limits: the cheapest relay a user could pick.
//
//   PORT=5001 node bench/reference/server.mjs
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.PORT || 5001);
const host = process.env.HOST || "127.0.0.1";

const http = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("reference relay\n");
});
const io = new Server(http, { pingInterval: 10000, pingTimeout: 10000, maxHttpBufferSize: 1 << 20 });
const seqs = new Map(); // room -> last seq

io.on("connection", (socket) => {
  const room = String((socket.handshake.auth || {}).room || "");
  if (!room) { socket.disconnect(true); return; }

  socket.on("sync", (_msg, ack) => {
    socket.join(room);
    const seq = seqs.get(room) || 0;
    socket.emit("state", { mode: "snapshot", seq, activities: {}, settings: {} });
    if (typeof ack === "function") ack({ ok: true, seq });
  });

  socket.on("eph", (msg) => {
    socket.to(room).emit("eph", { by: socket.id, items: [msg] });
  });

  socket.on("op", (msg, ack) => {
    const seq = (seqs.get(room) || 0) + 1;
    seqs.set(room, seq);
    io.to(room).emit("op", { seq, a: msg.a, t: msg.t, d: msg.d, by: socket.id, op_id: msg.op_id, kind: "do" });
    if (typeof ack === "function") ack({ ok: true, seq });
  });
});

http.listen(port, host, () => {
  console.log(`reference relay on http://${host}:${port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
