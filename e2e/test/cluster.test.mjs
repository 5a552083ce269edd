// Cluster-wide realtime (issue 6, "Done when"): SDK clients on several node
// processes sharing one Redis Cluster, with faults injected through the
// stack's control server (stack/main.go).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { uniqueName, Inbox } from "../lib/helpers.mjs";
import {
  connectTo, controlEnabled, evictionMs, heartbeatMs, list, roomsOf, runningNodes, waitFor,
  startNode, killNode, stopNode, contNode, readyOf, failover,
} from "../lib/cluster.mjs";

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

test("writes through B and C notify a subscriber on A; count is cluster-wide", { skip: !controlEnabled }, async () => {
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
