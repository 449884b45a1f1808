/*
 * dates.c: the proleptic Gregorian calendar in UTC, and ISO 8601 text out
 * (see dates.h). ISO 8601 text in is read by the engine's date library
 * (executor/engine/expr_dateparse.c), the one parser of it.
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

