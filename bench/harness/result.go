package harness

// LatencyRun is one measured latency series: a baseline or a realtime
// workload at one offered load.
type LatencyRun struct {
	// Workload names the path, e.g. "ping", "xadd-xreadgroup", "pubsub",
	// "pubsub-bus", "realtime-same-node", "realtime-cross-node".
	Workload string `json:"workload"`
	// Nodes is the number of streamcluster nodes running (0 for baselines).
	Nodes int `json:"nodes,omitempty"`
	// PublishNode and SubscribeNodes are node indexes (realtime only).
	PublishNode    int   `json:"publishNode,omitempty"`
	SubscribeNodes []int `json:"subscribeNodes,omitempty"`
	// SubscribersPerNode is the number of WebSocket subscribers on each
	// subscribing node; each message is delivered to all of them.
	SubscribersPerNode int `json:"subscribersPerNode,omitempty"`
	// TargetRate is the offered load in messages per second (0: sequential).
	TargetRate int     `json:"targetRate"`
	Sent       int     `json:"sent"`
	SentRate   float64 `json:"sentRate"`
	// Expected deliveries (sent × receivers), delivered, lost after the
	// drain wait.
	Expected      int64 `json:"expected"`
	Delivered     int64 `json:"delivered"`
	Lost          int64 `json:"lost"`
	PublishErrors int64 `json:"publishErrors,omitempty"`
	// Latency is send stamp → receipt, over every delivery.
	Latency   Summary   `json:"latency"`
	Histogram Histogram `json:"histogram"`
	// CPU spent during the window by the nodes and by Redis (nil when it
	// could not be sampled).
	CPU *CPUUse `json:"cpu,omitempty"`
	// Error is set when the run could not be measured.
	Error string `json:"error,omitempty"`
}

// FanoutRun is one climb of the offered-load ladder: each step is a
// LatencyRun; the climb stops at the first step that is not sustained (lost
// deliveries, p99 > 10 ms, or under 95 % of the target sent).
type FanoutRun struct {
	Workload           string `json:"workload"`
	Nodes              int    `json:"nodes"`
	SubscribersPerNode int    `json:"subscribersPerNode"`
	// MaxSustainedRate is the highest sustained offered load in msg/s (0:
	// not even the first step) and MaxSustainedDeliveries the deliveries per
	// second at that step.
	MaxSustainedRate       int     `json:"maxSustainedRate"`
	MaxSustainedDeliveries float64 `json:"maxSustainedDeliveries"`
	// TopPassed: the last step of the ladder passed, so the real ceiling is
	// higher than measured.
	TopPassed bool         `json:"topPassed"`
	Steps     []LatencyRun `json:"steps"`
}

// FailureRun is one kill -9 of a node.
type FailureRun struct {
	Nodes       int     `json:"nodes"`
	HeartbeatMs float64 `json:"heartbeatMs"`
	Killed      string  `json:"killed"`
	// DetectMs is, per survivor, the time from the kill until its status
	// route no longer lists the killed node.
	DetectMs map[string]float64 `json:"detectMs"`
	// MaxMs is the time until every survivor dropped it.
	MaxMs float64 `json:"maxMs"`
	Error string  `json:"error,omitempty"`
}

