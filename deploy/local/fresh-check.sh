#!/usr/bin/env bash
# The proof that the README's two commands set up a fresh machine by themselves: builds a minimal
# Debian root with debootstrap, copies the working tree in (git ls-files), makes this machine's
# Rust toolchain available read-only inside (~/.cargo and ~/.rustup bind-mounted read-only), and
# runs `deploy/local/up.sh` and `deploy/local/test.sh` there, printing each command's result and
# time. Run by hand (it takes about half an hour on two cores), as root, on a Debian or Ubuntu
# host with debootstrap (apt-get install debootstrap).
#
#   deploy/local/fresh-check.sh                     Debian 12 (bookworm), a new root
#   deploy/local/fresh-check.sh --debian 13         Debian 13 (trixie)
#   deploy/local/fresh-check.sh --reuse --remove "gcc python3-venv"
#                                                   the root of the last run, with these packages
#                                                   uninstalled first: the scripts must install
#                                                   them again
#   --dir DIR     where roots go (default /var/tmp/egov-fresh; /var/tmp/egov-fresh/<suite>/root)
#   --keep        leave the root when done (default: kept, it is what --reuse needs; --clean
#                 removes it after the run)
#
# Isolation. The root's servers (PostgreSQL, RabbitMQ, the five services) run in a network
# namespace of their own (`ip netns add`, loopback only) and a UTS namespace with the host name
# egov-fresh, so they never see or touch this machine's servers and ports. That namespace has no
# route out; the steps that need the network therefore run before entering it, in the host's
# network namespace, through the project's own scripts: (1) `bash deploy/local/prereqs.sh`
# inside the root, which installs from the distribution's mirror whatever the root lacks (this
# is the step the two commands would otherwise do themselves: inside the namespace they find
# everything present and say so). A policy-rc.d in the root keeps the packages' maintainer
# scripts from starting any daemon during that step, so nothing runs in the host's network
# namespace. Crates come from the host's cargo cache in the read-only ~/.cargo (no download).
#
# The mirror is the one debootstrap defaults to unless EGOV_FRESH_MIRROR names another.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root_src="$(cd "$here/../.." && pwd)"

release=12
base=/var/tmp/egov-fresh
reuse=0
remove=""
clean=0
while [ $# -gt 0 ]; do
  case "$1" in
    --debian) release="$2"; shift 2 ;;
    --dir) base="$2"; shift 2 ;;
    --reuse) reuse=1; shift ;;
    --remove) remove="$2"; shift 2 ;;
    --keep) clean=0; shift ;;
    --clean) clean=1; shift ;;
    -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "fresh-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$release" in
  12) suite=bookworm ;;
  13) suite=trixie ;;
  *) echo "fresh-check: --debian takes 12 or 13" >&2; exit 2 ;;
esac

say() { printf '[fresh-check %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf '[fresh-check] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, mounts, network namespaces)"
export PATH="$PATH:/usr/sbin:/sbin"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
command -v ip >/dev/null || die "ip is missing: apt-get install iproute2"
command -v unshare >/dev/null || die "unshare is missing: apt-get install util-linux"
[ -d "$HOME/.cargo/bin" ] && [ -d "$HOME/.rustup" ] ||
  die "no Rust toolchain in $HOME/.cargo and $HOME/.rustup to lend the root (rustup installs there)"

work="$base/$suite"
rootfs="$work/root"
logs="$work/logs"
ns="egov-fresh-$$"
mkdir -p "$work"
rm -rf "$logs"
mkdir -p "$logs"

results=()
# timed <name> <log> <command...>: runs it, prints and records its result and time.
timed() {
  local name="$1" log="$2" start rc=0 secs; shift 2
  say "$name: starting (log $log)"
  start=$SECONDS
  "$@" >"$log" 2>&1 || rc=$?
  secs=$((SECONDS - start))
  results+=("$(printf '%-38s %-6s %5ds (%dm%02ds)' "$name" "$([ "$rc" -eq 0 ] && echo ok || echo "exit $rc")" "$secs" $((secs / 60)) $((secs % 60)))")
  say "$name: $([ "$rc" -eq 0 ] && echo ok || echo "FAILED, exit $rc") in ${secs}s"
  [ "$rc" -eq 0 ] || { tail -n 40 "$log" | sed 's/^/    /'; }
  return "$rc"
}

