#!/usr/bin/env bash
# A local PostgreSQL cluster as production teams run one, on loopback ports, for the
# scale-out tests and for trying the service against it (`make cluster`, `make
# cluster-down`):
#
#   etcd ── Patroni node1 (PostgreSQL 15) ⇄ Patroni node2 (synchronous standby)
#   HAProxy: primary port → whichever node Patroni says is the primary (/primary)
#            replica port → the synchronous standby (/sync)
#   PgBouncer (transaction pooling) → HAProxy's primary port
#
#   deploy/cluster.sh up      start it (nothing if it runs already) and print the URLs
#   deploy/cluster.sh env     print the URLs to export
#   deploy/cluster.sh test-env  the same for the test suite's cluster pass (TEST_*)
#   deploy/cluster.sh missing   the Debian packages it needs that are not installed
#   deploy/cluster.sh status  Patroni's view of the nodes
#   deploy/cluster.sh start-node NODE   start a node's Patroni again (after a failover test)
#   deploy/cluster.sh standby-delay S   the standby applies WAL S seconds late (0: at once)
#   deploy/cluster.sh down    stop everything it started and delete its folder
#
# Everything runs as one normal user (yourself; `postgres` when run as root, since
# PostgreSQL refuses root) in one folder that user owns, CLUSTER_DIR (default
# /tmp/app-cluster). It installs nothing: it names the Debian packages that are missing.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${CLUSTER_DIR:-/tmp/app-cluster}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DATABASE=${CLUSTER_DATABASE:-app}
ETCD_PORT=${CLUSTER_ETCD_PORT:-23790}
ETCD_PEER_PORT=$((ETCD_PORT + 10))
NODE1_PG=${CLUSTER_NODE1_PORT:-54321}
NODE2_PG=$((NODE1_PG + 1))
NODE1_API=${CLUSTER_API_PORT:-58008}
NODE2_API=$((NODE1_API + 1))
PRIMARY_PORT=${CLUSTER_PRIMARY_PORT:-54330}
REPLICA_PORT=$((PRIMARY_PORT + 1))
PGBOUNCER_PORT=${CLUSTER_PGBOUNCER_PORT:-64330}

if [ "$(id -u)" = 0 ]; then RUN_AS=${CLUSTER_USER:-postgres}; else RUN_AS=$(id -un); fi

as_user() {
    if [ "$(id -un)" = "$RUN_AS" ]; then "$@"; else runuser -u "$RUN_AS" -- "$@"; fi
}

say() { echo "cluster: $*" >&2; }

missing_packages() {
    local missing=()
    command -v etcd >/dev/null || missing+=(etcd-server)
    command -v patroni >/dev/null || missing+=(patroni)
    command -v haproxy >/dev/null || missing+=(haproxy)
    command -v pgbouncer >/dev/null || missing+=(pgbouncer)
    [ -x "$PGBIN/postgres" ] || missing+=(postgresql-15)
    echo "${missing[@]:-}"
}

render() {  # template -> file, the @NAME@ placeholders filled in
    sed -e "s|@DIR@|$DIR|g" -e "s|@PGBIN@|$PGBIN|g" -e "s|@ETCD_PORT@|$ETCD_PORT|g" \
        -e "s|@NODE1_PG@|$NODE1_PG|g" -e "s|@NODE2_PG@|$NODE2_PG|g" \
        -e "s|@NODE1_API@|$NODE1_API|g" -e "s|@NODE2_API@|$NODE2_API|g" \
        -e "s|@PRIMARY_PORT@|$PRIMARY_PORT|g" -e "s|@REPLICA_PORT@|$REPLICA_PORT|g" \
        -e "s|@PGBOUNCER_PORT@|$PGBOUNCER_PORT|g" "${@:3}" "$1" | as_user tee "$2" >/dev/null
}

alive() { [ -f "$DIR/$1.pid" ] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }

wait_for() {  # seconds, description, command...
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "gave up waiting for $what; logs in $DIR"
            return 1
        fi
        sleep 0.5
    done
}

api() { curl -fsS -o /dev/null "http://127.0.0.1:$1$2"; }

start_detached() {  # name, command...: runs as RUN_AS, output to DIR/name.log, pid to DIR/name.pid
    local name=$1
    shift
    as_user bash -c 'cd "$1" && shift && { nohup "$@" >"$0.log" 2>&1 & echo $! >"$0.pid"; }' \
        "$DIR/$name" "$DIR" "$@"
}

print_env() {
    cat <<EOF
export DATABASE_URL=postgres://postgres@127.0.0.1:$PGBOUNCER_PORT/$DATABASE
export DB_STATEMENT_CACHE_SIZE=0
export MIGRATIONS_DATABASE_URL=postgres://postgres@127.0.0.1:$PRIMARY_PORT/$DATABASE
export DATABASE_REPLICA_URLS=postgres://postgres@127.0.0.1:$REPLICA_PORT/$DATABASE
EOF
}

print_test_env() {
    cat <<EOF
export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PGBOUNCER_PORT/postgres
export DB_STATEMENT_CACHE_SIZE=0
export TEST_MIGRATIONS_URL=postgres://postgres@127.0.0.1:$PRIMARY_PORT/postgres
export TEST_REPLICA_URLS=postgres://postgres@127.0.0.1:$REPLICA_PORT/postgres
EOF
}

