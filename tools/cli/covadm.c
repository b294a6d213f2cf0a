/* covadm: reference data and reports for the coverage database.
 *   covadm agreements load FILE.csv     cooperation agreements (PKS), validated, upserted
 *   covadm data-centers load FILE.csv   data centers and the provinces they may publish for
 *   covadm regions load FILE.csv        region names for reports
 *   covadm summary [--regency PP.KK]    coverage per kecamatan and role
 *   covadm dead-letters [--limit N]     rejected events with their reasons
 *   covadm offsets                      the consumers' stored positions
 *   covadm agreements status [ID]       committed premiums against each budget
 *   covadm premiums sync                premium rates and billing rules from their files
 *   covadm invoices compute|issue|show|pay ID YYYY-MM, list, lapse
 *   covadm stages add ID N, stages list certificate stages of an agreement
 *   covadm certificates ID N            one PDF per enrolment of a stage and a summary */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "billing_db.h"
#include "certificate.h"
#include "certificate_stage.h"
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

#define RATES_FILE "deploy/premiums/premium_rates.tsv"
#define RULES_FILE "deploy/premiums/billing_rules.tsv"

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
    {"premium-rates", CONFIG_STR, "", NULL,
     "premium rates TSV (default: " RATES_FILE " of the working directory, else of the "
     "repository holding this program)"},
    {"billing-rules", CONFIG_STR, "", NULL, "billing rules TSV (default: " RULES_FILE ", found alike)"},
    {"actor", CONFIG_STR, "covadm", NULL, "invoices issue, pay, lapse: who does it"},
    {"reference", CONFIG_STR, NULL, NULL, "invoices pay: the payment's reference (required)"},
    {"amount", CONFIG_INT, "0", NULL, "invoices pay: rupiah paid (0: what is still owed)"},
    {"paid-on", CONFIG_STR, NULL, NULL, "invoices pay: the payment's date (default: today)"},
    {"as-of", CONFIG_STR, NULL, NULL, "invoices lapse: judge unpaid months as of this date (default: today)"},
    {"agreement", CONFIG_STR, NULL, NULL, "invoices list, invoices lapse, stages list: only this agreement"},
    {"from", CONFIG_STR, NULL, NULL, "stages add: the first term start of the stage (YYYY-MM-DD)"},
    {"to", CONFIG_STR, NULL, NULL, "stages add: the last term start of the stage (YYYY-MM-DD)"},
    {"name", CONFIG_STR, NULL, NULL, "stages add: the stage's name (default: Tahap N)"},
    {"out", CONFIG_STR, NULL, NULL, "certificates: folder (default: certificates/ID/stage-N)"},
    {"issued-on", CONFIG_STR, NULL, NULL, "certificates: the date printed (default: today)"},
    {NULL, 0, NULL, NULL, NULL},
};

typedef struct column_rule {
    const char *name;
    int required;
} column_rule;

static const column_rule agreement_columns[] = {
    {"agreement_id", 1}, {"name", 1}, {"institution", 1}, {"counterparty", 1},
    {"bpjs_branch", 1}, {"region_scope", 1}, {"programs", 1}, {"period_start", 1},
    {"period_end", 1}, {"funding_source", 1}, {"budget_idr", 0}, {"budget_policy", 0},
    {"premium_scheme", 0}, {"jkk_risk_class", 0}, {NULL, 0}};
/* The optional agreement columns, in the order of their INSERT parameters ($11..$14); an
 * existing agreement keeps its value of a column the file does not have. */
