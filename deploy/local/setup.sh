#!/usr/bin/env bash
# Prepares this machine for a local run of the egov suite; safe to run any number of times.
#
#   1. prereqs.sh: checks the Rust toolchain (stops when it is missing or too old) and installs
#      from the distribution's packages whatever else is missing: C compiler, python3 and
#      python3-venv, Node.js and npm, promtool, PostgreSQL, RabbitMQ (nothing already present);
#   2. starts PostgreSQL and RabbitMQ when nothing listens on their ports and waits until both
#      accept connections;
#   3. creates the PostgreSQL roles when missing and makes sure each logs in over TCP with its
#      password: the owner (EGOV_PG_USER, LOGIN CREATEDB, password EGOV_PG_PASSWORD), which
#      creates the databases, migrates and grants, and the services' runtime role
#      (EGOV_PG_RUNTIME_USER, default egov_runtime: rows only, no DDL, append-only audit tables).
#
# Runs as root (CI does) or as a user with sudo. Connection settings: settings.sh (EGOV_PG_HOST,
# EGOV_PG_PORT, EGOV_PG_USER, EGOV_PG_PASSWORD, EGOV_PG_CLUSTER, EGOV_AMQP_HOST, EGOV_AMQP_PORT,
# EGOV_RABBITMQ_NODE, ...); EGOV_WAIT_SECS (default 90).
set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/settings.sh
. "$here/settings.sh"
PG_PORT="$EGOV_PG_PORT"
PG_CLUSTER="$EGOV_PG_CLUSTER"
WAIT_SECS="${EGOV_WAIT_SECS:-90}"
EGOV_ROLE="$EGOV_PG_USER"
EGOV_PASSWORD="$EGOV_PG_PASSWORD"

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

# ------------------------------------------------------------------ check and install what is missing

bash "$here/prereqs.sh"

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

pg_ready() { pg_isready -q -h "$EGOV_PG_HOST" -p "$PG_PORT"; }
is_local() { case "$1" in 127.0.0.1 | localhost | ::1) return 0 ;; *) return 1 ;; esac; }

if pg_ready; then
  say "PostgreSQL accepts connections on $EGOV_PG_HOST:$PG_PORT"
elif ! is_local "$EGOV_PG_HOST"; then
  wait_until "PostgreSQL at $EGOV_PG_HOST:$PG_PORT (not on this machine: start it there)" pg_ready
else
  # A cluster of the newest installed major version named EGOV_PG_CLUSTER on EGOV_PG_PORT;
  # created when missing (the package makes main on 5432).
  # shellcheck disable=SC2012  # version directories are plain numbers
  pg_version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$pg_version" ]; then
    # shellcheck disable=SC2012
    pg_version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  fi
  if [ ! -d "/etc/postgresql/$pg_version/$PG_CLUSTER" ]; then
    say "creating PostgreSQL cluster $pg_version/$PG_CLUSTER on port $PG_PORT"
    as_root pg_createcluster --port "$PG_PORT" "$pg_version" "$PG_CLUSTER"
  fi
  cluster_port="$(as_root sed -n 's/^port *= *\([0-9]*\).*/\1/p' "/etc/postgresql/$pg_version/$PG_CLUSTER/postgresql.conf" | tail -n 1)"
  [ "$cluster_port" = "$PG_PORT" ] ||
    die "cluster $pg_version/$PG_CLUSTER listens on port ${cluster_port:-?}, not EGOV_PG_PORT=$PG_PORT: set EGOV_PG_CLUSTER to another name"
  if ! as_root pg_ctlcluster "$pg_version" "$PG_CLUSTER" status >/dev/null 2>&1; then
    say "starting PostgreSQL $pg_version/$PG_CLUSTER"
    as_root pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$PG_CLUSTER" start
  fi
  wait_until "PostgreSQL" pg_ready
  say "PostgreSQL accepts connections on $EGOV_PG_HOST:$PG_PORT"
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
    psql -X -q -v ON_ERROR_STOP=1 -h "$EGOV_PG_HOST" -p "$PG_PORT" -U postgres "$@"
  fi
}

tcp_login() { # tcp_login <role> <password>
  PGPASSWORD="$2" PGCONNECT_TIMEOUT=5 psql -X -q -h "$EGOV_PG_HOST" -p "$PG_PORT" -U "$1" -d postgres -tAc 'select 1' >/dev/null 2>&1
}

ensure_login_role() { # ensure_login_role <role> <password> <attributes>: exists, logs in over TCP
  local role="$1" password="$2" attrs="$3" hba
  if [ "$(pg_super -d postgres -tAc "select 1 from pg_roles where rolname = '$role'")" = "1" ]; then
    say "PostgreSQL role $role exists"
  else
    say "creating PostgreSQL role $role ($attrs)"
    pg_super -d postgres -c "CREATE ROLE $role $attrs PASSWORD '$password'"
  fi
  if ! tcp_login "$role" "$password"; then
    # The role may predate us with another password or without LOGIN.
    say "resetting the password and attributes of role $role"
    pg_super -d postgres -c "ALTER ROLE $role $attrs PASSWORD '$password'"
  fi
  if ! tcp_login "$role" "$password"; then
    # No pg_hba.conf line lets password logins from 127.0.0.1 through: add one for the role,
    # first (the first matching line wins), and reload.
    hba="$(pg_super -d postgres -tAc 'show hba_file')"
    say "allowing password logins of $role from 127.0.0.1 in $hba"
    as_root sed -i "1i host all $role 127.0.0.1/32 scram-sha-256\nhost all $role ::1/128 scram-sha-256" "$hba"
    pg_super -d postgres -tAc 'select pg_reload_conf()' >/dev/null
    sleep 1
  fi
  tcp_login "$role" "$password" || die "role $role still cannot log in over TCP with its password: check $(pg_super -d postgres -tAc 'show hba_file' 2>/dev/null || echo pg_hba.conf)"
  say "role $role logs in over TCP (postgres://$role:***@$EGOV_PG_HOST:$PG_PORT)"
}

