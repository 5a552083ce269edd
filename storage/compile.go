package storage

// Compile compiles the query of a search, count or *ByQuery action for a
// store that evaluates queries itself: the Elasticsearch subset, or a
// Koncorde filter when q.Lang is LangKoncorde, translated to that subset as
// Kuzzle translates it for Elasticsearch (TranslateKoncorde).
func Compile(index, coll string, q Query) (Matcher, error) {
	switch q.Lang {
	case "", LangElasticsearch:
		return CompileQuery(q.Body)
	case LangKoncorde:
		es, err := TranslateKoncorde(q.Body)
		if err != nil {
			return nil, err
		}
		return CompileQuery(es)
	default:
		return nil, InvalidArgument("lang", "\"elasticsearch\" or \"koncorde\"")
	}
}
