/*
 * dates.c: the proleptic Gregorian calendar in UTC, and ISO 8601 text both
 * ways (see dates.h).
 */
#include "dates.h"

#include <stdio.h>

int64_t gl_date_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

bool gl_date_is_leap(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int gl_date_days_in_month(int64_t year, int m)
{
    static const int len[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return len[m - 1] + (m == 2 && gl_date_is_leap(year));
}

int64_t gl_date_days_from_civil(int64_t year, int m, int d)
{
    year -= m <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t yoe = year - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void gl_date_civil_from_days(int64_t days, int64_t *year, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*m <= 2);
}

int gl_date_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (4) */
    return (int)(days + 3 - gl_date_floor_div(days + 3, 7) * 7) + 1;
}

void gl_date_split(int64_t ms, gl_date_t *t)
{
    int64_t days = gl_date_floor_div(ms, GL_DATE_MS_PER_DAY);
    int64_t rem = ms - days * GL_DATE_MS_PER_DAY;
    gl_date_civil_from_days(days, &t->year, &t->month, &t->day);
    t->hour = (int)(rem / 3600000);
    t->minute = (int)(rem / 60000 % 60);
    t->second = (int)(rem / 1000 % 60);
    t->ms = (int)(rem % 1000);
    t->weekday = gl_date_weekday(days);
}

int64_t gl_date_join(const gl_date_t *t)
{
    return gl_date_days_from_civil(t->year, t->month, t->day) * GL_DATE_MS_PER_DAY +
           t->hour * 3600000LL + t->minute * 60000LL + t->second * 1000LL + t->ms;
}

/* Within the documented range every field fits its width; the unsigned
 * modulos change nothing but let the compiler prove the 24 characters fit. */
void gl_date_iso_format(int64_t ms, char out[GL_DATE_ISO_LEN])
{
    gl_date_t t;
    gl_date_split(ms, &t);
    snprintf(out, GL_DATE_ISO_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)t.year % 10000u,
             (unsigned)t.month % 100u, (unsigned)t.day % 100u, (unsigned)t.hour % 100u,
             (unsigned)t.minute % 100u, (unsigned)t.second % 100u, (unsigned)t.ms % 1000u);
}

/* ---- ISO 8601 parsing -------------------------------------------------- */

typedef struct {
    const char *s;
    size_t n, i;
} iso_in_t;

static bool iso_at(const iso_in_t *in, char c)
{
    return in->i < in->n && in->s[in->i] == c;
}

static bool iso_digit(const iso_in_t *in)
{
    return in->i < in->n && in->s[in->i] >= '0' && in->s[in->i] <= '9';
}

/* Exactly width digits. */
static bool iso_fixed(iso_in_t *in, int width, int *out)
{
    int v = 0;
    for (int k = 0; k < width; k++) {
        if (!iso_digit(in))
            return false;
        v = v * 10 + (in->s[in->i++] - '0');
    }
    *out = v;
    return true;
}

/* [.,]f… after the seconds: 1 to 9 digits, milliseconds kept. */
static bool iso_fraction(iso_in_t *in, int *ms)
{
    int nd = 0, frac = 0;
    for (; iso_digit(in); nd++, in->i++)
        if (nd < 3)
            frac = frac * 10 + (in->s[in->i] - '0');
    if (nd == 0 || nd > 9)
        return false;
    for (int k = nd; k < 3; k++)
        frac *= 10;
    *ms = frac;
    return true;
}

/* hh[:mm[:ss[.f…]]] */
static bool iso_time(iso_in_t *in, gl_date_t *t)
{
    if (!iso_fixed(in, 2, &t->hour))
        return false;
    if (!iso_at(in, ':'))
        return true;
    in->i++;
    if (!iso_fixed(in, 2, &t->minute))
        return false;
    if (!iso_at(in, ':'))
        return true;
    in->i++;
    if (!iso_fixed(in, 2, &t->second))
        return false;
    if (!iso_at(in, '.') && !iso_at(in, ','))
        return true;
    in->i++;
    return iso_fraction(in, &t->ms);
}

/* Z or ±hh[[:]mm] into *off_ms (what to subtract to get UTC); *zoned says
 * whether there was one. */
static bool iso_zone(iso_in_t *in, int64_t *off_ms, bool *zoned)
{
    int off_h = 0, off_m = 0;
    *zoned = true;
    if (iso_at(in, 'Z')) {
        in->i++;
        return true;
    }
    if (!iso_at(in, '+') && !iso_at(in, '-')) {
        *zoned = false;
        return true;
    }
    int sign = in->s[in->i++] == '-' ? -1 : 1;
    if (!iso_fixed(in, 2, &off_h))
        return false;
    if (iso_at(in, ':')) {
        in->i++;
        if (!iso_fixed(in, 2, &off_m)) /* "+05:" */
            return false;
    } else if (in->i < in->n && !iso_fixed(in, 2, &off_m)) {
        return false;
    }
    if (off_h > 23 || off_m > 59)
        return false;
    *off_ms = sign * (off_h * 3600000LL + off_m * 60000LL);
    return true;
}

bool gl_date_iso_parse(const char *s, size_t n, unsigned flags, int64_t *out_ms)
{
    gl_date_t t = { .month = 1, .day = 1 };
    iso_in_t in = { s, n, 0 };
    int year, parts = 1;
    int64_t off_ms = 0;
    bool zoned = false;
    if (!iso_fixed(&in, 4, &year))
        return false;
    t.year = year;
    if (iso_at(&in, '-')) {
        in.i++, parts++;
        if (!iso_fixed(&in, 2, &t.month))
            return false;
        if (iso_at(&in, '-')) {
            in.i++, parts++;
            if (!iso_fixed(&in, 2, &t.day))
                return false;
        }
    }
    if ((flags & GL_DATE_ISO_FULL_DATE) && parts < 3)
        return false;
    if (parts == 3 && (iso_at(&in, 'T') || ((flags & GL_DATE_ISO_SPACE) && iso_at(&in, ' ')))) {
        in.i++;
        if (!iso_time(&in, &t) || !iso_zone(&in, &off_ms, &zoned))
            return false;
        if ((flags & GL_DATE_ISO_ZONED) && !zoned)
            return false;
    }
    if (in.i != n || t.month < 1 || t.month > 12 || t.day < 1 ||
        t.day > gl_date_days_in_month(t.year, t.month) || t.hour > 23 || t.minute > 59 || t.second > 59)
        return false;
    int64_t ms = gl_date_join(&t) - off_ms;
    if (ms < GL_DATE_MS_MIN || ms >= GL_DATE_MS_END)
        return false;
    *out_ms = ms;
    return true;
}