# The owner: creates the databases, runs the migrations, grants the runtime role its rows.
ensure_login_role "$EGOV_ROLE" "$EGOV_PASSWORD" "LOGIN CREATEDB"
# The services' runtime role: reads and writes rows, owns nothing, creates nothing.
ensure_login_role "$EGOV_PG_RUNTIME_USER" "$EGOV_PG_RUNTIME_PASSWORD" "LOGIN NOCREATEDB NOCREATEROLE NOSUPERUSER"
# The owner may end the runtime role's sessions (DROP DATABASE ... WITH (FORCE) in the tests'
# clean-up, and before a migration that must not wait on them): membership, nothing wider.
if [ "$(pg_super -d postgres -tAc "select 1 from pg_auth_members m join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member where r.rolname = '$EGOV_PG_RUNTIME_USER' and u.rolname = '$EGOV_ROLE'")" != "1" ]; then
  say "letting $EGOV_ROLE end $EGOV_PG_RUNTIME_USER's sessions (GRANT $EGOV_PG_RUNTIME_USER TO $EGOV_ROLE)"
  pg_super -d postgres -c "GRANT $EGOV_PG_RUNTIME_USER TO $EGOV_ROLE"
fi

# ------------------------------------------------------------------ RabbitMQ

amqp_open() { (exec 3<>"/dev/tcp/$EGOV_AMQP_HOST/$EGOV_AMQP_PORT") 2>/dev/null; }
rabbitmqctl_node=()
[ -z "$EGOV_RABBITMQ_NODE" ] || rabbitmqctl_node=(-n "$EGOV_RABBITMQ_NODE")
rabbit_running() { as_root rabbitmqctl "${rabbitmqctl_node[@]}" -q status >/dev/null 2>&1; }

if amqp_open && { ! is_local "$EGOV_AMQP_HOST" || rabbit_running; }; then
  say "RabbitMQ is running"
elif ! is_local "$EGOV_AMQP_HOST"; then
  wait_until "RabbitMQ at $EGOV_AMQP_HOST:$EGOV_AMQP_PORT (not on this machine: start it there)" amqp_open
else
  if ! rabbit_running; then
    if [ -n "$EGOV_RABBITMQ_NODE" ]; then
      # A node of its own (a second stack): its own name, AMQP port, distribution port and
      # configuration file (the machine's may name another listener); data and logs under
      # /var/lib/rabbitmq/mnesia/<node> and /var/log/rabbitmq/<node>.log as for any node.
      conf="/var/lib/rabbitmq/egov-node-$EGOV_RABBITMQ_NODE.conf"
      printf 'listeners.tcp.local = %s:%s\n' "$EGOV_AMQP_HOST" "$EGOV_AMQP_PORT" | as_root tee "$conf" >/dev/null
      as_root chmod 644 "$conf"
      say "starting RabbitMQ node $EGOV_RABBITMQ_NODE on port $EGOV_AMQP_PORT"
      as_root env RABBITMQ_NODENAME="$EGOV_RABBITMQ_NODE" RABBITMQ_NODE_PORT="$EGOV_AMQP_PORT" \
        RABBITMQ_DIST_PORT="$((EGOV_AMQP_PORT + 20000))" RABBITMQ_CONFIG_FILE="$conf" \
        rabbitmq-server -detached
    else
      say "starting RabbitMQ"
      as_root rabbitmq-server -detached
    fi
    # Give the node a moment to register before asking it to report start-up.
    sleep 2
  fi
  # await_startup can fail at once while the node is still registering: retry it until the
  # deadline.
  deadline=$((SECONDS + WAIT_SECS))
  until as_root rabbitmqctl "${rabbitmqctl_node[@]}" -q -t 30 await_startup >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "RabbitMQ did not finish starting within ${WAIT_SECS}s (see /var/log/rabbitmq/)"
    sleep 2
  done
  wait_until "RabbitMQ's AMQP port $EGOV_AMQP_PORT" amqp_open
  say "RabbitMQ accepts connections on $EGOV_AMQP_HOST:$EGOV_AMQP_PORT"
fi

if [ "$EGOV_AMQP_VHOST" != "/" ] && is_local "$EGOV_AMQP_HOST"; then
  if ! as_root rabbitmqctl "${rabbitmqctl_node[@]}" -q list_vhosts name | grep -qxF "$EGOV_AMQP_VHOST"; then
    say "creating RabbitMQ virtual host $EGOV_AMQP_VHOST"
    as_root rabbitmqctl "${rabbitmqctl_node[@]}" -q add_vhost "$EGOV_AMQP_VHOST"
  fi
  as_root rabbitmqctl "${rabbitmqctl_node[@]}" -q set_permissions -p "$EGOV_AMQP_VHOST" "$EGOV_AMQP_USER" '.*' '.*' '.*'
fi

say "ready: PostgreSQL $EGOV_PG_HOST:$PG_PORT (role $EGOV_ROLE), RabbitMQ $EGOV_AMQP_HOST:$EGOV_AMQP_PORT (vhost $EGOV_AMQP_VHOST, user $EGOV_AMQP_USER)"
