/*
 * tz.c: a small reader of TZif files (RFC 8536), thread-safe because it
 * never goes near TZ, tzset() or localtime(): a zone is a plain immutable
 * value built once from the file's bytes.
 *
 * What is kept of a file:
 *   - the transition table (64-bit data of v2+ files, 32-bit of v1-only
 *     ones) with each transition's UTC offset and DST flag;
 *   - the POSIX TZ footer ("CET-1CEST,M3.5.0,M10.5.0/3") that v2+ files
 *     carry for every time after the last transition. Debian ships "fat"
 *     files (transitions up to 2037) or "slim" ones (transitions only while
 *     the rules changed); both end in the footer, which is what makes 2040
 *     work for either.
 * Abbreviations, leap seconds and the std/ut indicators are skipped.
 *
 * The file is untrusted: counts are bounded by the TZ_MAX_* below, sizes
 * are checked against the bytes actually present, transitions must ascend,
 * type indexes must exist and offsets be within RFC 8536's -89999..93599.
 */
#include "tz.h"

#include "dates.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZ_DIR "/usr/share/zoneinfo/"
#define TZ_FILE_MAX (64 * 1024) /* real files are under 4 KiB */
#define TZ_MAX_TIMES 4096       /* tzcode allows 2000 */
#define TZ_MAX_TYPES 256
#define TZ_MAX_CHARS 4096
#define TZ_MAX_LEAPS 512
#define TZ_FOOTER_MAX 128
#define TZ_OFF_MIN (-89999)
#define TZ_OFF_MAX 93599
#define TZ_RULE_TIME_MAX (167 * 3600) /* v3 allows -167..167 hours */
/* Times are clamped to about ±34,000 years so calendar arithmetic cannot
 * overflow; a footer's rules repeat every year, so nothing is lost. */
#define TZ_T_LIMIT (INT64_C(1) << 40)

typedef struct {
    int32_t off;
    bool dst;
} tz_type_t;

/* One end of a DST period in a POSIX TZ string. */
typedef enum { RULE_JULIAN1, RULE_JULIAN0, RULE_MWD } rule_kind_t;
typedef struct {
    rule_kind_t kind;
    int day;   /* Jn: 1-365; n: 0-365; Mm.w.d: d, 0-6 (Sunday 0) */
    int week;  /* Mm.w.d: 1-5, 5 = last */
    int month; /* Mm.w.d: 1-12 */
    int32_t time; /* local seconds after midnight at which it happens */
} tz_rule_t;

typedef struct {
    int32_t std_off, dst_off; /* offsets to add to UTC, unlike POSIX's */
    bool has_dst;
    tz_rule_t start, end;
} tz_posix_t;

struct gl_tz {
    char name[GL_TZ_NAME_MAX + 1];
    int n_times;
    int64_t *times;   /* ascending transition instants */
    uint8_t *idx;     /* type in effect from times[i] on */
    int n_types;
    tz_type_t *types; /* types[0] also covers times before times[0] */
    bool has_footer;
    tz_posix_t footer;
};

static int64_t clamp_t(int64_t t)
{
    return t < -TZ_T_LIMIT ? -TZ_T_LIMIT : t > TZ_T_LIMIT ? TZ_T_LIMIT : t;
}

/* ---- POSIX TZ strings -------------------------------------------------- */

/* Skips a zone abbreviation: 3+ letters, or <...> of [A-Za-z0-9+-]. */
static const char *posix_name(const char *s)
{
    const char *p = s;
    if (*p == '<') {
        for (p++; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  *p == '+' || *p == '-';
             p++)
            ;
        return *p == '>' && p - s >= 4 ? p + 1 : NULL;
    }
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

static const char *posix_num(const char *s, int min, int max, int *out)
{
    if (*s < '0' || *s > '9')
        return NULL;
    int v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (v > max)
            return NULL;
    }
    if (v < min)
        return NULL;
    *out = v;
    return s;
}

/* [+-]hh[:mm[:ss]] with hours up to max_h, as signed seconds. */
static const char *posix_time(const char *s, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, sec = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!(s = posix_num(s, 0, max_h, &h)))
        return NULL;
    if (*s == ':' && !(s = posix_num(s + 1, 0, 59, &m)))
        return NULL;
    if (*s == ':' && !(s = posix_num(s + 1, 0, 59, &sec)))
        return NULL;
    *out = sign * (h * 3600 + m * 60 + sec);
    return s;
}

