#!/usr/bin/env bash
# Certificates per stage. One agreement's workers are enrolled in three handovers, as the
# rosters are finalised (PPK and PPS, then Pantarlih, then KPPS and Linmas); three stages
# defined by the start of the term (`covadm stages add`) give three certificate sets
# (`covadm certificates`): one PDF per enrolment (a cancelled one gets none) and a summary
# per stage by kecamatan and role. Each PDF is read back as text (the worker's name,
# masked NIK, role, unit of work, programs, period, agreement; never the full NIK) and a
# page of a certificate and of a summary is rendered to PNG (pdftoppm) and checked not
# blank; both are kept in $VAR_DIR/artifacts (certificate.png, certificate-summary.png).
. "$(dirname "$0")/lib.sh"

AGR=PKS-T81-7313
ARTIFACTS=$VAR_DIR/artifacts
mkdir -p "$ARTIFACTS"
cd "$TEST_TMP"
# NIKs of this test only: serials 91xx (gen_roster runs of other tests use 3000-8599), born 1 January 1990.
nik() { printf '7313010101909%03d' "$1"; }

cat >agreements.csv <<CSV
agreement_id,name,institution,counterparty,bpjs_branch,region_scope,programs,period_start,period_end,funding_source
$AGR,Perlindungan Badan Ad Hoc Pemilu 2024 KPU Kabupaten Wajo (uji 81),KPU,KPU Kabupaten Wajo,BPJS Ketenagakerjaan KC Sengkang,73.13,JKK;JKM;JHT,2023-01-01,2024-12-31,APBD
CSV
"$BIN/covadm" agreements load agreements.csv >/dev/null
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" regions load "$REPO/sample/regions.csv" >/dev/null

HEAD=change,nik,full_name,birth_date,gender,institution,role,region_code,tps,term_start,term_end,monthly_wage,programs,agreement_id,kpj,effective_date
cat >handover1.csv <<CSV
$HEAD
ENROLL,$(nik 101),Andi Mappasessu,1990-01-01,L,KPU,PPK,73.13.01,,2023-01-04,2024-03-31,2500000,JKK;JKM;JHT,$AGR,12345678901,
ENROLL,$(nik 102),Baso Tenri,1990-01-01,L,KPU,PPK,73.13.01,,2023-01-04,2024-03-31,2200000,JKK;JKM,$AGR,,
ENROLL,$(nik 103),Cakra Daeng,1990-01-01,L,KPU,PPK,73.13.02,,2023-01-04,2024-03-31,2200000,JKK;JKM,$AGR,,
ENROLL,$(nik 104),Dewi Sartika,1990-01-01,L,KPU,PPS,73.13.01.2001,,2023-01-24,2024-03-31,1500000,JKK;JKM,$AGR,,
ENROLL,$(nik 105),Eka Pratama,1990-01-01,L,KPU,PPS,73.13.01.1001,,2023-01-24,2024-03-31,1300000,JKK;JKM,$AGR,,
CSV
cat >handover2.csv <<CSV
$HEAD
ENROLL,$(nik 201),Fajar Ramli,1990-01-01,L,KPU,PANTARLIH,73.13.01.2001,1,2023-02-12,2023-03-14,1000000,JKK;JKM,$AGR,,
ENROLL,$(nik 202),Gita Amalia,1990-01-01,L,KPU,PANTARLIH,73.13.01.2001,2,2023-02-12,2023-03-14,1000000,JKK;JKM,$AGR,,
ENROLL,$(nik 203),Hasan Basri,1990-01-01,L,KPU,PANTARLIH,73.13.01.2002,1,2023-02-12,2023-03-14,1000000,JKK;JKM,$AGR,,
ENROLL,$(nik 204),Irma Suryani,1990-01-01,L,KPU,PANTARLIH,73.13.02.1001,5,2023-02-12,2023-03-14,1000000,JKK;JKM,$AGR,,
CSV
cat >handover3.csv <<CSV
$HEAD
ENROLL,$(nik 301),Jusman Latif,1990-01-01,L,KPU,KPPS,73.13.01.2001,3,2024-01-25,2024-02-25,1200000,JKK;JKM;JHT,$AGR,,
ENROLL,$(nik 302),Kartini Lapa,1990-01-01,L,KPU,KPPS,73.13.01.2001,3,2024-01-25,2024-02-25,1100000,JKK;JKM,$AGR,,
ENROLL,$(nik 303),Lukman Hakim,1990-01-01,L,KPU,KPPS,73.13.01.2001,4,2024-01-25,2024-02-25,1100000,JKK;JKM,$AGR,,
ENROLL,$(nik 304),Mutmainnah,1990-01-01,L,KPU,KPPS,73.13.01.2002,1,2024-01-25,2024-02-25,1100000,JKK;JKM,$AGR,,
ENROLL,$(nik 305),Nurhayati,1990-01-01,L,KPU,KPPS,73.13.02.1001,5,2024-01-25,2024-02-25,1100000,JKK;JKM,$AGR,,
ENROLL,$(nik 306),Oddang Saleh,1990-01-01,L,KPU,KPPS,73.13.02.1001,5,2024-01-25,2024-02-25,1100000,JKK;JKM,$AGR,,
ENROLL,$(nik 307),Puang Rewa,1990-01-01,L,KPU,LINMAS,73.13.01.2001,3,2024-01-25,2024-02-25,1000000,JKK;JKM,$AGR,,
ENROLL,$(nik 308),Rahmat Hidayat,1990-01-01,L,KPU,LINMAS,73.13.02.1001,5,2024-01-25,2024-02-25,1000000,JKK;JKM,$AGR,,
TERMINATE,$(nik 306),,,,,,,,,,,,,,2024-01-20
CSV
for h in 1 2 3; do
    "$BIN/roster-producer" --source dc-sulsel --progress never "handover$h.csv" 2>"producer$h.log" ||
        fail "roster-producer handover $h: $(cat "producer$h.log")"
    timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>"consumer$h.log" ||
        fail "roster-consumer handover $h: $(tail -n 5 "consumer$h.log")"
    grep -q 'msg="stopped".* rejected=0 ' "consumer$h.log" ||
        fail "handover $h: events refused: $(grep 'msg="stopped"' "consumer$h.log")"
