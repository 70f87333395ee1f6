#!/usr/bin/env bash
# Checks every overlay with real tools (see check.py): kubectl kustomize, kubernetes-validate,
# the vendored CRD schemas, KEDA's schemas, the project policy; then check.py's self-test, which
# shows each of those layers refusing a broken manifest. Installs the pinned tools first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$root/deploy/local/tools/install.sh" >/dev/null
python="$(bash "$root/deploy/local/tools/install-python.sh")"
"$python" "$root/deploy/k8s/check.py"
"$python" "$root/deploy/k8s/check.py" --self-test
