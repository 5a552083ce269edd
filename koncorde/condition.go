package koncorde

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strings"
)

type kwKind uint8

const (
	kwEverything kwKind = iota
	kwNothing
	kwEquals
	kwExists
	kwRange
	kwRegexp
	kwGeo
	kwMatch
	kwSelect
)

// scalarKey identifies a JSON scalar with JavaScript's strict equality
// (type-sensitive: "1" and 1 differ). Non-scalars get kind jArray/jObject
// and never equal anything a filter holds.
type scalarKey struct {
	kind jkind
	s    string
	n    float64
}

func scalarOf(v *jvalue) scalarKey {
	switch v.kind {
	case jBool:
		if v.b {
			return scalarKey{kind: jBool, n: 1}
		}
		return scalarKey{kind: jBool}
	case jNumber:
		if v.n == 0 {
			return scalarKey{kind: jNumber} // -0 === 0
		}
		return scalarKey{kind: jNumber, n: v.n}
	case jString:
		return scalarKey{kind: jString, s: v.s}
	case jNull:
		return scalarKey{kind: jNull}
	}
	return scalarKey{kind: v.kind, s: "\x00unmatchable"}
}

// scalarOfAny is scalarOf for a document value; ok is false for arrays,
// objects and unknown types.
func scalarOfAny(x any) (scalarKey, bool) {
	switch t := x.(type) {
	case string:
		return scalarKey{kind: jString, s: t}, true
	case float64:
		if t == 0 {
			return scalarKey{kind: jNumber}, true
		}
		return scalarKey{kind: jNumber, n: t}, true
	case bool:
		if t {
			return scalarKey{kind: jBool, n: 1}, true
		}
		return scalarKey{kind: jBool}, true
	case nil:
		return scalarKey{kind: jNull}, true
	case map[string]any, []any:
		return scalarKey{}, false
	}
	if f, ok := toFloat(x); ok {
		if f == 0 {
			return scalarKey{kind: jNumber}, true
		}
		return scalarKey{kind: jNumber, n: f}, true
	}
	return scalarKey{}, false
}

func numOf(x any) (float64, bool) {
	if f, ok := x.(float64); ok {
		return f, true
	}
	if _, ok := x.(string); ok {
		return 0, false
	}
	return toFloat(x)
}

// truthyAny is JavaScript's ToBoolean for a document value.
func truthyAny(x any) bool {
	switch t := x.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case float64:
		return t != 0 && !math.IsNaN(t)
	}
	if f, ok := toFloat(x); ok {
		return f != 0 && !math.IsNaN(f)
	}
	return true
}

// condition is one compiled condition of a normalized filter.
type condition struct {
	kind   kwKind
	kw     string
	raw    *jvalue // the keyword's value, as in the normalized filter (only while compiling)
	not    bool
	hasNot bool
	key    string // stable JSON of {<kw>: raw, not}: identity of the condition
	field  string

	val scalarKey // equals; exists (array form)

	array   bool // exists: array form field["value"]
	arrOK   bool // exists array value is a scalar (objects are never found)
	lo, hi  float64
	loIncl  bool
	hiIncl  bool
	re      *regexp.Regexp
	shape   *geoShape
	match   *jvalue
	selIdx  int
	selDNF  [][]*condition
	geotype string
}

// jsonValue is the condition as it appears in the normalized filter.
func (c *condition) jsonValue() *jvalue {
	o := &jvalue{kind: jObject}
	o.set(c.kw, c.raw)
	if c.hasNot {
		o.set("not", jbool(c.not))
	}
	return o
}

