import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connectWS, uniqueName, Inbox } from "../lib/helpers.mjs";

let sub;
let writer;
const index = uniqueName("e2e-ws");
const collection = "yellow-taxi";

before(async () => {
  sub = await connectWS();
  writer = await connectWS();
  if (!(await writer.index.exists(index))) await writer.index.create(index);
  await writer.collection.create(index, collection, { mappings: { properties: { license: { type: "keyword" } } } });
});

after(async () => {
  await writer.index.delete(index);
  sub.disconnect();
  writer.disconnect();
});

test("checkToken answers the anonymous user", async () => {
  const res = await writer.auth.checkToken();
  assert.deepEqual(res, { valid: true, kuid: "-1", expiresAt: null });
});

test("server:now and server:info", async () => {
  const now = await writer.server.now();
  assert.ok(Math.abs(now - Date.now()) < 60000);
  const info = await writer.server.info();
  assert.ok(info.serverInfo.kuzzle);
});

test("subscribe, notifications for matching documents only, in and out scopes", async () => {
  const inbox = new Inbox();
  const outs = new Inbox();
  const roomId = await sub.realtime.subscribe(index, collection, { equals: { license: "B" } }, inbox.push);
  await sub.realtime.subscribe(index, collection, { equals: { license: "B" } }, outs.push, { scope: "out" });

  const doc = await writer.document.create(index, collection, { name: "Sirkis", license: "B" });
  let n = await inbox.next();
  assert.equal(n.type, "document");
  assert.equal(n.scope, "in");
  assert.equal(n.action, "create");
  assert.equal(n.event, "write");
  assert.equal(n.result._id, doc._id);
  assert.equal(n.result._source.name, "Sirkis");
  assert.equal(n.result._source._kuzzle_info.author, "-1");
  assert.equal(n.index, index);
  assert.equal(n.collection, collection);

  // Not matching: nothing (the next notification is the update below).
  await writer.document.create(index, collection, { name: "Other", license: "A" });

  await writer.document.update(index, collection, doc._id, { name: "Ned" });
  n = await inbox.next();
  assert.equal(n.action, "update");
  assert.equal(n.scope, "in");
  assert.deepEqual(n.result._updatedFields, ["name"]);

  // Leaving the scope: both the "all" and the "out" channels hear it.
  await writer.document.replace(index, collection, doc._id, { name: "Ned", license: "C" });
  for (const box of [outs, inbox]) {
    n = await box.next();
    assert.equal(n.scope, "out");
    assert.equal(n.action, "replace");
  }

  await writer.document.createOrReplace(index, collection, doc._id, { license: "B" });
  n = await inbox.next();
  assert.equal(n.action, "replace");
  assert.equal(n.scope, "in");

  await writer.document.delete(index, collection, doc._id);
  for (const box of [outs, inbox]) {
    n = await box.next();
    assert.equal(n.action, "delete");
    assert.equal(n.scope, "out");
    assert.equal(n.event, "delete");
  }

  assert.equal(inbox.items.length, 0, "unexpected notifications");
  assert.equal(outs.items.length, 0, "unexpected out notifications");

  assert.equal(await writer.realtime.count(roomId), 1);
  await sub.realtime.unsubscribe(roomId);
  await writer.document.create(index, collection, { license: "B" });
  await writer.server.now();
  assert.equal(inbox.items.length, 0, "notified after unsubscribe");
});

test("publish and volatile data", async () => {
  const inbox = new Inbox();
  const roomId = await sub.realtime.subscribe(index, collection, { range: { speed: { gte: 100 } } }, inbox.push);
  await writer.realtime.publish(index, collection, { speed: 120 }, { volatile: { why: "test" } });
  const n = await inbox.next();
  assert.equal(n.action, "publish");
  assert.equal(n.result._source.speed, 120);
  assert.equal(n.volatile.why, "test");
  await sub.realtime.unsubscribe(roomId);
});

test("subscribeToSelf: false drops the writer's own notifications", async () => {
  const inbox = new Inbox();
  const roomId = await writer.realtime.subscribe(index, collection, {}, inbox.push, { subscribeToSelf: false });
  await writer.document.create(index, collection, { license: "S" });
  await sub.document.create(index, collection, { license: "T" });
  const n = await inbox.next();
  assert.equal(n.result._source.license, "T");
  await writer.realtime.unsubscribe(roomId);
});

test("user notifications", async () => {
  const inbox = new Inbox();
  const roomId = await sub.realtime.subscribe(index, collection, { equals: { license: "U" } }, inbox.push, { users: "all" });
  const other = await connectWS();
  await other.realtime.subscribe(index, collection, { equals: { license: "U" } }, () => {}, { volatile: { who: "other" } });
  let n = await inbox.next();
  assert.equal(n.type, "user");
  assert.equal(n.user, "in");
  assert.equal(n.result.count, 2);
  assert.equal(n.volatile.who, "other");
  other.disconnect();
  n = await inbox.next();
  assert.equal(n.user, "out");
  assert.equal(n.result.count, 1);
  await sub.realtime.unsubscribe(roomId);
});

