#!/usr/bin/env bash
# `stack.sh purge` on a stack of its own that does not run (its own VAR_DIR and ports, the
# test stack untouched): what the stack stored goes, with PostgreSQL's data where the pg
# link points when that is one of the stack's clusters under PG_ALT_ROOT (as root, when user
# postgres cannot reach the checkout); $VAR_DIR/log and the Kafka jars stay. Then the sweep
# (pg_sweep_orphans): a cluster goes only when the VAR_DIR its file names no longer exists,
# no server runs on it and nothing in it changed for PG_SWEEP_MINUTES; any other is left.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

mkdir -p "$TEST_TMP/alt"
alt=$(readlink -f "$TEST_TMP/alt")
var=$TEST_TMP/var
pg_user=$(id -un)
[[ $(id -u) -ne 0 ]] || pg_user=postgres
mkdir -p "$var/kafka/jars" "$var/kafka/data/roster.changes-0" "$var/log" "$var/secrets" \
    "$var/run" "$var/registry"
touch "$var/kafka/jars/.complete" "$var/kafka/server.properties" "$var/log/kafka.log" "$var/env"
echo secure >"$var/security"

# cluster NAME OWNER_VAR_DIR: a cluster dir under $alt as pg_prepare makes one.
cluster() {
    mkdir -p "$alt/$1/data"
    [[ -z $2 ]] || echo "$2" >"$alt/$1/stack"
    chown -R "$pg_user" "$alt/$1"
}
cluster coverage-stack-1 "$var"                       # this stack's, behind its link
ln -s "$alt/coverage-stack-1" "$var/pg"
mkdir -p "$TEST_TMP/other"
cluster coverage-stack-2 "$TEST_TMP/other"            # another stack's, which exists
ln -s "$alt/coverage-stack-2" "$TEST_TMP/other/pg"
cluster coverage-stack-3 "$TEST_TMP/deleted/var"      # a deleted checkout's
cluster coverage-stack-4 "$TEST_TMP/deleted-too/var"  # the same, a server still on it
printf '%s\n%s\n' "$$" "$alt/coverage-stack-4/data" >"$alt/coverage-stack-4/data/postmaster.pid"
cluster coverage-stack-5 ""                           # made before the file was written
mkdir -p "$TEST_TMP/moved"
cluster coverage-stack-6 "$TEST_TMP/moved"            # its checkout exists, not linked here
cluster coverage-stack-7 "$TEST_TMP/deleted-3/var"    # a deleted checkout's, not ours
[[ $(id -u) -ne 0 ]] || chown -R root "$alt/coverage-stack-7"
[[ $(id -u) -eq 0 ]] || chmod 000 "$alt/coverage-stack-7"
on_exit chmod -R u+rwx "$alt"

purge() {
    VAR_DIR=$1 PG_ALT_ROOT=$alt KAFKA_PORT=29492 KAFKA_CONTROLLER_PORT=29493 PGPORT=25632 \
        REGISTRY_PORT=29480 "$STACK" purge 2>&1
}

# Within the grace time (the default, a day) the deleted checkout's cluster stays.
out=$(purge "$var") || fail "purge failed: $out"
echo "$out"
[[ ! -e $var/pg && ! -L $var/pg ]] || fail "purge left $var/pg"
[[ ! -e $alt/coverage-stack-1 ]] || fail "purge left the stack's cluster"
for f in kafka/data kafka/server.properties secrets run registry env security; do
    [[ ! -e $var/$f ]] || fail "purge left $f"
done
[[ -f $var/kafka/jars/.complete ]] || fail "purge removed the Kafka jars"
[[ -f $var/log/kafka.log ]] || fail "purge removed the logs"
[[ -d $alt/coverage-stack-3/data ]] || fail "the sweep removed a cluster used less than a day ago"
assert_match "the unknown one named" "left $alt/coverage-stack-5" "$out"

# With no grace time: the deleted checkout's cluster goes, and that alone.
out=$(PG_SWEEP_MINUTES=0 purge "$var") || fail "purge failed: $out"
echo "$out"
[[ ! -e $alt/coverage-stack-3 ]] || fail "the sweep left coverage-stack-3, whose checkout is gone"
assert_match "its removal said" "removed $alt/coverage-stack-3, the cluster of $TEST_TMP/deleted/var" "$out"
for n in 2 4 5 6 7; do
    [[ -d $alt/coverage-stack-$n ]] || fail "the sweep removed coverage-stack-$n"
done

# A copy of another stack's var (its pg link copied): purging it leaves that cluster.
mkdir -p "$TEST_TMP/copy"
cp -P "$TEST_TMP/other/pg" "$TEST_TMP/copy/pg"
PG_SWEEP_MINUTES=0 purge "$TEST_TMP/copy" >/dev/null || fail "purge of the copy failed"
[[ ! -L $TEST_TMP/copy/pg ]] || fail "purge left the copy's link"
[[ -d $alt/coverage-stack-2/data ]] || fail "purging a copy removed the cluster of $TEST_TMP/other"

# A pg link that points outside PG_ALT_ROOT: the link goes, its target stays.
mkdir -p "$TEST_TMP/elsewhere"
ln -s "$TEST_TMP/elsewhere" "$var/pg"
purge "$var" >/dev/null || fail "purge failed"
[[ ! -L $var/pg ]] || fail "purge left the link to $TEST_TMP/elsewhere"
[[ -d $TEST_TMP/elsewhere ]] || fail "purge removed $TEST_TMP/elsewhere, outside PG_ALT_ROOT"
echo "PASS $TEST_NAME"
