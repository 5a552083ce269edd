package koncorde

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode/utf16"
)

// This file restates Koncorde 4's Standardizer (koncorde:lib/transform/
// standardize.js): it validates a filter and rewrites it into a smaller set
// of keywords. It works on jvalue trees so that property order, error
// messages and error paths are Koncorde's.

const (
	leafUnset uint8 = 0
	leafTrue  uint8 = 1
	leafFalse uint8 = 2
)

var allowedKeywords = map[string]bool{
	"and": true, "bool": true, "equals": true, "exists": true,
	"geoBoundingBox": true, "geoDistance": true, "geoDistanceRange": true, "geoPolygon": true,
	"ids": true, "in": true, "match": true, "missing": true, "not": true,
	"nothing": true, "or": true, "select": true, "range": true, "regexp": true,
}

var (
	bboxProperties = []string{"top", "left", "bottom", "right"}
	boolAttributes = []string{"must", "must_not", "should", "should_not"}
)

type standardizer struct{}

func pathAdd(cur, leaf string) string {
	if cur == "" {
		return leaf
	}
	return cur + "." + leaf
}

func obj1(k string, v *jvalue) *jvalue {
	return &jvalue{kind: jObject, keys: []string{k}, vals: []*jvalue{v}}
}

func jstr(s string) *jvalue    { return &jvalue{kind: jString, s: s} }
func jnum(n float64) *jvalue   { return &jvalue{kind: jNumber, n: n} }
func jbool(b bool) *jvalue     { return &jvalue{kind: jBool, b: b} }
func jarr(a []*jvalue) *jvalue { return &jvalue{kind: jArray, arr: a} }

// objectKeys is JavaScript's Object.keys for any JSON value.
func objectKeys(v *jvalue) []string {
	if v == nil {
		return nil
	}
	switch v.kind {
	case jObject:
		return v.keys
	case jArray:
		out := make([]string, len(v.arr))
		for i := range v.arr {
			out[i] = fmt.Sprint(i)
		}
		return out
	case jString:
		n := len(utf16.Encode([]rune(v.s)))
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint(i)
		}
		return out
	}
	return nil
}

func (s *standardizer) standardize(f *jvalue, path string) (*jvalue, error) {
	keywords := objectKeys(f)
	if len(keywords) == 0 {
		return &jvalue{kind: jObject}, nil
	}
	if len(keywords) > 1 {
		return nil, parseError("Invalid filter syntax. Filters must have one keyword only", strings.Join(keywords, ","), path)
	}
	kw := keywords[0]
	if !allowedKeywords[kw] {
		return nil, parseError("unknown keyword", kw, pathAdd(path, kw))
	}
	p := pathAdd(path, kw)
	switch kw {
	case "and", "or":
		return s.andOr(f, kw, p)
	case "bool":
		return s.boolKw(f, p)
	case "equals":
		return s.equals(f, p)
	case "exists":
		return s.exists(f, p, "exists")
	case "missing":
		e, err := s.exists(f, p, "missing")
		if err != nil {
			return nil, err
		}
		return obj1("not", obj1("exists", e.vals[0])), nil
	case "geoBoundingBox":
		return s.geoBoundingBox(f, p)
	case "geoDistance":
		return s.geoDistance(f, p)
	case "geoDistanceRange":
		return s.geoDistanceRange(f, p)
	case "geoPolygon":
		return s.geoPolygon(f, p)
	case "ids":
		return s.ids(f, p)
	case "in":
		return s.in(f, p)
	case "match":
		if err := isObject(f, "match", "match", p, objOpts{nonEmpty: true}); err != nil {
			return nil, err
		}
		return f, nil
	case "not":
		return s.not(f, p)
	case "nothing":
		return obj1("nothing", jbool(true)), nil
	case "select":
		return s.selectKw(f, p)
	case "range":
		return s.rangeKw(f, p)
	case "regexp":
		return s.regexpKw(f, p)
	}
	return nil, parseError("unknown keyword", kw, p)
}

type objOpts struct {
	allowed    []string
	nonEmpty   bool
	required   []string
	properties int
}

