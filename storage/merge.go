package storage

// MergeDocument returns a deep copy of dst with partial merged in, as an
// Elasticsearch partial update does: objects merge recursively, any other
// value (arrays, scalars, null) replaces. Neither argument is modified.
func MergeDocument(dst, partial map[string]any) map[string]any {
	out := CopySource(dst)
	mergeInto(out, partial)
	return out
}

func mergeInto(dst, partial map[string]any) {
	for k, v := range partial {
		pv, ok := v.(map[string]any)
		if !ok {
			dst[k] = copyValue(v)
			continue
		}
		if dv, ok := dst[k].(map[string]any); ok {
			mergeInto(dv, pv)
			continue
		}
		dst[k] = copyValue(pv)
	}
}

// CopySource returns a deep copy of a decoded JSON object.
func CopySource(src map[string]any) map[string]any {
	if src == nil {
		return map[string]any{}
	}
	out := make(map[string]any, len(src))
	for k, v := range src {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return CopySource(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}
