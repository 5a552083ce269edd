// Package testbin builds the streamcluster binary for tests that run nodes
// as real processes (kill -9, SIGSTOP, graceful leave on SIGTERM).
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles cmd/streamcluster into a new temporary directory and
// returns the binary's path and a function that removes the directory.
// The compiler's output goes to stderr.
func Build() (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "streamcluster-bin-")
	if err != nil {
		return "", nil, fmt.Errorf("testbin: %w", err)
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	path = filepath.Join(dir, "streamcluster")
	cmd := exec.Command("go", "build", "-o", path, "github.com/streamcluster/streamcluster/cmd/streamcluster")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("testbin: build streamcluster: %w", err)
	}
	return path, cleanup, nil
}
