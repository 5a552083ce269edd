package koncorde

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Filter is a validated filter in canonical form: a disjunction of
// AND-groups of conditions, bound to an index and a collection. It is
// immutable and safe to share. It marshals to JSON as
//
//	{"index":"<index>","collection":"<collection>","filter":<normalized DNF>}
//
// and unmarshals back to an equal Filter (same RoomID), so a room can be
// replicated by sending it.
type Filter struct {
	index      string
	collection string
	dnf        [][]*condition
	dnfJSON    []byte // json-stable-stringify of the DNF
	roomID     string
}

// Normalize validates a Koncorde filter and returns its canonical form. An
// invalid filter gives a *DSLError carrying Koncorde's message. An empty
// filter (nil, "null" or {}) matches every document.
func Normalize(cfg Config, index, collection string, filter json.RawMessage) (*Filter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f, err := parseFilterJSON(filter)
	if err != nil {
		return nil, err
	}
	cc := &canonicalizer{maxConditions: cfg.MaxConditions, maxConjunctions: cfg.MaxConjunctions}
	dnf, err := normalizeJSON(f, cc)
	if err != nil {
		return nil, err
	}
	return newFilter(cfg.Seed, index, collection, dnf), nil
}

// Validate checks a filter without normalizing it (Koncorde's validate): it
// does not apply the MaxConditions limit, which Normalize checks.
func Validate(cfg Config, filter json.RawMessage) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	f, err := parseFilterJSON(filter)
	if err != nil {
		return err
	}
	var s standardizer
	_, err = s.standardize(f, "")
	return err
}

func parseFilterJSON(filter json.RawMessage) (*jvalue, error) {
	if len(filter) == 0 {
		return &jvalue{kind: jObject}, nil
	}
	f, err := parseJSON(filter)
	if err != nil {
		return nil, &DSLError{Message: "Invalid filter: " + err.Error()}
	}
	return f, nil
}

func newFilter(seed []byte, index, collection string, dnf [][]*condition) *Filter {
	f := &Filter{index: index, collection: collection, dnf: dnf}
	f.dnfJSON = dnfJSON(dnf)
	f.roomID = hashFilter(seed, f.dnfJSON, koncordeIndex(index, collection))
	return f
}

// koncordeIndex is Kuzzle's toKoncordeIndex.
func koncordeIndex(index, collection string) string { return index + "/" + collection }

func dnfJSON(dnf [][]*condition) []byte {
	b := []byte{'['}
	for i, and := range dnf {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, c := range and {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, c.key...)
		}
		b = append(b, ']')
	}
	return append(b, ']')
}

// hashFilter is Koncorde's id: HMAC-SHA256(seed, stringify({filter, index})).
// The keys "filter" < "index" are already in sorted order.
func hashFilter(seed, dnf []byte, index string) string {
	msg := make([]byte, 0, len(dnf)+len(index)+32)
	msg = append(msg, `{"filter":`...)
	msg = append(msg, dnf...)
	msg = append(msg, `,"index":`...)
	msg = appendJSString(msg, index)
	msg = append(msg, '}')
	return hmacHex(seed, msg)
}

func hmacHex(seed, msg []byte) string {
	mac := hmac.New(sha256.New, seed)
	mac.Write(msg)
	return hex.EncodeToString(mac.Sum(nil))
}

// RoomID is the Kuzzle-compatible room id: 64 lowercase hex characters.
func (f *Filter) RoomID() string { return f.roomID }

// Index is the index the filter is bound to.
func (f *Filter) Index() string { return f.index }

// Collection is the collection the filter is bound to.
func (f *Filter) Collection() string { return f.collection }

// NormalizedJSON returns the canonical form as Koncorde stringifies it for
// hashing (compact, sorted keys), e.g. [[{"equals":{"foo":"bar"},"not":false}]].
func (f *Filter) NormalizedJSON() []byte { return append([]byte(nil), f.dnfJSON...) }

// Match tests one document against this filter alone (reference
// semantics, no index). id is the document _id ("" if none).
func (f *Filter) Match(doc map[string]any, id string) bool {
	d := docView{m: doc, id: id}
	return evalDNF(f.dnf, &d)
}