func compileLiteral(l rawLiteral, cc *canonicalizer) (*condition, error) {
	c := &condition{kw: l.kw, raw: l.value, not: l.not, hasNot: l.hasNot}
	c.key = string(c.jsonValue().stableJSON(nil))
	// The key holds the JSON form: keep only what matching needs.
	defer func() { c.raw = nil }()
	v := l.value
	bad := func(format string, args ...any) (*condition, error) {
		return nil, fmt.Errorf("koncorde: invalid %s condition: %s", l.kw, fmt.Sprintf(format, args...))
	}
	switch l.kw {
	case "everything":
		c.kind = kwEverything
	case "nothing":
		c.kind = kwNothing
	case "equals":
		c.kind = kwEquals
		if !v.isObject() || len(v.keys) != 1 || v.vals[0].kind == jArray || v.vals[0].kind == jObject {
			return bad("expected {field: scalar}")
		}
		c.field = v.keys[0]
		c.val = scalarOf(v.vals[0])
	case "exists":
		c.kind = kwExists
		p, a := v.get("path"), v.get("array")
		if p == nil || p.kind != jString || a == nil || a.kind != jBool {
			return bad("expected {path, array, value}")
		}
		c.field = p.s
		c.array = a.b
		if c.array {
			av := v.get("value")
			if av == nil {
				return bad("missing value")
			}
			c.arrOK = av.kind != jArray && av.kind != jObject
			c.val = scalarOf(av)
		}
	case "range":
		c.kind = kwRange
		if !v.isObject() || len(v.keys) != 1 || !v.vals[0].isObject() {
			return bad("expected {field: bounds}")
		}
		c.field = v.keys[0]
		c.lo, c.hi = math.Inf(-1), math.Inf(1)
		b := v.vals[0]
		for i, k := range b.keys {
			if b.vals[i].kind != jNumber {
				return bad("bounds must be numbers")
			}
			n := b.vals[i].n
			switch k {
			case "gt":
				c.lo, c.loIncl = n, false
			case "gte":
				c.lo, c.loIncl = n, true
			case "lt":
				c.hi, c.hiIncl = n, false
			case "lte":
				c.hi, c.hiIncl = n, true
			default:
				return bad("unknown bound %q", k)
			}
		}
	case "regexp":
		c.kind = kwRegexp
		if !v.isObject() || len(v.keys) != 1 || !v.vals[0].isObject() {
			return bad("expected {field: {value, flags}}")
		}
		c.field = v.keys[0]
		pv, fv := v.vals[0].get("value"), v.vals[0].get("flags")
		if pv == nil || pv.kind != jString || (fv != nil && fv.kind != jString) {
			return bad("expected string value and flags")
		}
		flags := ""
		if fv != nil {
			flags = fv.s
		}
		re, err := compileRegexp(pv.s, flags)
		if err != nil {
			return bad("%v", err)
		}
		c.re = re
	case "geospatial":
		c.kind = kwGeo
		if !v.isObject() || len(v.keys) != 1 || !v.vals[0].isObject() || len(v.vals[0].keys) != 1 {
			return bad("expected {type: {field: shape}}")
		}
		c.geotype = v.keys[0]
		c.field = v.vals[0].keys[0]
		s, err := shapeFromCondition(c.geotype, v.vals[0].vals[0])
		if err != nil {
			return nil, err
		}
		c.shape = s
	case "match":
		c.kind = kwMatch
		if !v.isObject() {
			return bad("expected an object")
		}
		c.match = v
	case "select":
		c.kind = kwSelect
		f, idx, q := v.get("field"), v.get("index"), v.get("query")
		if f == nil || f.kind != jString || idx == nil || idx.kind != jNumber || math.Floor(idx.n) != idx.n || !q.isObject() {
			return bad("expected {field, index, query}")
		}
		if math.Abs(idx.n) > 1<<31 {
			return bad("index out of range")
		}
		c.field = f.s
		c.selIdx = int(idx.n)
		if cc == nil {
			cc = &canonicalizer{maxConditions: DefaultMaxConditions, maxConjunctions: DefaultMaxConjunctions}
		}
		dnf, err := normalizeJSON(q, cc)
		if err != nil {
			return nil, err
		}
		c.selDNF = dnf
	default:
		return bad("unknown keyword")
	}
	return c, nil
}

