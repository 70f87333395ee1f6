#!/usr/bin/env bash
# Installs the project-local command-line tools the test stages use, at the versions pinned in
# package-lock.json (buf: lint, breaking-change detection, curl through server reflection; the
# KEDA models whose schemas check the ScaledObjects; playwright-core for the console's browser walk), into
# deploy/local/tools/node_modules. Idempotent: does nothing when package-lock.json has not changed since the last install.
# Prints the path of the buf binary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq nodejs npm >&2
fi
bin="$here/node_modules/.bin/buf"
stamp="$here/node_modules/.package-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" >"$stamp"
fi
"$bin" --version >/dev/null
echo "$bin"
