package rediscluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// StartTimeout bounds how long RunTests waits for a new cluster.
const StartTimeout = 90 * time.Second

// RunTests starts a Redis Cluster, stores it in *c, runs the package's tests
// and tears the cluster down. It returns the exit code for os.Exit. When the
// cluster cannot start, the tests fail (they are never skipped).
//
// Set SC_TEST_REDIS_STANDALONE=1 to run against a standalone server instead.
func RunTests(m *testing.M, c **Cluster) int {
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	var (
		cl  *Cluster
		err error
	)
	if os.Getenv("SC_TEST_REDIS_STANDALONE") == "1" {
		cl, err = StartStandalone(ctx, Options{})
	} else {
		cl, err = Start(ctx, Options{})
	}
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "rediscluster: cannot start Redis for the tests: %v\n", err)
		return 1
	}
	*c = cl
	code := m.Run()
	if err := cl.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "rediscluster: close: %v\n", err)
	}
	return code
}

// UniquePrefix returns a key prefix unique to this test, safe to use inside
// a Redis hash tag: "t-<test name>-<random hex>".
func UniquePrefix(t testing.TB) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("rediscluster: random prefix: %v", err)
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	return "t-" + name + "-" + hex.EncodeToString(b[:])
}
