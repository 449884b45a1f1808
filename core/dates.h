/*
 * dates.h: the proleptic Gregorian calendar in UTC and ISO 8601 text out,
 * the one place that turns day counts into dates and back (ISO 8601 text in:
 * the engine's date library, gl__date_parse_iso). Time zones (tz.c),
 * cron (cron.c), the expression language's DateTime and the wait node all
 * build on it. Pure arithmetic: no allocation, no global state.
 */
#ifndef GL_DATES_H
#define GL_DATES_H

#include "gl.h"

/* 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in unix milliseconds: the
 * range ISO 8601 text with four-digit years can name. */
#define GL_DATE_MS_MIN (-62167219200000LL)
#define GL_DATE_MS_END 253402300800000LL

#define GL_DATE_MS_PER_DAY 86400000LL

/* Room for gl_date_iso_format's text and its NUL. */
#define GL_DATE_ISO_LEN 32

/* A UTC time taken apart. */
typedef struct {
    int64_t year;
    int month, day, hour, minute, second, ms;
    int weekday; /* 1 = Monday … 7 = Sunday (ISO 8601) */
} gl_date_t;

/* a / b rounded toward negative infinity (b != 0). */
int64_t gl_date_floor_div(int64_t a, int64_t b);

bool gl_date_is_leap(int64_t year);

/* Days in month m (1-12) of the year. */
int gl_date_days_in_month(int64_t year, int m);

/* Days since 1970-01-01 for a date (month 1-12, day 1-31) and back
 * (Howard Hinnant's algorithms; exact for every int64 day that fits). */
int64_t gl_date_days_from_civil(int64_t year, int m, int d);
void gl_date_civil_from_days(int64_t days, int64_t *year, int *m, int *d);

/* The ISO weekday (1 = Monday … 7 = Sunday) of a day since 1970-01-01. */
int gl_date_weekday(int64_t days);

/* Unix milliseconds to fields and back; gl_date_join ignores weekday and
 * takes fields as they are (a day 31 of February runs on into March). */
void gl_date_split(int64_t ms, gl_date_t *t);
int64_t gl_date_join(const gl_date_t *t);

/* 2026-11-25T19:33:53.123Z into out: always UTC, always milliseconds.
 * ms must lie in [GL_DATE_MS_MIN, GL_DATE_MS_END). */
void gl_date_iso_format(int64_t ms, char out[GL_DATE_ISO_LEN]);


#endif
