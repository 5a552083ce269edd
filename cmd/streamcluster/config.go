package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/streamcluster/streamcluster/node"
	"github.com/streamcluster/streamcluster/realtime/cluster"
	"github.com/streamcluster/streamcluster/streams"
)

// Config is the configuration of `streamcluster serve`. It is read from,
// in increasing precedence: the defaults, a JSON file in .kuzzlerc shape
// (--config / SC_CONFIG), the SC_* environment and the flags. The file is
// deep-merged over the defaults: a key absent from the file keeps its
// default, at any depth (the seed plugin's shallow merge lost the other
// timers when one was set).
type Config struct {
	Listen    string   // HTTP address of the API and health routes (default ":7512")
	Advertise string   // API address advertised to peers (default: Listen, with the host name for an empty host)
	Redis     []string // Redis seed addresses (default 127.0.0.1:7001)
	// RedisUsername and RedisPassword authenticate to Redis (AUTH, ACL
	// user when the username is set). Empty: no AUTH.
	RedisUsername, RedisPassword string
	Database                     int    // Redis database; only 0 is accepted
	NodeID                       string // node id (default: random)
	Prefix                       string // key prefix (default "sc")
	Storage                      string // "redis" (default) or "elasticsearch"
	ESURL                        string // Elasticsearch URL when Storage is "elasticsearch"
	LogFormat                    string // "text" (default) or "json"
	LogLevel                     string // "debug", "info" (default), "warn", "error"
	// WaitReplicas makes membership changes and mutations WAIT for that
	// many replicas (default 0: no WAIT). See node.Config.WaitReplicas.
	WaitReplicas int
	// Secret is the cluster's shared HMAC-SHA256 secret
	// (plugins.cluster.secret, --secret, SC_SECRET; at least
	// streams.MinSecretLen bytes, the same on every node). Every control
	// entry is signed with it and unsigned or badly signed entries are
	// rejected. Empty (default): entries are neither signed nor checked.
	// Prefer SC_SECRET or the file to the flag, which shows in ps.
	Secret string

	MinimumNodes        int           // plugins.cluster.minimumNodes (default 1)
	RetryJoin           int           // plugins.cluster.retryJoin (default 30)
	Heartbeat           time.Duration // plugins.cluster.timers.heartbeat (default 1s)
	EvictionTimeout     time.Duration // plugins.cluster.timers.evictionTimeout (default 3 × heartbeat)
	DiscoverTimeout     time.Duration // plugins.cluster.timers.discoverTimeout (default 3s): bound of one join attempt
	JoinAttemptInterval time.Duration // plugins.cluster.timers.joinAttemptInterval (default 1s)
	WaitForMissingRooms time.Duration // plugins.cluster.timers.waitForMissingRooms (default 500ms), for the realtime layer
}

// Defaults of Config that node.Config does not already define.
const (
	DefaultListen              = ":7512"
	DefaultRedis               = "127.0.0.1:7001"
	DefaultDiscoverTimeout     = 3 * time.Second
	DefaultWaitForMissingRooms = 500 * time.Millisecond
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("config")

// flagHelp is returned by LoadConfig after printing the flags for -h.
var flagHelp = flag.ErrHelp

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Listen:              DefaultListen,
		Redis:               []string{DefaultRedis},
		Prefix:              node.DefaultPrefix,
		Storage:             "redis",
		LogFormat:           "text",
		LogLevel:            "info",
		MinimumNodes:        node.DefaultMinimumNodes,
		RetryJoin:           node.DefaultRetryJoin,
		Heartbeat:           node.DefaultHeartbeat,
		DiscoverTimeout:     DefaultDiscoverTimeout,
		JoinAttemptInterval: node.DefaultJoinAttemptInterval,
		WaitForMissingRooms: DefaultWaitForMissingRooms,
	}
}

