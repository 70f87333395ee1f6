#!/usr/bin/env bash
# Runs every test of the workspace against a prepared machine: setup.sh (prerequisites,
# PostgreSQL, RabbitMQ, the egov role) and the project's pinned tools (deploy/local/tools: buf,
# the KEDA schemas, playwright-core for the console's Chromium walk), then the tests (cargo-nextest when installed, plus the
# doc tests it does not run; otherwise cargo test, which runs both), the gRPC contract (buf lint,
# buf breaking), the Kubernetes manifests (deploy/k8s/check.sh, against the CRDs vendored in
# deploy/k8s/crds) and the alert rules (deploy/monitoring/check.sh).
# Runs every stage and ends with the count of stages run, passed and failed; exits non-zero if
# any failed. No stage is skipped: a stage whose tool is missing installs it (the project's
# scripts) or fails. The tests read the connection settings of settings.sh (EGOV_PG_*,
# EGOV_AMQP_*, EGOV_RABBITMQ_NODE), as the scripts do.
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

stage "setup" bash -c 'bash deploy/local/setup.sh && bash deploy/local/tools/install.sh >/dev/null'

if [ "${#failed[@]}" -gt 0 ]; then
  # Without the prerequisites and servers every later stage would fail for the same reason.
  for s in tests "buf lint" "buf breaking" "k8s manifests" "prometheus rules"; do stage_missing "$s" "setup failed"; done
else
  if cargo nextest --version >/dev/null 2>&1; then
    # Doc tests first: nextest does not run them, and its summary should be the last word.
    stage "doc tests" cargo test --workspace --doc --all-features
    stage "tests (nextest)" cargo nextest run --workspace --all-features --no-fail-fast
  else
    echo "cargo-nextest is not installed: cargo test runs the unit, integration and doc tests"
    stage "tests (cargo test)" cargo test --workspace --all-features --no-fail-fast
  fi

  # --- gRPC contract (buf, pinned in deploy/local/tools/package-lock.json) ---
  stage "buf lint" bash deploy/local/buf-check.sh lint
  stage "buf breaking" bash deploy/local/buf-check.sh breaking
  # --- end gRPC contract ---

  # --- Kubernetes manifests (kubectl kustomize, kubernetes-validate, vendored CRD schemas, policy) ---
  stage "k8s manifests" bash deploy/k8s/check.sh
  # --- end Kubernetes manifests ---

  # --- Prometheus alert rules (promtool: syntax and unit tests) ---
  stage "prometheus rules" bash deploy/monitoring/check.sh
  # --- end Prometheus alert rules ---
fi

printf '\nstages: %d run, %d passed, %d failed\n' "$run" "${#passed[@]}" "${#failed[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "$(IFS=,; echo "${failed[*]}" | sed 's/,/, /g')"
  exit 1
fi
printf 'all test stages passed\n'
