package storage

import (
	"encoding/json"
	"fmt"
	"strings"
)

// TranslateKoncorde turns a Koncorde filter into an Elasticsearch query, the
// way Kuzzle runs document searches with lang=koncorde (Kuzzle's storage
// query translator): equals → term, in → terms, range → range, exists →
// exists (with the "path[value]" form → exists + range on that value),
// missing → bool.must_not exists, ids → ids, and → bool.filter, or →
// bool.should, not → bool.must_not, geo* → geo_*. Other clauses pass
// through unchanged. The "bool" operator is refused with
// api.assert.koncorde_restricted_keyword, as Kuzzle does. An empty filter
// translates to an empty query (match everything).
func TranslateKoncorde(filter json.RawMessage) (json.RawMessage, error) {
	if IsEmptyJSON(filter) {
		return nil, nil
	}
	var f any
	if err := json.Unmarshal(filter, &f); err != nil {
		return nil, koncordeDSL("the filter must be a JSON object")
	}
	out, err := translateKoncorde(f)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("storage: encode translated filter: %w", err)
	}
	return b, nil
}

func koncordeDSL(msg string) *Error {
	return &Error{ID: "api.assert.koncorde_dsl_error", Props: []string{msg}, Kind: ErrBadQuery}
}

func restrictedKeyword(kind, name string) *Error {
	return &Error{ID: "api.assert.koncorde_restricted_keyword", Props: []string{kind, name}, Kind: ErrBadQuery}
}

func translateKoncorde(f any) (map[string]any, error) {
	obj, ok := f.(map[string]any)
	if !ok || len(obj) != 1 {
		return nil, koncordeDSL("filters must be objects with exactly one keyword")
	}
	for name, v := range obj {
		switch name {
		case "and", "or":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return nil, koncordeDSL(fmt.Sprintf("%q: must be a non-empty array", name))
			}
			ops := make([]any, len(list))
			for i, e := range list {
				t, err := translateKoncorde(e)
				if err != nil {
					return nil, err
				}
				ops[i] = t
			}
			if name == "and" {
				return map[string]any{"bool": map[string]any{"filter": ops}}, nil
			}
			return map[string]any{"bool": map[string]any{"should": ops}}, nil
		case "not":
			t, err := translateKoncorde(v)
			if err != nil {
				return nil, err
			}
			return map[string]any{"bool": map[string]any{"must_not": []any{t}}}, nil
		case "bool":
			return nil, restrictedKeyword("operator", "bool")
		case "equals":
			if err := oneField(name, v, isScalar); err != nil {
				return nil, err
			}
			return map[string]any{"term": v}, nil
		case "in":
			if err := oneField(name, v, func(x any) bool {
				arr, ok := x.([]any)
				return ok && len(arr) > 0
			}); err != nil {
				return nil, err
			}
			return map[string]any{"terms": v}, nil
		case "range":
			if err := oneField(name, v, func(x any) bool { _, ok := x.(map[string]any); return ok }); err != nil {
				return nil, err
			}
			return map[string]any{"range": v}, nil
		case "ids":
			m, ok := v.(map[string]any)
			if _, isArr := m["values"].([]any); !ok || !isArr {
				return nil, koncordeDSL(`"ids": must be an object with a "values" array`)
			}
			return map[string]any{"ids": v}, nil
		case "exists", "missing":
			field, ok := v.(string)
			if m, isObj := v.(map[string]any); isObj {
				field, ok = m["field"].(string)
			}
			if !ok || field == "" {
				return nil, koncordeDSL(fmt.Sprintf("%q: must be a non-empty string", name))
			}
			if name == "missing" {
				return map[string]any{"bool": map[string]any{"must_not": []any{map[string]any{"exists": map[string]any{"field": field}}}}}, nil
			}
			return translateExists(field)
		case "geoBoundingBox", "geoDistance", "geoDistanceRange", "geoPolygon":
			return map[string]any{geoName(name): v}, nil
		default:
			return map[string]any{name: v}, nil
		}
	}
	panic("unreachable")
}

func oneField(kw string, v any, ok func(any) bool) error {
	m, isObj := v.(map[string]any)
	if !isObj || len(m) != 1 {
		return koncordeDSL(fmt.Sprintf("%q: must be an object with exactly one field", kw))
	}
	for _, x := range m {
		if !ok(x) {
			return koncordeDSL(fmt.Sprintf("%q: invalid value", kw))
		}
	}
	return nil
}

// translateExists handles "path" and "path[json value]".
func translateExists(field string) (map[string]any, error) {
	open := strings.IndexByte(field, '[')
	if open < 0 {
		return map[string]any{"exists": map[string]any{"field": field}}, nil
	}
	end := strings.LastIndexByte(field, ']')
	if end < open {
		return nil, koncordeDSL(fmt.Sprintf("Invalid exists path %q: missing closing bracket", field))
	}
	var val any
	if err := json.Unmarshal([]byte(field[open+1:end]), &val); err != nil {
		return nil, koncordeDSL(fmt.Sprintf("Invalid exists path %q: bad value", field))
	}
	path := field[:open]
	return map[string]any{"bool": map[string]any{"filter": []any{
		map[string]any{"exists": map[string]any{"field": path}},
		map[string]any{"range": map[string]any{path: map[string]any{"gte": val, "lte": val}}},
	}}}, nil
}

func geoName(k string) string {
	switch k {
	case "geoBoundingBox":
		return "geo_bounding_box"
	case "geoDistance":
		return "geo_distance"
	case "geoDistanceRange":
		return "geo_distance_range"
	}
	return "geo_polygon"
}