cleanup() {
  local pids
  if ip netns list 2>/dev/null | grep -qw "$ns"; then
    # Every process left in our namespace was started by this run (servers, services).
    pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    if [ -n "$pids" ]; then
      say "stopping what still runs in namespace $ns: $(echo $pids)"
      for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
      sleep 5
      for p in $(ip netns pids "$ns" 2>/dev/null || true); do kill -KILL "$p" 2>/dev/null || true; done
    fi
    ip netns del "$ns" 2>/dev/null || true
  fi
  if [ "$clean" = "1" ] && [ -d "$rootfs" ]; then
    say "removing $rootfs"
    rm -rf --one-file-system "$rootfs"
  fi
}
trap cleanup EXIT

# ------------------------------------------------------------------ the root

if [ "$reuse" = "1" ]; then
  [ -x "$rootfs/bin/bash" ] || die "--reuse: no root at $rootfs (run once without --reuse)"
  say "reusing the root at $rootfs"
else
  if [ -d "$rootfs" ]; then
    say "removing the previous root at $rootfs"
    rm -rf --one-file-system "$rootfs"
  fi
  mirror=()
  [ -z "${EGOV_FRESH_MIRROR:-}" ] || mirror=("$EGOV_FRESH_MIRROR")
  timed "debootstrap --variant=minbase $suite" "$logs/debootstrap.log" \
    debootstrap --variant=minbase "$suite" "$rootfs" "${mirror[@]}" || die "debootstrap failed"
fi

# No daemon may start while packages are installed (it would run in the host's network
# namespace): the Debian convention for chroots.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
printf '127.0.0.1 localhost egov-fresh\n::1 localhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
echo egov-fresh >"$rootfs/etc/hostname"
mkdir -p "$rootfs/root/.cargo" "$rootfs/root/.rustup"

say "what the root has: $(chroot "$rootfs" sh -c '. /etc/os-release; echo "$PRETTY_NAME"'); cc: $(chroot "$rootfs" sh -c 'command -v cc || echo none'); python3: $(chroot "$rootfs" sh -c 'command -v python3 || echo none'); psql: $(chroot "$rootfs" sh -c 'command -v psql || echo none'); rabbitmq-server: $(chroot "$rootfs" sh -c 'command -v rabbitmq-server || echo none')"

if [ -n "$remove" ]; then
  # shellcheck disable=SC2086  # a list of package names
  timed "uninstall in the root: $remove" "$logs/remove.log" \
    chroot "$rootfs" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    apt-get remove -y -q $remove || die "could not remove $remove in the root"
fi

