package koncorde

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jkind is the JavaScript type of a parsed JSON value.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// jvalue is a JSON value that keeps the property order JavaScript gives an
// object parsed by JSON.parse: integer-like keys first in ascending order,
// then the other keys in insertion order. Koncorde's validation reports the
// first offending property in that order, so the order is part of its
// observable behaviour.
type jvalue struct {
	kind jkind
	b    bool
	n    float64
	s    string
	arr  []*jvalue
	keys []string
	vals []*jvalue

	// leaf mirrors the non-enumerable _isLeaf property Koncorde's
	// standardizer sets on and/or groups: 0 unset, 1 true, 2 false.
	leaf uint8
	// exists is set on the value of a standardized exists/missing keyword
	// (Koncorde's NormalizedExists instance).
	exists *normExists
}

type normExists struct {
	path  string
	array bool
	value *jvalue // nil when array is false (JSON null)
}

const maxJSONDepth = 256

var errTooDeep = errors.New("koncorde: JSON nested too deeply")

// parseJSON decodes one JSON document into a jvalue.
func parseJSON(data []byte) (*jvalue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("koncorde: trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (*jvalue, error) {
	if depth > maxJSONDepth {
		return nil, errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jvalue{kind: jNull}, nil
	case bool:
		return &jvalue{kind: jBool, b: t}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, err
		}
		return &jvalue{kind: jNumber, n: f}, nil
	case string:
		return &jvalue{kind: jString, s: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := &jvalue{kind: jArray, arr: []*jvalue{}}
			for dec.More() {
				e, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		case '{':
			v := &jvalue{kind: jObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("koncorde: invalid object key")
				}
				e, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.set(k, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			v.sortJSKeys()
			return v, nil
		}
	}
	return nil, fmt.Errorf("koncorde: unexpected JSON token %v", tok)
}

// set adds or replaces a property, keeping the position of the first
// occurrence (JSON.parse semantics for duplicate keys).
func (v *jvalue) set(k string, e *jvalue) {
	for i, kk := range v.keys {
		if kk == k {
			v.vals[i] = e
			return
		}
	}
	v.keys = append(v.keys, k)
	v.vals = append(v.vals, e)
}

// get returns a property, or nil.
func (v *jvalue) get(k string) *jvalue {
	if v == nil || v.kind != jObject {
		return nil
	}
	for i, kk := range v.keys {
		if kk == k {
			return v.vals[i]
		}
	}
	return nil
}

func (v *jvalue) isObject() bool { return v != nil && v.kind == jObject }
func (v *jvalue) isArray() bool  { return v != nil && v.kind == jArray }

// truthy is JavaScript's ToBoolean.
func (v *jvalue) truthy() bool {
	if v == nil {
		return false
	}
	switch v.kind {
	case jNull:
		return false
	case jBool:
		return v.b
	case jNumber:
		return v.n != 0 && !math.IsNaN(v.n)
	case jString:
		return v.s != ""
	}
	return true
}

// arrayIndexKey reports whether k is a canonical array index ("0".."4294967294").
func arrayIndexKey(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	if err != nil || n >= 4294967295 {
		return 0, false
	}
	return n, true
}

func (v *jvalue) sortJSKeys() {
	type kv struct {
		k   string
		v   *jvalue
		idx uint64
		int bool
	}
	hasInt := false
	for _, k := range v.keys {
		if _, ok := arrayIndexKey(k); ok {
			hasInt = true
			break
		}
	}
	if !hasInt {
		return
	}
	all := make([]kv, len(v.keys))
	for i, k := range v.keys {
		n, ok := arrayIndexKey(k)
		all[i] = kv{k: k, v: v.vals[i], idx: n, int: ok}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.int != b.int {
			return a.int
		}
		if a.int {
			return a.idx < b.idx
		}
		return false
	})
	for i := range all {
		v.keys[i] = all[i].k
		v.vals[i] = all[i].v
	}
}

// stableJSON appends json-stable-stringify's output for v: compact JSON,
// object keys sorted by UTF-16 code units, JSON.stringify's escaping and
// number formatting.
func (v *jvalue) stableJSON(b []byte) []byte {
	switch v.kind {
	case jNull:
		return append(b, "null"...)
	case jBool:
		if v.b {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case jNumber:
		return appendJSNumber(b, v.n)
	case jString:
		return appendJSString(b, v.s)
	case jArray:
		b = append(b, '[')
		for i, e := range v.arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.stableJSON(b)
		}
		return append(b, ']')
	}
	idx := make([]int, len(v.keys))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return utf16Less(v.keys[idx[i]], v.keys[idx[j]]) })
	b = append(b, '{')
	for n, i := range idx {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendJSString(b, v.keys[i])
		b = append(b, ':')
		b = v.vals[i].stableJSON(b)
	}
	return append(b, '}')
}

