package node

import (
	"sort"
	"time"
)

// Detector is the failure detector: a pure state machine with no I/O and
// no clock of its own. The driver feeds it with what it observes, stamped
// with the local monotonic clock:
//
//   - Seen: an entry of a peer was read from the control stream;
//   - Acked / Failed: this node's own heartbeat reached Redis, or a Redis
//     call of this node failed (Redis unreachable, failover in progress);
//   - Forget / Reset: a peer left, or the member list was reloaded.
//
// Suspects lists the peers silent for longer than the timeout. A node that
// cannot reach Redis never suspects anyone, because during an outage every
// peer looks silent. After an outage, silences count from the recovery
// plus the outage's length (at most MaxOutageGrace timeouts): after a
// failover, peers' clients may find the new master later than ours.
//
// A Detector is not safe for concurrent use; the node's driver owns it.
type Detector struct {
	timeout      time.Duration
	peers        map[string]peerClock
	lastAck      time.Time // last acknowledged own heartbeat; zero: never
	healthySince time.Time // start of the current run of successful calls; zero: failing
	failingSince time.Time // first failure of the current outage; zero: none
	graceFrom    time.Time // silences count from here at the earliest
}

// MaxOutageGrace caps the extra grace given to peers after an outage, in
// eviction timeouts.
const MaxOutageGrace = 2

type peerClock struct {
	incarnation uint64
	lastSeen    time.Time
}

// Suspect is a peer that the detector considers dead.
type Suspect struct {
	ID          string
	Incarnation uint64
	Silence     time.Duration // time since its last entry (or since this node recovered)
}

// NewDetector returns a detector that suspects peers silent for longer than
// timeout.
func NewDetector(timeout time.Duration) *Detector {
	return &Detector{timeout: timeout, peers: make(map[string]peerClock)}
}

// Seen records an entry of peer id with incarnation inc at now. A new
// incarnation replaces the old one.
func (d *Detector) Seen(id string, inc uint64, now time.Time) {
	d.peers[id] = peerClock{incarnation: inc, lastSeen: now}
}

// Forget drops peer id (it left or was evicted).
func (d *Detector) Forget(id string) { delete(d.peers, id) }

// Reset drops every peer; the driver then calls Seen for the members of a
// fresh snapshot.
func (d *Detector) Reset() { clear(d.peers) }

// Acked records that this node's heartbeat was acknowledged by Redis at now.
func (d *Detector) Acked(now time.Time) {
	d.lastAck = now
	if !d.healthySince.IsZero() {
		return
	}
	d.healthySince = now
	d.graceFrom = now
	if !d.failingSince.IsZero() {
		d.graceFrom = now.Add(min(now.Sub(d.failingSince), MaxOutageGrace*d.timeout))
		d.failingSince = time.Time{}
	}
}

// Failed records that a Redis call of this node failed at now.
func (d *Detector) Failed(now time.Time) {
	if d.failingSince.IsZero() {
		d.failingSince = now
	}
	d.healthySince = time.Time{}
}

// Healthy reports whether this node's last heartbeat was acknowledged
// within the timeout.
func (d *Detector) Healthy(now time.Time) bool {
	return !d.lastAck.IsZero() && now.Sub(d.lastAck) <= d.timeout
}

// LastSeen returns when the last entry of peer id was seen.
func (d *Detector) LastSeen(id string) (time.Time, bool) {
	p, ok := d.peers[id]
	return p.lastSeen, ok
}

// Suspects returns the peers to evict at now, sorted by id. See Detector.
func (d *Detector) Suspects(now time.Time) []Suspect {
	if d.healthySince.IsZero() || !d.Healthy(now) {
		return nil
	}
	var out []Suspect
	for id, p := range d.peers {
		from := p.lastSeen
		if d.graceFrom.After(from) {
			from = d.graceFrom
		}
		if silence := now.Sub(from); silence > d.timeout {
			out = append(out, Suspect{ID: id, Incarnation: p.incarnation, Silence: silence})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// NextCheck returns when the next peer becomes a suspect if nothing is
// heard from it, so the driver can check exactly then; ok is false when
// there is no peer or this node is not healthy.
func (d *Detector) NextCheck() (at time.Time, ok bool) {
	if d.healthySince.IsZero() || d.lastAck.IsZero() {
		return time.Time{}, false
	}
	for _, p := range d.peers {
		from := p.lastSeen
		if d.graceFrom.After(from) {
			from = d.graceFrom
		}
		// Suspects uses a strict comparison: one millisecond past the timeout.
		t := from.Add(d.timeout + time.Millisecond)
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	return at, ok
}
