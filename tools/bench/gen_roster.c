/* gen_roster: writes a realistic synthetic roster (CSV or JSON Lines), deterministic by seed,
 * for tests, demos and benchmarks. Single-threaded program; all state lives in one gen struct.
 *
 * Region structure (kecamatan, desa/kelurahan, TPS) depends only on the regency code, never
 * on --seed, so --regions-out gives the same table for every seed; workers, updates,
 * terminations and invalid rows depend on --seed. */
#include "config.h"
#include "dates.h"
#include "program.h"
#include "region.h"
#include "roster.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEC 30
#define MAX_DESA 18
#define MAX_TPS 20
#define MAX_REGENCIES 64 /* on the command line */
#define TEXT_MAX 104 /* a full_name of 100 bytes and its NUL */

/* ---------------------------------------------------------------- random numbers */

/* splitmix64: one 64-bit state, good enough statistics for synthetic data. */
typedef struct {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t a, uint64_t b)
{
    r->s = a * 0xD1B54A32D192ED03ull ^ b;
    rng_next(r);
}

/* Uniform in [0, n). */
static uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static int rng_range(rng *r, int lo, int hi)
{
    return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

/* True with probability pct percent. */
static int rng_pct(rng *r, double pct)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0) * 100.0 < pct;
}

#define PICK(r, arr) ((arr)[rng_below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* ---------------------------------------------------------------- reference tables */

static const char *const wajo_kecamatan[] = {
    "Sabbangparu", "Tempe", "Pammana", "Bola", "Takkalalla", "Sajoanging", "Majauleng",
    "Tanasitolo", "Belawa", "Maniangpajo", "Keera", "Pitumpanua", "Gilireng", "Penrang"};

/* Regencies with a real name and, for the project's sample regions, the PKS terms that
 * sample/agreements.csv carries. kpu_jht: the KPU agreement also covers JHT. */
typedef struct {
    int code;
    const char *name;
    const char *branch;
    const char *kpu_funding, *bawaslu_funding;
    int kpu_jht;
} known_regency;

static const known_regency known[] = {
    {7301, "Kabupaten Kepulauan Selayar", "KCP Selayar", "APBD", "APBN_BAWASLU", 0},
    {7302, "Kabupaten Bulukumba", "KC Bulukumba", "APBD", "APBN_BAWASLU", 0},
    {7303, "Kabupaten Bantaeng", "KCP Bantaeng", "APBD", "APBN_BAWASLU", 0},
    {7304, "Kabupaten Jeneponto", "KCP Jeneponto", "APBN_KPU", "APBN_BAWASLU", 0},
    {7305, "Kabupaten Takalar", "KCP Takalar", "APBD", "APBN_BAWASLU", 0},
    {7306, "Kabupaten Gowa", "KC Gowa", "APBD", "APBN_BAWASLU", 1},
    {7307, "Kabupaten Sinjai", "KCP Sinjai", "APBN_KPU", "APBN_BAWASLU", 0},
    {7308, "Kabupaten Bone", "KC Watampone", "APBD", "APBN_BAWASLU", 0},
    {7309, "Kabupaten Maros", "KC Maros", "APBD", "APBN_BAWASLU", 0},
    {7310, "Kabupaten Pangkajene dan Kepulauan", "KCP Pangkep", "APBD", "APBN_BAWASLU", 0},
    {7311, "Kabupaten Barru", "KCP Barru", "APBN_KPU", "APBN_BAWASLU", 0},
    {7312, "Kabupaten Soppeng", "KCP Soppeng", "APBD", "APBN_BAWASLU", 0},
    {7313, "Kabupaten Wajo", "KC Sengkang", "APBD", "APBN_BAWASLU", 1},
    {7314, "Kabupaten Sidenreng Rappang", "KCP Sidrap", "APBD", "APBN_BAWASLU", 0},
    {7315, "Kabupaten Pinrang", "KC Pinrang", "APBD", "APBN_BAWASLU", 0},
    {7316, "Kabupaten Enrekang", "KCP Enrekang", "APBN_KPU", "APBN_BAWASLU", 0},
    {7317, "Kabupaten Luwu", "KCP Belopa", "APBD", "APBN_BAWASLU", 0},
    {7318, "Kabupaten Tana Toraja", "KCP Makale", "APBD", "APBN_BAWASLU", 0},
    {7322, "Kabupaten Luwu Utara", "KCP Masamba", "APBD", "APBN_BAWASLU", 0},
    {7325, "Kabupaten Luwu Timur", "KCP Malili", "APBD", "APBN_BAWASLU", 1},
    {7326, "Kabupaten Toraja Utara", "KCP Rantepao", "APBN_KPU", "APBN_BAWASLU", 0},
    {7371, "Kota Makassar", "KC Makassar", "APBD", "APBN_BAWASLU", 1},
    {7372, "Kota Parepare", "KC Parepare", "APBD", "APBN_BAWASLU", 0},
    {7373, "Kota Palopo", "KC Palopo", "APBD", "APBN_BAWASLU", 0},
    {7207, "Kabupaten Buol", "KCP Buol", "APBD", "APBD", 0},
    {7601, "Kabupaten Pasangkayu", "KCP Pasangkayu", "APBN_KPU", "APBN_BAWASLU", 0},
    {8171, "Kota Ambon", "KC Ambon", "APBN_KPU", "SELF", 0},
};

/* Regencies per province when the real list is not embedded: kabupaten 01..n_kab,
 * kota 71..70+n_kota. Order is the order --scale-events walks after the home province. */
static const struct {
    int prov, n_kab, n_kota;
} provinces[] = {
    {73, 0, 0}, {76, 6, 0}, {72, 12, 1}, {74, 17, 2}, {71, 15, 4}, {75, 5, 1}, {81, 9, 2},
    {82, 8, 2}, {11, 18, 5}, {12, 25, 8}, {13, 12, 7}, {14, 10, 2}, {15, 9, 2}, {16, 13, 4},
    {17, 9, 1}, {18, 13, 2}, {19, 6, 1}, {21, 5, 2}, {31, 1, 5}, {32, 18, 9}, {33, 29, 6},
    {34, 4, 1}, {35, 29, 9}, {36, 4, 4}, {51, 8, 1}, {52, 8, 2}, {53, 21, 1}, {61, 12, 2},
    {62, 13, 1}, {63, 11, 2}, {64, 7, 3}, {65, 4, 1}, {91, 9, 1}, {92, 7, 0}, {93, 4, 0},
    {94, 8, 0}, {95, 8, 0}, {96, 5, 1},
};

/* Regency codes (PPKK) of a province in walking order; returns the count. */
static int province_regencies(int prov, int *out, int max)
{
    int n = 0;

    if (prov == 73) {
        for (size_t i = 0; i < sizeof known / sizeof known[0] && n < max; i++)
            if (known[i].code / 100 == 73)
                out[n++] = known[i].code;
        return n;
    }
    for (size_t i = 0; i < sizeof provinces / sizeof provinces[0]; i++) {
        if (provinces[i].prov != prov)
            continue;
        for (int k = 1; k <= provinces[i].n_kab && n < max; k++)
            out[n++] = prov * 100 + k;
        for (int k = 71; k <= 70 + provinces[i].n_kota && n < max; k++)
            out[n++] = prov * 100 + k;
    }
    return n;
}

static const known_regency *known_find(int code)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].code == code)
            return &known[i];
    return NULL;
}

/* Per-role facts for the 2024 Pemilu. Dates are inclusive; jitter = the regency's
 * inauguration offset applies (national dates for polling-station roles do not move). */
