package consumer

import (
	"context"
	"fmt"

	"github.com/redis/rueidis"
)

// GroupInfo is one consumer group's entry of XINFO GROUPS.
type GroupInfo struct {
	Name string
	// Consumers is the number of consumers in the group.
	Consumers int64
	// Pending is the number of delivered, unacknowledged entries.
	Pending int64
	// LastDeliveredID is the id of the last entry delivered to the group.
	LastDeliveredID string
	// Lag is the number of entries not yet delivered to the group, or -1
	// when Redis cannot tell (after deletions or trimming in the middle of
	// the stream).
	Lag int64
}

// Groups returns the consumer groups of stream (XINFO GROUPS). A missing
// stream has no group.
func Groups(ctx context.Context, client rueidis.Client, stream string) ([]GroupInfo, error) {
	// EXISTS in the same pipeline tells a missing stream apart from a
	// failure without looking at the error text.
	res := client.DoMulti(ctx, client.B().Exists().Key(stream).Build(), client.B().XinfoGroups().Key(stream).Build())
	if n, err := res[0].AsInt64(); err != nil {
		return nil, fmt.Errorf("consumer: EXISTS %s: %w", stream, err)
	} else if n == 0 {
		return nil, nil
	}
	arr, err := res[1].ToArray()
	if err != nil {
		return nil, fmt.Errorf("consumer: XINFO GROUPS %s: %w", stream, err)
	}
	out := make([]GroupInfo, 0, len(arr))
	for _, g := range arr {
		m, err := g.AsMap()
		if err != nil {
			return nil, fmt.Errorf("consumer: XINFO GROUPS %s: %w", stream, err)
		}
		info := GroupInfo{Lag: -1}
		if v, ok := m["name"]; ok {
			info.Name, _ = v.ToString()
		}
		if v, ok := m["consumers"]; ok {
			info.Consumers, _ = v.AsInt64()
		}
		if v, ok := m["pending"]; ok {
			info.Pending, _ = v.AsInt64()
		}
		if v, ok := m["last-delivered-id"]; ok {
			info.LastDeliveredID, _ = v.ToString()
		}
		if v, ok := m["lag"]; ok && !v.IsNil() {
			if lag, err := v.AsInt64(); err == nil {
				info.Lag = lag
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// Lag returns the lag and the pending count of one group of stream.
// found is false when the stream or the group does not exist.
func Lag(ctx context.Context, client rueidis.Client, stream, group string) (lag, pending int64, found bool, err error) {
	groups, err := Groups(ctx, client, stream)
	if err != nil {
		return 0, 0, false, err
	}
	for _, g := range groups {
		if g.Name == group {
			return g.Lag, g.Pending, true, nil
		}
	}
	return 0, 0, false, nil
}

// DestroyGroup removes a consumer group and its pending list (XGROUP
// DESTROY). Destroying a missing group, or a group of a missing stream, is
// not an error.
func DestroyGroup(ctx context.Context, client rueidis.Client, stream, group string) error {
	res := client.DoMulti(ctx, client.B().Exists().Key(stream).Build(), client.B().XgroupDestroy().Key(stream).Group(group).Build())
	n, err := res[0].AsInt64()
	if err != nil {
		return fmt.Errorf("consumer: EXISTS %s: %w", stream, err)
	}
	if err := res[1].Error(); err != nil && n > 0 {
		return fmt.Errorf("consumer: XGROUP DESTROY %s %s: %w", stream, group, err)
	}
	return nil
}

// AckedBefore returns an id below which group has received and
// acknowledged every entry of stream: its oldest pending entry when it has
// any, otherwise its last delivered entry. Trimming the stream below it
// (streams.Appender.TrimBefore) loses nothing this group still needs; with
// several groups, trim below the smallest of their ids. found is false when
// the stream or the group does not exist.
func AckedBefore(ctx context.Context, client rueidis.Client, stream, group string) (id string, found bool, err error) {
	groups, err := Groups(ctx, client, stream)
	if err != nil {
		return "", false, err
	}
	for _, g := range groups {
		if g.Name != group {
			continue
		}
		if g.Pending == 0 {
			return g.LastDeliveredID, true, nil
		}
		// XPENDING summary: count, smallest id, greatest id, consumers.
		arr, err := client.Do(ctx, client.B().Xpending().Key(stream).Group(group).Build()).ToArray()
		if err != nil {
			return "", false, fmt.Errorf("consumer: XPENDING %s %s: %w", stream, group, err)
		}
		if len(arr) < 2 {
			return "", false, fmt.Errorf("consumer: XPENDING %s %s: %d elements", stream, group, len(arr))
		}
		if arr[1].IsNil() { // acknowledged in between
			return g.LastDeliveredID, true, nil
		}
		smallest, err := arr[1].ToString()
		if err != nil {
			return "", false, fmt.Errorf("consumer: XPENDING %s %s: %w", stream, group, err)
		}
		return smallest, true, nil
	}
	return "", false, nil
}