func isObject(f *jvalue, property, keyword, path string, o objOpts) error {
	v := f.get(property)
	if !v.isObject() {
		return parseError("must be an object", keyword, path)
	}
	n := len(v.keys)
	if o.nonEmpty && n == 0 {
		return parseError("must be a non-empty object", keyword, path)
	}
	if o.properties > 0 && n != o.properties {
		suffix := "y"
		if o.properties > 1 {
			suffix = "ies"
		}
		return parseError(fmt.Sprintf("expected object to have exactly %d propert%s, got %d", o.properties, suffix, n), keyword, path)
	}
	for _, r := range o.required {
		if v.get(r) == nil {
			return parseError(fmt.Sprintf("the property %q is missing", r), keyword, path)
		}
	}
	if o.allowed != nil {
		for _, k := range v.keys {
			ok := false
			for _, a := range o.allowed {
				if a == k {
					ok = true
					break
				}
			}
			if !ok {
				return parseError(fmt.Sprintf("%q is not an allowed attribute (allowed: %s)", k, strings.Join(o.allowed, ",")), keyword, path)
			}
		}
	}
	return nil
}

func isString(f *jvalue, property, keyword, path string) error {
	v := f.get(property)
	if v == nil || v.kind != jString {
		return parseError("must be a string", keyword, path)
	}
	if v.s == "" {
		return parseError("cannot be empty", keyword, path)
	}
	return nil
}

func isInteger(f *jvalue, property, keyword, path string) error {
	v := f.get(property)
	if v == nil || v.kind != jNumber {
		return parseError("must be an integer", keyword, path)
	}
	if math.Floor(v.n) != v.n {
		return parseError("cannot have decimals, must be an integer", keyword, path)
	}
	return nil
}

func isArray(f *jvalue, property, keyword, path string, nonEmpty bool, onlyStrings bool) error {
	v := f.get(property)
	if !v.isArray() {
		return parseError("must be an array", keyword, path)
	}
	if nonEmpty && len(v.arr) == 0 {
		return parseError("cannot be empty", keyword, path)
	}
	if onlyStrings {
		for _, e := range v.arr {
			if e.kind != jString {
				return parseError(`must hold only values of type "string"`, keyword, path)
			}
		}
	}
	return nil
}

func (s *standardizer) exists(f *jvalue, path, name string) (*jvalue, error) {
	v := f.get(name)
	if v != nil && v.exists != nil {
		return f, nil
	}
	if v != nil && v.kind == jString {
		if v.s == "" {
			return nil, parseError("cannot test empty field name", name, path)
		}
		return parseFieldSyntax(v.s, name, path)
	}
	if err := isObject(f, name, name, path, objOpts{properties: 1, required: []string{"field"}}); err != nil {
		return nil, err
	}
	fieldPath := pathAdd(path, "field")
	if err := isString(v, "field", name, fieldPath); err != nil {
		return nil, err
	}
	return parseFieldSyntax(v.get("field").s, name, fieldPath)
}

// arrayFieldRe is /^(.*?[^\\])\[(.*)]$/ with JavaScript's "." (no line terminators).
var arrayFieldRe = regexp.MustCompile(`^([^\n\r\x{2028}\x{2029}]*?[^\\\n\r\x{2028}\x{2029}])\[([^\n\r\x{2028}\x{2029}]*)\]$`)
var escapedBracketRe = regexp.MustCompile(`\\([\[\]])`)

func parseFieldSyntax(field, keyword, path string) (*jvalue, error) {
	ne := &normExists{path: field}
	if m := arrayFieldRe.FindStringSubmatch(field); m != nil {
		val, err := parseJSON([]byte(m[2]))
		if err != nil {
			return nil, parseError(fmt.Sprintf("contains an invalid array value (%q)", m[2]), keyword, path)
		}
		ne.path = m[1]
		ne.array = true
		ne.value = val
	}
	ne.path = escapedBracketRe.ReplaceAllString(ne.path, "$1")
	return obj1(keyword, existsValue(ne)), nil
}

// existsValue is the JSON form of a NormalizedExists: {path, array, value}.
func existsValue(ne *normExists) *jvalue {
	val := ne.value
	if val == nil {
		val = &jvalue{kind: jNull}
	}
	return &jvalue{
		kind:   jObject,
		keys:   []string{"path", "array", "value"},
		vals:   []*jvalue{jstr(ne.path), jbool(ne.array), val},
		exists: ne,
	}
}

func leafGroup(op string, members []*jvalue, leaf uint8) *jvalue {
	g := obj1(op, jarr(members))
	g.leaf = leaf
	return g
}

func (s *standardizer) ids(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "ids", "ids", path, objOpts{properties: 1, required: []string{"values"}}); err != nil {
		return nil, err
	}
	ids := f.get("ids")
	if err := isArray(ids, "values", "ids", pathAdd(path, "values"), true, true); err != nil {
		return nil, err
	}
	var members []*jvalue
	for _, v := range ids.get("values").arr {
		members = append(members, obj1("equals", obj1("_id", v)))
	}
	return leafGroup("or", members, leafTrue), nil
}

