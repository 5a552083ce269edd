package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// roomsIndex is the index of every room the join and churn workloads
// create; realtime:list results are counted under it only.
const roomsIndex = "benchrooms"

// Pipelining of the room registration: subscribeConns WebSocket connections
// per existing node, each with subscribeWindow requests in flight.
const (
	subscribeConns  = 2
	subscribeWindow = 64
)

// listHTTP reads realtime:list, which grows to megabytes with 100k rooms.
var listHTTP = &http.Client{Timeout: 10 * time.Second}

// subscribeRoom subscribes to a filter that only key=value matches, so every
// distinct value is a distinct room. It returns the room id.
func (c *wsClient) subscribeRoom(ctx context.Context, collection, value string) (string, error) {
	res, err := c.call(ctx, request{Controller: "realtime", Action: "subscribe", Index: roomsIndex,
		Collection: collection, Body: map[string]any{"equals": map[string]any{"k": value}}})
	if err != nil {
		return "", err
	}
	var r struct {
		RoomID string `json:"roomId"`
	}
	if err := json.Unmarshal(res, &r); err != nil || r.RoomID == "" {
		return "", fmt.Errorf("%w: subscribe result %s", ErrRequest, res)
	}
	return r.RoomID, nil
}

func (c *wsClient) unsubscribe(ctx context.Context, roomID string) error {
	_, err := c.call(ctx, request{Controller: "realtime", Action: "unsubscribe", Body: map[string]any{"roomId": roomID}})
	return err
}

// roomCount returns realtime:count of a room on the node of c, and false
// when the node does not know the room.
func (c *wsClient) roomCount(ctx context.Context, roomID string) (int, bool, error) {
	res, err := c.call(ctx, request{Controller: "realtime", Action: "count", Body: map[string]any{"roomId": roomID}})
	if errors.Is(err, ErrRequest) {
		return 0, false, nil // room_not_found
	}
	if err != nil {
		return 0, false, err
	}
	var r struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return 0, false, err
	}
	return r.Count, true, nil
}

