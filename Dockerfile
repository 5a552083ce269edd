# Streamcluster node image: a static binary on an empty base.
#
#   docker build -t streamcluster .        # public bases: golang:1.26-bookworm, scratch
#   containers/images.sh                   # same file, local bases (no registry needed)
#
# The base images are build arguments so the image also builds where no
# registry is reachable: containers/images.sh passes a local Go image built
# from the host's toolchain with the module cache inside (GOPROXY points into
# it), so `go mod download` below succeeds offline.
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=scratch

FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/.cache/go-build go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/root/.cache/go-build go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/streamcluster ./cmd/streamcluster \
	&& /out/streamcluster version

FROM ${RUNTIME_IMAGE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="streamcluster" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.source="https://github.com/streamcluster/streamcluster"
COPY --from=build /out/streamcluster /streamcluster
# Non-root, numeric so that no /etc/passwd is needed.
USER 65532:65532
# Every setting comes from the SC_* environment (or flags after `serve`):
# SC_REDIS, SC_NODE_ID, SC_MINIMUM_NODES, SC_HEARTBEAT, SC_STORAGE, SC_ES_URL,
# SC_CONFIG, SC_LOG_FORMAT, SC_LOG_LEVEL. Nodes never talk to each other:
# only the clients' port is exposed.
ENV SC_LISTEN=:7512 SC_LOG_FORMAT=json
EXPOSE 7512
# SIGTERM: stop accepting clients, leave the cluster, exit 0.
STOPSIGNAL SIGTERM
# Ready = member, caught up, heartbeats acknowledged, enough nodes. No shell
# needed: the binary probes its own /_ready (exit 0 ready, 1 not).
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=3 CMD ["/streamcluster", "health"]
ENTRYPOINT ["/streamcluster"]
CMD ["serve"]
