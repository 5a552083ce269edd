package koncorde

import (
	"math"
	"sort"
	"strings"
	"sync"
)

// Engine holds registered filters (rooms) and tells which of them a
// document matches. Conditions are indexed per index/collection, per field
// and per operand: a hash table for equals and exists, interval trees for
// ranges and geo envelopes. Identical conditions and identical AND-groups
// are shared between rooms, so testing a document costs in proportion to the
// conditions it can match, not to the number of rooms.
//
// Engine is safe for concurrent use: Test runs in parallel with other Test
// calls; Register and Remove take an exclusive lock.
type Engine struct {
	cfg Config

	mu    sync.RWMutex
	colls map[collKey]*collection
	rooms map[string]*room

	subSlots   slotAllocator
	roomSlots  slotAllocator
	fieldSlots slotAllocator

	// scratches is a stack of matching states for Test calls. Unlike a
	// sync.Pool it is not emptied by the garbage collector, whose clearing
	// would reallocate arrays sized to the number of rooms.
	scratchMu sync.Mutex
	scratches []*scratch

	lookupMax int // fieldLookupMax; tests lower it to exercise the walk
}

type collKey struct{ index, collection string }

// subRef is a subfilter as a condition sees it: its counter slot and its
// number of conditions are copied, so that matching touches the subfilter
// itself only when all its conditions matched.
type subRef struct {
	slot int32
	need uint32
	sf   *subfilter
}

type room struct {
	id   string
	f    *Filter
	coll *collection
	subs []*subfilter
	slot int32
}

// subfilter is one AND-group, shared by every room whose normalized filter
// contains it.
type subfilter struct {
	key   string
	slot  int32
	conds []*cond
	rooms []*room
}

// cond is one condition, shared by every subfilter that contains it.
type cond struct {
	c     *condition
	subs  []subRef
	field *fieldIndex
	nodes [2]*itNode
}

type collection struct {
	subfilters map[string]*subfilter
	conds      map[string]*cond
	fields     map[string]*fieldIndex
	fieldList  []*fieldIndex
	negFields  []*fieldIndex // fields with conditions that match when the field is absent
	fieldSlots slotAllocator
	rooms      map[string]*room
	always     []*cond // everything, not nothing
	scan       []*cond // match, select: evaluated for every document
}

type fieldIndex struct {
	path string
	refs int
	slot int32
	neg  int // number of negative conditions (listed in collection.negFields when > 0)

	equals       map[scalarKey]*cond
	notEquals    []*cond
	notEqualsBy  map[scalarKey]*cond
	exists       *cond
	notExists    *cond
	existsArr    map[scalarKey]*cond
	notExistsArr []*cond
	ranges       itree
	notRanges    itree
	notRangeAll  []*cond
	regexps      []*cond
	notRegexps   []*cond
	geo          itree
	notGeo       []*cond
}

type slotAllocator struct {
	next int32
	free []int32
}

func (a *slotAllocator) get() int32 {
	if n := len(a.free); n > 0 {
		s := a.free[n-1]
		a.free = a.free[:n-1]
		return s
	}
	a.next++
	return a.next - 1
}

func (a *slotAllocator) put(s int32) { a.free = append(a.free, s) }

// NewEngine returns an empty engine. Zero fields of cfg take their defaults;
// an invalid cfg (see Config.Validate) is replaced by DefaultConfig().
func NewEngine(cfg Config) *Engine {
	cfg = cfg.withDefaults()
	if cfg.Validate() != nil {
		cfg = DefaultConfig()
	}
	e := &Engine{
		cfg:   cfg,
		colls: map[collKey]*collection{},
		rooms: map[string]*room{},

		lookupMax: fieldLookupMax,
	}
	return e
}

// Config returns the engine's configuration, defaults applied.
func (e *Engine) Config() Config { return e.cfg }

// Normalize is the package-level Normalize with the engine's configuration.
func (e *Engine) Normalize(index, collection string, filter []byte) (*Filter, error) {
	return Normalize(e.cfg, index, collection, filter)
}