typedef enum { LVL_KEC, LVL_DESA, LVL_TPS } unit_level;

typedef struct {
    roster_role role;
    roster_institution inst;
    unit_level level;
    int per_unit;
    int start_y, start_m, start_d, end_y, end_m, end_d;
    int jitter;
    int64_t wage_chair, wage_member; /* the first member of a unit is the chair */
    int male_pct;
} role_info;

static const role_info roles[] = {
    {ROLE_PPK, INST_KPU, LVL_KEC, 5, 2023, 1, 4, 2024, 3, 31, 1, 2500000, 2200000, 70},
    {ROLE_SEKRETARIAT_PPK, INST_KPU, LVL_KEC, 3, 2023, 1, 16, 2024, 3, 31, 1, 1850000, 1500000, 50},
    {ROLE_PANWASCAM, INST_BAWASLU, LVL_KEC, 3, 2023, 1, 2, 2024, 4, 30, 1, 2200000, 2000000, 70},
    {ROLE_SEKRETARIAT_PANWASCAM, INST_BAWASLU, LVL_KEC, 3, 2023, 1, 2, 2024, 4, 30, 1, 1850000, 1300000, 50},
    {ROLE_SUPPORT_STAFF, INST_KPU, LVL_KEC, 1, 2023, 1, 16, 2024, 3, 31, 1, 1000000, 1000000, 80},
    {ROLE_SUPPORT_STAFF, INST_BAWASLU, LVL_KEC, 1, 2023, 1, 2, 2024, 4, 30, 1, 1000000, 1000000, 80},
    {ROLE_PPS, INST_KPU, LVL_DESA, 3, 2023, 1, 24, 2024, 3, 31, 1, 1500000, 1300000, 65},
    {ROLE_SEKRETARIAT_PPS, INST_KPU, LVL_DESA, 3, 2023, 2, 1, 2024, 3, 31, 1, 1300000, 1150000, 50},
    {ROLE_PKD, INST_BAWASLU, LVL_DESA, 1, 2023, 3, 14, 2024, 4, 13, 1, 1500000, 1500000, 70},
    {ROLE_PANTARLIH, INST_KPU, LVL_TPS, 1, 2023, 2, 12, 2023, 3, 14, 0, 1000000, 1000000, 50},
    {ROLE_KPPS, INST_KPU, LVL_TPS, 7, 2024, 1, 25, 2024, 2, 25, 0, 1200000, 1100000, 60},
    {ROLE_LINMAS, INST_KPU, LVL_TPS, 2, 2024, 1, 25, 2024, 2, 25, 0, 1000000, 1000000, 95},
    {ROLE_PTPS, INST_BAWASLU, LVL_TPS, 1, 2024, 1, 21, 2024, 2, 21, 0, 1100000, 1100000, 60},
};
#define N_ROLES (sizeof roles / sizeof roles[0])

static const char *const male_given[] = {
    "Baso", "Rahmat", "Hasanuddin", "Syamsuddin", "Ambo", "Akbar", "Arifin", "Irwan", "Ilham",
    "Jamaluddin", "Kamaruddin", "Mustafa", "Nasrullah", "Ridwan", "Sudirman", "Syahrir",
    "Taufik", "Usman", "Yusuf", "Zainal", "Firman", "Herman", "Agus", "Asri", "Hamka",
    "Haeruddin", "Muhlis", "Suardi", "Amiruddin", "Saharuddin", "Darwis", "Rusdi", "Idris",
    "Abdul Rahman", "Syarifuddin", "Muhammad Ali", "Alimuddin", "Anwar", "Bahtiar", "Fadli",
    "Gunawan", "Hendra", "Iskandar", "Jumardi", "Kaharuddin", "Mansur", "Nurdin", "Rahman"};
static const char *const female_given[] = {
    "Hasnah", "Wahyuni", "Fitriani", "Rahmawati", "Nurhayati", "Aminah", "Hasmawati",
    "Sulfiani", "Jumriani", "Irmawati", "Kasmawati", "Hasniati", "Marlina", "Rosmiati",
    "Sukmawati", "Hartina", "Risnawati", "Darmawati", "Hikmah", "Rahma", "Asriani", "Hajrah",
    "Megawati", "Ernawati", "Suriani", "Yuliana", "Rismawati", "Mardiana", "Nurjannah",
    "Haslinda", "Indah", "Musdalifah", "Nurfadillah", "Rosdiana", "Syamsiah", "Wulandari"};
static const char *const male_prefix[] = {"Andi", "Muhammad", "Muh.", "Ahmad", "Abd."};
static const char *const female_prefix[] = {"Andi", "Siti", "Sitti", "Nur", "Sri", "Besse"};
static const char *const family[] = {
    "Syamsuddin", "Hasanuddin", "Jufri", "Tahir", "Amir", "Basri", "Haris", "Rahman",
    "Hamzah", "Saleh", "Yusuf", "Nasrun", "Makkawaru", "Pawellangi", "Mappasessu", "Lamba",
    "Sultan", "Ramli", "Hamid", "Latif", "Said", "Gani", "Mappiasse", "Pananrangi",
    "Daeng Ngalle", "Daeng Tompo", "Arsyad", "Kadir", "Muin", "Sakka", "Tang", "Patiroi"};

/* Mobile prefixes after +62 (Telkomsel, Indosat, XL, Tri, Smartfren). */
static const char *const phone_prefix[] = {"811", "812", "813", "821", "822", "823", "852",
                                           "853", "814", "815", "856", "857", "858", "817",
                                           "818", "819", "859", "877", "878", "895", "896",
                                           "897", "898", "881", "882"};

static const char *const syllables[] = {"ma", "ta", "pa", "la", "sa", "we", "tem", "pe",
                                        "bo", "lan", "ge", "rang", "tu", "ka", "si", "ra",
                                        "bu", "le", "pol", "ce", "ri", "lim", "pu", "ang",
                                        "ba", "to", "sen", "kang", "lae", "mpa", "do", "nge"};

/* ---------------------------------------------------------------- region structure */

typedef struct {
    int n_desa;
    uint16_t desa[MAX_DESA];     /* NNNN: 1xxx kelurahan, 2xxx desa */
    uint8_t n_tps[MAX_DESA];
    uint32_t pantarlih2[MAX_DESA]; /* bit t-1: TPS t has more than 400 voters */
} kecamatan;

typedef struct {
    int code; /* PPKK */
    int jitter;
    int n_kec;
    kecamatan kec[MAX_KEC];
} regency;

/* Builds the structure of a regency from its code alone. */
static void regency_build(int code, regency *rg)
{
    rng r;
    int kota = code % 100 >= 71;

    rng_seed(&r, 0x7265676E63790000ull, (uint64_t)code);
    memset(rg, 0, sizeof *rg);
    rg->code = code;
    rg->jitter = rng_range(&r, 0, 5);
    if (code == 7313)
        rg->n_kec = (int)(sizeof wajo_kecamatan / sizeof wajo_kecamatan[0]);
    else
        rg->n_kec = kota ? rng_range(&r, 4, 15) : rng_range(&r, 8, 24);
    for (int k = 0; k < rg->n_kec; k++) {
        kecamatan *kc = &rg->kec[k];
        int n_kel;

        kc->n_desa = rng_range(&r, 8, MAX_DESA);
        if (kota || (code == 7313 && k == 1))
            n_kel = kc->n_desa;
        else
            n_kel = rng_range(&r, 0, 3);
        for (int d = 0; d < kc->n_desa; d++) {
            kc->desa[d] = (uint16_t)(d < n_kel ? 1001 + d : 2001 + d - n_kel);
            kc->n_tps[d] = (uint8_t)rng_range(&r, 6, MAX_TPS);
            for (int t = 0; t < kc->n_tps[d]; t++)
                if (rng_pct(&r, 25))
                    kc->pantarlih2[d] |= 1u << t;
        }
    }
}

