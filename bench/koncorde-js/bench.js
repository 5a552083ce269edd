'use strict';
// Runs a benchmark workload written by koncorde/bench_test.go
// (BenchmarkKoncordeJS) through the koncorde npm package and prints one JSON
// line: {rooms, roomsPerSec, bytesPerRoom, nsPerDoc, matchesPerDoc}.
//
// Usage: node --expose-gc bench.js <workload.json> <index>
//
// Documents get their _id the way Kuzzle gives it (koncordeCompat's
// koncordeTest), outside the timed loop.

const fs = require('fs');
const { Koncorde } = require('koncorde');

const [file, index] = process.argv.slice(2);
const w = JSON.parse(fs.readFileSync(file, 'utf8'));
const gc = global.gc || (() => {});

const SEED = Buffer.from('^m&mOISKBvb1xpl1mRsrylaQXpjb&IJX');
gc();
const heapBefore = process.memoryUsage().heapUsed;
const koncorde = new Koncorde({ maxConditions: 100, seed: SEED });

let t0 = process.hrtime.bigint();
for (const f of w.filters) {
  koncorde.register(f, index);
}
const registerNs = Number(process.hrtime.bigint() - t0);
gc();
const heapAfter = process.memoryUsage().heapUsed;
const rooms = koncorde.getFilterIds(index).length;

const docs = w.docs.map((d, i) => Object.assign({}, d, { _id: w.ids[i] }));

let matched = 0;
for (const d of docs) {
  matched += koncorde.test(d, index).length;
}
// Warm up, then time whole passes over the documents for at least 2 s.
for (let k = 0; k < 2; k++) {
  for (const d of docs) koncorde.test(d, index);
}
let n = 0;
t0 = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < 2e9) {
  for (const d of docs) {
    koncorde.test(d, index);
  }
  n += docs.length;
  elapsed = Number(process.hrtime.bigint() - t0);
}

console.log(JSON.stringify({
  rooms,
  roomsPerSec: w.filters.length / (registerNs / 1e9),
  bytesPerRoom: (heapAfter - heapBefore) / rooms,
  nsPerDoc: elapsed / n,
  matchesPerDoc: matched / docs.length,
}));
