/* roster-producer: validates roster CSV / JSON Lines exports and publishes them to
 * roster.changes as Avro RosterChange events keyed by NIK. */
#include <stddef.h>

#include "codec.h"
#include "dates.h"
#include "ingest.h"
#include "roster.h"
#include "roster_row.h"
#include "schemareg.h"
#include "validate.h"

static schemareg_subjects writes = {CODEC_ROSTER_SUBJECT, NULL};

static const config_option options[] = {
    {"topic", CONFIG_STR, "roster.changes", NULL, "topic to publish to"},
    INGEST_OPTION_ROWS,
    {NULL, 0, NULL, NULL, NULL},
};

static int parse(const rowsrc_row *row, const char *file, int ignore_unknown, void *rec, char *errstr,
                 size_t errstr_size)
{
    return roster_row_parse(row, file, ignore_unknown, rec, errstr, errstr_size);
}

static int check(const void *rec, int64_t now_us, validate_report *out)
{
    return validate_roster_row(rec, dates_local_day(now_us, 0), out);
}

static int encode(codec *cd, void *rec, const void **value, size_t *len, char *errstr, size_t errstr_size)
{
    roster_event_id(rec);
    return codec_encode_roster(cd, rec, 0, value, len, errstr, errstr_size);
}

static const ingest_ops ops = {
    {"roster-producer",
     "usage: roster-producer --source DC [options] [FILE...]\n"
     "Validates roster rows (CSV or JSON Lines, '-' or nothing for stdin) and publishes\n"
     "them to Kafka. Invalid rows are reported as file:line:column: rule and not sent.\n"
     "Exit status: 0 all rows sent, 1 some row rejected or not delivered, 2 usage.\n"
     "\noptions:\n",
     INGEST_OPTIONS, options, 0, -1, writes},
    INGEST_RECORD(roster_change),
    roster_row_check_header,
    parse,
    check,
    encode,
    NULL,
};

int main(int argc, char **argv)
{
    int code;
    ingest *in = ingest_new(&ops, argc, argv, &code);

    if (!in)
        return code;
    ingest_files(in);
    return ingest_finish(in);
}
