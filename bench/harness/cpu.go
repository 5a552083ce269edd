package harness

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat. It is
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// processCPU returns the user+system CPU time a process has used so far.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after it are
	// space-separated: state is field 3, utime 14, stime 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("harness: malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("harness: short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("harness: malformed /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// redisCPU returns used_cpu_user + used_cpu_sys from INFO cpu.
func redisCPU(ctx context.Context, c rueidis.Client) (time.Duration, error) {
	s, err := c.Do(ctx, c.B().Info().Section("cpu").Build()).ToString()
	if err != nil {
		return 0, err
	}
	s = strings.TrimPrefix(s, "txt:") // RESP3 verbatim string
	var total float64
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("harness: INFO cpu %s: %w", k, err)
			}
			total += x
		}
	}
	return time.Duration(total * float64(time.Second)), nil
}

// CPUUse is the CPU time spent by the node processes and by every Redis
// process during a measured window (including its drain).
type CPUUse struct {
	NodesSeconds float64 `json:"nodesSeconds"`
	RedisSeconds float64 `json:"redisSeconds"`
	// HarnessSeconds is this process (clients, pacer, recorder): when it
	// nears the window length the client side is the bottleneck.
	HarnessSeconds float64 `json:"harnessSeconds"`
	// WindowSeconds is the wall time between the two samples. The CPU
	// figures include each process's idle background work (Redis cron and
	// cluster bus, node heartbeats), which dominates at low rates.
	WindowSeconds float64 `json:"windowSeconds"`
	// Per100k are the CPU seconds divided by deliveries / 100 000.
	NodesPer100k float64 `json:"nodesSecondsPer100kDeliveries"`
	RedisPer100k float64 `json:"redisSecondsPer100kDeliveries"`
}

// cpuMeter samples the CPU time of node processes and Redis processes.
// Sampling errors make the sample unusable (ok false), never the run.
type cpuMeter struct {
	redis []rueidis.Client // one pinned client per Redis process
	nodes []*nodeProc
}

type cpuSample struct {
	at                    time.Time
	nodes, redis, harness time.Duration
	ok                    bool
}

func (m *cpuMeter) sample(ctx context.Context) cpuSample {
	if m == nil {
		return cpuSample{}
	}
	s := cpuSample{ok: true, at: time.Now()}
	self, err := processCPU(os.Getpid())
	if err != nil {
		return cpuSample{}
	}
	s.harness = self
	for _, p := range m.nodes {
		d, err := processCPU(p.cmd.Process.Pid)
		if err != nil {
			return cpuSample{}
		}
		s.nodes += d
	}
	for _, c := range m.redis {
		d, err := redisCPU(ctx, c)
		if err != nil {
			return cpuSample{}
		}
		s.redis += d
	}
	return s
}

// use returns the CPU spent between two samples, or nil if either failed.
func (a cpuSample) use(b cpuSample, deliveries int64) *CPUUse {
	if !a.ok || !b.ok {
		return nil
	}
	u := &CPUUse{NodesSeconds: (b.nodes - a.nodes).Seconds(), RedisSeconds: (b.redis - a.redis).Seconds(),
		HarnessSeconds: round3((b.harness - a.harness).Seconds()), WindowSeconds: round3(b.at.Sub(a.at).Seconds())}
	if deliveries > 0 {
		k := float64(deliveries) / 100_000
		u.NodesPer100k = round3(u.NodesSeconds / k)
		u.RedisPer100k = round3(u.RedisSeconds / k)
	}
	u.NodesSeconds, u.RedisSeconds = round3(u.NodesSeconds), round3(u.RedisSeconds)
	return u
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }
