// Cluster-wide realtime (issue 6, "Done when"): SDK clients on several node
// processes sharing one Redis Cluster, with faults injected through the
// stack's control server (stack/main.go).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { uniqueName, Inbox } from "../lib/helpers.mjs";
import {
  connectTo, controlEnabled, evictionMs, heartbeatMs, list, roomsOf, runningNodes, waitFor,
  startNode, killNode, stopNode, contNode, readyOf, failover, killMaster, metric, restartNode,
} from "../lib/cluster.mjs";

// Run outside run.mjs (no control server), these tests say why they skip.
const skipWithoutStack = { skip: controlEnabled ? false : "needs the stack's control server: run with `npm test`" };
const index = uniqueName("e2e-cluster");
const opened = [];
let abc; // the first three nodes
let clients; // one SDK client per node of abc

async function open(n, options, wsOptions) {
  const k = await connectTo(n, options, wsOptions);
  opened.push(k);
  return k;
}

// ensureCollection creates a collection through the first client and waits
// until every client's node knows it.
async function ensureCollection(collection, ks = clients) {
  await ks[0].collection.create(index, collection, { mappings: { properties: { license: { type: "keyword" } } } });
  await waitFor(`collection ${collection} on every node`, async () =>
    (await Promise.all(ks.map((k) => k.collection.exists(index, collection)))).every(Boolean));
}

const counts = (ks, room) => Promise.all(ks.map((k) => k.realtime.count(room)));

before(async () => {
  if (!controlEnabled) return;
  abc = (await runningNodes()).slice(0, 3);
  assert.equal(abc.length, 3, "the stack runs three nodes");
  clients = await Promise.all(abc.map((n) => open(n)));
  await clients[0].index.create(index);
  await waitFor("index on every node", async () =>
    (await Promise.all(clients.map((k) => k.index.exists(index)))).every(Boolean));
});

after(async () => {
  if (!controlEnabled) return;
  await clients[0].index.delete(index).catch(() => {});
  for (const k of opened) k.disconnect();
});

test("writes through B and C notify a subscriber on A; count is cluster-wide", skipWithoutStack, async () => {
  const collection = "notify";
  await ensureCollection(collection);
  const [A, B, C] = clients;
  const onA = new Inbox();
  const onB = new Inbox();
  const filter = { equals: { license: "X" } };
  const room = await A.realtime.subscribe(index, collection, filter, onA.push);
  assert.equal(await B.realtime.subscribe(index, collection, filter, onB.push), room);
  await waitFor("count 2 on every node", async () => (await counts(clients, room)).every((c) => c === 2));

  const doc = await B.document.create(index, collection, { license: "X", name: "from B" });
  let n = await onA.next();
  assert.equal(n.action, "create");
  assert.equal(n.scope, "in");
  assert.equal(n.result._id, doc._id);
  assert.equal(n.result._source.name, "from B");

  await C.document.update(index, collection, doc._id, { name: "from C" });
  n = await onA.next();
  assert.equal(n.action, "update");
  assert.equal(n.scope, "in");
  assert.equal(n.result._id, doc._id);

  // A non-matching write, then a matching one from the same node: notifications
  // from one writer arrive in order, so the next one must be the matching one.
  for (const [k, from] of [[C, "C"], [B, "B"]]) {
    await k.document.create(index, collection, { license: "Y", name: "not matching" });
    await k.realtime.publish(index, collection, { license: "X", from }, { volatile: { from } });
    n = await onA.next();
    assert.equal(n.action, "publish");
    assert.equal(n.scope, "in");
    assert.equal(n.result._source.from, from);
    assert.equal(n.volatile.from, from);
  }

  await C.document.delete(index, collection, doc._id);
  n = await onA.next();
  assert.equal(n.action, "delete");
  assert.equal(n.scope, "out");
  assert.equal(n.result._id, doc._id);
  assert.equal(onA.items.length, 0, `unexpected notifications on A: ${JSON.stringify(onA.items)}`);

  // The subscriber on B heard the same five notifications, in the same order.
  const actions = [];
  for (let i = 0; i < 5; i++) actions.push((await onB.next()).action);
  assert.deepEqual(actions, ["create", "update", "publish", "publish", "delete"]);

  await A.realtime.unsubscribe(room);
  await waitFor("count 1 on every node", async () => (await counts(clients, room)).every((c) => c === 1));
  await B.realtime.unsubscribe(room);
  await waitFor("room gone from every node's list", async () =>
    (await Promise.all(clients.map(list))).every((l) => !(room in roomsOf(l, index, collection))));
});

test("realtime:join of a room created on another node, and user notifications across nodes", skipWithoutStack, async () => {
  const collection = "join";
  await ensureCollection(collection);
  const [A, B, C] = clients;
  const users = new Inbox();
  const filter = { equals: { license: "J" } };
  const room = await A.realtime.subscribe(index, collection, filter, (m) => m.type === "user" && users.push(m), { users: "all" });
  await waitFor("the room on B", async () => (await B.realtime.count(room)) === 1);

  const joined = new Inbox();
  const { result } = await B.query({ controller: "realtime", action: "join", body: { roomId: room } });
  assert.equal(result.roomId, room);
  B.protocol.on(result.channel, joined.push);
  await waitFor("count 2 on every node", async () => (await counts(clients, room)).every((c) => c === 2));
  await C.realtime.publish(index, collection, { license: "J", via: "C" });
  const n = await joined.next();
  assert.equal(n.action, "publish");
  assert.equal(n.result._source.via, "C");

  // User notifications reach A from the node where the user came or went,
  // with that node's local count, as in Kuzzle (reference/kuzzle-plugin-cluster.md,
  // cluster:notify:user).
  let u = await users.next();
  assert.equal(u.user, "in", "user notification for B's join");
  assert.equal(u.action, "join");
  assert.equal(u.node, abc[1].id);
  assert.equal(u.result.count, 1);
  const other = await open(abc[2]);
  await other.realtime.subscribe(index, collection, filter, () => {}, { volatile: { who: "on C" } });
  u = await users.next();
  assert.equal(u.type, "user");
  assert.equal(u.user, "in");
  assert.equal(u.node, abc[2].id);
  assert.equal(u.result.count, 1);
  assert.equal(u.volatile.who, "on C");
  other.disconnect();
  u = await users.next();
  assert.equal(u.user, "out");
  assert.equal(u.node, abc[2].id);
  assert.equal(u.result.count, 0);
  await A.realtime.unsubscribe(room);
});

test("kill -9 of a node drops its counts and its rooms on every node", skipWithoutStack, async () => {
  const collection = "kill";
  await ensureCollection(collection);
  const victim = await startNode();
  const D = await open(victim, { autoReconnect: false });
  await waitFor("collection known to the new node", () => D.collection.exists(index, collection));
  const onlyD = await D.realtime.subscribe(index, collection, { equals: { license: "only-D" } }, () => {});
  const shared = await D.realtime.subscribe(index, collection, { equals: { license: "shared" } }, () => {});
  const onA = new Inbox();
  assert.equal(await clients[0].realtime.subscribe(index, collection, { equals: { license: "shared" } }, onA.push), shared);
  await waitFor("D's subscriptions on every node", async () =>
    (await Promise.all(clients.map(list))).every((l) => {
      const r = roomsOf(l, index, collection);
      return r[onlyD] === 1 && r[shared] === 2;
    }));

  const t0 = Date.now();
  await killNode(victim.index);
  const views = await waitFor("D's counts gone from every node", async () => {
    const ls = (await Promise.all(clients.map(list))).map((l) => roomsOf(l, index, collection));
    return ls.every((r) => !(onlyD in r) && r[shared] === 1) && ls;
  }, evictionMs + 5000, 20);
  const elapsed = Date.now() - t0;
  console.log(`# kill -9: counts dropped on every node ${elapsed} ms after the kill (eviction timeout ${evictionMs} ms)`);
  assert.ok(elapsed <= evictionMs + 2 * heartbeatMs + 500, `counts dropped after ${elapsed} ms`);
  for (const r of views) assert.deepEqual(Object.keys(r), [shared]);
  assert.deepEqual(await counts(clients, shared), [1, 1, 1]);

  // Writes keep flowing to the survivors.
  await clients[1].realtime.publish(index, collection, { license: "shared" });
  assert.equal((await onA.next()).action, "publish");
  await clients[0].realtime.unsubscribe(shared);
});