up() {
    local missing
    missing=$(missing_packages)
    if [ -n "$missing" ]; then
        say "missing Debian packages: $missing (apt-get install $missing)"
        exit 2
    fi
    if alive pgbouncer; then
        print_env
        return
    fi
    command -v curl >/dev/null || { say "missing Debian package: curl"; exit 2; }
    mkdir -p "$DIR"
    chown "$RUN_AS" "$DIR"
    chmod 700 "$DIR"

    start_detached etcd etcd --name app-cluster --data-dir "$DIR/etcd-data" \
        --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "app-cluster=http://127.0.0.1:$ETCD_PEER_PORT" \
        --enable-v2=false --log-level warn
    wait_for 30 etcd api "$ETCD_PORT" /health

    for node in node1 node2; do
        as_user mkdir -p "$DIR/$node"
        as_user chmod 700 "$DIR/$node"
        if [ $node = node1 ]; then pg=$NODE1_PG api_port=$NODE1_API; else pg=$NODE2_PG api_port=$NODE2_API; fi
        render "$HERE/patroni.yml.in" "$DIR/$node.yml" \
            -e "s|@NAME@|$node|g" -e "s|@PG_PORT@|$pg|g" -e "s|@API_PORT@|$api_port|g"
        start_detached "$node" patroni "$DIR/$node.yml"
        if [ $node = node1 ]; then wait_for 90 "node1 as primary" api "$NODE1_API" /primary; fi
    done
    wait_for 120 "node2 as synchronous standby" api "$NODE2_API" /sync

    as_user "$PGBIN/psql" -h 127.0.0.1 -p "$NODE1_PG" -U postgres -d postgres -qAt \
        -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'" | grep -q 1 ||
        as_user "$PGBIN/psql" -h 127.0.0.1 -p "$NODE1_PG" -U postgres -d postgres -q \
            -c "CREATE DATABASE \"$DATABASE\""

    render "$HERE/haproxy.cfg.in" "$DIR/haproxy.cfg"
    as_user haproxy -D -f "$DIR/haproxy.cfg"
    render "$HERE/pgbouncer.ini.in" "$DIR/pgbouncer.ini"
    echo '"postgres" ""' | as_user tee "$DIR/pgbouncer-users.txt" >/dev/null
    as_user pgbouncer -d "$DIR/pgbouncer.ini"
    wait_for 30 "PgBouncer" as_user "$PGBIN/psql" -h 127.0.0.1 -p "$PGBOUNCER_PORT" \
        -U postgres -d "$DATABASE" -qAtc "SELECT 1"
    wait_for 30 "the replica port" as_user "$PGBIN/psql" -h 127.0.0.1 -p "$REPLICA_PORT" \
        -U postgres -d "$DATABASE" -qAtc "SELECT 1"
    say "up in $DIR: etcd :$ETCD_PORT, PostgreSQL :$NODE1_PG :$NODE2_PG (Patroni :$NODE1_API :$NODE2_API), HAProxy primary :$PRIMARY_PORT replica :$REPLICA_PORT, PgBouncer :$PGBOUNCER_PORT"
    print_env
}

down() {
    [ -d "$DIR" ] || return 0
    for name in pgbouncer haproxy node2 node1 etcd; do
        if alive "$name"; then kill -TERM "$(cat "$DIR/$name.pid")" 2>/dev/null || true; fi
    done
    local deadline=$((SECONDS + 30))
    while pgrep -f -- "$DIR" >/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.5; done
    pkill -KILL -f -- "$DIR" 2>/dev/null || true  # whatever did not stop: postgres, too
    sleep 0.5
    rm -rf "$DIR"
    say "down; $DIR removed"
}

standby_delay() {  # seconds: every standby applies WAL that late (0: at once), for a lag test
    local delay=${1:?seconds} node port
    for node in node1 node2; do
        if [ $node = node1 ]; then port=$NODE1_API; else port=$NODE2_API; fi
        api "$port" /replica 2>/dev/null || continue
        as_user sed -i -e '/^  recovery_conf:$/,+1d' "$DIR/$node.yml"
        if [ "$delay" != 0 ]; then
            as_user sed -i -e "s|^postgresql:\$|postgresql:\n  recovery_conf:\n    recovery_min_apply_delay: ${delay}s|" "$DIR/$node.yml"
        fi
        kill -HUP "$(cat "$DIR/$node.pid")"  # Patroni reloads its file and applies it
    done
}

status() {
    for port in "$NODE1_API" "$NODE2_API"; do
        curl -fsS "http://127.0.0.1:$port/patroni" 2>/dev/null | python3 -c \
            'import json,sys; p=json.load(sys.stdin); print(sys.argv[1], p["role"], p["state"])' "$port" ||
            echo "node on :$port not answering"
    done
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    env) print_env ;;
    test-env) print_test_env ;;
    missing) missing_packages ;;
    start-node) start_detached "${2:?node1 or node2}" patroni "$DIR/$2.yml" ;;
    standby-delay) standby_delay "${2:-}" ;;
    status) status ;;
    *) echo "usage: $0 up|down|env|test-env|status|missing|start-node NODE|standby-delay S" >&2; exit 2 ;;
esac
