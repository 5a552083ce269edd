#!/usr/bin/env bash
# make test-containers: the image, the compose stack and the testcontainers
# module, for real, on podman (see containers/env.sh and containers.conf).
#
#   containers/test.sh                     # build images, run everything
#   SC_SKIP_IMAGES=1 containers/test.sh    # reuse the images already built
#   SC_SKIP_CONTAINERS=1 containers/test.sh  # exit 0 (not 1) where no engine can run
#
# It stops every container, network and service it started, also when it
# fails (trap), then checks that nothing is left and prints its wall time.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$SC_ROOT"

t0=$(date +%s)
project="sctest$$"
compose=(docker-compose -p "$project" -f "$SC_ROOT/docker-compose.yml")
hc_pid=""
started_service=""
export SC_IMAGE SC_REDIS_IMAGE
# The compose stack signs its control entries.
export SC_SECRET="${SC_SECRET:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")}"

fail() { sc_log "FAIL: $*"; exit 1; }

if ! "$SC_CONTAINERS_DIR/service.sh" check || ! command -v docker-compose >/dev/null; then
	sc_log "no container engine here (needs podman, runc and docker-compose: apt-get install podman runc docker-compose)"
	[ -n "${SC_SKIP_CONTAINERS:-}" ] && { sc_log "SC_SKIP_CONTAINERS set: skipping"; exit 0; }
	exit 1
fi

cleanup() {
	local rc=$? left
	set +e
	[ -n "$hc_pid" ] && kill "$hc_pid" 2>/dev/null && wait "$hc_pid" 2>/dev/null
	if [ -S "$SC_PODMAN_SOCK" ]; then
		"${compose[@]}" --profile elasticsearch down -v --remove-orphans --timeout 5 >/dev/null 2>&1
	fi
	# Whatever a failed step left: this run's compose project and every
	# testcontainers cluster (label io.streamcluster.cluster).
	for label in "com.docker.compose.project=$project" "io.streamcluster.cluster"; do
		podman ps -aq --filter "label=$label" | xargs -r podman rm -f -t 1 >/dev/null 2>&1
		podman network ls -q --filter "label=$label" | xargs -r podman network rm -f >/dev/null 2>&1
	done
	[ -n "$started_service" ] && "$SC_CONTAINERS_DIR/service.sh" stop
	left="$( { podman ps -aq --filter "label=com.docker.compose.project=$project"; podman ps -aq --filter label=io.streamcluster.cluster;
		podman network ls -q --filter "label=com.docker.compose.project=$project"; podman network ls -q --filter label=io.streamcluster.cluster; } | wc -l)"
	if [ "$left" -ne 0 ]; then
		sc_log "cleanup left $left containers/networks behind"
		[ "$rc" -eq 0 ] && rc=1
	fi
	sc_log "wall time $(( $(date +%s) - t0 ))s, exit $rc"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Images, and the node image's size.
if [ -z "${SC_SKIP_IMAGES:-}" ]; then
	"$SC_CONTAINERS_DIR/images.sh"
fi
for img in "$SC_IMAGE" "$SC_REDIS_IMAGE"; do
	podman image exists "$img" || fail "image $img missing: run containers/images.sh"
done
size="$(podman image inspect --format '{{.Size}}' "$SC_IMAGE")"
sc_log "image $SC_IMAGE: $size bytes"

# 2. The Docker API for docker-compose and testcontainers-go.
if ! curl -sf --max-time 2 --unix-socket "$SC_PODMAN_SOCK" http://d/_ping >/dev/null 2>&1; then
	started_service=1
	"$SC_CONTAINERS_DIR/service.sh" start
fi

# 3. The compose file, with and without the Elasticsearch profile.
"${compose[@]}" config -q || fail "docker-compose config"
SC_STORAGE=elasticsearch "${compose[@]}" --profile elasticsearch config -q || fail "docker-compose --profile elasticsearch config"
es_config="$(SC_STORAGE=elasticsearch "${compose[@]}" --profile elasticsearch config)"
grep -q 'SC_STORAGE: elasticsearch' <<<"$es_config" || fail "nodes not switched to elasticsearch"
sc_log "docker-compose config: ok, with and without the elasticsearch profile"

