/*
 * test_cron.c: cron parsing, next fire times in UTC and across daylight
 * saving changes (Europe/Berlin, America/New_York, Australia), and the
 * TZif reader (real zones, hand-built slim/v1 files, hostile files and
 * names). Expected DST times were cross-checked with Python's zoneinfo.
 */
#include "cron.h"
#include "gl_test.h"
#include "json.h"
#include "tz.h"
#include "dates.h"
#include "engine.h"


#include <time.h>

/* "2026-03-29T01:00Z" or "2026-03-29T01:00:30Z" as unix seconds. */
static int64_t iso(const char *s)
{
    int y, mo, d, h, mi, sec = 0;
    char z = 0;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d%c", &y, &mo, &d, &h, &mi, &sec, &z) != 7 &&
        (sec = 0, sscanf(s, "%d-%d-%dT%d:%d%c", &y, &mo, &d, &h, &mi, &z) != 6))
        FAIL_AT("bad test time '%s'", s);
    if (z != 'Z')
        FAIL_AT("test time '%s' must end in Z", s);
    return gl_date_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
}

static const char *fmt_iso(int64_t t, char *buf, size_t n)
{
    int64_t days = t / 86400 - (t % 86400 < 0), y;
    int64_t sod = t - days * 86400;
    int mo, d;
    gl_date_civil_from_days(days, &y, &mo, &d);
    snprintf(buf, n, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, (int)(sod / 3600), (int)(sod % 3600 / 60),
             (int)(sod % 60));
    return buf;
}

static gl_tz_t *zone(const char *name)
{
    gl_tz_t *tz = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_tz_load(name, &tz, &err) != GL_OK)
        FAIL_AT("cannot load %s: %s", name, err.msg);
    return tz;
}

static gl_cron_t cron(const char *spec)
{
    gl_cron_t c;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_cron_parse(spec, &c, &err) != GL_OK)
        FAIL_AT("'%s' does not parse: %s", spec, err.msg);
    return c;
}

/* ---- parsing ----------------------------------------------------------- */

static const struct {
    const char *spec;
    const char *err; /* NULL: valid; else a substring of the message */
} parse_cases[] = {
    { "* * * * *", NULL },
    { "0 0 1 1 *", NULL },
    { "*/15 9-17 * * MON-FRI", NULL },
    { "0,30 8-18/2 1,15 jan-Jun,DEC sun", NULL },
    { "5/20 * * * *", NULL },
    { "0 0 * * 7", NULL },
    { "0 0 * * 0-7", NULL },
    { "0 0 * * FRI-SUN", NULL },
    { "59 23 31 12 6", NULL },
    { "  0\t0  *  *  *  ", NULL },
    { "0 0 31 2 *", NULL }, /* valid; it just never fires */
    { "*/59 */23 */31 */12 */7", NULL },
    { "00 09 01 01 00", NULL },
    { "@yearly", NULL },
    { "@annually", NULL },
    { "@monthly", NULL },
    { "@weekly", NULL },
    { "@DAILY", NULL },
    { "@midnight", NULL },
    { "@hourly", NULL },
    { "", "cron schedule is empty" },
    { "   \t ", "cron schedule is empty" },
    { "* * * *", "has 4 fields; expected 5" },
    { "* * * * * *", "has 6 fields; expected 5" },
    { "* * * * * * * * *", "has more than 6 fields" },
    { "61 * * * *", "minute: 61 is out of range 0-59" },
    { "* 24 * * *", "hour: 24 is out of range 0-23" },
    { "* * 0 * *", "day-of-month: 0 is out of range 1-31" },
    { "* * 32 * *", "day-of-month: 32 is out of range 1-31" },
    { "* * * 13 *", "month: 13 is out of range 1-12" },
    { "* * * 0 *", "month: 0 is out of range 1-12" },
    { "* * * * 8", "day-of-week: 8 is out of range 0-7" },
    { "99999999999999999999 * * * *", "minute: 99999999999999999999 is out of range" },
    { "30-10 * * * *", "minute: range 30-10 starts after it ends" },
    { "* * * * SAT-MON", "day-of-week: range SAT-MON starts after it ends" },
    { "*/0 * * * *", "minute: step 0 is out of range 1-59" },
    { "1-5/0 * * * *", "minute: step 0 is out of range 1-59" },
    { "* */24 * * *", "hour: step 24 is out of range 1-23" },
    { "*/ * * * *", "minute: '*/' needs a step number" },
    { "1,,2 * * * *", "minute: empty list item" },
    { "1, * * * *", "minute: empty list item" },
    { ",1 * * * *", "minute: empty list item" },
    { "* * * FOO *", "month: 'FOO' is not a number or month name" },
    { "* * * * funday", "day-of-week: 'funday' is not a number or day name" },
    { "* MON * * *", "hour: 'MON' is not a number" },
    { "* * * JAN-MON *", "month: 'MON' is not a number or month name" },
    { "1-* * * * *", "minute: '*' is not a number" },
    { "5- * * * *", "minute: '' is not a number" },
    { "-5 * * * *", "minute: '-5' is not a number" },
    { "5x * * * *", "minute: unexpected 'x' in '5x'" },
    { "*5 * * * *", "minute: unexpected '5' in '*5'" },
    { "1-2-3 * * * *", "minute: unexpected '-' in '1-2-3'" },
    { "1/2/3 * * * *", "minute: unexpected '/' in '1/2/3'" },
    { "? * * * *", "minute: '?' is not a number" },
    { "0 0 L * *", "day-of-month: 'L' is not a number" },
    { "0 0 * * 5#3", "day-of-week: unexpected '#'" },
    { "* * * * *\n", "day-of-week: unexpected byte 0x0a in '*" },
    { "@reboot", "unknown cron macro '@reboot'" },
    { "@daily 5", "cron macro '@daily' takes no other fields" },
    { "@ * * * *", "cron macro '@' takes no other fields" },
};

TEST(parse_table)
{
    for (size_t i = 0; i < GL_NELEM(parse_cases); i++) {
        gl_cron_t c;
        memset(&c, 0xa5, sizeof c);
        gl_cron_t before = c;
        gl_err_t err;
        gl_err_clear(&err);
        int rc = gl_cron_parse(parse_cases[i].spec, &c, &err);
        if (!parse_cases[i].err && rc != GL_OK)
            FAIL_AT("'%s' should parse: %s", parse_cases[i].spec, err.msg);
        if (parse_cases[i].err) {
            if (rc != GL_INVALID)
                FAIL_AT("'%s' should be rejected", parse_cases[i].spec);
            ASSERT_CONTAINS(err.msg, parse_cases[i].err);
            ASSERT(memcmp(&c, &before, sizeof c) == 0); /* untouched on error */
        }
    }
}

