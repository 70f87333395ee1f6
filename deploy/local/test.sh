#!/usr/bin/env bash
# Runs every test of the workspace against a prepared machine: setup.sh (PostgreSQL, RabbitMQ,
# the egov role), then the tests (cargo-nextest when installed, plus the doc tests it does not
# run; otherwise cargo test), the gRPC contract (buf lint, buf breaking), the Kubernetes
# manifests (deploy/k8s/check.sh) and the alert rules (deploy/monitoring/check.sh). Runs every
# stage and exits non-zero if any failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bash deploy/local/setup.sh

failed=()
stage() { # stage <name> <command...>
  local name="$1"; shift
  printf '\n==> %s: %s\n' "$name" "$*"
  if "$@"; then
    printf '==> %s: ok\n' "$name"
  else
    printf '==> %s: FAILED (exit %s)\n' "$name" "$?"
    failed+=("$name")
  fi
}

if cargo nextest --version >/dev/null 2>&1; then
  # Doc tests first: nextest does not run them, and its summary should be the last word.
  stage "doc tests" cargo test --workspace --doc --all-features
  stage "tests (nextest)" cargo nextest run --workspace --all-features --no-fail-fast
else
  echo "cargo-nextest is not installed: running cargo test"
  stage "tests" cargo test --workspace --all-features --no-fail-fast
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

if [ "${#failed[@]}" -gt 0 ]; then
  printf '\nFAILED: %s\n' "${failed[*]}"
  exit 1
fi
printf '\nall test stages passed\n'