// kuzzlerc is the part of a .kuzzlerc file that serve reads. Timers are in
// milliseconds. Decoding a file into a kuzzlerc pre-filled from the current
// values is the deep merge: json.Unmarshal only overwrites present keys.
type kuzzlerc struct {
	Plugins struct {
		Cluster struct {
			MinimumNodes int    `json:"minimumNodes"`
			RetryJoin    int    `json:"retryJoin"`
			Secret       string `json:"secret"`
			Timers       struct {
				Heartbeat           int64 `json:"heartbeat"`
				EvictionTimeout     int64 `json:"evictionTimeout"`
				DiscoverTimeout     int64 `json:"discoverTimeout"`
				JoinAttemptInterval int64 `json:"joinAttemptInterval"`
				WaitForMissingRooms int64 `json:"waitForMissingRooms"`
			} `json:"timers"`
		} `json:"cluster"`
	} `json:"plugins"`
	Services struct {
		InternalCache struct {
			Node     *redisNode  `json:"node"`
			Nodes    []redisNode `json:"nodes"`
			Database int         `json:"database"`
		} `json:"internalCache"`
		DB struct {
			Backend string `json:"backend"`
			Client  struct {
				Node string `json:"node"`
				Host string `json:"host"`
			} `json:"client"`
		} `json:"db"`
	} `json:"services"`
}

type redisNode struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

func (r redisNode) addr() string {
	host := r.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := r.Port
	if port == 0 {
		port = 6379
	}
	return host + ":" + strconv.Itoa(port)
}

// mergeFile deep-merges the .kuzzlerc-shaped JSON of r into c.
func (c *Config) mergeFile(r io.Reader) error {
	var k kuzzlerc
	pc := &k.Plugins.Cluster
	pc.MinimumNodes = c.MinimumNodes
	pc.RetryJoin = c.RetryJoin
	pc.Secret = c.Secret
	pc.Timers.Heartbeat = c.Heartbeat.Milliseconds()
	pc.Timers.EvictionTimeout = c.EvictionTimeout.Milliseconds()
	pc.Timers.DiscoverTimeout = c.DiscoverTimeout.Milliseconds()
	pc.Timers.JoinAttemptInterval = c.JoinAttemptInterval.Milliseconds()
	pc.Timers.WaitForMissingRooms = c.WaitForMissingRooms.Milliseconds()
	k.Services.InternalCache.Database = c.Database

	dec := json.NewDecoder(r)
	if err := dec.Decode(&k); err != nil {
		return fmt.Errorf("%w: config file: %w", ErrConfig, err)
	}
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	c.MinimumNodes = pc.MinimumNodes
	c.RetryJoin = pc.RetryJoin
	c.Secret = pc.Secret
	c.Heartbeat = ms(pc.Timers.Heartbeat)
	c.EvictionTimeout = ms(pc.Timers.EvictionTimeout)
	c.DiscoverTimeout = ms(pc.Timers.DiscoverTimeout)
	c.JoinAttemptInterval = ms(pc.Timers.JoinAttemptInterval)
	c.WaitForMissingRooms = ms(pc.Timers.WaitForMissingRooms)
	ic := k.Services.InternalCache
	c.Database = ic.Database
	switch {
	case len(ic.Nodes) > 0:
		c.Redis = c.Redis[:0:0]
		for _, n := range ic.Nodes {
			c.Redis = append(c.Redis, n.addr())
		}
	case ic.Node != nil:
		c.Redis = []string{ic.Node.addr()}
	}
	db := k.Services.DB
	if db.Backend != "" {
		c.Storage = db.Backend
	}
	if db.Client.Node != "" {
		c.ESURL = db.Client.Node
	} else if db.Client.Host != "" {
		c.ESURL = db.Client.Host
	}
	return nil
}

// envVars maps each flag to its environment variable.
var envVars = map[string]string{
	"listen":         "SC_LISTEN",
	"advertise":      "SC_ADVERTISE",
	"redis":          "SC_REDIS",
	"node-id":        "SC_NODE_ID",
	"prefix":         "SC_PREFIX",
	"minimum-nodes":  "SC_MINIMUM_NODES",
	"heartbeat":      "SC_HEARTBEAT",
	"storage":        "SC_STORAGE",
	"es-url":         "SC_ES_URL",
	"config":         "SC_CONFIG",
	"log-format":     "SC_LOG_FORMAT",
	"log-level":      "SC_LOG_LEVEL",
	"wait-replicas":  "SC_WAIT_REPLICAS",
	"secret":         "SC_SECRET",
	"redis-username": "SC_REDIS_USERNAME",
	"redis-password": "SC_REDIS_PASSWORD",
}

