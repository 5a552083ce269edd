package rediscluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

const totalSlots = 16384

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id       string
	addr     string // ip:port, without the bus port
	flags    []string
	masterID string // "-" for masters
	slots    []string
}

func (n clusterNode) has(flag string) bool {
	for _, f := range n.flags {
		if f == flag {
			return true
		}
	}
	return false
}

func parseClusterNodes(text string) []clusterNode {
	var nodes []clusterNode
	// Over RESP3 the reply is a verbatim string: "txt:" precedes the first id.
	text = strings.TrimPrefix(strings.TrimSpace(text), "txt:")
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(fields[1], "@")
		nodes = append(nodes, clusterNode{
			id:       fields[0],
			addr:     addr,
			flags:    strings.Split(fields[2], ","),
			masterID: fields[3],
			slots:    fields[8:],
		})
	}
	return nodes
}

func doString(ctx context.Context, p *process, args ...string) (string, error) {
	c, err := p.client()
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.Do(ctx, c.B().Arbitrary(args[0]).Args(args[1:]...).Build()).ToString()
}

func doErr(ctx context.Context, p *process, args ...string) error {
	_, err := doString(ctx, p, args...)
	return err
}

// bootstrap starts every process, assigns slots to the masters, meets the
// nodes, attaches replicas and waits for a healthy cluster.
func (c *Cluster) bootstrap(ctx context.Context) error {
	for _, p := range c.procs {
		if err := p.start(); err != nil {
			return err
		}
	}
	for _, p := range c.procs {
		if err := p.waitPing(ctx); err != nil {
			return err
		}
	}
	per := totalSlots / c.masters
	for i := 0; i < c.masters; i++ {
		first, last := i*per, (i+1)*per-1
		if i == c.masters-1 {
			last = totalSlots - 1
		}
		if err := doErr(ctx, c.procs[i], "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(first), strconv.Itoa(last)); err != nil {
			return fmt.Errorf("rediscluster: add slots: %w", err)
		}
	}
	for _, p := range c.procs[1:] {
		if err := doErr(ctx, p, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(c.procs[0].port)); err != nil {
			return fmt.Errorf("rediscluster: meet: %w", err)
		}
	}
	ids := make([]string, len(c.procs))
	for i, p := range c.procs {
		id, err := doString(ctx, p, "CLUSTER", "MYID")
		if err != nil {
			return fmt.Errorf("rediscluster: myid: %w", err)
		}
		ids[i] = id
	}
	// A replica can only attach to a master it already knows.
	for i := c.masters; i < len(c.procs); i++ {
		masterID := ids[(i-c.masters)%c.masters]
		err := poll(ctx, func() error {
			return doErr(ctx, c.procs[i], "CLUSTER", "REPLICATE", masterID)
		})
		if err != nil {
			return fmt.Errorf("rediscluster: replicate: %w", err)
		}
	}
	return c.WaitHealthy(ctx)
}

// WaitHealthy waits until every running process reports cluster_state:ok,
// agrees that every slot is served, and every running replica has its link
// to its master up. For a standalone server it waits for PING.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	if !c.cluster {
		return c.procs[0].waitPing(ctx)
	}
	return poll(ctx, func() error {
		for _, p := range c.procs {
			if !p.running() {
				continue
			}
			info, err := doString(ctx, p, "CLUSTER", "INFO")
			if err != nil {
				return err
			}
			if s := infoField(info, "cluster_state"); s != "ok" {
				return fmt.Errorf("rediscluster: %s cluster_state %q", p.addr(), s)
			}
			if s := infoField(info, "cluster_slots_ok"); s != strconv.Itoa(totalSlots) {
				return fmt.Errorf("rediscluster: %s cluster_slots_ok %s", p.addr(), s)
			}
			repl, err := doString(ctx, p, "INFO", "replication")
			if err != nil {
				return err
			}
			if infoField(repl, "role") == "slave" && infoField(repl, "master_link_status") != "up" {
				return fmt.Errorf("rediscluster: replica %s link is down", p.addr())
			}
		}
		return nil
	})
}

// nodes returns CLUSTER NODES as seen by the first running process.
func (c *Cluster) nodes(ctx context.Context) ([]clusterNode, *process, error) {
	for _, p := range c.procs {
		if !p.running() {
			continue
		}
		text, err := doString(ctx, p, "CLUSTER", "NODES")
		if err != nil {
			continue
		}
		return parseClusterNodes(text), p, nil
	}
	return nil, nil, errors.New("rediscluster: no process answers CLUSTER NODES")
}

