#!/usr/bin/env bash
# Creates the project-local Python venv deploy/local/tools/venv with the pinned packages of
# requirements.txt (kubernetes-validate, jsonschema, PyYAML, kubectl, grpcio, grpcio-tools, grpcio-status).
# Idempotent: reinstalls only when requirements.txt changed. Prints the venv's python.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/venv"
if ! python3 -m venv --help >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq python3-venv >&2
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin/python"
