#!/usr/bin/env bash
# stack.sh: the local stack of real parts: one Kafka 3.9 KRaft node (broker and
# controller) and one PostgreSQL 15 cluster, everything under $VAR_DIR.
#
#   deploy/local/stack.sh deps     install missing Debian packages and the Kafka jars
#   deploy/local/stack.sh up       deps, start Kafka and PostgreSQL, migrate, create topics,
#                                  write $VAR_DIR/env (idempotent)
#   deploy/local/stack.sh down     stop both (safe when nothing runs)
#   deploy/local/stack.sh status   what runs (exit 0 all up, 3 otherwise)
#   deploy/local/stack.sh env      print the env file (eval "$(deploy/local/stack.sh env)")
#   deploy/local/stack.sh psql ... psql on the stack's database as the `coverage` role
#
# Environment (defaults): VAR_DIR (<repo>/var), KAFKA_PORT (19092),
# KAFKA_CONTROLLER_PORT (19093), PGPORT (15432), BUILD (build). Two stacks with different
# VAR_DIR and ports run side by side.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VAR_DIR=${VAR_DIR:-$REPO/var}
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
PGPORT=${PGPORT:-15432}
BUILD=${BUILD:-build}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
KAFKA_READY_TIMEOUT=${KAFKA_READY_TIMEOUT:-60}

DEB_PACKAGES=(gcc make pkg-config librdkafka-dev libavro-dev libpq-dev libcriterion-dev
    libcsv-dev libjansson-dev uuid-dev postgresql postgresql-contrib
    openjdk-17-jre-headless maven kafkacat libssl-dev python3 time clang libclang-rt-14-dev)

mkdir -p "$VAR_DIR"
VAR_DIR=$(cd "$VAR_DIR" && pwd)
KAFKA_DIR=$VAR_DIR/kafka
KAFKA_JARS=$KAFKA_DIR/jars
KAFKA_DATA=$KAFKA_DIR/data
LOG_DIR=$VAR_DIR/log
RUN_DIR=$VAR_DIR/run
KAFKA_PIDFILE=$RUN_DIR/kafka.pid
ENV_FILE=$VAR_DIR/env
TOPICS_TSV=$REPO/deploy/topics.tsv
TOPICS_BIN=$REPO/$BUILD/bin/topics
# Resolved by pg_paths: $VAR_DIR/pg, or where it points when it is a symlink (see pg_prepare).
PG_DIR='' PGDATA_DIR='' PG_RUN=''

# Connections made here name host, port, user and database explicitly; an env file
# sourced by the caller must not redirect them.
unset PGHOST PGHOSTADDR PGSERVICE PGPASSWORD PGOPTIONS PGDATABASE PGUSER

say() { printf 'stack: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}
is_root() { [[ $(id -u) -eq 0 ]]; }

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
    exit 2
}

# Serialise up/down/deps on one VAR_DIR so two callers never race on pid files or
# migrations. Servers started here must not inherit fd 9, or they would hold the lock.
lock_stack() {
    exec 9>"$VAR_DIR/.stack.lock"
    flock -w 120 9 && return 0
    [[ ${1:-} == soft ]] || die "another stack.sh holds $VAR_DIR/.stack.lock"
    say "warning: $VAR_DIR/.stack.lock is held; going on without it"
}

# --- packages and jars -------------------------------------------------------------

pkg_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

ensure_packages() {
    local missing=() p
    for p in "${DEB_PACKAGES[@]}"; do
        pkg_installed "$p" || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    if ! is_root; then
        say "missing Debian packages: ${missing[*]}"
        say "install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}"
        exit 1
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    # Installing postgresql creates and may start Debian's own "main" cluster; the stack
    # runs its own, so stop that one rather than leave a stray server behind.
    if [[ " ${missing[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null; then
        pg_lsclusters -h 2>/dev/null | awk '$4 == "online" {print $1, $2}' |
            while read -r ver name; do pg_ctlcluster "$ver" "$name" stop || true; done
    fi
}

ensure_kafka_jars() {
    [[ -f $KAFKA_JARS/.complete ]] && return 0
    say "resolving Kafka jars into $KAFKA_JARS"
    rm -rf "$KAFKA_JARS" "$KAFKA_JARS.tmp"
    mkdir -p "$KAFKA_DIR"
    mvn -q -B -f "$REPO/deploy/kafka/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$KAFKA_JARS.tmp" -DincludeScope=runtime >"$KAFKA_DIR/mvn.log" 2>&1 || {
        tail -n 30 "$KAFKA_DIR/mvn.log" >&2
        die "maven could not resolve the Kafka jars (deploy/kafka/pom.xml)"
    }
    touch "$KAFKA_JARS.tmp/.complete"
    mv "$KAFKA_JARS.tmp" "$KAFKA_JARS"
}

# --- helpers -----------------------------------------------------------------------

# Fill @NAME@ placeholders of template $1 into file $2.
render() {
    sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
        -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
        -e "s|@KAFKA_DATA@|$KAFKA_DATA|g" \
        -e "s|@LOG_DIR@|$LOG_DIR|g" \
        -e "s|@PGPORT@|$PGPORT|g" \
        -e "s|@PG_RUN@|$PG_RUN|g" \
        "$1" >"$2"
}

# True while pid $1 exists and is not a zombie (an orphan's parent may reap it late).
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Print the pid of process in pidfile $1 when it is alive and its command line has $2.
live_pid() {
    local pid cmdline
    [[ -f $1 ]] || return 1
    pid=$(<"$1")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *"$2"* ]] || return 1
    echo "$pid"
}

