// Package storagetest is the conformance suite every storage.Store passes.
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store { return newStore(t) })
//	}
//
// The factory returns a store whose namespace is empty for the test (a
// unique key prefix for Redis, a clean cluster for Elasticsearch); the
// suite does not clean up after itself. Every test is deterministic: fixed
// index names, fixed documents and a fixed sequence of calls, so a
// recorded-responses server can replay one test's exchanges. Only selects a
// subset of the tests (Names lists them).
package storagetest
