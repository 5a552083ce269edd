package elasticsearch

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/streamcluster/streamcluster/storage"
)

// kuzzleInfoMapping is the mapping Kuzzle adds to every collection for the
// _kuzzle_info metadata (commonMapping).
var kuzzleInfoMapping = map[string]any{
	"properties": map[string]any{
		"author":    map[string]any{"type": "keyword"},
		"createdAt": map[string]any{"type": "date"},
		"updater":   map[string]any{"type": "keyword"},
		"updatedAt": map[string]any{"type": "date"},
	},
}

type catAlias struct {
	Alias string `json:"alias"`
	Index string `json:"index"`
}

// aliases lists the public aliases matching the escaped pattern.
func (s *Store) aliases(ctx context.Context, pattern string) ([]catAlias, error) {
	var out []catAlias
	err := s.do(ctx, request{method: http.MethodGet, path: "/_cat/aliases/" + pattern, query: url.Values{"format": {"json"}}}, &out)
	if err != nil {
		return nil, s.mapError(err, "", "", "")
	}
	return out, nil
}

func (s *Store) settings() map[string]any {
	return map[string]any{"number_of_shards": s.cfg.Shards, "number_of_replicas": s.cfg.Replicas}
}

// CreateIndex implements storage.Store: it creates the index's hidden
// collection, as Kuzzle does.
func (s *Store) CreateIndex(ctx context.Context, index string) error {
	if err := storage.ValidateIndexName(index); err != nil {
		return err
	}
	ok, err := s.IndexExists(ctx, index)
	if err != nil {
		return err
	}
	if ok {
		return storage.IndexAlreadyExists(index)
	}
	return s.createHidden(ctx, index)
}

func (s *Store) createHidden(ctx context.Context, index string) error {
	err := s.do(ctx, request{method: http.MethodPut, path: path(indice(index, hidden)), body: map[string]any{
		"aliases":  map[string]any{alias(index, hidden): map[string]any{}},
		"settings": s.settings(),
	}}, nil)
	if err != nil {
		var re *responseError
		if errors.As(err, &re) && re.Err.Type == "resource_already_exists_exception" {
			return storage.IndexAlreadyExists(index)
		}
		return s.mapError(err, index, "", "")
	}
	return nil
}

// DeleteIndex implements storage.Store.
func (s *Store) DeleteIndex(ctx context.Context, index string) error {
	als, err := s.aliases(ctx, aliasPattern(index))
	if err != nil {
		return err
	}
	if len(als) == 0 {
		return storage.UnknownIndex(index)
	}
	names := make([]string, len(als))
	for i, a := range als {
		names[i] = url.PathEscape(a.Index)
	}
	slices.Sort(names)
	if err := s.do(ctx, request{method: http.MethodDelete, path: "/" + strings.Join(names, ",")}, nil); err != nil {
		return s.mapError(err, index, "", "")
	}
	return nil
}

// IndexExists implements storage.Store: an index exists while one of its
// collections (or its hidden one) has an alias, as Kuzzle decides. The cat
// API answers [] for a pattern that matches nothing, where the alias API's
// HEAD answers differ between versions for wildcards.
func (s *Store) IndexExists(ctx context.Context, index string) (bool, error) {
	als, err := s.aliases(ctx, aliasPattern(index))
	return len(als) > 0, err
}

// ListIndexes implements storage.Store.
func (s *Store) ListIndexes(ctx context.Context) ([]string, error) {
	als, err := s.aliases(ctx, allAliases())
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, a := range als {
		if index, _, ok := splitAlias(a.Alias); ok && !slices.Contains(out, index) {
			out = append(out, index)
		}
	}
	slices.Sort(out)
	return out, nil
}

// MDeleteIndexes implements storage.Store.
func (s *Store) MDeleteIndexes(ctx context.Context, names []string) ([]string, error) {
	return storage.DeleteIndexes(ctx, names, s.DeleteIndex)
}

// CreateCollection implements storage.Store. The real collection is
// created before the hidden one is dropped, so the index never looks
// missing in between.
func (s *Store) CreateCollection(ctx context.Context, index, coll string, mappings json.RawMessage) error {
	if err := storage.ValidateIndexName(index); err != nil {
		return err
	}
	if err := storage.ValidateCollectionName(coll); err != nil {
		return err
	}
	in, err := storage.ParseMappings(mappings)
	if err != nil {
		return err
	}
	ok, err := s.IndexExists(ctx, index)
	if err != nil {
		return err
	}
	if !ok {
		return storage.UnknownIndex(index)
	}
	ok, err = s.CollectionExists(ctx, index, coll)
	if err != nil {
		return err
	}
	if ok {
		return s.UpdateCollection(ctx, index, coll, mappings)
	}
	m := storage.NewMappings(in)
	props := storage.CopySource(m.Properties)
	props["_kuzzle_info"] = kuzzleInfoMapping
	esMappings := map[string]any{"dynamic": m.Dynamic, "properties": props}
	if m.Meta != nil {
		esMappings["_meta"] = m.Meta
	}
	err = s.do(ctx, request{method: http.MethodPut, path: path(indice(index, coll)), body: map[string]any{
		"aliases":  map[string]any{alias(index, coll): map[string]any{}},
		"mappings": esMappings,
		"settings": s.settings(),
	}}, nil)
	if err != nil {
		var re *responseError
		if !errors.As(err, &re) || re.Err.Type != "resource_already_exists_exception" {
			return s.mapError(err, index, coll, "")
		}
		// Created concurrently: fine, as in Kuzzle.
	}
	err = s.do(ctx, request{method: http.MethodDelete, path: path(indice(index, hidden))}, nil)
	if err != nil && status(err) != http.StatusNotFound {
		return s.mapError(err, index, hidden, "")
	}
	return nil
}

