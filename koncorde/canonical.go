package koncorde

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// This file turns a standardized filter into Koncorde's canonical form: a
// disjunctive normal form (an OR of ANDs) of conditions {<keyword>: value,
// not: bool} (koncorde:lib/transform/canonical.ts).
//
// Koncorde minimizes the truth table of the filter's conditions with
// Espresso. Here the DNF is computed symbolically (distribution, removal of
// contradictory and absorbed AND-groups). For filters made of one condition
// or one AND/OR group of conditions (the usual subscriptions: a keyword, an
// "in", an "and" of keywords, an "or" of keywords), Koncorde does not call
// Espresso and both give the same form, hence the same room id.

// rawLiteral is one condition of the DNF before compilation.
type rawLiteral struct {
	kw     string
	value  *jvalue
	not    bool
	hasNot bool // false only for the {everything:true} / {nothing:true} singletons
}

// unit is a condition as Koncorde's _extractConditions sees it: a keyword
// filter, or an and/or group of keyword filters (_isLeaf).
type unit struct {
	v     *jvalue
	group string // "", "and" or "or"
}

// bnode is the boolean structure of the standardized filter over its units.
type bnode struct {
	op       byte // 'u' unit, '!' not, '&' and, '|' or
	unit     int
	children []*bnode
}

type canonicalizer struct {
	maxConditions   int
	maxConjunctions int
}

func errTooComplex(count, max int) *DSLError {
	return &DSLError{Message: fmt.Sprintf("Filter too complex: exceeds the configured maximum number of conditions (conditions: %d, max: %d)", count, max)}
}

func (c *canonicalizer) convert(std *jvalue) ([][]rawLiteral, error) {
	if len(objectKeys(std)) == 0 {
		return [][]rawLiteral{{{kw: "everything", value: jbool(true)}}}, nil
	}
	var units []unit
	tree := extract(std, &units)
	count := 0
	for _, u := range units {
		if u.group != "" {
			count += len(u.v.vals[0].arr)
		} else {
			count++
		}
	}
	if c.maxConditions > 0 && count > c.maxConditions {
		return nil, errTooComplex(count, c.maxConditions)
	}
	cubes, err := c.dnf(tree, false, len(units))
	if err != nil {
		return nil, err
	}
	cubes = simplifyCubes(cubes)

	var result [][]rawLiteral
	for _, cube := range cubes {
		var sub []rawLiteral
		var ors [][]rawLiteral
		for i, lit := range cube {
			if lit == 0 {
				continue
			}
			not := lit < 0
			u := units[i]
			if u.group == "" {
				sub = append(sub, literalOf(u.v, not))
				continue
			}
			members := u.v.vals[0].arr
			conds := make([]rawLiteral, len(members))
			for j, m := range members {
				conds[j] = memberLiteral(m, not)
			}
			if (u.group == "and" && !not) || (u.group == "or" && not) {
				sub = append(sub, conds...)
			} else {
				ors = append(ors, conds)
			}
		}
		if len(ors) == 0 {
			if len(sub) > 0 {
				result = append(result, sub)
			}
			continue
		}
		total := 1
		for _, o := range ors {
			total *= len(o)
			if total > c.maxConjunctions {
				return nil, c.errTooManyConjunctions()
			}
		}
		// Cartesian product, first group varying fastest (ts-combinatorics).
		for n := 0; n < total; n++ {
			combo := append([]rawLiteral{}, sub...)
			k := n
			for _, o := range ors {
				combo = append(combo, o[k%len(o)])
				k /= len(o)
			}
			result = append(result, combo)
		}
		if len(result) > c.maxConjunctions {
			return nil, c.errTooManyConjunctions()
		}
	}
	result = removeImpossible(result)
	for _, sub := range result {
		sort.SliceStable(sub, func(i, j int) bool { return sub[i].kw < sub[j].kw })
	}
	return result, nil
}

func (c *canonicalizer) errTooManyConjunctions() *DSLError {
	return &DSLError{Message: fmt.Sprintf("Filter too complex: its normalized form exceeds the configured maximum number of AND-groups (max: %d)", c.maxConjunctions)}
}