test("kill -9 and restart with the same node id before the eviction timeout: no ghost counts", skipWithoutStack, async () => {
  const collection = "restart";
  await ensureCollection(collection);
  const d = await startNode();
  const D = await open(d, { autoReconnect: false });
  await waitFor("collection known to the new node", () => D.collection.exists(index, collection));
  const onlyD = await D.realtime.subscribe(index, collection, { equals: { license: "only-D" } }, () => {});
  const shared = await D.realtime.subscribe(index, collection, { equals: { license: "shared" } }, () => {});
  const onA = new Inbox();
  await clients[0].realtime.subscribe(index, collection, { equals: { license: "shared" } }, onA.push);
  await waitFor("D's subscriptions on every node", async () =>
    (await Promise.all(clients.map(list))).every((l) => {
      const r = roomsOf(l, index, collection);
      return r[onlyD] === 1 && r[shared] === 2;
    }));

  const t0 = Date.now();
  const again = await restartNode(d.index); // returns once it is ready
  console.log(`# same-id restart ready ${Date.now() - t0} ms after the kill`);
  const D2 = await open(again);
  const views = await waitFor("the old incarnation's counts gone from every node", async () => {
    const ls = (await Promise.all([...clients, D2].map(list))).map((l) => roomsOf(l, index, collection));
    return ls.every((r) => !(onlyD in r) && r[shared] === 1) && ls;
  }, evictionMs + 5000, 20);
  console.log(`# same-id restart: old counts gone ${Date.now() - t0} ms after the kill`);
  for (const r of views) assert.deepEqual(Object.keys(r), [shared]);

  // The restarted node routes to A, and its own new subscribers are reached.
  await D2.realtime.publish(index, collection, { license: "shared", via: "D2" });
  assert.equal((await onA.next()).result._source.via, "D2");
  const onD2 = new Inbox();
  const room = await D2.realtime.subscribe(index, collection, { equals: { license: "D2" } }, onD2.push);
  await waitFor("D2's room on B", async () => (await clients[1].realtime.count(room)) === 1);
  await clients[1].realtime.publish(index, collection, { license: "D2" });
  assert.equal((await onD2.next()).action, "publish");
  await clients[0].realtime.unsubscribe(shared);
  await killNode(again.index);
});

test("SIGSTOP past the eviction timeout, SIGCONT: existing clients are notified again without resubscribing", skipWithoutStack, async () => {
  const collection = "stop";
  await ensureCollection(collection);
  const [A, B] = clients;
  const c = abc[2];
  // A long ping interval so the SDK does not give up on the paused node, and
  // no automatic reconnection or resubscription: the old subscription must
  // work as it is.
  const onC = new Inbox();
  const events = [];
  const C = await open(c, { autoReconnect: false, autoResubscribe: false }, { pingInterval: 60000 });
  for (const e of ["disconnected", "networkError", "reconnected"]) C.on(e, () => events.push(e));
  const room = await C.realtime.subscribe(index, collection, { equals: { license: "S" } }, onC.push);
  await A.realtime.subscribe(index, collection, { equals: { license: "S" } }, () => {});
  // A room that disappears while C is away.
  const gone = await A.realtime.subscribe(index, collection, { equals: { license: "gone" } }, () => {});
  await waitFor("count 2 on A and B, and C knows both rooms", async () =>
    (await counts([A, B], room)).every((n) => n === 2) && gone in roomsOf(await list(C), index, collection));

  const t0 = Date.now();
  await stopNode(c.index);
  const onNew = new Inbox();
  let created;
  try {
    await waitFor("C evicted (count 1 on A and B)", async () => (await counts([A, B], room)).every((n) => n === 1),
      evictionMs + 5000, 20);
    console.log(`# SIGSTOP: C's count dropped ${Date.now() - t0} ms after the stop`);
    // Room changes C cannot see while it is stopped.
    await A.realtime.unsubscribe(gone);
    created = await B.realtime.subscribe(index, collection, { equals: { license: "new" } }, onNew.push);
    // Stay stopped past the eviction timeout, measured from the eviction too.
    await new Promise((r) => setTimeout(r, evictionMs));
  } finally {
    await contNode(c.index);
  }
  const t1 = Date.now();
  await waitFor("C ready again and its count re-announced", async () =>
    (await readyOf(c.index)).status === 200 && (await counts([A, B, C], room)).every((n) => n === 2), 15000);
  console.log(`# SIGCONT: C ready with its count re-announced ${Date.now() - t1} ms after the continue`);

  await B.document.create(index, collection, { license: "S", via: "B" });
  let n = await onC.next();
  assert.equal(n.action, "create");
  assert.equal(n.result._source.via, "B");
  await A.realtime.publish(index, collection, { license: "S", via: "A" });
  n = await onC.next();
  assert.equal(n.action, "publish");
  assert.equal(n.result._source.via, "A");
  assert.deepEqual(events, [], "the SDK client on C was disconnected");

  // C reloaded the rooms: the one removed while it was away is gone, the one
  // created meanwhile is there and its writes reach it.
  const [onA_, onC_] = await Promise.all([list(A), list(C)]);
  assert.deepEqual(roomsOf(onC_, index, collection), roomsOf(onA_, index, collection));
  assert.ok(!(gone in roomsOf(onC_, index, collection)), "ghost room on C");
  assert.equal(roomsOf(onC_, index, collection)[created], 1);
  await C.realtime.publish(index, collection, { license: "new", via: "C" });
  n = await onNew.next();
  assert.equal(n.result._source.via, "C");
});

