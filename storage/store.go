package storage

import (
	"context"
	"encoding/json"
	"time"
)

// Refresh values accepted in WriteOptions.Refresh, as Kuzzle's "refresh"
// argument.
const (
	// RefreshNone returns as soon as the write is acknowledged.
	RefreshNone = ""
	// RefreshWaitFor returns once the write is visible to searches.
	RefreshWaitFor = "wait_for"
)

// Query languages accepted in Query.Lang, as Kuzzle's "lang" argument.
const (
	// LangElasticsearch is the Elasticsearch query DSL (the default when
	// Lang is empty). The Redis store accepts the subset documented in
	// package doc.
	LangElasticsearch = "elasticsearch"
	// LangKoncorde is a Koncorde filter.
	LangKoncorde = "koncorde"
)

// Document is one stored document. Source is the document body exactly as
// the caller gave it (the API layer adds and reads _kuzzle_info itself).
type Document struct {
	ID      string
	Version int64
	Source  map[string]any
}

// Hit is one search result.
type Hit struct {
	Document
	Index      string
	Collection string
	// Score is the relevance score; 1 when the store does not score.
	Score float64
}

// WriteOptions are the options of every write.
type WriteOptions struct {
	// Refresh is RefreshNone or RefreshWaitFor.
	Refresh string
}

// UpdateOptions are the options of partial updates.
type UpdateOptions struct {
	// Refresh is RefreshNone or RefreshWaitFor.
	Refresh string
	// RetryOnConflict is how many times a conflicting concurrent update is
	// retried before ErrTooManyChanges. 0 means no retry.
	RetryOnConflict int
}

// Query selects documents.
type Query struct {
	// Body is the search query: an Elasticsearch query object (the value of
	// the "query" key of Kuzzle's search body) or a Koncorde filter,
	// depending on Lang. Empty, null or {} matches every document.
	Body json.RawMessage
	// Lang is LangElasticsearch (or "") or LangKoncorde.
	Lang string
}

// SearchRequest is a paginated search.
type SearchRequest struct {
	Query Query
	// Sort is the Elasticsearch "sort" value (a field name, an object or an
	// array of them). Empty means unsorted (store order).
	Sort json.RawMessage
	// From is the number of hits to skip. Size is the page size; 0 means
	// DefaultSearchSize.
	From, Size int
	// Scroll, when > 0, opens a scroll cursor that lives that long after
	// each page; SearchResult.ScrollID names it.
	Scroll time.Duration
}

// DefaultSearchSize is the page size used when SearchRequest.Size is 0
// (Kuzzle's and Elasticsearch's default).
const DefaultSearchSize = 10

// SearchResult is one page of a search or scroll.
type SearchResult struct {
	Hits []Hit
	// Total is the number of documents matching the query.
	Total int
	// ScrollID is set when a scroll cursor is open, even on the last page.
	ScrollID string
}

// BulkItem is one input document of an m* action. For MUpdate Source holds
// the changes.
type BulkItem struct {
	ID     string // "" generates one for MCreate
	Source map[string]any
}

// UpsertItem is one input document of MUpsert.
type UpsertItem struct {
	ID       string
	Changes  map[string]any
	Defaults map[string]any
}

// BulkSuccess is one successful item of an m* action.
type BulkSuccess struct {
	Document
	// Created is true when the write created the document
	// (MCreateOrReplace, MUpsert; always true for MCreate).
	Created bool
}

// BulkError is one failed item of an m* action.
type BulkError struct {
	// ID and Source are the input item (Source is nil for MDelete).
	ID     string
	Source map[string]any
	// Err is an *Error (errors.Is with the sentinels works on it).
	Err error
}

// BulkResult is Kuzzle's {successes, errors} shape. Successes keep input
// order; so do errors.
type BulkResult struct {
	Successes []BulkSuccess
	Errors    []BulkError
}