TEST(parse_limits)
{
    char spec[400];
    gl_cron_t c;
    gl_err_t err;
    /* exactly 256 bytes is fine, 257 is not */
    memset(spec, ' ', sizeof spec);
    memcpy(spec, "* * * * *", 9);
    spec[256] = '\0';
    ASSERT_EQ(gl_cron_parse(spec, &c, &err), GL_OK);
    spec[256] = ' ';
    spec[257] = '\0';
    ASSERT_EQ(gl_cron_parse(spec, &c, &err), GL_INVALID);
    ASSERT_CONTAINS(err.msg, "longer than 256 characters");
    ASSERT_EQ(gl_cron_parse(NULL, &c, &err), GL_INVALID);
    /* a long list within the limit */
    char list[300];
    int len = 0;
    for (int m = 0; m < 60; m += 2)
        len += snprintf(list + len, sizeof list - (size_t)len, m ? ",%d" : "%d", m);
    snprintf(list + len, sizeof list - (size_t)len, " * * * *");
    c = cron(list);
    ASSERT_EQ(c.minutes, 0x555555555555555ULL);
    /* a huge step or number never overflows */
    ASSERT_EQ(gl_cron_parse("*/99999999999999999999 * * * *", &c, &err), GL_INVALID);
    ASSERT_CONTAINS(err.msg, "minute: step 99999999999999999999 is out of range 1-59");
}

TEST(parse_bits)
{
    gl_cron_t c = cron("*/15 9-17/4 1,15,31 JAN,jun-Aug mon-fri");
    ASSERT_EQ(c.minutes, (1ULL << 0) | (1ULL << 15) | (1ULL << 30) | (1ULL << 45));
    ASSERT_EQ(c.hours, (1u << 9) | (1u << 13) | (1u << 17));
    ASSERT_EQ(c.mdays, (1u << 1) | (1u << 15) | (1u << 31));
    ASSERT_EQ(c.months, (1u << 1) | (1u << 6) | (1u << 7) | (1u << 8));
    ASSERT_EQ(c.wdays, 0x3e);
    ASSERT(!c.mday_any && !c.wday_any);

    c = cron("5/20 * */2 * 5-7");
    ASSERT_EQ(c.minutes, (1ULL << 5) | (1ULL << 25) | (1ULL << 45));
    ASSERT_EQ(c.hours, 0xffffff);
    ASSERT_EQ(c.wdays, (1u << 0) | (1u << 5) | (1u << 6)); /* 7 folds into Sunday */
    ASSERT(c.mday_any && !c.wday_any);                     /* starts with '*' */
    ASSERT_EQ(c.mdays & 0xe, 0xa);                         /* 1, 3 ... */

    ASSERT_EQ(cron("0 0 * * FRI-SUN").wdays, cron("0 0 * * 0,5,6").wdays);
    ASSERT_EQ(cron("0 0 * * 0-7").wdays, 0x7f);
    ASSERT_EQ(cron("0 0 * * */7").wdays, 1); /* 0 and 7: Sunday */

    gl_cron_t a = cron("@weekly"), b = cron("0 0 * * 0");
    ASSERT(memcmp(&a, &b, sizeof a) == 0);
    a = cron("@annually"), b = cron("0 0 1 1 *");
    ASSERT(memcmp(&a, &b, sizeof a) == 0);
    a = cron("@hourly"), b = cron("0 * * * *");
    ASSERT(memcmp(&a, &b, sizeof a) == 0);
    a = cron("@midnight"), b = cron("@daily");
    ASSERT(memcmp(&a, &b, sizeof a) == 0);
}

/* ---- next fire times --------------------------------------------------- */

typedef struct {
    const char *spec, *tz, *after, *next; /* next NULL: GL_NOTFOUND */
} next_case_t;

