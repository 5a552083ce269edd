import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connectHttp, uniqueName } from "../lib/helpers.mjs";

let k;
const index = uniqueName("e2e-http");

before(async () => {
  k = await connectHttp();
  await k.index.create(index);
  await k.collection.create(index, "c");
});

after(async () => {
  await k.index.delete(index);
  k.disconnect();
});

test("checkToken over Http", async () => {
  assert.deepEqual(await k.auth.checkToken(), { valid: true, kuid: "-1", expiresAt: null });
});

test("document CRUD and search over Http", async () => {
  const d = await k.document.create(index, "c", { city: "Paris", n: 1 }, null, { refresh: "wait_for" });
  assert.ok(d._id);
  await k.document.createOrReplace(index, "c", "fixed", { city: "Lyon", n: 2 }, { refresh: "wait_for" });
  assert.equal((await k.document.get(index, "c", "fixed"))._source.city, "Lyon");
  await k.document.update(index, "c", "fixed", { n: 3 }, { refresh: "wait_for" });
  const res = await k.document.search(index, "c", { query: { term: { city: "Lyon" } } });
  assert.equal(res.total, 1);
  assert.equal(res.hits[0]._source.n, 3);
  assert.equal(await k.document.count(index, "c"), 2);
  await k.document.delete(index, "c", "fixed");
  assert.equal(await k.document.exists(index, "c", "fixed"), false);
  assert.deepEqual(await k.index.list().then((l) => l.includes(index)), true);
});

test("Http errors have Kuzzle's shape", async () => {
  await assert.rejects(k.document.get(index, "c", "missing"), (e) => e.id === "services.storage.not_found" && e.status === 404);
  await assert.rejects(k.collection.getMapping(index, "nope"), (e) => e.id === "services.storage.unknown_collection" && e.status === 412);
});
