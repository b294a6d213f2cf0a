#!/usr/bin/env bash
# Security of the stack (README.md, "Security"), against the real broker and database:
#   - a data center's credentials cannot write another data center's topic: the broker
#     refuses (TOPIC_AUTHORIZATION_FAILED) and the producers say so and exit 1;
#   - a record for a province its data center does not serve, and a record whose source
#     field is not its topic's data center, are dead-lettered with dlq.error.class=auth
#     (roster and incidents);
#   - Kafka and PostgreSQL refuse a client without credentials, with a wrong password, or
#     without TLS;
#   - the analytics principal reads coverage.changes and claims, and no input topic; the
#     analytics role sees no raw NIK;
#   - no service role may UPDATE claims; claim_transition() runs as claim_workflow, which
#     nobody logs in as, with its search_path pinned;
#   - a rotated password works at once and the old one no longer does.
. "$(dirname "$0")/lib.sh"
if [[ $(cat "$VAR_DIR/security" 2>/dev/null) == insecure ]]; then
    echo "skip: the stack runs insecure (up --insecure)"
    exit 0
fi
cd "$TEST_TMP"
SECRETS=$COVERAGE_CONFIG_DIR

"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null

# --- Kafka: listeners, and the ACLs the stack made ------------------------------------------
props=$VAR_DIR/kafka/server.properties
grep -qx 'listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL' "$props" ||
    fail "listeners not all TLS: $(grep '^listener' "$props")"
grep -qx 'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer' "$props" ||
    fail "no standard authorizer in $props"
"$STACK" acls >acls.txt
acl_has() { grep -qxF "$(printf 'User:%s\t%s\t%s\t%s\t%s\tallow\t*' "$@")" acls.txt; }
acl_has dc-sulsel topic literal roster.changes.dc-sulsel write || fail "dc-sulsel may not write its topic"
acl_has dc-sulsel topic literal incidents.dc-sulsel write || fail "dc-sulsel may not write its incidents"
assert_eq "ACLs of dc-sulsel (its two topics)" "2" "$(grep -c '^User:dc-sulsel	' acls.txt)"
assert_eq "ACLs of analytics (two topics, its groups and its Connect sinks' groups)" "4" "$(grep -c '^User:analytics	' acls.txt)"
acl_has roster-consumer topic literal roster.changes.dc-maluku read || fail "consumer may not read dc-maluku"
acl_has roster-consumer topic literal roster.changes.dc-maluku.dlq write || fail "consumer may not write its DLQ"
assert_eq "write ACLs on input topics of others than their data center and covadm" "" \
    "$(awk -F'\t' '$5 == "write" && $4 ~ /^(roster\.changes|incidents)\.[^.]+$/ && $4 !~ /\.dlq$/ {
            split($4, t, "."); dc = t[length(t)]
            if ($1 != "User:" dc && $1 != "User:covadm") print}' acls.txt)"

# --- a data center writes only its own topics ------------------------------------------------
"$BIN/gen_roster" --seed 70 --serial-base 7700 --regency 81.71 --scale-events 5 \
    --agreements-out agreements-ambon.csv --output ambon.csv 2>/dev/null
"$BIN/covadm" agreements load agreements-ambon.csv >/dev/null
# With dc-maluku's config file it publishes as dc-maluku, to roster.changes.dc-maluku.
before=$(topic_count roster.changes.dc-maluku)
"$BIN/roster-producer" --config "$SECRETS/dc-maluku.conf" --progress never ambon.csv 2>own.log ||
    fail "dc-maluku could not publish to its own topic: $(cat own.log)"
assert_eq "records on roster.changes.dc-maluku" "5" "$(($(topic_count roster.changes.dc-maluku) - before))"
# dc-maluku's credentials for dc-sulsel's topic: refused by the broker, said clearly.
rc=0
"$BIN/roster-producer" --config "$SECRETS/dc-maluku.conf" --source dc-sulsel --progress never \
    ambon.csv 2>forged.log || rc=$?
assert_eq "roster-producer exit status when Kafka refuses the topic" "1" "$rc"
assert_match "roster-producer says what was refused" \
    "roster-producer: Kafka refused to let principal 'dc-maluku' write to topic 'roster\.changes\.dc-sulsel' \(TOPIC_AUTHORIZATION_FAILED\)" \
    "$(cat forged.log)"
assert_match "and nothing was delivered" "delivered=0 failed=5" "$(grep '^summary:' forged.log)"
rc=0
"$BIN/incident-producer" --config "$SECRETS/dc-maluku.conf" --source dc-sulsel --one \
    --nik 7313011501907701 --type ACCIDENT --occurred-at 2024-02-14T10:00:00+08:00 \
    --region-code 73.13.01.1001 --circumstance ON_DUTY --severity MINOR \
    --reporter-institution KPU 2>forged-incident.log || rc=$?
assert_eq "incident-producer exit status when Kafka refuses the topic" "1" "$rc"
assert_match "incident-producer says what was refused" \
    "Kafka refused to let principal 'dc-maluku' write to topic 'incidents\.dc-sulsel'" \
    "$(cat forged-incident.log)"
# Nor the shared base topic, nor a consumer's DLQ, nor the outputs.
for t in roster.changes incidents roster.changes.dc-maluku.dlq claims coverage.changes; do
    if printf 'k:v\n' | kcat -F "$SECRETS/dc-maluku.kcat" -P -t "$t" -K: >kcat.out 2>&1; then
        fail "dc-maluku could write $t"
    fi
    grep -q 'Topic authorization failed' kcat.out || fail "writing $t: $(cat kcat.out)"
done
echo "ok: dc-maluku may not write roster.changes, incidents, a DLQ, claims or coverage.changes"

# --- the province and the source field are checked against the topic's data center -----------
# Wajo (73.13) is dc-sulsel's; dc-maluku serves 81 only.
"$BIN/gen_roster" --seed 71 --serial-base 7710 --regency 73.13 --scale-events 2 --output wajo.csv 2>/dev/null
"$BIN/roster-producer" --config "$SECRETS/dc-maluku.conf" --progress never wajo.csv 2>wajo.log ||
    fail "dc-maluku could not publish (the consumer decides): $(cat wajo.log)"
# A record that says dc-maluku on dc-sulsel's topic (only the admin can write it there).
"$BIN/gen_roster" --seed 72 --serial-base 7720 --regency 81.71 --scale-events 1 --output lie.csv 2>/dev/null
"$BIN/roster-producer" --config "$SECRETS/admin.conf" --source dc-maluku \
    --topic roster.changes.dc-sulsel --progress never lie.csv 2>lie.log ||
    fail "admin could not publish the forged record: $(cat lie.log)"
"$BIN/incident-producer" --config "$SECRETS/dc-maluku.conf" --one --nik 7313011501907711 \
    --type ACCIDENT --occurred-at 2024-02-14T10:00:00+08:00 --region-code 73.13.01.1001 \
    --circumstance ON_DUTY --severity MINOR --reporter-institution KPU 2>foreign-incident.log ||
    fail "dc-maluku could not publish an incident: $(cat foreign-incident.log)"
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>roster-consumer.log ||
    fail "roster-consumer: $(tail -n 5 roster-consumer.log)"
timeout 120 "$BIN/incident-consumer" --exit.when.drained 2>incident-consumer.log ||
    fail "incident-consumer: $(tail -n 5 incident-consumer.log)"
kcat -C -t roster.changes.dc-maluku.dlq -e -q -f '%h\n' >maluku-dlq.txt
assert_ge "roster dead letters of dc-maluku with class auth" 2 \
    "$(grep 'dlq.error.class=auth' maluku-dlq.txt | grep -c 'source_not_authorised: data center dc-maluku does not serve province 73')"
kcat -C -t roster.changes.dc-sulsel.dlq -e -q -f '%h\n' >sulsel-dlq.txt
assert_ge "the forged source on dc-sulsel's topic, class auth" 1 \
    "$(grep 'dlq.error.class=auth' sulsel-dlq.txt | grep -c "source_mismatch: the record says source 'dc-maluku', but data center 'dc-sulsel' wrote it")"
kcat -C -t incidents.dc-maluku.dlq -e -q -f '%h\n' >incident-dlq.txt
assert_ge "incident of dc-maluku in province 73, class auth" 1 \
    "$(grep 'dlq.error.class=auth' incident-dlq.txt | grep -c 'source_not_authorised: data center dc-maluku does not serve province 73')"