// normalizeJSON standardizes, canonicalizes and compiles a filter.
func normalizeJSON(f *jvalue, cc *canonicalizer) ([][]*condition, error) {
	var s standardizer
	std, err := s.standardize(f, "")
	if err != nil {
		return nil, err
	}
	raw, err := cc.convert(std)
	if err != nil {
		return nil, err
	}
	return compileDNF(raw, cc)
}

func compileDNF(raw [][]rawLiteral, cc *canonicalizer) ([][]*condition, error) {
	out := make([][]*condition, len(raw))
	for i, and := range raw {
		out[i] = make([]*condition, len(and))
		for j, l := range and {
			c, err := compileLiteral(l, cc)
			if err != nil {
				return nil, err
			}
			out[i][j] = c
		}
	}
	return out, nil
}

// eval tests the condition against a document (reference semantics; the
// engine indexes most keywords instead of calling this).
func (c *condition) eval(d *docView) bool {
	switch c.kind {
	case kwEverything:
		return true
	case kwNothing:
		return c.not
	case kwGeo:
		return c.evalGeo(d)
	}
	return c.positive(d) != c.not
}

func (c *condition) positive(d *docView) bool {
	v, ok := d.get(c.field)
	switch c.kind {
	case kwEquals:
		if !ok {
			return false
		}
		k, isScalar := scalarOfAny(v)
		return isScalar && k == c.val
	case kwExists:
		if !ok {
			return false
		}
		if !c.array {
			return true
		}
		return c.arrOK && arrayContains(v, c.val)
	case kwRange:
		n, isNum := numOf(v)
		return ok && isNum && c.inRange(n)
	case kwRegexp:
		s, isStr := v.(string)
		return ok && isStr && c.re.MatchString(s)
	case kwMatch:
		return matchObjectTop(d, c.match)
	case kwSelect:
		arr, isArr := v.([]any)
		if !ok || !isArr {
			return false
		}
		i := c.selIdx
		if i < 0 {
			i += len(arr)
		}
		if i < 0 || i >= len(arr) {
			return false
		}
		sub := docView{m: map[string]any{"value": arr[i]}}
		return evalDNF(c.selDNF, &sub)
	}
	return false
}

func (c *condition) inRange(n float64) bool {
	if n < c.lo || (n == c.lo && !c.loIncl) {
		return false
	}
	if n > c.hi || (n == c.hi && !c.hiIncl) {
		return false
	}
	return true
}

// evalGeo follows Koncorde's geospatial matchers: a missing or falsy field
// matches "not geo" conditions; a value that is not a geopoint matches
// neither form.
func (c *condition) evalGeo(d *docView) bool {
	v, ok := d.get(c.field)
	if !ok || !truthyAny(v) {
		return c.not
	}
	p, ok := convertGeopointAny(v)
	if !ok {
		return false
	}
	return c.shape.covers(p) != c.not
}

func arrayContains(v any, k scalarKey) bool {
	arr, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range arr {
		if ek, ok := scalarOfAny(e); ok && ek == k {
			return true
		}
	}
	return false
}

