#!/usr/bin/env bash
# coverage.changes end to end: 50 workers of this test (NIK serials after 5000) are
# enrolled, some updated (one into an ACTIVE future term), terminated on their first day,
# or cancelled before it; roster-consumer drains them (queueing coverage_outbox rows) and
# coverage-relay publishes. The topic, decoded with coverage_changes.py, must hold a record
# for every NIK whose latest one matches PostgreSQL's state; event ids are stable when the
# states are queued again; and a relay killed -9 after Kafka acknowledged a batch but
# before it marked it loses nothing (the next relay publishes the batch again).
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null

"$BIN/gen_roster" --seed 20 --serial-base 5000 --regency 73.13 --scale-events 50 --output roster.csv 2>/dev/null
awk -F, 'NR > 1 { print $2 }' roster.csv | sort -u >niks.txt
assert_eq "workers of this test" 50 "$(wc -l <niks.txt)"

# UPDATE rows 2-6 (wage; row 2 also extends its term into the future), TERMINATE rows
# 7-11 on their first day, and row 12 the day before it starts (cancelled).
awk -F, -v OFS=, '
NR == 1 { print "change,nik,full_name,birth_date,gender,institution,role,region_code,tps,term_start,term_end,monthly_wage,programs,agreement_id,effective_date"; next }
NR == 2 { print "UPDATE", $2, "", "", "", "", "", "", "", "", "2030-12-31", $12 + 1000, "", "", $10 }
NR >= 3 && NR <= 6 { print "UPDATE", $2, "", "", "", "", "", "", "", "", "", $12 + 1000, "", "", $10 }
NR >= 7 && NR <= 11 { print "TERMINATE", $2, "", "", "", "", "", "", "", "", "", "", "", "", $10 }
NR == 12 { cmd = "date -d \"" $10 " -1 day\" +%F"; cmd | getline before; close(cmd)
           print "TERMINATE", $2, "", "", "", "", "", "", "", "", "", "", "", "", before }
' roster.csv >changes.csv

"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv 2>producer.log ||
    fail "roster-producer failed: $(tail -n 5 producer.log)"
timeout 180 "$BIN/roster-consumer" --exit.when.drained 2>consumer.log ||
    fail "roster-consumer failed: $(tail -n 5 consumer.log)"
"$BIN/roster-producer" --source dc-sulsel --progress never changes.csv 2>producer2.log ||
    fail "roster-producer (changes) failed: $(tail -n 5 producer2.log)"
timeout 180 "$BIN/roster-consumer" --exit.when.drained 2>consumer2.log ||
    fail "roster-consumer (changes) failed: $(tail -n 5 consumer2.log)"

mine_pending() {
    q_niks niks.txt "SELECT count(*) FROM coverage_outbox
                     WHERE published_at IS NULL AND nik IN (SELECT nik FROM mine)"
}
assert_eq "outbox rows queued: one per applied event" 61 "$(mine_pending)"

# --- publish (other tests' workers too: the outbox is shared)
timeout 300 "$BIN/coverage-relay" --exit.when.drained --batch.size 5000 2>relay.log ||
    fail "coverage-relay failed: $(tail -n 5 relay.log)"
assert_eq "outbox rows of this test left unpublished" 0 "$(mine_pending)"

dump() { kcat -C -b "$KAFKA_BOOTSTRAP" -t coverage.changes -e -q -f '%k\t%S\n%s\n'; }
decode() { python3 "$REPO/tests/integration/coverage_changes.py" --niks niks.txt "$@"; }
dump | decode >latest.txt
assert_eq "NIKs with a record" 50 "$(wc -l <latest.txt)"

# PostgreSQL's state of the same NIKs; each has one term here (one ENROLL each).
assert_eq "terms per worker" 1 \
    "$(q_niks niks.txt "SELECT DISTINCT count(DISTINCT enroll_event) FROM coverages
                        WHERE nik IN (SELECT nik FROM mine) GROUP BY nik")"
q_niks niks.txt "
    SELECT nik, coalesce(string_agg(program, ';' ORDER BY array_position(ARRAY['JKK','JKM','JHT'], program))
                         FILTER (WHERE status <> 'CANCELLED'), ''),
           CASE WHEN bool_or(status <> 'ACTIVE') THEN 'TERMINATED'
                WHEN max(valid_to) < (now() AT TIME ZONE 'UTC')::date THEN 'EXPIRED'
                ELSE 'ACTIVE' END,
           min(valid_from), max(valid_to), min(region_code), min(role), min(institution)
    FROM coverages WHERE nik IN (SELECT nik FROM mine) GROUP BY nik ORDER BY nik" >expected.txt
