#!/usr/bin/env bash
# The gRPC contract's checks, run by test.sh: `buf-check.sh lint` and `buf-check.sh breaking`.
# breaking compares proto/ with the last release tag (v*), or before the first tag with the merge
# base with main; on main itself (merge base = HEAD) with HEAD's first parent, so that what a merge
# brought in is what is checked. EGOV_BUF_AGAINST=<git ref> overrides the choice.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
buf="$(bash deploy/local/tools/install.sh)"
case "${1:-}" in
  lint)
    "$buf" lint proto
    echo "buf lint: proto/ passes the STANDARD rules (exceptions in proto/buf.yaml)"
    ;;
  breaking)
    against="${EGOV_BUF_AGAINST:-}"
    if [ -z "$against" ]; then
      against="$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)"
    fi
    if [ -z "$against" ]; then
      main=""
      for m in main origin/main; do
        if git rev-parse --verify --quiet "$m^{commit}" >/dev/null; then main="$m"; break; fi
      done
      if [ -z "$main" ]; then
        echo "buf breaking: no release tag and no main branch to compare with" >&2
        exit 1
      fi
      against="$(git merge-base HEAD "$main")"
      if [ "$against" = "$(git rev-parse HEAD)" ]; then
        if git rev-parse --verify --quiet 'HEAD^1^{commit}' >/dev/null; then
          against="$(git rev-parse 'HEAD^1')"
        else
          echo "buf breaking: HEAD has no parent to compare with (a single-commit clone?)" >&2
          exit 1
        fi
      fi
    fi
    sha="$(git rev-parse "$against^{commit}")"
    echo "buf breaking: proto/ against $against ($sha)"
    "$buf" breaking proto --against ".git#ref=$sha,subdir=proto"
    echo "buf breaking: no breaking change (FILE rules)"
    ;;
  *)
    echo "usage: $0 lint|breaking" >&2
    exit 2
    ;;
esac
