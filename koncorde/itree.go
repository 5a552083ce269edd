package koncorde

import "math"

// itree is an interval tree: a treap ordered by (lo, seq) whose nodes carry
// the maximum upper bound of their subtree. A stabbing query costs
// O(log n + k) for k results; insertion and removal O(log n).
type itree struct {
	root *itNode
	seq  uint64
	rnd  uint64
	n    int
}

type itNode struct {
	lo, hi         float64
	loIncl, hiIncl bool
	seq            uint64
	prio           uint64
	maxHi          float64
	cd             *cond
	left, right    *itNode
}

func (n *itNode) contains(v float64) bool {
	if v < n.lo || (v == n.lo && !n.loIncl) {
		return false
	}
	if v > n.hi || (v == n.hi && !n.hiIncl) {
		return false
	}
	return true
}

func (n *itNode) fix() {
	m := n.hi
	if n.left != nil && n.left.maxHi > m {
		m = n.left.maxHi
	}
	if n.right != nil && n.right.maxHi > m {
		m = n.right.maxHi
	}
	n.maxHi = m
}

func (n *itNode) less(lo float64, seq uint64) bool {
	return n.lo < lo || (n.lo == lo && n.seq < seq)
}

func (t *itree) nextPrio() uint64 {
	// xorshift64*: deterministic priorities, no global state.
	if t.rnd == 0 {
		t.rnd = 0x9E3779B97F4A7C15
	}
	t.rnd ^= t.rnd >> 12
	t.rnd ^= t.rnd << 25
	t.rnd ^= t.rnd >> 27
	return t.rnd * 2685821657736338717
}

// insert adds [lo, hi] (bounds inclusive or not) for cd and returns the node,
// which remove takes back.
func (t *itree) insert(lo, hi float64, loIncl, hiIncl bool, cd *cond) *itNode {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return nil
	}
	t.seq++
	n := &itNode{lo: lo, hi: hi, loIncl: loIncl, hiIncl: hiIncl, seq: t.seq, prio: t.nextPrio(), maxHi: hi, cd: cd}
	t.root = insertNode(t.root, n)
	t.n++
	return n
}

func insertNode(root, n *itNode) *itNode {
	if root == nil {
		return n
	}
	if root.less(n.lo, n.seq) {
		root.right = insertNode(root.right, n)
		if root.right.prio > root.prio {
			root = rotateLeft(root)
		}
	} else {
		root.left = insertNode(root.left, n)
		if root.left.prio > root.prio {
			root = rotateRight(root)
		}
	}
	root.fix()
	return root
}

func rotateLeft(n *itNode) *itNode {
	r := n.right
	n.right = r.left
	r.left = n
	n.fix()
	r.fix()
	return r
}

func rotateRight(n *itNode) *itNode {
	l := n.left
	n.left = l.right
	l.right = n
	n.fix()
	l.fix()
	return l
}

func (t *itree) remove(n *itNode) {
	if n == nil {
		return
	}
	t.root = removeNode(t.root, n)
	t.n--
}

func removeNode(root, n *itNode) *itNode {
	if root == nil {
		return nil
	}
	if root == n {
		return mergeNodes(root.left, root.right)
	}
	if root.less(n.lo, n.seq) {
		root.right = removeNode(root.right, n)
	} else {
		root.left = removeNode(root.left, n)
	}
	root.fix()
	return root
}

func mergeNodes(a, b *itNode) *itNode {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	if a.prio > b.prio {
		a.right = mergeNodes(a.right, b)
		a.fix()
		return a
	}
	b.left = mergeNodes(a, b.left)
	b.fix()
	return b
}

// stab appends to dst the conditions of every interval containing v.
func (t *itree) stab(v float64, dst []*cond) []*cond {
	return stabNode(t.root, v, dst)
}

func stabNode(n *itNode, v float64, dst []*cond) []*cond {
	for n != nil && n.maxHi >= v {
		dst = stabNode(n.left, v, dst)
		if n.lo > v {
			return dst
		}
		if n.contains(v) {
			dst = append(dst, n.cd)
		}
		n = n.right
	}
	return dst
}
