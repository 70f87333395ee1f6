#!/usr/bin/env bash
# Starts the egov suite on this machine: prepares PostgreSQL and RabbitMQ (setup.sh), builds the
# services and egovctl in release mode, creates the services' databases, starts every service
# that exists in the background (egov-intake on 50051, egov-review on 50052, ...), waits until
# each reports SERVING on gRPC health, and walks two sample projects through intake and review
# (sample-walk.sh).
#
#   deploy/local/up.sh              everything
#   EGOV_SKIP_WALK=1 deploy/local/up.sh   start only
#
# Logs: $EGOV_STATE_DIR/logs/<service>.log; pids: $EGOV_STATE_DIR/pids/<service>.pid (default
# .egov-local); stop with deploy/local/down.sh. Idempotent: starting again leaves running
# services alone, except one whose binary was rebuilt since it started, which is restarted; cargo
# rebuilds nothing that has not changed. Connection settings and ports: settings.sh (EGOV_PG_*,
# EGOV_AMQP_*, EGOV_GRPC_PORT_BASE, EGOV_STATE_DIR). EGOV_START_WAIT_SECS (default 90): how long a
# service may take to report SERVING; EGOV_STOP_SECS (default 40): how long a service being
# restarted may take to stop.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# shellcheck source=deploy/local/settings.sh
. "$root/deploy/local/settings.sh"
state="$EGOV_STATE_DIR"
wait_secs="${EGOV_START_WAIT_SECS:-90}"
mkdir -p "$state/logs" "$state/pids"

say() { printf 'up: %s\n' "$*"; }
die() { printf 'up: ERROR: %s\n' "$*" >&2; exit 1; }

# The five services in port order (EGOV_GRPC_PORT_BASE, default 50051, and up; architecture.md).
ALL_SERVICES=("${EGOV_SERVICES[@]}")
port_of() { egov_port_of "$1"; }

# ------------------------------------------------------------------ configuration
# Every service reads EGOV_<SECTION>__<KEY> (crates/egov-platform/src/config.rs). With nothing
# set, a service uses the local profile: postgres://egov:egov@127.0.0.1:5432/egov_<service>,
# amqp://guest:guest@127.0.0.1:5672, port 5005x, peers on 127.0.0.1, an adjustable clock; here
# every one of those comes from settings.sh. Settings for every service go in COMMON_ENV,
# settings of one service in service_env.
COMMON_ENV=(
  EGOV_SERVICE__PROFILE=local
  EGOV_TELEMETRY__LOG_FORMAT=json
  EGOV_TELEMETRY__LOG_FILTER=info
  "EGOV_BROKER__URL=$EGOV_AMQP_URL"
  "EGOV_PEERS__INTAKE=http://127.0.0.1:$(port_of intake)"
  "EGOV_PEERS__REVIEW=http://127.0.0.1:$(port_of review)"
  "EGOV_PEERS__PROCUREMENT=http://127.0.0.1:$(port_of procurement)"
  "EGOV_PEERS__ACCEPTANCE=http://127.0.0.1:$(port_of acceptance)"
)
service_env() { # prints one NAME=value per line for service $1
  local svc="$1"
  # Intake asks evaluation for R-I6/R-I9. Until egov-evaluation is built, run intake without it:
  # submissions then carry an R-I9 NOT_SCREENED flag for the reviewer (a configured but
  # unreachable evaluation service would refuse submissions with UNAVAILABLE instead).
  if [[ -x target/release/egov-evaluation ]]; then
    echo "EGOV_PEERS__EVALUATION=http://127.0.0.1:$(port_of evaluation)"
  else
    echo "EGOV_PEERS__EVALUATION="
  fi
  echo "EGOV_SERVICE__LISTEN=127.0.0.1:$(port_of "$svc")"
  # Least privilege: the owner migrates and grants, the service runs as the runtime role.
  echo "EGOV_DATABASE__URL=$(egov_pg_runtime_url "egov_$svc")"
  echo "EGOV_DATABASE__OWNER_URL=$(egov_pg_url "egov_$svc")"
  echo "EGOV_DOCUMENTS__DIR=$state/documents/$svc"
  case "$svc" in
    intake) ;;       # e.g. EGOV_POLICY__FILE=$root/policy/egov-policy.toml
    *) ;;
  esac
}

