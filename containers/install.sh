#!/usr/bin/env bash
# Installs what the container scripts need from Debian, when missing:
# podman, runc (crun fails here), debootstrap (local base images) and
# docker-compose 1.29. Run as root (CI); a no-op when all are present.
set -euo pipefail
need=()
for pkg in podman runc debootstrap docker-compose; do
	command -v "$pkg" >/dev/null || need+=("$pkg")
done
command -v curl >/dev/null || need+=(curl)
command -v jq >/dev/null || need+=(jq)
[ "${#need[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing ${need[*]}: apt-get install -y ${need[*]} (as root)" >&2
	exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