func (c *Cluster) indexOf(addr string) int {
	for i, p := range c.procs {
		if p.addr() == addr {
			return i
		}
	}
	return -1
}

// Slot returns the hash slot of key.
func Slot(key string) int {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			key = key[open+1 : open+1+end]
		}
	}
	return int(crc16(key) % totalSlots)
}

// MasterFor returns the index of the process that is master for key's slot.
func (c *Cluster) MasterFor(ctx context.Context, key string) (int, error) {
	if !c.cluster {
		return 0, nil
	}
	nodes, _, err := c.nodes(ctx)
	if err != nil {
		return -1, err
	}
	n, err := masterOfSlot(nodes, Slot(key))
	if err != nil {
		return -1, err
	}
	return c.indexOf(n.addr), nil
}

// ReplicaFor returns the index of a connected replica of key's master,
// waiting (within ctx) for the cluster to show one.
func (c *Cluster) ReplicaFor(ctx context.Context, key string) (int, error) {
	if !c.cluster {
		return -1, ErrNotCluster
	}
	found := -1
	err := poll(ctx, func() error {
		nodes, _, err := c.nodes(ctx)
		if err != nil {
			return err
		}
		master, err := masterOfSlot(nodes, Slot(key))
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if n.masterID == master.id && !n.has("fail") && !n.has("fail?") {
				if i := c.indexOf(n.addr); i >= 0 && c.procs[i].running() {
					found = i
					return nil
				}
			}
		}
		return fmt.Errorf("rediscluster: no live replica for slot %d in %v", Slot(key), nodes)
	})
	return found, err
}

func masterOfSlot(nodes []clusterNode, slot int) (clusterNode, error) {
	for _, n := range nodes {
		if !n.has("master") || n.has("fail") {
			continue
		}
		for _, r := range n.slots {
			if strings.HasPrefix(r, "[") { // migrating/importing marker
				continue
			}
			lo, hi, found := strings.Cut(r, "-")
			if !found {
				hi = lo
			}
			l, err1 := strconv.Atoi(lo)
			h, err2 := strconv.Atoi(hi)
			if err1 == nil && err2 == nil && slot >= l && slot <= h {
				return n, nil
			}
		}
	}
	return clusterNode{}, fmt.Errorf("rediscluster: no master serves slot %d", slot)
}

// Failover runs CLUSTER FAILOVER on a replica of the master owning key and
// waits until that replica is master and the cluster is healthy again. It
// returns the index of the new master.
func (c *Cluster) Failover(ctx context.Context, key string) (int, error) {
	replica, err := c.ReplicaFor(ctx, key)
	if err != nil {
		return -1, err
	}
	p := c.procs[replica]
	if err := doErr(ctx, p, "CLUSTER", "FAILOVER"); err != nil {
		return -1, fmt.Errorf("rediscluster: failover: %w", err)
	}
	err = poll(ctx, func() error {
		repl, err := doString(ctx, p, "INFO", "replication")
		if err != nil {
			return err
		}
		if role := infoField(repl, "role"); role != "master" {
			return fmt.Errorf("rediscluster: %s is still %s", p.addr(), role)
		}
		return c.allSee(ctx, key, replica)
	})
	if err != nil {
		return -1, err
	}
	return replica, c.WaitHealthy(ctx)
}

// WaitMasterChange waits until key's slot is served by a master other than
// old (after a kill, the replica takes over within cluster-node-timeout plus
// an election).
func (c *Cluster) WaitMasterChange(ctx context.Context, key string, old int) (int, error) {
	var now int
	err := poll(ctx, func() error {
		i, err := c.MasterFor(ctx, key)
		if err != nil {
			return err
		}
		if i == old || i < 0 {
			return fmt.Errorf("rediscluster: slot of %q still on process %d", key, i)
		}
		now = i
		return c.allSee(ctx, key, i)
	})
	return now, err
}

// crc16 is the CRC16-CCITT (XMODEM) checksum Redis Cluster uses for slots.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// allSee checks that every running process sees process master as the
// master of key's slot.
func (c *Cluster) allSee(ctx context.Context, key string, master int) error {
	for _, p := range c.procs {
		if !p.running() {
			continue
		}
		text, err := doString(ctx, p, "CLUSTER", "NODES")
		if err != nil {
			return err
		}
		n, err := masterOfSlot(parseClusterNodes(text), Slot(key))
		if err != nil {
			return err
		}
		if n.addr != c.procs[master].addr() {
			return fmt.Errorf("rediscluster: %s sees %s as master of %q", p.addr(), n.addr, key)
		}
	}
	return nil
}
