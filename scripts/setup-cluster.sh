#!/usr/bin/env bash
# Installs the real Kubernetes control plane the end-to-end tests run against (test/support/kube-cluster.ts):
# etcd, kube-apiserver and kube-controller-manager, built from source with Go because no registry this
# project reaches ships them. The versions come from test/cluster/tools/go.mod (the one place to change
# them). Binaries go to a cache outside the repo keyed by version, so a fresh clone on the same machine
# reuses them:
#
#   ${MICROGATEWAY_CACHE:-$HOME/.cache/microgateway}/kube/<kubernetes version>/
#     kube-apiserver  kube-controller-manager  etcd  [kubectl, only if none is on PATH]
#
# Idempotent: when the binaries exist and report the pinned versions it only checks them (well under
# a second). A cold build downloads about 600 MB of Go module sources and compiles for 10-15 minutes
# on 2 cores (peak memory about 2 GB).
#
#   bash scripts/setup-cluster.sh        (scripts/setup.sh calls it)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
trap 'echo "setup-cluster: FAILED (line $LINENO: $BASH_COMMAND)" >&2' ERR

log() { printf 'setup-cluster: %s\n' "$*"; }
die() {
  printf 'setup-cluster: ERROR: %s\n' "$*" >&2
  exit 1
}

tools=test/cluster/tools
# The version of a module required in the wrapper's go.mod (`<module> <version>` on its own line).
required_version() {
  local v
  v=$(sed -n "s|^[[:space:]]*\(require[[:space:]]\{1,\}\)\{0,1\}$1[[:space:]]\{1,\}\(v[^[:space:]]*\).*|\2|p" "$tools/go.mod" | head -n 1)
  [ -n "$v" ] || die "$tools/go.mod does not require $1"
  printf '%s' "$v"
}
KUBE_VERSION=$(required_version k8s.io/kubernetes)   # e.g. v1.35.4
ETCD_VERSION=$(required_version go.etcd.io/etcd/server/v3) # e.g. v3.6.5

cache_root=${MICROGATEWAY_CACHE:-$HOME/.cache/microgateway}
dir="$cache_root/kube/$KUBE_VERSION"

# What each binary prints for --version when it is the pinned build (first line only).
kube_version_line="Kubernetes $KUBE_VERSION"
etcd_version_line="etcd Version: ${ETCD_VERSION#v}"

# The first line of `<binary> --version`, or nothing if the binary is missing or broken.
version_of() {
  [ -x "$1" ] || return 0
  local args=(--version)
  [ "$(basename "$1")" = kubectl ] && args=(version --client)
  "$1" "${args[@]}" 2>/dev/null | head -n 1 || true
}

# ---- decide what needs building ---------------------------------------------------------------
# name | Go package | expected first line of --version
targets=(
  "etcd|go.etcd.io/etcd/server/v3|$etcd_version_line"
  "kube-apiserver|k8s.io/kubernetes/cmd/kube-apiserver|$kube_version_line"
  "kube-controller-manager|k8s.io/kubernetes/cmd/kube-controller-manager|$kube_version_line"
)
# The tests use the kubectl on PATH when there is one (they need only get/apply/delete, which any
# recent client does); only a machine without one gets the pinned build.
if ! command -v kubectl >/dev/null 2>&1 || [ -x "$dir/kubectl" ]; then
  targets+=("kubectl|k8s.io/kubernetes/cmd/kubectl|Client Version: $KUBE_VERSION")
fi

todo=()
for t in "${targets[@]}"; do
  IFS='|' read -r name pkg want <<<"$t"
  have=$(version_of "$dir/$name")
  if [ "$have" = "$want" ]; then
    log "$name present ($want, $dir/$name)"
  else
    [ -e "$dir/$name" ] && log "$name at $dir/$name reports '$have', want '$want': rebuilding"
    todo+=("$t")
  fi
done
if [ "${#todo[@]}" -eq 0 ]; then
  log "done"
  exit 0
fi

# ---- build ------------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "go is not on PATH; building the control plane needs Go >= 1.25 (https://go.dev/dl/)"
log "building with $(go version) into $dir (downloads Go modules on the first run)"
mkdir -p "$dir"

# Two compile jobs for two cores: more only adds memory pressure (a kube-apiserver link alone takes
# about 2 GB). Static binaries (no cgo), as Kubernetes releases them; no symbol tables, a third smaller.
export GOFLAGS="-p=2 -mod=readonly -trimpath ${GOFLAGS:-}"
export CGO_ENABLED=0
build_date=$(date -u +'%Y-%m-%dT%H:%M:%SZ')
minor=${KUBE_VERSION#v1.}
minor=${minor%%.*}
# Kubernetes stamps its version into two packages (hack/lib/version.sh); without it the binaries say
# v0.0.0-master and clients that check the server version misbehave.
kube_ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

total_start=$SECONDS
for t in "${todo[@]}"; do
  IFS='|' read -r name pkg want <<<"$t"
  start=$SECONDS
  log "go build $pkg -> $dir/$name"
  ldflags=$kube_ldflags
  [ "$name" = etcd ] && ldflags="-s -w"
  # Build beside the target and rename, so an interrupted build never leaves a half-written binary.
  (cd "$tools" && go build -ldflags="$ldflags" -o "$dir/.$name.tmp" "$pkg")
  mv -f "$dir/.$name.tmp" "$dir/$name"
  have=$(version_of "$dir/$name")
  [ "$have" = "$want" ] || die "built $dir/$name but it reports '$have', want '$want'"
  log "built $name ($want) in $((SECONDS - start)) s"
  if [ "$name" = kubectl ]; then
    log "no kubectl on PATH: the tests use $dir/kubectl (add $dir to PATH to use it yourself)"
  fi
done
log "done: built ${#todo[@]} binaries in $((SECONDS - total_start)) s"