static const char *posix_rule(const char *s, tz_rule_t *r)
{
    if (*s == 'J') {
        r->kind = RULE_JULIAN1;
        s = posix_num(s + 1, 1, 365, &r->day);
    } else if (*s == 'M') {
        r->kind = RULE_MWD;
        if ((s = posix_num(s + 1, 1, 12, &r->month)) && *s == '.' && (s = posix_num(s + 1, 1, 5, &r->week)) &&
            *s == '.')
            s = posix_num(s + 1, 0, 6, &r->day);
        else
            s = NULL;
    } else {
        r->kind = RULE_JULIAN0;
        s = posix_num(s, 0, 365, &r->day);
    }
    r->time = 2 * 3600;
    if (s && *s == '/')
        s = posix_time(s + 1, TZ_RULE_TIME_MAX / 3600, &r->time);
    return s;
}

/* Parses "std offset [dst [offset] [,start[/time],end[/time]]]". */
static bool posix_parse(const char *s, tz_posix_t *p)
{
    int32_t v;
    memset(p, 0, sizeof *p);
    if (!(s = posix_name(s)) || !(s = posix_time(s, 24, &v)))
        return false;
    p->std_off = -v; /* POSIX counts hours west of Greenwich */
    if (*s == '\0')
        return true;
    if (!(s = posix_name(s)))
        return false;
    p->has_dst = true;
    p->dst_off = p->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (!(s = posix_time(s, 24, &v)))
            return false;
        p->dst_off = -v;
    }
    if (*s == '\0') { /* no rule: the US rules, as tzcode assumes */
        p->start = (tz_rule_t){ RULE_MWD, 0, 2, 3, 7200 };
        p->end = (tz_rule_t){ RULE_MWD, 0, 1, 11, 7200 };
        return true;
    }
    if (*s != ',' || !(s = posix_rule(s + 1, &p->start)) || *s != ',' || !(s = posix_rule(s + 1, &p->end)))
        return false;
    return *s == '\0';
}

/* The local midnight-relative instant a rule names in year y, as seconds
 * since the epoch in that local time (not yet shifted to UTC). */
static int64_t rule_local(const tz_rule_t *r, int64_t y)
{
    int64_t day;
    switch (r->kind) {
    case RULE_JULIAN1: /* Feb 29 is never counted */
        day = gl_date_days_from_civil(y, 1, 1) + r->day - 1 + (gl_date_is_leap(y) && r->day >= 60);
        break;
    case RULE_JULIAN0:
        day = gl_date_days_from_civil(y, 1, 1) + r->day;
        break;
    default: {
        int64_t first = gl_date_days_from_civil(y, r->month, 1);
        int wd_first = gl_date_weekday(first) % 7; /* 0 = Sunday, as POSIX counts */
        int dom = 1 + (r->day - wd_first + 7) % 7 + 7 * (r->week - 1);
        int len = gl_date_days_in_month(y, r->month);
        while (dom > len)
            dom -= 7;
        day = first + dom - 1;
        break;
    }
    }
    return day * 86400 + r->time;
}

/* The DST starts and ends of years y-1..y+2 around t, as UTC instants. A
 * start happens at standard local time, an end at daylight local time. */
static void posix_events(const tz_posix_t *p, int64_t t, int64_t starts[4], int64_t ends[4])
{
    int64_t y;
    int m, d;
    gl_date_civil_from_days(gl_date_floor_div(t + p->std_off, 86400), &y, &m, &d);
    for (int i = 0; i < 4; i++) {
        starts[i] = rule_local(&p->start, y - 1 + i) - p->std_off;
        ends[i] = rule_local(&p->end, y - 1 + i) - p->dst_off;
    }
}

static int32_t posix_offset(const tz_posix_t *p, int64_t t, bool *is_dst)
{
    bool dst = false;
    if (p->has_dst) {
        int64_t starts[4], ends[4], best = INT64_MIN;
        posix_events(p, t, starts, ends);
        /* The latest event at or before t decides; on a tie (DST all year:
         * "0/0,J365/25") the start wins. */
        for (int i = 0; i < 4; i++) {
            if (ends[i] <= t && ends[i] > best) {
                best = ends[i];
                dst = false;
            }
            if (starts[i] <= t && starts[i] >= best) {
                best = starts[i];
                dst = true;
            }
        }
    }
    if (is_dst)
        *is_dst = dst;
    return dst ? p->dst_off : p->std_off;
}

static bool posix_next(const tz_posix_t *p, int64_t t, int64_t *when)
{
    if (!p->has_dst)
        return false;
    int64_t starts[4], ends[4], best = INT64_MAX;
    posix_events(p, t, starts, ends);
    for (int i = 0; i < 4; i++) {
        if (starts[i] > t && starts[i] < best)
            best = starts[i];
        if (ends[i] > t && ends[i] < best)
            best = ends[i];
    }
    *when = best;
    return best != INT64_MAX;
}

/* ---- TZif -------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t len, pos;
} reader_t;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

typedef struct {
    char version; /* 0, '2', '3', '4', ... */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_hdr_t;