static const char *const agreement_optional[] = {"budget_idr", "budget_policy", "premium_scheme",
                                                 "jkk_risk_class"};
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

    if (strlen(rowsrc_get(row, "agreement_id")) > 63)
        ROW_ERR("agreement_id", "agreement_id is at most 63 characters (the key of billing.invoices)");
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
    {
        const char *budget = rowsrc_get(row, "budget_idr"), *policy = rowsrc_get(row, "budget_policy");
        const char *scheme = rowsrc_get(row, "premium_scheme"), *risk = rowsrc_get(row, "jkk_risk_class");
        if (budget && (strlen(budget) > 15 || strspn(budget, "0123456789") != strlen(budget)))
            ROW_ERR("budget_idr", "budget_idr must be whole rupiah, digits only");
        if (policy && strcmp(policy, "reject") && strcmp(policy, "warn"))
            ROW_ERR("budget_policy", "budget_policy must be reject or warn");
        if (scheme && strcmp(scheme, "BPU") && strcmp(scheme, "PU"))
            ROW_ERR("premium_scheme", "premium_scheme must be BPU or PU");
        if (risk && (strlen(risk) != 1 || risk[0] < '1' || risk[0] > '5'))
            ROW_ERR("jkk_risk_class", "jkk_risk_class must be 1-5");
        if (scheme && strcmp(scheme, "PU") == 0 && !risk)
            ROW_ERR("jkk_risk_class", "a PU agreement needs its jkk_risk_class");
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
            const char *p[18] = {rowsrc_get(row, "agreement_id"), rowsrc_get(row, "name"),
                                 rowsrc_get(row, "institution"), rowsrc_get(row, "counterparty"),
                                 rowsrc_get(row, "bpjs_branch"), scope, programs,
                                 rowsrc_get(row, "period_start"), rowsrc_get(row, "period_end"),
                                 rowsrc_get(row, "funding_source")};
            for (int k = 0; k < 4; k++) {
                p[10 + k] = rowsrc_get(row, agreement_optional[k]);
                p[14 + k] = rowsrc_column(row, agreement_optional[k]) > 0 ? "t" : "f";
            }
            res = pg_query(pg,
                           "INSERT INTO agreements AS a (agreement_id, name, institution, counterparty,"
                           " bpjs_branch, region_scope, programs, period_start, period_end,"
                           " funding_source, budget_idr, budget_policy, premium_scheme,"
                           " jkk_risk_class) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11::bigint,"
                           " coalesce($12, 'warn'), coalesce($13, 'BPU'), $14::smallint)"
                           " ON CONFLICT (agreement_id) DO UPDATE SET name = EXCLUDED.name,"
                           " institution = EXCLUDED.institution,"
                           " counterparty = EXCLUDED.counterparty,"
                           " bpjs_branch = EXCLUDED.bpjs_branch,"
                           " region_scope = EXCLUDED.region_scope, programs = EXCLUDED.programs,"
                           " period_start = EXCLUDED.period_start,"
                           " period_end = EXCLUDED.period_end,"
                           " funding_source = EXCLUDED.funding_source,"
                           " budget_idr = CASE WHEN $15 THEN EXCLUDED.budget_idr ELSE a.budget_idr END,"
                           " budget_policy = CASE WHEN $16 THEN EXCLUDED.budget_policy"
                           "  ELSE a.budget_policy END,"
                           " premium_scheme = CASE WHEN $17 THEN EXCLUDED.premium_scheme"
                           "  ELSE a.premium_scheme END,"
                           " jkk_risk_class = CASE WHEN $18 THEN EXCLUDED.jkk_risk_class"
                           "  ELSE a.jkk_risk_class END, loaded_at = now()",
                           18, p, errstr, sizeof errstr);
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


/* ---- premiums, invoices, budgets, stages ---- */

/* A premium file: the option, else file below the working directory, else below the
 * repository of this executable (<repo>/<build>/bin/covadm). */
static const char *premium_path(const config *cfg, const char *key, const char *file, char *buf,
                                size_t size)
{
    const char *opt = config_get(cfg, key);
    char exe[PATH_MAX];
    ssize_t len;

    if (opt && *opt)
        return opt;
    if (access(file, R_OK) == 0)
        return file;
    len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return file;
    exe[len] = '\0';
    snprintf(buf, size, "%s/../../%s", dirname(exe), file);
    return buf;
}

/* premium_rates and billing_rules as the files say, before anything is priced. */
static int sync_premiums(PGconn *pg, const config *cfg, int verbose)
{
    char rates_buf[PATH_MAX + 32], rules_buf[PATH_MAX + 32], errstr[1024];
    const char *rates = premium_path(cfg, "premium-rates", RATES_FILE, rates_buf, sizeof rates_buf);
    const char *rules = premium_path(cfg, "billing-rules", RULES_FILE, rules_buf, sizeof rules_buf);
    premiums_db_counts c;

    if (billing_db_sync_files(pg, rates, rules, &c, errstr, sizeof errstr) < 0) {
        fprintf(stderr, "covadm: %s\n", errstr);
        return -1;
    }
    if (verbose || c.rates_changed || c.rates_removed || c.rules_changed || c.rules_removed)
        fprintf(verbose ? stdout : stderr,
                "premiums: %s: %ld rows written, %ld removed; %s: %ld written, %ld removed\n",
                rates, c.rates_changed, c.rates_removed, rules, c.rules_changed, c.rules_removed);
    return 0;
}

static int cmd_premiums_sync(PGconn *pg, const config *cfg, char **args)
{
    (void)args;
    return sync_premiums(pg, cfg, 1) < 0 ? 1 : 0;
}

static int month_arg(const char *s, char *out, size_t size)
{
    if (billing_db_month_parse(s, out, size) < 0) {
        fprintf(stderr, "covadm: '%s' is not a month (YYYY-MM)\n", s);
        return -1;
    }
    return 0;
}

static int date_opt(const config *cfg, const char *key, char *out, size_t size)
{
    const char *v = config_get(cfg, key);
    int32_t day;

    if (!v) {
        dates_format(dates_today_utc(), out, size);
        return 0;
    }
    if (dates_parse(v, &day) < 0) {
        fprintf(stderr, "covadm: --%s '%s' is not a date (YYYY-MM-DD)\n", key, v);
        return -1;
    }
    dates_format(day, out, size);
    return 0;
}

/* The invoice's header as a few lines, then its lines as a table. */
static int print_invoice(PGconn *pg, const char *agreement, const char *month)
{
    char errstr[1024];
    PGresult *h = billing_db_invoice(pg, agreement, month, errstr, sizeof errstr), *lines;

    if (!h) {
        fprintf(stderr, "covadm: %s\n", errstr);
        return 1;
    }
    if (PQntuples(h) != 1) {
        fprintf(stderr, "covadm: agreement %s has no invoice for %.7s (covadm invoices compute)\n",
                agreement, month);
        PQclear(h);
        return 1;
    }
#define H(col) PQgetvalue(h, 0, PQfnumber(h, col))
    printf("invoice %s  %s  %s  %s", H("invoice_id"), H("agreement_id"), H("month"), H("status"));
    if (*H("issued_at"))
        printf(" %s by %s", H("issued_at"), H("issued_by"));
    printf("\nscheme %s, rates %s; computed %s\n", H("premium_scheme"),
           *H("rates_versions") ? H("rates_versions") : "-", H("computed_at"));
    printf("workers covered in %s: %s (worker-months %s)\n", H("month"), H("workers"),
           H("worker_months"));
    printf("  this month        Rp %14s\n", H("current_idr"));
    printf("  adjustments       Rp %14s  (%s worker-months of earlier months, net)\n",
           H("adjustment_idr"), H("adjustment_worker_months"));
    printf("  total             Rp %14s\n", H("total_idr"));
    if (strcmp(H("status"), "ISSUED") == 0)
        printf("  paid              Rp %14s  outstanding Rp %s\n", H("paid_idr"),
               H("outstanding_idr"));
    printf("\n");
    lines = billing_db_invoice_lines(pg, H("invoice_id"), errstr, sizeof errstr);
#undef H
    PQclear(h);
    if (!lines) {
        fprintf(stderr, "covadm: %s\n", errstr);
        return 1;
    }
    cli_print_table(lines, 1);
    PQclear(lines);
    return 0;
}

static int compute_or_issue(PGconn *pg, const config *cfg, char **args, int issue)
{
    char month[16], errstr[1024];
    billing_invoice_ref ref;
    int rc;

    if (month_arg(args[3], month, sizeof month) < 0)
        return 2;
    if (sync_premiums(pg, cfg, 0) < 0)
        return 1;
    rc = issue ? billing_db_issue(pg, args[2], month, config_get(cfg, "actor"), &ref, errstr,
                                  sizeof errstr)
               : billing_db_compute(pg, args[2], month, &ref, errstr, sizeof errstr);
    if (rc < 0) {
        fprintf(stderr, "covadm: %s\n", errstr);
        return 1;
    }
    if (issue && !ref.issued_now)
        fprintf(stderr, "covadm: invoice %s was issued before; an issued invoice never changes\n",
                ref.invoice_id);
    else if (!issue && strcmp(ref.status, "ISSUED") == 0)
        fprintf(stderr, "covadm: invoice %s is issued and never changes; later changes go on the"
                        " next month's invoice\n", ref.invoice_id);
    return print_invoice(pg, args[2], month);
}

static int cmd_invoices_compute(PGconn *pg, const config *cfg, char **args)
{
    return compute_or_issue(pg, cfg, args, 0);
}

static int cmd_invoices_issue(PGconn *pg, const config *cfg, char **args)
{
    return compute_or_issue(pg, cfg, args, 1);
}

static int cmd_invoices_show(PGconn *pg, const config *cfg, char **args)
{
    char month[16];

    (void)cfg;
    if (month_arg(args[3], month, sizeof month) < 0)
        return 2;
    return print_invoice(pg, args[2], month);
}

static int print_result(PGresult *res, const char *errstr)
{
    if (!res) {
        fprintf(stderr, "covadm: %s\n", errstr);
        return 1;
    }
    cli_print_table(res, 1);
    PQclear(res);
    return 0;
}

static int cmd_invoices_list(PGconn *pg, const config *cfg, char **args)
{
    char errstr[1024];

    (void)args;
    return print_result(billing_db_invoices(pg, config_get(cfg, "agreement"), errstr,
                                            sizeof errstr), errstr);
}

static int cmd_invoices_pay(PGconn *pg, const config *cfg, char **args)
{
    char month[16], paid_on[16], errstr[1024];
    const char *reference = config_get(cfg, "reference");
    PGresult *res;

    if (month_arg(args[3], month, sizeof month) < 0 || date_opt(cfg, "paid-on", paid_on,
                                                                sizeof paid_on) < 0)
        return 2;
    if (!reference || !*reference) {
        fprintf(stderr, "covadm: invoices pay needs --reference (the bank's or BPJS's reference)\n");
        return 2;
    }
    if (!(res = billing_db_pay(pg, args[2], month, config_int(cfg, "amount"), paid_on, reference,
                               config_get(cfg, "actor"), errstr, sizeof errstr))) {
        fprintf(stderr, "covadm: %s\n", errstr);
        return 1;
    }
    if (PQgetisnull(res, 0, 0))
        printf("payment %s of %s %.7s was recorded before; nothing changed\n", reference,
               args[2], month);
    else
        printf("payment %s recorded (id %s): %s %.7s paid Rp %s of Rp %s, outstanding Rp %s\n",
               reference, PQgetvalue(res, 0, 0), args[2], month, PQgetvalue(res, 0, 2),
               PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 3));
    PQclear(res);
    return 0;
}

