'use strict';
// Mocha --require hook used to turn the kuzzleio/koncorde test suite into data.
//
// It wraps the public API of the koncorde npm package (the version pinned in
// package.json) and records, for every passing test case, the calls made
// (validate, normalize, register, store, test, remove, getFilterIds,
// hasFilterId, convertGeopoint) with their arguments and the library's
// answers. The result is written as JSON to $KONCORDE_FIXTURES_OUT and is what
// koncorde/testdata/koncorde-suite.json holds. No test code is kept: only the
// inputs and the observed outputs.
//
// Usage: see README.md in this directory.

const fs = require('fs');
const path = require('path');

const root = process.env.KONCORDE_SUITE_ROOT;
const lib = require(path.join(root, 'lib'));
const geopointMod = require(path.join(root, 'lib/util/convertGeopoint'));

// Kuzzle's fixed seed (kuzzle:lib/config), so recorded ids are Kuzzle's ids.
const SEED = Buffer.from('^m&mOISKBvb1xpl1mRsrylaQXpjb&IJX');

let current = null;
let currentUnportable = false;
const cases = [];

function portable(v, depth = 0) {
  if (depth > 50) return false;
  if (v === null) return true;
  switch (typeof v) {
    case 'string': case 'boolean': return true;
    case 'number': return Number.isFinite(v) && !Object.is(v, -0);
    case 'object':
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          if (!(i in v) || !portable(v[i], depth + 1)) return false;
        }
        return true;
      }
      if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return false;
      return Object.keys(v).every(k => portable(v[k], depth + 1));
    default: return false;
  }
}

function rec(op) {
  if (!current) return;
  for (const k of ['filter', 'doc', 'input']) {
    if (k in op && !portable(op[k])) currentUnportable = true;
  }
  current.ops.push(op);
}

function errOf(e) {
  const r = { message: e.message };
  if (e.keyword !== undefined) r.keyword = e.keyword;
  if (e.path !== undefined) r.path = e.path;
  return r;
}

const Orig = lib.Koncorde;
class RecordingKoncorde extends Orig {
  constructor(config) {
    const cfg = Object.assign({}, config || {});
    if (!cfg.seed || cfg.seed.length !== 32) cfg.seed = SEED;
    super(cfg);
    rec({ op: 'new', maxConditions: this.config.maxConditions });
  }
  validate(filter) {
    try {
      super.validate(filter);
      rec({ op: 'validate', filter });
    } catch (e) {
      rec({ op: 'validate', filter, error: errOf(e) });
      throw e;
    }
  }
  normalize(filter, index = null) {
    try {
      const n = super.normalize(filter, index);
      rec({ op: 'normalize', filter, index, id: n.id, normalized: JSON.parse(JSON.stringify(n.filter)) });
      return n;
    } catch (e) {
      rec({ op: 'normalize', filter, index, error: errOf(e) });
      throw e;
    }
  }
  register(filter, index = null) {
    // register = normalize + store: record it as one operation.
    const saved = current; current = null;
    try {
      const id = super.register(filter, index);
      current = saved;
      rec({ op: 'register', filter, index, id });
      return id;
    } catch (e) {
      current = saved;
      rec({ op: 'register', filter, index, error: errOf(e) });
      throw e;
    } finally {
      current = saved;
    }
  }
  store(normalized) {
    const id = super.store(normalized);
    rec({ op: 'store', id, index: normalized.index });
    return id;
  }
  test(doc, index = null) {
    const r = super.test(doc, index);
    rec({ op: 'test', doc, index, result: [...r].sort() });
    return r;
  }
  remove(id, index = null) {
    super.remove(id, index);
    rec({ op: 'remove', id, index });
  }
  getFilterIds(index = null) {
    const r = super.getFilterIds(index);
    rec({ op: 'getFilterIds', index, result: [...r].sort() });
    return r;
  }
  hasFilterId(id, index = null) {
    const r = super.hasFilterId(id, index);
    rec({ op: 'hasFilterId', id, index, result: Boolean(r) });
    return r;
  }
}
lib.Koncorde = RecordingKoncorde;

// Cases that stub library internals with sinon record fake answers: drop them.
try {
  const sinon = require(require.resolve('sinon', { paths: [root] }));
  const origStub = sinon.stub;
  sinon.stub = function (...args) {
    currentUnportable = true;
    return origStub.apply(this, args);
  };
} catch (e) {
  // sinon not installed: nothing to guard.
}

const origConvert = geopointMod.convertGeopoint;
geopointMod.convertGeopoint = function (point) {
  const r = origConvert(point);
  rec({ op: 'convertGeopoint', input: point, result: r === null ? null : { lat: r.lat, lon: r.lon } });
  return r;
};

exports.mochaHooks = {
  beforeEach() {
    current = { name: this.currentTest.fullTitle(), file: path.relative(root, this.currentTest.file), ops: [] };
    currentUnportable = false;
  },
  afterEach() {
    if (current && this.currentTest.state === 'passed' && current.ops.length > 0 && !currentUnportable) {
      cases.push(current);
    }
    current = null;
  },
};

process.on('exit', () => {
  fs.writeFileSync(process.env.KONCORDE_FIXTURES_OUT, JSON.stringify({
    source: 'kuzzleio/koncorde test suite, replayed against the koncorde npm package ' + require('koncorde/package.json').version + ' with Kuzzle\'s seed',
    cases,
  }, null, 1) + '\n');
});
