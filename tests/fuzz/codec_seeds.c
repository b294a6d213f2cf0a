/* codec_seeds: write the seed corpus of fuzz_codec_decode (make fuzz-seeds): framed
 * messages of every record type in every schema version of the catalog, valid ones and
 * the ones another Kafka client sent that once decoded, passed the rules and made
 * PostgreSQL fail (invalid UTF-8, an event_id that is not a UUID, dates of 2^31-2 days,
 * timestamps of -2^62 us). Usage: codec_seeds DIR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "dates.h"

static codec *cd;
static const char *dir;
static int written;

static void save(const char *name, const void *data, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "codec_seeds: unable to write '%s'\n", path);
        exit(1);
    }
    written++;
}

static int64_t ts(const char *s)
{
    int64_t us = 0;

    if (dates_parse_timestamp(s, &us) != 0) {
        fprintf(stderr, "codec_seeds: bad timestamp '%s'\n", s);
        exit(1);
    }
    return us;
}

static int32_t day(const char *s)
{
    int32_t d = 0;

    if (dates_parse(s, &d) != 0) {
        fprintf(stderr, "codec_seeds: bad date '%s'\n", s);
        exit(1);
    }
    return d;
}

static void check(int rc, const char *what, const char *err)
{
    if (rc < 0) {
        fprintf(stderr, "codec_seeds: %s: %s\n", what, err);
        exit(1);
    }
}

static void roster(const char *name, const roster_change *rc)
{
    static const int ids[] = {1, 2};
    char file[128], err[512];
    const void *out;
    size_t len;

    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        check(codec_encode_roster(cd, rc, ids[i], &out, &len, err, sizeof err), name, err);
        snprintf(file, sizeof file, "roster-v%d-%s", ids[i], name);
        save(file, out, len);
    }
}

static roster_change enroll(void)
{
    roster_change rc;

    roster_change_init(&rc);
    strcpy(rc.event_id, "6f1c2a3e-8d4b-4c1a-9e2f-0a1b2c3d4e5f");
    strcpy(rc.source, "dc-sulsel");
    rc.event_time_us = ts("2024-01-20T08:00:00+08:00");
    rc.change = CHANGE_ENROLL;
    strcpy(rc.nik, "7313014508900001");
    strcpy(rc.full_name, "Siti Aminah");
    rc.birth_date = day("1990-08-05");
    rc.gender = 'P';
    rc.institution = INST_KPU;
    rc.role = ROLE_KPPS;
    strcpy(rc.region_code, "7313012001");
    rc.tps = 3;
    rc.term_start = day("2024-01-10");
    rc.term_end = day("2024-02-20");
    rc.monthly_wage = 1100000;
    rc.programs = PROG_JKK | PROG_JKM | PROG_JHT;
    strcpy(rc.agreement_id, "PKS-7313-2024-001");
    strcpy(rc.kpj, "12345678901");
    strcpy(rc.phone, "+6281234567890");
    rc.fields = RF_FULL_NAME | RF_BIRTH_DATE | RF_GENDER | RF_INSTITUTION | RF_ROLE | RF_REGION | RF_TPS |
                RF_TERM_START | RF_TERM_END | RF_WAGE | RF_PROGRAMS | RF_AGREEMENT | RF_KPJ | RF_PHONE;
    return rc;
}

static void rosters(void)
{
    roster_change rc = enroll(), up, term;

    roster("enroll", &rc);
    roster_change_init(&up);
    memcpy(up.event_id, "0b6d1f2e-1111-4abc-8def-123456789abc", 37);
    strcpy(up.source, "dc-sulsel");
    up.event_time_us = ts("2024-02-01T00:00:00Z");
    up.change = CHANGE_UPDATE;
    strcpy(up.nik, "7313014508900001");
    up.effective_date = day("2024-02-01");
    up.monthly_wage = 1200000;
    strcpy(up.full_name, "Siti Aminah Daeng");
    up.fields = RF_EFFECTIVE | RF_WAGE | RF_FULL_NAME;
    roster("update", &up);
    term = up;
    term.change = CHANGE_TERMINATE;
    term.fields = RF_EFFECTIVE;
    roster("terminate", &term);

    /* What another client sent: each decodes, and once passed the rules. */
    rc = enroll();
    strcpy(rc.full_name, "Siti \xff\xfe");
    roster("bad-utf8-full-name", &rc);
    rc = enroll();
    strcpy(rc.agreement_id, "PKS-\xc0\xaf");
    roster("bad-utf8-agreement", &rc);
    rc = enroll();
    strcpy(rc.source, "dc-\xe2\x82");
    roster("bad-utf8-source", &rc);
    rc = enroll();
    strcpy(rc.event_id, "not-a-uuid");
    roster("event-id-not-uuid", &rc);
    rc = enroll();
    rc.event_time_us = -(INT64_C(1) << 62);
    roster("event-time-minus-2-62", &rc);
    rc = enroll();
    rc.event_time_us = INT64_C(1) << 62;
    roster("event-time-plus-2-62", &rc);
    rc = enroll();
    rc.term_end = INT32_MAX - 1;
    roster("term-end-2-31-minus-2", &rc);
    rc = enroll();
    rc.birth_date = INT32_MIN + 2;
    roster("birth-date-minus-2-31-plus-2", &rc);
}

