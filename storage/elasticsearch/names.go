package elasticsearch

import (
	"net/url"
	"strings"

	"github.com/streamcluster/streamcluster/storage"
)

// Kuzzle's naming (public scope only).
const (
	aliasPrefix = "@"
	publicScope = "&"
	separator   = "."
)

// indice is the concrete Elasticsearch index of a collection.
func indice(index, coll string) string { return publicScope + index + separator + coll }

// alias is the alias Kuzzle reads and writes a collection through.
func alias(index, coll string) string { return aliasPrefix + indice(index, coll) }

// aliasPattern matches the aliases of every collection of an index,
// hidden one included. It is already escaped for a URL path.
func aliasPattern(index string) string {
	return url.PathEscape(aliasPrefix+publicScope+index+separator) + "*"
}

// allAliases matches every public Kuzzle alias, escaped for a URL path.
func allAliases() string { return url.PathEscape(aliasPrefix+publicScope) + "*" }

// splitAlias returns the index and collection of a public alias or indice
// name ("@&i.c" or "&i.c").
func splitAlias(name string) (index, coll string, ok bool) {
	name = strings.TrimPrefix(name, aliasPrefix)
	rest, ok := strings.CutPrefix(name, publicScope)
	if !ok {
		return "", "", false
	}
	index, coll, ok = strings.Cut(rest, separator)
	return index, coll, ok
}

// path joins escaped path segments.
func path(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// hidden is the collection that keeps an empty index alive.
const hidden = storage.HiddenCollection
