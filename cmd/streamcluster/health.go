package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// DefaultHealthTimeout bounds one `streamcluster health` probe.
const DefaultHealthTimeout = 3 * time.Second

// runHealth is `streamcluster health`: it asks the node listening on
// --listen (SC_LISTEN, default ":7512") for its /_ready route and exits 0
// when the node is ready (HTTP 200), 1 otherwise. It is the image's
// HEALTHCHECK, so it needs no shell and no tool besides the binary.
func runHealth(args []string) int {
	return health(args, os.Getenv, os.Stderr)
}

func health(args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := DefaultListen
	if v := getenv("SC_LISTEN"); v != "" {
		listen = v
	}
	var (
		addr    = fs.String("listen", listen, "listen address of the node to probe (SC_LISTEN)")
		path    = fs.String("path", "/_ready", "route to probe")
		timeout = fs.Duration("timeout", DefaultHealthTimeout, "probe timeout, Go duration")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	u, err := probeURL(*addr, *path)
	if err != nil {
		fmt.Fprintln(stderr, "streamcluster health:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := probe(ctx, u); err != nil {
		fmt.Fprintln(stderr, "streamcluster health:", err)
		return 1
	}
	return 0
}

// probeURL turns a listen address into the URL that reaches it from the
// same host: an empty or unspecified host (":7512", "0.0.0.0:7512",
// "[::]:7512") becomes the loopback address.
func probeURL(listen, path string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("%w: listen address %q: %w", ErrConfig, listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}

// probe returns nil when GET u answers 200.
func probe(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return nil
}