# podman runs healthchecks from systemd timers, absent here: run them for
# every container of the project that is not healthy yet.
(
	while true; do
		for id in $(podman ps -q --filter "label=com.docker.compose.project=$project" --filter health=starting) \
			$(podman ps -q --filter "label=com.docker.compose.project=$project" --filter health=unhealthy); do
			podman healthcheck run "$id" >/dev/null 2>&1 || true
		done
		sleep 1
	done
) &
hc_pid=$!

# wait_count N: every one of the N nodes is ready and counts N members.
wait_count() {
	local n=$1 deadline=$(( $(date +%s) + 120 )) i addr ok count
	while [ "$(date +%s)" -lt "$deadline" ]; do
		ok=0
		for i in $(seq 1 "$n"); do
			addr="$("${compose[@]}" port --index="$i" node 7512 2>/dev/null)" || continue
			curl -sf --max-time 2 "http://$addr/_ready" >/dev/null || continue
			count="$(curl -sf --max-time 2 "http://$addr/_plugin/cluster/status" | jq -r .result.count)" || continue
			[ "$count" = "$n" ] && ok=$((ok + 1))
		done
		[ "$ok" -eq "$n" ] && return 0
		sleep 1
	done
	for i in $(seq 1 "$n"); do
		addr="$("${compose[@]}" port --index="$i" node 7512 2>/dev/null)" &&
			sc_log "node $i ($addr): $(curl -s --max-time 2 "http://$addr/_plugin/cluster/status")"
	done
	"${compose[@]}" logs --tail=20 node >&2
	return 1
}

# wait_healthy N: podman reports the N nodes healthy (HEALTHCHECK = streamcluster health).
wait_healthy() {
	local n=$1 deadline=$(( $(date +%s) + 60 )) h
	while [ "$(date +%s)" -lt "$deadline" ]; do
		h="$(podman ps --filter "label=com.docker.compose.project=$project" --filter label=com.docker.compose.service=node --filter health=healthy -q | wc -l)"
		[ "$h" -eq "$n" ] && return 0
		sleep 1
	done
	"${compose[@]}" ps >&2
	return 1
}

# 4. The stack: Redis Cluster, three nodes, then four.
t=$(date +%s)
"${compose[@]}" up -d || fail "docker-compose up" # scale: 3 in the file
wait_count 3 || fail "3 nodes ready with count 3"
sc_log "compose: 3 nodes ready, count 3 on each ($(( $(date +%s) - t ))s)"
wait_healthy 3 || fail "3 nodes healthy"
sc_log "compose: 3 nodes healthy (streamcluster health)"
node_logs="$("${compose[@]}" logs --no-color node)"
if grep -q "no shared secret" <<<"$node_logs"; then fail "nodes run without SC_SECRET"; fi
ports="$("${compose[@]}" ps node | grep -o '[0-9.]*:[0-9]*->[0-9]*/tcp' | sort -u)"
[ -n "$ports" ] && [ "$(echo "$ports" | grep -vc -- '->7512/tcp$' || true)" -eq 0 ] || fail "a node publishes more than 7512: $ports"
[ -z "$("${compose[@]}" ps | grep redis | grep -o -- '->' || true)" ] || fail "Redis publishes a port"

t=$(date +%s)
"${compose[@]}" up -d --no-recreate --scale node=4 || fail "docker-compose up --scale node=4"
wait_count 4 || fail "4 nodes ready with count 4"
sc_log "compose: --scale node=4, count 4 on each ($(( $(date +%s) - t ))s)"

"${compose[@]}" down -v --remove-orphans --timeout 15 || fail "docker-compose down"
left="$( { podman ps -aq --filter "label=com.docker.compose.project=$project"; podman network ls -q --filter "label=com.docker.compose.project=$project"; } | wc -l)"
[ "$left" -eq 0 ] || fail "docker-compose down left $left containers/networks"
sc_log "compose: down left nothing behind"
kill "$hc_pid" && wait "$hc_pid" 2>/dev/null || true
hc_pid=""

# 5. The testcontainers module: a 3-node cluster, kill, cut off Redis, reconnect.
t=$(date +%s)
(cd "$SC_ROOT/testcontainers" && go test -count=1 -timeout 15m -v ./... 2>&1 | grep -vE '^[0-9]{4}/[0-9]{2}/[0-9]{2} ') ||
	fail "testcontainers module tests"
sc_log "testcontainers: ok ($(( $(date +%s) - t ))s)"
sc_log "all container tests passed"
