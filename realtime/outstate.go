package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/rueidis"
)

// OutState remembers, for each document, the rooms it matched after its
// last change. A later change that no longer matches one of them notifies
// that room with scope "out".
type OutState interface {
	// Rooms returns, for each id, the rooms recorded for the document
	// (nil when none).
	Rooms(ctx context.Context, index, collection string, ids []string) ([][]string, error)
	// Save records rooms[i] for ids[i]; an empty list forgets the document.
	Save(ctx context.Context, index, collection string, ids []string, rooms [][]string) error
}

// DefaultOutStateTTL is how long a document's rooms are remembered after its
// last change (Kuzzle's limits.subscriptionDocumentTTL, 72 hours).
const DefaultOutStateTTL = 72 * time.Hour

// RedisOutState keeps the out-state in Redis, one string key per document
// holding the JSON array of its room ids, under
// "<prefix>:notif:{<index>/<collection>/<id>}" (one hash tag per document,
// so documents spread over a Redis Cluster's shards).
type RedisOutState struct {
	client rueidis.Client
	prefix string
	ttl    time.Duration
}

var _ OutState = (*RedisOutState)(nil)

// NewRedisOutState returns an out-state on client with key prefix prefix
// and entry lifetime ttl (DefaultOutStateTTL when zero).
func NewRedisOutState(client rueidis.Client, prefix string, ttl time.Duration) *RedisOutState {
	if ttl <= 0 {
		ttl = DefaultOutStateTTL
	}
	return &RedisOutState{client: client, prefix: prefix, ttl: ttl}
}

func (s *RedisOutState) key(index, collection, id string) string {
	return s.prefix + ":notif:{" + index + "/" + collection + "/" + id + "}"
}

// Rooms implements OutState.
func (s *RedisOutState) Rooms(ctx context.Context, index, collection string, ids []string) ([][]string, error) {
	cmds := make(rueidis.Commands, len(ids))
	for i, id := range ids {
		cmds[i] = s.client.B().Get().Key(s.key(index, collection, id)).Build()
	}
	out := make([][]string, len(ids))
	for i, res := range s.client.DoMulti(ctx, cmds...) {
		v, err := res.ToString()
		if rueidis.IsRedisNil(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("realtime: read out-state: %w", err)
		}
		if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
			return nil, fmt.Errorf("realtime: decode out-state of %q: %w", ids[i], err)
		}
	}
	return out, nil
}

// Save implements OutState.
func (s *RedisOutState) Save(ctx context.Context, index, collection string, ids []string, rooms [][]string) error {
	cmds := make(rueidis.Commands, len(ids))
	for i, id := range ids {
		k := s.key(index, collection, id)
		if len(rooms[i]) == 0 {
			cmds[i] = s.client.B().Del().Key(k).Build()
			continue
		}
		v, err := json.Marshal(rooms[i])
		if err != nil {
			return err
		}
		cmds[i] = s.client.B().Set().Key(k).Value(string(v)).Px(s.ttl).Build()
	}
	for _, res := range s.client.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			return fmt.Errorf("realtime: write out-state: %w", err)
		}
	}
	return nil
}
