// Package storage defines the document store behind Kuzzle's document,
// index and collection controllers, its shared types and errors, and the
// pure query helpers the Redis store uses.
//
// Two implementations exist: storage/redisstore (the default, zero setup,
// on Redis database 0, Redis Cluster-safe) and storage/elasticsearch
// (go-elasticsearch v8, Kuzzle's index naming). Both pass the same
// conformance suite, storage/storagetest.
//
// # Errors
//
// Conditions a client sees are *Error values carrying the Kuzzle error id
// and the message placeholders (Props), so the API layer renders Kuzzle's
// error from its catalogue:
//
//	var se *storage.Error
//	if errors.As(err, &se) { … se.ID, se.Props … }
//	if errors.Is(err, storage.ErrDocumentNotFound) { … }
//
// # Query subset
//
// Stores that do not run Elasticsearch evaluate this subset of the query
// DSL (CompileQuery): match_all, term, terms, range (gt, gte, lt, lte),
// exists, ids, bool (must, filter, should with minimum_should_match,
// must_not), match (approximated: lowercased letter/digit tokens, operator
// or/and; no mappings, so a keyword field matches like a text one),
// geo_distance and geo_bounding_box (points as {lat, lon}, [lon, lat] or
// "lat,lon"; no geohashes), plus sort (field names, {field: order} and {field: {order}})
// and from/size. Other keywords fail with
// services.storage.unknown_query_keyword.
//
// # Koncorde searches
//
// A search with lang=koncorde is translated to the Elasticsearch DSL
// (TranslateKoncorde) exactly as Kuzzle does for document:search, then run
// like any other query: Elasticsearch receives the translation, the Redis
// store evaluates it with the subset above. So both stores give Kuzzle's
// results, including where Kuzzle's search differs from realtime
// subscriptions (a Koncorde "exists" on an empty array matches a
// subscription but not a search; the "bool" operator is refused with
// api.assert.koncorde_restricted_keyword). Subscriptions use package
// koncorde; searches never do.
package storage