// Store is a document store in Kuzzle's model: indexes hold collections,
// collections hold documents with a version. Implementations are safe for
// concurrent use.
//
// Errors: every method returns *Error values for the conditions Kuzzle
// reports to clients (unknown index or collection, missing document,
// existing document, bad query...). errors.Is(err, ErrX) selects them; other
// errors are infrastructure failures.
//
// Document actions on a collection that does not exist fail with
// ErrUnknownIndex or ErrUnknownCollection.
type Store interface {
	// CreateIndex creates an empty index; ErrIndexAlreadyExists if it exists.
	CreateIndex(ctx context.Context, index string) error
	// DeleteIndex deletes an index, its collections and documents.
	DeleteIndex(ctx context.Context, index string) error
	IndexExists(ctx context.Context, index string) (bool, error)
	// ListIndexes returns the index names, sorted.
	ListIndexes(ctx context.Context) ([]string, error)
	// MDeleteIndexes deletes the indexes that exist among names and returns
	// them (Kuzzle's index:mDelete "deleted").
	MDeleteIndexes(ctx context.Context, names []string) ([]string, error)

	// CreateCollection creates a collection in an existing index with the
	// given mappings ({dynamic, _meta, properties}; nil for none). If it
	// exists, its mappings are updated, as Kuzzle does.
	CreateCollection(ctx context.Context, index, coll string, mappings json.RawMessage) error
	// UpdateCollection updates the mappings of an existing collection.
	UpdateCollection(ctx context.Context, index, coll string, mappings json.RawMessage) error
	DeleteCollection(ctx context.Context, index, coll string) error
	CollectionExists(ctx context.Context, index, coll string) (bool, error)
	// ListCollections returns the collection names of an index, sorted.
	ListCollections(ctx context.Context, index string) ([]string, error)
	// TruncateCollection deletes every document and keeps the mappings.
	TruncateCollection(ctx context.Context, index, coll string) error
	// RefreshCollection makes every write visible to searches.
	RefreshCollection(ctx context.Context, index, coll string) error
	// GetMapping returns the mappings as {"dynamic", "_meta", "properties"}.
	GetMapping(ctx context.Context, index, coll string) (json.RawMessage, error)

	// Create stores a new document; id "" generates one.
	// ErrDocumentAlreadyExists if the id is taken.
	Create(ctx context.Context, index, coll, id string, src map[string]any, opts WriteOptions) (Document, error)
	// CreateOrReplace stores src under id and reports whether it created it.
	CreateOrReplace(ctx context.Context, index, coll, id string, src map[string]any, opts WriteOptions) (doc Document, created bool, err error)
	// Replace replaces an existing document; ErrDocumentNotFound otherwise.
	Replace(ctx context.Context, index, coll, id string, src map[string]any, opts WriteOptions) (Document, error)
	// Update merges partial into an existing document (objects merge
	// recursively, other values replace) and returns the full result.
	Update(ctx context.Context, index, coll, id string, partial map[string]any, opts UpdateOptions) (Document, error)
	// Upsert applies changes to the document, or creates it from defaults
	// merged with changes.
	Upsert(ctx context.Context, index, coll, id string, changes, defaults map[string]any, opts UpdateOptions) (doc Document, created bool, err error)
	// Delete deletes a document and returns it as it was.
	Delete(ctx context.Context, index, coll, id string, opts WriteOptions) (Document, error)
	Get(ctx context.Context, index, coll, id string) (Document, error)
	Exists(ctx context.Context, index, coll, id string) (bool, error)
	// MGet returns the documents found, in input order, and the ids missing.
	MGet(ctx context.Context, index, coll string, ids []string) (found []Document, missing []string, err error)

	MCreate(ctx context.Context, index, coll string, items []BulkItem, opts WriteOptions) (BulkResult, error)
	MCreateOrReplace(ctx context.Context, index, coll string, items []BulkItem, opts WriteOptions) (BulkResult, error)
	MReplace(ctx context.Context, index, coll string, items []BulkItem, opts WriteOptions) (BulkResult, error)
	MUpdate(ctx context.Context, index, coll string, items []BulkItem, opts UpdateOptions) (BulkResult, error)
	MUpsert(ctx context.Context, index, coll string, items []UpsertItem, opts UpdateOptions) (BulkResult, error)
	// MDelete deletes documents; successes hold the deleted documents.
	MDelete(ctx context.Context, index, coll string, ids []string, opts WriteOptions) (BulkResult, error)

	Search(ctx context.Context, index, coll string, req SearchRequest) (SearchResult, error)
	// Scroll returns the next page of a scroll cursor and extends its life
	// by ttl. With ttl 0 the Redis store keeps the duration given at Search
	// and the Elasticsearch store uses its configured default.
	// ErrUnknownScrollID when it expired or never existed.
	Scroll(ctx context.Context, scrollID string, ttl time.Duration) (SearchResult, error)
	Count(ctx context.Context, index, coll string, q Query) (int, error)
	// DeleteByQuery deletes the matching documents and returns them.
	DeleteByQuery(ctx context.Context, index, coll string, q Query, opts WriteOptions) ([]Document, error)
	// UpdateByQuery applies changes to the matching documents and returns
	// the updated documents (full sources) and the failures.
	UpdateByQuery(ctx context.Context, index, coll string, q Query, changes map[string]any, opts WriteOptions) (BulkResult, error)

	// Close releases the store's resources. It is idempotent.
	Close() error
}

// DeleteIndexes deletes, one by one through deleteIndex, the indexes among
// names that exist, and returns them: Kuzzle's index:mDelete, which skips
// unknown indexes. It stops at the first other error, returning what it
// deleted so far. Stores implement MDeleteIndexes with it.
func DeleteIndexes(ctx context.Context, names []string, deleteIndex func(context.Context, string) error) ([]string, error) {
	deleted := []string{}
	for _, name := range names {
		err := deleteIndex(ctx, name)
		switch {
		case err == nil:
			deleted = append(deleted, name)
		case IsKind(err, ErrUnknownIndex):
		default:
			return deleted, err
		}
	}
	return deleted, nil
}
