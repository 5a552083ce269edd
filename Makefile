# Streamcluster build, run and test entry points. See README.md.
SHELL := bash
.SHELLFLAGS := -o pipefail -euc
.DEFAULT_GOAL := build

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
PKGS     := ./...

.PHONY: build run test test-go test-e2e lint bench redis-cluster-up redis-cluster-down images test-containers bench-quick bench-go clean

## build: the binary at bin/streamcluster
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/streamcluster ./cmd/streamcluster

## run: a local Redis Cluster (127.0.0.1:7001-7006) and three nodes on :7512, :7513, :7514
run: build
	./scripts/run-local.sh

## test: every test, against real Redis servers the tests start themselves
test: test-go test-e2e

test-go:
	$(GO) test -race -count=1 -timeout 10m $(PKGS)

## test-e2e: end-to-end tests with the official kuzzle-sdk (needs `npm ci` in e2e/)
test-e2e: build
	@if [ -f e2e/package.json ]; then \
		cd e2e && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && SC_BINARY=$(CURDIR)/bin/streamcluster npm test; \
	else echo "no e2e suite yet"; fi

## lint: formatting and vet (the testcontainers module is a module of its own)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	cd testcontainers && $(GO) vet ./...

## bench: benchmark harness (its own Redis Cluster and nodes); writes bench/results/
bench: build
	nice -n 10 $(GO) run ./bench/cmd/scbench --cross-node --nodes 3

## bench-quick: the same in about a minute
bench-quick: build
	nice -n 10 $(GO) run ./bench/cmd/scbench --quick --cross-node --nodes 2

## bench-go: the packages' Go benchmarks
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 2s $(PKGS)

## images: the container images, built locally with podman (no registry needed)
images:
	./containers/images.sh

## test-containers: image, compose stack and testcontainers module on podman; leaves nothing behind
test-containers:
	./containers/test.sh

redis-cluster-up:
	./redis-cluster/up.sh

redis-cluster-down:
	./redis-cluster/down.sh

clean:
	rm -rf bin