func (s *standardizer) in(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "in", "in", path, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	in := f.get("in")
	field := in.keys[0]
	if err := isArray(in, field, "in", pathAdd(path, field), true, true); err != nil {
		return nil, err
	}
	var members []*jvalue
	for _, v := range in.vals[0].arr {
		members = append(members, obj1("equals", obj1(field, v)))
	}
	return leafGroup("or", members, leafTrue), nil
}

func (s *standardizer) equals(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "equals", "equals", path, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	eq := f.get("equals")
	if v := eq.vals[0]; v.kind == jArray || v.kind == jObject {
		return nil, parseError("must either be a string, a number, a boolean, or null", "equals", pathAdd(path, eq.keys[0]))
	}
	return f, nil
}

func (s *standardizer) rangeKw(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "range", "range", path, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	r := f.get("range")
	field := r.keys[0]
	fieldPath := path + "." + field
	if err := isObject(r, field, "range", pathAdd(path, field), objOpts{allowed: []string{"gt", "gte", "lt", "lte"}, nonEmpty: true}); err != nil {
		return nil, err
	}
	high, low := math.Inf(1), math.Inf(-1)
	b := r.vals[0]
	for i, k := range b.keys {
		v := b.vals[i]
		if v.kind != jNumber {
			return nil, parseError("must be a number", "range", pathAdd(fieldPath, k))
		}
		if k == "lt" || k == "lte" {
			if !math.IsInf(high, 1) {
				return nil, parseError("only 1 upper boundary allowed", "range", fieldPath)
			}
			high = v.n
		}
		if k == "gt" || k == "gte" {
			if !math.IsInf(low, -1) {
				return nil, parseError("only 1 lower boundary allowed", "range", fieldPath)
			}
			low = v.n
		}
	}
	if high <= low {
		return nil, parseError("lower boundary must be strictly inferior to the upper one", "range", fieldPath)
	}
	return f, nil
}

func (s *standardizer) regexpKw(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "regexp", "regexp", path, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	r := f.get("regexp")
	field := r.keys[0]
	rv := r.vals[0]
	var value *jvalue
	flags := ""
	hasFlags := false
	switch rv.kind {
	case jString:
		value = rv
	case jObject:
		fieldPath := pathAdd(path, field)
		if err := isObject(r, field, "regexp", fieldPath, objOpts{allowed: []string{"flags", "value"}, nonEmpty: true, required: []string{"value"}}); err != nil {
			return nil, err
		}
		value = rv.get("value")
		if fl := rv.get("flags"); fl.truthy() {
			if err := isString(rv, "flags", "regexp", pathAdd(fieldPath, "flags")); err != nil {
				return nil, err
			}
			flags, hasFlags = fl.s, true
		}
	default:
		return nil, parseError("must be either a string or a non-empty object", "regexp", pathAdd(path, field))
	}
	pattern, ok := jsToPatternString(value)
	if ok {
		if _, err := compileRegexp(pattern, flags); err != nil {
			ok = false
			flagText := "undefined"
			if hasFlags {
				flagText = flags
			}
			return nil, parseError(fmt.Sprintf("cannot parse regexp expression \"/%s/%s\" (%s)", pattern, flagText, err.Error()), "regexp", pathAdd(path, field))
		}
	}
	if !ok {
		return nil, parseError(fmt.Sprintf("cannot parse regexp expression \"/%s/%s\" (expected a string)", value.jsString(), flags), "regexp", pathAdd(path, field))
	}
	inner := &jvalue{kind: jObject}
	if hasFlags {
		inner.set("flags", jstr(flags))
	}
	inner.set("value", jstr(pattern))
	return obj1("regexp", obj1(field, inner)), nil
}

// jsToPatternString converts the value given to the RegExp constructor to
// its pattern string (strings, numbers and booleans are accepted).
func jsToPatternString(v *jvalue) (string, bool) {
	switch v.kind {
	case jString:
		return v.s, true
	case jNumber:
		return jsNumberString(v.n), true
	case jBool:
		if v.b {
			return "true", true
		}
		return "false", true
	case jNull:
		return "null", true
	}
	return "", false
}

