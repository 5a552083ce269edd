// Package koncorde is a Go implementation of Kuzzle's realtime filter engine,
// Koncorde 4: its filter DSL, its normalization, its room ids and its
// reverse-matching engine.
//
// A subscription's filter is validated and normalized once:
//
//	f, err := koncorde.Normalize(cfg, "index", "collection", filterJSON)
//	// err is a *DSLError with Koncorde's message (api.assert.koncorde_dsl_error)
//	roomID := f.RoomID() // HMAC-SHA256 with Kuzzle's seed: equal to Kuzzle's
//
// and registered in an Engine, which then tells, for every document written,
// which rooms it matches:
//
//	e := koncorde.NewEngine(cfg)
//	e.Register(f)
//	rooms := e.Test("index", "collection", doc, docID)
//
// # Compatibility
//
// Validation (keywords, error messages and paths), the rewriting of in, ids,
// missing, bool and not, field flattening, matching semantics and the room
// id hash are Koncorde's. The disjunctive normal form is computed
// symbolically instead of with Espresso: filters made of one condition or of
// one and/or group of conditions (in, ids, and of keywords, or of keywords)
// normalize exactly as in Koncorde and get Kuzzle's room ids; more complex
// combinations match the same documents but may get another room id than
// Kuzzle (every Streamcluster node computes the same one).
//
// Known, deliberate differences with Koncorde 4.7 (all edge cases where
// Koncorde is inconsistent): exclusive range bounds are exact (Koncorde
// shifts them by 1e-10); "not regexp" on a non-string value matches (Koncorde
// tests the value's string form); "not select" and "not nothing" are
// accepted with their logical meaning (Koncorde validates them, then fails
// to store them with a TypeError); filters whose minimized form reuses a
// condition with both polarities are evaluated correctly (Koncorde's
// canonicalizer shares mutable condition objects between AND-groups); the
// array form of "not exists" does not make "equals"/"exists" on the same
// field impossible, and "equals" compares types strictly there too;
// distances accept only node-units' distance units; a document holding
// both a literal dotted key and the nested path of the same name resolves
// to the nested value first found by path splitting (Koncorde: the last key
// in insertion order).
//
// # Concurrency
//
// Filter is immutable. Engine is safe for concurrent use: any number of Test
// calls run in parallel with each other, Register and Remove serialize.
// Engine.Test does not allocate for equals, exists and range conditions
// beyond its result slice (use TestAppend to reuse one).
//
// # Tests and benchmarks
//
// testdata/koncorde-suite.json is the kuzzleio/koncorde test suite as data
// (every call and answer, recorded against the koncorde npm package);
// testdata/koncorde-differential.json holds random filters and documents
// answered by Koncorde JS. The property test compares the engine with a
// naive evaluation of the standardized filter; FuzzNormalize fuzzes the
// parser. The benchmarks run the same workloads through Koncorde JS when
// bench/koncorde-js has its node_modules (`npm ci` there):
//
//	go test -run '^$' -bench 'BenchmarkTest|BenchmarkRegister|BenchmarkKoncordeJS' ./koncorde
package koncorde
