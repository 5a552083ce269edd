package storage

import (
	"errors"
	"strings"
)

// Sentinel errors. Store methods return them inside an *Error that carries
// the Kuzzle error id; test with errors.Is.
var (
	// ErrDocumentNotFound is returned when a document does not exist
	// (services.storage.not_found).
	ErrDocumentNotFound = errors.New("storage: document not found")
	// ErrDocumentAlreadyExists is returned when creating a document whose
	// id is taken (services.storage.document_already_exists).
	ErrDocumentAlreadyExists = errors.New("storage: document already exists")
	// ErrUnknownIndex is returned when an index does not exist
	// (services.storage.unknown_index).
	ErrUnknownIndex = errors.New("storage: unknown index")
	// ErrUnknownCollection is returned when a collection does not exist
	// (services.storage.unknown_collection).
	ErrUnknownCollection = errors.New("storage: unknown collection")
	// ErrIndexAlreadyExists is returned when creating an existing index
	// (services.storage.index_already_exists).
	ErrIndexAlreadyExists = errors.New("storage: index already exists")
	// ErrUnknownScrollID is returned for an expired or unknown scroll
	// cursor (services.storage.unknown_scroll_id).
	ErrUnknownScrollID = errors.New("storage: unknown scroll id")
	// ErrTooManyChanges is returned when an update keeps conflicting with
	// concurrent writes after its retries (services.storage.too_many_changes).
	ErrTooManyChanges = errors.New("storage: too many changes")
	// ErrInvalidName is returned for an invalid index or collection name
	// (services.storage.invalid_index_name / invalid_collection_name).
	ErrInvalidName = errors.New("storage: invalid name")
	// ErrBadQuery is returned for a query the store cannot run
	// (services.storage.unknown_query_keyword, invalid_search_query,
	// unexpected_bad_request, or api.assert.koncorde_dsl_error).
	ErrBadQuery = errors.New("storage: bad query")
	// ErrInvalidArgument is returned for a malformed argument such as a
	// mapping or a document id (services.storage.invalid_argument,
	// invalid_mapping).
	ErrInvalidArgument = errors.New("storage: invalid argument")
	// ErrUnexpected wraps an error the backend reported that has no better
	// mapping (services.storage.unexpected_error).
	ErrUnexpected = errors.New("storage: unexpected backend error")
)

// Error is a storage error a client may see. ID is the Kuzzle error id
// (e.g. "services.storage.not_found") and Props the values of its message
// placeholders, in Kuzzle's order, so the API layer renders Kuzzle's exact
// message from its catalogue.
type Error struct {
	ID    string
	Props []string
	// Kind is the sentinel that errors.Is matches.
	Kind error
	// Err is the underlying cause, if any.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.ID)
	if len(e.Props) > 0 {
		b.WriteString(" [")
		b.WriteString(strings.Join(e.Props, ", "))
		b.WriteString("]")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is reports whether target is e's Kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// NotFound is services.storage.not_found for one document.
func NotFound(index, coll, id string) *Error {
	return &Error{ID: "services.storage.not_found", Props: []string{id, index, coll}, Kind: ErrDocumentNotFound}
}

// AlreadyExists is services.storage.document_already_exists.
func AlreadyExists(index, coll, id string) *Error {
	// Kuzzle's message has no placeholder; the props are informative.
	return &Error{ID: "services.storage.document_already_exists", Kind: ErrDocumentAlreadyExists}
}

// UnknownIndex is services.storage.unknown_index.
func UnknownIndex(index string) *Error {
	return &Error{ID: "services.storage.unknown_index", Props: []string{index}, Kind: ErrUnknownIndex}
}

// UnknownCollection is services.storage.unknown_collection.
func UnknownCollection(index, coll string) *Error {
	return &Error{ID: "services.storage.unknown_collection", Props: []string{index, coll}, Kind: ErrUnknownCollection}
}

// IndexAlreadyExists is services.storage.index_already_exists. Kuzzle's
// message is "A %s index named \"%s\" already exists" with the scope
// ("public") and the name.
func IndexAlreadyExists(index string) *Error {
	return &Error{ID: "services.storage.index_already_exists", Props: []string{"public", index}, Kind: ErrIndexAlreadyExists}
}

// UnknownScrollID is services.storage.unknown_scroll_id.
func UnknownScrollID() *Error {
	return &Error{ID: "services.storage.unknown_scroll_id", Kind: ErrUnknownScrollID}
}

// TooManyChanges is services.storage.too_many_changes.
func TooManyChanges(id string) *Error {
	return &Error{ID: "services.storage.too_many_changes", Props: []string{id}, Kind: ErrTooManyChanges}
}

// InvalidIndexName is services.storage.invalid_index_name.
func InvalidIndexName(index string) *Error {
	return &Error{ID: "services.storage.invalid_index_name", Props: []string{index}, Kind: ErrInvalidName}
}

// InvalidCollectionName is services.storage.invalid_collection_name.
func InvalidCollectionName(coll string) *Error {
	return &Error{ID: "services.storage.invalid_collection_name", Props: []string{coll}, Kind: ErrInvalidName}
}

// UnknownQueryKeyword is services.storage.unknown_query_keyword.
func UnknownQueryKeyword(keyword string) *Error {
	return &Error{ID: "services.storage.unknown_query_keyword", Props: []string{keyword}, Kind: ErrBadQuery}
}

// BadQuery is services.storage.unexpected_bad_request with a message.
func BadQuery(msg string) *Error {
	return &Error{ID: "services.storage.unexpected_bad_request", Props: []string{msg}, Kind: ErrBadQuery}
}

// InvalidArgument is services.storage.invalid_argument ("Argument %s is
// invalid (expected: %s)").
func InvalidArgument(arg, expected string) *Error {
	return &Error{ID: "services.storage.invalid_argument", Props: []string{arg, expected}, Kind: ErrInvalidArgument}
}

// InvalidMapping is services.storage.invalid_mapping.
func InvalidMapping(path, detail string) *Error {
	return &Error{ID: "services.storage.invalid_mapping", Props: []string{path, detail}, Kind: ErrInvalidArgument}
}

// Unexpected is services.storage.unexpected_error wrapping cause.
func Unexpected(cause error) *Error {
	return &Error{ID: "services.storage.unexpected_error", Props: []string{cause.Error()}, Kind: ErrUnexpected, Err: cause}
}

// IsKind reports whether err is an *Error of the given kind. It is
// errors.Is restricted to storage errors, handy in bulk loops.
func IsKind(err, kind error) bool {
	var se *Error
	return errors.As(err, &se) && se.Kind == kind
}