static incident report(void)
{
    incident inc;

    incident_init(&inc);
    strcpy(inc.event_id, "8e2b41c7-5d90-5a3e-b10f-6c27d48319a5");
    strcpy(inc.source, "dc-sulsel");
    inc.event_time_us = ts("2024-02-15T08:00:00+08:00");
    strcpy(inc.report_id, "KPU-7313-001");
    strcpy(inc.nik, "7313014101900001");
    inc.type = INCIDENT_ACCIDENT;
    inc.occurred_at_us = ts("2024-02-14T21:00:00+08:00");
    inc.reported_at_us = ts("2024-02-15T07:00:00+08:00");
    strcpy(inc.region_code, "7313012001");
    inc.circumstance = CIRCUMSTANCE_ON_DUTY;
    inc.cause = CAUSE_FALL;
    inc.severity = SEVERITY_SERIOUS;
    strcpy(inc.description, "Jatuh dari tangga TPS \xe2\x80\x94 kaki patah");
    inc.reporter_institution = REPORTER_HEALTH_FACILITY;
    strcpy(inc.reporter_name, "dr. Sari");
    strcpy(inc.reporter_phone, "+6281100011122");
    inc.fields = IF_REPORT_ID | IF_REPORTED_AT | IF_CAUSE | IF_SEVERITY | IF_DESCRIPTION | IF_REPORTER_NAME |
                 IF_REPORTER_PHONE;
    return inc;
}

static void incident_seed(const char *name, const incident *inc)
{
    char file[128], err[512];
    const void *out;
    size_t len;

    check(codec_encode_incident(cd, inc, 10, &out, &len, err, sizeof err), name, err);
    snprintf(file, sizeof file, "incident-v10-%s", name);
    save(file, out, len);
}

static void incidents(void)
{
    incident inc = report(), death;

    incident_seed("accident", &inc);
    incident_init(&death);
    strcpy(death.event_id, "3f2c1d4e-0000-5abc-8def-0000000000aa");
    strcpy(death.source, "dc-maluku");
    death.event_time_us = ts("2024-02-16T00:00:00Z");
    strcpy(death.nik, "8171010505850002");
    death.type = INCIDENT_DEATH;
    death.occurred_at_us = ts("2024-02-14T07:30:00+09:00");
    strcpy(death.region_code, "8171011001");
    death.circumstance = CIRCUMSTANCE_COMMUTING;
    death.reporter_institution = REPORTER_FAMILY;
    incident_seed("death", &death);

    inc = report();
    strcpy(inc.description, "Jatuh \xed\xa0\x80");
    incident_seed("bad-utf8-description", &inc);
    inc = report();
    strcpy(inc.reporter_name, "Andi \xff");
    incident_seed("bad-utf8-reporter-name", &inc);
    inc = report();
    strcpy(inc.report_id, "RS-\xc3");
    incident_seed("bad-utf8-report-id", &inc);
    inc = report();
    strcpy(inc.event_id, "8e2b41c75d905a3eb10f6c27d48319a5");
    incident_seed("event-id-not-uuid", &inc);
    inc = report();
    inc.occurred_at_us = -(INT64_C(1) << 62);
    incident_seed("occurred-at-minus-2-62", &inc);
    inc = report();
    inc.event_time_us = INT64_C(1) << 62;
    incident_seed("event-time-plus-2-62", &inc);
}