static uint64_t regency_workers(const regency *rg)
{
    uint64_t n = 0;

    for (int k = 0; k < rg->n_kec; k++) {
        const kecamatan *kc = &rg->kec[k];
        n += 16;
        for (int d = 0; d < kc->n_desa; d++) {
            n += 7 + 11u * kc->n_tps[d];
            for (int t = 0; t < kc->n_tps[d]; t++)
                n += (kc->pantarlih2[d] >> t) & 1u;
        }
    }
    return n;
}

/* Walks regencies: the ones named on the command line, then (when scaling) the rest of
 * the first one's province (real codes first, then unused numbers), then the other
 * provinces. regency_iter_next returns 0 when exhausted. */
typedef struct {
    const int *user;
    int n_user, i_user;
    int scale;
    int prov_order[64], n_prov, i_prov;
    int list[128], n_list, i_list; /* regencies of the province being walked */
} regency_iter;

static int used_by_user(const regency_iter *it, int code)
{
    for (int i = 0; i < it->n_user; i++)
        if (it->user[i] == code)
            return 1;
    return 0;
}

static void regency_iter_init(regency_iter *it, const int *user, int n_user, int scale)
{
    memset(it, 0, sizeof *it);
    it->user = user;
    it->n_user = n_user;
    it->scale = scale;
    it->prov_order[it->n_prov++] = user[0] / 100;
    for (size_t i = 0; i < sizeof provinces / sizeof provinces[0]; i++)
        if (provinces[i].prov != user[0] / 100)
            it->prov_order[it->n_prov++] = provinces[i].prov;
}

/* Appends every other regency number of prov (01-69, 71-99) to list, so that a large
 * --scale-events stays inside the home province (one data center) as long as it can. */
static int extend_province(int prov, int *list, int n)
{
    int real = n;

    for (int k = 1; k <= 99; k++) {
        int code = prov * 100 + k, dup = 0;
        if (k == 70)
            continue;
        for (int i = 0; i < real; i++)
            dup |= list[i] == code;
        if (!dup)
            list[n++] = code;
    }
    return n;
}

static int regency_iter_next(regency_iter *it)
{
    if (it->i_user < it->n_user)
        return it->user[it->i_user++];
    if (!it->scale)
        return 0;
    for (;;) {
        while (it->i_list < it->n_list) {
            int code = it->list[it->i_list++];
            if (!used_by_user(it, code))
                return code;
        }
        if (it->i_prov >= it->n_prov)
            return 0;
        int prov = it->prov_order[it->i_prov++];
        it->n_list = province_regencies(prov, it->list, 128);
        it->i_list = 0;
        if (it->i_prov == 1)
            it->n_list = extend_province(prov, it->list, it->n_list);
    }
}

/* A regency next to code in its province's list, for NIKs first issued elsewhere. */
static int regency_neighbour(int code, rng *r)
{
    int list[128];
    int n = province_regencies(code / 100, list, 128);

    for (int i = 0; i < n; i++)
        if (list[i] == code) {
            if (n == 1)
                return code;
            if (i == 0)
                return list[1];
            if (i == n - 1)
                return list[n - 2];
            return list[i + (rng_pct(r, 50) ? 1 : -1)];
        }
    return n ? list[rng_below(r, (uint32_t)n)] : code;
}

/* ---------------------------------------------------------------- output */

enum {
    C_CHANGE, C_NIK, C_NAME, C_BIRTH, C_GENDER, C_INST, C_ROLE, C_REGION, C_TPS, C_TSTART,
    C_TEND, C_WAGE, C_PROGRAMS, C_AGREEMENT, C_KPJ, C_EFF, C_PHONE, NCOL
};
static const char *const col_names[NCOL] = {
    "change", "nik", "full_name", "birth_date", "gender", "institution", "role",
    "region_code", "tps", "term_start", "term_end", "monthly_wage", "programs",
    "agreement_id", "kpj", "effective_date", "phone"};

typedef struct {
    char v[NCOL][TEXT_MAX]; /* "" = absent */
} text_row;

typedef struct {
    FILE *fp;
    char buf[1 << 16];
    size_t len;
    int err;
} outbuf;

static void out_flush(outbuf *o)
{
    if (o->len && fwrite(o->buf, 1, o->len, o->fp) != o->len)
        o->err = errno ? errno : EIO;
    o->len = 0;
}

static void out_mem(outbuf *o, const char *s, size_t n)
{
    if (o->len + n > sizeof o->buf)
        out_flush(o);
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_str(outbuf *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

static void out_csv_field(outbuf *o, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        out_str(o, s);
        return;
    }
    out_mem(o, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            out_mem(o, "\"", 1);
        out_mem(o, s, 1);
    }
    out_mem(o, "\"", 1);
}

static void out_json_string(outbuf *o, const char *s)
{
    out_mem(o, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            out_mem(o, esc, 2);
        } else if (c < 0x20) {
            char esc[7];
            static const char hex[] = "0123456789abcdef";
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            out_mem(o, esc, 6);
        } else {
            out_mem(o, s, 1);
        }
    }
    out_mem(o, "\"", 1);
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Writes n as exactly width digits (zero-padded) at p; returns p + width. */
static char *put_digits(char *p, uint64_t n, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + n % 10);
        n /= 10;
    }
    return p + width;
}

