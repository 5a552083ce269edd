package cluster_test

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/koncorde"
	"github.com/streamcluster/streamcluster/node"
	"github.com/streamcluster/streamcluster/realtime"
	"github.com/streamcluster/streamcluster/realtime/cluster"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/streams"
)

var testCluster *rediscluster.Cluster

func TestMain(m *testing.M) { os.Exit(rediscluster.RunTests(m, &testCluster)) }

// testNode is a node with its registry, hub and router, all running.
type testNode struct {
	n      *node.Node
	reg    *cluster.Registry
	hub    *realtime.Hub
	router *cluster.Router
	events *cluster.Events
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// leave leaves the cluster gracefully and stops the node.
func (tn *testNode) leave(t testing.TB) {
	tn.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, tn.n.Leave(ctx))
		tn.cancel()
		<-tn.done
	})
}

// kill stops the node without leaving: its peers evict it.
func (tn *testNode) kill() {
	tn.once.Do(func() {
		tn.cancel()
		<-tn.done
	})
}

const heartbeat = 100 * time.Millisecond

func newClient(t testing.TB) rueidis.Client {
	t.Helper()
	client, err := testCluster.Client()
	require.NoError(t, err)
	t.Cleanup(client.Close)
	return client
}

func startNode(t testing.TB, client rueidis.Client, prefix, id string) *testNode {
	t.Helper()
	return startNodeHB(t, client, prefix, id, heartbeat)
}

func startNodeHB(t testing.TB, client rueidis.Client, prefix, id string, hb time.Duration) *testNode {
	t.Helper()
	return startNodeWith(t, client, prefix, id, nodeOpts{heartbeat: hb})
}

// nodeOpts are the optional settings of startNodeWith.
type nodeOpts struct {
	heartbeat time.Duration // default heartbeat
	prom      prometheus.Registerer
	secret    []byte
}

func startNodeWith(t testing.TB, client rueidis.Client, prefix, id string, o nodeOpts) *testNode {
	t.Helper()
	if o.heartbeat == 0 {
		o.heartbeat = heartbeat
	}
	prom := o.prom
	n, err := node.New(client, node.Config{
		ID: id, Prefix: prefix, Heartbeat: o.heartbeat, Secret: o.secret,
		ResetKeys: cluster.ResetKeys(streams.NewKeys(prefix)),
	})
	require.NoError(t, err)
	reg, err := cluster.NewRegistry(client, n, cluster.RegistryConfig{Registerer: prom})
	require.NoError(t, err)
	hub := realtime.NewHub(realtime.HubConfig{}, reg)
	router, err := cluster.NewRouter(client, n, reg, hub, cluster.RouterConfig{Registerer: prom})
	require.NoError(t, err)
	events, err := cluster.NewEvents(n, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	tn := &testNode{n: n, reg: reg, hub: hub, router: router, events: events, cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		assert.NoError(t, n.Run(ctx))
	}()
	go func() {
		defer wg.Done()
		assert.NoError(t, router.Run(ctx))
	}()
	go func() {
		wg.Wait()
		close(tn.done)
	}()
	t.Cleanup(func() { tn.leave(t) })
	return tn
}

// startNodes starts nodes and waits until each is ready and sees them all.
func startNodes(t testing.TB, client rueidis.Client, prefix string, ids ...string) []*testNode {
	t.Helper()
	out := make([]*testNode, 0, len(ids))
	for _, id := range ids {
		out = append(out, startNode(t, client, prefix, id))
	}
	require.Eventually(t, func() bool {
		for _, tn := range out {
			if !tn.n.Ready() || len(tn.n.Members(context.Background())) != len(ids) {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond)
	return out
}

func filter(t testing.TB, index, coll, f string) *koncorde.Filter {
	t.Helper()
	nf, err := koncorde.Normalize(koncorde.Config{}, index, coll, json.RawMessage(f))
	require.NoError(t, err)
	return nf
}

func subscribe(t testing.TB, tn *testNode, c realtime.Conn, f *koncorde.Filter) realtime.Subscription {
	t.Helper()
	sub, err := tn.hub.Subscribe(context.Background(), c, f.Index(), f.Collection(), f, realtime.Options{}, nil)
	require.NoError(t, err)
	return sub
}

// write matches doc on tn and routes a document notification for it, as
// the realtime service does for a write handled by tn.
func write(t testing.TB, tn *testNode, index, coll string, doc map[string]any) []string {
	t.Helper()
	rooms := tn.reg.Match(index, coll, doc, "")
	if len(rooms) == 0 {
		return nil
	}
	result, err := json.Marshal(map[string]any{"_source": doc})
	require.NoError(t, err)
	m, err := realtime.DocumentMessage(tn.n.ID(), realtime.Origin{Index: index, Collection: coll, Controller: "document", Action: "create"},
		rooms, "in", "create", result)
	require.NoError(t, err)
	require.NoError(t, tn.router.Route(context.Background(), m))
	return rooms
}

// mustMessage builds a document notification for rooms from node.
func mustMessage(t testing.TB, node string, rooms []string) realtime.Message {
	m, err := realtime.DocumentMessage(node, realtime.Origin{Index: "idx", Collection: "coll"}, rooms, "in", "create", json.RawMessage(`{"_source":{"k":1}}`))
	if err != nil {
		t.Error(err)
	}
	return m
}

// roomCounts is a node's view of the cluster: room id → count.
func roomCounts(tn *testNode) map[string]int {
	out := map[string]int{}
	for _, r := range tn.reg.Rooms() {
		out[r.ID] = r.Count
	}
	return out
}

// allSee waits until every node's registry reports want.
func allSee(t testing.TB, want map[string]int, nodes ...*testNode) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, tn := range nodes {
			if !assert.ObjectsAreEqual(want, roomCounts(tn)) || !assert.ObjectsAreEqual(tn.hub.LocalRooms(), tn.reg.Local()) {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "want %v", want)
}

// snapshotFields returns the roomsubs fields and the rooms of the snapshot.
func snapshotFields(t testing.TB, client rueidis.Client, prefix string) (subs []string, rooms []string) {
	t.Helper()
	ctx := context.Background()
	k := streams.NewKeys(prefix)
	keys := cluster.ResetKeys(k)
	m, err := client.Do(ctx, client.B().Hgetall().Key(keys[1]).Build()).AsStrMap()
	require.NoError(t, err)
	for f := range m {
		subs = append(subs, f)
	}
	r, err := client.Do(ctx, client.B().Hkeys().Key(keys[0]).Build()).AsStrSlice()
	require.NoError(t, err)
	sort.Strings(subs)
	sort.Strings(r)
	return subs, r
}

func hasSuffix(fields []string, id string) bool {
	for _, f := range fields {
		if strings.HasSuffix(f, "|"+id) {
			return true
		}
	}
	return false
}