static const next_case_t next_cases[] = {
    /* UTC: fields, ranges, steps, lists, names */
    { "* * * * *", "UTC", "2026-01-01T00:00Z", "2026-01-01T00:01Z" },
    { "* * * * *", "UTC", "2026-01-01T00:00:30Z", "2026-01-01T00:01Z" },
    { "* * * * *", "UTC", "2026-12-31T23:59Z", "2027-01-01T00:00Z" },
    { "0 * * * *", "UTC", "2026-01-01T00:00Z", "2026-01-01T01:00Z" },
    { "*/15 * * * *", "UTC", "2026-01-01T00:14:59Z", "2026-01-01T00:15Z" },
    { "5,35 * * * *", "UTC", "2026-01-01T00:35Z", "2026-01-01T01:05Z" },
    { "5/20 * * * *", "UTC", "2026-01-01T00:25Z", "2026-01-01T00:45Z" },
    { "0 9-17/4 * * *", "UTC", "2026-01-01T09:00Z", "2026-01-01T13:00Z" },
    { "0 9-17/4 * * *", "UTC", "2026-01-01T17:00Z", "2026-01-02T09:00Z" },
    { "30 2 * * *", "UTC", "2026-01-01T02:30Z", "2026-01-02T02:30Z" },
    { "0 0 1 * *", "UTC", "2026-01-15T00:00Z", "2026-02-01T00:00Z" },
    { "0 0 1 */3 *", "UTC", "2026-01-01T00:00Z", "2026-04-01T00:00Z" },
    { "0 0 1 JAN,jul *", "UTC", "2026-02-01T00:00Z", "2026-07-01T00:00Z" },
    { "59 23 31 12 *", "UTC", "2026-12-31T23:59Z", "2027-12-31T23:59Z" },
    { "@yearly", "UTC", "2026-06-01T00:00Z", "2027-01-01T00:00Z" },
    { "@monthly", "UTC", "2026-12-31T23:59:59Z", "2027-01-01T00:00Z" },
    { "@hourly", "UTC", "2026-01-01T10:59:59Z", "2026-01-01T11:00Z" },
    /* month ends and leap days */
    { "0 0 31 * *", "UTC", "2026-01-31T00:00Z", "2026-03-31T00:00Z" },
    { "0 0 31 * *", "UTC", "2026-03-31T00:00Z", "2026-05-31T00:00Z" },
    { "0 0 30 * *", "UTC", "2026-01-30T00:00Z", "2026-03-30T00:00Z" },
    { "0 0 29 2 *", "UTC", "2026-01-01T00:00Z", "2028-02-29T00:00Z" },
    { "0 0 29 2 *", "UTC", "2096-03-01T00:00Z", "2104-02-29T00:00Z" }, /* 2100 is no leap year */
    { "0 0 * 2 *", "UTC", "2028-02-28T00:00Z", "2028-02-29T00:00Z" },
    { "0 0 * 2 *", "UTC", "2026-02-28T00:00Z", "2027-02-01T00:00Z" },
    { "0 0 31 2 *", "UTC", "2026-01-01T00:00Z", NULL },
    { "0 0 30 2 *", "Europe/Berlin", "2026-01-01T00:00Z", NULL },
    /* days of week, and the day-of-month / day-of-week OR rule */
    { "0 12 * * MON-FRI", "UTC", "2026-01-02T12:00Z", "2026-01-05T12:00Z" }, /* Fri -> Mon */
    { "0 0 * * 7", "UTC", "2026-01-01T00:00Z", "2026-01-04T00:00Z" },
    { "0 0 * * sun", "UTC", "2026-01-01T00:00Z", "2026-01-04T00:00Z" },
    { "0 0 * * FRI-SUN", "UTC", "2026-01-03T00:00Z", "2026-01-04T00:00Z" },
    { "0 0 13 * 5", "UTC", "2026-01-01T00:00Z", "2026-01-02T00:00Z" },  /* Friday the 2nd */
    { "0 0 13 * 5", "UTC", "2026-01-10T00:00Z", "2026-01-13T00:00Z" },  /* Tuesday the 13th */
    { "0 0 13 * *", "UTC", "2026-01-01T00:00Z", "2026-01-13T00:00Z" },
    { "0 0 */2 * 5", "UTC", "2026-01-01T00:00Z", "2026-01-09T00:00Z" }, /* '*' field: AND */
    { "0 0 1 * */7", "UTC", "2026-01-01T00:00Z", "2026-02-01T00:00Z" }, /* 1st that is a Sunday */
    /* fixed offsets */
    { "0 9 * * *", "Asia/Kolkata", "2026-01-01T00:00Z", "2026-01-01T03:30Z" },
    { "0 0 * * *", "Etc/GMT+5", "2026-01-01T00:00Z", "2026-01-01T05:00Z" },
    /* Europe/Berlin spring forward, 2026-03-29 01:00Z: 02:00 CET -> 03:00 CEST */
    { "30 2 * * *", "Europe/Berlin", "2026-03-27T12:00Z", "2026-03-28T01:30Z" },
    { "30 2 * * *", "Europe/Berlin", "2026-03-28T12:00Z", "2026-03-29T01:00Z" }, /* gap: at 03:00 */
    { "30 2 * * *", "Europe/Berlin", "2026-03-29T01:00Z", "2026-03-30T00:30Z" },
    { "0 2 * * *", "Europe/Berlin", "2026-03-28T12:00Z", "2026-03-29T01:00Z" },
    { "15 2 * * *", "Europe/Berlin", "2026-03-28T12:00Z", "2026-03-29T01:00Z" },
    { "0 3 * * *", "Europe/Berlin", "2026-03-28T12:00Z", "2026-03-29T01:00Z" },
    { "0,30 2 * * *", "Europe/Berlin", "2026-03-29T01:00Z", "2026-03-30T00:00Z" }, /* collapsed */
    { "*/15 2 * * *", "Europe/Berlin", "2026-03-29T00:00Z", "2026-03-29T01:00Z" },
    { "*/15 2 * * *", "Europe/Berlin", "2026-03-29T01:00Z", "2026-03-30T00:00Z" },
    { "0 * * * *", "Europe/Berlin", "2026-03-29T00:00Z", "2026-03-29T01:00Z" }, /* 03:00 CEST */
    { "30 * * * *", "Europe/Berlin", "2026-03-29T00:30Z", "2026-03-29T01:30Z" }, /* 03:30 CEST */
    { "0 9 * * *", "Europe/Berlin", "2026-07-01T00:00Z", "2026-07-01T07:00Z" },
    /* Europe/Berlin fall back, 2026-10-25 01:00Z: 03:00 CEST -> 02:00 CET */
    { "30 2 * * *", "Europe/Berlin", "2026-10-24T12:00Z", "2026-10-25T00:30Z" }, /* first pass */
    { "30 2 * * *", "Europe/Berlin", "2026-10-25T00:30Z", "2026-10-26T01:30Z" }, /* not again */
    { "30 2 * * *", "Europe/Berlin", "2026-10-25T01:00Z", "2026-10-26T01:30Z" },
    { "*/15 2 * * *", "Europe/Berlin", "2026-10-25T00:45Z", "2026-10-26T01:00Z" },
    { "0 1-3 * * *", "Europe/Berlin", "2026-10-25T00:00Z", "2026-10-25T02:00Z" }, /* 03:00 CET */
    { "0 * * * *", "Europe/Berlin", "2026-10-25T00:00Z", "2026-10-25T01:00Z" },  /* 02:00 CET */
    { "0 * * * *", "Europe/Berlin", "2026-10-25T01:00Z", "2026-10-25T02:00Z" },
    { "*/30 * * * *", "Europe/Berlin", "2026-10-25T00:30Z", "2026-10-25T01:00Z" }, /* both passes */
    { "*/30 * * * *", "Europe/Berlin", "2026-10-25T01:00Z", "2026-10-25T01:30Z" },
    /* Europe/Berlin in 2040: past the fat table, from the footer rule */
    { "30 2 * * *", "Europe/Berlin", "2040-03-24T12:00Z", "2040-03-25T01:00Z" },
    { "30 2 * * *", "Europe/Berlin", "2040-10-27T12:00Z", "2040-10-28T00:30Z" },
    /* America/New_York spring forward, 2026-03-08 07:00Z: 02:00 EST -> 03:00 EDT */
    { "30 2 * * *", "America/New_York", "2026-03-07T12:00Z", "2026-03-08T07:00Z" },
    { "30 2 * * *", "America/New_York", "2026-03-08T07:00Z", "2026-03-09T06:30Z" },
    { "0 2 * * *", "America/New_York", "2026-03-07T12:00Z", "2026-03-08T07:00Z" },
    { "15 2 * * *", "America/New_York", "2026-03-07T12:00Z", "2026-03-08T07:00Z" },
    { "0 * * * *", "America/New_York", "2026-03-08T06:00Z", "2026-03-08T07:00Z" },
    { "0 0 * * *", "America/New_York", "2026-03-08T04:00Z", "2026-03-08T05:00Z" },
    /* America/New_York fall back, 2026-11-01 06:00Z: 02:00 EDT -> 01:00 EST */
    { "30 2 * * *", "America/New_York", "2026-10-31T12:00Z", "2026-11-01T07:30Z" },
    { "30 1 * * *", "America/New_York", "2026-10-31T12:00Z", "2026-11-01T05:30Z" }, /* EDT pass */
    { "30 1 * * *", "America/New_York", "2026-11-01T05:30Z", "2026-11-02T06:30Z" }, /* once */
    { "30 1 * * 0", "America/New_York", "2026-10-31T12:00Z", "2026-11-01T05:30Z" },
    { "0 * * * *", "America/New_York", "2026-11-01T05:00Z", "2026-11-01T06:00Z" },
    { "0 * * * *", "America/New_York", "2026-11-01T06:00Z", "2026-11-01T07:00Z" },
    { "*/30 * * * *", "America/New_York", "2026-11-01T05:30Z", "2026-11-01T06:00Z" },
    { "*/30 * * * *", "America/New_York", "2026-11-01T06:00Z", "2026-11-01T06:30Z" },
    /* southern hemisphere; Lord Howe moves its clocks by 30 minutes */
    { "30 2 * * *", "Australia/Sydney", "2026-04-04T00:00Z", "2026-04-04T15:30Z" }, /* AEDT pass */
    { "30 2 * * *", "Australia/Sydney", "2026-04-04T15:30Z", "2026-04-05T16:30Z" },
    { "30 2 * * *", "Australia/Sydney", "2026-10-03T00:00Z", "2026-10-03T16:00Z" }, /* gap */
    { "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00Z", "2026-10-03T15:30Z" }, /* gap */
    { "45 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00Z", "2026-10-03T15:45Z" }, /* exists */
    { "45 1 * * *", "Australia/Lord_Howe", "2026-04-04T00:00Z", "2026-04-04T14:45Z" },
    { "45 1 * * *", "Australia/Lord_Howe", "2026-04-04T14:45Z", "2026-04-05T15:15Z" },
    /* Berlin leaves local mean time (+0:53:28) for CET at 1893-04-01 00:00:
     * 00:05 does not exist, and the gap ends off the minute (found by fuzz_cron) */
    { "5 0 * 4 *", "Europe/Berlin", "1893-01-30T02:03:44Z", "1893-03-31T23:06:32Z" },
};

