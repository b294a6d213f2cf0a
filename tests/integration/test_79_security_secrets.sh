#!/usr/bin/env bash
# No password of the stack shows where it could leak, after the whole suite ran on the
# secure stack: not in a test's log or output (var/test/logs, what is left in var/test/tmp,
# var/test/artifacts), not in the stack's logs (Kafka, PostgreSQL, the tools, the services),
# not in the env file or a config file outside secrets/, not on the command line or in the
# environment of any process, and not in the debug output of a producer and a consumer
# (librdkafka's every detail). The secrets directory itself is 0700 and its files 0600.
# Run it last: it looks at what the tests before it left.
. "$(dirname "$0")/lib.sh"
if [[ $(cat "$VAR_DIR/security" 2>/dev/null) == insecure ]]; then
    echo "skip: the stack runs insecure (up --insecure)"
    exit 0
fi
cd "$TEST_TMP"
SECRETS=$COVERAGE_CONFIG_DIR
mapfile -t pws < <(cat "$SECRETS"/passwords/*)
assert_ge "passwords of the stack (Kafka users and PostgreSQL roles)" 17 "${#pws[@]}"
for pw in "${pws[@]}"; do
    [[ $pw =~ ^[A-Za-z0-9]{32}$ ]] || fail "a password that is not 32 letters and digits"
done

# --- the secrets directory
assert_eq "mode of $SECRETS" "700" "$(stat -c %a "$SECRETS")"
assert_eq "files in $SECRETS readable by others than root" "" \
    "$(find "$SECRETS" -type f ! -name ca.crt -perm /077 | head -n 5)"

# --- debug output of a producer and of a consumer, every librdkafka debug context on
"$BIN/gen_roster" --seed 79 --serial-base 7900 --regency 73.13 --scale-events 3 --output r.csv 2>/dev/null
"$BIN/roster-producer" --source dc-sulsel --progress never --log.level debug -X debug=all r.csv \
    >producer-debug.log 2>&1 || fail "roster-producer: $(tail -n 3 producer-debug.log)"
timeout 120 "$BIN/roster-consumer" --exit.when.drained --log.level debug -X debug=security,broker,conf \
    >consumer-debug.log 2>&1 || fail "roster-consumer: $(tail -n 3 consumer-debug.log)"
assert_match "librdkafka's configuration dump redacts the password" 'sasl.password = \[redacted\]' \
    "$(grep -m1 'sasl.password' producer-debug.log)"
# A connection that fails: what libpq says.
env -u PGPASSFILE "$BIN/covadm" --pg "host=127.0.0.1 port=$PGPORT dbname=coverage user=covadm sslmode=verify-full" \
    offsets >pg-fail.log 2>&1 && fail "covadm connected without its password"
# --help of every program
for b in "$BIN"/*; do "$b" --help >>help.txt 2>&1 || true; done

# --- where a password could have leaked
pg_log=$(readlink -f "$VAR_DIR/pg")/postgres.log
places=("$VAR_DIR/logs" "$VAR_DIR/tmp" "$VAR_DIR/log" "$VAR_DIR/env" "$pg_log")
[[ -d $VAR_DIR/artifacts ]] && places+=("$VAR_DIR/artifacts")
mapfile -t kafka_files < <(find "$VAR_DIR/kafka" -path "$VAR_DIR/kafka/jars" -prune -o -type f \
    \( -name '*.properties' -o -name '*.tsv' -o -name '*.log' \) -print)
places+=("${kafka_files[@]}")
assert_ge "log files to look into" 5 "$(find "${places[@]}" -type f | wc -l)"
leaks=$(grep -rlF -f <(printf '%s\n' "${pws[@]}") "${places[@]}" 2>/dev/null || true)
assert_eq "files with a password outside $SECRETS" "" "$leaks"

# --- command lines and environments of every process
for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do
    tr '\0' '\n' <"$f" 2>/dev/null | grep -qF -f <(printf '%s\n' "${pws[@]}") &&
        fail "a password in $f ($(tr '\0' ' ' <"${f%/*}/cmdline" 2>/dev/null | cut -c1-80))"
done
echo "ok: no password on any process's command line or in its environment"
echo "ok: no password in $(find "${places[@]}" -type f | wc -l) log and output files"