// LoadConfig builds the serve configuration from args (without the
// subcommand name), the environment (getenv) and the file named by
// --config or SC_CONFIG. It validates the result.
func LoadConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen       = fs.String("listen", DefaultListen, "HTTP listen address (SC_LISTEN)")
		advertise    = fs.String("advertise", "", "API address advertised to peers (SC_ADVERTISE; default from --listen)")
		redis        = fs.String("redis", DefaultRedis, "comma-separated Redis seed addresses (SC_REDIS)")
		nodeID       = fs.String("node-id", "", "node id (SC_NODE_ID; default random)")
		prefix       = fs.String("prefix", node.DefaultPrefix, "Redis key prefix (SC_PREFIX)")
		minimumNodes = fs.Int("minimum-nodes", node.DefaultMinimumNodes, "live nodes needed to be ready (SC_MINIMUM_NODES)")
		heartbeat    = fs.Duration("heartbeat", node.DefaultHeartbeat, "heartbeat period, Go duration (SC_HEARTBEAT)")
		storage      = fs.String("storage", "redis", "document store: redis or elasticsearch (SC_STORAGE)")
		esURL        = fs.String("es-url", "", "Elasticsearch URL (SC_ES_URL)")
		configFile   = fs.String("config", "", "JSON file in .kuzzlerc shape (SC_CONFIG)")
		logFormat    = fs.String("log-format", "text", "log format: text or json (SC_LOG_FORMAT)")
		logLevel     = fs.String("log-level", "info", "log level: debug, info, warn, error (SC_LOG_LEVEL)")
		waitReplicas = fs.Int("wait-replicas", 0, "replicas each membership change and mutation waits for, 0 for none (SC_WAIT_REPLICAS)")
		secret       = fs.String("secret", "", "shared HMAC secret signing control entries, at least 16 bytes, same on every node (SC_SECRET; prefer the environment)")
		redisUser    = fs.String("redis-username", "", "Redis ACL user (SC_REDIS_USERNAME)")
		redisPass    = fs.String("redis-password", "", "Redis password (SC_REDIS_PASSWORD; prefer the environment)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, flagHelp
		}
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("%w: unexpected arguments %q", ErrConfig, fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	// value returns the flag's value when set, else the environment's, else "".
	value := func(name string, flagValue string) (string, bool) {
		if set[name] {
			return flagValue, true
		}
		if v := getenv(envVars[name]); v != "" {
			return v, true
		}
		return "", false
	}

	c := DefaultConfig()
	if path, ok := value("config", *configFile); ok {
		f, err := os.Open(path)
		if err != nil {
			return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		err = c.mergeFile(f)
		_ = f.Close()
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", path, err)
		}
	}

	strs := []struct {
		name string
		flag *string
		dst  *string
	}{
		{"listen", listen, &c.Listen},
		{"advertise", advertise, &c.Advertise},
		{"node-id", nodeID, &c.NodeID},
		{"prefix", prefix, &c.Prefix},
		{"storage", storage, &c.Storage},
		{"es-url", esURL, &c.ESURL},
		{"log-format", logFormat, &c.LogFormat},
		{"log-level", logLevel, &c.LogLevel},
		{"secret", secret, &c.Secret},
		{"redis-username", redisUser, &c.RedisUsername},
		{"redis-password", redisPass, &c.RedisPassword},
	}
	for _, s := range strs {
		if v, ok := value(s.name, *s.flag); ok {
			*s.dst = v
		}
	}
	if v, ok := value("redis", *redis); ok {
		c.Redis = nil
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				c.Redis = append(c.Redis, a)
			}
		}
	}
	if v, ok := value("minimum-nodes", strconv.Itoa(*minimumNodes)); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return Config{}, fmt.Errorf("%w: minimum nodes %q: %w", ErrConfig, v, err)
		}
		c.MinimumNodes = n
	}
	if v, ok := value("wait-replicas", strconv.Itoa(*waitReplicas)); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return Config{}, fmt.Errorf("%w: wait replicas %q: %w", ErrConfig, v, err)
		}
		c.WaitReplicas = n
	}
	if v, ok := value("heartbeat", heartbeat.String()); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return Config{}, fmt.Errorf("%w: heartbeat %q: %w", ErrConfig, v, err)
		}
		c.Heartbeat = d
	}
	if c.Advertise == "" {
		c.Advertise = advertiseFor(c.Listen)
	}
	return c, c.Validate()
}