TEST(next_table)
{
    for (size_t i = 0; i < GL_NELEM(next_cases); i++) {
        const next_case_t *k = &next_cases[i];
        gl_cron_t c = cron(k->spec);
        gl_tz_t *tz = zone(k->tz);
        int64_t next = 0;
        int rc = gl_cron_next(&c, tz, iso(k->after), &next);
        char got[32], want[32];
        if (!k->next && rc != GL_NOTFOUND)
            FAIL_AT("'%s' %s after %s: expected none, got %s", k->spec, k->tz, k->after,
                    fmt_iso(next, got, sizeof got));
        if (k->next && (rc != GL_OK || next != iso(k->next)))
            FAIL_AT("'%s' %s after %s: expected %s, got %s (rc %d)", k->spec, k->tz, k->after,
                    fmt_iso(iso(k->next), want, sizeof want), rc == GL_OK ? fmt_iso(next, got, sizeof got) : "-",
                    rc);
        gl_tz_free(tz);
    }
}

TEST(next_null_zone_is_utc)
{
    gl_cron_t c = cron("30 2 * * *");
    int64_t next = 0;
    ASSERT_EQ(gl_cron_next(&c, NULL, iso("2026-03-28T12:00Z"), &next), GL_OK);
    ASSERT_EQ(next, iso("2026-03-29T02:30Z"));
}

TEST(next_extreme_times)
{
    gl_cron_t c = cron("* * * * *");
    gl_tz_t *tz = zone("Europe/Berlin");
    int64_t next = 0;
    ASSERT_EQ(gl_cron_next(&c, tz, INT64_MIN, &next), GL_NOTFOUND);
    ASSERT_EQ(gl_cron_next(&c, tz, INT64_MAX, &next), GL_NOTFOUND);
    ASSERT_EQ(gl_cron_next(&c, tz, iso("8999-12-31T23:58Z"), &next), GL_OK);
    ASSERT_EQ(next, iso("8999-12-31T23:59Z"));
    /* local mean time, +0:53:28: local minutes fall at :32 seconds UTC */
    ASSERT_EQ(gl_cron_next(&c, tz, iso("1850-06-01T00:00Z"), &next), GL_OK);
    ASSERT_EQ(next, iso("1850-06-01T00:00:32Z"));
    /* a hand-made schedule with an empty set never fires */
    gl_cron_t empty = c;
    empty.months = 0;
    ASSERT_EQ(gl_cron_next(&empty, tz, 0, &next), GL_NOTFOUND);
    gl_tz_free(tz);
}

/* Fires from `from` for `days` days: counts them, checks they strictly
 * increase and that each one's local time is one the schedule names (or
 * the instant just after a gap). */
static int fires_over(const char *spec, const char *zone_name, const char *from, int days)
{
    gl_cron_t c = cron(spec);
    gl_tz_t *tz = zone(zone_name);
    int64_t t = iso(from), end = t + days * 86400LL, next;
    int n = 0;
    while (gl_cron_next(&c, tz, t, &next) == GL_OK && next < end) {
        ASSERT(next > t);
        int64_t local = next + gl_tz_offset(tz, next, NULL);
        int64_t before = next - 1 + gl_tz_offset(tz, next - 1, NULL);
        bool after_gap = local - before > 1;
        int mi = (int)((local % 3600 + 3600) % 3600 / 60), h = (int)((local % 86400 + 86400) % 86400 / 3600);
        if (!after_gap && (!(c.minutes >> mi & 1) || !(c.hours >> h & 1) || local % 60 != 0))
            FAIL_AT("'%s' fired at local %02d:%02d", spec, h, mi);
        t = next;
        n++;
    }
    gl_tz_free(tz);
    return n;
}

TEST(next_sequence_over_a_week)
{
    /* hourly by the clock, real hours: fall back gives one more local 02:00 */
    ASSERT_EQ(fires_over("0 * * * *", "Europe/Berlin", "2026-10-21T23:59:59Z", 7), 7 * 24);
    ASSERT_EQ(fires_over("0 * * * *", "Europe/Berlin", "2026-03-25T23:59:59Z", 7), 7 * 24);
    ASSERT_EQ(fires_over("*/30 * * * *", "America/New_York", "2026-10-28T23:59:59Z", 7), 7 * 48);
    ASSERT_EQ(fires_over("*/30 * * * *", "America/New_York", "2026-03-04T23:59:59Z", 7), 7 * 48);
    /* daily: once a day whatever the clocks do */
    ASSERT_EQ(fires_over("30 2 * * *", "Europe/Berlin", "2026-03-26T00:00Z", 7), 7);
    ASSERT_EQ(fires_over("30 2 * * *", "Europe/Berlin", "2026-10-22T00:00Z", 7), 7);
    ASSERT_EQ(fires_over("30 1 * * *", "America/New_York", "2026-10-29T00:00Z", 7), 7);
    /* four times in hour 2: the gap collapses four into one; no repeats */
    ASSERT_EQ(fires_over("*/15 2 * * *", "Europe/Berlin", "2026-03-26T00:00Z", 7), 6 * 4 + 1);
    ASSERT_EQ(fires_over("*/15 2 * * *", "Europe/Berlin", "2026-10-21T23:59:59Z", 7), 7 * 4);
    ASSERT_EQ(fires_over("*/15 1 * * *", "America/New_York", "2026-10-29T00:00Z", 7), 7 * 4);
    /* weekdays 9-17 by the clock */
    ASSERT_EQ(fires_over("0 9-17 * * MON-FRI", "America/New_York", "2026-03-02T00:00Z", 14), 10 * 9);
}

