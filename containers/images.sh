#!/usr/bin/env bash
# Builds the images the compose stack and the testcontainers module use,
# without any registry: a Debian base from debootstrap, Redis on it, a Go
# builder with the host's toolchain and module cache, then the node image
# from the top-level Dockerfile. Reports the node image's size.
#
#   containers/images.sh            # build what is missing, always rebuild the node image
#   SC_REBUILD=1 containers/images.sh   # rebuild the base images too
#   SC_SKIP_CONTAINERS=1 …              # exit 0 (not 1) where podman cannot run
#
# The Redis image's build runs apt-get inside a build container: it needs
# the Debian mirror apt is configured with (as debootstrap does), nothing else.
#
# Images: $SC_DEBIAN_IMAGE, $SC_REDIS_IMAGE, $SC_GO_IMAGE, $SC_IMAGE (env.sh).
# Needs root (debootstrap), podman, runc, debootstrap and the Go toolchain.
set -euo pipefail
. "$(dirname "$0")/env.sh"

if ! "$SC_CONTAINERS_DIR/service.sh" check; then
	[ -n "${SC_SKIP_CONTAINERS:-}" ] && { sc_log "SC_SKIP_CONTAINERS set: no images built"; exit 0; }
	exit 1
fi

work="$(mktemp -d /tmp/sc-images.XXXXXX)"
cleanup() {
	chmod -R u+w "$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

have() { [ -z "${SC_REBUILD:-}" ] && podman image exists "$1"; }

# The Debian mirror apt is configured with (deb822 or one-line sources).
debian_mirror() {
	local m
	m="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1)"
	[ -n "$m" ] || m="$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep debian | grep -v security | head -1)"
	echo "${m:-http://deb.debian.org/debian}"
}

build() { nice -n 19 podman build --format docker "$@"; }

# 1. Debian bookworm base (minbase, ~30 MB compressed).
if ! have "$SC_DEBIAN_IMAGE"; then
	mirror="$(debian_mirror)"
	sc_log "debootstrap bookworm from $mirror"
	nice -n 19 debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log" >&2; exit 1; }
	rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
	tar -C "$work/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$SC_DEBIAN_IMAGE" >/dev/null
	rm -rf "$work/rootfs"
	sc_log "imported $SC_DEBIAN_IMAGE"
fi

# 2. Redis 7 (Debian's redis-server).
if ! have "$SC_REDIS_IMAGE"; then
	sc_log "building $SC_REDIS_IMAGE"
	build --build-arg BASE="$SC_DEBIAN_IMAGE" -t "$SC_REDIS_IMAGE" -f "$SC_CONTAINERS_DIR/redis.Containerfile" "$work"
fi

# 3. Go builder: the host toolchain and this go.sum's modules. Rebuilt when
#    go.sum or the toolchain changes (label sc.gokey).
gokey="$(cd "$SC_ROOT" && { go version; sha256sum go.mod go.sum; } | sha256sum | cut -c1-16)"
if ! have "$SC_GO_IMAGE" || [ "$(podman image inspect --format '{{index .Labels "sc.gokey"}}' "$SC_GO_IMAGE")" != "$gokey" ]; then
	sc_log "building $SC_GO_IMAGE ($(go version | cut -d' ' -f3))"
	ctx="$work/go-context"
	mkdir -p "$ctx"
	cp -a "$(go env GOROOT)" "$ctx/go"
	# A module cache with exactly this module's dependencies, filled from
	# the host's cache; its cache/download tree is a GOPROXY file tree.
	hostcache="$(go env GOMODCACHE)/cache/download"
	(cd "$SC_ROOT" && GOMODCACHE="$work/modcache" GOPROXY="file://$hostcache" GOSUMDB=off GOFLAGS=-mod=mod go mod download)
	mv "$work/modcache/cache/download" "$ctx/modproxy"
	build --build-arg BASE="$SC_DEBIAN_IMAGE" --label "sc.gokey=$gokey" -t "$SC_GO_IMAGE" -f "$SC_CONTAINERS_DIR/golang.Containerfile" "$ctx"
	chmod -R u+w "$work/modcache" "$ctx" && rm -rf "$work/modcache" "$ctx"
fi

# 4. The node image, from the top-level Dockerfile.
version="$(cd "$SC_ROOT" && git describe --tags --always --dirty 2>/dev/null || echo dev)"
sc_log "building $SC_IMAGE (version $version)"
build --build-arg GO_IMAGE="$SC_GO_IMAGE" --build-arg VERSION="$version" -t "$SC_IMAGE" -f "$SC_ROOT/Dockerfile" "$SC_ROOT"
podman image prune -f >/dev/null # the builder stages' dangling layers

size="$(podman image inspect --format '{{.Size}}' "$SC_IMAGE")"
sc_log "$SC_IMAGE: $size bytes ($((size / 1024 / 1024)) MiB; goal < 25 MB)"