ensure_topics_bin() {
    [[ -x $TOPICS_BIN ]] && return 0
    say "building $BUILD/bin/topics"
    make -s -C "$REPO" BUILD="$BUILD" "$BUILD/bin/topics" >&2 || die "unable to build $BUILD/bin/topics"
}

# --- Kafka ---------------------------------------------------------------------------

kafka_pid() { live_pid "$KAFKA_PIDFILE" kafka.Kafka; }

KAFKA_JVM=(java -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$KAFKA_DIR/log4j.properties" "-Dkafka.logs.dir=$LOG_DIR"
    -cp "$KAFKA_JARS/*")

kafka_up() {
    local pid cid p
    mkdir -p "$KAFKA_DATA" "$LOG_DIR" "$RUN_DIR"
    render "$REPO/deploy/local/server.properties.in" "$KAFKA_DIR/server.properties.new"
    render "$REPO/deploy/local/log4j.properties.in" "$KAFKA_DIR/log4j.properties"
    if pid=$(kafka_pid); then
        cmp -s "$KAFKA_DIR/server.properties.new" "$KAFKA_DIR/server.properties" ||
            die "kafka (pid $pid) runs with other settings; run '$0 down' first"
        rm -f "$KAFKA_DIR/server.properties.new"
        say "kafka already running (pid $pid)"
    else
        mv "$KAFKA_DIR/server.properties.new" "$KAFKA_DIR/server.properties"
        for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
            port_open "$p" && die "port $p is taken by another process"
        done
        if [[ ! -f $KAFKA_DATA/meta.properties ]]; then
            [[ -s $KAFKA_DIR/cluster.id ]] ||
                "${KAFKA_JVM[@]}" kafka.tools.StorageTool random-uuid >"$KAFKA_DIR/cluster.id"
            cid=$(<"$KAFKA_DIR/cluster.id")
            say "formatting kafka storage (cluster $cid)"
            "${KAFKA_JVM[@]}" kafka.tools.StorageTool format -t "$cid" \
                -c "$KAFKA_DIR/server.properties" >>"$LOG_DIR/kafka-format.log" 2>&1 || {
                tail -n 20 "$LOG_DIR/kafka-format.log" >&2
                die "kafka storage format failed"
            }
        fi
        say "starting kafka on 127.0.0.1:$KAFKA_PORT"
        # setsid: the broker outlives this script and a Ctrl-C in its terminal.
        nohup setsid "${KAFKA_JVM[@]}" kafka.Kafka "$KAFKA_DIR/server.properties" \
            >>"$LOG_DIR/kafka.out" 2>&1 </dev/null 9>&- &
        echo $! >"$KAFKA_PIDFILE"
    fi
    kafka_wait_ready
}

