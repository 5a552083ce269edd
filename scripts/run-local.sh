#!/usr/bin/env bash
# Runs a local Streamcluster: the development Redis Cluster (3 masters + 3
# replicas on 127.0.0.1:7001-7006, redis-cluster/up.sh) and three nodes on
# 127.0.0.1:7512, :7513 and :7514. Prints the URLs, then waits; Ctrl-C (or
# SIGTERM) stops the nodes gracefully and the Redis Cluster.
#
# Environment: SC_BINARY (default bin/streamcluster, built when missing),
# SC_NODES (default 3), SC_HEARTBEAT, SC_MINIMUM_NODES, SC_STORAGE, SC_ES_URL
# and the other SC_* variables of `streamcluster serve` are passed through.
# Logs go to ${SC_RUN_DIR:-$TMPDIR/streamcluster-run}/node-<port>.log.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin="${SC_BINARY:-$root/bin/streamcluster}"
nodes="${SC_NODES:-3}"
run_dir="${SC_RUN_DIR:-${TMPDIR:-/tmp}/streamcluster-run}"
host=127.0.0.1

if [ ! -x "$bin" ]; then
	echo "building $bin"
	go build -o "$bin" ./cmd/streamcluster
fi
mkdir -p "$run_dir"

pids=()
stopping=0
cleanup() {
	[ "$stopping" = 1 ] && return
	stopping=1
	echo
	echo "stopping the nodes"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	./redis-cluster/down.sh
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

./redis-cluster/up.sh

for i in $(seq 0 $((nodes - 1))); do
	port=$((7512 + i))
	SC_LISTEN="$host:$port" SC_NODE_ID="${SC_NODE_PREFIX:-node}-$port" \
		SC_REDIS="${SC_REDIS:-$host:7001,$host:7002,$host:7003}" \
		"$bin" serve >"$run_dir/node-$port.log" 2>&1 &
	pids+=("$!")
done

for i in $(seq 0 $((nodes - 1))); do
	port=$((7512 + i))
	for _ in $(seq 100); do
		curl -fs "http://$host:$port/_healthcheck" >/dev/null 2>&1 && break
		if ! kill -0 "${pids[$i]}" 2>/dev/null; then
			echo "node on :$port exited; its log:" >&2
			cat "$run_dir/node-$port.log" >&2
			exit 1
		fi
		sleep 0.1
	done
done

echo
echo "Streamcluster is running ($nodes nodes, logs in $run_dir):"
for i in $(seq 0 $((nodes - 1))); do
	port=$((7512 + i))
	echo "  node-$port  API/WebSocket http://$host:$port/   health http://$host:$port/_plugin/cluster/health   status http://$host:$port/_plugin/cluster/status"
done
echo "  metrics: http://$host:7512/metrics"
echo "Press Ctrl-C to stop everything."
wait
