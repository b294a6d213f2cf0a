/* covadm: reference data and reports for the coverage database.
 *   covadm agreements load FILE.csv     cooperation agreements (PKS), validated, upserted
 *   covadm data-centers load FILE.csv   data centers and the provinces they may publish for
 *   covadm regions load FILE.csv        region names for reports
 *   covadm summary [--regency PP.KK]    coverage per kecamatan and role
 *   covadm dead-letters [--limit N]     rejected events with their reasons
 *   covadm offsets                      the consumers' stored positions */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "dates.h"
#include "log.h"
#include "program.h"
#include "pg.h"
#include "region.h"
#include "replay.h"
#include "roster.h"
#include "rowsrc.h"

static const config_option options[] = {
    {"regency", CONFIG_STR, NULL, NULL, "summary: only this regency (e.g. 73.13)"},
    {"limit", CONFIG_INT, "50", NULL, "dead-letters: how many to list"},
    {"topic", CONFIG_STR, NULL, NULL, "dead-letters replay: of this source topic"},
    {"partition", CONFIG_INT, "-1", NULL, "dead-letters replay: of this partition"},
    {"from-offset", CONFIG_INT, "-1", NULL, "dead-letters replay: offsets from this one"},
    {"to-offset", CONFIG_INT, "-1", NULL, "dead-letters replay: offsets up to this one"},
    {"class", CONFIG_STR, NULL, NULL,
     "dead-letters: of this error class (decode, validation, rule, db, auth)"},
    {"id", CONFIG_STR, NULL, NULL, "dead-letters replay: these dead_letter_ids (1,2,3)"},
    {"max", CONFIG_INT, "100000", NULL, "dead-letters replay: at most this many"},
    {"again", CONFIG_BOOL, "false", NULL, "dead-letters replay: also those replayed before"},
    {NULL, 0, NULL, NULL, NULL},
};

typedef struct column_rule {
    const char *name;
    int required;
} column_rule;

static const column_rule agreement_columns[] = {
    {"agreement_id", 1}, {"name", 1}, {"institution", 1}, {"counterparty", 1},
    {"bpjs_branch", 1}, {"region_scope", 1}, {"programs", 1}, {"period_start", 1},
    {"period_end", 1}, {"funding_source", 1}, {NULL, 0}};
static const column_rule region_columns[] = {
    {"region_code", 1}, {"name", 1}, {"level", 0}, {"tps", 0}, {NULL, 0}};
static const column_rule data_center_columns[] = {
    {"source", 1}, {"name", 1}, {"provinces", 1}, {NULL, 0}};

/* Every header name must be known and every required column present. */
static int check_header(rowsrc *rs, const char *file, const column_rule *cols)
{
    const char **names;
    int n = rowsrc_header(rs, &names), bad = 0;

    for (int i = 0; i < n; i++) {
        int known = 0;
        for (const column_rule *c = cols; c->name; c++)
            known |= strcmp(c->name, names[i]) == 0;
        if (!known) {
            fprintf(stderr, "%s:1:%d: unknown column '%s'\n", file, i + 1, names[i]);
            bad = 1;
        }
    }
    for (const column_rule *c = cols; c->name; c++) {
        int found = 0;
        for (int i = 0; i < n; i++)
            found |= strcmp(c->name, names[i]) == 0;
        if (c->required && !found) {
            fprintf(stderr, "%s:1:0: missing column '%s'\n", file, c->name);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

static int missing(const rowsrc_row *row, const char *file, const column_rule *cols)
{
    int bad = 0;
    for (const column_rule *c = cols; c->name; c++)
        if (c->required && !rowsrc_get(row, c->name)) {
            fprintf(stderr, "%s:%ld:%d: %s is required\n", file, row->line,
                    rowsrc_column(row, c->name), c->name);
            bad = 1;
        }
    return bad;
}

/* Checks one agreement row; fills the normalised region scope and the programs array. */
static int check_agreement(const rowsrc_row *row, const char *file, char *scope, char *programs)
{
    const char *inst = rowsrc_get(row, "institution"), *fund = rowsrc_get(row, "funding_source");
    int32_t start, end;
    int level, bits, bad = 0;
    char errstr[256], list[24];

#define ROW_ERR(col, ...)                                                                          \
    do {                                                                                           \
        fprintf(stderr, "%s:%ld:%d: ", file, row->line, rowsrc_column(row, col));                 \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        bad = 1;                                                                                   \
    } while (0)

    if (strcmp(inst, "KPU") && strcmp(inst, "BAWASLU") && strcmp(inst, "PEMDA"))
        ROW_ERR("institution", "institution must be KPU, BAWASLU or PEMDA, not '%s'", inst);
    if (strcmp(fund, "APBD") && strcmp(fund, "APBN_KPU") && strcmp(fund, "APBN_BAWASLU") &&
        strcmp(fund, "SELF"))
        ROW_ERR("funding_source", "funding_source must be APBD, APBN_KPU, APBN_BAWASLU or SELF");
    if (region_normalize(rowsrc_get(row, "region_scope"), scope, 11, &level, errstr,
                         sizeof errstr) < 0)
        ROW_ERR("region_scope", "%s", errstr);
    if ((bits = roster_programs_parse(rowsrc_get(row, "programs"))) < 0)
        ROW_ERR("programs", "programs must be a ';'-separated subset of JKK, JKM, JHT");
    else {
        roster_programs_format((unsigned)bits, list, sizeof list);
        for (char *p = list; *p; p++)
            if (*p == ';')
                *p = ',';
        snprintf(programs, 32, "{%s}", list);
    }
    if (dates_parse(rowsrc_get(row, "period_start"), &start) < 0)
        ROW_ERR("period_start", "period_start must be a date YYYY-MM-DD");
    else if (dates_parse(rowsrc_get(row, "period_end"), &end) < 0)
        ROW_ERR("period_end", "period_end must be a date YYYY-MM-DD");
    else if (start > end)
        ROW_ERR("period_end", "period_end is before period_start");
#undef ROW_ERR
    return bad ? -1 : 0;
}

static int load_file(PGconn *pg, const char *kind, const char *file)
{
    int is_agreement = strcmp(kind, "agreements") == 0, is_region = strcmp(kind, "regions") == 0;
    const column_rule *cols = is_agreement ? agreement_columns
                            : is_region    ? region_columns
                                           : data_center_columns;
    FILE *in = fopen(file, "r");
    rowsrc *rs = NULL;
    const rowsrc_row *row;
    char errstr[1024];
    int r, bad = 0, rows = 0, rc = 1;

    if (!in) {
        fprintf(stderr, "covadm: unable to open '%s': %s\n", file, strerror(errno));
        return 1;
    }
    if (!(rs = rowsrc_new(in, file, ROWSRC_CSV, errstr, sizeof errstr))) {
        fprintf(stderr, "%s\n", errstr);
        goto out;
    }
    if (check_header(rs, file, cols) < 0 || pg_exec(pg, "BEGIN", errstr, sizeof errstr) < 0)
        goto out;
    if (!is_agreement && !is_region && pg_exec(pg, "CREATE TEMP TABLE seen_dc (source text) ON COMMIT DROP",
                                 errstr, sizeof errstr) < 0)
        goto sqlfail;
    while ((r = rowsrc_next(rs, &row, errstr, sizeof errstr)) != 0) {
        PGresult *res;
        if (r < 0) {
            fprintf(stderr, "%s\n", errstr);
            bad = 1;
            continue;
        }
        rows++;
        if (missing(row, file, cols)) {
            bad = 1;
            continue;
        }
        if (is_agreement) {
            char scope[11], programs[32];
            if (check_agreement(row, file, scope, programs) < 0) {
                bad = 1;
                continue;
            }
            const char *p[10] = {rowsrc_get(row, "agreement_id"), rowsrc_get(row, "name"),
                                 rowsrc_get(row, "institution"), rowsrc_get(row, "counterparty"),
                                 rowsrc_get(row, "bpjs_branch"), scope, programs,
                                 rowsrc_get(row, "period_start"), rowsrc_get(row, "period_end"),
                                 rowsrc_get(row, "funding_source")};
            res = pg_query(pg,
                           "INSERT INTO agreements (agreement_id, name, institution, counterparty,"
                           " bpjs_branch, region_scope, programs, period_start, period_end,"
                           " funding_source) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
                           " ON CONFLICT (agreement_id) DO UPDATE SET name = EXCLUDED.name,"
                           " institution = EXCLUDED.institution,"
                           " counterparty = EXCLUDED.counterparty,"
                           " bpjs_branch = EXCLUDED.bpjs_branch,"
                           " region_scope = EXCLUDED.region_scope, programs = EXCLUDED.programs,"
                           " period_start = EXCLUDED.period_start,"
                           " period_end = EXCLUDED.period_end,"
                           " funding_source = EXCLUDED.funding_source, loaded_at = now()",
                           10, p, errstr, sizeof errstr);
        } else if (is_region) {
            char code[11];
            int level;
            if (region_normalize(rowsrc_get(row, "region_code"), code, sizeof code, &level, errstr,
                                 sizeof errstr) < 0) {
                fprintf(stderr, "%s:%ld:%d: %s\n", file, row->line,
                        rowsrc_column(row, "region_code"), errstr);
                bad = 1;
                continue;
            }
            const char *p[2] = {code, rowsrc_get(row, "name")};
            res = pg_query(pg,
                           "INSERT INTO regions (region_code, name) VALUES ($1, $2)"
                           " ON CONFLICT (region_code) DO UPDATE SET name = EXCLUDED.name",
                           2, p, errstr, sizeof errstr);
        } else {
            const char *provinces = rowsrc_get(row, "provinces");
            char list[256];
            size_t used = 0;
            int ok = 1;
            for (const char *s = provinces; *s && ok;) {
                size_t len = strcspn(s, ";");
                int prov = len == 2 ? atoi(s) : 0;
                if (!region_province_valid(prov)) {
                    fprintf(stderr, "%s:%ld:%d: provinces: '%.*s' is not a province code\n", file,
                            row->line, rowsrc_column(row, "provinces"), (int)len, s);
                    ok = 0;
                }
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%d", used ? "," : "",
                                         prov);
                s += len + (s[len] == ';');
            }
            if (!ok) {
                bad = 1;
                continue;
            }
            char arr[260];
            snprintf(arr, sizeof arr, "{%s}", list);
            const char *p[3] = {rowsrc_get(row, "source"), rowsrc_get(row, "name"), arr};
            res = pg_query(pg,
                           "WITH dc AS (INSERT INTO data_centers (source, name) VALUES ($1, $2)"
                           "  ON CONFLICT (source) DO UPDATE SET name = EXCLUDED.name"
                           "  RETURNING source),"
                           " del AS (DELETE FROM data_center_provinces d USING dc"
                           "  WHERE d.source = dc.source AND NOT d.province = ANY ($3::smallint[])),"
                           " seen AS (INSERT INTO seen_dc SELECT source FROM dc)"
                           " INSERT INTO data_center_provinces (source, province)"
                           " SELECT dc.source, p FROM dc, unnest($3::smallint[]) AS p"
                           " ON CONFLICT DO NOTHING",
                           3, p, errstr, sizeof errstr);
        }
        if (!res) {
            /* The transaction is aborted: later rows would only repeat the error. */
            fprintf(stderr, "%s:%ld: %s\n", file, row->line, errstr);
            bad = 1;
            break;
        }
        PQclear(res);
    }
    if (bad) {
        pg_exec(pg, "ROLLBACK", errstr, sizeof errstr);
        fprintf(stderr, "covadm: %s: nothing loaded, fix the rows above\n", file);
        goto out;
    }
    if (pg_exec(pg, "COMMIT", errstr, sizeof errstr) < 0)
        goto sqlfail;
    printf("%s: %d %s loaded\n", file, rows, kind);
    rc = 0;
    goto out;
sqlfail:
    fprintf(stderr, "covadm: %s\n", errstr);
out:
    rowsrc_destroy(rs);
    fclose(in);
    return rc;
}

static int report(PGconn *pg, const char *sql, int nparams, const char *const *params)
{
    char errstr[1024];
    PGresult *res = pg_query(pg, sql, nparams, params, errstr, sizeof errstr);
    if (!res) {
        fprintf(stderr, "covadm: %s\n", errstr);
        return 1;
    }
    cli_print_table(res, 1);
    PQclear(res);
    return 0;
}

static int cmd_load(PGconn *pg, const config *cfg, char **args)
{
    (void)cfg;
    return load_file(pg, args[0], args[2]);
}

static int cmd_summary(PGconn *pg, const config *cfg, char **args)
{
    char scope[11] = "", errstr[1024];
    int level;
    const char *p[1] = {scope};

    (void)args;
    if (config_get(cfg, "regency") &&
        region_normalize(config_get(cfg, "regency"), scope, sizeof scope, &level, errstr,
                         sizeof errstr) < 0) {
        fprintf(stderr, "covadm: --regency: %s\n", errstr);
        return 2;
    }
    return report(pg,
                  "SELECT substr(c.region_code, 1, 2) || '.' || substr(c.region_code, 3, 2) || '.'"
                  "  || substr(c.region_code, 5, 2) AS kecamatan,"
                  " coalesce(r.name, '') AS name, c.role,"
                  " count(DISTINCT c.nik) AS workers,"
                  " count(DISTINCT c.nik) FILTER (WHERE c.program = 'JKK' AND c.status <> 'CANCELLED') AS jkk,"
                  " count(DISTINCT c.nik) FILTER (WHERE c.program = 'JKM' AND c.status <> 'CANCELLED') AS jkm,"
                  " count(DISTINCT c.nik) FILTER (WHERE c.program = 'JHT' AND c.status <> 'CANCELLED') AS jht,"
                  " count(DISTINCT c.nik) FILTER (WHERE c.status = 'TERMINATED') AS terminated,"
                  " min(c.valid_from) AS first_day, max(c.valid_to) AS last_day"
                  " FROM coverages c LEFT JOIN regions r ON r.region_code = left(c.region_code, 6)"
                  " WHERE starts_with(c.region_code, $1)"
                  " GROUP BY 1, 2, 3 ORDER BY 1, 3",
                  1, p);
}

static int cmd_dead_letters(PGconn *pg, const config *cfg, char **args)
{
    const char *cls = config_get(cfg, "class");
    const char *p[2] = {config_get(cfg, "limit"), cls ? cls : ""};

    (void)args;
    return report(pg,
                  "SELECT dead_letter_id AS id, topic, partition, kafka_offset AS offset,"
                  " nik_masked AS nik, error_class,"
                  " coalesce(sqlstate, '') AS sqlstate, error_message,"
                  " CASE WHEN replayed_at IS NULL THEN '' ELSE"
                  "  to_char(replayed_at, 'YYYY-MM-DD HH24:MI') END AS replayed"
                  " FROM dead_letters WHERE ($2 = '' OR error_class = $2)"
                  " ORDER BY recorded_at, topic, partition, kafka_offset LIMIT $1",
                  2, p);
}

static int cmd_replay(PGconn *pg, const config *cfg, char **args)
{
    replay_filter f = {config_get(cfg, "topic"), (int)config_int(cfg, "partition"),
                       config_int(cfg, "from-offset"), config_int(cfg, "to-offset"),
                       config_get(cfg, "class"), config_get(cfg, "id"),
                       (long)config_int(cfg, "max"), config_bool(cfg, "again")};
    replay_counts counts;
    char errstr[1024];
    int rc;

    (void)args;
    rc = replay_dead_letters(cfg, pg, &f, &counts, errstr, sizeof errstr);
    printf("dead letters: %ld selected, %ld replayed, %ld without their bytes (not replayable)\n",
           counts.selected, counts.replayed, counts.no_bytes);
    if (rc < 0) {
        fprintf(stderr, "covadm: %s\n", errstr);
        return strstr(errstr, "choose the dead letters") ? 2 : 1;
    }
    return 0;
}

static int cmd_offsets(PGconn *pg, const config *cfg, char **args)
{
    (void)cfg;
    (void)args;
    return report(pg,
                  "SELECT group_id, topic, partition, next_offset, updated_at"
                  " FROM consumer_offsets ORDER BY 1, 2, 3",
                  0, NULL);
}

/* The commands: their leading words, their argument count (words included) and what runs
 * them. Exit status of a command: 0 done, 1 failed, 2 usage. */
static const struct command {
    const char *word1, *word2; /* word2 NULL: a one-word command */
    int nargs;
    int (*run)(PGconn *pg, const config *cfg, char **args);
} commands[] = {
    {"agreements", "load", 3, cmd_load},
    {"data-centers", "load", 3, cmd_load},
    {"regions", "load", 3, cmd_load},
    {"summary", NULL, 1, cmd_summary},
    {"dead-letters", NULL, 1, cmd_dead_letters},
    {"dead-letters", "replay", 2, cmd_replay},
    {"offsets", NULL, 1, cmd_offsets},
};

static const program_def program = {
    "covadm",
    "usage: covadm [options] COMMAND\n"
    "  agreements load FILE.csv     load or update cooperation agreements (all or nothing)\n"
    "  data-centers load FILE.csv   load data centers and their provinces\n"
    "  regions load FILE.csv        load region names (region_code,name)\n"
    "  summary                      coverage per kecamatan and role\n"
    "  dead-letters [--class C]     rejected events with the rule they broke\n"
    "  dead-letters replay [--topic T] [--partition P] [--from-offset A] [--to-offset B]\n"
    "               [--class C] [--id 1,2] [--again]\n"
    "                               publish chosen dead letters again to their topic, after\n"
    "                               a fix; the consumer decides each once more, never twice\n"
    "  offsets                      consumers' positions stored in PostgreSQL\n\n"
    "options:\n",
    PROGRAM_OPT_PG | PROGRAM_OPT_KAFKA,
    options,
    1,
    -1,
    NULL,
};

static const struct command *find_command(char **args, int nargs)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const struct command *c = &commands[i];
        if (strcmp(args[0], c->word1) == 0 && nargs == c->nargs &&
            (!c->word2 || strcmp(args[1], c->word2) == 0))
            return c;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    PGconn *pg = NULL;
    int nargs, rc;
    config *cfg = program_start(&program, argc, argv, &nargs, &rc);
    const struct command *cmd;

    if (!cfg)
        return rc;
    rc = 2;
    if (!(cmd = find_command(argv + 1, nargs))) {
        program_usage(&program, stderr);
        goto out;
    }
    rc = 1;
    if ((pg = program_connect_pg(&program, cfg)))
        rc = cmd->run(pg, cfg, argv + 1);
out:
    if (pg)
        PQfinish(pg);
    config_destroy(cfg);
    return rc;
}
