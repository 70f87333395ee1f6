#!/usr/bin/env bash
# Runs every test of the workspace against a prepared machine: setup.sh (PostgreSQL, RabbitMQ,
# the egov role), then the tests (cargo-nextest when installed, plus the doc tests it does not
# run; otherwise cargo test), then the Kubernetes manifests' validation against the operators'
# CRDs when those are present. Runs every stage and exits non-zero if any failed.
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

crds="${EGOV_K8S_CRDS:-$root/../shared/k8s-crds}"
if [ -d "$crds" ]; then
  if ! python3 -c 'import yaml' >/dev/null 2>&1; then
    echo "PyYAML is missing: installing it for the manifest validation"
    python3 -m pip install --quiet pyyaml >/dev/null 2>&1 || echo "could not install PyYAML; validate.py will say it skipped"
  fi
  export EGOV_K8S_CRDS="$crds"
  stage "k8s manifests" python3 deploy/k8s/validate.py
else
  echo "no CRD directory at $crds (set EGOV_K8S_CRDS): skipping the Kubernetes manifest validation"
fi

if [ "${#failed[@]}" -gt 0 ]; then
  printf '\nFAILED: %s\n' "${failed[*]}"
  exit 1
fi
printf '\nall test stages passed\n'
