#!/usr/bin/env bash
# A record near the broker's largest message (message.max.bytes, 1,048,588 bytes): the
# topic took it, but its copy on the DLQ cannot fit once the dlq.* headers are added. In
# the middle of good events; roster-consumer must dead-letter it (it is no Avro record)
# with its full bytes in dead_letters.msg_value and a copy cut to dlq.truncate.bytes on
# the DLQ, marked by the headers dlq.truncated=true and dlq.original.size, and apply the
# rest once. Twice: with the DLQ producer's own limit (librdkafka's message.max.bytes,
# 1,000,000, refuses it before sending) and with that limit raised so that the broker
# refuses it (MSG_SIZE_TOO_LARGE in the delivery report).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

load_reference
broker_max=1048588   # Kafka's default message.max.bytes (not set in server.properties)
size=$((broker_max - 150))
head -c "$size" /dev/urandom >big.bin
big_md5=$(md5sum <big.bin | cut -d' ' -f1)
total_events=0 total_lost=0 total_dup=0 total_dead=0 worst=0 problems=()

# oversize NAME SERIAL_BASE [consumer options...]
oversize() {
    local name=$1 base=$2 topic=f13$1.roster group=f13$1-roster rows half
    shift 2
    echo "--- $name: consumer options: ${*:-(defaults)}"
    case_topics "$topic" 3
    roster_file "good$name" "$base" 600 --updates 5
    rows=$(($(wc -l <"good$name.csv") - 1))
    half=$((rows / 2 + 1))
    publish_rows "$topic" "good$name.csv" 2 "$half"
    : >poisons.txt
    poison oversize --topic "$topic" --nik 7313010101011300 -X message.max.bytes=1100000 \
        raw --value-file big.bin
    publish_rows "$topic" "good$name.csv" $((half + 1))
    assert_eq "records on $topic" $((rows + 1)) "$(topic_end "$topic")"

    watch_progress "$topic"
    start_consumer "consumer$name" roster-consumer "$topic" "$group" "$@"
    wait_settled "$topic" "$group" 120 "consumer$name"
    assert_running "consumer$name"

    poison_outcomes "$topic" "$group" >/dev/null
    assert_match "the oversize record" '^oversize dead-lettered decode ' "$(outcome_of oversize)"
    assert_eq "bytes kept in dead_letters.msg_value" "$size $big_md5" \
        "$(q "SELECT octet_length(msg_value) || ' ' || md5(msg_value) FROM dead_letters
              WHERE topic = '$topic' AND error_class = 'decode'")"
    kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic.dlq" -e -q -f '%S %h\n' 2>/dev/null | tr '\n' ' ' >dlq.txt
    assert_match "its DLQ copy: cut to 65536 bytes, marked" \
        "^65536 .*dlq\\.truncated=true,dlq\\.original\\.size=$size" "$(cat dlq.txt)"
    grep -q 'dead letter truncated' "$(bg_log "consumer$name")" ||
        fail "the consumer did not log the truncated dead letter"

    : >"good$name.skip"
    check_exactly_once "$topic" "$group" "good$name.csv" "good$name.skip"
    assert_eq "dead letters" 1 "$CHECK_DEAD"
    total_events=$((total_events + CHECK_EVENTS)) total_lost=$((total_lost + CHECK_LOST))
    total_dup=$((total_dup + CHECK_DUPLICATED)) total_dead=$((total_dead + CHECK_DEAD))
    problems+=("${CHECK_PROBLEMS[@]}")
    stall=$(longest_stall progress)
    echo "longest stall: ${stall}s"
    worst=$(awk -v a="$worst" -v b="$stall" 'BEGIN {print (b > a ? b : a)}')
    stop_consumer "consumer$name"
    stop_bg progress >/dev/null 2>&1 || true
}

oversize client 1300
# The consumer's librdkafka then needs fetch.max.bytes >= message.max.bytes.
oversize broker 1400 -X message.max.bytes=1100000 -X fetch.max.bytes=1100000 \
    -X queued.max.messages.kbytes=4096

CHECK_EVENTS=$total_events CHECK_LOST=$total_lost CHECK_DUPLICATED=$total_dup
CHECK_DEAD=$total_dead CHECK_PROBLEMS=("${problems[@]}")
finish_case "$worst"
