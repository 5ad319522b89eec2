#!/usr/bin/env bash
# Builds the go-control-plane peer of the xDS benchmark (bench/peers/RESULTS.md). Idempotent: Go's
# build cache makes a second run a no-op that prints the same path. Build output, the module cache
# and the build cache all live under ${MICROGATEWAY_CACHE:-$HOME/.cache/microgateway}, never in the
# work tree. Prints the binary's path as its last line.
#
#   bash bench/peers/go-control-plane/build.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${MICROGATEWAY_CACHE:-$HOME/.cache/microgateway}"
out="$cache/bench/go-control-plane-xds"

command -v go >/dev/null || { echo "build.sh: go is not on PATH (Go >= 1.26 needed)" >&2; exit 1; }
mkdir -p "$cache/bench"
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS="-mod=readonly -buildvcs=false"
cd "$here"
go build -trimpath -o "$out.tmp" . && mv -f "$out.tmp" "$out"
echo "$out"