/* Reads a 44-byte header and checks every count against its bound. */
static bool tzif_header(reader_t *r, tzif_hdr_t *h, bool need_types)
{
    if (r->len - r->pos < 44 || memcmp(r->p + r->pos, "TZif", 4) != 0)
        return false;
    const uint8_t *p = r->p + r->pos;
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    r->pos += 44;
    if (h->version != 0 && (h->version < '2' || h->version > '9'))
        return false;
    return h->timecnt <= TZ_MAX_TIMES && h->typecnt <= TZ_MAX_TYPES && h->charcnt <= TZ_MAX_CHARS &&
           h->leapcnt <= TZ_MAX_LEAPS && (h->typecnt >= 1 || !need_types) &&
           (h->isutcnt == 0 || h->isutcnt == h->typecnt) && (h->isstdcnt == 0 || h->isstdcnt == h->typecnt);
}

/* Bytes of the data block after a header; the bounds above keep it small. */
static size_t tzif_block_len(const tzif_hdr_t *h, size_t tsize)
{
    return h->timecnt * (tsize + 1) + h->typecnt * 6 + h->charcnt + h->leapcnt * (tsize + 4) + h->isstdcnt +
           h->isutcnt;
}

/* Reads one data block (tsize 4 or 8) into tz. */
static bool tzif_block(reader_t *r, const tzif_hdr_t *h, size_t tsize, gl_tz_t *tz)
{
    if (r->len - r->pos < tzif_block_len(h, tsize))
        return false;
    const uint8_t *p = r->p + r->pos;
    tz->n_times = (int)h->timecnt;
    tz->n_types = (int)h->typecnt;
    tz->times = gl_xcalloc(h->timecnt ? h->timecnt : 1, sizeof *tz->times);
    tz->idx = gl_xcalloc(h->timecnt ? h->timecnt : 1, 1);
    tz->types = gl_xcalloc(h->typecnt, sizeof *tz->types);
    for (uint32_t i = 0; i < h->timecnt; i++) {
        tz->times[i] = tsize == 8 ? (int64_t)be64(p) : (int64_t)(int32_t)be32(p);
        p += tsize;
        if (i > 0 && tz->times[i] <= tz->times[i - 1])
            return false;
    }
    for (uint32_t i = 0; i < h->timecnt; i++) {
        tz->idx[i] = p[i];
        if (p[i] >= h->typecnt)
            return false;
    }
    p += h->timecnt;
    for (uint32_t i = 0; i < h->typecnt; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < TZ_OFF_MIN || off > TZ_OFF_MAX || p[4] > 1 || p[5] >= h->charcnt)
            return false;
        tz->types[i] = (tz_type_t){ off, p[4] == 1 };
    }
    r->pos += tzif_block_len(h, tsize);
    return true;
}

static void tz_reset(gl_tz_t *tz)
{
    free(tz->times);
    free(tz->idx);
    free(tz->types);
    tz->times = NULL;
    tz->idx = NULL;
    tz->types = NULL;
    tz->n_times = tz->n_types = 0;
}

static bool tzif_parse(reader_t *r, gl_tz_t *tz)
{
    tzif_hdr_t h;
    if (!tzif_header(r, &h, true))
        return false;
    if (h.version == 0) /* v1 only: the 32-bit data is all there is */
        return tzif_block(r, &h, 4, tz);
    /* v2+: skip the v1 block (writers may leave it nearly empty) */
    if (r->len - r->pos < tzif_block_len(&h, 4))
        return false;
    r->pos += tzif_block_len(&h, 4);
    if (!tzif_header(r, &h, true) || h.version == 0 || !tzif_block(r, &h, 8, tz))
        return false;
    /* the footer: "\n" POSIX-TZ-string "\n", the string possibly empty */
    if (r->pos >= r->len || r->p[r->pos] != '\n')
        return false;
    const uint8_t *start = r->p + r->pos + 1;
    size_t room = r->len - r->pos - 1;
    const uint8_t *nl = memchr(start, '\n', room < TZ_FOOTER_MAX ? room : TZ_FOOTER_MAX);
    if (!nl)
        return false;
    char footer[TZ_FOOTER_MAX];
    memcpy(footer, start, (size_t)(nl - start));
    footer[nl - start] = '\0';
    if (footer[0] == '\0')
        return true;
    if (memchr(start, '\0', (size_t)(nl - start)) || !posix_parse(footer, &tz->footer))
        return false;
    tz->has_footer = true;
    return true;
}

int gl_tz_parse(const void *data, size_t len, gl_tz_t **out, gl_err_t *err)
{
    gl_tz_t *tz = gl_xcalloc(1, sizeof *tz);
    reader_t r = { data, len, 0 };
    if (!data || !tzif_parse(&r, tz)) {
        gl_tz_free(tz);
        gl_err_set(err, "malformed zone file");
        return GL_INVALID;
    }
    *out = tz;
    return GL_OK;
}

