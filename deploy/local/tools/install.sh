#!/usr/bin/env bash
# Installs the project-local command-line tools the test stages use, at the versions pinned in
# package-lock.json (buf: lint, breaking-change detection, curl through server reflection), into
# deploy/local/tools/node_modules. Idempotent: does nothing when the pinned version is there.
# Prints the path of the buf binary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
want="$(node -p 'require("./package-lock.json").packages["node_modules/@bufbuild/buf"].version')"
bin="$here/node_modules/.bin/buf"
if [ ! -x "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
"$bin" --version >/dev/null
echo "$bin"