done
assert_eq "coverages (one cancelled)" "ACTIVE|34
CANCELLED|2" "$(q "SELECT status, count(*) FROM coverages WHERE agreement_id = '$AGR' GROUP BY 1 ORDER BY 1")"

"$BIN/covadm" stages add $AGR 1 --from 2023-01-01 --to 2023-01-31 --name "PPK dan PPS" >stages.out
"$BIN/covadm" stages add $AGR 2 --from 2023-02-01 --to 2023-12-31 --name "Pantarlih" >>stages.out
"$BIN/covadm" stages add $AGR 3 --from 2024-01-01 --to 2024-12-31 --name "KPPS dan Linmas" >>stages.out
assert_match "stage 3 reported" "stage 3 of $AGR: terms starting 2024-01-01..2024-12-31, 7 enrolments" \
    "$(cat stages.out)"
rc=0
"$BIN/covadm" stages add $AGR 4 --from 2023-12-15 --to 2024-01-10 >/dev/null 2>overlap.err || rc=$?
assert_eq "an overlapping stage is refused" "1" "$rc"
assert_match "overlap: why" "stages_no_overlap" "$(cat overlap.err)"

for s in 1 2 3; do
    "$BIN/covadm" certificates $AGR $s --out "certs/stage-$s" --issued-on 2024-02-01 >"certs$s.out" ||
        fail "covadm certificates $s: $(cat "certs$s.out")"
done
assert_match "stage 1 set" "5 certificates, summary.pdf \(2 kecamatan x 2 roles\)" "$(cat certs1.out)"
assert_match "stage 2 set" "4 certificates, summary.pdf \(2 kecamatan x 1 roles\)" "$(cat certs2.out)"
assert_match "stage 3 set" "7 certificates, summary.pdf \(2 kecamatan x 2 roles\)" "$(cat certs3.out)"
assert_eq "PDF files per set" "6 5 8" \
    "$(for s in 1 2 3; do ls certs/stage-$s/*.pdf | wc -l; done | paste -sd' ')"
assert_eq "index rows per set" "5 4 7" \
    "$(for s in 1 2 3; do tail -n +2 certs/stage-$s/index.tsv | wc -l; done | paste -sd' ')"
assert_eq "the cancelled KPPS has no certificate" "0" \
    "$(grep -c '7313\*\*\*\*\*\*\*\*9306' certs/stage-3/index.tsv || true)"
for f in certs/stage-*/*.pdf; do
    [[ $(head -c 5 "$f") == "%PDF-" ]] || fail "$f is not a PDF"
    [[ $(pdfinfo "$f" | awk '/^Pages:/ {print $2}') == 1 ]] || fail "$f does not have one page"
done
echo "ok: every file is a one-page PDF"

# What a person reads on the certificate of the first KPPS (stage 3, ordered by region, role and name: the first).
pdftotext -layout certs/stage-3/cert-00001.pdf cert.txt
for want in "SERTIFIKAT KEPESERTAAN" "Jusman Latif" "7313\*\*\*\*\*\*\*\*9301" "KPPS \(KPU\)" \
    "TPS 3, Desa Doka, Kecamatan Sabbangparu" "73\.13\.01\.2001" "JKK, JKM, JHT" \
    "25 Januari 2024 s\.d\. 25 Februari 2024" "$AGR" "Tahap 3 - KPPS dan Linmas" "belum terbit"; do
    grep -Eq "$want" cert.txt || fail "certificate text lacks '$want': $(cat cert.txt)"
done
echo "ok: the certificate says who, what, where and when"
if grep -rq "$(nik 301)" cert.txt certs/stage-*/index.tsv; then fail "a full NIK is printed"; fi
echo "ok: no full NIK in the certificate text or the index"
pdftotext -layout certs/stage-1/cert-00001.pdf cert1.txt
grep -q "12345678901" cert1.txt || fail "the KPJ of the first PPK is not printed: $(cat cert1.txt)"
pdftotext -layout certs/stage-3/summary.pdf summary.txt
grep -Eq "73\.13\.01 Sabbangparu +4 +1 +5" summary.txt || fail "summary row of Sabbangparu: $(cat summary.txt)"
grep -Eq "Jumlah +5 +2 +7" summary.txt || fail "summary totals: $(cat summary.txt)"
echo "ok: the stage 3 summary counts KPPS and Linmas by kecamatan"

# Pages as a person sees them: rendered, not blank, kept for the README.
pdftoppm -png -r 72 -singlefile certs/stage-3/cert-00001.pdf "$ARTIFACTS/certificate"
pdftoppm -png -r 72 -singlefile certs/stage-3/summary.pdf "$ARTIFACTS/certificate-summary"
python3 "$REPO/tests/integration/png_check.py" "$ARTIFACTS/certificate.png" --size 596x842 \
    --min-colours 8 --colour 007840 || fail "certificate page looks blank"
python3 "$REPO/tests/integration/png_check.py" "$ARTIFACTS/certificate-summary.png" --size 842x596 \
    --min-colours 8 --colour 007840 || fail "summary page looks blank"
echo "artifacts: $ARTIFACTS/certificate.png $ARTIFACTS/certificate-summary.png"
