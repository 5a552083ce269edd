package koncorde

import (
	"sort"
	"sync"
)

// matcher is what the fixture and property tests drive: the indexed Engine
// and the naive reference below.
type matcher interface {
	Register(f *Filter) (string, bool)
	Remove(roomID string) bool
	Has(roomID string) bool
	Test(index, collection string, doc map[string]any, id string) []string
	Rooms(index, collection string) []string
}

// refEngine is the naive reference evaluator: it keeps every filter in a
// map and evaluates each one against each document, with no index and no
// shared conditions.
type refEngine struct {
	mu      sync.Mutex
	filters map[string]*Filter
}

func newRefEngine() *refEngine { return &refEngine{filters: map[string]*Filter{}} }

func (r *refEngine) Register(f *Filter) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.filters[f.RoomID()]; ok {
		return f.RoomID(), false
	}
	r.filters[f.RoomID()] = f
	return f.RoomID(), true
}

func (r *refEngine) Remove(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.filters[id]
	delete(r.filters, id)
	return ok
}

func (r *refEngine) Has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.filters[id]
	return ok
}

func (r *refEngine) Test(index, collection string, doc map[string]any, id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for rid, f := range r.filters {
		if f.index == index && f.collection == collection && f.Match(doc, id) {
			out = append(out, rid)
		}
	}
	sort.Strings(out)
	return out
}

func (r *refEngine) Rooms(index, collection string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for rid, f := range r.filters {
		if f.index == index && f.collection == collection {
			out = append(out, rid)
		}
	}
	sort.Strings(out)
	return out
}