# ------------------------------------------------------------------ prepare and build

bash "$root/deploy/local/setup.sh"

services=()
for svc in "${ALL_SERVICES[@]}"; do
  if [ -f "services/$svc/Cargo.toml" ]; then services+=("$svc"); fi
done
[ "${#services[@]}" -gt 0 ] || die "no service crate under services/ yet"
say "services in this workspace: ${services[*]}"

build_args=(-p egovctl -p egov-console)
for svc in "${services[@]}"; do build_args+=(-p "egov-$svc"); done
say "cargo build --release ${build_args[*]}"
cargo build --release "${build_args[@]}"
CTL="$root/target/release/egovctl"

runnable=()
for svc in "${services[@]}"; do
  if [ -x "target/release/egov-$svc" ]; then
    runnable+=("$svc")
  else
    say "services/$svc builds no egov-$svc binary yet: not started"
  fi
done
[ "${#runnable[@]}" -gt 0 ] || die "no service binary was built"

# ------------------------------------------------------------------ databases
# The local profile creates a missing database itself; creating them here as well keeps a
# service that starts with create_if_missing=false working and shows problems early.
for svc in "${runnable[@]}"; do
  db="egov_$svc"
  exists="$(egov_psql postgres -tAc "select 1 from pg_database where datname = '$db'")"
  if [ "$exists" = "1" ]; then
    say "database $db exists"
  else
    say "creating database $db"
    egov_psql postgres -q -c "create database $db owner $EGOV_PG_USER"
  fi
done

# ------------------------------------------------------------------ start

alive() { # alive <service>: its pid file names a running egov-<service> of this checkout
  local pidfile="$state/pids/$1.pid" pid exe
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null)" || return 1
  [ "${exe% (deleted)}" = "$root/target/release/egov-$1" ]
}

# rebuilt <service>: the running process's executable is not the file now at its path (cargo
# wrote a new binary since the service started).
rebuilt() {
  local pid
  pid="$(cat "$state/pids/$1.pid")"
  [ "$(stat -L -c '%d:%i' "/proc/$pid/exe" 2>/dev/null)" != "$(stat -c '%d:%i' "target/release/egov-$1")" ]
}

stop_service() { # stop_service <service>: SIGTERM, SIGKILL after EGOV_STOP_SECS
  local pid deadline
  pid="$(cat "$state/pids/$1.pid")"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + ${EGOV_STOP_SECS:-40}))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "egov-$1 (pid $pid) did not stop within ${EGOV_STOP_SECS:-40}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "$state/pids/$1.pid"
}

for svc in "${runnable[@]}"; do
  if alive "$svc"; then
    if rebuilt "$svc"; then
      say "egov-$svc (pid $(cat "$state/pids/$svc.pid")) runs a binary older than target/release/egov-$svc: restarting it"
      stop_service "$svc"
    else
      say "egov-$svc already runs (pid $(cat "$state/pids/$svc.pid")), binary unchanged"
      continue
    fi
  fi
  mkdir -p "$state/documents/$svc"
  mapfile -t env_lines < <(service_env "$svc")
  say "starting egov-$svc on 127.0.0.1:$(port_of "$svc") (log $state/logs/$svc.log)"
  printf '\n=== %s starting egov-%s\n' "$(date -Is)" "$svc" >>"$state/logs/$svc.log"
  # setsid: the service outlives this script and its terminal.
  env "${COMMON_ENV[@]}" "${env_lines[@]}" setsid "$root/target/release/egov-$svc" \
    >>"$state/logs/$svc.log" 2>&1 </dev/null &
  echo $! >"$state/pids/$svc.pid"
done

start_failed() { # start_failed <service> <why>
  echo "---- last lines of $state/logs/$1.log" >&2
  tail -n 30 "$state/logs/$1.log" >&2 || true
  die "egov-$1 $2"
}

