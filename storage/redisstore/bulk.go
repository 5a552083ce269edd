package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/storage"
)

// itemError reports whether err belongs to one item of an m* action (and
// goes to BulkResult.Errors) rather than to the whole request.
func itemError(err error) bool {
	var se *storage.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Kind != storage.ErrUnknownIndex && se.Kind != storage.ErrUnknownCollection
}

// mWrite runs write.lua for every item in one pipelined round trip.
func (s *Store) mWrite(ctx context.Context, mode, index, coll string, items []storage.BulkItem) (storage.BulkResult, error) {
	out := storage.BulkResult{Successes: []storage.BulkSuccess{}, Errors: []storage.BulkError{}}
	if err := s.requireCollection(ctx, index, coll); err != nil {
		return out, err
	}
	execs := make([]rueidis.LuaExec, 0, len(items))
	ids := make([]string, 0, len(items))
	pos := make([]int, 0, len(items)) // item index of each exec
	ck := s.k.coll(index, coll)
	for i, it := range items {
		id := it.ID
		if id == "" && mode == "create" {
			id = newID()
		}
		if err := checkID(id); err != nil {
			out.Errors = append(out.Errors, storage.BulkError{ID: it.ID, Source: it.Source, Err: err})
			continue
		}
		raw, err := encodeSource(it.Source)
		if err != nil {
			out.Errors = append(out.Errors, storage.BulkError{ID: it.ID, Source: it.Source, Err: err})
			continue
		}
		execs = append(execs, rueidis.LuaExec{Keys: ck, Args: []string{mode, id, raw}})
		ids = append(ids, id)
		pos = append(pos, i)
	}
	if len(execs) == 0 {
		return out, nil
	}
	for j, r := range s.write.ExecMulti(ctx, s.c, execs...) {
		it := items[pos[j]]
		res, err := r.ToArray()
		if err != nil {
			return out, fmt.Errorf("redisstore: bulk %s: %w", mode, err)
		}
		doc, created, err := s.writeOutcome(ctx, res, index, coll, ids[j], it.Source)
		switch {
		case err == nil:
			out.Successes = append(out.Successes, storage.BulkSuccess{Document: doc, Created: created})
		case itemError(err):
			out.Errors = append(out.Errors, storage.BulkError{ID: it.ID, Source: it.Source, Err: err})
		default:
			return out, err
		}
	}
	return out, nil
}

// MCreate implements storage.Store.
func (s *Store) MCreate(ctx context.Context, index, coll string, items []storage.BulkItem, _ storage.WriteOptions) (storage.BulkResult, error) {
	return s.mWrite(ctx, "create", index, coll, items)
}

// MCreateOrReplace implements storage.Store.
func (s *Store) MCreateOrReplace(ctx context.Context, index, coll string, items []storage.BulkItem, _ storage.WriteOptions) (storage.BulkResult, error) {
	return s.mWrite(ctx, "createOrReplace", index, coll, items)
}

// MReplace implements storage.Store.
func (s *Store) MReplace(ctx context.Context, index, coll string, items []storage.BulkItem, _ storage.WriteOptions) (storage.BulkResult, error) {
	return s.mWrite(ctx, "replace", index, coll, items)
}

// MUpdate implements storage.Store.
func (s *Store) MUpdate(ctx context.Context, index, coll string, items []storage.BulkItem, opts storage.UpdateOptions) (storage.BulkResult, error) {
	ups := make([]modification, len(items))
	for i, it := range items {
		ups[i] = modification{id: it.ID, input: it.Source, fn: func(cur *storage.Document) (map[string]any, error) {
			if cur == nil {
				return nil, storage.NotFound(index, coll, it.ID)
			}
			return storage.MergeDocument(cur.Source, it.Source), nil
		}}
	}
	return s.mModify(ctx, index, coll, ups, opts.RetryOnConflict)
}

// MUpsert implements storage.Store.
func (s *Store) MUpsert(ctx context.Context, index, coll string, items []storage.UpsertItem, opts storage.UpdateOptions) (storage.BulkResult, error) {
	ups := make([]modification, len(items))
	for i, it := range items {
		ups[i] = modification{id: it.ID, input: it.Changes, fn: upsertFunc(it.Changes, it.Defaults)}
	}
	return s.mModify(ctx, index, coll, ups, opts.RetryOnConflict)
}

// modification is one read-modify-write of an m* update.
type modification struct {
	id    string
	input map[string]any // reported with a failure
	fn    func(cur *storage.Document) (map[string]any, error)
}