type filterWire struct {
	Index      string          `json:"index"`
	Collection string          `json:"collection"`
	Filter     json.RawMessage `json:"filter"`
}

// MarshalJSON encodes the filter for replication.
func (f *Filter) MarshalJSON() ([]byte, error) {
	return json.Marshal(filterWire{Index: f.index, Collection: f.collection, Filter: f.dnfJSON})
}

// ErrInvalidNormalized is returned (wrapped) when unmarshaling a Filter whose
// normalized form is malformed.
var ErrInvalidNormalized = errors.New("koncorde: invalid normalized filter")

// UnmarshalJSON decodes a filter encoded by MarshalJSON. The room id is
// computed with Kuzzle's seed; use UnmarshalFilter for another seed.
func (f *Filter) UnmarshalJSON(data []byte) error {
	g, err := UnmarshalFilter(DefaultConfig(), data)
	if err != nil {
		return err
	}
	*f = *g
	return nil
}

// UnmarshalFilter decodes a filter encoded by MarshalJSON, hashing its room
// id with cfg's seed.
func UnmarshalFilter(cfg Config, data []byte) (*Filter, error) {
	cfg = cfg.withDefaults()
	var w filterWire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidNormalized, err)
	}
	v, err := parseJSON(w.Filter)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidNormalized, err)
	}
	if !v.isArray() || len(v.arr) == 0 {
		return nil, fmt.Errorf("%w: expected a non-empty array of arrays", ErrInvalidNormalized)
	}
	cc := &canonicalizer{maxConditions: cfg.MaxConditions, maxConjunctions: cfg.MaxConjunctions}
	raw := make([][]rawLiteral, len(v.arr))
	for i, and := range v.arr {
		if !and.isArray() || len(and.arr) == 0 {
			return nil, fmt.Errorf("%w: expected a non-empty array of conditions", ErrInvalidNormalized)
		}
		for _, c := range and.arr {
			l, err := rawFromJSON(c)
			if err != nil {
				return nil, err
			}
			raw[i] = append(raw[i], l)
		}
	}
	dnf, err := compileDNF(raw, cc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidNormalized, err)
	}
	return newFilter(cfg.Seed, w.Index, w.Collection, dnf), nil
}

func rawFromJSON(c *jvalue) (rawLiteral, error) {
	if !c.isObject() {
		return rawLiteral{}, fmt.Errorf("%w: condition is not an object", ErrInvalidNormalized)
	}
	var l rawLiteral
	for i, k := range c.keys {
		if k == "not" {
			if c.vals[i].kind != jBool {
				return rawLiteral{}, fmt.Errorf("%w: \"not\" must be a boolean", ErrInvalidNormalized)
			}
			l.not, l.hasNot = c.vals[i].b, true
			continue
		}
		if l.kw != "" {
			return rawLiteral{}, fmt.Errorf("%w: condition has two keywords", ErrInvalidNormalized)
		}
		l.kw, l.value = k, c.vals[i]
	}
	if l.kw == "" {
		return rawLiteral{}, fmt.Errorf("%w: condition has no keyword", ErrInvalidNormalized)
	}
	if l.kw == "exists" {
		// Rebuild the NormalizedExists marker.
		p, a := l.value.get("path"), l.value.get("array")
		if p != nil && p.kind == jString && a != nil && a.kind == jBool {
			ne := &normExists{path: p.s, array: a.b}
			if a.b {
				ne.value = l.value.get("value")
			}
			l.value.exists = ne
		}
	}
	return l, nil
}

// docView reads a document with Koncorde's flattening rules: "a.b.c" names
// the nested field, a literal key containing dots is found too, arrays are
// not descended. "_id" is the document id when one is given.
type docView struct {
	m  map[string]any
	id string
}

func (d *docView) get(path string) (any, bool) {
	if d.id != "" && path == "_id" {
		return d.id, true
	}
	return lookupPath(d.m, path)
}

func lookupPath(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		if sub, ok := m[path[:i]].(map[string]any); ok {
			if v, ok := lookupPath(sub, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}
