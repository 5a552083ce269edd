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
func SortHits(hits []Hit, fields []SortField) {
	slices.SortStableFunc(hits, func(a, b Hit) int {
		for _, f := range fields {
			if f.Field == "_score" {
				c := cmpFloat(a.Score, b.Score)
				if f.Desc {
					c = -c
				}
				if c != 0 {
					return c
				}
				continue
			}
			va, oka := sortKey(a, f)
			vb, okb := sortKey(b, f)
			switch {
			case !oka && !okb:
				continue
			case !oka:
				return 1
			case !okb:
				return -1
			}
			c, ok := compareScalar(va, vb)
			if !ok {
				c = kindRank(va) - kindRank(vb)
			}
			if f.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmpString(a.ID, b.ID)
	})
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