// Register adds a normalized filter. It returns its room id, and whether the
// room was created (false if a filter with the same id was already there).
func (e *Engine) Register(f *Filter) (roomID string, created bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.rooms[f.roomID]; ok {
		return f.roomID, false
	}
	k := collKey{f.index, f.collection}
	coll := e.colls[k]
	if coll == nil {
		coll = &collection{
			subfilters: map[string]*subfilter{},
			conds:      map[string]*cond{},
			fields:     map[string]*fieldIndex{},
			rooms:      map[string]*room{},
		}
		e.colls[k] = coll
	}
	r := &room{id: f.roomID, f: f, coll: coll, slot: e.roomSlots.get()}
	for _, and := range f.dnf {
		sf := e.subfilterFor(coll, and)
		dup := false
		for _, s := range r.subs {
			if s == sf {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		sf.rooms = append(sf.rooms, r)
		r.subs = append(r.subs, sf)
	}
	coll.rooms[r.id] = r
	e.rooms[r.id] = r
	return r.id, true
}

func subfilterKey(and []*condition) string {
	var b strings.Builder
	for i, c := range and {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(c.key)
	}
	return b.String()
}

func (e *Engine) subfilterFor(coll *collection, and []*condition) *subfilter {
	key := subfilterKey(and)
	if sf := coll.subfilters[key]; sf != nil {
		return sf
	}
	sf := &subfilter{key: key, slot: e.subSlots.get()}
	for _, c := range and {
		cd := coll.conds[c.key]
		if cd == nil {
			cd = &cond{c: c}
			coll.conds[c.key] = cd
			e.index(coll, cd)
		}
		dup := false
		for _, x := range sf.conds {
			if x == cd {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		cd.subs = append(cd.subs, subRef{slot: sf.slot, sf: sf})
		sf.conds = append(sf.conds, cd)
	}
	for _, cd := range sf.conds {
		for i := range cd.subs {
			if cd.subs[i].sf == sf {
				cd.subs[i].need = uint32(len(sf.conds))
			}
		}
	}
	coll.subfilters[key] = sf
	return sf
}

// Remove deletes a room. It reports whether the room existed.
func (e *Engine) Remove(roomID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.rooms[roomID]
	if r == nil {
		return false
	}
	coll := r.coll
	for _, sf := range r.subs {
		sf.rooms = removeItem(sf.rooms, r)
		if len(sf.rooms) > 0 {
			continue
		}
		for _, cd := range sf.conds {
			cd.subs = removeSubRef(cd.subs, sf)
			if len(cd.subs) == 0 {
				e.unindex(coll, cd)
				delete(coll.conds, cd.c.key)
			}
		}
		delete(coll.subfilters, sf.key)
		e.subSlots.put(sf.slot)
	}
	delete(coll.rooms, roomID)
	delete(e.rooms, roomID)
	e.roomSlots.put(r.slot)
	if len(coll.rooms) == 0 {
		delete(e.colls, collKey{r.f.index, r.f.collection})
	}
	return true
}

func removeItem[T comparable](s []T, x T) []T {
	for i, y := range s {
		if y == x {
			last := len(s) - 1
			s[i] = s[last]
			var zero T
			s[last] = zero
			return s[:last]
		}
	}
	return s
}

func removeSubRef(s []subRef, sf *subfilter) []subRef {
	for i := range s {
		if s[i].sf == sf {
			last := len(s) - 1
			s[i] = s[last]
			s[last] = subRef{}
			return s[:last]
		}
	}
	return s
}

// Has reports whether a room is registered.
func (e *Engine) Has(roomID string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	_, ok := e.rooms[roomID]
	return ok
}

// Filter returns a registered room's filter.
func (e *Engine) Filter(roomID string) (*Filter, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	r, ok := e.rooms[roomID]
	if !ok {
		return nil, false
	}
	return r.f, true
}

// Rooms returns the sorted room ids registered on an index and collection.
func (e *Engine) Rooms(index, collection string) []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	coll := e.colls[collKey{index, collection}]
	if coll == nil {
		return nil
	}
	out := make([]string, 0, len(coll.rooms))
	for id := range coll.rooms {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Len returns the number of registered rooms.
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.rooms)
}

// Test returns the ids of the rooms of index/collection that doc matches,
// in no particular order. doc is a document as decoded by encoding/json
// (numbers are float64); id is its _id ("" if none), which filters can test
// as the field "_id".
func (e *Engine) Test(index, collection string, doc map[string]any, id string) []string {
	return e.TestAppend(nil, index, collection, doc, id)
}

// TestAppend is Test appending to dst, so that a caller can reuse a slice.
func (e *Engine) TestAppend(dst []string, index, collection string, doc map[string]any, id string) []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	coll := e.colls[collKey{index, collection}]
	if coll == nil {
		return dst
	}
	s := e.getScratch()
	s.begin(int(e.subSlots.next), int(e.roomSlots.next), int(e.fieldSlots.next))
	s.dst = dst
	d := docView{m: doc, id: id}
	for _, cd := range coll.always {
		s.hit(cd)
	}
	if len(coll.fieldList) <= e.lookupMax {
		// Few indexed fields: look each one up in the document.
		for _, fi := range coll.fieldList {
			v, ok := d.get(fi.path)
			fi.test(v, ok, s)
		}
	} else {
		// Many indexed fields: walk the document's flattened paths.
		if id != "" {
			if fi := coll.fields["_id"]; fi != nil {
				s.fieldEpoch[fi.slot] = s.epoch
				fi.test(id, true, s)
			}
		}
		s.walk(coll, doc, doc, s.buf[:0], id != "")
		// Fields absent from the document, with conditions matching that.
		for _, fi := range coll.negFields {
			if s.fieldEpoch[fi.slot] != s.epoch {
				fi.test(nil, false, s)
			}
		}
	}
	for _, cd := range coll.scan {
		if cd.c.eval(&d) {
			s.hit(cd)
		}
	}
	dst = s.dst
	s.dst = nil
	s.cands = s.cands[:0]
	e.putScratch(s)
	return dst
}

// maxIdleScratches bounds the matching states kept between Test calls.
const maxIdleScratches = 64

func (e *Engine) getScratch() *scratch {
	e.scratchMu.Lock()
	defer e.scratchMu.Unlock()
	if n := len(e.scratches); n > 0 {
		s := e.scratches[n-1]
		e.scratches[n-1] = nil
		e.scratches = e.scratches[:n-1]
		return s
	}
	return &scratch{}
}

func (e *Engine) putScratch(s *scratch) {
	e.scratchMu.Lock()
	defer e.scratchMu.Unlock()
	if len(e.scratches) < maxIdleScratches {
		e.scratches = append(e.scratches, s)
	}
}

// fieldLookupMax is the number of indexed fields of a collection up to which
// Test looks each field up in the document; beyond it, Test walks the
// document's paths instead (its cost then follows the document's size).
const fieldLookupMax = 16

// scratch is the per-call matching state: a counter per AND-group and a
// mark per room and per field, reset in O(1) by bumping an epoch.
type scratch struct {
	epoch      uint32
	sfEpoch    []uint32
	sfCount    []uint32
	roomEpoch  []uint32
	fieldEpoch []uint32
	cands      []*cond
	dst        []string
	buf        []byte
}

func grow(s []uint32, n int) []uint32 {
	if len(s) >= n {
		return s
	}
	return make([]uint32, max(n, 2*len(s)))
}

func (s *scratch) begin(nSub, nRoom, nField int) {
	if len(s.sfEpoch) < nSub || len(s.roomEpoch) < nRoom || len(s.fieldEpoch) < nField {
		if len(s.sfEpoch) < nSub {
			s.sfEpoch = grow(s.sfEpoch, nSub)
			s.sfCount = make([]uint32, len(s.sfEpoch))
		}
		s.roomEpoch = grow(s.roomEpoch, nRoom)
		s.fieldEpoch = grow(s.fieldEpoch, nField)
		s.epoch = 0
		clear(s.sfEpoch)
		clear(s.roomEpoch)
		clear(s.fieldEpoch)
	}
	s.epoch++
	if s.epoch == 0 {
		clear(s.sfEpoch)
		clear(s.roomEpoch)
		clear(s.fieldEpoch)
		s.epoch = 1
	}
}

// walk visits the flattened paths of a document (Koncorde's flattening:
// nested objects give dotted paths, arrays are not descended) and tests the
// indexed fields found. A path reached twice (a literal dotted key and a
// nested one) is tested once, with the value docView.get resolves, so both
// Test modes agree.
func (s *scratch) walk(coll *collection, root, m map[string]any, prefix []byte, skipID bool) {
	n := len(prefix)
	for k, v := range m {
		if skipID && n == 0 && k == "_id" {
			continue
		}
		p := append(prefix[:n], k...)
		if cap(p) > cap(s.buf) {
			s.buf = p[:0]
		}
		if fi := coll.fields[string(p)]; fi != nil && s.fieldEpoch[fi.slot] != s.epoch {
			s.fieldEpoch[fi.slot] = s.epoch
			if n > 0 || strings.IndexByte(k, '.') >= 0 {
				// A dotted path may be ambiguous: resolve it as lookups do.
				v, _ = lookupPath(root, fi.path)
			}
			fi.test(v, true, s)
		}
		if sub, ok := v.(map[string]any); ok {
			s.walk(coll, root, sub, append(p, '.'), false)
		}
	}
}

func (s *scratch) hit(cd *cond) {
	for _, ref := range cd.subs {
		i := ref.slot
		if s.sfEpoch[i] != s.epoch {
			s.sfEpoch[i] = s.epoch
			s.sfCount[i] = 0
		}
		s.sfCount[i]++
		if s.sfCount[i] != ref.need {
			continue
		}
		for _, r := range ref.sf.rooms {
			if s.roomEpoch[r.slot] != s.epoch {
				s.roomEpoch[r.slot] = s.epoch
				s.dst = append(s.dst, r.id)
			}
		}
	}
}

func (e *Engine) fieldFor(coll *collection, path string) *fieldIndex {
	fi := coll.fields[path]
	if fi == nil {
		fi = &fieldIndex{path: path, slot: e.fieldSlots.get()}
		coll.fields[path] = fi
		coll.fieldList = append(coll.fieldList, fi)
	}
	fi.refs++
	return fi
}

func (e *Engine) releaseField(coll *collection, fi *fieldIndex) {
	fi.refs--
	if fi.refs == 0 {
		delete(coll.fields, fi.path)
		coll.fieldList = removeItem(coll.fieldList, fi)
		e.fieldSlots.put(fi.slot)
	}
}

// addNeg counts a condition that matches documents without the field.
func (coll *collection) addNeg(fi *fieldIndex) {
	fi.neg++
	if fi.neg == 1 {
		coll.negFields = append(coll.negFields, fi)
	}
}

func (coll *collection) releaseNeg(fi *fieldIndex) {
	fi.neg--
	if fi.neg == 0 {
		coll.negFields = removeItem(coll.negFields, fi)
	}
}

func (e *Engine) index(coll *collection, cd *cond) {
	c := cd.c
	switch c.kind {
	case kwEverything:
		coll.always = append(coll.always, cd)
		return
	case kwNothing:
		if c.not {
			coll.always = append(coll.always, cd)
		}
		return
	case kwMatch, kwSelect:
		coll.scan = append(coll.scan, cd)
		return
	}
	fi := e.fieldFor(coll, c.field)
	cd.field = fi
	if c.not {
		coll.addNeg(fi)
	}
	switch c.kind {
	case kwEquals:
		if c.not {
			fi.notEquals = append(fi.notEquals, cd)
			if fi.notEqualsBy == nil {
				fi.notEqualsBy = map[scalarKey]*cond{}
			}
			fi.notEqualsBy[c.val] = cd
		} else {
			if fi.equals == nil {
				fi.equals = map[scalarKey]*cond{}
			}
			fi.equals[c.val] = cd
		}
	case kwExists:
		switch {
		case !c.array && !c.not:
			fi.exists = cd
		case !c.array && c.not:
			fi.notExists = cd
		case c.not:
			fi.notExistsArr = append(fi.notExistsArr, cd)
		case c.arrOK:
			if fi.existsArr == nil {
				fi.existsArr = map[scalarKey]*cond{}
			}
			fi.existsArr[c.val] = cd
		}
	case kwRange:
		if !c.not {
			cd.nodes[0] = fi.ranges.insert(c.lo, c.hi, c.loIncl, c.hiIncl, cd)
		} else {
			fi.notRangeAll = append(fi.notRangeAll, cd)
			if !math.IsInf(c.lo, -1) {
				cd.nodes[0] = fi.notRanges.insert(math.Inf(-1), c.lo, true, !c.loIncl, cd)
			}
			if !math.IsInf(c.hi, 1) {
				cd.nodes[1] = fi.notRanges.insert(c.hi, math.Inf(1), !c.hiIncl, true, cd)
			}
		}
	case kwRegexp:
		if c.not {
			fi.notRegexps = append(fi.notRegexps, cd)
		} else {
			fi.regexps = append(fi.regexps, cd)
		}
	case kwGeo:
		if c.not {
			fi.notGeo = append(fi.notGeo, cd)
		} else {
			cd.nodes[0] = fi.geo.insert(c.shape.minLat, c.shape.maxLat, true, true, cd)
		}
	}
}

func (e *Engine) unindex(coll *collection, cd *cond) {
	c := cd.c
	switch c.kind {
	case kwEverything, kwNothing:
		coll.always = removeItem(coll.always, cd)
		return
	case kwMatch, kwSelect:
		coll.scan = removeItem(coll.scan, cd)
		return
	}
	fi := cd.field
	switch c.kind {
	case kwEquals:
		if c.not {
			fi.notEquals = removeItem(fi.notEquals, cd)
			delete(fi.notEqualsBy, c.val)
		} else {
			delete(fi.equals, c.val)
		}
	case kwExists:
		switch {
		case !c.array && !c.not:
			fi.exists = nil
		case !c.array && c.not:
			fi.notExists = nil
		case c.not:
			fi.notExistsArr = removeItem(fi.notExistsArr, cd)
		case c.arrOK:
			delete(fi.existsArr, c.val)
		}
	case kwRange:
		if !c.not {
			fi.ranges.remove(cd.nodes[0])
		} else {
			fi.notRangeAll = removeItem(fi.notRangeAll, cd)
			fi.notRanges.remove(cd.nodes[0])
			fi.notRanges.remove(cd.nodes[1])
		}
	case kwRegexp:
		if c.not {
			fi.notRegexps = removeItem(fi.notRegexps, cd)
		} else {
			fi.regexps = removeItem(fi.regexps, cd)
		}
	case kwGeo:
		if c.not {
			fi.notGeo = removeItem(fi.notGeo, cd)
		} else {
			fi.geo.remove(cd.nodes[0])
		}
	}
	if c.not {
		coll.releaseNeg(fi)
	}
	e.releaseField(coll, fi)
}

// test feeds the conditions on one field that doc satisfies to s.
func (fi *fieldIndex) test(v any, ok bool, s *scratch) {
	if len(fi.equals) > 0 || len(fi.notEquals) > 0 {
		k, isScalar := scalarOfAny(v)
		isScalar = isScalar && ok
		if isScalar && len(fi.equals) > 0 {
			if cd := fi.equals[k]; cd != nil {
				s.hit(cd)
			}
		}
		if len(fi.notEquals) > 0 {
			var except *cond
			if isScalar {
				except = fi.notEqualsBy[k]
			}
			for _, cd := range fi.notEquals {
				if cd != except {
					s.hit(cd)
				}
			}
		}
	}

	if ok {
		if fi.exists != nil {
			s.hit(fi.exists)
		}
	} else if fi.notExists != nil {
		s.hit(fi.notExists)
	}

	if len(fi.existsArr) > 0 || len(fi.notExistsArr) > 0 {
		arr, isArr := v.([]any)
		isArr = isArr && ok
		if isArr && len(fi.existsArr) > 0 {
			for i, el := range arr {
				k, sc := scalarOfAny(el)
				if !sc {
					continue
				}
				cd := fi.existsArr[k]
				if cd == nil || seenBefore(arr[:i], k) {
					continue
				}
				s.hit(cd)
			}
		}
		for _, cd := range fi.notExistsArr {
			if !isArr || !cd.c.arrOK || !arrayContains(arr, cd.c.val) {
				s.hit(cd)
			}
		}
	}

	if fi.ranges.n > 0 || fi.notRanges.n > 0 || len(fi.notRangeAll) > 0 {
		n, isNum := numOf(v)
		isNum = isNum && ok
		if isNum {
			s.cands = fi.ranges.stab(n, s.cands[:0])
			s.cands = fi.notRanges.stab(n, s.cands)
			for _, cd := range s.cands {
				s.hit(cd)
			}
			s.cands = s.cands[:0]
		} else {
			for _, cd := range fi.notRangeAll {
				s.hit(cd)
			}
		}
	}

	if len(fi.regexps) > 0 || len(fi.notRegexps) > 0 {
		str, isStr := v.(string)
		isStr = isStr && ok
		if isStr {
			for _, cd := range fi.regexps {
				if cd.c.re.MatchString(str) {
					s.hit(cd)
				}
			}
		}
		for _, cd := range fi.notRegexps {
			if !isStr || !cd.c.re.MatchString(str) {
				s.hit(cd)
			}
		}
	}

	if fi.geo.n > 0 || len(fi.notGeo) > 0 {
		fi.testGeo(v, ok, s)
	}
}

func (fi *fieldIndex) testGeo(v any, ok bool, s *scratch) {
	if !ok || !truthyAny(v) {
		for _, cd := range fi.notGeo {
			s.hit(cd)
		}
		return
	}
	p, isPoint := convertGeopointAny(v)
	if !isPoint {
		return
	}
	if fi.geo.n > 0 {
		s.cands = fi.geo.stab(p.lat, s.cands[:0])
		for _, cd := range s.cands {
			if cd.c.shape.covers(p) {
				s.hit(cd)
			}
		}
		s.cands = s.cands[:0]
	}
	for _, cd := range fi.notGeo {
		if !cd.c.shape.covers(p) {
			s.hit(cd)
		}
	}
}

func seenBefore(prefix []any, k scalarKey) bool {
	for _, el := range prefix {
		if pk, ok := scalarOfAny(el); ok && pk == k {
			return true
		}
	}
	return false
}
