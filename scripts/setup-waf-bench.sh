#!/usr/bin/env bash
# Installs what bench/waf/modsecurity.ts compares us against: nginx with the ModSecurity v3 connector
# and the OWASP Core Rule Set, all from Debian's packages, plus wrk for bench/waf/throughput.ts.
#
# Nothing is left running: a policy-rc.d that refuses every service start is in place during the
# install (Debian's nginx package would otherwise start the system nginx on port 80), and any
# nginx the package still managed to start is stopped. The benchmark runs its own nginx as a
# child process with a configuration in a temporary folder, on 127.0.0.1 ports.
#
# Usage: sudo bash scripts/setup-waf-bench.sh      (idempotent; root in CI and the dev machines)
set -euo pipefail

packages=(nginx libnginx-mod-http-modsecurity modsecurity-crs wrk)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "already installed: ${packages[*]}"
else
  policy=/usr/sbin/policy-rc.d
  had_policy=0
  [ -e "$policy" ] && had_policy=1
  if [ "$had_policy" = 0 ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# A system nginx started by the package despite policy-rc.d (e.g. no invoke-rc.d) is stopped by its pid.
if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
  kill "$(cat /run/nginx.pid)"
fi

module=$(ls /usr/lib/nginx/modules/ngx_http_modsecurity_module.so)
crs=/usr/share/modsecurity-crs
test -f "$crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"
test -f /etc/modsecurity/crs/crs-setup.conf
echo "nginx: $(nginx -v 2>&1)"
echo "ModSecurity module: $module"
echo "CRS: $(dpkg-query -W -f='${Version}' modsecurity-crs) in $crs"
echo "wrk: $(command -v wrk)"
