#!/usr/bin/env bash
# Stops the development Redis Cluster started by up.sh and removes its data
# (pass --keep to keep the data for the next up.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
data="${SC_REDIS_DATA:-$here/data}"
for port in 7001 7002 7003 7004 7005 7006; do
	pidfile="$data/$port/redis.pid"
	if [ -f "$pidfile" ]; then
		pid=$(cat "$pidfile")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
done
if [ "${1:-}" != --keep ]; then
	rm -rf "$data"
fi
echo "Redis Cluster stopped"