TEST(next_is_fast)
{
    static const char *const specs[] = {
        "0 0 31 2 *", "0 0 29 2 *", "0 0 29 2 1", "* * * * *", "*/7 */5 */3 */2 */4", "59 23 31 12 *",
        "0 0 31 * */7", "30 2 * * *", "0 0 13 * 5", "*/15 2 * * *",
    };
    static const char *const zones[] = { "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe" };
    struct timespec a, b;
    double worst = 0;
    int n = 0;
    for (size_t z = 0; z < GL_NELEM(zones); z++) {
        gl_tz_t *tz = zone(zones[z]);
        for (size_t s = 0; s < GL_NELEM(specs); s++) {
            gl_cron_t c = cron(specs[s]);
            for (int64_t t = iso("2020-01-01T00:00Z"); t < iso("2040-01-01T00:00Z"); t += 86400 * 97 + 3607) {
                double us = 1e9; /* the best of three, so a preempted run does not count */
                for (int k = 0; k < 3; k++) {
                    int64_t next;
                    clock_gettime(CLOCK_MONOTONIC, &a);
                    int rc = gl_cron_next(&c, tz, t, &next);
                    clock_gettime(CLOCK_MONOTONIC, &b);
                    ASSERT(rc == GL_OK || rc == GL_NOTFOUND);
                    double run = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
                    us = run < us ? run : us;
                }
                worst = us > worst ? us : worst;
                n++;
            }
        }
        gl_tz_free(tz);
    }
    fprintf(stderr, "%d calls, slowest %.1f us\n", n, worst);
    ASSERT(worst < 2000); /* release builds take a few microseconds; sanitizers ~10x */
}

/* The plain-minutes brute force agrees with the search for random UTC
 * schedules (no DST here: this checks the calendar jumps). */
TEST(next_matches_brute_force_utc)
{
    static const char *const mins[] = { "*", "0", "*/7", "5-10,50", "59", "15/20" };
    static const char *const hours[] = { "*", "0", "23", "9-17/4", "*/5", "2,3" };
    static const char *const mdays[] = { "*", "1", "31", "29", "*/10", "13", "28-31" };
    static const char *const months[] = { "*", "2", "feb,MAR", "*/5", "12" };
    static const char *const wdays[] = { "*", "0", "5", "1-5", "SAT-SUN", "*/3" };
    uint32_t seed = 12345;
    for (int i = 0; i < 300; i++) {
        char spec[128];
        const char *f[5];
#define PICK(a) (seed = seed * 1103515245u + 12345u, a[(seed >> 16) % GL_NELEM(a)])
        f[0] = PICK(mins), f[1] = PICK(hours), f[2] = PICK(mdays), f[3] = PICK(months), f[4] = PICK(wdays);
#undef PICK
        snprintf(spec, sizeof spec, "%s %s %s %s %s", f[0], f[1], f[2], f[3], f[4]);
        seed = seed * 1103515245u + 12345u;
        int64_t after = iso("2027-01-01T00:00Z") + (int64_t)(seed >> 8) % 50000000;
        gl_cron_t c = cron(spec);
        int64_t next = 0, want = -1;
        for (int64_t days = after / 86400; want < 0 && days < after / 86400 + 400; days++) {
            int64_t y;
            int mo, d, wd = (int)((days + 4) % 7);
            gl_date_civil_from_days(days, &y, &mo, &d);
            bool dm = c.mdays >> d & 1, dw = c.wdays >> wd & 1;
            if (!(c.mday_any || c.wday_any ? dm && dw : dm || dw) || !(c.months >> mo & 1))
                continue;
            for (int64_t t = days * 86400; t < (days + 1) * 86400; t += 60)
                if (t > after && (c.hours >> (t % 86400 / 3600) & 1) && (c.minutes >> (t % 3600 / 60) & 1)) {
                    want = t;
                    break;
                }
        }
        int rc = gl_cron_next(&c, NULL, after, &next);
        if (want < 0)
            continue; /* rarer than 400 days: not brute-forced */
        char a1[32], a2[32];
        if (rc != GL_OK || next != want)
            FAIL_AT("'%s' after %s: want %s got %s", spec, fmt_iso(after, a1, sizeof a1),
                    fmt_iso(want, a2, sizeof a2), rc == GL_OK ? fmt_iso(next, a1, sizeof a1) : "none");
    }
}

/* ---- time zones -------------------------------------------------------- */

static void expect_offset(const gl_tz_t *tz, const char *when, int32_t off, bool dst)
{
    bool is_dst = !dst;
    int32_t got = gl_tz_offset(tz, iso(when), &is_dst);
    if (got != off || is_dst != dst)
        FAIL_AT("%s at %s: offset %d dst %d, expected %d dst %d", gl_tz_name(tz), when, got, is_dst, off, dst);
}

TEST(tz_offsets)
{
    gl_tz_t *berlin = zone("Europe/Berlin"), *ny = zone("America/New_York"), *syd = zone("Australia/Sydney");
    /* the past: 1990 (table), and LMT before 1893 */
    expect_offset(berlin, "1990-01-15T12:00Z", 3600, false);
    expect_offset(berlin, "1990-07-01T12:00Z", 7200, true);
    expect_offset(berlin, "1850-01-01T00:00Z", 3208, false);
    expect_offset(ny, "1990-04-01T06:59:59Z", -18000, false); /* first Sunday in April then */
    expect_offset(ny, "1990-04-01T07:00Z", -14400, true);
    expect_offset(ny, "1990-10-28T05:59:59Z", -14400, true);
    expect_offset(ny, "1990-10-28T06:00Z", -18000, false);
    /* 2026 transitions to the second */
    expect_offset(berlin, "2026-03-29T00:59:59Z", 3600, false);
    expect_offset(berlin, "2026-03-29T01:00Z", 7200, true);
    expect_offset(berlin, "2026-10-25T00:59:59Z", 7200, true);
    expect_offset(berlin, "2026-10-25T01:00Z", 3600, false);
    expect_offset(ny, "2026-03-08T07:00Z", -14400, true);
    expect_offset(ny, "2026-11-01T06:00Z", -18000, false);
    /* the future: 2040 and 2300 come from the footer rule */
    expect_offset(berlin, "2040-03-25T00:59:59Z", 3600, false);
    expect_offset(berlin, "2040-03-25T01:00Z", 7200, true);
    expect_offset(berlin, "2040-10-28T01:00Z", 3600, false);
    expect_offset(ny, "2040-03-11T07:00Z", -14400, true);
    expect_offset(ny, "2040-11-04T05:59:59Z", -14400, true);
    expect_offset(ny, "2040-11-04T06:00Z", -18000, false);
    expect_offset(syd, "2040-01-01T00:00Z", 39600, true);
    expect_offset(syd, "2040-07-01T00:00Z", 36000, false);
    expect_offset(berlin, "2300-07-01T00:00Z", 7200, true);
    /* transitions are found, also in the footer era */
    int64_t when = 0;
    ASSERT(gl_tz_next_change(berlin, iso("2040-01-01T00:00Z"), &when));
    ASSERT_EQ(when, iso("2040-03-25T01:00Z"));
    ASSERT(gl_tz_next_change(berlin, iso("2040-03-25T01:00Z"), &when));
    ASSERT_EQ(when, iso("2040-10-28T01:00Z"));
    ASSERT(gl_tz_next_change(ny, iso("2026-01-01T00:00Z"), &when));
    ASSERT_EQ(when, iso("2026-03-08T07:00Z"));
    gl_tz_free(berlin);
    gl_tz_free(ny);
    gl_tz_free(syd);

    /* v3 footers: times past 24h (Jerusalem, M3.4.4/26) and negative ones
     * (Nuuk, M3.5.0/-1), minutes in offsets (Lord Howe, -10:30) */
    gl_tz_t *jer = zone("Asia/Jerusalem"), *nuuk = zone("America/Nuuk"), *lhi = zone("Australia/Lord_Howe");
    expect_offset(jer, "2040-03-22T23:59:59Z", 7200, false);
    expect_offset(jer, "2040-03-23T00:00Z", 10800, true);
    expect_offset(jer, "2040-10-27T23:00Z", 7200, false);
    expect_offset(nuuk, "2040-03-25T00:59:59Z", -7200, false);
    expect_offset(nuuk, "2040-03-25T01:00Z", -3600, true);
    expect_offset(nuuk, "2040-10-28T01:00Z", -7200, false);
    expect_offset(lhi, "2040-07-01T00:00Z", 37800, false);
    expect_offset(lhi, "2040-01-01T00:00Z", 39600, true);
    gl_tz_free(jer);
    gl_tz_free(nuuk);
    gl_tz_free(lhi);

    gl_tz_t *utc = zone("UTC"), *kol = zone("Asia/Kolkata");
    expect_offset(utc, "2040-07-01T00:00Z", 0, false);
    expect_offset(kol, "2040-07-01T00:00Z", 19800, false);
    ASSERT(!gl_tz_next_change(utc, 0, &when));
    ASSERT(!gl_tz_next_change(kol, iso("2040-01-01T00:00Z"), &when));
    ASSERT_EQ(gl_tz_offset(NULL, 0, NULL), 0);
    ASSERT_STR_EQ(gl_tz_name(kol), "Asia/Kolkata");
    /* any time at all is answered, clamped far outside history */
    ASSERT_EQ(gl_tz_offset(kol, INT64_MIN, NULL), 21208); /* LMT, +5:53:28 */
    ASSERT_EQ(gl_tz_offset(kol, INT64_MAX, NULL), 19800);
    gl_tz_free(utc);
    gl_tz_free(kol);
}

