#!/usr/bin/env bash
# Starts the development Redis Cluster: 3 masters + 3 replicas on
# 127.0.0.1:7001-7006, data under redis-cluster/data (git-ignored).
# Waits until cluster_state:ok. Safe to run when it is already up.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
data="${SC_REDIS_DATA:-$here/data}"
ports=(7001 7002 7003 7004 7005 7006)
host=127.0.0.1

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "redis-server is missing: installing it with apt-get" >&2
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
		# Debian starts a system redis on 6379; we do not need it.
		(service redis-server stop || true) >/dev/null 2>&1
	else
		echo "redis-server is missing. Install it with:" >&2
		echo "  sudo apt-get update && sudo apt-get install -y redis-server" >&2
		exit 1
	fi
fi

for port in "${ports[@]}"; do
	dir="$data/$port"
	mkdir -p "$dir"
	if redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then
		continue
	fi
	redis-server --port "$port" --bind "$host" --dir "$dir" \
		--cluster-enabled yes --cluster-config-file "$dir/nodes.conf" \
		--cluster-node-timeout 5000 --appendonly no --save "" \
		--protected-mode no --daemonize yes \
		--pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
done

for port in "${ports[@]}"; do
	for _ in $(seq 100); do
		redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
done

state() { redis-cli -h "$host" -p "${ports[0]}" cluster info | tr -d '\r' | sed -n 's/^cluster_state://p'; }
slots() { redis-cli -h "$host" -p "${ports[0]}" cluster info | tr -d '\r' | sed -n 's/^cluster_slots_assigned://p'; }

if [ "$(slots)" = 0 ]; then
	addrs=()
	for port in "${ports[@]}"; do addrs+=("$host:$port"); done
	redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$data/create.log" 2>&1 || {
		cat "$data/create.log" >&2
		exit 1
	}
fi

for _ in $(seq 300); do
	if [ "$(state)" = ok ]; then
		echo "Redis Cluster up on $host:${ports[0]}-${ports[-1]} (data in $data)"
		exit 0
	fi
	sleep 0.1
done
echo "Redis Cluster did not reach cluster_state:ok; logs in $data/*/redis.log" >&2
exit 1