// UpdateCollection implements storage.Store.
func (s *Store) UpdateCollection(ctx context.Context, index, coll string, mappings json.RawMessage) error {
	in, err := storage.ParseMappings(mappings)
	if err != nil {
		return err
	}
	body := map[string]any{}
	if d, ok := in.Dynamic.(string); ok {
		body["dynamic"] = d
	}
	if in.Meta != nil {
		body["_meta"] = in.Meta
	}
	if in.Properties != nil {
		body["properties"] = in.Properties
	}
	if len(body) == 0 {
		return s.requireCollection(ctx, index, coll)
	}
	err = s.do(ctx, request{method: http.MethodPut, path: path(alias(index, coll), "_mapping"), body: body}, nil)
	if err != nil {
		return s.collectionError(ctx, err, index, coll, "")
	}
	return nil
}

// DeleteCollection implements storage.Store. Deleting the last collection
// recreates the hidden one so the index survives, as in Kuzzle.
func (s *Store) DeleteCollection(ctx context.Context, index, coll string) error {
	if err := s.do(ctx, request{method: http.MethodDelete, path: path(indice(index, coll))}, nil); err != nil {
		return s.collectionError(ctx, err, index, coll, "")
	}
	ok, err := s.IndexExists(ctx, index)
	if err != nil {
		return err
	}
	if !ok {
		err := s.createHidden(ctx, index)
		if storage.IsKind(err, storage.ErrIndexAlreadyExists) {
			return nil
		}
		return err
	}
	return nil
}

// CollectionExists implements storage.Store.
func (s *Store) CollectionExists(ctx context.Context, index, coll string) (bool, error) {
	return s.exists(ctx, path("_alias", alias(index, coll)))
}

func (s *Store) requireCollection(ctx context.Context, index, coll string) error {
	ok, err := s.CollectionExists(ctx, index, coll)
	if err != nil {
		return err
	}
	if !ok {
		return s.missingCollection(ctx, index, coll)
	}
	return nil
}

// ListCollections implements storage.Store.
func (s *Store) ListCollections(ctx context.Context, index string) ([]string, error) {
	als, err := s.aliases(ctx, aliasPattern(index))
	if err != nil {
		return nil, err
	}
	if len(als) == 0 {
		return nil, storage.UnknownIndex(index)
	}
	out := []string{}
	for _, a := range als {
		if i, c, ok := splitAlias(a.Alias); ok && i == index && c != hidden {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}

// TruncateCollection implements storage.Store with a delete-by-query, which
// keeps the mappings and settings.
func (s *Store) TruncateCollection(ctx context.Context, index, coll string) error {
	err := s.do(ctx, request{
		method: http.MethodPost,
		path:   path(alias(index, coll), "_delete_by_query"),
		query:  url.Values{"conflicts": {"proceed"}, "refresh": {"true"}},
		body:   map[string]any{"query": map[string]any{"match_all": map[string]any{}}},
	}, nil)
	if err != nil {
		return s.collectionError(ctx, err, index, coll, "")
	}
	return nil
}

// RefreshCollection implements storage.Store.
func (s *Store) RefreshCollection(ctx context.Context, index, coll string) error {
	if err := s.do(ctx, request{method: http.MethodPost, path: path(alias(index, coll), "_refresh")}, nil); err != nil {
		return s.collectionError(ctx, err, index, coll, "")
	}
	return nil
}

// GetMapping implements storage.Store. Kuzzle's _kuzzle_info mapping is
// left out, as Kuzzle does by default.
func (s *Store) GetMapping(ctx context.Context, index, coll string) (json.RawMessage, error) {
	var res map[string]struct {
		Mappings struct {
			Dynamic    any            `json:"dynamic"`
			Meta       map[string]any `json:"_meta"`
			Properties map[string]any `json:"properties"`
		} `json:"mappings"`
	}
	if err := s.do(ctx, request{method: http.MethodGet, path: path(alias(index, coll), "_mapping")}, &res); err != nil {
		return nil, s.collectionError(ctx, err, index, coll, "")
	}
	for _, v := range res {
		m := storage.Mappings{Dynamic: storage.DefaultDynamic, Meta: v.Mappings.Meta, Properties: v.Mappings.Properties}
		switch d := v.Mappings.Dynamic.(type) {
		case string:
			m.Dynamic = d
		case bool:
			m.Dynamic = "false"
			if d {
				m.Dynamic = "true"
			}
		}
		if m.Properties == nil {
			m.Properties = map[string]any{}
		}
		delete(m.Properties, "_kuzzle_info")
		return json.Marshal(m)
	}
	return nil, s.missingCollection(ctx, index, coll)
}
