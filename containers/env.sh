# shellcheck shell=bash
# Sourced by the container scripts: the project's podman settings, without
# any global change. Every value can be overridden from the environment.
#
#   CONTAINERS_CONF   this directory's containers.conf (runc, ulimits, cgroupfs)
#   SC_PODMAN_DIR     where the Docker-API socket, its pid file and its log live
#   DOCKER_HOST       the podman service's Docker-compatible API, for
#                     docker-compose and testcontainers-go
#   TESTCONTAINERS_*  no Ryuk reaper (the scripts clean up themselves), and
#                     published ports reached on 127.0.0.1

SC_CONTAINERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SC_ROOT="$(cd "$SC_CONTAINERS_DIR/.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$SC_CONTAINERS_DIR/containers.conf}"
export SC_PODMAN_DIR="${SC_PODMAN_DIR:-/tmp/streamcluster-podman}"
export SC_PODMAN_SOCK="$SC_PODMAN_DIR/podman.sock"
export DOCKER_HOST="${DOCKER_HOST:-unix://$SC_PODMAN_SOCK}"
export TESTCONTAINERS_RYUK_DISABLED="${TESTCONTAINERS_RYUK_DISABLED:-true}"
export TESTCONTAINERS_HOST_OVERRIDE="${TESTCONTAINERS_HOST_OVERRIDE:-127.0.0.1}"

# Image names: public defaults, overridden to the local ones by images.sh.
export SC_IMAGE="${SC_IMAGE:-localhost/streamcluster:dev}"
export SC_REDIS_IMAGE="${SC_REDIS_IMAGE:-localhost/redis:7-bookworm}"
export SC_DEBIAN_IMAGE="${SC_DEBIAN_IMAGE:-localhost/debian:bookworm}"
export SC_GO_IMAGE="${SC_GO_IMAGE:-localhost/golang:1.26-bookworm}"

sc_log() { printf '%s [containers] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