kafka_wait_ready() {
    local deadline=$((SECONDS + KAFKA_READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! kafka_pid >/dev/null; then
            tail -n 40 "$LOG_DIR/kafka.out" "$LOG_DIR/kafka.log" >&2 2>/dev/null || true
            die "kafka exited during start-up (logs in $LOG_DIR)"
        fi
        "$TOPICS_BIN" --bootstrap "127.0.0.1:$KAFKA_PORT" --timeout.ms 2000 wait 2>/dev/null && return 0
        sleep 0.5
    done
    tail -n 40 "$LOG_DIR/kafka.log" >&2 2>/dev/null || true
    die "kafka did not answer on 127.0.0.1:$KAFKA_PORT within ${KAFKA_READY_TIMEOUT}s"
}

kafka_topics() {
    local bootstrap=127.0.0.1:$KAFKA_PORT listing name parts _ have
    "$TOPICS_BIN" --bootstrap "$bootstrap" --timeout.ms 30000 create "$TOPICS_TSV" 2>>"$LOG_DIR/topics.log" || {
        tail -n 20 "$LOG_DIR/topics.log" >&2
        die "creating topics from deploy/topics.tsv failed"
    }
    # An existing topic keeps its partition count; say so when the file wants another.
    listing=$("$TOPICS_BIN" --bootstrap "$bootstrap" list 2>>"$LOG_DIR/topics.log") ||
        die "listing topics failed"
    while IFS=$'\t' read -r name parts _; do
        [[ -z $name || $name == \#* ]] && continue
        have=$(awk -F'\t' -v t="$name" '$1 == t {print $2}' <<<"$listing")
        [[ $have == "$parts" ]] ||
            say "warning: topic $name has ${have:-no} partitions, deploy/topics.tsv says $parts"
    done <"$TOPICS_TSV"
}

kafka_down() {
    local pid i
    if pid=$(kafka_pid); then
        say "stopping kafka (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 200; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            say "kafka ignored SIGTERM for 20s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 100; i++)); do
                alive "$pid" || break
                sleep 0.1
            done
            ! alive "$pid" || die "kafka (pid $pid) survived SIGKILL"
        fi
    fi
    rm -f "$KAFKA_PIDFILE"
}

# --- PostgreSQL ----------------------------------------------------------------------

pg_paths() {
    PG_DIR=$(readlink -f "$VAR_DIR/pg" 2>/dev/null || echo "$VAR_DIR/pg")
    PGDATA_DIR=$PG_DIR/data
    PG_RUN=$PG_DIR/run
}

# Run a PostgreSQL server program as its owner: `postgres` when we are root.
as_pg() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@") 9>&-
    else
        "$@" 9>&-
    fi
}

# Create $VAR_DIR/pg. As root the cluster belongs to `postgres`, which may be unable to
# reach a repo under a private home; then the data lives in /var/tmp and $VAR_DIR/pg is
# a symlink to it.
pg_prepare() {
    local alt
    if is_root; then
        if [[ -L $VAR_DIR/pg ]]; then
            alt=$(readlink "$VAR_DIR/pg")
            mkdir -p "$alt"
            chown postgres:postgres "$alt"
        elif [[ ! -d $VAR_DIR/pg ]]; then
            mkdir -p "$VAR_DIR/pg"
            chown postgres:postgres "$VAR_DIR/pg"
            if ! runuser -u postgres -- test -w "$VAR_DIR/pg" 2>/dev/null; then
                rmdir "$VAR_DIR/pg"
                alt=/var/tmp/coverage-stack-$(printf '%s' "$VAR_DIR" | cksum | cut -d' ' -f1)
                rm -rf "$alt"
                mkdir -p "$alt"
                chown postgres:postgres "$alt"
                chmod 700 "$alt"
                ln -s "$alt" "$VAR_DIR/pg"
                say "user postgres cannot reach $VAR_DIR; cluster lives in $alt"
            fi
        fi
    else
        mkdir -p "$VAR_DIR/pg"
    fi
    pg_paths
    as_pg mkdir -p "$PG_RUN"
    ((${#PG_RUN} + 16 < 107)) || die "socket dir path too long for a unix socket: $PG_RUN"
}

pg_running() { [[ -f $PGDATA_DIR/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

pg_up() {
    pg_prepare
    if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
        say "initialising postgresql cluster in $PGDATA_DIR"
        as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 --locale=C \
            --auth=trust >"$PG_DIR/initdb.log" 2>&1 || {
            tail -n 20 "$PG_DIR/initdb.log" >&2
            die "initdb failed"
        }
        render "$REPO/deploy/local/pg_hba.conf.in" "$PG_DIR/pg_hba.conf.tmp"
        as_pg cp "$PG_DIR/pg_hba.conf.tmp" "$PGDATA_DIR/pg_hba.conf"
        rm -f "$PG_DIR/pg_hba.conf.tmp"
        # shellcheck disable=SC2016 # $1 is the inner shell's
        as_pg sh -c 'printf "\ninclude = '\''stack.conf'\''\n" >>"$1/postgresql.conf"' sh "$PGDATA_DIR"
    fi
    render "$REPO/deploy/local/postgresql.conf.in" "$PG_DIR/stack.conf.new"
    if pg_running; then
        cmp -s "$PG_DIR/stack.conf.new" "$PGDATA_DIR/stack.conf" ||
            die "postgresql runs with other settings; run '$0 down' first"
        rm -f "$PG_DIR/stack.conf.new"
        say "postgresql already running on port $PGPORT"
    else
        as_pg cp "$PG_DIR/stack.conf.new" "$PGDATA_DIR/stack.conf"
        rm -f "$PG_DIR/stack.conf.new"
        port_open "$PGPORT" && die "port $PGPORT is taken by another process"
        say "starting postgresql on 127.0.0.1:$PGPORT"
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_DIR/postgres.log" -w -t 60 start \
            >/dev/null || {
            tail -n 20 "$PG_DIR/postgres.log" >&2
            die "postgresql did not start"
        }
    fi
    pg_bootstrap
    pg_migrate
}

psql_as() {
    local user=$1
    shift
    PGOPTIONS='-c client_min_messages=warning' \
        psql -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PGPORT" -U "$user" "$@"
}

pg_bootstrap() {
    psql_as postgres -d postgres <<'SQL'
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coverage') THEN
        CREATE ROLE coverage LOGIN CREATEROLE;
    END IF;
END
$$;
SELECT 'CREATE DATABASE coverage OWNER coverage ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'coverage') \gexec
SQL
}

# Apply deploy/sql/NNN_*.sql in order, each once, each in one transaction with its
# schema_migrations row.
pg_migrate() {
    local f base ver applied seen=" " n=0
    psql_as coverage -d coverage -c "CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())"
    applied=" $(psql_as coverage -d coverage -Atc 'SELECT version FROM schema_migrations' | tr '\n' ' ') "
    shopt -s nullglob
    for f in "$REPO"/deploy/sql/*.sql; do
        base=$(basename "$f")
        [[ $base =~ ^([0-9]{3})_[A-Za-z0-9_.-]+\.sql$ ]] ||
            die "migration file name must be NNN_name.sql: deploy/sql/$base"
        ver=$((10#${BASH_REMATCH[1]}))
        [[ $seen == *" $ver "* ]] && die "two migrations share number ${BASH_REMATCH[1]}"
        seen+="$ver "
        [[ $applied == *" $ver "* ]] && continue
        say "applying migration $base"
        psql_as coverage -d coverage --single-transaction -f "$f" \
            -c "INSERT INTO schema_migrations (version, name) VALUES ($ver, '$base')" ||
            die "migration $base failed (nothing of it was applied)"
        n=$((n + 1))
    done
    shopt -u nullglob
    say "migrations: $n applied"
}

pg_down() {
    pg_paths
    if pg_running; then
        say "stopping postgresql"
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null
    fi
}

# --- env file ------------------------------------------------------------------------

# Single-quote $1 for the shell.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

write_env() {
    local conn="host=$PG_RUN port=$PGPORT dbname=coverage user=coverage"
    {
        echo "# written by deploy/local/stack.sh up; source it to reach the local stack"
        echo "export KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
        echo "export PGHOST=$(shq "$PG_RUN") PGPORT=$PGPORT PGDATABASE=coverage PGUSER=coverage"
        echo "export COVERAGE_PG=$(shq "$conn")"
        echo "export VAR_DIR=$(shq "$VAR_DIR")"
    } >"$ENV_FILE.tmp"
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# --- commands ------------------------------------------------------------------------

cmd_deps() {
    lock_stack
    ensure_packages
    ensure_kafka_jars
}

cmd_up() {
    lock_stack
    ensure_packages
    ensure_kafka_jars
    ensure_topics_bin
    pg_up
    kafka_up
    kafka_topics
    write_env
    say "up: kafka 127.0.0.1:$KAFKA_PORT, postgresql 127.0.0.1:$PGPORT ($PG_RUN); env in $ENV_FILE"
}

cmd_down() {
    lock_stack soft
    kafka_down
    pg_down
    rm -f "$ENV_FILE"
}

cmd_status() {
    local pid rc=0
    pg_paths
    if pid=$(kafka_pid); then
        echo "kafka: running pid $pid ($(grep -m1 '^listeners=' "$KAFKA_DIR/server.properties" | cut -d= -f2-))"
    else
        echo "kafka: stopped"
        rc=3
    fi
    if pg_running; then
        pid=$(head -n1 "$PGDATA_DIR/postmaster.pid")
        echo "postgresql: running pid $pid (port $(sed -n 4p "$PGDATA_DIR/postmaster.pid"), socket $PG_RUN)"
    else
        echo "postgresql: stopped"
        rc=3
    fi
    [[ -f $ENV_FILE ]] && echo "env: $ENV_FILE"
    return "$rc"
}

cmd_env() {
    [[ -f $ENV_FILE ]] || die "no $ENV_FILE; run '$0 up' first"
    echo "# $ENV_FILE"
    cat "$ENV_FILE"
}

cmd_psql() {
    [[ -f $ENV_FILE ]] || die "no $ENV_FILE; run '$0 up' first"
    # shellcheck source=/dev/null
    source "$ENV_FILE"
    exec psql "$@"
}

case ${1:-} in
deps) cmd_deps ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
psql) shift && cmd_psql "$@" ;;
*) usage ;;
esac
