package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Matcher tells whether a document matches a compiled query. It is pure and
// safe for concurrent use.
type Matcher interface {
	Match(id string, src map[string]any) bool
}

// MatchFunc adapts a function to Matcher.
type MatchFunc func(id string, src map[string]any) bool

// Match implements Matcher.
func (f MatchFunc) Match(id string, src map[string]any) bool { return f(id, src) }

// matchAll matches every document.
var matchAll = MatchFunc(func(string, map[string]any) bool { return true })

// IsEmptyJSON reports whether raw is absent, null or an empty object: a
// query that matches everything.
func IsEmptyJSON(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return true
	}
	var m map[string]json.RawMessage
	return json.Unmarshal(t, &m) == nil && len(m) == 0
}

// CompileQuery compiles the Elasticsearch query subset described in the
// package doc. An empty query matches every document. Errors are *Error
// with Kind ErrBadQuery.
func CompileQuery(raw json.RawMessage) (Matcher, error) {
	if IsEmptyJSON(raw) {
		return matchAll, nil
	}
	var clause map[string]json.RawMessage
	if err := json.Unmarshal(raw, &clause); err != nil {
		return nil, BadQuery("the query must be an object")
	}
	return compileClause(clause)
}

func compileClause(clause map[string]json.RawMessage) (Matcher, error) {
	if len(clause) != 1 {
		return nil, BadQuery(fmt.Sprintf("a query clause must have exactly one keyword, got %d", len(clause)))
	}
	for kw, body := range clause {
		switch kw {
		case "match_all":
			return matchAll, nil
		case "term":
			return compileTerm(body)
		case "terms":
			return compileTerms(body)
		case "range":
			return compileRange(body)
		case "exists":
			return compileExists(body)
		case "ids":
			return compileIDs(body)
		case "bool":
			return compileBool(body)
		case "match":
			return compileMatch(body)
		case "geo_distance":
			return compileGeoDistance(body)
		case "geo_bounding_box":
			return compileGeoBoundingBox(body)
		default:
			return nil, UnknownQueryKeyword(kw)
		}
	}
	panic("unreachable")
}

// singleField decodes {"field": value} with exactly one field.
func singleField(kw string, body json.RawMessage) (string, json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || len(m) != 1 {
		return "", nil, BadQuery(fmt.Sprintf("[%s] query must be an object with exactly one field", kw))
	}
	for f, v := range m {
		return f, v, nil
	}
	panic("unreachable")
}

func decodeValue(raw json.RawMessage) (any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

func compileTerm(body json.RawMessage) (Matcher, error) {
	field, raw, err := singleField("term", body)
	if err != nil {
		return nil, err
	}
	v, err := decodeValue(raw)
	if err != nil {
		return nil, BadQuery("[term] invalid value")
	}
	if obj, ok := v.(map[string]any); ok {
		val, ok := obj["value"]
		if !ok {
			return nil, BadQuery("[term] query does not support an object without \"value\"")
		}
		v = val
	}
	if !isScalar(v) {
		return nil, BadQuery("[term] value must be a string, number or boolean")
	}
	return MatchFunc(func(id string, src map[string]any) bool {
		return slices.ContainsFunc(fieldValues(src, id, field), func(x any) bool { return equalScalar(x, v) })
	}), nil
}

// compileMatch approximates Elasticsearch's match query on text analysed
// by the standard analyzer: the query and the field's strings are split
// into lowercased runs of letters and digits; a document matches when one
// query token (operator "or", the default) or every token ("and") is among
// the field's tokens. Numbers and booleans compare for equality.
func compileMatch(body json.RawMessage) (Matcher, error) {
	field, raw, err := singleField("match", body)
	if err != nil {
		return nil, err
	}
	v, err := decodeValue(raw)
	if err != nil {
		return nil, BadQuery("[match] invalid value")
	}
	and := false
	if obj, ok := v.(map[string]any); ok {
		q, ok := obj["query"]
		if !ok {
			return nil, BadQuery("[match] query does not support an object without \"query\"")
		}
		switch op := obj["operator"].(type) {
		case nil:
		case string:
			switch strings.ToLower(op) {
			case "and":
				and = true
			case "or":
			default:
				return nil, BadQuery(fmt.Sprintf("[match] unknown operator %q", op))
			}
		default:
			return nil, BadQuery("[match] operator must be a string")
		}
		v = q
	}
	q, ok := v.(string)
	if !ok {
		if !isScalar(v) {
			return nil, BadQuery("[match] value must be a string, number or boolean")
		}
		return MatchFunc(func(id string, src map[string]any) bool {
			return slices.ContainsFunc(fieldValues(src, id, field), func(x any) bool { return equalScalar(x, v) })
		}), nil
	}
	want := tokens(q)
	return MatchFunc(func(id string, src map[string]any) bool {
		if len(want) == 0 {
			return false
		}
		have := map[string]bool{}
		for _, x := range fieldValues(src, id, field) {
			switch y := x.(type) {
			case string:
				for _, tok := range tokens(y) {
					have[tok] = true
				}
			case float64, bool:
				have[fmt.Sprint(y)] = true
			}
		}
		n := 0
		for _, tok := range want {
			if have[tok] {
				n++
			}
		}
		if and {
			return n == len(want)
		}
		return n > 0
	}), nil
}

// tokens splits s into lowercased runs of letters and digits.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func compileTerms(body json.RawMessage) (Matcher, error) {
	field, raw, err := singleField("terms", body)
	if err != nil {
		return nil, err
	}
	var vals []any
	if err := json.Unmarshal(raw, &vals); err != nil {
		return nil, BadQuery("[terms] query requires an array of values")
	}
	for _, v := range vals {
		if !isScalar(v) {
			return nil, BadQuery("[terms] values must be strings, numbers or booleans")
		}
	}
	return MatchFunc(func(id string, src map[string]any) bool {
		for _, x := range fieldValues(src, id, field) {
			for _, v := range vals {
				if equalScalar(x, v) {
					return true
				}
			}
		}
		return false
	}), nil
}

