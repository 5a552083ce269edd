'use strict';
// Differential oracle: reads {index, filters, docs} (written by the Go test
// TestWriteDifferentialInput), runs them through the koncorde npm package
// with Kuzzle's seed, and writes the same cases with Koncorde's answers:
// for each filter its normalized form and id (or its error message), for
// each document the indexes of the filters it matches.
//
// Usage: node differential.js <input.json> <output.json>

const fs = require('fs');
const { Koncorde } = require('koncorde');

const SEED = Buffer.from('^m&mOISKBvb1xpl1mRsrylaQXpjb&IJX');
const [input, output] = process.argv.slice(2);
const data = JSON.parse(fs.readFileSync(input, 'utf8'));
const koncorde = new Koncorde({ maxConditions: 100, seed: SEED });

const byId = new Map();
const filters = data.filters.map((filter, i) => {
  try {
    const n = koncorde.normalize(filter, data.index);
    try {
      koncorde.store(n);
    } catch (e) {
      // Koncorde validates some filters it then fails to store (for
      // instance {not: {nothing: true}}).
      koncorde.remove(n.id, data.index);
      return { filter, error: 'store: ' + e.message };
    }
    if (!byId.has(n.id)) byId.set(n.id, []);
    byId.get(n.id).push(i);
    return { filter, id: n.id, normalized: n.filter };
  } catch (e) {
    return { filter, error: e.message };
  }
});

const docs = data.docs.map(({ doc, id }) => {
  const body = id ? Object.assign({}, doc, { _id: id }) : doc;
  const matched = [];
  for (const fid of koncorde.test(body, data.index)) {
    matched.push(...(byId.get(fid) || []));
  }
  return { doc, id, matched: matched.sort((a, b) => a - b) };
});

fs.writeFileSync(output, JSON.stringify({
  source: 'random filters and documents from koncorde/gen_test.go, answered by the koncorde npm package ' +
    require('koncorde/package.json').version + ' with Kuzzle\'s seed (bench/koncorde-js/differential.js)',
  index: data.index,
  filters,
  docs,
}, null, 0) + '\n');
