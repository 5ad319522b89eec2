#!/usr/bin/env bash
# The local demo: installs what it needs (idempotent, see setup.sh), then runs Microgateway in
# local mode: a real Envoy on 127.0.0.1:13378 protecting a small demo app, configured from
# examples/local/*.yaml. Extra arguments go to `microgateway local` (e.g. --engine-port 8000).
#
#   bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --no-cluster >/dev/null
exec bun src/cli/main.ts local -f examples/local --demo "$@"
