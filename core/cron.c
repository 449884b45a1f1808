/*
 * cron.c: parsing five-field cron schedules into bitmasks, and finding the
 * next fire time in a time zone (rules in cron.h).
 *
 * How gl_cron_next works. Real time is cut into spans of constant UTC
 * offset (gl_tz_next_change gives the boundaries); within a span local time
 * is real time plus a constant, so "the first matching local minute in this
 * span" is a calendar search (next_match) that jumps by month, day, hour and
 * minute using the bitmasks. Elapsed-time schedules take every match of
 * every span. Wall-clock schedules also keep a high-water mark `hw`: the
 * latest local time already shown by the clock. A local time at or below it
 * has had its first occurrence, so a later span (the second pass after a
 * fall back) skips it; a span that starts above hw + 1 opened a gap, and a
 * match inside the gap fires at the span's first instant.
 */
#include "cron.h"

#include "dates.h"

#include <stdio.h>
#include <string.h>

#define CRON_STEP_MAX 100000 /* next_match iterations per call: a guard, never reached */
#define CRON_SPAN_MAX 4096   /* offset spans walked per call: likewise */
#define CRON_T_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define CRON_T_MAX (221845392000LL) /* 9000-01-01T00:00:00Z */
#define ALL_HOURS 0xffffffu

typedef struct {
    const char *name;
    int min, max;
    const char *const *names; /* three-letter names for min.., or NULL */
} field_def_t;

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const field_def_t fields[5] = {
    { "minute", 0, 59, NULL },
    { "hour", 0, 23, NULL },
    { "day-of-month", 1, 31, NULL },
    { "month", 1, 12, month_names },
    { "day-of-week", 0, 7, day_names },
};