TEST(tz_bad_names)
{
    static const char *const bad[] = {
        "", "../../../etc/passwd", "/etc/passwd", "Europe/../../etc/passwd", "Europe/..", "Europe//Berlin",
        "Europe/Berlin/", "europe/berlin", "posixrules", "right/Europe/Berlin", "Europe/Berlin\n", "Europe/Berlin%s",
        "Europe/Berlin ", "Europe\\Berlin", "Europe/Be rlin", "Nowhere/City", "Europe", "Europe/",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "UTC/", "Etc/UTC/..", "Europe/Berlin.",
        "Europe/Berlin\xc3\xa9",
    };
    for (size_t i = 0; i < GL_NELEM(bad); i++) {
        gl_tz_t *tz = (gl_tz_t *)&tz;
        gl_err_t err;
        gl_err_clear(&err);
        if (gl_tz_load(bad[i], &tz, &err) != GL_INVALID)
            FAIL_AT("'%s' should be rejected", bad[i]);
        ASSERT(tz == (gl_tz_t *)&tz);
        ASSERT_CONTAINS(err.msg, "unknown time zone");
    }
    gl_tz_t *tz = NULL;
    gl_err_t err;
    ASSERT_EQ(gl_tz_load(NULL, &tz, &err), GL_INVALID);
    ASSERT_EQ(gl_tz_load("Nowhere/City", &tz, &err), GL_INVALID);
    ASSERT_STR_EQ(err.msg, "unknown time zone 'Nowhere/City'");
    static const char *const good[] = { "UTC", "Etc/GMT+5", "Etc/GMT-14", "America/Argentina/Buenos_Aires",
                                        "America/Port-au-Prince", "GMT" };
    for (size_t i = 0; i < GL_NELEM(good); i++)
        gl_tz_free(zone(good[i]));
    gl_tz_free(NULL);
}

/* ---- hand-built TZif files --------------------------------------------- */

typedef struct {
    uint8_t b[4096];
    size_t n;
} tzif_t;

static void put(tzif_t *f, const void *p, size_t n)
{
    ASSERT(f->n + n <= sizeof f->b);
    if (n)
        memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void put32(tzif_t *f, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    put(f, b, 4);
}

static void put64(tzif_t *f, int64_t v)
{
    put32(f, (uint32_t)((uint64_t)v >> 32));
    put32(f, (uint32_t)v);
}

typedef struct {
    int32_t off;
    uint8_t dst;
} test_type_t;

/* One header and data block: tsize 4 or 8 bytes per time; abbreviations
 * "XXX\0" shared by all types. */
static void block(tzif_t *f, char version, int tsize, int n, const int64_t *times, const uint8_t *idx, int ntypes,
                  const test_type_t *types)
{
    put(f, "TZif", 4);
    put(f, &version, 1);
    for (int i = 0; i < 15; i++)
        put(f, "", 1);
    put32(f, 0), put32(f, 0), put32(f, 0); /* isut, isstd, leap */
    put32(f, (uint32_t)n), put32(f, (uint32_t)ntypes), put32(f, 4);
    for (int i = 0; i < n; i++)
        tsize == 8 ? put64(f, times[i]) : put32(f, (uint32_t)(int32_t)times[i]);
    put(f, idx, (size_t)n);
    for (int i = 0; i < ntypes; i++) {
        put32(f, (uint32_t)types[i].off);
        put(f, &types[i].dst, 1);
        put(f, "", 1);
    }
    put(f, "XXX", 4);
}

/* A slim-style v2 file: empty v1 block, 64-bit data, then the footer. */
static tzif_t slim(int n, const int64_t *times, const uint8_t *idx, int ntypes, const test_type_t *types,
                   const char *footer)
{
    tzif_t f = { .n = 0 };
    block(&f, '2', 4, 0, NULL, NULL, 1, types);
    block(&f, '2', 8, n, times, idx, ntypes, types);
    put(&f, "\n", 1);
    put(&f, footer, strlen(footer));
    put(&f, "\n", 1);
    return f;
}

static gl_tz_t *parse_ok(const tzif_t *f)
{
    gl_tz_t *tz = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_tz_parse(f->b, f->n, &tz, &err) != GL_OK)
        FAIL_AT("hand-built file does not parse: %s", err.msg);
    return tz;
}

static const test_type_t cet[] = { { 7200, 1 }, { 3600, 0 } };

/* found by fuzz_tzif: a 64-bit transition far past the range the footer's
 * rules are reckoned in was returned as the next change again for a t at
 * it, so a walk over the changes stood still */
TEST(tz_next_change_past_the_clamp)
{
    int64_t times[] = { iso("1996-10-27T01:00Z"), INT64_C(72057594802072943) };
    uint8_t idx[] = { 1, 0 };
    tzif_t f = slim(2, times, idx, 2, cet, "CET-1CEST,M3.5.0,M10.5.0/3");
    gl_tz_t *tz = parse_ok(&f);
    int64_t t = iso("2026-01-01T00:00Z"), next;
    ASSERT(gl_tz_next_change(tz, t, &next));
    ASSERT_EQ(next, times[1]);
    ASSERT(!gl_tz_next_change(tz, times[1], &next));
    ASSERT(!gl_tz_next_change(tz, INT64_MAX, &next));
    ASSERT_EQ(gl_tz_offset(tz, times[1] - 1, NULL), 3600);
    ASSERT_EQ(gl_tz_offset(tz, times[1], NULL), 7200);
    ASSERT(gl_tz_next_change(tz, INT64_MIN, &next) && next == times[0]);
    gl_tz_free(tz);
}