test("1,000 rooms over three nodes: a joining node lists them all and its writes notify every node", skipWithoutStack, async () => {
  const collection = "thousand";
  const rooms = 1000;
  await ensureCollection(collection);
  // Fresh clients, so the rooms end with them.
  const subs = await Promise.all(abc.map((n) => open(n)));
  const got = new Map(); // n → notification
  const ids = new Array(rooms);
  const t0 = Date.now();
  for (let from = 0; from < rooms; from += 100) {
    await Promise.all(Array.from({ length: 100 }, async (_, j) => {
      const i = from + j;
      ids[i] = await subs[i % 3].realtime.subscribe(index, collection, { equals: { n: i } }, (m) => got.set(i, m));
    }));
  }
  assert.equal(new Set(ids).size, rooms);
  const listings = await waitFor("1,000 rooms with count 1 in every node's list", async () => {
    const ls = (await Promise.all(clients.map(list))).map((l) => roomsOf(l, index, collection));
    return ls.every((r) => Object.keys(r).length === rooms && Object.values(r).every((c) => c === 1)) && ls;
  }, 20000, 100);
  console.log(`# 1,000 rooms subscribed and listed on every node in ${Date.now() - t0} ms`);
  assert.deepEqual(listings[1], listings[0]);
  assert.deepEqual(listings[2], listings[0]);

  const t1 = Date.now();
  const fourth = await startNode(); // returns once /_ready answers 200
  console.log(`# fourth node ready ${Date.now() - t1} ms after its start`);
  const D = await open(fourth);
  assert.deepEqual(roomsOf(await list(D), index, collection), listings[0], "the joiner's list right after it is ready");

  // One publish through the joiner per room: every subscriber, on every node, hears its own.
  const t2 = Date.now();
  for (let from = 0; from < rooms; from += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => D.realtime.publish(index, collection, { n: from + j })));
  }
  await waitFor("a notification in each of the 1,000 rooms", () => got.size === rooms, 20000);
  console.log(`# 1,000 publishes through the joiner delivered in ${Date.now() - t2} ms`);
  for (let i = 0; i < rooms; i++) {
    assert.equal(got.get(i).action, "publish");
    assert.equal(got.get(i).result._source.n, i);
  }
  for (const k of subs) k.disconnect();
  await waitFor("rooms gone after the disconnections", async () =>
    (await Promise.all([...clients, D].map(list))).every((l) => Object.keys(roomsOf(l, index, collection)).length === 0), 20000, 100);
});

