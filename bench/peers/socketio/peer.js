// Peer of the Streamcluster benchmark (issue 7, workload 7): socket.io 4.8 with
// @socket.io/redis-streams-adapter on the harness' Redis Cluster, measured with
// the method of /work/shared/reference/peer-baselines.md.
//
//   node peer.js server --port P --redis 127.0.0.1:7001,...
//   node peer.js bench  --redis 127.0.0.1:7001,... --ports P1,P2,... --rates 1000,5000 --secs 2 --drain 1
//
// bench starts one server per port (children it kills on exit), connects one socket.io
// client to server 2 that joins a room, then for each rate asks server 1 to
// emit to the room at that rate (pacer on a 1 ms timer, stamp = hrtime at the
// emit, CLOCK_MONOTONIC like the receiver's). It prints one JSON object on
// stdout: {runs: [{rate, sent, secs, latenciesUs: [...]}]}. Everything is on
// loopback; every loop is bounded by the rate list and --secs.
"use strict";
const http = require("http");
const { spawn } = require("child_process");
const { Server } = require("socket.io");
const { io: ioc } = require("socket.io-client");
const { createAdapter } = require("@socket.io/redis-streams-adapter");
const { createCluster } = require("redis");

function args() {
  const a = { _: process.argv[2] };
  for (let i = 3; i < process.argv.length; i += 2) a[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
  return a;
}
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

async function server(a) {
  const rootNodes = a.redis.split(",").map((h) => ({ url: "redis://" + h }));
  const redis = createCluster({ rootNodes });
  redis.on("error", (e) => console.error("redis", e.message));
  await redis.connect();
  const httpServer = http.createServer(async (req, res) => {
    const u = new URL(req.url, "http://x");
    if (u.pathname !== "/pub") { res.writeHead(404); res.end(); return; }
    const room = u.searchParams.get("room"), rate = +u.searchParams.get("rate"), secs = +u.searchParams.get("secs"), run = u.searchParams.get("run");
    const pad = "x".repeat(64);
    let sent = 0;
    const t0 = nowUs(), end = t0 + secs * 1e6;
    await new Promise((done) => {
      const tick = () => {
        const t = nowUs();
        const due = Math.min(Math.floor(((Math.min(t, end) - t0) * rate) / 1e6), Math.round(rate * secs));
        while (sent < due) { io.to(room).emit("m", { r: run, s: sent, t: nowUs(), p: pad }); sent++; }
        if (t >= end) { done(); return; }
        setTimeout(tick, 1);
      };
      tick();
    });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ sent, secs: (nowUs() - t0) / 1e6 }));
  });
  const io = new Server(httpServer, { transports: ["websocket"], adapter: createAdapter(redis, { streamName: a.stream || "scbench-peers" }) });
  io.on("connection", (s) => s.on("join", (room, ack) => { s.join(room); ack("ok"); }));
  httpServer.listen(+a.port, "127.0.0.1", () => console.error("listening", a.port));
}

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => { let b = ""; res.on("data", (d) => (b += d)); res.on("end", () => resolve(JSON.parse(b))); }).on("error", reject);
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitUp(port, deadline) {
  while (Date.now() < deadline) {
    try { await new Promise((ok, ko) => http.get(`http://127.0.0.1:${port}/`, (r) => { r.resume(); ok(); }).on("error", ko)); return; } catch { await sleep(50); }
  }
  throw new Error("server on " + port + " not up");
}

async function bench(a) {
  const ports = a.ports.split(",").map(Number), n = ports.length, secs = +a.secs, drain = +a.drain;
  const kids = [];
  const killAll = () => kids.forEach((k) => { try { k.kill("SIGKILL"); } catch {} });
  process.on("exit", killAll);
  for (let i = 0; i < n; i++) {
    kids.push(spawn(process.execPath, [__filename, "server", "--port", String(ports[i]), "--redis", a.redis, "--stream", a.stream || "scbench-peers"], { stdio: ["ignore", "ignore", "inherit"] }));
  }
  for (let i = 0; i < n; i++) await waitUp(ports[i], Date.now() + 20000);
  const sock = ioc(`http://127.0.0.1:${ports[n > 1 ? 1 : 0]}`, { transports: ["websocket"] });
  let cur = null;
  sock.on("m", (m) => { if (cur && m.r === cur.run) cur.lat.push(nowUs() - m.t); });
  await new Promise((ok) => sock.on("connect", ok));
  const room = "r" + Date.now();
  await new Promise((ok) => sock.emit("join", room, ok));
  const pub = (rate, s, run) => get(`http://127.0.0.1:${ports[0]}/pub?room=${room}&rate=${rate}&secs=${s}&run=${run}`);
  cur = { run: "warm", lat: [] };
  await pub(1000, 1, "warm");
  const out = [];
  for (const rate of a.rates.split(",").map(Number)) {
    cur = { run: "r" + rate, lat: [] };
    const r = await pub(rate, secs, cur.run);
    const t = Date.now() + drain * 1000;
    while (cur.lat.length < r.sent && Date.now() < t) await sleep(10);
    out.push({ rate, sent: r.sent, secs: r.secs, latenciesUs: cur.lat });
  }
  sock.close();
  // stdout is a pipe under the harness: exit only once the write is flushed.
  process.stdout.write(JSON.stringify({ runs: out }) + "\n", () => {
    killAll();
    process.exit(0);
  });
}

const a = args();
(a._ === "server" ? server(a) : bench(a)).catch((e) => { console.error(e); process.exit(1); });