test("document CRUD, m* actions and search", async () => {
  const c = "crud";
  await writer.collection.create(index, c);
  const created = await writer.document.create(index, c, { n: 1, tag: "a" }, "d1", { refresh: "wait_for" });
  assert.equal(created._id, "d1");
  assert.equal(created._version, 1);
  assert.equal(await writer.document.exists(index, c, "d1"), true);
  const got = await writer.document.get(index, c, "d1");
  assert.equal(got._source.n, 1);
  const up = await writer.document.update(index, c, "d1", { n: 2 }, { retryOnConflict: 3 });
  assert.equal(up._version, 2);
  const upsert = await writer.document.upsert(index, c, "d2", { n: 5 }, { default: { tag: "b" } });
  assert.equal(upsert.created, true);
  const m = await writer.document.mCreate(index, c, [
    { _id: "d3", body: { n: 3, tag: "a" } },
    { _id: "d1", body: { n: 9 } },
  ], { refresh: "wait_for" });
  assert.equal(m.successes.length, 1);
  assert.equal(m.errors.length, 1);
  const mget = await writer.document.mGet(index, c, ["d1", "d3", "nope"]);
  assert.equal(mget.successes.length, 2);
  assert.deepEqual(mget.errors, ["nope"]);
  await writer.collection.refresh(index, c);
  const res = await writer.document.search(index, c, { query: { range: { n: { gte: 2 } } }, sort: [{ n: "asc" }] }, { size: 10 });
  assert.equal(res.total, 3);
  assert.deepEqual(res.hits.map((h) => h._id), ["d1", "d3", "d2"]);
  assert.equal(await writer.document.count(index, c, { query: { term: { tag: "a" } } }), 2);
  const kres = await writer.document.search(index, c, { query: { equals: { tag: "a" } } }, { lang: "koncorde" });
  assert.equal(kres.total, 2);
  const del = await writer.document.mDelete(index, c, ["d1", "nope"]);
  assert.deepEqual(del.successes, ["d1"]);
  const dbq = await writer.document.deleteByQuery(index, c, { query: { match_all: {} } }, { refresh: "wait_for" });
  assert.equal(dbq.length, 2);
  assert.equal(await writer.document.count(index, c, {}), 0);
  assert.deepEqual((await writer.collection.list(index)).collections.map((x) => x.name).sort(), ["crud", collection].sort());
});

test("errors carry Kuzzle's ids and the connection survives", async () => {
  await assert.rejects(writer.document.get(index, collection, "missing"), (e) => {
    assert.equal(e.id, "services.storage.not_found");
    assert.equal(e.status, 404);
    return true;
  });
  await assert.rejects(writer.document.create("no-such-index", "c", { a: 1 }), (e) => e.id === "services.storage.unknown_index" && e.status === 412);
  await assert.rejects(sub.realtime.subscribe(index, collection, { equals: "bad" }, () => {}), (e) => e.id === "api.assert.koncorde_dsl_error" && e.status === 400);
  await assert.rejects(writer.query({ controller: "nope", action: "x" }), (e) => e.id === "api.process.controller_not_found");
  await assert.rejects(writer.realtime.unsubscribe("nope"), (e) => e.id === "core.realtime.not_subscribed" && e.status === 412);
  assert.ok(await writer.server.now());
});

test("index and collection actions, m* writes, updateByQuery and scroll", async () => {
  const idx = `${index}-more`;
  await writer.index.create(idx);
  await writer.collection.create(idx, "c", { mappings: { properties: { n: { type: "integer" } } } });
  await writer.collection.update(idx, "c", { mappings: { properties: { tag: { type: "keyword" } } } });
  const mapping = await writer.collection.getMapping(idx, "c");
  assert.ok(mapping.properties.tag);
  assert.equal(await writer.collection.exists(idx, "c"), true);

  const cor = await writer.document.mCreateOrReplace(idx, "c", [
    { _id: "a", body: { n: 1 } },
    { _id: "b", body: { n: 2 } },
  ]);
  assert.equal(cor.successes.length, 2);
  const rep = await writer.document.mReplace(idx, "c", [{ _id: "a", body: { n: 10 } }]);
  assert.equal(rep.successes.length, 1);
  const upd = await writer.document.mUpdate(idx, "c", [{ _id: "b", body: { tag: "x" } }]);
  assert.equal(upd.successes.length, 1);
  const ups = await writer.document.mUpsert(idx, "c", [{ _id: "c", changes: { n: 3 }, default: { tag: "y" } }]);
  assert.equal(ups.successes.length, 1);
  await writer.collection.refresh(idx, "c");
  const ubq = await writer.document.updateByQuery(idx, "c", { range: { n: { gte: 2 } } }, { tag: "z" }, { refresh: "wait_for" });
  assert.equal(ubq.successes.length, 3);

  let page = await writer.document.search(idx, "c", { sort: ["n"] }, { size: 2, scroll: "10s" });
  assert.equal(page.total, 3);
  const seen = page.hits.map((h) => h._id);
  page = await page.next();
  while (page) {
    seen.push(...page.hits.map((h) => h._id));
    page = await page.next();
  }
  assert.deepEqual(seen.sort(), ["a", "b", "c"]);

  await writer.collection.truncate(idx, "c", { refresh: "wait_for" });
  assert.equal(await writer.document.count(idx, "c"), 0);
  await writer.collection.delete(idx, "c");
  assert.equal(await writer.collection.exists(idx, "c"), false);
  assert.deepEqual(await writer.index.mDelete([idx]), [idx]);
  assert.equal(await writer.index.exists(idx), false);
});
