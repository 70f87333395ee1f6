#!/usr/bin/env bash
# Stops the services up.sh started (and only those: the pids it recorded), with SIGTERM, waiting
# for each to finish its in-flight work; SIGKILL after EGOV_STOP_SECS (default 40) seconds.
# PostgreSQL and RabbitMQ keep running. A pid whose process is not this checkout's
# target/release/egov-<service> (the pid was reused, or the service already stopped) is left
# alone. The pid files are under $EGOV_STATE_DIR/pids (settings.sh; default .egov-local): give a
# second stack's EGOV_STATE_DIR to stop that one.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=deploy/local/settings.sh
. "$root/deploy/local/settings.sh"
piddir="$EGOV_STATE_DIR/pids"
grace="${EGOV_STOP_SECS:-40}"

say() { printf 'down: %s\n' "$*"; }

shopt -s nullglob
pidfiles=("$piddir"/*.pid)
if [ "${#pidfiles[@]}" -eq 0 ]; then
  say "nothing to stop (no pid files in $piddir)"
  exit 0
fi

stopping=()
for f in "${pidfiles[@]}"; do
  svc="$(basename "$f" .pid)"
  pid="$(cat "$f")"
  # Only a live process that is still our egov-<service> (pids get reused).
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "${exe% (deleted)}" = "$root/target/release/egov-$svc" ]; then
    say "stopping egov-$svc (pid $pid)"
    kill -TERM "$pid"
    stopping+=("$svc:$pid")
  else
    say "egov-$svc is not running"
    rm -f "$f"
  fi
done

status=0
deadline=$((SECONDS + grace))
for entry in "${stopping[@]}"; do
  svc="${entry%%:*}"; pid="${entry##*:}"
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "egov-$svc (pid $pid) did not stop within ${grace}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      status=1
      break
    fi
    sleep 0.2
  done
  say "egov-$svc stopped"
  rm -f "$piddir/$svc.pid"
done
exit "$status"