static void claims(void)
{
    claim_event ev;
    char err[512];
    const void *out;
    size_t len;

    claim_event_init(&ev);
    strcpy(ev.event_id, "3f2c1d4e-3333-5abc-8def-000000000003");
    strcpy(ev.source, "claims-relay");
    strcpy(ev.claim_id, "CLM-2024-000003");
    strcpy(ev.incident_id, "INC-3301-000003");
    strcpy(ev.nik, "3301010101990005");
    ev.program = CLAIM_PROGRAM_JKM;
    ev.benefit = BENEFIT_JKM;
    ev.from_status = CLAIM_APPROVED;
    ev.to_status = CLAIM_PAID;
    ev.kind = CLAIM_EV_PAID;
    ev.amount_idr = 42000000;
    strcpy(ev.benefit_table_version, "2024-01");
    strcpy(ev.reason, "paid to heir");
    strcpy(ev.actor, "payments");
    strcpy(ev.payment_reference, "TRX-0099-XYZ");
    ev.event_time_us = ts("2024-03-01T00:00:00Z");
    ev.fields = CF_FROM_STATUS | CF_AMOUNT | CF_TABLE_VERSION | CF_PAYMENT_REF;
    check(codec_encode_claim_event(cd, &ev, 20, &out, &len, err, sizeof err), "claim", err);
    save("claim-v20-paid", out, len);
    ev.fields = 0;
    ev.program = CLAIM_PROGRAM_JKK;
    ev.benefit = BENEFIT_JKK_DEATH;
    ev.to_status = CLAIM_PENDING_DETERMINATION;
    ev.kind = CLAIM_EV_OPENED;
    ev.payment_reference[0] = '\0';
    check(codec_encode_claim_event(cd, &ev, 20, &out, &len, err, sizeof err), "claim", err);
    save("claim-v20-opened", out, len);
}

static void coverages(void)
{
    coverage_change cc;
    char err[512];
    const void *out;
    size_t len;

    coverage_change_init(&cc);
    strcpy(cc.event_id, "9b1f0c2e-0001-5d3a-9c11-000000000001");
    strcpy(cc.source, "coverage-relay");
    strcpy(cc.nik, "7313014101900001");
    cc.programs = PROG_JKK | PROG_JKM;
    cc.status = COVERAGE_ACTIVE;
    cc.valid_from = day("2024-01-25");
    cc.valid_to = day("2024-02-25");
    strcpy(cc.region_code, "7313011001");
    cc.role = ROLE_KPPS;
    cc.institution = INST_KPU;
    cc.event_time_us = ts("2024-01-20T08:00:00Z");
    check(codec_encode_coverage_change(cd, &cc, 30, &out, &len, err, sizeof err), "coverage", err);
    save("coverage-v30-active", out, len);
    cc.programs = 0;
    cc.status = COVERAGE_TERMINATED;
    cc.valid_to = INT32_MAX - 1;
    check(codec_encode_coverage_change(cd, &cc, 30, &out, &len, err, sizeof err), "coverage", err);
    save("coverage-v30-valid-to-2-31-minus-2", out, len);
}

int main(int argc, char **argv)
{
    char err[512];

    if (argc != 2) {
        fprintf(stderr, "usage: codec_seeds DIR\n");
        return 2;
    }
    dir = argv[1];
    if (!(cd = codec_new(err, sizeof err))) {
        fprintf(stderr, "codec_seeds: %s\n", err);
        return 1;
    }
    rosters();
    incidents();
    claims();
    coverages();
    codec_destroy(cd);
    printf("codec_seeds: %d seeds in %s\n", written, dir);
    return 0;
}
