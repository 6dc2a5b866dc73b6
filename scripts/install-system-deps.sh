#!/usr/bin/env bash
# Installs the system packages the tests run for real: snmpd (net-snmp's agent, for the SNMP
# source), prometheus-node-exporter (for the Prometheus source) and openssl (the aggregator tests
# make their TLS certificates with it), from Debian's packages.
# Does nothing when they are already there. Services are not started: the tests start their own
# instances on loopback ports.
set -euo pipefail

need=()
command -v snmpd >/dev/null 2>&1 || [ -x /usr/sbin/snmpd ] || need+=(snmpd)
command -v prometheus-node-exporter >/dev/null 2>&1 || [ -x /usr/bin/prometheus-node-exporter ] || need+=(prometheus-node-exporter)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: DW_DEPS_MISSING: expected ${need[*]} installed (Debian: apt-get install ${need[*]}), found them missing and cannot install them here (needs root and apt-get)" >&2
  # Outside CI the tests that need them fail with a clear message; in CI this is an error now.
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi

echo "install-system-deps: installing ${need[*]}" >&2
# Keep Debian's maintainer scripts from starting the daemons.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[ $created_policy = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# In case a daemon was started anyway, stop it: the tests use their own ports.
pkill -x snmpd 2>/dev/null || true
pkill -f '^/usr/bin/prometheus-node-exporter' 2>/dev/null || true
echo "install-system-deps: installed ${need[*]}" >&2