niks_of() { awk -F, 'NR > 1 {printf "%s'\''%s'\''", n++ ? "," : "", $2}' "$1"; }
assert_eq "workers of the refused records" "0" \
    "$(q "SELECT count(*) FROM workers WHERE nik IN ($(niks_of wajo.csv), $(niks_of lie.csv))")"
assert_eq "the Ambon roster (its own province) applied" "5" \
    "$(q "SELECT count(*) FROM workers WHERE nik IN ($(niks_of ambon.csv))")"

# --- Kafka refuses a client without credentials, with a wrong password, or without TLS --------
kafka_refuses() {
    local what=$1 out
    shift
    { printf 'bootstrap.servers=%s\n' "$KAFKA_BOOTSTRAP"; printf '%s\n' "$@"; } >client.kcat
    if out=$(timeout 30 kcat -F client.kcat -L -m 5 2>&1); then
        fail "Kafka answered a client $what: $out"
    fi
    echo "ok: Kafka refuses a client $what ($(grep -o 'ERROR: .*' <<<"$out" | head -c 120))"
}
user_of_sulsel=(security.protocol=SASL_SSL sasl.mechanisms=SCRAM-SHA-512 sasl.username=dc-sulsel
    "ssl.ca.location=$VAR_DIR/secrets/tls/ca.crt")
kafka_refuses "without TLS" security.protocol=PLAINTEXT
kafka_refuses "with TLS but without credentials" security.protocol=SSL \
    "ssl.ca.location=$VAR_DIR/secrets/tls/ca.crt"
kafka_refuses "with a wrong password" "${user_of_sulsel[@]}" sasl.password=not-the-password
kafka_refuses "that does not trust the stack's CA" security.protocol=SASL_SSL \
    sasl.mechanisms=SCRAM-SHA-512 sasl.username=dc-sulsel sasl.password=x \
    ssl.ca.location=/etc/ssl/certs/ca-certificates.crt
# The producers say so, without waiting for delivery.timeout.ms.
{
    grep -v '^kafka.sasl.password' "$SECRETS/dc-sulsel.conf"
    echo "kafka.sasl.password = not-the-password"
} >wrong.conf
start=$SECONDS rc=0
"$BIN/roster-producer" --config wrong.conf --progress never ambon.csv 2>wrong.log || rc=$?
assert_eq "roster-producer exit status with a wrong password" "1" "$rc"
assert_match "roster-producer says the credentials were refused" \
    "roster-producer: Kafka refused the credentials" "$(cat wrong.log)"
assert_ge "seconds left of delivery.timeout.ms (30)" 15 $((30 - (SECONDS - start)))

# --- PostgreSQL refuses the same ----------------------------------------------------------
pg_refuses() {
    local what=$1 out
    shift
    if out=$(env -u PGPASSFILE -u PGSSLMODE -u PGPASSWORD "$@" psql -w -X -Atq -c 'SELECT 1' 2>&1); then
        fail "PostgreSQL let in a client $what: $out"
    fi
    echo "ok: PostgreSQL refuses a client $what: $(head -n 1 <<<"$out" | cut -c1-140)"
}
: >empty.pgpass
chmod 600 empty.pgpass
pg_refuses "without a password" PGUSER=roster_consumer PGSSLMODE=verify-full PGPASSFILE=empty.pgpass
pg_refuses "with a wrong password" PGUSER=roster_consumer PGSSLMODE=verify-full PGPASSWORD=wrong
pg_refuses "without TLS" PGUSER=roster_consumer PGSSLMODE=disable PGPASSFILE="$SECRETS/pgpass"
pg_refuses "on the unix socket" PGHOST="$(readlink -f "$VAR_DIR/pg")/run" PGUSER=coverage \
    PGPASSFILE="$SECRETS/pgpass"
pg_refuses "that does not trust the stack's CA" PGUSER=roster_consumer PGSSLMODE=verify-full \
    PGSSLROOTCERT=/etc/ssl/certs/ca-certificates.crt PGPASSFILE="$SECRETS/pgpass"
assert_eq "password_encryption" "scram-sha-256" "$(q 'SHOW password_encryption')"
assert_eq "ssl" "on" "$(q 'SHOW ssl')"

# --- analytics: coverage.changes and claims, nothing else ---------------------------------
timeout 60 "$BIN/coverage-relay" --exit.when.drained >coverage-relay.log 2>&1 ||
    fail "coverage-relay: $(tail -n 3 coverage-relay.log)"
for t in coverage.changes claims; do
    kcat -F "$SECRETS/analytics.kcat" -C -t "$t" -e -q -c 1 -f 'x\n' >read.out 2>&1 ||
        fail "analytics cannot read $t: $(cat read.out)"
done
assert_ge "records analytics reads on coverage.changes" 1 \
    "$(kcat -F "$SECRETS/analytics.kcat" -C -t coverage.changes -e -q -f 'x\n' 2>/dev/null | wc -l)"
for t in roster.changes roster.changes.dc-sulsel roster.changes.dc-sulsel.dlq incidents incidents.dc-sulsel; do
    if kcat -F "$SECRETS/analytics.kcat" -C -t "$t" -e -q -f 'x\n' >read.out 2>&1; then
        fail "analytics can read $t"
    fi
    grep -q 'Topic authorization failed' read.out || fail "reading $t as analytics: $(cat read.out)"
done
if printf 'k:v\n' | kcat -F "$SECRETS/analytics.kcat" -P -t claims -K: >write.out 2>&1; then
    fail "analytics can write claims"
fi
echo "ok: analytics reads coverage.changes and claims, not roster.changes*, incidents* nor a DLQ"
assert_eq "columns named nik, full_name or phone in analytics' views" "0" \
    "$(q_as analytics "SELECT count(*) FROM information_schema.columns
                      WHERE table_name LIKE 'analytics%' AND column_name IN ('nik', 'full_name', 'phone')")"
assert_eq "NIK-shaped values analytics can see" "0" \
    "$(q_as analytics "SELECT (SELECT count(*) FROM analytics_coverages t
                              WHERE (to_jsonb(t) - 'worker')::text ~ '[0-9]{16}')
                           + (SELECT count(*) FROM analytics_incidents t
                              WHERE (to_jsonb(t) - 'worker')::text ~ '[0-9]{16}')")"
if q_as analytics "SELECT nik FROM workers LIMIT 1" >/dev/null 2>&1; then
    fail "analytics reads workers"
fi

# --- claims change only through claim_transition() -----------------------------------------
claim=$(q "SELECT claim_id FROM claims LIMIT 1")
[[ -n $claim ]] || fail "no claim to try: run after the incident tests"
for role in roster_consumer incident_consumer claims_relay coverage_relay lag_monitor \
    claims_officer covadm analytics; do
    # (analytics' sessions are read-only by default, but a default is not a privilege)
    out=$(psql -X -Atq -v ON_ERROR_STOP=1 -U "$role" -c "SET default_transaction_read_only = off" \
        -c "UPDATE claims SET amount_idr = amount_idr WHERE claim_id = '$claim'" 2>&1) &&
        fail "$role may UPDATE claims: $out"
    assert_match "$role: direct UPDATE of claims" "permission denied for table claims" "$out"
done
assert_match "analytics may not call claim_transition" "permission denied for function claim_transition" \
    "$(q_as analytics "SELECT claim_transition('$claim', 'REJECTED', 'REJECTED', 'x', 'y')" 2>&1 || true)"
assert_match "nor the consumers" "permission denied for function claim_transition" \
    "$(q_as incident_consumer "SELECT claim_transition('$claim', 'REJECTED', 'REJECTED', 'x', 'y')" 2>&1 || true)"
assert_eq "claim_transition and claim_lock: owner, security definer, search_path" \
"claim_lock|claim_workflow|t|{\"search_path=public, pg_temp\"}
claim_transition|claim_workflow|t|{\"search_path=public, pg_temp\"}" \
    "$(q "SELECT proname, proowner::regrole, prosecdef, proconfig FROM pg_proc
          WHERE proname IN ('claim_transition', 'claim_lock') ORDER BY 1")"
assert_eq "claim_workflow logs in" "f" "$(q "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'claim_workflow'")"
assert_eq "service roles that are superuser, create roles or databases, or own a table" "0" \
    "$(q "SELECT count(*) FROM pg_roles r WHERE rolname IN ('roster_consumer', 'incident_consumer',
              'claims_relay', 'coverage_relay', 'lag_monitor', 'claims_officer', 'covadm', 'analytics')
          AND (rolsuper OR rolcreaterole OR rolcreatedb
               OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid))")"

# --- rotation: the new password works at once, the old one no longer -------------------------
cp "$SECRETS/dc-sultra.kcat" old-sultra.kcat
old_pg=$(grep -c . "$SECRETS/pgpass")
"$STACK" rotate dc-sultra 2>rotate.log || fail "stack.sh rotate dc-sultra: $(cat rotate.log)"
kcat -F "$SECRETS/dc-sultra.kcat" -L -m 10 >/dev/null 2>&1 || fail "the rotated password does not work"
if kcat -F old-sultra.kcat -L -m 5 >/dev/null 2>&1; then fail "the old password still works"; fi
"$STACK" rotate lag-monitor 2>rotate2.log || fail "stack.sh rotate lag-monitor: $(cat rotate2.log)"
"$BIN/lag-monitor" --groups roster-consumer >lag.txt 2>lag.err ||
    fail "lag-monitor with its rotated credentials: $(tail -n 3 lag.err)"
assert_eq "pgpass lines after rotation" "$old_pg" "$(grep -c . "$SECRETS/pgpass")"
echo "ok: rotated dc-sultra (Kafka) and lag-monitor (Kafka and PostgreSQL)"