func (s *standardizer) selectKw(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "select", "select", path, objOpts{properties: 3}); err != nil {
		return nil, err
	}
	sel := f.get("select")
	if err := isString(sel, "field", "select", pathAdd(path, "field")); err != nil {
		return nil, err
	}
	if err := isInteger(sel, "index", "select", pathAdd(path, "index")); err != nil {
		return nil, err
	}
	if err := isObject(sel, "query", "select", pathAdd(path, "query"), objOpts{nonEmpty: true}); err != nil {
		return nil, err
	}
	if _, err := s.standardize(sel.get("query"), pathAdd(path, "query")); err != nil {
		return nil, err
	}
	return f, nil
}

func (s *standardizer) geoBoundingBox(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "geoBoundingBox", "geoBoundingBox", path, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	g := f.get("geoBoundingBox")
	field := g.keys[0]
	bbox := geoLocationToCamelCase(g.vals[0])
	std := map[string]float64{}
	allScalar := true
	for _, p := range bboxProperties {
		v := bbox.get(p)
		if v == nil || (v.kind != jString && v.kind != jNumber) {
			allScalar = false
			break
		}
	}
	if allScalar {
		for _, p := range bboxProperties {
			n := jsParseFloatValue(bbox.get(p))
			if math.IsNaN(n) {
				return nil, parseError("unrecognized geoBoundingBox format: "+bbox.jsString(), "geoBoundingBox", pathAdd(path, field))
			}
			std[p] = n
		}
	} else if tl, br := bbox.get("topLeft"), bbox.get("bottomRight"); tl.truthy() && br.truthy() {
		a, okA := convertGeopoint(tl)
		b, okB := convertGeopoint(br)
		if okA && okB {
			std["bottom"], std["left"], std["right"], std["top"] = b.lat, a.lon, b.lon, a.lat
		}
	}
	if len(std) != 4 {
		return nil, parseError("unrecognized geo-point format", "geoBoundingBox", pathAdd(path, field))
	}
	shape := &jvalue{kind: jObject}
	for _, k := range []string{"bottom", "left", "right", "top"} {
		shape.set(k, jnum(std[k]))
	}
	return obj1("geospatial", obj1("geoBoundingBox", obj1(field, shape))), nil
}

func (s *standardizer) geoDistance(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "geoDistance", "geoDistance", path, objOpts{properties: 2, required: []string{"distance"}}); err != nil {
		return nil, err
	}
	g := f.get("geoDistance")
	if err := isString(g, "distance", "geoDistance", pathAdd(path, "distance")); err != nil {
		return nil, err
	}
	field := ""
	for _, k := range g.keys {
		if k != "distance" {
			field = k
			break
		}
	}
	pt, ok := convertGeopoint(g.get(field))
	if !ok {
		return nil, parseError("unrecognized point format", "geoDistance", pathAdd(path, field))
	}
	d, err := convertDistance(g.get("distance").s)
	if err != nil {
		return nil, err
	}
	shape := &jvalue{kind: jObject}
	shape.set("distance", jnum(d))
	shape.set("lat", jnum(pt.lat))
	shape.set("lon", jnum(pt.lon))
	return obj1("geospatial", obj1("geoDistance", obj1(field, shape))), nil
}

func (s *standardizer) geoDistanceRange(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "geoDistanceRange", "geoDistanceRange", path, objOpts{properties: 3, required: []string{"from", "to"}}); err != nil {
		return nil, err
	}
	g := f.get("geoDistanceRange")
	field := ""
	for _, k := range g.keys {
		if k != "from" && k != "to" {
			field = k
			break
		}
	}
	var dist [2]float64
	for i, k := range []string{"from", "to"} {
		if err := isString(g, k, "geoDistanceRange", pathAdd(path, k)); err != nil {
			return nil, err
		}
		d, err := convertDistance(g.get(k).s)
		if err != nil {
			return nil, err
		}
		dist[i] = d
	}
	if dist[0] >= dist[1] {
		return nil, parseError("inner radius must be smaller than outer radius", "geoDistanceRange", path)
	}
	pt, ok := convertGeopoint(g.get(field))
	if !ok {
		return nil, parseError("unrecognized point format", "geoDistanceRange", pathAdd(path, field))
	}
	shape := &jvalue{kind: jObject}
	shape.set("from", jnum(dist[0]))
	shape.set("lat", jnum(pt.lat))
	shape.set("lon", jnum(pt.lon))
	shape.set("to", jnum(dist[1]))
	return obj1("geospatial", obj1("geoDistanceRange", obj1(field, shape))), nil
}