TEST(tz_slim_and_v1_files)
{
    /* slim Berlin: one transition in 1996, the rest from the footer */
    int64_t t1996 = iso("1996-10-27T01:00Z");
    uint8_t one = 1;
    tzif_t f = slim(1, &t1996, &one, 2, cet, "CET-1CEST,M3.5.0,M10.5.0/3");
    gl_tz_t *tz = parse_ok(&f);
    expect_offset(tz, "1996-10-27T00:59:59Z", 7200, true);
    expect_offset(tz, "2026-03-29T00:59:59Z", 3600, false);
    expect_offset(tz, "2026-03-29T01:00Z", 7200, true);
    expect_offset(tz, "2026-10-25T00:59:59Z", 7200, true);
    expect_offset(tz, "2026-10-25T01:00Z", 3600, false);
    gl_cron_t c = cron("30 2 * * *");
    int64_t next;
    ASSERT_EQ(gl_cron_next(&c, tz, iso("2026-03-28T12:00Z"), &next), GL_OK);
    ASSERT_EQ(next, iso("2026-03-29T01:00Z"));
    gl_tz_free(tz);

    /* v1 only: 32-bit transitions, no footer; the last type holds after */
    int64_t times[] = { iso("2026-03-29T01:00Z"), iso("2026-10-25T01:00Z") };
    uint8_t idx[] = { 1, 0 };
    test_type_t types[] = { { 3600, 0 }, { 7200, 1 } };
    tzif_t v1 = { .n = 0 };
    block(&v1, 0, 4, 2, times, idx, 2, types);
    tz = parse_ok(&v1);
    expect_offset(tz, "2026-01-01T00:00Z", 3600, false);
    expect_offset(tz, "2026-07-01T00:00Z", 7200, true);
    expect_offset(tz, "2040-07-01T00:00Z", 3600, false);
    ASSERT(gl_tz_next_change(tz, iso("2026-04-01T00:00Z"), &next));
    ASSERT_EQ(next, times[1]);
    ASSERT(!gl_tz_next_change(tz, times[1], &next));
    gl_tz_free(tz);

    /* an empty footer: the last transition's type holds */
    f = slim(1, &t1996, &one, 2, cet, "");
    tz = parse_ok(&f);
    expect_offset(tz, "2040-07-01T00:00Z", 3600, false);
    gl_tz_free(tz);
}

TEST(tz_footer_rules)
{
    static const test_type_t est[] = { { -18000, 0 } };
    static const struct {
        const char *footer, *when;
        int32_t off;
        bool dst;
    } cases[] = {
        { "EST5EDT,M3.2.0,M11.1.0", "2030-03-10T06:59:59Z", -18000, false },
        { "EST5EDT,M3.2.0,M11.1.0", "2030-03-10T07:00Z", -14400, true },
        { "EST5EDT,M3.2.0,M11.1.0", "2030-11-03T06:00Z", -18000, false },
        { "EST5EDT", "2030-07-01T00:00Z", -14400, true }, /* no rule: US rules */
        { "<-05>5", "2030-07-01T00:00Z", -18000, false },
        { "<+0530>-5:30", "2030-07-01T00:00Z", 19800, false },
        /* Jn: day n of 365, Feb 29 never counted: J60 is always March 1 */
        { "XST3XDT,J60/0,J300/0", "2032-03-01T02:59:59Z", -10800, false },
        { "XST3XDT,J60/0,J300/0", "2032-03-01T03:00Z", -7200, true },
        /* n: zero-based day counting Feb 29: 59 is Feb 29 in a leap year */
        { "XST3XDT,59/0,300/0", "2032-02-29T03:00Z", -7200, true },
        { "XST3XDT,59/0,300/0", "2031-02-28T23:59:59Z", -10800, false },
        { "XST3XDT,59/0,300/0", "2031-03-01T03:00Z", -7200, true },
        /* negative and over-24h times */
        { "XST3XDT,M3.5.0/-1,M10.5.0/0", "2030-03-31T01:59:59Z", -10800, false },
        { "XST3XDT,M3.5.0/-1,M10.5.0/0", "2030-03-31T02:00Z", -7200, true },
        { "IST-2IDT,M3.4.4/26,M10.5.0", "2030-03-29T00:00Z", 10800, true },
        { "IST-2IDT,M3.4.4/26,M10.5.0", "2030-03-28T23:59:59Z", 7200, false },
        { "XST3XDT,M3.5.0/167,M10.5.0/-167", "2030-04-07T02:00Z", -7200, true },
        /* explicit DST offset, and southern hemisphere (DST across new year) */
        { "XST3XDT1:30,M3.5.0,M10.5.0", "2030-07-01T00:00Z", -5400, true },
        { "AEST-10AEDT,M10.1.0,M4.1.0/3", "2030-01-01T00:00Z", 39600, true },
        { "AEST-10AEDT,M10.1.0,M4.1.0/3", "2030-07-01T00:00Z", 36000, false },
        /* DST all year (RFC 8536's example) */
        { "EST5EDT,0/0,J365/25", "2030-01-01T00:00Z", -14400, true },
        { "EST5EDT,0/0,J365/25", "2030-12-31T23:59:59Z", -14400, true },
        { "EST5EDT,0/0,J365/25", "2031-01-01T05:00Z", -14400, true },
    };
    for (size_t i = 0; i < GL_NELEM(cases); i++) {
        tzif_t f = slim(0, NULL, NULL, 1, est, cases[i].footer);
        gl_tz_t *tz = parse_ok(&f);
        bool dst;
        int32_t off = gl_tz_offset(tz, iso(cases[i].when), &dst);
        if (off != cases[i].off || dst != cases[i].dst)
            FAIL_AT("'%s' at %s: %d dst %d, expected %d dst %d", cases[i].footer, cases[i].when, off, dst,
                    cases[i].off, cases[i].dst);
        gl_tz_free(tz);
    }
}

static void expect_bad(const void *data, size_t n, const char *what)
{
    gl_tz_t *tz = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_tz_parse(data, n, &tz, &err) != GL_INVALID)
        FAIL_AT("%s should be rejected", what);
    ASSERT(tz == NULL);
    ASSERT_CONTAINS(err.msg, "malformed zone file");
}

