# shellcheck shell=bash
# The one set of connection settings of the local scripts (setup.sh, up.sh, test.sh,
# sample-walk.sh, down.sh), sourced by each of them. Each setting is one variable; set it in the
# environment to change it. The tests read the same variables (crates/egov-platform/src/testing.rs).
#
#   EGOV_PG_HOST        PostgreSQL host                      127.0.0.1
#   EGOV_PG_PORT        PostgreSQL port                      5432
#   EGOV_PG_USER        the suite's PostgreSQL role          egov
#   EGOV_PG_PASSWORD    its password                         egov
#   EGOV_PG_CLUSTER     Debian cluster setup.sh creates/starts on EGOV_PG_PORT when nothing listens   main
#   EGOV_AMQP_HOST      RabbitMQ host                        127.0.0.1
#   EGOV_AMQP_PORT      RabbitMQ AMQP port                   5672
#   EGOV_AMQP_VHOST     virtual host of the services         /
#   EGOV_AMQP_USER      RabbitMQ user                        guest
#   EGOV_AMQP_PASSWORD  its password                         guest
#   EGOV_RABBITMQ_NODE  node rabbitmqctl talks to (tests create their vhosts through it); empty:
#                       rabbitmqctl's default node. setup.sh starts this node on EGOV_AMQP_PORT
#                       when nothing listens there.
#   EGOV_GRPC_PORT_BASE first service port: intake, review, procurement, acceptance, evaluation
#                       listen on base+0 … base+4                                     50051
#   EGOV_STATE_DIR      logs, pid files, documents of up.sh's services         <repo>/.egov-local
#
# A second stack beside the first: other ports and a state directory of its own, e.g.
#   EGOV_PG_PORT=5433 EGOV_PG_CLUSTER=egov2 EGOV_AMQP_PORT=5673 EGOV_RABBITMQ_NODE=egov2@localhost \
#   EGOV_GRPC_PORT_BASE=51051 EGOV_STATE_DIR=$PWD/.egov-local/stack2 deploy/local/up.sh
#
# Derived (not to be set): EGOV_PG_ADMIN_URL (the role's URL of database postgres), EGOV_AMQP_URL
# (the services' broker URL, vhost included), EGOV_AMQP_BASE (without vhost), egov_pg_url <db>,
# egov_port_of <service>, egov_rabbitmqctl <args...>.

egov_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# EGOV_PG_ROLE was setup.sh's name for the role before there was one set of settings.
export EGOV_PG_HOST="${EGOV_PG_HOST:-127.0.0.1}"
export EGOV_PG_PORT="${EGOV_PG_PORT:-5432}"
export EGOV_PG_USER="${EGOV_PG_USER:-${EGOV_PG_ROLE:-egov}}"
export EGOV_PG_PASSWORD="${EGOV_PG_PASSWORD:-egov}"
# The services' runtime role: rows only (the owner above migrates and grants; crates/egov-platform/src/db.rs).
export EGOV_PG_RUNTIME_USER="${EGOV_PG_RUNTIME_USER:-egov_runtime}"
export EGOV_PG_RUNTIME_PASSWORD="${EGOV_PG_RUNTIME_PASSWORD:-egov_runtime}"
export EGOV_PG_CLUSTER="${EGOV_PG_CLUSTER:-main}"
export EGOV_AMQP_HOST="${EGOV_AMQP_HOST:-127.0.0.1}"
export EGOV_AMQP_PORT="${EGOV_AMQP_PORT:-5672}"
export EGOV_AMQP_VHOST="${EGOV_AMQP_VHOST:-/}"
export EGOV_AMQP_USER="${EGOV_AMQP_USER:-guest}"
export EGOV_AMQP_PASSWORD="${EGOV_AMQP_PASSWORD:-guest}"
export EGOV_RABBITMQ_NODE="${EGOV_RABBITMQ_NODE:-}"
export EGOV_GRPC_PORT_BASE="${EGOV_GRPC_PORT_BASE:-50051}"
# The web console's HTTP port (up.sh starts it after the services).
export EGOV_CONSOLE_PORT="${EGOV_CONSOLE_PORT:-8080}"
export EGOV_STATE_DIR="${EGOV_STATE_DIR:-$egov_root/.egov-local}"

case "$EGOV_PG_USER$EGOV_PG_PASSWORD$EGOV_PG_RUNTIME_USER$EGOV_PG_RUNTIME_PASSWORD" in
  *[!A-Za-z0-9_]*) echo "settings: EGOV_PG_USER, EGOV_PG_PASSWORD, EGOV_PG_RUNTIME_USER and EGOV_PG_RUNTIME_PASSWORD may hold letters, digits and _ only" >&2; exit 2 ;;
esac
for v in EGOV_PG_PORT EGOV_AMQP_PORT EGOV_GRPC_PORT_BASE EGOV_CONSOLE_PORT; do
  case "${!v}" in
    '' | *[!0-9]*) echo "settings: $v must be a port number, not '${!v}'" >&2; exit 2 ;;
  esac
done

egov_urlencode() { # percent-encodes $1 for a URL path segment
  local s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [A-Za-z0-9._~-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf '%s' "$out"
}

egov_pg_url() { # egov_pg_url <database>: as the owner role
  printf 'postgres://%s:%s@%s:%s/%s' "$EGOV_PG_USER" "$EGOV_PG_PASSWORD" "$EGOV_PG_HOST" "$EGOV_PG_PORT" "$1"
}
egov_pg_runtime_url() { # egov_pg_runtime_url <database>: as the services' runtime role
  printf 'postgres://%s:%s@%s:%s/%s' "$EGOV_PG_RUNTIME_USER" "$EGOV_PG_RUNTIME_PASSWORD" "$EGOV_PG_HOST" "$EGOV_PG_PORT" "$1"
}
EGOV_PG_ADMIN_URL="$(egov_pg_url postgres)"
EGOV_AMQP_BASE="amqp://$EGOV_AMQP_USER:$EGOV_AMQP_PASSWORD@$EGOV_AMQP_HOST:$EGOV_AMQP_PORT"
EGOV_AMQP_URL="$EGOV_AMQP_BASE/$(egov_urlencode "$EGOV_AMQP_VHOST")"
export EGOV_PG_ADMIN_URL EGOV_AMQP_BASE EGOV_AMQP_URL

EGOV_SERVICES=(intake review procurement acceptance evaluation)
egov_port_of() { # egov_port_of <service>: its gRPC port
  case "$1" in
    intake) echo $((EGOV_GRPC_PORT_BASE + 0)) ;;
    review) echo $((EGOV_GRPC_PORT_BASE + 1)) ;;
    procurement) echo $((EGOV_GRPC_PORT_BASE + 2)) ;;
    acceptance) echo $((EGOV_GRPC_PORT_BASE + 3)) ;;
    evaluation) echo $((EGOV_GRPC_PORT_BASE + 4)) ;;
    *) echo "settings: no service $1" >&2; return 1 ;;
  esac
}

# psql as the suite's role over TCP: egov_psql <database> <psql args...>
egov_psql() {
  local db="$1"; shift
  PGPASSWORD="$EGOV_PG_PASSWORD" PGCONNECT_TIMEOUT=5 \
    psql -X -h "$EGOV_PG_HOST" -p "$EGOV_PG_PORT" -U "$EGOV_PG_USER" -d "$db" "$@"
}

# rabbitmqctl on the configured node
egov_rabbitmqctl() {
  if [ -n "$EGOV_RABBITMQ_NODE" ]; then
    rabbitmqctl -n "$EGOV_RABBITMQ_NODE" "$@"
  else
    rabbitmqctl "$@"
  fi
}
