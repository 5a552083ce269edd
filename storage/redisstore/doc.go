// Package redisstore is the default document store: documents, versions,
// indexes, collections and mappings kept in Redis database 0, on a
// standalone server or a Redis Cluster.
//
// # Key layout
//
// With the default prefix "sc", the registry lives in one slot:
//
//	{sc:meta}:indexes          SET of index names
//	{sc:meta}:colls:<index>    SET of the index's collection names
//
// and every collection has its own hash tag, so that its keys share a slot
// and the Lua scripts that touch several of them run on a Redis Cluster:
//
//	{sc:c:<index>:<coll>}:m    the collection's mappings (JSON); its
//	                           existence is the collection's existence
//	{sc:c:<index>:<coll>}:d    HASH id → source JSON
//	{sc:c:<index>:<coll>}:v    HASH id → version
//
// Scroll cursors live under {sc:s:<scrollId>} with a TTL.
//
// Every document write runs one Lua script that checks the collection,
// writes the source and increments the version atomically. Partial updates
// read, merge in Go and write back with a compare-and-set script.
//
// Versions start at 1 and grow by one per write. Unlike Elasticsearch,
// which remembers a deleted document's version for a while, a document
// created again after a delete starts over at 1.
//
// # Search
//
// Searches load the collection and evaluate the query in Go: the
// Elasticsearch subset of package storage, or a Koncorde filter
// (lang=koncorde). The cost is linear in the collection's size (measured
// on a 2-core machine: about 3 ms for 1,000 documents and 45 ms for
// 10,000, BenchmarkSearch1k/10k), and the read runs as one Lua script that
// blocks the collection's shard meanwhile: this store is meant for
// zero-setup use and moderate collections; use Elasticsearch beyond. Redis has no
// mappings enforcement: unlike Elasticsearch with "dynamic": "false", every
// field of a document is searchable.
//
// # Usage
//
//	st, err := redisstore.New(redisstore.Config{Client: client})
//	…
//	doc, err := st.Create(ctx, "nyc-open-data", "yellow-taxi", "", src, storage.WriteOptions{})
package redisstore