static int cmd_invoices_lapse(PGconn *pg, const config *cfg, char **args)
{
    char as_of[16], errstr[1024];

    (void)args;
    if (date_opt(cfg, "as-of", as_of, sizeof as_of) < 0)
        return 2;
    if (sync_premiums(pg, cfg, 0) < 0)
        return 1;
    return print_result(billing_db_lapse(pg, as_of, config_get(cfg, "agreement"),
                                         config_get(cfg, "actor"), errstr, sizeof errstr),
                        errstr);
}

static int cmd_agreements_status(PGconn *pg, const config *cfg, char **args)
{
    char errstr[1024];

    if (sync_premiums(pg, cfg, 0) < 0)
        return 1;
    return print_result(billing_db_status(pg, args[2], errstr, sizeof errstr), errstr);
}

static int cmd_agreements_status_all(PGconn *pg, const config *cfg, char **args)
{
    char *all[3] = {args[0], args[1], NULL};

    return cmd_agreements_status(pg, cfg, all);
}

static int stage_arg(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*end || v < 1 || v > 999) {
        fprintf(stderr, "covadm: stage '%s' must be a number 1-999\n", s);
        return -1;
    }
    return (int)v;
}

static int cmd_stages_add(PGconn *pg, const config *cfg, char **args)
{
    const char *from = config_get(cfg, "from"), *to = config_get(cfg, "to");
    const char *name = config_get(cfg, "name");
    char deflt[32], errstr[1024];
    int32_t d1, d2;
    PGresult *res;
    int stage = stage_arg(args[3]);

    if (stage < 0)
        return 2;
    if (!from || !to || dates_parse(from, &d1) < 0 || dates_parse(to, &d2) < 0 || d1 > d2) {
        fprintf(stderr, "covadm: stages add needs --from and --to, dates YYYY-MM-DD in order\n");
        return 2;
    }
    snprintf(deflt, sizeof deflt, "Tahap %d", stage);
    {
        const char *p[5] = {args[2], args[3], name ? name : deflt, from, to};
        res = pg_query(pg,
                       "INSERT INTO stages (agreement_id, stage_no, name, term_from, term_to)"
                       " VALUES ($1, $2::int, $3, $4::date, $5::date)"
                       " ON CONFLICT (agreement_id, stage_no) DO UPDATE SET name = EXCLUDED.name,"
                       " term_from = EXCLUDED.term_from, term_to = EXCLUDED.term_to",
                       5, p, errstr, sizeof errstr);
        if (res) {
            PQclear(res);
            res = pg_query(pg,
                           "SELECT count(*) FROM stage_enrolments"
                           " WHERE agreement_id = $1 AND stage_no = $2::int",
                           2, p, errstr, sizeof errstr);
        }
    }
    if (!res) {
        fprintf(stderr, "covadm: %s\n", errstr);
        return 1;
    }
    printf("stage %d of %s: terms starting %s..%s, %s enrolments so far\n", stage, args[2], from,
           to, PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static int cmd_stages_list(PGconn *pg, const config *cfg, char **args)
{
    const char *agreement = config_get(cfg, "agreement");
    const char *p[1] = {agreement ? agreement : ""};

    (void)args;
    return report(pg,
                  "SELECT s.agreement_id, s.stage_no AS stage, s.name, s.term_from, s.term_to,"
                  " (SELECT count(*) FROM stage_enrolments e WHERE e.agreement_id = s.agreement_id"
                  "  AND e.stage_no = s.stage_no) AS enrolments"
                  " FROM stages s WHERE $1 = '' OR s.agreement_id = $1"
                  " ORDER BY s.agreement_id, s.stage_no",
                  1, p);
}

static int cmd_certificates(PGconn *pg, const config *cfg, char **args)
{
    char dir[PATH_MAX], issued_txt[16], errstr[1024];
    const char *out = config_get(cfg, "out");
    certificate_stage_counts counts;
    int32_t issued;
    int stage = stage_arg(args[2]), rc;

    if (stage < 0 || date_opt(cfg, "issued-on", issued_txt, sizeof issued_txt) < 0)
        return 2;
    dates_parse(issued_txt, &issued);
    if (out)
        snprintf(dir, sizeof dir, "%s", out);
    else
        snprintf(dir, sizeof dir, "certificates/%s/stage-%d", args[1], stage);
    rc = certificate_stage_write(pg, args[1], stage, dir, issued, &counts, errstr,
                                 sizeof errstr);
    certificate_release();
    if (rc < 0) {
        fprintf(stderr, "covadm: %s\n", errstr);
        return 1;
    }
    printf("%s: %ld certificates, summary.pdf (%d kecamatan x %d roles), index.tsv\n", dir,
           counts.certificates, counts.regions, counts.roles);
    return 0;
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
    {"agreements", "status", 2, cmd_agreements_status_all},
    {"agreements", "status", 3, cmd_agreements_status},
    {"premiums", "sync", 2, cmd_premiums_sync},
    {"invoices", "compute", 4, cmd_invoices_compute},
    {"invoices", "issue", 4, cmd_invoices_issue},
    {"invoices", "show", 4, cmd_invoices_show},
    {"invoices", "pay", 4, cmd_invoices_pay},
    {"invoices", "list", 2, cmd_invoices_list},
    {"invoices", "lapse", 2, cmd_invoices_lapse},
    {"stages", "add", 4, cmd_stages_add},
    {"stages", "list", 2, cmd_stages_list},
    {"certificates", NULL, 3, cmd_certificates},
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
    "  offsets                      consumers' positions stored in PostgreSQL\n"
    "  agreements status [ID]       premiums committed (issued, adjustments, projected to\n"
    "                               the end of every term) against each budget\n"
    "  premiums sync                copy the premium rates and billing rules files into\n"
    "                               PostgreSQL (the invoice commands do it first)\n"
    "  invoices compute ID YYYY-MM  (re)compute the month's draft invoice and show it\n"
    "  invoices issue ID YYYY-MM    compute once more and issue it (then it never changes);\n"
    "                               billing-relay publishes it to billing.invoices\n"
    "  invoices show ID YYYY-MM     an invoice and its lines by kecamatan and role\n"
    "  invoices list [--agreement ID]\n"
    "  invoices pay ID YYYY-MM --reference R [--amount N] [--paid-on DATE]\n"
    "  invoices lapse [--as-of DATE] [--agreement ID]\n"
    "                               close the BPU coverage of workers with more than 3\n"
    "                               consecutive unpaid months (billing_rules.tsv)\n"
    "  stages add ID N --from DATE --to DATE [--name TEXT]\n"
    "                               stage N: the enrolments whose term starts in that range\n"
    "  stages list [--agreement ID]\n"
    "  certificates ID N [--out DIR] [--issued-on DATE]\n"
    "                               one certificate PDF per enrolment of stage N and a\n"
    "                               summary PDF by kecamatan and role\n\n"
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