func compileRange(body json.RawMessage) (Matcher, error) {
	field, raw, err := singleField("range", body)
	if err != nil {
		return nil, err
	}
	var bounds map[string]any
	if err := json.Unmarshal(raw, &bounds); err != nil || len(bounds) == 0 {
		return nil, BadQuery("[range] query requires an object of bounds")
	}
	type bound struct {
		op string
		v  any
	}
	var bs []bound
	for op, v := range bounds {
		switch op {
		case "gt", "gte", "lt", "lte":
			if _, ok := v.(float64); !ok {
				if _, ok := v.(string); !ok {
					return nil, BadQuery(fmt.Sprintf("[range] bound %q must be a number or a string", op))
				}
			}
			bs = append(bs, bound{op, v})
		case "format", "time_zone", "boost":
			// accepted and ignored: values compare as numbers or strings
		default:
			return nil, BadQuery(fmt.Sprintf("[range] query does not support [%s]", op))
		}
	}
	return MatchFunc(func(id string, src map[string]any) bool {
	values:
		for _, x := range fieldValues(src, id, field) {
			for _, b := range bs {
				c, ok := compareScalar(x, b.v)
				if !ok {
					continue values
				}
				switch {
				case b.op == "gt" && c <= 0, b.op == "gte" && c < 0,
					b.op == "lt" && c >= 0, b.op == "lte" && c > 0:
					continue values
				}
			}
			return true
		}
		return false
	}), nil
}

func compileExists(body json.RawMessage) (Matcher, error) {
	var e struct {
		Field *string `json:"field"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Field == nil || *e.Field == "" {
		return nil, BadQuery("[exists] query requires a \"field\" string")
	}
	field := *e.Field
	return MatchFunc(func(id string, src map[string]any) bool {
		return len(fieldValues(src, id, field)) > 0
	}), nil
}

func compileIDs(body json.RawMessage) (Matcher, error) {
	var e struct {
		Values []string `json:"values"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, BadQuery("[ids] query requires \"values\", an array of strings")
	}
	return MatchFunc(func(id string, _ map[string]any) bool {
		return slices.Contains(e.Values, id)
	}), nil
}

func compileBool(body json.RawMessage) (Matcher, error) {
	var b map[string]json.RawMessage
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, BadQuery("[bool] query must be an object")
	}
	var must, should, mustNot []Matcher
	minShould := -1
	for k, v := range b {
		var err error
		switch k {
		case "must", "filter":
			var ms []Matcher
			ms, err = compileClauses(k, v)
			must = append(must, ms...)
		case "should":
			should, err = compileClauses(k, v)
		case "must_not":
			mustNot, err = compileClauses(k, v)
		case "minimum_should_match":
			if e := json.Unmarshal(v, &minShould); e != nil || minShould < 0 {
				err = BadQuery("[bool] minimum_should_match must be a non-negative integer")
			}
		case "boost":
		default:
			err = BadQuery(fmt.Sprintf("[bool] query does not support [%s]", k))
		}
		if err != nil {
			return nil, err
		}
	}
	if minShould < 0 {
		minShould = 0
		if len(should) > 0 && len(must) == 0 {
			minShould = 1
		}
	}
	return MatchFunc(func(id string, src map[string]any) bool {
		for _, m := range must {
			if !m.Match(id, src) {
				return false
			}
		}
		for _, m := range mustNot {
			if m.Match(id, src) {
				return false
			}
		}
		n := 0
		for _, m := range should {
			if n >= minShould {
				break
			}
			if m.Match(id, src) {
				n++
			}
		}
		return n >= minShould
	}), nil
}

// compileClauses compiles a bool occurrence: one clause or an array.
func compileClauses(kw string, raw json.RawMessage) ([]Matcher, error) {
	raw = bytes.TrimSpace(raw)
	var list []map[string]json.RawMessage
	if len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, BadQuery(fmt.Sprintf("[bool] [%s] must be a query or an array of queries", kw))
		}
	} else {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, BadQuery(fmt.Sprintf("[bool] [%s] must be a query or an array of queries", kw))
		}
		list = append(list, one)
	}
	out := make([]Matcher, 0, len(list))
	for _, c := range list {
		m, err := compileClause(c)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// fieldValues returns the scalar values at a dotted path, flattening arrays
// the way Elasticsearch indexes them. "_id" is the document id. Nulls are
// skipped, so an absent field and a null one both yield nothing.
func fieldValues(src map[string]any, id, path string) []any {
	if path == "_id" {
		return []any{id}
	}
	var out []any
	collect(src, strings.Split(path, "."), &out)
	return out
}

func collect(v any, parts []string, out *[]any) {
	switch x := v.(type) {
	case nil:
		return
	case []any:
		for _, e := range x {
			collect(e, parts, out)
		}
		return
	case map[string]any:
		if len(parts) == 0 {
			return // an object is not a leaf value
		}
		collect(x[parts[0]], parts[1:], out)
		return
	}
	if len(parts) == 0 {
		*out = append(*out, v)
	}
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, float64, bool:
		return true
	}
	return false
}

func equalScalar(a, b any) bool {
	c, ok := compareScalar(a, b)
	return ok && c == 0
}

// compareScalar orders two scalars of the same kind (numbers, strings,
// booleans with false < true). ok is false for different kinds.
func compareScalar(a, b any) (int, bool) {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	}
	return 0, false
}
