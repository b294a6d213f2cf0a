#!/usr/bin/env bash
# The test stack itself: topics as deploy/topics.tsv says (and each data center's, as
# deploy/source_topics.tsv says), PostgreSQL answering with every migration applied once,
# each service's config file reaching PostgreSQL as its own role, a topic round trip,
# `stack.sh up` on a running stack changing nothing, and `stack.sh wal-reserve`.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

listing=$("$BIN/topics" --bootstrap "$KAFKA_BOOTSTRAP" list)
ntopics=0
while IFS=$'\t' read -r name parts _; do
    [[ -z $name || $name == \#* ]] && continue
    have=$(awk -F'\t' -v t="$name" '$1 == t {print $2}' <<<"$listing")
    assert_eq "partitions of $name" "$parts" "$have"
    ntopics=$((ntopics + 1))
done <"$REPO/deploy/topics.tsv"
assert_ge "topics in deploy/topics.tsv" 6 "$ntopics"
for t in roster.changes roster.changes.dlq incidents incidents.dlq claims coverage.changes; do
    assert_eq "contract topic $t in topics.tsv" "1" \
        "$(awk -F'\t' -v t="$t" '$1 == t' "$REPO/deploy/topics.tsv" | wc -l)"
done
for dc in $(awk -F, 'NR > 1 {print $1}' "$REPO/sample/data_centers.csv"); do
    while IFS=$'\t' read -r name parts _; do
        [[ -z $name || $name == \#* ]] && continue
        name=${name//\{source\}/$dc}
        assert_eq "partitions of $name" "$parts" \
            "$(awk -F'\t' -v t="$name" '$1 == t {print $2}' <<<"$listing")"
    done <"$REPO/deploy/source_topics.tsv"
done

assert_eq "psql answers" "1" "$(q 'SELECT 1')"
assert_eq "connected as" "coverage|coverage" "$(q 'SELECT current_user, current_database()')"
assert_eq "the env file sets no COVERAGE_PG" "" "${COVERAGE_PG:-}"
# Each service's config file names its own role, TLS with the server's name checked; the
# role reaches the same server over TLS (its password from the stack's pgpass; the programs
# themselves use the file's, in every test).
for svc in roster-consumer:roster_consumer incident-consumer:incident_consumer \
    claims-relay:claims_relay coverage-relay:coverage_relay lag-monitor:lag_monitor \
    covadm:covadm claims:claims_officer; do
    conf=$COVERAGE_CONFIG_DIR/${svc%%:*}.conf
    [[ -f $conf ]] || fail "no $conf"
    assert_eq "mode of $conf" "600" "$(stat -c %a "$conf")"
    if [[ $(cat "$VAR_DIR/security") == insecure ]]; then
        assert_match "${svc%%:*}.conf's pg" " user=${svc#*:}$" "$(grep '^pg = ' "$conf")"
        continue
    fi
    assert_match "${svc%%:*}.conf's pg" "^pg = host=127\.0\.0\.1 port=$PGPORT dbname=coverage user=${svc#*:} password=[A-Za-z0-9]+ sslmode=verify-full sslrootcert=" \
        "$(grep '^pg = ' "$conf")"
    assert_eq "${svc#*:} connects" "${svc#*:}|$(q 'SHOW port')|t" \
        "$(q_as "${svc#*:}" "SELECT current_user, current_setting('port'), ssl FROM pg_stat_ssl
                              WHERE pid = pg_backend_pid()")"
done
assert_eq "mode of the secrets directory" "700" "$(stat -c %a "$COVERAGE_CONFIG_DIR")"
assert_eq "schema_migrations exists" "t" "$(q "SELECT to_regclass('schema_migrations') IS NOT NULL")"
nfiles=$(find "$REPO/deploy/sql" -maxdepth 1 -name '[0-9][0-9][0-9]_*.sql' 2>/dev/null | wc -l)
assert_eq "one schema_migrations row per deploy/sql file" "$nfiles" \
    "$(q 'SELECT count(*) FROM schema_migrations')"
assert_eq "synchronous_commit" "on" "$(q 'SHOW synchronous_commit')"
assert_eq "listen_addresses" "127.0.0.1" "$(q 'SHOW listen_addresses')"

# The topics tool: creating again is fine, a bad file is an error naming its line.
"$BIN/topics" --bootstrap "$KAFKA_BOOTSTRAP" create "$REPO/deploy/topics.tsv" 2>"$TEST_TMP/create.err" ||
    fail "re-creating the topics failed: $(cat "$TEST_TMP/create.err")"
printf 'itest.bad\tmany\n' >"$TEST_TMP/bad.tsv"
rc=0
"$BIN/topics" --bootstrap "$KAFKA_BOOTSTRAP" create "$TEST_TMP/bad.tsv" 2>"$TEST_TMP/bad.err" || rc=$?
assert_eq "topics create on a bad file exits" "1" "$rc"
assert_match "bad file error names the line" 'line=1' "$(cat "$TEST_TMP/bad.err")"

# A round trip through a scratch topic (auto-creation is off, so create it first).
scratch=itest.scratch.$$
printf '%s\t2\tretention.ms=600000\n' "$scratch" >"$TEST_TMP/scratch.tsv"
"$BIN/topics" --bootstrap "$KAFKA_BOOTSTRAP" create "$TEST_TMP/scratch.tsv"
assert_eq "scratch topic partitions" "2" \
    "$("$BIN/topics" --bootstrap "$KAFKA_BOOTSTRAP" list | awk -F'\t' -v t="$scratch" '$1 == t {print $2}')"
printf 'k1:hello\nk2:world\n' | kcat -P -b "$KAFKA_BOOTSTRAP" -t "$scratch" -K: -X acks=all
wait_until 20 test "$(topic_count "$scratch")" -eq 2
assert_eq "records read back" "hello world" \
    "$(kcat -C -b "$KAFKA_BOOTSTRAP" -t "$scratch" -e -q -f '%s\n' | sort | tr '\n' ' ' | sed 's/ $//')"

# `up` on a running stack: same processes, no migration re-applied, schema unchanged.
pgdata=$(readlink -f "$VAR_DIR/pg")/data
kafka_pid=$(cat "$VAR_DIR/run/kafka.pid")
pg_pid=$(head -n1 "$pgdata/postmaster.pid")
before_rows=$(q 'SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
# pg_dump's \restrict lines carry a random key; everything else is the schema.
schema() { pg_dump -s -x -O | grep -Ev '^(--|\\(un)?restrict )'; }
assert_ge "schema_migrations table in the dump" 1 "$(schema | grep -c 'TABLE public.schema_migrations')"
before_schema=$(schema | md5sum)
"$STACK" up 2>"$TEST_TMP/up.err" || fail "second 'stack.sh up' failed: $(cat "$TEST_TMP/up.err")"
assert_match "second up applies nothing" 'migrations: 0 applied' "$(cat "$TEST_TMP/up.err")"
assert_eq "kafka pid after second up" "$kafka_pid" "$(cat "$VAR_DIR/run/kafka.pid")"
assert_eq "postgres pid after second up" "$pg_pid" "$(head -n1 "$pgdata/postmaster.pid")"
assert_eq "schema_migrations after second up" "$before_rows" \
    "$(q 'SELECT version, name, applied_at FROM schema_migrations ORDER BY version')"
assert_eq "schema after second up" "$before_schema" "$(schema | md5sum)"
"$STACK" status >/dev/null || fail "status says the stack is not fully up"

# WAL files made ahead of a load (stack.sh wal-reserve): 64 MB are 4 files, kept by the
# checkpoint (min_wal_size); asking again for as much makes none (the WAL stays in its file);
# a size that is not a number is refused with the rule.
assert_eq "min_wal_size" "16GB" "$(q 'SHOW min_wal_size')"
"$STACK" wal-reserve 64 2>"$TEST_TMP/wal.err" || fail "wal-reserve 64 failed: $(cat "$TEST_TMP/wal.err")"
made=$(sed -n 's/.*postgresql: \([0-9]*\) WAL files .* made ahead .*(asked: 64 MB)$/\1/p' "$TEST_TMP/wal.err")
assert_ge "WAL files ahead after wal-reserve 64" 4 "${made:-0}"
wal_file=$(q 'SELECT pg_walfile_name(pg_current_wal_lsn())')
"$STACK" wal-reserve 64 2>"$TEST_TMP/wal2.err" || fail "second wal-reserve 64 failed: $(cat "$TEST_TMP/wal2.err")"
assert_eq "WAL file after a second wal-reserve 64" "$wal_file" "$(q 'SELECT pg_walfile_name(pg_current_wal_lsn())')"
rc=0
"$STACK" wal-reserve 64MB 2>"$TEST_TMP/wal3.err" || rc=$?
assert_eq "wal-reserve 64MB exits" "1" "$rc"
assert_match "wal-reserve 64MB says why" "MB must be a whole number of megabytes, not '64MB'" "$(cat "$TEST_TMP/wal3.err")"