func evalDNF(dnf [][]*condition, d *docView) bool {
	for _, and := range dnf {
		all := true
		for _, c := range and {
			if !c.eval(d) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// matchObjectTop is Koncorde's matchAny(flattenedDocument, match): top-level
// keys of the match object are looked up as flattened paths.
func matchObjectTop(d *docView, m *jvalue) bool {
	for i, k := range m.keys {
		v, ok := d.get(k)
		if !ok || !matchAny(v, m.vals[i]) {
			return false
		}
	}
	return true
}

// matchAny restates koncorde:lib/util/ObjectMatcher.ts.
func matchAny(x any, m *jvalue) bool {
	switch t := x.(type) {
	case nil:
		return m.kind == jNull
	case bool:
		return m.kind == jBool && m.b == t
	case string:
		return m.kind == jString && m.s == t
	case map[string]any:
		if m.kind != jObject {
			return false
		}
		for i, k := range m.keys {
			v, ok := t[k]
			if !ok || !matchAny(v, m.vals[i]) {
				return false
			}
		}
		return true
	case []any:
		if m.kind != jArray || len(t) < len(m.arr) {
			return false
		}
		used := make([]bool, len(t))
		for _, want := range m.arr {
			found := false
			for j, e := range t {
				if !used[j] && matchAny(e, want) {
					used[j] = true
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	if f, ok := toFloat(x); ok {
		return m.kind == jNumber && m.n == f
	}
	return false
}

// compileRegexp compiles a JavaScript regular expression with the RE2
// engine, as Kuzzle does by default. Flags i, m and s map to RE2 flags; g, y,
// u and d do not change a match test.
func compileRegexp(pattern, flags string) (*regexp.Regexp, error) {
	seen := map[rune]bool{}
	prefix := ""
	for _, f := range flags {
		if seen[f] || !strings.ContainsRune("gimsuyd", f) {
			return nil, fmt.Errorf("Invalid flags supplied to RegExp constructor '%s'", flags)
		}
		seen[f] = true
		if f == 'i' || f == 'm' || f == 's' {
			prefix += string(f)
		}
	}
	expr := translateJSPattern(pattern)
	if _, err := syntax.Parse(expr, syntax.Perl); err != nil {
		return nil, re2Error(err)
	}
	if prefix != "" {
		expr = "(?" + prefix + ")" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, re2Error(err)
	}
	return re, nil
}

// translateJSPattern rewrites the JavaScript-only escapes \uXXXX and \u{X}
// into RE2's \x{...}.
func translateJSPattern(p string) string {
	if !strings.Contains(p, `\u`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			if p[i+1] == 'u' {
				if i+6 <= len(p) && isHex(p[i+2:i+6]) {
					b.WriteString(`\x{` + p[i+2:i+6] + `}`)
					i += 5
					continue
				}
				if i+2 < len(p) && p[i+2] == '{' {
					if end := strings.IndexByte(p[i+2:], '}'); end > 1 && isHex(p[i+3:i+2+end]) {
						b.WriteString(`\x` + p[i+2:i+3+end])
						i += 2 + end
						continue
					}
				}
			}
			b.WriteByte(p[i])
			b.WriteByte(p[i+1])
			i++
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// re2Error words a Go regexp syntax error like RE2's (what node-re2 reports).
func re2Error(err error) error {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return err
	}
	msg := map[syntax.ErrorCode]string{
		syntax.ErrInternalError:         "unexpected error",
		syntax.ErrInvalidCharClass:      "invalid character class",
		syntax.ErrInvalidCharRange:      "invalid character class range",
		syntax.ErrInvalidEscape:         "invalid escape sequence",
		syntax.ErrInvalidNamedCapture:   "invalid named capture group",
		syntax.ErrInvalidPerlOp:         "invalid perl operator",
		syntax.ErrInvalidRepeatOp:       "bad repetition operator",
		syntax.ErrInvalidRepeatSize:     "bad repetition operator",
		syntax.ErrInvalidUTF8:           "invalid UTF-8",
		syntax.ErrMissingBracket:        "missing ]",
		syntax.ErrMissingParen:          "missing )",
		syntax.ErrMissingRepeatArgument: "no argument for repetition operator",
		syntax.ErrTrailingBackslash:     "trailing \\",
		syntax.ErrUnexpectedParen:       "unexpected )",
		syntax.ErrNestingDepth:          "expression nested too deeply",
		syntax.ErrLarge:                 "pattern too large - compile failed",
	}[se.Code]
	if msg == "" {
		return err
	}
	return errors.New(msg + ": " + se.Expr)
}
