#!/usr/bin/env bash
# Starts or stops the podman service that serves the Docker API on
# $SC_PODMAN_SOCK (see env.sh), for docker-compose and testcontainers-go.
#
#   containers/service.sh start   # idempotent; waits until the API answers
#   containers/service.sh stop    # idempotent; stops only the service it started
#   containers/service.sh check   # exit 0 when podman can run a container here
set -euo pipefail
. "$(dirname "$0")/env.sh"

pidfile="$SC_PODMAN_DIR/service.pid"

api_up() { curl -sf --max-time 2 --unix-socket "$SC_PODMAN_SOCK" http://d/_ping >/dev/null 2>&1; }

case "${1:-}" in
start)
	command -v podman >/dev/null || { echo "podman is not installed (apt-get install podman runc)" >&2; exit 1; }
	mkdir -p "$SC_PODMAN_DIR"
	if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && api_up; then
		exit 0
	fi
	rm -f "$SC_PODMAN_SOCK"
	# --time=0: no idle timeout; the service lives until `stop`.
	setsid podman system service --time=0 "unix://$SC_PODMAN_SOCK" >"$SC_PODMAN_DIR/service.log" 2>&1 &
	echo $! >"$pidfile"
	for _ in $(seq 1 100); do
		api_up && { sc_log "podman Docker API on $SC_PODMAN_SOCK (pid $(cat "$pidfile"))"; exit 0; }
		kill -0 "$(cat "$pidfile")" 2>/dev/null || break
		sleep 0.1
	done
	echo "podman system service did not start; its log:" >&2
	cat "$SC_PODMAN_DIR/service.log" >&2 || true
	exit 1
	;;
stop)
	if [ -f "$pidfile" ]; then
		pid="$(cat "$pidfile")"
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid"
			for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$pid" 2>/dev/null && kill -9 "$pid" || true
		fi
		rm -f "$pidfile" "$SC_PODMAN_SOCK"
	fi
	;;
check)
	command -v podman >/dev/null || { echo "podman is not installed (apt-get install podman runc)" >&2; exit 1; }
	podman info >/dev/null 2>&1 || { echo "podman cannot run here: $(podman info 2>&1 | tail -1)" >&2; exit 1; }
	;;
*)
	echo "usage: $0 start|stop|check" >&2
	exit 2
	;;
esac
