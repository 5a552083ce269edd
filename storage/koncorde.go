package storage

import "encoding/json"

// compileKoncorde compiles a Koncorde filter. The filter engine has not
// landed yet: until it does, lang=koncorde searches are refused.
func compileKoncorde(index, coll string, filter json.RawMessage) (Matcher, error) {
	return nil, BadQuery("lang=koncorde is not available yet")
}
