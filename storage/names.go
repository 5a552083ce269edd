package storage

import "strings"

// HiddenCollection is the collection name Kuzzle reserves for internal use
// (it keeps empty indexes alive in Elasticsearch).
const HiddenCollection = "_kuzzle_keep"

// forbiddenNameChars are the characters Kuzzle refuses in index and
// collection names.
const forbiddenNameChars = "\\/*?\"<>| \t\r\n,+#:.&%"

// maxNameBytes is Kuzzle's limit on the byte length of a name.
const maxNameBytes = 126

func validName(name string) bool {
	return name != "" &&
		strings.ToLower(name) == name &&
		len(name) <= maxNameBytes &&
		name != "_all" &&
		!strings.ContainsAny(name, forbiddenNameChars)
}

// ValidateIndexName returns services.storage.invalid_index_name for a name
// Kuzzle refuses.
func ValidateIndexName(index string) error {
	if !validName(index) {
		return InvalidIndexName(index)
	}
	return nil
}

// ValidateCollectionName returns services.storage.invalid_collection_name
// for a name Kuzzle refuses, and services.storage.collection_reserved for
// HiddenCollection.
func ValidateCollectionName(coll string) error {
	if !validName(coll) {
		return InvalidCollectionName(coll)
	}
	if coll == HiddenCollection {
		return &Error{ID: "services.storage.collection_reserved", Props: []string{coll}, Kind: ErrInvalidName}
	}
	return nil
}