/* ---- loading ----------------------------------------------------------- */

static bool name_ok(const char *name)
{
    size_t n = strnlen(name, GL_TZ_NAME_MAX + 1);
    if (n == 0 || n > GL_TZ_NAME_MAX || name[0] < 'A' || name[0] > 'Z' || name[n - 1] == '/' ||
        strstr(name, "..") || strstr(name, "//"))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              c == '-' || c == '+' || c == '/'))
            return false;
    }
    return true;
}

/* Reads the whole file into buf (at most TZ_FILE_MAX bytes): 1 when read,
 * 0 when there is no such zone file, -1 when it is not a sane one. */
static int read_zone(const char *path, uint8_t *buf, size_t *len)
{
    /* O_NONBLOCK: a FIFO planted in the tree must not hang the caller */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return 0;
    struct stat st;
    int res = -1;
    if (fstat(fd, &st) != 0)
        goto out;
    if (!S_ISREG(st.st_mode)) { /* "Europe" is no zone; a device is no file */
        res = S_ISDIR(st.st_mode) ? 0 : -1;
        goto out;
    }
    if (st.st_size > TZ_FILE_MAX)
        goto out;
    size_t got = 0;
    while (got < TZ_FILE_MAX) {
        ssize_t n = read(fd, buf + got, TZ_FILE_MAX - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *len = got;
    res = 1;
out:
    close(fd);
    return res;
}

int gl_tz_load(const char *name, gl_tz_t **out, gl_err_t *err)
{
    if (!name || !name_ok(name)) {
        gl_err_set(err, "unknown time zone '%.64s'", name ? name : "");
        return GL_INVALID;
    }
    char path[sizeof TZ_DIR + GL_TZ_NAME_MAX];
    snprintf(path, sizeof path, "%s%s", TZ_DIR, name);
    uint8_t *buf = gl_xmalloc(TZ_FILE_MAX);
    size_t len = 0;
    int got = read_zone(path, buf, &len);
    gl_tz_t *tz = NULL;
    int rc = GL_OK;
    if (got == 0 && strcmp(name, "UTC") == 0) {
        tz = gl_xcalloc(1, sizeof *tz); /* no table, no footer: offset 0 */
        tz->n_types = 1;
        tz->types = gl_xcalloc(1, sizeof *tz->types);
    } else if (got == 0) {
        gl_err_set(err, "unknown time zone '%s'", name);
        rc = GL_INVALID;
    } else if (got < 0 || gl_tz_parse(buf, len, &tz, NULL) != GL_OK) {
        gl_err_set(err, "time zone '%s' has a malformed zone file", name);
        rc = GL_INVALID;
    }
    free(buf);
    if (rc == GL_OK) {
        snprintf(tz->name, sizeof tz->name, "%s", name);
        *out = tz;
    }
    return rc;
}

void gl_tz_free(gl_tz_t *tz)
{
    if (!tz)
        return;
    tz_reset(tz);
    free(tz);
}

const char *gl_tz_name(const gl_tz_t *tz)
{
    return tz ? tz->name : "UTC";
}

/* ---- queries ----------------------------------------------------------- */

/* Index of the last transition at or before t, or -1 when t precedes all. */
static int last_at_or_before(const gl_tz_t *tz, int64_t t)
{
    int lo = 0, hi = tz->n_times; /* first index with times[i] > t */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (tz->times[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

int32_t gl_tz_offset(const gl_tz_t *tz, int64_t t, bool *is_dst)
{
    if (is_dst)
        *is_dst = false;
    if (!tz)
        return 0;
    /* the table holds any time; the footer's rules are reckoned within the clamp */
    if (tz->has_footer && (tz->n_times == 0 || t > tz->times[tz->n_times - 1]))
        return posix_offset(&tz->footer, clamp_t(t), is_dst);
    int i = last_at_or_before(tz, t);
    const tz_type_t *ty = &tz->types[i < 0 ? 0 : tz->idx[i]];
    if (is_dst)
        *is_dst = ty->dst;
    return ty->off;
}

bool gl_tz_next_change(const gl_tz_t *tz, int64_t t, int64_t *when)
{
    if (!tz)
        return false;
    /* the table is searched with t as it is: a transition past the clamp
     * (64-bit files may hold any) must not be returned again for a t
     * beyond the clamp, which would walk callers in place */
    int i = last_at_or_before(tz, t);
    if (i + 1 < tz->n_times) {
        *when = tz->times[i + 1];
        return true;
    }
    if (!tz->has_footer || t >= TZ_T_LIMIT)
        return false; /* no rule-based changes are reckoned past the clamp */
    /* at times[n-1] itself the table still rules; the footer from then on */
    return posix_next(&tz->footer, clamp_t(t), when);
}