// extract mirrors _extractConditions and evalFilter: units are numbered in
// depth-first order.
func extract(f *jvalue, units *[]unit) *bnode {
	key := ""
	if len(f.keys) > 0 {
		key = f.keys[0]
	}
	switch {
	case key == "not":
		return &bnode{op: '!', children: []*bnode{extract(f.vals[0], units)}}
	case key == "and" || key == "or":
		if f.leaf == leafTrue {
			*units = append(*units, unit{v: f, group: key})
			return &bnode{op: 'u', unit: len(*units) - 1}
		}
		op := byte('&')
		if key == "or" {
			op = '|'
		}
		n := &bnode{op: op}
		for _, c := range f.vals[0].arr {
			n.children = append(n.children, extract(c, units))
		}
		return n
	}
	*units = append(*units, unit{v: f})
	return &bnode{op: 'u', unit: len(*units) - 1}
}

// A cube assigns each unit +1 (true), -1 (false) or 0 (don't care).
type cube []int8

func (c *canonicalizer) dnf(n *bnode, neg bool, nunits int) ([]cube, error) {
	switch n.op {
	case 'u':
		cb := make(cube, nunits)
		cb[n.unit] = 1
		if neg {
			cb[n.unit] = -1
		}
		return []cube{cb}, nil
	case '!':
		return c.dnf(n.children[0], !neg, nunits)
	}
	isAnd := (n.op == '&') != neg
	var acc []cube
	for i, ch := range n.children {
		d, err := c.dnf(ch, neg, nunits)
		if err != nil {
			return nil, err
		}
		if !isAnd {
			acc = append(acc, d...)
		} else if i == 0 {
			acc = d
		} else {
			var next []cube
			for _, a := range acc {
				for _, b := range d {
					if m, ok := mergeCubes(a, b); ok {
						next = append(next, m)
					}
				}
			}
			acc = next
		}
		if len(acc) > 4*c.maxConjunctions {
			return nil, c.errTooManyConjunctions()
		}
		acc = simplifyCubes(acc)
	}
	return acc, nil
}

func mergeCubes(a, b cube) (cube, bool) {
	out := make(cube, len(a))
	for i := range a {
		switch {
		case a[i] == 0:
			out[i] = b[i]
		case b[i] == 0 || b[i] == a[i]:
			out[i] = a[i]
		default:
			return nil, false
		}
	}
	return out, true
}

// simplifyCubes removes duplicates and cubes absorbed by a more general one
// (A∧B is dropped when A is present), keeping the first-seen order.
func simplifyCubes(cs []cube) []cube {
	out := cs[:0:0]
	for i, a := range cs {
		drop := false
		for j, b := range cs {
			if i == j {
				continue
			}
			if subsumes(b, a) && (!subsumes(a, b) || j < i) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, a)
		}
	}
	return out
}

// subsumes reports whether every literal of a is in b (a is more general).
func subsumes(a, b cube) bool {
	for i := range a {
		if a[i] != 0 && a[i] != b[i] {
			return false
		}
	}
	return true
}

// literalOf turns a keyword filter {<kw>: value} into a condition.
func literalOf(f *jvalue, not bool) rawLiteral {
	return rawLiteral{kw: f.keys[0], value: f.vals[0], not: not, hasNot: true}
}

// memberLiteral is _andOr/_notAndOr for one member of a leaf group.
func memberLiteral(m *jvalue, negate bool) rawLiteral {
	if m.keys[0] == "not" {
		return literalOf(m.vals[0], !negate)
	}
	return literalOf(m, negate)
}