// JoinRun is one node joining a running cluster.
type JoinRun struct {
	ExistingNodes int `json:"existingNodes"`
	// Rooms asked to be registered (distinct filters, spread over the
	// existing nodes) before the node joins; RoomsRegistered how many were
	// within the setup bound (SetupError says why fewer).
	Rooms           int `json:"rooms"`
	RoomsRegistered int `json:"roomsRegistered,omitempty"`
	// SetupMs is the time to register them, SubscribeRate the rate in
	// subscriptions per second.
	SetupMs       float64 `json:"setupMs,omitempty"`
	SubscribeRate float64 `json:"subscribeRate,omitempty"`
	SetupError    string  `json:"setupError,omitempty"`
	// ReadyMs: process start → GET /_ready 200 on the new node.
	ReadyMs float64 `json:"readyMs"`
	// ListedMs: process start → every existing node's status lists it
	// (rooms 0 only).
	ListedMs float64 `json:"listedMs,omitempty"`
	// AgreeMs: process start → the new node's realtime:list holds every
	// registered room and realtime:count is 1 on a sample of 20 (rooms > 0).
	AgreeMs     float64 `json:"agreeMs,omitempty"`
	ListedRooms int     `json:"listedRooms,omitempty"`
	Error       string  `json:"error,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs        int    `json:"cpus"`
	CPUModel    string `json:"cpuModel"`
	GoVersion   string `json:"goVersion"`
	OS          string `json:"os"`
	Redis       string `json:"redis"`
	LoadStart   string `json:"loadAvgStart"`
	LoadEnd     string `json:"loadAvgEnd"`
	GitRevision string `json:"gitRevision,omitempty"`
}

// Report is the content of bench/results/<stamp>.json.
type Report struct {
	Stamp string `json:"stamp"` // UTC, e.g. 20261125T093000Z
	Quick bool   `json:"quick"`
	// BinaryVersion is what `streamcluster version` printed for the binary
	// that ran (make build stamps it with git describe).
	BinaryVersion   string       `json:"binaryVersion"`
	DurationSeconds float64      `json:"durationSeconds"`
	Machine         Machine      `json:"machine"`
	Settings        Settings     `json:"settings"`
	Baselines       []LatencyRun `json:"baselines"`
	Realtime        []LatencyRun `json:"realtime"`
	Fanout          []FanoutRun  `json:"fanout"`
	Failure         []FailureRun `json:"failureDetection"`
	Join            []JoinRun    `json:"join"`
	Churn           []ChurnRun   `json:"churn"`
	Peers           []PeerRun    `json:"peers"`
	// Goals evaluates issue 7's goals against this run.
	Goals []Goal `json:"goals"`
	// Errors lists workloads that failed as a whole.
	Errors []string `json:"errors,omitempty"`
}

// Settings records the parameters of the run.
type Settings struct {
	Rates             []int   `json:"rates"`
	SecondsPerRate    float64 `json:"secondsPerRate"`
	DrainSeconds      float64 `json:"drainSeconds"`
	Subscribers       []int   `json:"subscribersPerNode"`
	RealtimeNodes     []int   `json:"realtimeNodes"`
	CrossNode         bool    `json:"crossNode"`
	Ladder            []int   `json:"ladder"`
	LadderSubscribers int     `json:"ladderSubscribers"`
	PingCount         int     `json:"pingCount"`
	HeartbeatMs       float64 `json:"heartbeatMs"`
	// MembershipNodes are the cluster sizes of the failure and join
	// workloads (a join adds one node to size−1 running ones).
	MembershipNodes []int `json:"membershipNodes"`
	// JoinRooms, RoomSetupSeconds: join with rooms; ChurnClients: churn
	// loops per node.
	JoinRooms        []int   `json:"joinRooms,omitempty"`
	RoomSetupSeconds float64 `json:"roomSetupSeconds,omitempty"`
	ChurnClients     int     `json:"churnClients,omitempty"`
	Peers            string  `json:"peers,omitempty"`
}

// ChurnRun is subscription churn (workload 4): clients on every node
// subscribe a fresh room and unsubscribe it in a loop for the window, while
// a probe on node 0 measures how long the other nodes take to agree.
type ChurnRun struct {
	Nodes          int `json:"nodes"`
	ClientsPerNode int `json:"clientsPerNode"`
	// Ops are subscribe + unsubscribe requests answered during the window,
	// OpsPerSecond cluster-wide.
	Ops          int64   `json:"ops"`
	OpsPerSecond float64 `json:"opsPerSecond"`
	Errors       int64   `json:"errors,omitempty"`
	// SubscribeAgree: probe subscribe on node 0 answered → realtime:count 1
	// on every node; UnsubscribeAgree: unsubscribe answered → the room gone
	// (or count 0) on every node. Polled every 2 ms.
	SubscribeAgree   Summary `json:"subscribeAgree"`
	UnsubscribeAgree Summary `json:"unsubscribeAgree"`
	// QuiesceMs: end of the window → every node's realtime:list holds no
	// churn room.
	QuiesceMs float64 `json:"quiesceMs"`
	Error     string  `json:"error,omitempty"`
}