func (s *standardizer) geoPolygon(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "geoPolygon", "geoPolygon", path, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	g := f.get("geoPolygon")
	field := g.keys[0]
	fieldPath := pathAdd(path, field)
	if err := isObject(g, field, "geoPolygon", fieldPath, objOpts{properties: 1, required: []string{"points"}}); err != nil {
		return nil, err
	}
	pointsPath := pathAdd(fieldPath, "points")
	if err := isArray(g.vals[0], "points", "geoPolygon", pointsPath, false, false); err != nil {
		return nil, err
	}
	pts := g.vals[0].get("points").arr
	if len(pts) < 3 {
		return nil, parseError("at least 3 points are required to build a polygon", "geoPolygon", pointsPath)
	}
	out := make([]*jvalue, 0, len(pts))
	for _, p := range pts {
		c, ok := convertGeopoint(p)
		if !ok {
			return nil, parseError(fmt.Sprintf("unrecognized point format %q", p.jsString()), "geoPolygon", pointsPath)
		}
		out = append(out, jarr([]*jvalue{jnum(c.lat), jnum(c.lon)}))
	}
	return obj1("geospatial", obj1("geoPolygon", obj1(field, jarr(out)))), nil
}

func (s *standardizer) andOr(f *jvalue, op, path string) (*jvalue, error) {
	if err := isArray(f, op, op, path, true, false); err != nil {
		return nil, err
	}
	return s.filterArray(f, op, path)
}

func (s *standardizer) not(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "not", "not", path, objOpts{properties: 1}); err != nil {
		return nil, err
	}
	result, err := s.standardize(f.get("not"), path)
	if err != nil {
		return nil, err
	}
	if len(result.keys) == 0 {
		return obj1("not", result), nil
	}
	k := result.keys[0]
	if k == "and" || k == "or" {
		leaf := leafTrue
		var subs []*jvalue
		for _, c := range result.vals[0].arr {
			sub, err := s.standardize(obj1("not", c), "")
			if err != nil {
				return nil, err
			}
			if sub.get("or") != nil || sub.get("and") != nil {
				leaf = leafFalse
			}
			subs = append(subs, sub)
		}
		opp := "or"
		if k == "or" {
			opp = "and"
		}
		return leafGroup(opp, subs, leaf), nil
	}
	if inner := result.get("not"); inner != nil {
		return inner, nil
	}
	return obj1("not", result), nil
}

func (s *standardizer) boolKw(f *jvalue, path string) (*jvalue, error) {
	if err := isObject(f, "bool", "bool", path, objOpts{allowed: boolAttributes, nonEmpty: true}); err != nil {
		return nil, err
	}
	b := f.get("bool")
	var and []*jvalue
	if m := b.get("must"); m.truthy() {
		if m.kind == jArray {
			and = append(and, m.arr...)
		} else {
			and = append(and, m)
		}
	}
	if m := b.get("must_not"); m.truthy() {
		and = append(and, obj1("not", obj1("or", m)))
	}
	if m := b.get("should"); m.truthy() {
		and = append(and, obj1("or", m))
	}
	if m := b.get("should_not"); m.truthy() {
		and = append(and, obj1("not", obj1("and", m)))
	}
	return s.standardize(obj1("and", jarr(and)), path)
}

func (s *standardizer) filterArray(f *jvalue, op, path string) (*jvalue, error) {
	items := f.get(op).arr
	for _, it := range items {
		if !it.isObject() || len(it.keys) == 0 {
			return nil, parseError("can only contain non-empty objects", op, path)
		}
	}
	isLeaf := true
	var leaves, andOrs []*jvalue
	for _, it := range items {
		sub, err := s.standardize(it, path)
		if err != nil {
			return nil, err
		}
		if same := sub.get(op); same != nil && same.truthy() {
			if same.kind == jArray {
				leaves = append(leaves, same.arr...)
			} else {
				leaves = append(leaves, same)
			}
			if sub.leaf != leafTrue {
				isLeaf = false
			}
		} else if sub.get("and") != nil || sub.get("or") != nil {
			isLeaf = false
			andOrs = append(andOrs, sub)
		} else {
			leaves = append(leaves, sub)
		}
	}
	if !isLeaf && len(leaves) > 1 {
		sub, err := s.standardize(obj1(op, jarr(leaves)), path)
		if err != nil {
			return nil, err
		}
		members := append(append([]*jvalue{}, andOrs...), sub)
		return leafGroup(op, members, leafFalse), nil
	}
	members := append(append([]*jvalue{}, andOrs...), leaves...)
	if len(members) == 1 {
		return members[0], nil
	}
	leaf := leafTrue
	if !isLeaf {
		leaf = leafFalse
	}
	return leafGroup(op, members, leaf), nil
}
