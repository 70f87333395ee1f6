#!/usr/bin/env bash
# Runs every test of the workspace against a prepared machine: setup.sh (prerequisites,
# PostgreSQL, RabbitMQ, the egov role), then the tests (cargo-nextest when installed, plus the
# doc tests it does not run; otherwise cargo test, which runs both), then the Kubernetes
# manifests' validation against the operators' CRDs in deploy/k8s/crds (EGOV_K8S_CRDS overrides).
# Runs every stage and ends with the count of stages run, passed and failed; exits non-zero if
# any failed. No stage is skipped: a stage whose tool or input is missing fails (setup.sh
# installs the tools the distribution packages). The tests read the connection settings of
# settings.sh (EGOV_PG_*, EGOV_AMQP_*, EGOV_RABBITMQ_NODE), as the scripts do.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# shellcheck source=deploy/local/settings.sh
. "$root/deploy/local/settings.sh"

run=0
passed=()
failed=()
stage() { # stage <name> <command...>
  local name="$1" rc=0; shift
  run=$((run + 1))
  printf '\n==> %s: %s\n' "$name" "$*"
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    printf '==> %s: ok\n' "$name"
    passed+=("$name")
  else
    printf '==> %s: FAILED (exit %s)\n' "$name" "$rc"
    failed+=("$name")
  fi
}
stage_missing() { # stage_missing <name> <why>: a stage that cannot run is a failed stage
  run=$((run + 1))
  printf '\n==> %s: FAILED: %s\n' "$1" "$2"
  failed+=("$1")
}

stage "setup" bash deploy/local/setup.sh

if [ "${#failed[@]}" -gt 0 ]; then
  # Without the prerequisites and servers every later stage would fail for the same reason.
  stage_missing "tests" "setup failed"
  stage_missing "k8s manifests" "setup failed"
else
  if cargo nextest --version >/dev/null 2>&1; then
    # Doc tests first: nextest does not run them, and its summary should be the last word.
    stage "doc tests" cargo test --workspace --doc --all-features
    stage "tests (nextest)" cargo nextest run --workspace --all-features --no-fail-fast
  else
    echo "cargo-nextest is not installed: cargo test runs the unit, integration and doc tests"
    stage "tests (cargo test)" cargo test --workspace --all-features --no-fail-fast
  fi

  crds="${EGOV_K8S_CRDS:-$root/deploy/k8s/crds}"
  if ! compgen -G "$crds/*.yaml" >/dev/null; then
    stage_missing "k8s manifests" "no CRDs (*.yaml) in $crds (deploy/k8s/crds, or set EGOV_K8S_CRDS)"
  elif ! python3 -c 'import yaml' >/dev/null 2>&1; then
    stage_missing "k8s manifests" "python3 cannot import yaml: apt-get install python3-yaml (setup.sh does)"
  else
    export EGOV_K8S_CRDS="$crds"
    stage "k8s manifests" python3 deploy/k8s/validate.py
  fi
fi

printf '\nstages: %d run, %d passed, %d failed\n' "$run" "${#passed[@]}" "${#failed[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "$(IFS=,; echo "${failed[*]}" | sed 's/,/, /g')"
  exit 1
fi
printf 'all test stages passed\n'
