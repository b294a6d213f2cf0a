#!/usr/bin/env bash
# writeback.sh: the host's page-cache writeback setting for a PostgreSQL server under a bulk
# load (deploy/local/POSTGRESQL.md, "The host"). The benchmarks apply it for their run and
# put back what was there.
#   writeback.sh show           the current setting, one line
#   writeback.sh apply SAVE     write the current setting to the file SAVE, then start
#                               background writeback at WRITEBACK_BACKGROUND_BYTES of dirty
#                               pages (vm.dirty_background_bytes); needs root
#   writeback.sh restore SAVE   put back the setting saved in SAVE and remove it (nothing to
#                               do without SAVE)
# Why: PostgreSQL 15 extends a table by writing zeroed pages, which stay dirty in the page
# cache; the kernel writes an inode's dirty pages back once the oldest is 30 s old
# (vm.dirty_expire_centisecs), so a roster load's growing tables were written out in bursts
# of ~350 MB every 30 s, and every COMMIT's WAL fsync queued behind them for up to a second
# (an incident's claim among them). Writeback that starts at 64 MB keeps it continuous.
# Environment: WRITEBACK_BACKGROUND_BYTES (67108864).
set -euo pipefail

BYTES=${WRITEBACK_BACKGROUND_BYTES:-67108864}
VM=/proc/sys/vm

die() {
    echo "writeback.sh: $*" >&2
    exit 1
}

show() {
    local bytes ratio
    bytes=$(cat "$VM/dirty_background_bytes")
    ratio=$(cat "$VM/dirty_background_ratio")
    if [ "$bytes" != 0 ]; then
        echo "vm.dirty_background_bytes=$bytes"
    else
        echo "vm.dirty_background_ratio=$ratio"
    fi
}

case "${1:-}" in
show)
    show
    ;;
apply)
    [ $# -eq 2 ] || die "usage: writeback.sh apply SAVE"
    [ -w "$VM/dirty_background_bytes" ] || die "cannot set vm.dirty_background_bytes (not root)"
    # The first save wins: an apply after an apply must not save our own value.
    [ -f "$2" ] || show >"$2"
    echo "$BYTES" >"$VM/dirty_background_bytes"
    ;;
restore)
    [ $# -eq 2 ] || die "usage: writeback.sh restore SAVE"
    [ -f "$2" ] || exit 0
    IFS== read -r key value <"$2"
    case "$key" in
    vm.dirty_background_bytes | vm.dirty_background_ratio) ;;
    *) die "$2 does not hold a saved setting" ;;
    esac
    echo "$value" >"$VM/${key#vm.}"
    rm -f "$2"
    ;;
*)
    die "usage: writeback.sh show | apply SAVE | restore SAVE"
    ;;
esac
