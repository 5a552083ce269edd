// Command stack starts what the end-to-end suite runs against: a Redis
// Cluster on free loopback ports and one streamcluster node started from
// the binary named by SC_BINARY (built with `go build` when unset). It
// prints one line "READY <port>" when the node answers, and stops both when
// its standard input closes or it receives SIGINT/SIGTERM.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stack:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	bin := os.Getenv("SC_BINARY")
	if bin == "" {
		dir, err := os.MkdirTemp("", "sc-e2e-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "streamcluster")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/streamcluster/streamcluster/cmd/streamcluster")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}

	startCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
	cluster, err := rediscluster.Start(startCtx, rediscluster.Options{})
	cancel()
	if err != nil {
		return fmt.Errorf("redis cluster: %w", err)
	}
	defer cluster.Close()

	port, err := freePort()
	if err != nil {
		return err
	}
	node := exec.Command(bin, "serve",
		"--listen", "127.0.0.1:"+strconv.Itoa(port),
		"--redis", strings.Join(cluster.Addrs(), ","),
		"--node-id", "e2e-node")
	node.Stdout, node.Stderr = os.Stderr, os.Stderr
	if err := node.Start(); err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- node.Wait() }()
	defer func() {
		_ = node.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = node.Process.Kill()
			<-exited
		}
	}()

	if err := waitReady(ctx, port, exited); err != nil {
		return err
	}
	fmt.Printf("READY %d\n", port)

	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		close(stdinClosed)
	}()
	select {
	case <-ctx.Done():
	case <-stdinClosed:
	case err := <-exited:
		exited <- err
		return fmt.Errorf("node exited: %v", err)
	}
	return nil
}

func waitReady(ctx context.Context, port int, exited chan error) error {
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/_ready"
	deadline := time.After(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("node exited before it was ready: %v", err)
		case <-deadline:
			return errors.New("node not ready within 60s")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
