package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// SortField is one sort criterion.
type SortField struct {
	Field string
	Desc  bool
}

// CompileSort parses an Elasticsearch "sort" value: "field", {"field":
// "asc"|"desc"}, {"field": {"order": "asc"|"desc"}}, or an array of those.
// "_score" sorts by score (a no-op for unscored stores), "_id" by id.
func CompileSort(raw json.RawMessage) ([]SortField, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, BadQuery("sort must be a string, an object or an array")
		}
	} else {
		items = []json.RawMessage{raw}
	}
	var out []SortField
	for _, it := range items {
		var name string
		if json.Unmarshal(it, &name) == nil {
			out = append(out, SortField{Field: name, Desc: name == "_score"})
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(it, &obj); err != nil || len(obj) != 1 {
			return nil, BadQuery("each sort criterion must be a field name or an object with one field")
		}
		for f, v := range obj {
			var order string
			if json.Unmarshal(v, &order) != nil {
				var o struct {
					Order string `json:"order"`
				}
				if err := json.Unmarshal(v, &o); err != nil {
					return nil, BadQuery(fmt.Sprintf("invalid sort order for field %q", f))
				}
				order = o.Order
			}
			switch order {
			case "asc", "":
				out = append(out, SortField{Field: f})
			case "desc":
				out = append(out, SortField{Field: f, Desc: true})
			default:
				return nil, BadQuery(fmt.Sprintf("invalid sort order %q for field %q", order, f))
			}
		}
	}
	return out, nil
}

// SortHits sorts hits in place by fields, then by id for a stable order.
// Documents missing a field sort last in both directions, as in
// Elasticsearch; a multi-valued field sorts by its min (asc) or max (desc).
// Sort keys are extracted once per hit, not per comparison.
func SortHits(hits []Hit, fields []SortField) {
	type keyed struct {
		hit  Hit
		keys []any // nil entry: missing
		has  []bool
	}
	ks := make([]keyed, len(hits))
	for i, h := range hits {
		k := keyed{hit: h, keys: make([]any, len(fields)), has: make([]bool, len(fields))}
		for j, f := range fields {
			if f.Field != "_score" {
				k.keys[j], k.has[j] = sortKey(h, f)
			}
		}
		ks[i] = k
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		for j, f := range fields {
			if f.Field == "_score" {
				c := cmpFloat(a.hit.Score, b.hit.Score)
				if f.Desc {
					c = -c
				}
				if c != 0 {
					return c
				}
				continue
			}
			switch {
			case !a.has[j] && !b.has[j]:
				continue
			case !a.has[j]:
				return 1
			case !b.has[j]:
				return -1
			}
			c, ok := compareScalar(a.keys[j], b.keys[j])
			if !ok {
				c = kindRank(a.keys[j]) - kindRank(b.keys[j])
			}
			if f.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmpString(a.hit.ID, b.hit.ID)
	})
	for i, k := range ks {
		hits[i] = k.hit
	}
}

func sortKey(h Hit, f SortField) (any, bool) {
	vals := fieldValues(h.Source, h.ID, f.Field)
	if len(vals) == 0 {
		return nil, false
	}
	best := vals[0]
	for _, v := range vals[1:] {
		c, ok := compareScalar(v, best)
		if ok && ((c < 0 && !f.Desc) || (c > 0 && f.Desc)) {
			best = v
		}
	}
	return best, true
}

func kindRank(v any) int {
	switch v.(type) {
	case bool:
		return 0
	case float64:
		return 1
	}
	return 2
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
