// Helpers for the multi-node tests: the stack's fault-control server
// (stack/main.go, port in SC_E2E_CONTROL) and SDK clients on a given node.
import { Kuzzle, WebSocket, host } from "./helpers.mjs";

const control = `http://127.0.0.1:${process.env.SC_E2E_CONTROL}`;

// Heartbeat of the stack's nodes (stack/main.go default) and the eviction
// timeout the nodes derive from it (3 × heartbeat).
export const heartbeatMs = Number(process.env.SC_E2E_HEARTBEAT_MS || 300);
export const evictionMs = 3 * heartbeatMs;

export const controlEnabled = Boolean(process.env.SC_E2E_CONTROL && process.env.SC_E2E_CONTROL !== "0");

async function call(method, path) {
  const res = await fetch(control + path, { method });
  const body = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${body.error}`);
  return body;
}

export const nodes = () => call("GET", "/nodes");
export const startNode = () => call("POST", "/nodes");
export const killNode = (i) => call("POST", `/nodes/${i}/kill`);
export const stopNode = (i) => call("POST", `/nodes/${i}/stop`);
export const contNode = (i) => call("POST", `/nodes/${i}/cont`);
export const readyOf = (i) => call("GET", `/nodes/${i}/ready`);
export const masterFor = (key) => call("GET", `/master?key=${encodeURIComponent(key)}`);
export const failover = (key) => call("POST", `/failover?key=${encodeURIComponent(key)}`);
export const killMaster = (key) => call("POST", `/killmaster?key=${encodeURIComponent(key)}`);

// The running nodes, by index.
export async function runningNodes() {
  return (await nodes()).filter((n) => n.state === "running");
}

// connectTo opens an SDK WebSocket client on node n (an entry of nodes()).
// Options go to the Kuzzle constructor; wsOptions to the protocol.
export async function connectTo(n, options = {}, wsOptions = {}) {
  const k = new Kuzzle(new WebSocket(host, { port: n.port, ...wsOptions }), options);
  await k.connect();
  return k;
}

// waitFor polls fn until it returns a truthy value and returns it; it
// throws the last error (or a timeout error naming what) after timeoutMs.
export async function waitFor(what, fn, timeoutMs = 5000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timeout after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// list returns realtime:list of one client.
export async function list(k) {
  return (await k.query({ controller: "realtime", action: "list" })).result;
}

// roomsOf returns the {roomId: count} of one collection in a list result.
export function roomsOf(listing, index, collection) {
  return listing?.[index]?.[collection] ?? {};
}

// metric returns the sum of the samples of one Prometheus metric on node n
// (its /metrics route), or undefined when the node does not expose it.
export async function metric(n, name) {
  const text = await (await fetch(`http://127.0.0.1:${n.port}/metrics`)).text();
  let sum;
  for (const line of text.split("\n")) {
    if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
      sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}
export const restartNode = (i) => call("POST", `/nodes/${i}/restart`);