// mModify applies modifications in two pipelined round trips: one read of
// every document, then one compare-and-set per document. Items that lose a
// race with another writer go through the single-document retry loop.
func (s *Store) mModify(ctx context.Context, index, coll string, mods []modification, retries int) (storage.BulkResult, error) {
	out := storage.BulkResult{Successes: []storage.BulkSuccess{}, Errors: []storage.BulkError{}}
	if err := s.requireCollection(ctx, index, coll); err != nil {
		return out, err
	}
	ids := make([]string, 0, len(mods))
	for _, m := range mods {
		if m.id != "" {
			ids = append(ids, m.id)
		}
	}
	current := map[string]storage.Document{}
	if len(ids) > 0 {
		docs, err := s.load(ctx, index, coll, ids)
		if err != nil {
			return out, err
		}
		for _, d := range docs {
			current[d.ID] = d
		}
	}
	type pending struct {
		mod     modification
		src     map[string]any
		created bool
	}
	var execs []rueidis.LuaExec
	var sent []pending
	ck := s.k.coll(index, coll)
	results := make([]*storage.BulkSuccess, len(mods))
	errs := make([]error, len(mods))
	slot := make([]int, 0, len(mods)) // mods index of each exec
	for i, m := range mods {
		if err := checkID(m.id); err != nil {
			errs[i] = err
			continue
		}
		var cur *storage.Document
		var expected int64
		if d, ok := current[m.id]; ok {
			cur, expected = &d, d.Version
		}
		src, err := m.fn(cur)
		if err != nil {
			errs[i] = err
			continue
		}
		raw, err := encodeSource(src)
		if err != nil {
			errs[i] = err
			continue
		}
		execs = append(execs, rueidis.LuaExec{Keys: ck, Args: []string{m.id, strconv.FormatInt(expected, 10), raw}})
		sent = append(sent, pending{mod: m, src: src, created: cur == nil})
		slot = append(slot, i)
	}
	if len(execs) > 0 {
		for j, r := range s.cas.ExecMulti(ctx, s.c, execs...) {
			i, p := slot[j], sent[j]
			res, err := r.ToArray()
			if err != nil {
				return out, fmt.Errorf("redisstore: bulk update: %w", err)
			}
			status, err := res[0].ToString()
			if err != nil {
				return out, fmt.Errorf("redisstore: bulk update reply: %w", err)
			}
			switch status {
			case "nocoll":
				return out, s.missingCollection(ctx, index, coll)
			case "conflict":
				doc, created, err := s.modify(ctx, index, coll, p.mod.id, retries, p.mod.fn)
				if err != nil {
					errs[i] = err
					continue
				}
				results[i] = &storage.BulkSuccess{Document: doc, Created: created}
			default:
				v, err := res[1].AsInt64()
				if err != nil {
					return out, fmt.Errorf("redisstore: bulk update reply: %w", err)
				}
				results[i] = &storage.BulkSuccess{Document: storage.Document{ID: p.mod.id, Version: v, Source: p.src}, Created: p.created}
			}
		}
	}
	for i, m := range mods {
		switch {
		case results[i] != nil:
			out.Successes = append(out.Successes, *results[i])
		case itemError(errs[i]):
			out.Errors = append(out.Errors, storage.BulkError{ID: m.id, Source: m.input, Err: errs[i]})
		case errs[i] != nil:
			return out, errs[i]
		}
	}
	return out, nil
}

// MDelete implements storage.Store.
func (s *Store) MDelete(ctx context.Context, index, coll string, ids []string, _ storage.WriteOptions) (storage.BulkResult, error) {
	out := storage.BulkResult{Successes: []storage.BulkSuccess{}, Errors: []storage.BulkError{}}
	if err := s.requireCollection(ctx, index, coll); err != nil {
		return out, err
	}
	if len(ids) == 0 {
		return out, nil
	}
	ck := s.k.coll(index, coll)
	execs := make([]rueidis.LuaExec, len(ids))
	for i, id := range ids {
		execs[i] = rueidis.LuaExec{Keys: ck, Args: []string{id}}
	}
	for i, r := range s.del.ExecMulti(ctx, s.c, execs...) {
		res, err := r.ToArray()
		if err != nil {
			return out, fmt.Errorf("redisstore: bulk delete: %w", err)
		}
		doc, err := s.deleteOutcome(ctx, res, index, coll, ids[i])
		switch {
		case err == nil:
			out.Successes = append(out.Successes, storage.BulkSuccess{Document: doc})
		case itemError(err):
			out.Errors = append(out.Errors, storage.BulkError{ID: ids[i], Err: err})
		default:
			return out, err
		}
	}
	return out, nil
}
