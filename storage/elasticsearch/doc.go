// Package elasticsearch is the document store on Elasticsearch 7.14+ or 8,
// through github.com/elastic/go-elasticsearch/v8, with Kuzzle's naming so
// that a Kuzzle and Streamcluster can share a cluster:
//
//	collection <index>/<coll>   → concrete index "&<index>.<coll>"
//	                              with the alias "@&<index>.<coll>"
//	empty index <index>         → hidden collection "&<index>._kuzzle_keep"
//
// Document actions address the alias with require_alias=true, so a write to
// a missing collection fails instead of auto-creating an index. m* actions
// use the _bulk API. Every response body is read and closed in one place
// (Store.do), and Elasticsearch errors become *storage.Error values with
// Kuzzle's ids, following Kuzzle's esWrapper mapping.
//
// Requests are built with the client's Perform rather than the esapi
// structs because esapi does not escape path segments (document ids may
// hold '/', '?' or '#').
//
// # Usage
//
//	st, err := elasticsearch.New(elasticsearch.Config{Addresses: []string{"http://localhost:9200"}})
//	…
//	defer st.Close()
package elasticsearch