static void put_uint(char *dst, uint64_t n)
{
    char tmp[21];
    int i = 20;

    tmp[i] = '\0';
    do {
        tmp[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    memcpy(dst, tmp + i, (size_t)(21 - i));
}

static void put_date(char *dst, int32_t days)
{
    int y, m, d;

    dates_to_civil(days, &y, &m, &d);
    char *p = put_digits(dst, (uint64_t)y, 4);
    *p++ = '-';
    p = put_digits(p, (uint64_t)m, 2);
    *p++ = '-';
    p = put_digits(p, (uint64_t)d, 2);
    *p = '\0';
}

/* Kemendagri code of a plain 6- or 10-digit region, dotted unless plain is set. */
static void put_region(char *dst, const char *plain_code, int plain)
{
    size_t n = strlen(plain_code);

    if (plain) {
        memcpy(dst, plain_code, n + 1);
        return;
    }
    char *p = dst;
    for (size_t i = 0; i < n; i++) {
        if (i == 2 || i == 4 || i == 6)
            *p++ = '.';
        *p++ = plain_code[i];
    }
    *p = '\0';
}

/* ---------------------------------------------------------------- generator state */

typedef enum { UPD_KPJ, UPD_PHONE, UPD_WAGE } update_kind;

/* An UPDATE or TERMINATE waiting for the end of its kecamatan. */
typedef struct {
    int32_t effective;
    uint32_t seq;
    roster_change_kind change;
    update_kind what;
    int64_t wage;
    char nik[17];
    char phone[21];
    char kpj[12];
} pending;

typedef struct {
    /* options */
    uint64_t seed;
    int csv;
    int plain_codes;
    double update_pct, terminate_pct;
    uint64_t limit; /* rows to stop after; UINT64_MAX = whole regencies */
    uint64_t n_invalid;
    int verbose;

    outbuf *out;
    uint64_t rows;
    uint64_t counts[CHANGE__COUNT];
    uint64_t invalid_done;
    uint64_t invalid_every; /* an invalid row after every this many rows */
    int done;

    /* NIK prefix (12 digits) -> last serial used; open addressing, key 0 = empty */
    uint64_t *nik_keys;
    uint16_t *nik_serial;
    uint16_t serial_base;   /* serials of every prefix start after this (disjoint NIK sets) */
    size_t nik_cap, nik_used;

    uint64_t kpj_counter, kpj_offset;
    uint32_t seq;
    pending *pend;
    size_t n_pend, cap_pend;

    /* context of the worker being generated */
    rng r;
    const regency *rg;
    int kpu_jht; /* the regency's KPU agreement covers JHT */
    int kec, desa;
    char last_nik[17];
} gen;

static int nik_map_grow(gen *g)
{
    size_t cap = g->nik_cap ? g->nik_cap * 2 : 1u << 16;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint16_t *vals = calloc(cap, sizeof *vals);

    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < g->nik_cap; i++) {
        if (!g->nik_keys[i])
            continue;
        size_t j = (size_t)((g->nik_keys[i] * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = g->nik_keys[i];
        vals[j] = g->nik_serial[i];
    }
    free(g->nik_keys);
    free(g->nik_serial);
    g->nik_keys = keys;
    g->nik_serial = vals;
    g->nik_cap = cap;
    return 0;
}

/* Next free serial for a 12-digit prefix, or 0 when the prefix is exhausted (or no memory). */
static int nik_next_serial(gen *g, uint64_t prefix)
{
    if (g->nik_used * 2 >= g->nik_cap && nik_map_grow(g) < 0)
        return 0;
    size_t j = (size_t)((prefix * 0x9E3779B97F4A7C15ull) >> 20) & (g->nik_cap - 1);
    while (g->nik_keys[j] && g->nik_keys[j] != prefix)
        j = (j + 1) & (g->nik_cap - 1);
    if (!g->nik_keys[j]) {
        g->nik_keys[j] = prefix;
        g->nik_serial[j] = g->serial_base;
        g->nik_used++;
    }
    if (g->nik_serial[j] >= 9999)
        return 0;
    return ++g->nik_serial[j];
}

static void make_name(rng *r, char gender, int age, char *dst, size_t size)
{
    const char *pre = NULL, *given, *fam = NULL;

    if (gender == 'L') {
        given = PICK(r, male_given);
        if (age >= 45 && rng_pct(r, 8))
            pre = "H.";
        else if (rng_pct(r, 40))
            pre = PICK(r, male_prefix);
    } else {
        given = PICK(r, female_given);
        if (age >= 45 && rng_pct(r, 8))
            pre = "Hj.";
        else if (rng_pct(r, 40))
            pre = PICK(r, female_prefix);
    }
    if (rng_pct(r, 55))
        fam = PICK(r, family);
    if (fam && strcmp(fam, given) == 0)
        fam = NULL;
    snprintf(dst, size, "%s%s%s%s%s", pre ? pre : "", pre ? " " : "", given, fam ? " " : "",
             fam ? fam : "");
}

static void make_phone(rng *r, char *dst)
{
    const char *pre = PICK(r, phone_prefix);
    char *p = dst;

    memcpy(p, "+62", 3);
    p += 3;
    memcpy(p, pre, 3);
    p += 3;
    p = put_digits(p, rng_below(r, 100000000), rng_pct(r, 70) ? 8 : 7);
    *p = '\0';
}

/* A bijection of [0, 2^37): odd multipliers and xor-shifts, all invertible mod 2^37. */
static uint64_t permute37(uint64_t x)
{
    const uint64_t mask = (1ull << 37) - 1;

    x = (x * 0x5DEECE66Dull) & mask;
    x ^= x >> 17;
    x = (x * 0x2545F4914Full) & mask;
    x ^= x >> 19;
    return x;
}

/* 11-digit KPJ, unique in the run: a counter through a permutation of [0, 9e10)
 * (cycle-walking permute37 until the value falls in range). */
static void make_kpj(gen *g, char *dst)
{
    uint64_t n = (g->kpj_counter++ + g->kpj_offset) % 90000000000ull;

    do
        n = permute37(n);
    while (n >= 90000000000ull);
    put_digits(dst, 10000000000ull + n, 11);
    dst[11] = '\0';
}

static void region_plain(const regency *rg, int kec, int desa, char *dst)
{
    char *p = put_digits(dst, (uint64_t)rg->code, 4);
    p = put_digits(p, (uint64_t)kec + 1, 2);
    if (desa >= 0)
        p = put_digits(p, rg->kec[kec].desa[desa], 4);
    *p = '\0';
}

static int32_t role_start(const role_info *ri, const regency *rg)
{
    return dates_from_civil(ri->start_y, ri->start_m, ri->start_d) + (ri->jitter ? rg->jitter : 0);
}

static int32_t role_end(const role_info *ri, const regency *rg)
{
    return dates_from_civil(ri->end_y, ri->end_m, ri->end_d) + (ri->jitter ? rg->jitter : 0);
}

/* Fills rc with a new worker of role ri at the current unit. Returns -1 when no NIK
 * serial is left for every birth date tried (practically never). */
static int make_worker(gen *g, const role_info *ri, int member, int tps, roster_change *rc)
{
    rng *r = &g->r;
    const regency *rg = g->rg;
    int32_t start = role_start(ri, rg);
    int y, m, d, serial = 0, nik_reg = rg->code, nik_kec = g->kec + 1, age = 0;
    uint64_t prefix = 0;
    char gender = rng_pct(r, ri->male_pct) ? 'L' : 'P';

    roster_change_init(rc);
    rc->change = CHANGE_ENROLL;
    if (rng_pct(r, 10)) {
        nik_reg = regency_neighbour(rg->code, r);
        nik_kec = rng_range(r, 1, 8);
    } else if (rng_pct(r, 12)) {
        nik_kec = rng_range(r, 1, rg->n_kec);
    }
    for (int attempt = 0; attempt < 16 && !serial; attempt++) {
        dates_to_civil(start, &y, &m, &d);
        /* age 18..65 on term_start, skewed towards the middle */
        int32_t youngest = dates_from_civil(y - 18, m, d > 28 ? 28 : d);
        int32_t oldest = dates_from_civil(y - 66, m, d > 28 ? 28 : d) + 1;
        int32_t span = youngest - oldest;
        int32_t off = (int32_t)((rng_below(r, (uint32_t)span) + rng_below(r, (uint32_t)span)) / 2);
        rc->birth_date = youngest - off;
        dates_to_civil(rc->birth_date, &y, &m, &d);
        prefix = (uint64_t)nik_reg * 100000000ull + (uint64_t)nik_kec * 1000000ull +
                 (uint64_t)(d + (gender == 'P' ? 40 : 0)) * 10000ull + (uint64_t)m * 100ull +
                 (uint64_t)(y % 100);
        serial = nik_next_serial(g, prefix);
    }
    if (!serial)
        return -1;
    age = (int)((start - rc->birth_date) / 365);
    put_digits(rc->nik, prefix * 10000ull + (uint64_t)serial, 16);
    rc->nik[16] = '\0';
    make_name(r, gender, age, rc->full_name, sizeof rc->full_name);
    rc->gender = gender;
    rc->institution = ri->inst;
    rc->role = ri->role;
    region_plain(rg, g->kec, g->desa, rc->region_code);
    rc->tps = tps;
    rc->term_start = start;
    rc->term_end = role_end(ri, rg);
    rc->monthly_wage = member == 0 ? ri->wage_chair : ri->wage_member;

    int jht_ok = ri->inst == INST_KPU && g->kpu_jht;
    int office = ri->role == ROLE_SEKRETARIAT_PPK || ri->role == ROLE_SEKRETARIAT_PPS ||
                 ri->role == ROLE_SUPPORT_STAFF;
    rc->programs = PROG_JKK | PROG_JKM;
    if (jht_ok && rng_pct(r, office ? 50 : 3))
        rc->programs |= PROG_JHT;
    snprintf(rc->agreement_id, sizeof rc->agreement_id, "PKS-%s-%04d-2023",
             ri->inst == INST_KPU ? "KPU" : "BAWASLU", rg->code);
    rc->fields = RF_FULL_NAME | RF_BIRTH_DATE | RF_GENDER | RF_INSTITUTION | RF_ROLE |
                 RF_REGION | RF_TERM_START | RF_TERM_END | RF_WAGE | RF_AGREEMENT;
    if (tps)
        rc->fields |= RF_TPS;
    if (!rng_pct(r, 5))
        rc->fields |= RF_PROGRAMS;
    if (rng_pct(r, 35)) {
        make_kpj(g, rc->kpj);
        rc->fields |= RF_KPJ;
    }
    if (rng_pct(r, 75)) {
        make_phone(r, rc->phone);
        rc->fields |= RF_PHONE;
    }
    return 0;
}

static void to_text(const gen *g, const roster_change *rc, text_row *t)
{
    for (int c = 0; c < NCOL; c++)
        t->v[c][0] = '\0';
    strcpy(t->v[C_CHANGE], roster_change_name(rc->change));
    memcpy(t->v[C_NIK], rc->nik, 17);
    if (rc->fields & RF_FULL_NAME)
        snprintf(t->v[C_NAME], TEXT_MAX, "%s", rc->full_name);
    if (rc->fields & RF_BIRTH_DATE)
        put_date(t->v[C_BIRTH], rc->birth_date);
    if (rc->fields & RF_GENDER) {
        t->v[C_GENDER][0] = rc->gender;
        t->v[C_GENDER][1] = '\0';
    }
    if (rc->fields & RF_INSTITUTION)
        strcpy(t->v[C_INST], roster_institution_name(rc->institution));
    if (rc->fields & RF_ROLE)
        strcpy(t->v[C_ROLE], roster_role_name(rc->role));
    if (rc->fields & RF_REGION)
        put_region(t->v[C_REGION], rc->region_code, g->plain_codes);
    if (rc->fields & RF_TPS)
        put_uint(t->v[C_TPS], (uint64_t)rc->tps);
    if (rc->fields & RF_TERM_START)
        put_date(t->v[C_TSTART], rc->term_start);
    if (rc->fields & RF_TERM_END)
        put_date(t->v[C_TEND], rc->term_end);
    if (rc->fields & RF_WAGE)
        put_uint(t->v[C_WAGE], (uint64_t)rc->monthly_wage);
    if (rc->fields & RF_PROGRAMS)
        roster_programs_format(rc->programs, t->v[C_PROGRAMS], TEXT_MAX);
    if (rc->fields & RF_AGREEMENT)
        snprintf(t->v[C_AGREEMENT], TEXT_MAX, "%s", rc->agreement_id);
    if (rc->fields & RF_KPJ)
        memcpy(t->v[C_KPJ], rc->kpj, 12);
    if (rc->fields & RF_EFFECTIVE)
        put_date(t->v[C_EFF], rc->effective_date);
    if (rc->fields & RF_PHONE)
        snprintf(t->v[C_PHONE], TEXT_MAX, "%s", rc->phone);
}

static void write_header(gen *g)
{
    if (!g->csv)
        return;
    for (int c = 0; c < NCOL; c++) {
        if (c)
            out_mem(g->out, ",", 1);
        out_str(g->out, col_names[c]);
    }
    out_mem(g->out, "\n", 1);
}

/* Writes one data row; returns 0, or -1 once the row limit is reached. */
static int write_row(gen *g, const text_row *t)
{
    if (g->rows >= g->limit) {
        g->done = 1;
        return -1;
    }
    if (g->csv) {
        for (int c = 0; c < NCOL; c++) {
            if (c)
                out_mem(g->out, ",", 1);
            out_csv_field(g->out, t->v[c]);
        }
    } else {
        int first = 1;
        out_mem(g->out, "{", 1);
        for (int c = 0; c < NCOL; c++) {
            if (!t->v[c][0])
                continue;
            if (!first)
                out_mem(g->out, ",", 1);
            first = 0;
            out_json_string(g->out, col_names[c]);
            out_mem(g->out, ":", 1);
            if ((c == C_TPS || c == C_WAGE) && all_digits(t->v[c]))
                out_str(g->out, t->v[c]);
            else
                out_json_string(g->out, t->v[c]);
        }
        out_mem(g->out, "}", 1);
    }
    out_mem(g->out, "\n", 1);
    g->rows++;
    if (g->rows >= g->limit)
        g->done = 1;
    return 0;
}

/* Line number (1-based, header counted) the next data row will have. */
static uint64_t next_line(const gen *g)
{
    return g->rows + 1 + (g->csv ? 1 : 0);
}

/* ---------------------------------------------------------------- invalid rows */

typedef enum {
    INV_NIK_SERIAL0, INV_NIK_MONTH13, INV_KPPS_NO_TPS, INV_KPPS_KECAMATAN, INV_TERM_REVERSED,
    INV_UNKNOWN_ROLE, INV_WAGE_SEPARATORS, INV_BIRTH_FUTURE, INV_UPDATE_NO_EFFECTIVE,
    INV_BAD_REGION, INV_BAD_GENDER, INV_NIK_SHORT, INV_DATE_FORMAT, INV_NO_AGREEMENT,
    INV_UNKNOWN_PROGRAM, INV_TPS_RANGE, INV_UNKNOWN_CHANGE, INV_TERMINATE_NO_EFFECTIVE,
    INV__COUNT
} invalid_kind;

static const char *const invalid_rule[INV__COUNT] = {
    "nik serial must not be 0000",
    "nik month must be 01-12",
    "tps is required for KPPS",
    "region_code of a KPPS must be a desa/kelurahan, not a kecamatan",
    "term_start must be <= term_end",
    "role must be a known role",
    "monthly_wage is whole rupiah without separators",
    "birth_date must not be in the future",
    "UPDATE requires effective_date",
    "region_code must start with a valid province code",
    "gender must be L or P",
    "nik must have 16 digits",
    "dates must be YYYY-MM-DD",
    "agreement_id is required for ENROLL",
    "programs must be a subset of JKK;JKM;JHT",
    "tps must be 1-999",
    "change must be ENROLL, UPDATE or TERMINATE",
    "TERMINATE requires effective_date",
};

static const role_info *role_find(roster_role role, roster_institution inst)
{
    for (size_t i = 0; i < N_ROLES; i++)
        if (roles[i].role == role && roles[i].inst == inst)
            return &roles[i];
    return NULL;
}

/* Emits one deliberately invalid row and reports it on stderr. */
static int emit_invalid(gen *g)
{
    invalid_kind kind = (invalid_kind)(g->invalid_done % INV__COUNT);
    int saved_desa = g->desa;
    roster_change rc;
    text_row t;
    uint64_t line = next_line(g);

    if (g->desa < 0)
        g->desa = 0;
    if (make_worker(g, role_find(ROLE_KPPS, INST_KPU), 1, 1, &rc) < 0) {
        g->desa = saved_desa;
        return -1;
    }
    to_text(g, &rc, &t);
    switch (kind) {
    case INV_NIK_SERIAL0:
        memcpy(t.v[C_NIK] + 12, "0000", 4);
        break;
    case INV_NIK_MONTH13:
        memcpy(t.v[C_NIK] + 8, "13", 2);
        break;
    case INV_KPPS_NO_TPS:
        t.v[C_TPS][0] = '\0';
        break;
    case INV_KPPS_KECAMATAN: {
        char plain[11];
        region_plain(g->rg, g->kec, -1, plain);
        put_region(t.v[C_REGION], plain, g->plain_codes);
        break;
    }
    case INV_TERM_REVERSED:
        memcpy(t.v[C_TSTART], t.v[C_TEND], TEXT_MAX);
        put_date(t.v[C_TEND], rc.term_start);
        break;
    case INV_UNKNOWN_ROLE:
        strcpy(t.v[C_ROLE], "SAKSI");
        break;
    case INV_WAGE_SEPARATORS:
        strcpy(t.v[C_WAGE], "1.100.000");
        break;
    case INV_BIRTH_FUTURE:
        put_date(t.v[C_BIRTH], dates_from_civil(2090, 1, 1) + (int32_t)rng_below(&g->r, 3000));
        break;
    case INV_UPDATE_NO_EFFECTIVE: {
        text_row u;
        memset(&u, 0, sizeof u);
        strcpy(u.v[C_CHANGE], "UPDATE");
        memcpy(u.v[C_NIK], g->last_nik[0] ? g->last_nik : rc.nik, 17);
        make_phone(&g->r, u.v[C_PHONE]);
        t = u;
        break;
    }
    case INV_BAD_REGION:
        t.v[C_REGION][0] = '7';
        t.v[C_REGION][1] = '9';
        break;
    case INV_BAD_GENDER:
        strcpy(t.v[C_GENDER], "W");
        break;
    case INV_NIK_SHORT:
        t.v[C_NIK][15] = '\0';
        break;
    case INV_DATE_FORMAT: {
        int y, m, d;
        char *p = t.v[C_TSTART];
        dates_to_civil(rc.term_start, &y, &m, &d);
        p = put_digits(p, (uint64_t)d, 2);
        *p++ = '/';
        p = put_digits(p, (uint64_t)m, 2);
        *p++ = '/';
        p = put_digits(p, (uint64_t)y, 4);
        *p = '\0';
        break;
    }
    case INV_NO_AGREEMENT:
        t.v[C_AGREEMENT][0] = '\0';
        break;
    case INV_UNKNOWN_PROGRAM:
        strcpy(t.v[C_PROGRAMS], "JKK;JKP");
        break;
    case INV_TPS_RANGE:
        strcpy(t.v[C_TPS], "1000");
        break;
    case INV_UNKNOWN_CHANGE:
        strcpy(t.v[C_CHANGE], "ENROL");
        break;
    case INV_TERMINATE_NO_EFFECTIVE: {
        text_row u;
        memset(&u, 0, sizeof u);
        strcpy(u.v[C_CHANGE], "TERMINATE");
        memcpy(u.v[C_NIK], g->last_nik[0] ? g->last_nik : rc.nik, 17);
        t = u;
        break;
    }
    case INV__COUNT:
        break;
    }
    g->desa = saved_desa;
    if (write_row(g, &t) < 0)
        return 0;
    g->invalid_done++;
    fprintf(stderr, "line %" PRIu64 ": %s\n", line, invalid_rule[kind]);
    return 0;
}

/* ---------------------------------------------------------------- valid rows */

static int pending_push(gen *g, const pending *p)
{
    if (g->n_pend == g->cap_pend) {
        size_t cap = g->cap_pend ? g->cap_pend * 2 : 1024;
        pending *np = realloc(g->pend, cap * sizeof *np);
        if (!np)
            return -1;
        g->pend = np;
        g->cap_pend = cap;
    }
    g->pend[g->n_pend] = *p;
    g->pend[g->n_pend].seq = g->seq++;
    g->n_pend++;
    return 0;
}

static int pending_cmp(const void *a, const void *b)
{
    const pending *x = a, *y = b;

    if (x->effective != y->effective)
        return x->effective < y->effective ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Schedules the UPDATE / TERMINATE of a freshly enrolled worker, effective inside the term. */
static int schedule_changes(gen *g, const roster_change *rc, const role_info *ri)
{
    rng *r = &g->r;
    int32_t upd_last = rc->term_end;
    pending p;

    if (g->terminate_pct > 0 && rng_pct(r, g->terminate_pct)) {
        memset(&p, 0, sizeof p);
        p.change = CHANGE_TERMINATE;
        memcpy(p.nik, rc->nik, 17);
        p.effective = rng_range(r, rc->term_start + 2, rc->term_end - 1);
        upd_last = p.effective - 1;
        if (pending_push(g, &p) < 0)
            return -1;
    }
    if (g->update_pct > 0 && rng_pct(r, g->update_pct)) {
        memset(&p, 0, sizeof p);
        p.change = CHANGE_UPDATE;
        memcpy(p.nik, rc->nik, 17);
        p.effective = rng_range(r, rc->term_start + 1, upd_last);
        uint32_t pick = rng_below(r, 100);
        if (!(rc->fields & RF_KPJ) && pick < 40) {
            p.what = UPD_KPJ;
            make_kpj(g, p.kpj);
        } else if (pick < 70) {
            p.what = UPD_PHONE;
            make_phone(r, p.phone);
        } else {
            p.what = UPD_WAGE;
            p.wage = rc->monthly_wage == ri->wage_member && ri->wage_chair != ri->wage_member
                         ? ri->wage_chair
                         : rc->monthly_wage + 100000;
        }
        if (pending_push(g, &p) < 0)
            return -1;
    }
    return 0;
}

static int flush_pending(gen *g)
{
    if (g->n_pend > 1)
        qsort(g->pend, g->n_pend, sizeof *g->pend, pending_cmp);
    for (size_t i = 0; i < g->n_pend && !g->done; i++) {
        const pending *p = &g->pend[i];
        roster_change rc;
        text_row t;

        roster_change_init(&rc);
        rc.change = p->change;
        memcpy(rc.nik, p->nik, 17);
        rc.effective_date = p->effective;
        rc.fields = RF_EFFECTIVE;
        if (p->change == CHANGE_UPDATE) {
            switch (p->what) {
            case UPD_KPJ:
                memcpy(rc.kpj, p->kpj, 12);
                rc.fields |= RF_KPJ;
                break;
            case UPD_PHONE:
                memcpy(rc.phone, p->phone, sizeof rc.phone);
                rc.fields |= RF_PHONE;
                break;
            case UPD_WAGE:
                rc.monthly_wage = p->wage;
                rc.fields |= RF_WAGE;
                break;
            }
        }
        to_text(g, &rc, &t);
        if (write_row(g, &t) == 0)
            g->counts[p->change]++;
    }
    g->n_pend = 0;
    return 0;
}

static int emit_workers(gen *g, const role_info *ri, int tps)
{
    int n = ri->per_unit;

    if (ri->role == ROLE_PANTARLIH && ((g->rg->kec[g->kec].pantarlih2[g->desa] >> (tps - 1)) & 1u))
        n = 2;
    for (int i = 0; i < n && !g->done; i++) {
        roster_change rc;
        text_row t;

        if (make_worker(g, ri, i, tps, &rc) < 0) {
            fprintf(stderr, "gen_roster: no free NIK serial left\n");
            return -1;
        }
        to_text(g, &rc, &t);
        if (write_row(g, &t) < 0)
            break;
        g->counts[CHANGE_ENROLL]++;
        memcpy(g->last_nik, rc.nik, 17);
        if (schedule_changes(g, &rc, ri) < 0)
            return -1;
        while (g->invalid_done < g->n_invalid && !g->done &&
               g->rows >= (g->invalid_done + 1) * g->invalid_every)
            if (emit_invalid(g) < 0)
                return -1;
    }
    return 0;
}

static int emit_regency(gen *g, const regency *rg)
{
    const known_regency *kr = known_find(rg->code);

    rng_seed(&g->r, g->seed, (uint64_t)rg->code);
    g->rg = rg;
    g->kpu_jht = kr && kr->kpu_jht;
    for (g->kec = 0; g->kec < rg->n_kec && !g->done; g->kec++) {
        const kecamatan *kc = &rg->kec[g->kec];

        for (size_t i = 0; i < N_ROLES && !g->done; i++) {
            if (roles[i].level != LVL_KEC)
                continue;
            g->desa = -1;
            if (emit_workers(g, &roles[i], 0) < 0)
                return -1;
        }
        for (g->desa = 0; g->desa < kc->n_desa && !g->done; g->desa++) {
            for (size_t i = 0; i < N_ROLES && !g->done; i++)
                if (roles[i].level == LVL_DESA && emit_workers(g, &roles[i], 0) < 0)
                    return -1;
            for (int t = 1; t <= kc->n_tps[g->desa] && !g->done; t++)
                for (size_t i = 0; i < N_ROLES && !g->done; i++)
                    if (roles[i].level == LVL_TPS && emit_workers(g, &roles[i], t) < 0)
                        return -1;
        }
        if (flush_pending(g) < 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- side files */

static void regency_name(int code, char *dst, size_t size)
{
    const known_regency *kr = known_find(code);

    if (kr)
        snprintf(dst, size, "%s", kr->name);
    else
        snprintf(dst, size, "%s %02d.%02d", code % 100 >= 71 ? "Kota" : "Kabupaten", code / 100,
                 code % 100);
}

static void place_name(rng *r, char *dst, size_t size)
{
    int n = rng_range(r, 2, 4);
    size_t len = 0;

    dst[0] = '\0';
    for (int i = 0; i < n && len + 5 < size; i++) {
        const char *s = PICK(r, syllables);
        size_t sl = strlen(s);
        if (len + sl >= size)
            break;
        memcpy(dst + len, s, sl + 1);
        len += sl;
    }
    if (dst[0] >= 'a' && dst[0] <= 'z')
        dst[0] = (char)(dst[0] - 'a' + 'A');
}

static void write_agreements(FILE *fp, const int *codes, int n)
{
    fputs("agreement_id,name,institution,counterparty,bpjs_branch,region_scope,programs,"
          "period_start,period_end,funding_source\n",
          fp);
    for (int i = 0; i < n; i++) {
        const known_regency *kr = known_find(codes[i]);
        char name[64], branch[80];
        int kpu_jht = kr ? kr->kpu_jht : 0;

        regency_name(codes[i], name, sizeof name);
        if (kr)
            snprintf(branch, sizeof branch, "%s", kr->branch);
        else
            snprintf(branch, sizeof branch, "KC %02d.%02d", codes[i] / 100, codes[i] % 100);
        for (int inst = 0; inst < 2; inst++) {
            const char *iname = inst ? "BAWASLU" : "KPU";
            const char *party = inst ? "Bawaslu" : "KPU";
            const char *funding = kr ? (inst ? kr->bawaslu_funding : kr->kpu_funding)
                                     : (inst ? "APBN_BAWASLU" : "APBN_KPU");
            fprintf(fp,
                    "PKS-%s-%04d-2023,Perlindungan Jaminan Sosial Ketenagakerjaan Badan Ad Hoc "
                    "Pemilu 2024 %s %s,%s,%s %s,BPJS Ketenagakerjaan %s,%02d.%02d,%s,2023-01-01,"
                    "%s,%s\n",
                    iname, codes[i], party, name, iname, party, name, branch, codes[i] / 100,
                    codes[i] % 100, !inst && kpu_jht ? "JKK;JKM;JHT" : "JKK;JKM",
                    inst ? "2024-06-30" : "2024-12-31", funding);
        }
    }
}

static void write_regions(FILE *fp, const regency *rg)
{
    char name[64];
    rng r;

    regency_name(rg->code, name, sizeof name);
    fprintf(fp, "%02d.%02d,regency,%s,\n", rg->code / 100, rg->code % 100, name);
    for (int k = 0; k < rg->n_kec; k++) {
        const kecamatan *kc = &rg->kec[k];

        rng_seed(&r, 0x6E616D6500000000ull, (uint64_t)rg->code * 100 + (uint64_t)k);
        if (rg->code == 7313)
            snprintf(name, sizeof name, "%s", wajo_kecamatan[k]);
        else
            place_name(&r, name, sizeof name);
        fprintf(fp, "%02d.%02d.%02d,kecamatan,%s,\n", rg->code / 100, rg->code % 100, k + 1,
                name);
        for (int d = 0; d < kc->n_desa; d++) {
            place_name(&r, name, sizeof name);
            fprintf(fp, "%02d.%02d.%02d.%04d,%s,%s,%d\n", rg->code / 100, rg->code % 100,
                    k + 1, kc->desa[d], kc->desa[d] < 2000 ? "kelurahan" : "desa", name,
                    kc->n_tps[d]);
        }
    }
}

/* ---------------------------------------------------------------- main */

static const config_option options[] = {
    {"seed", CONFIG_INT, "1", NULL, "random seed"},
    {"regency", CONFIG_STR, "73.13", NULL,
     "comma-separated regency codes, PP.KK or PPKK (73.13 is Kabupaten Wajo)"},
    {"scale-events", CONFIG_INT, "0", NULL,
     "write exactly N rows, walking on through the first regency's province and then other "
     "provinces (0: the regencies' rosters)"},
    {"format", CONFIG_STR, "csv", NULL, "csv or jsonl"},
    {"output", CONFIG_STR, NULL, NULL, "write the roster to FILE instead of stdout"},
    {"updates", CONFIG_STR, "0", NULL, "percent of workers that also get an UPDATE"},
    {"terminations", CONFIG_STR, "0", NULL, "percent of workers that also get a TERMINATE"},
    {"invalid", CONFIG_INT, "0", NULL,
     "add N invalid rows, each of a different kind (then they repeat); each is reported on "
     "stderr as \"line L: <rule it breaks>\""},
    {"serial-base", CONFIG_INT, "0", NULL,
     "NIK serials start after N (0-9000), so runs with different bases never share a NIK"},
    {"agreements-out", CONFIG_STR, NULL, NULL, "write the matching agreements CSV to FILE"},
    {"regions-out", CONFIG_STR, NULL, NULL, "write the region table (code, level, name, tps)"},
    {"plain-codes", CONFIG_BOOL, "false", NULL, "region codes without dots (7313012001)"},
    {"verbose", CONFIG_BOOL, "false", NULL, "print a summary on stderr"},
    {NULL, 0, NULL, NULL, NULL},
};

static const program_def program = {
    "gen_roster",
    "usage: gen_roster [options]\n"
    "Writes a synthetic roster of ad hoc election workers (contracts.md \"Roster\n"
    "changes\"), deterministic by seed.\n\noptions:\n",
    0,
    options,
    0,
    0,
    NULL,
};

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("gen_roster: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see --help)\n", stderr);
    exit(2);
}

static uint64_t parse_count(const char *opt, const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-')
        die_usage("%s: '%s' is not a non-negative integer", opt, s);
    return (uint64_t)v;
}

static double parse_pct(const char *opt, const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0 && v <= 100))
        die_usage("%s: '%s' is not a percentage 0-100", opt, s);
    return v;
}

/* "73.13" or "7313" -> 7313; -1 when it is not a valid regency code. */
static int parse_regency(const char *s, size_t len)
{
    char code[16], plain[REGION_DESA + 1];
    int level;

    if (len >= sizeof code)
        return -1;
    memcpy(code, s, len);
    code[len] = '\0';
    if (region_normalize(code, plain, sizeof plain, &level, NULL, 0) < 0 ||
        level != REGION_REGENCY)
        return -1;
    return atoi(plain);
}

/* The regencies of --regency into user (at most MAX_REGENCIES); returns the count. */
static int parse_regencies(const char *list, int *user)
{
    int n = 0;

    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        int code = parse_regency(p, len);
        if (code < 0)
            die_usage("--regency: '%.*s' is not a regency code like 73.13", (int)len, p);
        if (n == MAX_REGENCIES)
            die_usage("--regency: at most %d regencies", MAX_REGENCIES);
        for (int i = 0; i < n; i++)
            if (user[i] == code)
                die_usage("--regency: '%.*s' given twice", (int)len, p);
        user[n++] = code;
        p += len;
        if (*p == ',')
            p++;
    }
    return n;
}

int main(int argc, char **argv)
{
    static gen g;
    static outbuf out;
    static regency rg;
    int user[MAX_REGENCIES], n_user;
    int used[1024], n_used = 0;
    const char *output, *agreements_out, *regions_out, *format;
    FILE *regions_fp = NULL;
    uint64_t scale;
    int nargs, rc;
    config *cfg = program_start(&program, argc, argv, &nargs, &rc);

    if (!cfg)
        return rc;
    rc = 1;
    g.seed = parse_count("--seed", config_get(cfg, "seed"));
    n_user = parse_regencies(config_get(cfg, "regency"), user);
    scale = parse_count("--scale-events", config_get(cfg, "scale-events"));
    format = config_get(cfg, "format");
    if (strcmp(format, "csv") && strcmp(format, "jsonl"))
        die_usage("--format: '%s' is not csv or jsonl", format);
    g.csv = strcmp(format, "csv") == 0;
    output = config_get(cfg, "output");
    g.update_pct = parse_pct("--updates", config_get(cfg, "updates"));
    g.terminate_pct = parse_pct("--terminations", config_get(cfg, "terminations"));
    g.n_invalid = parse_count("--invalid", config_get(cfg, "invalid"));
    agreements_out = config_get(cfg, "agreements-out");
    regions_out = config_get(cfg, "regions-out");
    g.plain_codes = config_bool(cfg, "plain-codes");
    g.verbose = config_bool(cfg, "verbose");
    if (parse_count("--serial-base", config_get(cfg, "serial-base")) > 9000)
        die_usage("--serial-base: must be 0-9000");
    g.serial_base = (uint16_t)config_int(cfg, "serial-base");
    g.limit = UINT64_MAX;
    if (!n_user)
        die_usage("--regency: no regency given");
    if (scale && g.n_invalid >= scale)
        die_usage("--invalid %" PRIu64 " leaves no room in --scale-events %" PRIu64, g.n_invalid,
                  scale);

    /* invalid rows are spread evenly over the rows expected */
    uint64_t expected = scale;
    if (!scale) {
        for (int i = 0; i < n_user; i++) {
            regency_build(user[i], &rg);
            expected += regency_workers(&rg);
        }
        expected = (uint64_t)((double)expected * (1 + (g.update_pct + g.terminate_pct) / 100));
    } else {
        g.limit = scale;
    }
    g.invalid_every = g.n_invalid ? expected / (g.n_invalid + 1) : 0;
    if (g.n_invalid && !g.invalid_every)
        g.invalid_every = 1;

    out.fp = stdout;
    if (output && !(out.fp = fopen(output, "w"))) {
        fprintf(stderr, "gen_roster: unable to open '%s': %s\n", output, strerror(errno));
        goto out;
    }
    if (regions_out) {
        if (!(regions_fp = fopen(regions_out, "w"))) {
            fprintf(stderr, "gen_roster: unable to open '%s': %s\n", regions_out, strerror(errno));
            goto out;
        }
        fputs("region_code,level,name,tps\n", regions_fp);
    }
    g.out = &out;
    g.kpj_offset = g.seed * 7919u;
    rng_seed(&g.r, g.seed, 0);

    write_header(&g);
    regency_iter it;
    regency_iter_init(&it, user, n_user, scale != 0);
    for (int code; !g.done && (code = regency_iter_next(&it));) {
        regency_build(code, &rg);
        if (n_used < (int)(sizeof used / sizeof used[0]))
            used[n_used++] = code;
        if (regions_fp)
            write_regions(regions_fp, &rg);
        if (emit_regency(&g, &rg) < 0)
            goto out;
        if (out.err)
            break;
    }
    /* fewer rows than expected: the remaining invalid rows go at the end */
    g.kec = rg.n_kec - 1;
    g.desa = 0;
    while (!scale && g.invalid_done < g.n_invalid && !out.err)
        if (emit_invalid(&g) < 0)
            goto out;
    if (scale && g.rows < scale)
        fprintf(stderr, "gen_roster: warning: ran out of regencies after %" PRIu64 " rows\n",
                g.rows);
    out_flush(&out);
    if (out.err || fflush(out.fp) != 0) {
        fprintf(stderr, "gen_roster: unable to write '%s': %s\n", output ? output : "stdout",
                strerror(out.err ? out.err : errno));
        goto out;
    }
    if (agreements_out) {
        FILE *fp = fopen(agreements_out, "w");
        if (!fp) {
            fprintf(stderr, "gen_roster: unable to open '%s': %s\n", agreements_out,
                    strerror(errno));
            goto out;
        }
        write_agreements(fp, used, n_used);
        if (fclose(fp) != 0) {
            fprintf(stderr, "gen_roster: unable to write '%s': %s\n", agreements_out,
                    strerror(errno));
            goto out;
        }
    }
    if (g.verbose)
        fprintf(stderr,
                "gen_roster: rows=%" PRIu64 " enroll=%" PRIu64 " update=%" PRIu64
                " terminate=%" PRIu64 " invalid=%" PRIu64 " regencies=%d seed=%" PRIu64 "\n",
                g.rows, g.counts[CHANGE_ENROLL], g.counts[CHANGE_UPDATE],
                g.counts[CHANGE_TERMINATE], g.invalid_done, n_used, g.seed);
    rc = 0;
out:
    if (regions_fp && fclose(regions_fp) != 0 && rc == 0) {
        fprintf(stderr, "gen_roster: unable to write '%s': %s\n", regions_out, strerror(errno));
        rc = 1;
    }
    if (output && out.fp && fclose(out.fp) != 0 && rc == 0) {
        fprintf(stderr, "gen_roster: unable to write '%s': %s\n", output, strerror(errno));
        rc = 1;
    }
    free(g.nik_keys);
    free(g.nik_serial);
    free(g.pend);
    config_destroy(cfg);
    return rc;
}