static const struct {
    const char *name, *spec;
} macros[] = {
    { "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
    { "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
    { "@hourly", "0 * * * *" },
};

/* ---- parsing ----------------------------------------------------------- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Reads the digits at p into *v (saturating: huge numbers stay huge and
 * fail the range checks); returns the first byte after them. */
static const char *read_digits(const char *p, const char *end, int *v)
{
    for (*v = 0; p < end && is_digit(*p); p++)
        if (*v < 100000)
            *v = *v * 10 + (*p - '0');
    return p;
}

/* Reads one value (number or name) at *p, advancing it. `range_end` makes
 * SUN mean 7 so that FRI-SUN is not backwards. */
static int parse_value(const field_def_t *f, const char **p, const char *end, bool range_end, int *out,
                       gl_err_t *err)
{
    const char *s = *p, *q = s;
    if (q < end && is_digit(*q)) {
        int v;
        q = read_digits(q, end, &v);
        if (v < f->min || v > f->max) {
            gl_err_set(err, "%s: %.*s is out of range %d-%d", f->name, (int)(q - s < 20 ? q - s : 20), s, f->min,
                       f->max);
            return GL_INVALID;
        }
        *out = v;
        *p = q;
        return GL_OK;
    }
    while (q < end && is_alpha(*q))
        q++;
    for (int i = 0; f->names && q - s == 3 && f->names[i]; i++) {
        if (strncasecmp(s, f->names[i], 3) == 0) {
            *out = f->min + i;
            if (range_end && f->names == day_names && i == 0)
                *out = 7;
            *p = q;
            return GL_OK;
        }
    }
    const char *what = f->names == month_names ? " or month name" : f->names == day_names ? " or day name" : "";
    if (q == s) { /* not even letters: show what follows */
        q = s;
        while (q < end && *q != ',')
            q++;
    }
    gl_err_set(err, "%s: '%.*s' is not a number%s", f->name, (int)(q - s < 40 ? q - s : 40), s, what);
    return GL_INVALID;
}

/* Parses one list item ("*", "n", "a-b", "* /s", "a-b/s", "n/s") into bits. */
static int parse_item(const field_def_t *f, const char *s, const char *end, uint64_t *bits, gl_err_t *err)
{
    const char *p = s;
    int lo, hi, step = 1;
    bool single = false;
    if (p == end) {
        gl_err_set(err, "%s: empty list item", f->name);
        return GL_INVALID;
    }
    if (*p == '*') {
        lo = f->min;
        hi = f->max;
        p++;
    } else {
        if (parse_value(f, &p, end, false, &lo, err) != GL_OK)
            return GL_INVALID;
        hi = lo;
        single = true;
        if (p < end && *p == '-') {
            p++;
            if (parse_value(f, &p, end, true, &hi, err) != GL_OK)
                return GL_INVALID;
            single = false;
            if (lo > hi) {
                gl_err_set(err, "%s: range %.*s starts after it ends", f->name, (int)(p - s < 40 ? p - s : 40), s);
                return GL_INVALID;
            }
        }
    }
    if (p < end && *p == '/') {
        const char *st = ++p;
        int v;
        p = read_digits(p, end, &v);
        if (p == st) {
            gl_err_set(err, "%s: '%.*s' needs a step number after '/'", f->name, (int)(end - s < 40 ? end - s : 40),
                       s);
            return GL_INVALID;
        }
        int max_step = f->max > 1 ? f->max : 1;
        if (v < 1 || v > max_step) {
            gl_err_set(err, "%s: step %.*s is out of range 1-%d", f->name, (int)(p - st < 20 ? p - st : 20), st,
                       max_step);
            return GL_INVALID;
        }
        step = v;
        if (single)
            hi = f->max;
    }
    if (p != end) {
        char what[16];
        snprintf(what, sizeof what, *p > ' ' && *p < 0x7f ? "'%c'" : "byte 0x%02x", (unsigned char)*p);
        gl_err_set(err, "%s: unexpected %s in '%.*s'", f->name, what, (int)(end - s < 40 ? end - s : 40), s);
        return GL_INVALID;
    }
    for (int v = lo; v <= hi; v += step)
        *bits |= UINT64_C(1) << v;
    return GL_OK;
}

static int parse_field(const field_def_t *f, const char *s, const char *end, uint64_t *bits, gl_err_t *err)
{
    *bits = 0;
    for (const char *item = s;; item++) {
        const char *comma = memchr(item, ',', (size_t)(end - item));
        const char *item_end = comma ? comma : end;
        if (parse_item(f, item, item_end, bits, err) != GL_OK)
            return GL_INVALID;
        if (!comma)
            return GL_OK;
        item = comma;
    }
}

static int parse_macro(const char *s, size_t len, gl_cron_t *out, gl_err_t *err)
{
    for (size_t i = 0; i < GL_NELEM(macros); i++)
        if (strlen(macros[i].name) == len && strncasecmp(s, macros[i].name, len) == 0)
            return gl_cron_parse(macros[i].spec, out, err);
    gl_err_set(err, "unknown cron macro '%.*s' (use @yearly, @annually, @monthly, @weekly, @daily, "
                    "@midnight or @hourly, alone)",
               (int)(len < 40 ? len : 40), s);
    return GL_INVALID;
}

int gl_cron_parse(const char *spec, gl_cron_t *out, gl_err_t *err)
{
    size_t len = spec ? strnlen(spec, GL_CRON_SPEC_MAX + 1) : 0;
    if (len > GL_CRON_SPEC_MAX) {
        gl_err_set(err, "cron schedule is longer than %d characters", GL_CRON_SPEC_MAX);
        return GL_INVALID;
    }
    const char *start[6], *end[6], *p = spec, *stop = spec + len;
    int n = 0;
    while (p < stop) {
        while (p < stop && is_blank(*p))
            p++;
        if (p == stop)
            break;
        if (n == 6) {
            n++;
            break;
        }
        start[n] = p;
        while (p < stop && !is_blank(*p))
            p++;
        end[n++] = p;
    }
    if (n == 0) {
        gl_err_set(err, "cron schedule is empty");
        return GL_INVALID;
    }
    if (start[0][0] == '@') {
        size_t macro_len = (size_t)(end[0] - start[0]);
        if (n > 1) {
            gl_err_set(err, "cron macro '%.*s' takes no other fields", (int)(macro_len < 40 ? macro_len : 40),
                       start[0]);
            return GL_INVALID;
        }
        return parse_macro(start[0], macro_len, out, err);
    }
    if (n != 5) {
        gl_err_set(err, "cron schedule has %s%d fields; expected 5: minute hour day-of-month month day-of-week",
                   n > 6 ? "more than " : "", n > 6 ? 6 : n);
        return GL_INVALID;
    }
    uint64_t bits[5];
    for (int i = 0; i < 5; i++)
        if (parse_field(&fields[i], start[i], end[i], &bits[i], err) != GL_OK)
            return GL_INVALID;
    *out = (gl_cron_t){
        .minutes = bits[0],
        .hours = (uint32_t)bits[1],
        .mdays = (uint32_t)bits[2],
        .months = (uint16_t)bits[3],
        .wdays = (uint8_t)((bits[4] & 0x7f) | (bits[4] >> 7 & 1)), /* 7 is Sunday too */
        .mday_any = start[2][0] == '*',
        .wday_any = start[4][0] == '*',
    };
    return GL_OK;
}

/* ---- searching --------------------------------------------------------- */

/* Lowest set bit of mask at index >= from, or -1. */
static int next_bit(uint64_t mask, int from)
{
    if (from >= 64)
        return -1;
    mask &= ~UINT64_C(0) << from;
    return mask ? __builtin_ctzll(mask) : -1;
}

static void next_day(int64_t *y, int *mo, int *d)
{
    if (++*d > gl_date_days_in_month(*y, *mo))
        *d = 1, ++*mo;
    if (*mo > 12)
        *mo = 1, ++*y;
}

static bool day_ok(const gl_cron_t *c, int64_t days, int d)
{
    int wd = gl_date_weekday(days) % 7; /* 0 = Sunday, as cron counts */
    bool mday = c->mdays >> d & 1, wday = c->wdays >> wd & 1;
    return c->mday_any || c->wday_any ? mday && wday : mday || wday;
}

/*
 * The smallest matching local minute W with from <= W <= to, both local
 * "wall seconds" (local date and time counted like unix time). Counts its
 * iterations into *steps and gives up past CRON_STEP_MAX (the caller then
 * fails the whole search rather than trust a partial answer).
 */
static bool next_match(const gl_cron_t *c, int64_t from, int64_t to, int64_t *out, int *steps)
{
    int64_t w = gl_date_floor_div(from + 59, 60) * 60;
    if (w > to)
        return false;
    int64_t days = gl_date_floor_div(w, 86400), y;
    int sod = (int)(w - days * 86400), h = sod / 3600, mi = sod % 3600 / 60, mo, d;
    gl_date_civil_from_days(days, &y, &mo, &d);
    while (++*steps <= CRON_STEP_MAX) {
        days = gl_date_days_from_civil(y, mo, d);
        if (days * 86400 > to)
            return false;
        int next;
        if (!(c->months >> mo & 1)) { /* on to the next month in the set */
            next = next_bit(c->months, mo + 1);
            y += next < 0;
            mo = next < 0 ? next_bit(c->months, 1) : next;
            d = 1, h = 0, mi = 0;
            continue;
        }
        if (!day_ok(c, days, d)) {
            /* when both day fields must match, a day-of-month miss jumps to
             * the next listed day; anything else steps one day */
            next = (c->mday_any || c->wday_any) && !(c->mdays >> d & 1) ? next_bit(c->mdays, d + 1) : d + 1;
            h = 0, mi = 0;
            if (next < 0 || next > gl_date_days_in_month(y, mo)) { /* none left this month */
                d = gl_date_days_in_month(y, mo);
                next_day(&y, &mo, &d);
            } else {
                d = next;
            }
            continue;
        }
        next = next_bit(c->hours, h);
        if (next != h)
            mi = 0;
        if (next >= 0)
            mi = next_bit(c->minutes, mi);
        if (next < 0 || mi < 0) { /* nothing left today, or in this hour */
            if (next >= 0 && next + 1 < 24) {
                h = next + 1, mi = 0;
                continue;
            }
            h = 0, mi = 0;
            next_day(&y, &mo, &d);
            continue;
        }
        w = days * 86400 + next * 3600 + mi * 60;
        if (w > to)
            return false;
        *out = w;
        return true;
    }
    return false;
}

/* The latest local time the clock has shown at any instant <= after. A
 * clock can only have shown more than its current reading if it was set
 * back, by at most the span of possible offsets (two days); three days of
 * history covers that. */
static int64_t high_water(const gl_tz_t *tz, int64_t after)
{
    int64_t t = after - 3 * 86400, hw = INT64_MIN;
    for (int n = 0; n < CRON_SPAN_MAX; n++) {
        int64_t change;
        bool more = gl_tz_next_change(tz, t, &change);
        int64_t last = !more || change > after ? after : change - 1;
        int64_t wall = last + gl_tz_offset(tz, last, NULL);
        hw = wall > hw ? wall : hw;
        if (last == after)
            break;
        t = change;
    }
    return hw;
}

int gl_cron_next(const gl_cron_t *spec, const gl_tz_t *tz, int64_t after, int64_t *next)
{
    /* a hand-made gl_cron_t may have stray bits or empty sets: mask them */
    gl_cron_t cron = *spec, *c = &cron;
    cron.minutes &= (UINT64_C(1) << 60) - 1;
    cron.hours &= ALL_HOURS;
    cron.mdays &= 0xfffffffeu;
    cron.months &= 0x1ffe;
    cron.wdays &= 0x7f;
    if (!cron.minutes || !cron.hours || !cron.mdays || !cron.months || !cron.wdays || after < CRON_T_MIN ||
        after > CRON_T_MAX)
        return GL_NOTFOUND;
    bool wall_clock = c->hours != ALL_HOURS;
    int64_t hw = wall_clock ? high_water(tz, after) : INT64_MIN, w;
    int64_t s = after + 1, limit = after + (int64_t)GL_CRON_HORIZON_DAYS * 86400;
    int steps = 0;
    for (int n = 0; n < CRON_SPAN_MAX && s <= limit; n++) {
        /* the span [s, e) has one offset: local time is t + off in it */
        int64_t e;
        int32_t off = gl_tz_offset(tz, s, NULL);
        if (!gl_tz_next_change(tz, s, &e) || e > limit + 1)
            e = limit + 1;
        int64_t lo = s + off, hi = e - 1 + off;
        if (wall_clock) {
            /* local times skipped by a gap fire once, as the clock lands */
            bool in_gap = hw + 1 < lo && next_match(c, hw + 1, lo - 1, &w, &steps);
            if (steps > CRON_STEP_MAX)
                break;
            if (in_gap) {
                *next = s;
                return GL_OK;
            }
            if (hw + 1 > lo) /* the repeat: already fired */
                lo = hw + 1;
            hw = hi > hw ? hi : hw;
        }
        bool found = lo <= hi && next_match(c, lo, hi, &w, &steps);
        if (steps > CRON_STEP_MAX)
            break;
        if (found) {
            *next = w - off;
            return GL_OK;
        }
        s = e;
    }
    return GL_NOTFOUND;
}
