package redisstore

import (
	"context"
	"errors"
	"fmt"

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
	out := storage.BulkResult{Successes: []storage.BulkSuccess{}, Errors: []storage.BulkError{}}
	if err := s.requireCollection(ctx, index, coll); err != nil {
		return out, err
	}
	for _, it := range items {
		doc, err := s.Update(ctx, index, coll, it.ID, it.Source, opts)
		switch {
		case err == nil:
			out.Successes = append(out.Successes, storage.BulkSuccess{Document: doc})
		case itemError(err):
			out.Errors = append(out.Errors, storage.BulkError{ID: it.ID, Source: it.Source, Err: err})
		default:
			return out, err
		}
	}
	return out, nil
}

// MUpsert implements storage.Store.
func (s *Store) MUpsert(ctx context.Context, index, coll string, items []storage.UpsertItem, opts storage.UpdateOptions) (storage.BulkResult, error) {
	out := storage.BulkResult{Successes: []storage.BulkSuccess{}, Errors: []storage.BulkError{}}
	if err := s.requireCollection(ctx, index, coll); err != nil {
		return out, err
	}
	for _, it := range items {
		doc, created, err := s.Upsert(ctx, index, coll, it.ID, it.Changes, it.Defaults, opts)
		switch {
		case err == nil:
			out.Successes = append(out.Successes, storage.BulkSuccess{Document: doc, Created: created})
		case itemError(err):
			out.Errors = append(out.Errors, storage.BulkError{ID: it.ID, Source: it.Changes, Err: err})
		default:
			return out, err
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
