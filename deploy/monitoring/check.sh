#!/usr/bin/env bash
# Checks the Prometheus alert rules with promtool (Debian's prometheus package, installed when
# missing and running as root): syntax, then the unit tests of egov-alerts.test.yaml, then every
# query of the dashboard egov-dashboard.json.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
  else
    echo "promtool is missing (apt-get install prometheus)" >&2
    exit 1
  fi
fi
cd "$here"
promtool check rules egov-alerts.yaml
promtool test rules egov-alerts.test.yaml
# The dashboard's queries, parsed by promtool as recording rules.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 dashboard_rules.py "$tmp/dashboard-queries.yaml"
promtool check rules "$tmp/dashboard-queries.yaml"