// removeImpossible drops AND-groups that can never match (Koncorde's
// _removeImpossiblePredicates, with type-exact value comparisons and without
// treating the array form of "not exists" as "field absent").
func removeImpossible(ors [][]rawLiteral) [][]rawLiteral {
	var result [][]rawLiteral
	for _, ands := range ors {
		equals := map[string]*jvalue{}
		exists := map[string]bool{}
		notequals := map[string]map[scalarKey]bool{}
		notexists := map[string]bool{}
		ranges := map[string]*jvalue{}
		polarity := map[string]bool{}
		skip := false
		for _, l := range ands {
			if !l.hasNot {
				continue
			}
			// An exists condition and its negation (Koncorde checks exists
			// by path only; other keywords' contradictions are kept, as in
			// Koncorde: they never match, and keep room ids equal).
			ck := l.kw + "\x00" + string(l.value.stableJSON(nil))
			if p, ok := polarity[ck]; ok && p != l.not && l.kw == "exists" {
				skip = true
				break
			}
			polarity[ck] = l.not
			var field string
			var value *jvalue
			switch l.kw {
			case "exists":
				field = l.value.get("path").s
			case "equals", "range":
				field = l.value.keys[0]
				value = l.value.vals[0]
			default:
				continue
			}
			switch {
			case l.kw == "equals" && !l.not:
				if prev, ok := equals[field]; ok && !strictEqual(prev, value) {
					skip = true
				}
				equals[field] = value
				if notexists[field] || notequals[field][scalarOf(value)] || outOfRange(value, ranges[field]) {
					skip = true
				}
			case l.kw == "equals" && l.not:
				if notequals[field] == nil {
					notequals[field] = map[scalarKey]bool{}
				}
				notequals[field][scalarOf(value)] = true
				if prev, ok := equals[field]; ok && strictEqual(prev, value) {
					skip = true
				}
			case l.kw == "exists" && !l.not:
				exists[field] = true
				if notexists[field] {
					skip = true
				}
			case l.kw == "exists" && l.not:
				if l.value.get("array").b {
					continue
				}
				notexists[field] = true
				if _, ok := equals[field]; ok || exists[field] || ranges[field] != nil {
					skip = true
				}
			case l.kw == "range" && !l.not:
				ranges[field] = value
				if notexists[field] {
					skip = true
				}
				if eq, ok := equals[field]; ok && outOfRange(eq, value) {
					skip = true
				}
			}
			if skip {
				break
			}
		}
		if !skip {
			result = append(result, ands)
		}
	}
	if len(result) == 0 {
		return [][]rawLiteral{{{kw: "nothing", value: jbool(true)}}}
	}
	return result
}

func strictEqual(a, b *jvalue) bool {
	return scalarOf(a) == scalarOf(b)
}

// outOfRange applies Koncorde's naive check of an equals value against a
// range (JavaScript relational comparison, so non-numbers coerce).
func outOfRange(v, rng *jvalue) bool {
	if rng == nil {
		return false
	}
	x := jsToNumber(v)
	for i, k := range rng.keys {
		b := rng.vals[i]
		if b.kind != jNumber {
			continue
		}
		switch k {
		case "lt":
			if x >= b.n {
				return true
			}
		case "lte":
			if x > b.n {
				return true
			}
		case "gt":
			if x <= b.n {
				return true
			}
		case "gte":
			if x < b.n {
				return true
			}
		}
	}
	return false
}

// jsToNumber is JavaScript's ToNumber for a JSON scalar.
func jsToNumber(v *jvalue) float64 {
	switch v.kind {
	case jNull:
		return 0
	case jBool:
		if v.b {
			return 1
		}
		return 0
	case jNumber:
		return v.n
	case jString:
		s := strings.TrimSpace(v.s)
		if s == "" {
			return 0
		}
		switch s {
		case "Infinity", "+Infinity":
			return math.Inf(1)
		case "-Infinity":
			return math.Inf(-1)
		}
		if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'o' || s[1] == 'O' || s[1] == 'b' || s[1] == 'B') {
			base := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'O': 8, 'b': 2, 'B': 2}[s[1]]
			n, err := strconv.ParseUint(s[2:], base, 64)
			if err != nil {
				return math.NaN()
			}
			return float64(n)
		}
		for _, r := range s {
			if !strings.ContainsRune("0123456789+-.eE", r) {
				return math.NaN()
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	return math.NaN()
}