// utf16Less compares strings the way JavaScript's default sort does.
func utf16Less(a, b string) bool {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := utf16Units(ra), utf16Units(rb)
			if ua[0] != ub[0] {
				return ua[0] < ub[0]
			}
			return ua[1] < ub[1]
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) < len(b) && a == ""
}

func utf16Units(r rune) [2]uint16 {
	if r >= 0x10000 {
		r1, r2 := utf16.EncodeRune(r)
		return [2]uint16{uint16(r1), uint16(r2)}
	}
	return [2]uint16{uint16(r), 0}
}

// appendJSNumber formats f as JavaScript's Number.prototype.toString (and
// JSON.stringify: non-finite numbers become null).
func appendJSNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if f == 0 {
		return append(b, '0')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		n := len(b)
		if n-start >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func jsNumberString(f float64) string { return string(appendJSNumber(nil, f)) }

const hexDigits = "0123456789abcdef"

// appendJSString quotes s like JSON.stringify.
func appendJSString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b = append(b, '\\', '"')
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// jsString is JSON.stringify of a jvalue, as Koncorde's error messages use it
// (insertion order, not sorted).
func (v *jvalue) jsString() string {
	var sb strings.Builder
	v.writeJS(&sb)
	return sb.String()
}

func (v *jvalue) writeJS(sb *strings.Builder) {
	switch v.kind {
	case jArray:
		sb.WriteByte('[')
		for i, e := range v.arr {
			if i > 0 {
				sb.WriteByte(',')
			}
			e.writeJS(sb)
		}
		sb.WriteByte(']')
	case jObject:
		sb.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.Write(appendJSString(nil, k))
			sb.WriteByte(':')
			v.vals[i].writeJS(sb)
		}
		sb.WriteByte('}')
	default:
		sb.Write(v.stableJSON(nil))
	}
}

// jsParseFloat is JavaScript's Number.parseFloat applied to a string: the
// longest decimal prefix after leading white space, NaN if there is none.
func jsParseFloat(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r\u00a0\ufeff\u2028\u2029")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		if s[0] == '-' {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		frac := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
			frac++
		}
		if digits+frac > 0 {
			i = j
			digits += frac
		}
	}
	if digits == 0 {
		return math.NaN()
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return math.NaN()
	}
	return f
}

// jsParseFloatValue is Number.parseFloat(x) for a JSON value: numbers are
// returned as is, strings parsed, anything else is NaN (arrays are converted
// by JavaScript through their string form).
func jsParseFloatValue(v *jvalue) float64 {
	if v == nil {
		return math.NaN()
	}
	switch v.kind {
	case jNumber:
		return v.n
	case jString:
		return jsParseFloat(v.s)
	case jArray:
		if len(v.arr) >= 1 {
			return jsParseFloatValue(v.arr[0])
		}
	}
	return math.NaN()
}

// toFloat accepts the numeric types a caller may put in a document.
func toFloat(x any) (float64, bool) {
	switch t := x.(type) {
	case float64:
		return t, true
	case float32:
		return float64(t), true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case int32:
		return float64(t), true
	case uint64:
		return float64(t), true
	case uint32:
		return float64(t), true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	}
	return 0, false
}
