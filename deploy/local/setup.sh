#!/usr/bin/env bash
# Prepares this machine for a local run of the egov suite; safe to run any number of times.
#
#   1. installs PostgreSQL and RabbitMQ from Debian's packages when missing (nothing else, and
#      nothing already present);
#   2. starts them when they are not running and waits until both accept connections;
#   3. creates the PostgreSQL role `egov` (LOGIN CREATEDB, password `egov`) when missing and makes
#      sure it can log in over TCP with its password, as the services' default URL
#      postgres://egov:egov@127.0.0.1:5432/egov_<service> does.
#
# Runs as root (CI does) or as a user with sudo. Environment: EGOV_PG_PORT (default 5432),
# EGOV_PG_CLUSTER (default main), EGOV_PG_ROLE / EGOV_PG_PASSWORD (default egov / egov),
# EGOV_WAIT_SECS (default 90).
set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive
PG_PORT="${EGOV_PG_PORT:-5432}"
PG_CLUSTER="${EGOV_PG_CLUSTER:-main}"
WAIT_SECS="${EGOV_WAIT_SECS:-90}"
EGOV_ROLE="${EGOV_PG_ROLE:-egov}"
EGOV_PASSWORD="${EGOV_PG_PASSWORD:-egov}"
case "$EGOV_ROLE$EGOV_PASSWORD" in
  *[!A-Za-z0-9_]*) echo "setup: EGOV_PG_ROLE and EGOV_PG_PASSWORD may hold letters, digits and _ only" >&2; exit 2 ;;
esac

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# ------------------------------------------------------------------ install what is missing

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    as_root apt-get update -q
    apt_updated=1
  fi
  say "installing $*"
  as_root apt-get install -y -q "$@"
}

pg_server_installed() {
  command -v psql >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1 &&
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

if pg_server_installed; then
  say "PostgreSQL is installed"
else
  apt_install postgresql
fi

if command -v rabbitmq-server >/dev/null 2>&1 && command -v rabbitmqctl >/dev/null 2>&1; then
  say "RabbitMQ is installed"
else
  apt_install rabbitmq-server
fi

# ------------------------------------------------------------------ PostgreSQL

wait_until() { # wait_until <what> <command...>: polls for WAIT_SECS seconds
  local what="$1"; shift
  local deadline=$((SECONDS + WAIT_SECS))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$what did not come up within ${WAIT_SECS}s"
    fi
    sleep 1
  done
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }

if pg_ready; then
  say "PostgreSQL accepts connections on 127.0.0.1:$PG_PORT"
else
  # The newest installed major version's cluster; created when the package made none.
  # shellcheck disable=SC2012  # version directories are plain numbers
  pg_version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$pg_version" ]; then
    # shellcheck disable=SC2012
    pg_version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  fi
  if [ ! -d "/etc/postgresql/$pg_version/$PG_CLUSTER" ]; then
    say "creating PostgreSQL cluster $pg_version/$PG_CLUSTER"
    as_root pg_createcluster --port "$PG_PORT" "$pg_version" "$PG_CLUSTER"
  fi
  if ! as_root pg_ctlcluster "$pg_version" "$PG_CLUSTER" status >/dev/null 2>&1; then
    say "starting PostgreSQL $pg_version/$PG_CLUSTER"
    as_root pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$PG_CLUSTER" start
  fi
  wait_until "PostgreSQL" pg_ready
  say "PostgreSQL accepts connections on 127.0.0.1:$PG_PORT"
fi

# psql as the postgres superuser: over the Unix socket by peer authentication when we are root
# (or can sudo), else over TCP (works where 127.0.0.1 trusts local users).
pg_super() {
  if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null 2>&1; then
    (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@")
  elif [ "$(id -u)" -eq 0 ]; then
    local quoted; quoted="$(printf '%q ' "$@")"
    (cd / && su postgres -c "psql -X -q -v ON_ERROR_STOP=1 -p $PG_PORT $quoted")
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    (cd / && sudo -u postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@")
  else
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
  fi
}

egov_tcp_login() {
  PGPASSWORD="$EGOV_PASSWORD" PGCONNECT_TIMEOUT=5 \
    psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$EGOV_ROLE" -d postgres -tAc 'select 1' >/dev/null 2>&1
}

if [ "$(pg_super -d postgres -tAc "select 1 from pg_roles where rolname = '$EGOV_ROLE'")" = "1" ]; then
  say "PostgreSQL role $EGOV_ROLE exists"
else
  say "creating PostgreSQL role $EGOV_ROLE (LOGIN CREATEDB)"
  pg_super -d postgres -c "CREATE ROLE $EGOV_ROLE LOGIN CREATEDB PASSWORD '$EGOV_PASSWORD'"
fi

if ! egov_tcp_login; then
  # The role may predate us with another password or without LOGIN.
  say "resetting the password and LOGIN of role $EGOV_ROLE"
  pg_super -d postgres -c "ALTER ROLE $EGOV_ROLE LOGIN CREATEDB PASSWORD '$EGOV_PASSWORD'"
fi
if ! egov_tcp_login; then
  # No pg_hba.conf line lets password logins from 127.0.0.1 through: add one for egov, first
  # (the first matching line wins), and reload.
  hba="$(pg_super -d postgres -tAc 'show hba_file')"
  say "allowing password logins of $EGOV_ROLE from 127.0.0.1 in $hba"
  as_root sed -i "1i host all $EGOV_ROLE 127.0.0.1/32 scram-sha-256\nhost all $EGOV_ROLE ::1/128 scram-sha-256" "$hba"
  pg_super -d postgres -tAc 'select pg_reload_conf()' >/dev/null
  sleep 1
fi
egov_tcp_login || die "role $EGOV_ROLE still cannot log in over TCP with its password: check $(pg_super -d postgres -tAc 'show hba_file' 2>/dev/null || echo pg_hba.conf)"
say "role $EGOV_ROLE logs in over TCP (postgres://$EGOV_ROLE:***@127.0.0.1:$PG_PORT)"

# ------------------------------------------------------------------ RabbitMQ

amqp_open() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
rabbit_running() { as_root rabbitmqctl -q status >/dev/null 2>&1; }

if amqp_open && rabbit_running; then
  say "RabbitMQ is running"
else
  if ! rabbit_running; then
    say "starting RabbitMQ"
    as_root rabbitmq-server -detached
    # Give the node a moment to register before asking it to report start-up.
    sleep 2
  fi
  # await_startup can fail at once while the node is still registering: retry it until the
  # deadline.
  deadline=$((SECONDS + WAIT_SECS))
  until as_root rabbitmqctl -q -t 30 await_startup >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "RabbitMQ did not finish starting within ${WAIT_SECS}s (see /var/log/rabbitmq/)"
    sleep 2
  done
  wait_until "RabbitMQ's AMQP port 5672" amqp_open
  say "RabbitMQ accepts connections on 127.0.0.1:5672"
fi

say "ready: PostgreSQL 127.0.0.1:$PG_PORT (role $EGOV_ROLE), RabbitMQ 127.0.0.1:5672 (guest)"