for svc in "${runnable[@]}"; do
  endpoint="http://127.0.0.1:$(port_of "$svc")"
  deadline=$((SECONDS + wait_secs))
  until "$CTL" health --endpoint "$endpoint" >/dev/null 2>&1; do
    alive "$svc" || start_failed "$svc" "exited while starting"
    [ "$SECONDS" -lt "$deadline" ] || start_failed "$svc" "did not report SERVING at $endpoint within ${wait_secs}s"
    sleep 0.5
  done
  say "egov-$svc is SERVING at $endpoint"
done

# ------------------------------------------------------------------ the web console
# egov-console serves the staff's pages on EGOV_CONSOLE_PORT and calls the five services above
# as the signed-in person (crates/egov-console). Started, kept or restarted like a service.
console_up() { # the console answers /healthz
  local reply
  { exec 3<>"/dev/tcp/127.0.0.1/$EGOV_CONSOLE_PORT"; } 2>/dev/null || return 1
  printf 'GET /healthz HTTP/1.0\r\nHost: console\r\n\r\n' >&3
  reply="$(timeout 5 cat <&3 || true)"
  exec 3<&- 3>&-
  [[ "$reply" == "HTTP/1."*" 200 "* ]]
}
console_url="http://127.0.0.1:$EGOV_CONSOLE_PORT/"
if alive console && ! rebuilt console; then
  say "egov-console already runs (pid $(cat "$state/pids/console.pid")), binary unchanged"
else
  if alive console; then
    say "egov-console runs a binary older than target/release/egov-console: restarting it"
    stop_service console
  fi
  say "starting egov-console on 127.0.0.1:$EGOV_CONSOLE_PORT (log $state/logs/console.log)"
  printf '\n=== %s starting egov-console\n' "$(date -Is)" >>"$state/logs/console.log"
  env EGOV_CONSOLE__LISTEN="127.0.0.1:$EGOV_CONSOLE_PORT" \
    EGOV_CONSOLE__INTAKE="http://127.0.0.1:$(port_of intake)" EGOV_CONSOLE__REVIEW="http://127.0.0.1:$(port_of review)" \
    EGOV_CONSOLE__PROCUREMENT="http://127.0.0.1:$(port_of procurement)" \
    EGOV_CONSOLE__ACCEPTANCE="http://127.0.0.1:$(port_of acceptance)" \
    EGOV_CONSOLE__EVALUATION="http://127.0.0.1:$(port_of evaluation)" \
    setsid "$root/target/release/egov-console" >>"$state/logs/console.log" 2>&1 </dev/null &
  echo $! >"$state/pids/console.pid"
fi
deadline=$((SECONDS + wait_secs))
until console_up; do
  # First wait: right after the start the pid is still env/setsid's until it execs the console.
  sleep 0.5
  alive console || start_failed console "exited while starting"
  [ "$SECONDS" -lt "$deadline" ] || start_failed console "did not answer at $console_url within ${wait_secs}s"
done
say "the web console answers at $console_url (local sign-in: pick a role and a unit)"

if [ "${EGOV_SKIP_WALK:-0}" = "1" ]; then
  say "started; EGOV_SKIP_WALK=1, so no sample walk"
else
  EGOVCTL="$CTL" EGOVCTL_ENDPOINT="http://127.0.0.1:$(port_of intake)" \
    EGOVCTL_REVIEW_ENDPOINT="http://127.0.0.1:$(port_of review)" \
    EGOVCTL_PROCUREMENT_ENDPOINT="http://127.0.0.1:$(port_of procurement)" \
    EGOVCTL_ACCEPTANCE_ENDPOINT="http://127.0.0.1:$(port_of acceptance)" \
    EGOVCTL_EVALUATION_ENDPOINT="http://127.0.0.1:$(port_of evaluation)" bash "$root/deploy/local/sample-walk.sh"
fi
say "the suite runs: egovctl --endpoint http://127.0.0.1:$(port_of intake) ... (review commands: --review-endpoint http://127.0.0.1:$(port_of review), procurement: --procurement-endpoint http://127.0.0.1:$(port_of procurement), acceptance: --acceptance-endpoint http://127.0.0.1:$(port_of acceptance), evaluation: --evaluation-endpoint http://127.0.0.1:$(port_of evaluation)); the web console: $console_url; stop it with deploy/local/down.sh (same settings)"
