package redisstore

// keys builds the store's key names (see the package doc).
type keys struct{ prefix string }

func (k keys) indexes() string { return "{" + k.prefix + ":meta}:indexes" }

func (k keys) colls(index string) string { return "{" + k.prefix + ":meta}:colls:" + index }

// coll returns the marker, sources and versions keys of a collection, in the
// order the Lua scripts take them.
func (k keys) coll(index, coll string) []string {
	tag := "{" + k.prefix + ":c:" + index + ":" + coll + "}"
	return []string{tag + ":m", tag + ":d", tag + ":v"}
}

// scroll returns the ids list and the cursor hash of a scroll cursor.
func (k keys) scroll(id string) []string {
	tag := "{" + k.prefix + ":s:" + id + "}"
	return []string{tag + ":ids", tag + ":h"}
}