// advertiseFor derives the advertised API address from the listen
// address: an empty or unspecified host becomes the host name (what peers
// and operators can resolve, e.g. in a container network), or 127.0.0.1
// when it is unknown.
func advertiseFor(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen // Validate reports it
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}

// Validate reports the first impossible value of c.
func (c Config) Validate() error {
	switch {
	case c.Listen == "":
		return fmt.Errorf("%w: empty listen address", ErrConfig)
	case !validHostPort(c.Listen):
		return fmt.Errorf("%w: listen address %q is not host:port", ErrConfig, c.Listen)
	case len(c.Redis) == 0:
		return fmt.Errorf("%w: no Redis address", ErrConfig)
	case c.Database != 0:
		return fmt.Errorf("%w: services.internalCache.database is %d, but a Redis Cluster has database 0 only", ErrConfig, c.Database)
	case c.Storage != "redis" && c.Storage != "elasticsearch":
		return fmt.Errorf("%w: storage %q is neither redis nor elasticsearch", ErrConfig, c.Storage)
	case c.Storage == "elasticsearch" && c.ESURL == "":
		return fmt.Errorf("%w: storage elasticsearch needs --es-url (SC_ES_URL)", ErrConfig)
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("%w: log format %q is neither text nor json", ErrConfig, c.LogFormat)
	case c.RetryJoin < 1:
		return fmt.Errorf("%w: retryJoin %d must be at least 1", ErrConfig, c.RetryJoin)
	case c.DiscoverTimeout <= 0:
		return fmt.Errorf("%w: discoverTimeout %s must be positive", ErrConfig, c.DiscoverTimeout)
	case c.WaitForMissingRooms < 0:
		return fmt.Errorf("%w: waitForMissingRooms %s is negative", ErrConfig, c.WaitForMissingRooms)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	for _, a := range c.Redis {
		if !strings.Contains(a, ":") {
			return fmt.Errorf("%w: Redis address %q has no port", ErrConfig, a)
		}
	}
	if c.MinimumNodes < 1 {
		return fmt.Errorf("%w: minimumNodes %d must be at least 1", ErrConfig, c.MinimumNodes)
	}
	if err := c.nodeConfig().Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := c.streamsConfig().Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// streamsConfig is the Redis part of c, for streams.NewClient.
func (c Config) streamsConfig() streams.Config {
	return streams.Config{
		Addrs:    append([]string(nil), c.Redis...),
		Username: c.RedisUsername,
		Password: c.RedisPassword,
		Database: c.Database,
		Prefix:   c.Prefix,
		Secret:   []byte(c.Secret),
	}
}

// nodeConfig is the node part of c (without Logger and Version).
func (c Config) nodeConfig() node.Config {
	return node.Config{
		ID:                  c.NodeID,
		Prefix:              c.Prefix,
		APIAddress:          c.Advertise,
		Heartbeat:           c.Heartbeat,
		EvictionTimeout:     c.EvictionTimeout,
		MinimumNodes:        c.MinimumNodes,
		RetryJoin:           c.RetryJoin,
		JoinAttemptInterval: c.JoinAttemptInterval,
		JoinTimeout:         c.DiscoverTimeout,
		WaitReplicas:        c.WaitReplicas,
		Secret:              []byte(c.Secret),
		ResetKeys:           cluster.ResetKeys(streams.NewKeys(c.Prefix)),
	}
}

func validHostPort(s string) bool {
	_, _, err := net.SplitHostPort(s)
	return err == nil
}