// listRooms returns the number of rooms of collection (or of the whole
// rooms index when collection is empty) in the node's realtime:list.
func (p *nodeProc) listRooms(ctx context.Context, collection string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/_listSubscriptions", nil)
	if err != nil {
		return 0, err
	}
	resp, err := listHTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return 0, fmt.Errorf("harness: realtime:list on %s: HTTP %d", p.spec.ID, resp.StatusCode)
	}
	var env struct {
		Result map[string]map[string]map[string]int `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return 0, fmt.Errorf("harness: realtime:list on %s: %w", p.spec.ID, err)
	}
	n := 0
	for coll, rooms := range env.Result[roomsIndex] {
		if collection == "" || coll == collection {
			n += len(rooms)
		}
	}
	return n, nil
}

// registerRooms subscribes up to rooms distinct filters of collection,
// spread over nodes, pipelined, until done or deadline. It returns the room
// ids registered (an error stops the registration and is returned with
// what was reached).
func registerRooms(ctx context.Context, nodes []*nodeProc, collection string, rooms int, deadline time.Time) ([]string, *wsClientSet, error) {
	set := &wsClientSet{}
	for _, p := range nodes {
		for range subscribeConns {
			c, err := dialWS(ctx, p.addr, nil)
			if err != nil {
				return nil, set, err
			}
			set.clients = append(set.clients, c)
		}
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var (
		next    atomic.Int64
		mu      sync.Mutex
		ids     = make([]string, 0, rooms)
		firstMu sync.Mutex
		first   error
		wg      sync.WaitGroup
	)
	for _, c := range set.clients {
		for range subscribeWindow {
			wg.Add(1)
			go func() { // owner: registerRooms, which waits below
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(rooms) || ctx.Err() != nil {
						return
					}
					id, err := c.subscribeRoom(ctx, collection, "r"+strconv.FormatInt(i, 10))
					if err != nil {
						firstMu.Lock()
						if first == nil && ctx.Err() == nil {
							first = err
						}
						firstMu.Unlock()
						cancel()
						return
					}
					mu.Lock()
					ids = append(ids, id)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if first == nil && len(ids) < rooms {
		first = fmt.Errorf("harness: %d of %d rooms registered before the setup bound", len(ids), rooms)
	}
	return ids, set, first
}

// wsClientSet owns connections that must stay open (their subscriptions
// live as long as they do).
type wsClientSet struct{ clients []*wsClient }

func (s *wsClientSet) close() {
	var wg sync.WaitGroup
	for _, c := range s.clients {
		wg.Add(1)
		go func() { // owner: close, which waits below
			defer wg.Done()
			c.close()
		}()
	}
	wg.Wait()
}

// runJoinRooms registers rooms distinct rooms on the existing nodes, then
// starts one more node and measures its time to /_ready and until its
// realtime:list holds every room and realtime:count agrees on a sample.
func runJoinRooms(ctx context.Context, cfg Config, base nodeSpec, existing, rooms int) JoinRun {
	run := JoinRun{ExistingNodes: existing, Rooms: rooms}
	nodes, err := startNodes(ctx, base, existing, cfg.Timeout)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer func() { stopNodes(nodes) }()

	collection := "j" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t0 := time.Now()
	ids, set, err := registerRooms(ctx, nodes, collection, rooms, t0.Add(cfg.RoomSetupTimeout))
	defer set.close()
	run.RoomsRegistered = len(ids)
	run.SetupMs = ms(time.Since(t0))
	if run.SetupMs > 0 {
		run.SubscribeRate = float64(len(ids)) / (run.SetupMs / 1000)
	}
	if err != nil {
		run.SetupError = err.Error()
	}
	if len(ids) == 0 {
		run.Error = "no room registered: " + run.SetupError
		return run
	}
	// The existing nodes are the reference: wait until they agree with what
	// was registered, so the join does not measure their own lag.
	for _, p := range nodes {
		if err := waitRooms(ctx, p, collection, len(ids), cfg.Timeout); err != nil {
			run.Error = "existing node: " + err.Error()
			return run
		}
	}

	spec := base
	spec.ID = base.Prefix + "-join"
	p, err := startNode(spec)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	nodes = append(nodes, p)
	probe, sample := (*wsClient)(nil), sampleIDs(ids, 20)
	t1 := p.started
	deadline := t1.Add(cfg.Timeout)
	for run.ReadyMs == 0 || run.AgreeMs == 0 {
		if time.Now().After(deadline) {
			run.Error = fmt.Sprintf("after %s: ready=%v, list agrees=%v (last count %d of %d)",
				cfg.Timeout, run.ReadyMs > 0, run.AgreeMs > 0, run.ListedRooms, len(ids))
			return run
		}
		if run.ReadyMs == 0 && p.ready(ctx) {
			run.ReadyMs = ms(time.Since(t1))
			if probe, err = dialWS(ctx, p.addr, nil); err != nil {
				run.Error = err.Error()
				return run
			}
			defer probe.close()
		}
		if run.ReadyMs > 0 {
			n, err := p.listRooms(ctx, collection)
			if err == nil {
				run.ListedRooms = n
			}
			if err == nil && n == len(ids) && countsAgree(ctx, probe, sample) {
				run.AgreeMs = ms(time.Since(t1))
				break
			}
		}
		select {
		case <-ctx.Done():
			run.Error = ctx.Err().Error()
			return run
		case <-p.exited:
			run.Error = "new node exited (see " + spec.ID + ".log)"
			return run
		case <-time.After(pollEvery / 2):
		}
	}
	return run
}

// sampleIDs returns up to n ids spread over ids.
func sampleIDs(ids []string, n int) []string {
	if len(ids) <= n {
		return ids
	}
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, ids[i*len(ids)/n])
	}
	return out
}

// countsAgree reports whether realtime:count is 1 for every sampled room.
func countsAgree(ctx context.Context, c *wsClient, ids []string) bool {
	for _, id := range ids {
		n, ok, err := c.roomCount(ctx, id)
		if err != nil || !ok || n != 1 {
			return false
		}
	}
	return true
}

// waitRooms polls the node's realtime:list until it holds want rooms of
// collection.
func waitRooms(ctx context.Context, p *nodeProc, collection string, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := -1
	for time.Now().Before(deadline) {
		n, err := p.listRooms(ctx, collection)
		if err == nil && n == want {
			return nil
		}
		last = n
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s lists %d of %d rooms after %s", p.spec.ID, last, want, timeout)
}
