#!/usr/bin/env bash
# Checks what the local scripts need and installs from the distribution's packages what is
# missing; run by setup.sh (so by up.sh and test.sh) before anything else. Each check tests the
# thing itself (a command that runs, a module that imports), not a package name.
#
#   Rust toolchain   rustc and cargo at least Cargo.toml's rust-version: NOT installed here (no
#                    Debian release packages it); a missing or older one stops at once, saying
#                    how to get it (rustup).
#   C compiler       cc (gcc + libc6-dev): the linker rustc calls, and aws-lc-sys's C sources
#   python3          sample-walk.sh reads egovctl's JSON with it
#   python3-venv     deploy/local/tools/install-python.sh makes the project's own venv (kubectl,
#                    kubernetes-validate, jsonschema, grpcio: pinned; never pip into the system
#                    Python)
#   nodejs, npm      deploy/local/tools/install.sh installs buf and the KEDA schemas (pinned)
#   prometheus       promtool, for deploy/monitoring/check.sh
#   chromium         Debian's Chromium: the web console's browser test drives it headless
#                    (tests/console.rs, tests/browser/walk.mjs, with playwright-core from
#                    deploy/local/tools); fonts-noto-cjk draws its Chinese pages
#   PostgreSQL       postgresql (server and psql)
#   RabbitMQ         rabbitmq-server
#
# Needs Debian 12/13 or Ubuntu 22.04+ (apt), and root or sudo for the installs. Run alone with
# `bash deploy/local/prereqs.sh`; EGOV_PREREQS_CHECK_ONLY=1 reports what is missing without
# installing (exit 1 when something is).
set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive
prereqs_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
check_only="${EGOV_PREREQS_CHECK_ONLY:-0}"

say() { printf 'prereqs: %s\n' "$*"; }
die() { printf 'prereqs: ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# ------------------------------------------------------------------ Rust (checked, never installed)

version_at_least() { # version_at_least <have> <need>: dotted numeric comparison
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

rust_needed="$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$prereqs_root/Cargo.toml" | head -n 1)"
[ -n "$rust_needed" ] || die "no rust-version in $prereqs_root/Cargo.toml"
rust_help="install rustup (the Rust project's installer, https://rustup.rs), then: rustup toolchain install $rust_needed && rustup default $rust_needed (or 'rustup update stable' when stable is at least $rust_needed); open a new shell so ~/.cargo/bin is on PATH"
if ! command -v cargo >/dev/null 2>&1 || ! command -v rustc >/dev/null 2>&1; then
  die "no Rust toolchain (cargo and rustc) on PATH; Rust $rust_needed or newer is needed: $rust_help"
fi
rust_have="$(rustc --version | awk '{print $2}')"
rust_have="${rust_have%%-*}"
if ! version_at_least "$rust_have" "$rust_needed"; then
  die "Rust $rust_have is older than $rust_needed (Cargo.toml's rust-version): $rust_help"
fi
say "Rust $rust_have (at least $rust_needed)"

# ------------------------------------------------------------------ the rest, from apt

[ -r /etc/os-release ] && . /etc/os-release
case "${ID:-}:${ID_LIKE:-}" in
  debian:* | ubuntu:* | *:*debian*) ;;
  *) say "warning: ${PRETTY_NAME:-this system} is neither Debian nor Ubuntu; the installs below use apt-get" ;;
esac

cc_works() {
  local dir ok=1
  command -v cc >/dev/null 2>&1 || return 1
  dir="$(mktemp -d)"
  printf 'int main(void) { return 0; }\n' >"$dir/t.c"
  cc -o "$dir/t" "$dir/t.c" >/dev/null 2>&1 && ok=0
  rm -rf "$dir"
  return "$ok"
}
pg_server_installed() {
  command -v psql >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1 &&
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

# <description> <packages> <check command...>
checks=(
  "C compiler and linker (cc)|gcc libc6-dev|cc_works"
  "git (buf breaking compares with the last tag or main)|git|command -v git"
  "python3|python3|command -v python3"
  "python3 venv (the project's pinned Python tools)|python3-venv|python3 -c 'import venv, ensurepip'"
  "Node.js and npm (buf, the KEDA schema check)|nodejs npm|command -v node && command -v npm"
  "promtool (the alert rules' check)|prometheus|command -v promtool"
  "Chromium (the web console's browser test)|chromium|command -v chromium"
  "Chinese fonts (the console's pages in Chromium)|fonts-noto-cjk|compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK*'"
  "PostgreSQL server and psql|postgresql|pg_server_installed"
  "RabbitMQ server and rabbitmqctl|rabbitmq-server|command -v rabbitmq-server && command -v rabbitmqctl"
)

missing_pkgs=()
missing_what=()
for c in "${checks[@]}"; do
  IFS='|' read -r what pkgs check <<<"$c"
  if eval "$check" >/dev/null 2>&1; then
    say "$what: present"
  else
    say "$what: missing (package: $pkgs)"
    # shellcheck disable=SC2206  # package lists are plain words
    missing_pkgs+=($pkgs)
    missing_what+=("$what")
  fi
done

if [ "${#missing_pkgs[@]}" -gt 0 ]; then
  if [ "$check_only" = "1" ]; then
    die "missing: ${missing_what[*]} (apt-get install ${missing_pkgs[*]})"
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "missing ${missing_what[*]} and there is no apt-get: install ${missing_pkgs[*]} (or your system's equivalents) by hand"
  say "apt-get update"
  as_root apt-get update -q || die "apt-get update failed: the distribution's package mirror must be reachable"
  say "installing ${missing_pkgs[*]}"
  as_root apt-get install -y -q --no-install-recommends "${missing_pkgs[@]}" ||
    die "could not install ${missing_pkgs[*]}: install them by hand (apt-get install ${missing_pkgs[*]})"
  for c in "${checks[@]}"; do
    IFS='|' read -r what pkgs check <<<"$c"
    eval "$check" >/dev/null 2>&1 || die "$what is still missing after installing $pkgs"
  done
  say "installed: ${missing_what[*]}"
fi
say "everything the scripts need is here"
