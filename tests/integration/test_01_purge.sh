#!/usr/bin/env bash
# `stack.sh purge` on a stack of its own that does not run (its own VAR_DIR and ports, the
# test stack untouched): what the stack stored goes, with PostgreSQL's data where the pg
# link points when that is one of the stack's clusters under PG_ALT_ROOT (as root, when user
# postgres cannot reach the checkout); the logs and the Kafka jars stay; and the clusters
# under PG_ALT_ROOT whose stack directory is gone are removed, the others left.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

alt=$TEST_TMP/alt
var=$TEST_TMP/var
mkdir -p "$alt" "$var/kafka/jars" "$var/kafka/data/roster.changes-0" "$var/log" "$var/secrets" \
    "$var/run" "$var/registry"
touch "$var/kafka/jars/.complete" "$var/kafka/server.properties" "$var/log/kafka.log" "$var/env"
echo secure >"$var/security"

# This stack's cluster, behind the link.
mine=$alt/coverage-stack-1
mkdir -p "$mine/data"
echo "$var" >"$mine/stack"
ln -s "$mine" "$var/pg"
# Another stack's, alive: its link points at it.
other_var=$TEST_TMP/other
live=$alt/coverage-stack-2
mkdir -p "$live/data" "$other_var"
echo "$other_var" >"$live/stack"
ln -s "$live" "$other_var/pg"
# A stack's whose directory was deleted.
gone=$alt/coverage-stack-3
mkdir -p "$gone/data"
echo "$TEST_TMP/deleted-clone/var" >"$gone/stack"
# The same, but a server still runs on the data (a live pid: this shell's).
serving=$alt/coverage-stack-4
mkdir -p "$serving/data"
echo "$TEST_TMP/deleted-too/var" >"$serving/stack"
printf '%s\n%s\n' "$$" "$serving/data" >"$serving/data/postmaster.pid"
# Made before the stack wrote its file: nobody can say whose it is.
unknown=$alt/coverage-stack-5
mkdir -p "$unknown/data"
# A link that points elsewhere: only the link goes.
elsewhere=$TEST_TMP/elsewhere
mkdir -p "$elsewhere"

out=$(VAR_DIR=$var PG_ALT_ROOT=$alt KAFKA_PORT=29492 KAFKA_CONTROLLER_PORT=29493 PGPORT=25632 \
    REGISTRY_PORT=29480 "$STACK" purge 2>&1) || fail "purge failed: $out"
echo "$out"

[[ ! -e $var/pg && ! -L $var/pg ]] || fail "purge left $var/pg"
[[ ! -e $mine ]] || fail "purge left the stack's cluster $mine"
for f in kafka/data kafka/server.properties secrets run registry env security; do
    [[ ! -e $var/$f ]] || fail "purge left $f"
done
[[ -f $var/kafka/jars/.complete ]] || fail "purge removed the Kafka jars"
[[ -f $var/log/kafka.log ]] || fail "purge removed the logs"
[[ -d $live/data ]] || fail "purge removed $live, another stack's live cluster"
[[ ! -e $gone ]] || fail "purge left $gone, whose stack is gone"
[[ -d $serving/data ]] || fail "purge removed $serving, on which a server runs"
[[ -d $unknown/data ]] || fail "purge removed $unknown, whose owner is unknown"
assert_match "the orphan's removal said" "removed $gone, the cluster of $TEST_TMP/deleted-clone/var" "$out"
assert_match "the unknown one named" "left $unknown" "$out"

# A pg link that points outside PG_ALT_ROOT: the link goes, its target stays.
ln -s "$elsewhere" "$var/pg"
VAR_DIR=$var PG_ALT_ROOT=$alt KAFKA_PORT=29492 KAFKA_CONTROLLER_PORT=29493 PGPORT=25632 \
    REGISTRY_PORT=29480 "$STACK" purge >/dev/null 2>&1 || fail "second purge failed"
[[ ! -L $var/pg ]] || fail "purge left the link to $elsewhere"
[[ -d $elsewhere ]] || fail "purge removed $elsewhere, outside PG_ALT_ROOT"
echo "PASS $TEST_NAME"