# The working tree as git knows it (no target/, no .egov-local/).
src="$rootfs/src/egov-suite"
mkdir -p "$src"
say "copying the working tree (git ls-files) into $src"
(cd "$root_src" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$src"
# The repository itself too, as a fresh clone has it (buf breaking compares with the merge base).
cp -a "$root_src/.git" "$src/.git"

# in_root <command>: runs a bash command in the root as root, with private mounts of /proc, /dev,
# /sys and the host's ~/.cargo and ~/.rustup read-only; the environment is a new login's.
in_root_script() {
  cat <<EOF
set -e
mount --make-rprivate /
mount -t proc proc "$rootfs/proc"
mount --rbind /dev "$rootfs/dev"
mount -t sysfs sysfs "$rootfs/sys" 2>/dev/null || mount --rbind /sys "$rootfs/sys"
mount -t tmpfs tmpfs "$rootfs/tmp"
mount --bind "$HOME/.cargo" "$rootfs/root/.cargo"
mount -o remount,bind,ro "$rootfs/root/.cargo"
mount --bind "$HOME/.rustup" "$rootfs/root/.rustup"
mount -o remount,bind,ro "$rootfs/root/.rustup"
exec chroot "$rootfs" env -i HOME=/root LANG=C.UTF-8 TERM=dumb USER=root LOGNAME=root \
  NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
  SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  bash -c "cd /src/egov-suite && \$1" fresh-check "\$1"
EOF
}
in_root() { # in_root <bash command>: in the host's network namespace (for apt)
  unshare --mount --uts bash -c "hostname egov-fresh; $(in_root_script)" fresh-check "$1"
}
in_ns() { # in_ns <bash command>: in our network namespace
  ip netns exec "$ns" unshare --mount --uts bash -c "hostname egov-fresh; $(in_root_script)" fresh-check "$1"
}

# ------------------------------------------------------------------ prerequisites (network)

timed "prereqs.sh (apt installs, host network)" "$logs/prereqs.log" \
  in_root "bash deploy/local/prereqs.sh" || die "the prerequisites could not be installed; see $logs/prereqs.log"
grep '^prereqs:' "$logs/prereqs.log" | sed 's/^/    /'
# PostgreSQL's package, installed while this host's server holds 5432, gave the root's cluster the
# next free port; inside the namespace 5432 is free, and the root's cluster belongs there.
in_root 'for c in /etc/postgresql/*/main/postgresql.conf; do [ -f "$c" ] && sed -i "s/^port = .*/port = 5432/" "$c"; done; true' ||
  die "could not set the root's PostgreSQL port"
# Certificate authorities this host adds to its trust store (a TLS-inspecting proxy, as district
# intranets have) are the root's too: npm, pip and cargo reach their registries through it.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  mkdir -p "$rootfs/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  in_root "apt-get install -y -q --no-install-recommends ca-certificates >/dev/null && update-ca-certificates >/dev/null" ||
    die "could not add this host's certificate authorities to the root"
  say "this host's added certificate authorities are trusted in the root too"
fi
# The project's pinned tools (buf and the KEDA schemas from npm, the Python venv from PyPI) need
# the network too: installed here, found present by test.sh inside the namespace.
timed "project tools (npm ci, venv; host network)" "$logs/tools.log" \
  in_root "bash deploy/local/tools/install.sh && bash deploy/local/tools/install-python.sh" ||
  die "the project's tools could not be installed; see $logs/tools.log"

# ------------------------------------------------------------------ the two commands (isolated)

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
say "network namespace $ns: loopback only ($(ip netns exec "$ns" ip -brief addr | tr '\n' ' '))"

# One mount namespace for all of them (the services up.sh starts must be the ones down.sh sees):
# a runner inside the root times each command and writes its log and result.
cat >"$rootfs/root/fresh-steps.sh" <<'EOF'
#!/bin/bash
# Written by deploy/local/fresh-check.sh: the README's two commands, then up.sh again and down.sh.
logs=/root/fresh-logs
rm -rf "$logs"; mkdir -p "$logs"
step() { # step <name> <log name> <command>
  local start=$SECONDS rc=0
  printf '[fresh-check %s] %s: starting\n' "$(date -u +%H:%M:%S)" "$1"
  bash -c "$3" >"$logs/$2.log" 2>&1 || rc=$?
  printf '%s\t%s\t%s\n' "$1" "$rc" "$((SECONDS - start))" >>"$logs/results.tsv"
  printf '[fresh-check %s] %s: exit %s after %ss\n' "$(date -u +%H:%M:%S)" "$1" "$rc" "$((SECONDS - start))"
  [ "$rc" -eq 0 ] || tail -n 40 "$logs/$2.log" | sed 's/^/    /'
  return "$rc"
}
status=0
if step "deploy/local/up.sh" up "deploy/local/up.sh"; then
  step "deploy/local/up.sh again (idempotent)" up-again "EGOV_SKIP_WALK=1 deploy/local/up.sh" || status=1
else
  status=1
fi
step "deploy/local/test.sh" test "deploy/local/test.sh" || status=1
step "deploy/local/down.sh" down "deploy/local/down.sh" || status=1
exit "$status"
EOF
chmod 755 "$rootfs/root/fresh-steps.sh"

status=0
in_ns "bash /root/fresh-steps.sh" || status=1
cp "$rootfs"/root/fresh-logs/*.log "$logs/" 2>/dev/null || true
if [ -f "$rootfs/root/fresh-logs/results.tsv" ]; then
  while IFS=$'\t' read -r name rc secs; do
    results+=("$(printf '%-38s %-7s %5ds (%dm%02ds)' "$name" "$([ "$rc" -eq 0 ] && echo ok || echo "exit $rc")" "$secs" $((secs / 60)) $((secs % 60)))")
  done <"$rootfs/root/fresh-logs/results.tsv"
fi

echo
say "Debian $release ($suite) root at $rootfs; logs in $logs"
grep -h '^prereqs: .*missing\|^prereqs: installed' "$logs/prereqs.log" 2>/dev/null | sed 's/^/    /' || true
grep -h '^stages:\|^FAILED\|test result:' "$logs/test.log" 2>/dev/null |
  awk '/test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } next } { print } END { if (p + f) printf "tests: %d passed, %d failed (cargo test result lines summed)\n", p, f }' |
  sed 's/^/    /' || true
for r in "${results[@]}"; do echo "    $r"; done
if [ "$status" = 0 ]; then say "green"; else say "FAILED"; fi
exit "$status"