cut -d'|' -f1,4- latest.txt | LC_ALL=C sort >actual.txt
LC_ALL=C sort -o expected.txt expected.txt
diff expected.txt actual.txt >state.diff || fail "latest states differ from PostgreSQL: $(head -n 6 state.diff)"
assert_eq "TERMINATED states" 6 "$(grep -c '|TERMINATED|' actual.txt)"
assert_eq "ACTIVE states (the extended term)" 1 "$(grep -c '|ACTIVE|' actual.txt)"
assert_eq "cancelled worker has no program" 1 "$(awk -F'|' '$2 == "" && $3 == "TERMINATED"' actual.txt | wc -l)"
assert_eq "source" "coverage-relay" "$(cut -d'|' -f3 latest.txt | sort -u)"
assert_eq "distinct event ids" 50 "$(cut -d'|' -f2 latest.txt | sort -u | wc -l)"

# --- nothing left: a second relay publishes nothing
before=$(topic_count coverage.changes)
timeout 60 "$BIN/coverage-relay" --exit.when.drained 2>relay2.log ||
    fail "second coverage-relay failed: $(tail -n 5 relay2.log)"
assert_eq "records after a drained relay runs again" "$before" "$(topic_count coverage.changes)"

# --- queued again (as after a lost mark), the same states get the same event ids
q_niks niks.txt "UPDATE coverage_outbox SET published_at = NULL WHERE nik IN (SELECT nik FROM mine)" >/dev/null
timeout 60 "$BIN/coverage-relay" --exit.when.drained 2>relay3.log ||
    fail "third coverage-relay failed: $(tail -n 5 relay3.log)"
assert_eq "records republished (one per NIK)" "$((before + 50))" "$(topic_count coverage.changes)"
dump | decode >latest2.txt
diff latest.txt latest2.txt >stable.diff || fail "republished states differ: $(head -n 4 stable.diff)"
echo "ok: republished states and event ids unchanged"

# --- kill -9 between produce and mark: a SHARE lock on coverage_outbox lets the relay
# read and publish but blocks its UPDATE; it dies there, and its batch stays queued.
q_niks niks.txt "INSERT INTO coverage_outbox (nik, cause_event)
                 SELECT nik, gen_random_uuid() FROM mine ORDER BY nik" >/dev/null
before=$(topic_count coverage.changes)
start_bg locker env PGAPPNAME=test20-locker psql -X -q \
    -c "BEGIN; LOCK TABLE coverage_outbox IN SHARE MODE; SELECT pg_sleep(300)"
locker_in() { (($(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'test20-locker' AND state = 'active'") == 1)); }
wait_until 30 locker_in || fail "locker did not start"
start_bg relay-a env PGAPPNAME=test20-relay-a "$BIN/coverage-relay" \
    --batch.size 1000
relay_blocked() {
    (($(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'test20-relay-a' AND wait_event_type = 'Lock'") == 1))
}
wait_until 60 relay_blocked || fail "relay never blocked on marking: $(tail -n 5 "$(bg_log relay-a)")"
assert_eq "records produced before the mark" "$((before + 50))" "$(topic_count coverage.changes)"
stop_bg relay-a KILL || true
# The server notices a dead client only when it next writes to it: end both sessions, as
# a crash of the relay's host would (the UPDATE never commits, the advisory lock goes).
terminate() { q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '$1'"; }
assert_eq "relay A's session ended" 1 "$(terminate test20-relay-a)"
terminate test20-locker >/dev/null
stop_bg locker || true
assert_eq "batch of the killed relay still queued" 50 "$(mine_pending)"
timeout 60 "$BIN/coverage-relay" --exit.when.drained 2>relay4.log ||
    fail "coverage-relay after the kill failed: $(tail -n 5 relay4.log)"
assert_eq "queued rows after the next relay" 0 "$(mine_pending)"
assert_eq "records: the killed relay's batch again" "$((before + 100))" "$(topic_count coverage.changes)"
dump | decode >latest3.txt
assert_eq "NIKs with a record after the kill" 50 "$(wc -l <latest3.txt)"
diff <(cut -d'|' -f1,3- latest.txt) <(cut -d'|' -f1,3- latest3.txt) >kill.diff ||
    fail "states after the kill differ: $(head -n 4 kill.diff)"
assert_eq "new event ids (new cause events)" 0 \
    "$(join -t'|' <(cut -d'|' -f1,2 latest.txt) <(cut -d'|' -f1,2 latest3.txt) | awk -F'|' '$2 == $3' | wc -l)"