// writesDuringFault subscribes one client per live node to a shared room and
// to a room of its own, streams publishes through every node while fault()
// runs, then checks what the subscribers got and that, once every node is
// ready again, a write through every node reaches every subscription.
// fault returns a line for the log. Publishes may fail only if allowErrors.
async function writesDuringFault(collection, fault, { allowErrors = false } = {}) {
  await ensureCollection(collection);
  const live = await runningNodes();
  const ks = await Promise.all(live.map((n) => open(n)));
  await waitFor("collection known to every live node", async () =>
    (await Promise.all(ks.map((k) => k.collection.exists(index, collection)))).every(Boolean));
  const shared = live.map(() => new Inbox());
  const own = live.map(() => new Inbox());
  let room;
  for (const [i, k] of ks.entries()) {
    room = await k.realtime.subscribe(index, collection, { equals: { kind: "fo" } }, shared[i].push);
    await k.realtime.subscribe(index, collection, { equals: { own: i } }, own[i].push);
  }
  await waitFor("shared room count on every node", async () =>
    (await counts(ks, room)).every((c) => c === live.length));

  const inboxStats = (n) => Promise.all([
    metric(n, "streamcluster_realtime_inbox_gaps_total"),
    metric(n, "streamcluster_realtime_inbox_late_total"),
  ]);
  const before = await Promise.all(live.map(inboxStats));
  // A stream of writes through every node while the fault runs.
  let writing = true;
  const sent = new Set(); // "w/seq" of the publishes that succeeded
  const errors = [];
  const writers = ks.map(async (k, w) => {
    for (let seq = 0; writing; seq++) {
      try {
        await k.realtime.publish(index, collection, { kind: "fo", w, seq });
        sent.add(`${w}/${seq}`);
      } catch (e) {
        errors.push(e.message);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  });
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  let what;
  try {
    what = await fault();
  } finally {
    await new Promise((r) => setTimeout(r, 500));
    writing = false;
    await Promise.all(writers);
  }
  console.log(`# ${what} in ${Date.now() - t0} ms; ${sent.size} publishes sent, ${errors.length} failed ` +
    `(${[...new Set(errors)].join("; ")}); received per node: ${shared.map((b) => b.items.length).join(", ")}`);

  // At most once, but never silently: a subscriber that missed publishes is
  // on a node whose inbox counted at least as many lost entries. Each writer
  // awaits its publishes, so each subscriber sees them in order.
  for (const [j, n] of live.entries()) {
    const stream = shared[j].items.map((m) => m.result._source).filter((x) => x.w !== undefined);
    const got = new Set(stream.map((x) => `${x.w}/${x.seq}`));
    const missing = [...sent].filter((x) => !got.has(x)).length;
    const extra = [...got].filter((x) => !sent.has(x)).length;
    const [gaps, late] = (await inboxStats(n)).map((v, x) => v - before[j][x]);
    console.log(`# node ${n.index}: ${missing} missing, ${extra} from failed publishes, inbox gaps +${gaps}, late +${late}`);
    if (missing > 0) assert.ok(gaps - late >= missing, `node ${n.index} missed ${missing} notifications silently`);
    for (let w = 0; w < ks.length; w++) {
      const seqs = stream.filter((x) => x.w === w).map((x) => x.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `order of writer ${w} on node ${n.index}`);
    }
  }

  const t1 = Date.now();
  await waitFor("every node ready", async () =>
    (await Promise.all(live.map((n) => readyOf(n.index)))).every((r) => r.status === 200), 15000);
  console.log(`# every node ready ${Date.now() - t1} ms after the fault`);
  for (const b of shared) b.items.length = 0;
  // After it: a write through every node reaches every subscription.
  for (const [i, k] of ks.entries()) {
    await k.realtime.publish(index, collection, { kind: "fo", after: i });
    for (let j = 0; j < ks.length; j++) await k.realtime.publish(index, collection, { own: j, from: i });
  }
  for (const [j, b] of shared.entries()) {
    const seen = [];
    for (let i = 0; i < ks.length; i++) seen.push((await b.next()).result._source.after);
    assert.deepEqual(seen.sort(), ks.map((_, i) => i), `shared room on node ${live[j].index}`);
  }
  for (const [j, b] of own.entries()) {
    const from = [];
    for (let i = 0; i < ks.length; i++) from.push((await b.next()).result._source.from);
    assert.deepEqual(from.sort(), ks.map((_, i) => i), `own room of node ${live[j].index}`);
  }
  if (!allowErrors) assert.deepEqual(errors, [], "publishes failed during the fault");
  for (const k of ks) k.disconnect();
}

test("CLUSTER FAILOVER of the {sc} master during writes: every subscription is still notified", skipWithoutStack, async () => {
  await writesDuringFault("failover", async () => {
    const fo = await failover("{sc}");
    assert.notEqual(fo.new, fo.old);
    return `CLUSTER FAILOVER of {sc}: Redis master ${fo.old} → ${fo.new}`;
  });
});

test("kill -9 of the {sc} Redis master during writes: every subscription is notified after the promotion", skipWithoutStack, async () => {
  await writesDuringFault("killmaster", async () => {
    const r = await killMaster("{sc}");
    assert.notEqual(r.new, r.old);
    return `kill -9 of the {sc} master: Redis ${r.old} → ${r.new} promoted after ${r.promotedMs} ms, old one back as replica`;
  }, { allowErrors: true });
});

test("no ghost rooms: once every client of this file is gone, no node lists a room of its index", skipWithoutStack, async () => {
  const live = await runningNodes();
  const ks = await Promise.all(live.map((n) => connectTo(n)));
  const leftovers = async () => (await Promise.all(ks.map(list))).map((l) =>
    Object.values(l[index] ?? {}).reduce((sum, rooms) => sum + Object.keys(rooms).length, 0));
  const before = await leftovers();
  assert.ok(before.every((x) => x > 0), `rooms of earlier tests still subscribed: ${before}`);
  for (const k of opened.splice(0)) k.disconnect();
  opened.push(...ks);
  const t0 = Date.now();
  try {
    await waitFor("empty lists on every node", async () => (await leftovers()).every((x) => x === 0), 5000, 50);
  } catch (e) {
    assert.fail(`rooms left per node ${live.map((n) => n.index).join(",")}: ${(await leftovers()).join(",")}: ${e.message}`);
  }
  console.log(`# lists empty on nodes ${live.map((n) => n.index).join(", ")} ${Date.now() - t0} ms after the disconnections`);
  clients = ks; // for the index deletion in after()
});
