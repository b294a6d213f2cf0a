/* coverage_change: names of the CoverageChange status enum and the record's blank state. */
#include "coverage_change.h"

#include <string.h>

#include "names.h"

static const char *const status_names[COVERAGE_STATUS__COUNT] = {"ACTIVE", "TERMINATED", "EXPIRED"};

void coverage_change_init(coverage_change *cc)
{
    memset(cc, 0, sizeof *cc);
    cc->status = COVERAGE_STATUS_NONE;
    cc->valid_from = cc->valid_to = DATE_NONE;
    cc->role = ROLE_NONE;
    cc->institution = INST_NONE;
}

const char *coverage_status_name(coverage_status v)
{
    return names_get(status_names, COVERAGE_STATUS__COUNT, v);
}

int coverage_status_parse(const char *s) { return names_find(status_names, COVERAGE_STATUS__COUNT, s); }
