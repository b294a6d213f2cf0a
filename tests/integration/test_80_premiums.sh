#!/usr/bin/env bash
# Premium rates and billing rules in PostgreSQL: `covadm premiums sync` copies the files in
# (a broken file changes nothing), and PostgreSQL prices every case of
# tests/unit/data/premium_cases.tsv exactly as common/premiums.c does in the unit test
# (premium_cases.py: month boundaries, the JKK minimum, JHT on and off, leap years, a term
# across a year end, the 2020 relief, PU risk classes), under the deployed rules and under
# a test file that owes a month from 15 days.
. "$(dirname "$0")/lib.sh"

CASES=$REPO/tests/unit/data/premium_cases.tsv
RATES=$REPO/deploy/premiums/premium_rates.tsv
RULES=$REPO/deploy/premiums/billing_rules.tsv
sync() { "$BIN/covadm" premiums sync --premium-rates "$RATES" --billing-rules "$1"; }
# Whatever happens, the stack keeps the deployed rules for the tests after this one.
on_exit sync "$RULES"
cd "$TEST_TMP"

out=$(sync "$RULES")
assert_match "first sync" "premium_rates.tsv: [0-9]+ rows written, 0 removed" "$out"
assert_eq "rate rows" "$(grep -cv '^#\|^$\|^version' "$RATES")" "$(q "SELECT count(*) FROM premium_rates")"
assert_eq "rule rows" "4" "$(q "SELECT count(*) FROM billing_rules")"
assert_match "a second sync writes nothing" "0 rows written, 0 removed; .* 0 written, 0 removed" "$(sync "$RULES")"
assert_eq "versions as PostgreSQL sees them" \
"PP44-2015|2015-07-01|2020-08-01
PP49-2020|2020-08-01|2021-02-01
PP44-2015-R2021|2021-02-01|2023-10-06
PP49-2023|2023-10-06|" \
    "$(q "SELECT DISTINCT version, effective_from, next_from FROM premium_cells ORDER BY 2")"

# A broken file is refused with its line, and nothing changes.
sed 's/^BR-2015\t2015-07-01\tBPU\tmonth_owed_min_covered_days\t1\t/BR-2015\t2015-07-01\tBPU\tmonth_owed_min_covered_days\t31\t/' \
    "$RULES" >broken.tsv
rc=0
sync broken.tsv >sync.out 2>sync.err || rc=$?
assert_eq "broken rules file: exit" "1" "$rc"
assert_match "broken rules file: the line and the rule" \
    "broken.tsv:[0-9]+: month_owed_min_covered_days 31 must be 1-28" "$(cat sync.err)"
assert_eq "broken rules file: nothing changed" "1" \
    "$(q "SELECT value FROM billing_rules WHERE scheme = 'BPU' AND rule = 'month_owed_min_covered_days'")"

# Every case, priced by PostgreSQL, against what the C rules give.
python3 "$REPO/tests/integration/premium_cases.py" "$CASES" deployed >deployed.out ||
    fail "PostgreSQL prices differently from premiums.c: $(grep FAIL deployed.out)"
tail -n 1 deployed.out
sync "$REPO/tests/unit/data/billing_rules_min15.tsv" >/dev/null
assert_eq "test rules in force" "T-15|15" \
    "$(q "SELECT version, min_days FROM billing_rule_sets WHERE scheme = 'BPU'")"
python3 "$REPO/tests/integration/premium_cases.py" "$CASES" billing_rules_min15.tsv >min15.out ||
    fail "PostgreSQL counts months differently from premiums.c: $(grep FAIL min15.out)"
tail -n 1 min15.out
sync "$RULES" >/dev/null
assert_eq "deployed rules back" "BR-2015|1" \
    "$(q "SELECT version, min_days FROM billing_rule_sets WHERE scheme = 'BPU'")"