TEST(tz_hostile_files)
{
    int64_t t = iso("1996-10-27T01:00Z");
    uint8_t one = 1;
    tzif_t good = slim(1, &t, &one, 2, cet, "CET-1CEST,M3.5.0,M10.5.0/3");
    gl_tz_free(parse_ok(&good));
    /* every truncation fails cleanly */
    for (size_t n = 0; n < good.n; n++)
        expect_bad(good.b, n, "a truncated file");
    expect_bad(NULL, 0, "no data");

    /* offsets into the v2 header (after a 44-byte v1 header and a v1 block
     * of 1 type: 6 + 4 bytes) and its data */
    size_t h2 = 44 + 10, data2 = h2 + 44;
    struct {
        size_t at;
        uint8_t byte;
        const char *what;
    } pokes[] = {
        { 0, 'X', "a bad magic" },
        { 4, 'X', "an unknown version" },
        { h2 + 4, '1', "a v2 file whose second header says v1" },
        { h2 + 32, 0xff, "a huge transition count" },
        { h2 + 36, 0xff, "a huge type count" },
        { h2 + 40, 0xff, "a huge abbreviation count" },
        { h2 + 28, 0x7f, "a huge leap-second count" },
        { h2 + 39, 0, "no types" },
        { h2 + 23, 1, "an isut count that is not the type count" },
        { data2 + 8, 2, "a transition to a type that does not exist" },
        { data2 + 9, 0x7f, "an absurd offset" },
        { data2 + 9 + 4, 2, "an isdst flag that is not 0 or 1" },
        { data2 + 9 + 5, 9, "an abbreviation index past the end" },
        { good.n - 1, 'x', "a footer without its newline" },
        { good.n - 10, '!', "a malformed footer" },
        { good.n - 10, '\0', "a NUL in the footer" },
    };
    for (size_t i = 0; i < GL_NELEM(pokes); i++) {
        tzif_t f = good;
        f.b[pokes[i].at] = pokes[i].byte;
        expect_bad(f.b, f.n, pokes[i].what);
    }

    /* transitions out of order */
    int64_t backwards[] = { 1000, 999 };
    uint8_t idx[] = { 0, 1 };
    tzif_t f = slim(2, backwards, idx, 2, cet, "");
    expect_bad(f.b, f.n, "descending transitions");
    int64_t same[] = { 1000, 1000 };
    f = slim(2, same, idx, 2, cet, "");
    expect_bad(f.b, f.n, "repeated transitions");

    static const char *const footers[] = {
        "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,J0,J365",
        "CET-1CEST,366,0", "CET-1CEST,M3.5.0/168,M10.5.0", "CET-25", "CE-1", "<CE>-1", "CET", "CET-1CEST,M3.5.0",
        "CET-1CEST,M3.5.0,M10.5.0,", "CET-1CEST,M3.5.0,M10.5.0 ", "CET-1:60", "CET-99999999999999999999",
        "CET-1CEST,M3.5.0/-99999999999999999999,M10.5.0",
        /* longer than the 128 bytes a footer may take */
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-1"),
    };
    for (size_t i = 0; i < GL_NELEM(footers); i++) {
        f = slim(0, NULL, NULL, 1, cet, footers[i]);
        expect_bad(f.b, f.n, footers[i]);
    }

    /* random corruption of a real file: any answer, but no crash, no leak,
     * and offsets stay within a day either way */
    FILE *fp = fopen("/usr/share/zoneinfo/America/New_York", "rb");
    ASSERT(fp != NULL);
    uint8_t real[8192];
    size_t n = fread(real, 1, sizeof real, fp);
    fclose(fp);
    ASSERT(n > 100 && n < sizeof real);
    uint32_t seed = 7;
    for (int i = 0; i < 3000; i++) {
        uint8_t copy[8192];
        memcpy(copy, real, n);
        for (int k = 0; k < 1 + i % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            copy[(seed >> 8) % n] ^= (uint8_t)(1u << (seed % 8));
        }
        gl_tz_t *tz = NULL;
        if (gl_tz_parse(copy, n, &tz, NULL) == GL_OK) {
            for (int64_t s = -4000000000LL; s < 8000000000LL; s += 123456789) {
                int32_t off = gl_tz_offset(tz, s, NULL);
                ASSERT(off > -90000 && off < 93600);
            }
            gl_cron_t c = cron("30 2 * * *");
            int64_t next;
            if (gl_cron_next(&c, tz, iso("2030-01-01T00:00Z"), &next) == GL_OK)
                ASSERT(next > iso("2030-01-01T00:00Z"));
            gl_tz_free(tz);
        }
    }
}

/* ---- the workflow validator uses both ---------------------------------- */

static const char *first_problem(const char *params)
{
    static gl_problems_t p;
    char text[512];
    snprintf(text, sizeof text, "{\"nodes\":[{\"id\":\"s\",\"type\":\"trigger.schedule\",\"params\":%s}],\"edges\":[]}",
             params);
    json_object *o = NULL;
    gl_err_t err;
    if (gl_json_parse(text, strlen(text), 64, &o, &err) != GL_OK)
        FAIL_AT("test JSON does not parse: %s", err.msg);
    int rc = gl_workflow_validate(o, NULL, &p);
    json_object_put(o);
    if (rc == GL_OK)
        return NULL;
    static char out[400];
    snprintf(out, sizeof out, "%s: %s", p.items[0].field, p.items[0].message);
    return out;
}

TEST(validator_checks_cron_and_zone)
{
    ASSERT(first_problem("{\"cron\":\"*/15 9-17 * * MON-FRI\",\"timezone\":\"Europe/Berlin\"}") == NULL);
    ASSERT(first_problem("{\"cron\":\"@daily\"}") == NULL);
    ASSERT_STR_EQ(first_problem("{\"cron\":\"61 * * * *\"}"), "params.cron: minute: 61 is out of range 0-59");
    ASSERT_STR_EQ(first_problem("{\"cron\":\"* * * * * *\",\"timezone\":\"UTC\"}"),
                  "params.cron: cron schedule has 6 fields; expected 5: minute hour day-of-month month day-of-week");
    ASSERT_STR_EQ(first_problem("{\"cron\":\"0 0 * * *\",\"timezone\":\"Mars/Olympus\"}"),
                  "params.timezone: unknown time zone 'Mars/Olympus'");
    ASSERT_STR_EQ(first_problem("{\"cron\":\"0 0 * * *\",\"timezone\":\"../../etc/passwd\"}"),
                  "params.timezone: unknown time zone '../../etc/passwd'");
}

/* core/dates.c: the calendar everything above stands on, and ISO 8601 text
 * out (text in: test_n8n_dates, iso_instant_for_flow_wait). */
TEST(dates_calendar_and_iso_out)
{
    for (int64_t days = -800000; days < 3000000; days += 997) {
        int64_t y;
        int m, d;
        gl_date_civil_from_days(days, &y, &m, &d);
        ASSERT_EQ(gl_date_days_from_civil(y, m, d), days);
    }
    ASSERT_EQ(gl_date_weekday(0), 4);  /* 1970-01-01, a Thursday */
    ASSERT_EQ(gl_date_weekday(-1), 3);
    ASSERT_EQ(gl_date_floor_div(-1, 60), -1);
    ASSERT_EQ(gl_date_floor_div(59, 60), 0);
    ASSERT_EQ(gl_date_days_in_month(2000, 2), 29);
    ASSERT_EQ(gl_date_days_in_month(2100, 2), 28);
    char out[GL_DATE_ISO_LEN];
    gl_date_iso_format(-1, out);
    ASSERT_STR_EQ(out, "1969-12-31T23:59:59.999Z");
}

TEST_MAIN()
