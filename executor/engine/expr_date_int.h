/*
 * expr_date_int.h: what the date files of the expression language share:
 *   expr_date.c      zones, local time, date values as text/JSON/number,
 *                    method dispatch
 *   expr_duration.c  units, Luxon's Duration and diff algorithm
 *   expr_luxon.c     DateTime methods and n8n's date extensions
 *   expr_luxon_ns.c  making DateTimes: arguments, the DateTime namespace,
 *                    n8n's string/number toDateTime()
 *   expr_datefmt.c   text out: toFormat, en-US Intl, ISO, zone names
 *   expr_dateparse.c text in: ISO, SQL, HTTP, RFC 2822, fromFormat, Date.parse
 *   expr_jsdate.c    JavaScript's Date
 *
 * A date value is a V_DATE: val_t.ms is the instant (unix milliseconds),
 * val_t.zone the zone it is shown in (an index in the per-process zone
 * table of expr_date.c; 0 is UTC) and val_t.df says which kind it is:
 * a Luxon DateTime (no flag), a JavaScript Date (DF_JS), an invalid one
 * (DF_INVALID, Luxon's isValid false or JS's Invalid Date) or a Luxon
 * Duration (DF_DUR: val_t.j is an object of its units, ms unused).
 */
#ifndef GL_EXPR_DATE_INT_H
#define GL_EXPR_DATE_INT_H

#include "expr_int.h"

enum { DF_JS = 1, DF_INVALID = 2, DF_DUR = 4 };

#define MS_HOUR 3600000LL
#define MS_MIN 60000LL

/* Local fields of a date in its zone, and the offset (seconds). */
void gl__date_local(const val_t *d, gl_date_t *t, int32_t *off);
/* UTC offset of the zone at an instant, in seconds. */
int32_t gl__date_off(int zone, int64_t ms);
/* Unix ms for local fields (any overflow carried: month 13, hour 25…) as
 * Luxon resolves them in zone: guess_off (seconds) is tried first; a time
 * in a DST gap moves forward, an ambiguous one takes the guess or the
 * earlier offset. */
int64_t gl__date_from_local(int zone, int64_t year, int64_t month, int64_t day, int64_t hour,
                            int64_t minute, int64_t second, int64_t ms, int32_t guess_off);
/* JavaScript's rule for local time: an ambiguous time takes the earlier
 * instant, a time in a gap the offset before the transition. */
int64_t gl__date_js_local(int zone, int64_t local_ms);
/* The zone's name as Luxon shows it ("UTC", "UTC+5", "Europe/Berlin"). */
const char *gl__date_zone_name(int zone, char buf[64]);
bool gl__date_zone_fixed(int zone);
/* The zone table index for a Luxon zone name ("local", "utc", "UTC+3",
 * "America/New_York"); false for an unknown zone. */
bool gl__date_zone_find(ev_t *ev, const char *name, size_t n, int *zone);
/* A fixed-offset zone ("UTC+5:30") for off seconds (whole minutes, at
 * most 18 hours); false beyond. */
bool gl__date_zone_fixed_off(int32_t off, int *zone);
/* The workflow's zone (ctx->tz), UTC when none or unknown. */
int gl__date_local_zone(ev_t *ev);
/* A DateTime (or JS Date when js) at ms in zone; an error out of range. */
int gl__date_mk(ev_t *ev, double ms, int zone, bool js, val_t *out);
val_t gl__date_invalid(bool js);

#define M(name) static int name(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
#define UNUSED_ARGS (void)ev, (void)self, (void)a, (void)na

/* Luxon's units, largest first; a duration's value per unit. */
enum { U_YEAR, U_QUARTER, U_MONTH, U_WEEK, U_DAY, U_HOUR, U_MINUTE, U_SECOND, U_MS, U_N };

typedef struct {
    double v[U_N];
    bool set[U_N];
} dur_t;

/* expr_date.c (more) */
/* Luxon's isInDST: the offset is above January's or May's. */
bool gl__date_zone_dst(int zone, int64_t ms);
/* Local fields with any overflow as ms of a UTC calendar. */
int64_t gl__date_civil_ms(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
                          int64_t second, int64_t ms);
/* gl__date_from_local for fields in t. */
int64_t gl__date_from_fields(int zone, const gl_date_t *t, int32_t guess);
/* A date of self's kind and zone at ms; an error out of range. */
int gl__date_mk_like(ev_t *ev, const val_t *self, double ms, val_t *out);
/* Day of the year (1-366), ISO week (1-53; *week_year may be NULL), weeks in an ISO year. */
int gl__date_ordinal(const gl_date_t *t);
int gl__date_iso_week(const gl_date_t *t, int64_t *week_year);
int gl__date_weeks_in_year(int64_t y);
method_fn gl__date_find_method(const method_t *t, size_t n, const char *name, size_t len);

/* expr_duration.c */
extern const char *const gl__date_unit_names[U_N]; /* plural: "years" … */
extern const double gl__date_unit_ms[U_N];         /* casual: a month is 30 days */
extern const methods_t gl__date_dur_methods;
/* A unit by Luxon's name (singular or plural, any case) or n8n's alias
 * (ms, sec, min, hr…); -1 when unknown. unit_arg fails with the list. */
int gl__date_unit_find(const char *s, size_t n);
int gl__date_unit_arg(ev_t *ev, const char *fn, const val_t *v, int *u);
/* A unit or an array of units into want; def when v is undefined or []. */
int gl__date_units_arg(ev_t *ev, const char *fn, const val_t *v, int def, bool want[U_N]);
/* A JSON number, integral values as integers. */
json_object *gl__date_jnum(double v);
/* A Duration value of d (its set units), and back. */
int gl__date_dur_val(ev_t *ev, const dur_t *d, val_t *out);
void gl__date_dur_get(const val_t *self, dur_t *d);
/* plus()/minus()'s argument: {days: 1}, a Duration, ms, or (n, 'unit')
 * with def_unit when the unit is undefined. */
int gl__date_dur_arg(ev_t *ev, const char *fn, const val_t *a, size_t na, int def_unit, dur_t *d);
/* Luxon's shiftTo (with normalizeValues) and as(). */
void gl__date_dur_shift(const dur_t *in, const bool want[U_N], dur_t *out);
double gl__date_dur_as(const dur_t *d, int unit);
/* Luxon's self.diff(other, units) into r. */
int gl__date_diff(ev_t *ev, const val_t *self, const val_t *other, const bool want[U_N], dur_t *r);
/* A Duration's property; its ISO 8601 text ("P1DT2H"). */
int gl__date_dur_field(const val_t *d, const char *name, size_t len, val_t *out);
void gl__date_dur_iso(const dur_t *d, char *out, size_t cap);

/* expr_luxon.c */
extern const methods_t gl__date_invalid_methods; /* what an invalid DateTime answers */
/* Luxon's plus (sign 1) and minus (-1) of d. */
int gl__date_add(ev_t *ev, const val_t *self, const dur_t *d, double sign, val_t *out);
int gl__date_start_of(ev_t *ev, const val_t *self, int u, val_t *out);
int gl__date_end_of(ev_t *ev, const val_t *self, int u, val_t *out);
/* The local value of unit u (U_WEEK: the ISO week number). */
double gl__date_getter(const val_t *d, int u);
int gl__date_str_out(const char *s, val_t *out);
/* o's boolean member key, def when o is not an object or lacks it. */
bool gl__date_opt_bool(const val_t *o, const char *key, bool def);
/* setZone: zone < 0 gives an invalid DateTime. */
int gl__date_set_zone(ev_t *ev, const val_t *self, int zone, bool keep_local, val_t *out);

/* expr_luxon_ns.c */
/* A DateTime from a DateTime, JS Date, ISO string or ms; *ok false when v is none. */
int gl__date_to_dt(ev_t *ev, const val_t *v, val_t *out, bool *ok);
/* {zone, setZone, locale} options: *zone is -1 for an unknown zone. */
int gl__date_zone_opts(ev_t *ev, const char *fn, const val_t *opts, int *zone, bool *set_zone);
/* Parsed local fields (with an offset when has_off) into a DateTime shown
 * in zone, or in the parsed offset when set_zone. */
int gl__date_from_parsed(ev_t *ev, const gl_date_t *t, bool has_off, int32_t off, int zone,
                         bool set_zone, val_t *out);
/* fromISO (sql: fromSQL) of s: an invalid DateTime when it does not parse. */
int gl__date_parse_iso_val(ev_t *ev, const char *s, size_t n, int zone, bool set_zone, bool sql,
                           val_t *out);
/* fromFormat of s with format f. */
int gl__date_from_format(ev_t *ev, const char *s, size_t sn_, const char *f, size_t fn_, int zone,
                         bool sz, val_t *out);

/* expr_datefmt.c */
/* Luxon toFormat of d into b. */
int gl__date_format(ev_t *ev, const val_t *d, const char *f, size_t n, gl_buf_t *b);
/* en-US Intl.DateTimeFormat of d with options opts (an object or NULL: defaults). */
int gl__date_locale(ev_t *ev, const val_t *d, json_object *opts, bool def_date,
                    bool def_time, gl_buf_t *b);
/* Short and long zone names en-US shows ("EST", "Eastern Standard Time";
 * "GMT+1" when it has none). */
void gl__date_zone_abbr(const val_t *d, bool lng, char *out, size_t cap);
/* Luxon's ISO 8601 text: date, time and offset parts. */
void gl__date_iso(const val_t *d, bool date, bool time, bool offset, bool ms, char *out,
                  size_t cap);

/* Parses ISO 8601 as Luxon's fromISO does (sql: fromSQL's spaces); *has_off
 * says whether an offset was given (*off seconds). Local fields in t. */
bool gl__date_parse_iso(const char *s, size_t n, bool sql, gl_date_t *t, bool *has_off,
                        int32_t *off, bool *time_only);
/* An instant in ISO 8601 (gl__date_parse_iso's forms, a space for the T
 * allowed) that names a full date (YYYY-MM-DD) and, when it has a time, an
 * offset: 2026-11-25T19:33:53Z, …53.123Z, …53+01:00, 2026-11-25 (midnight
 * UTC). flow.wait's `until`. */
bool gl__date_iso_instant(const char *s, size_t n, int64_t *ms);
/* RFC 2822 / HTTP dates: UTC ms (offset applied). */
bool gl__date_parse_rfc(const char *s, size_t n, bool http, int64_t *ms, int32_t *off);
/* Luxon fromFormat: fields into t, and zone/offset when the text had them. */
typedef struct {
    gl_date_t t;
    bool has[8]; /* year, month, day, hour, minute, second, ms, (unused) */
    bool has_off, has_zone, has_epoch, pm_set, pm;
    int32_t off;
    int zone;
    int64_t epoch_ms;
    int weekday, ordinal, quarter;
} parsed_t;
bool gl__date_parse_format(ev_t *ev, const char *s, size_t n, const char *f, size_t fn,
                           parsed_t *p);
/* JS Date.parse: NaN when it cannot. */
double gl__date_js_parse(ev_t *ev, const char *s, size_t n);

/* expr_jsdate.c */
extern const methods_t gl__date_js_methods;
int gl__date_js_now(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);
int gl__date_js_parse_fn(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);
int gl__date_js_utc(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);
/* (expr_date.c) n8n's date extensions on a JS Date: run on the DateTime. */
int gl__date_js_ext(ev_t *ev, const val_t *self, const char *name, const val_t *a, size_t na,
                    val_t *out);
int gl__date_js_to_string(ev_t *ev, const val_t *d, gl_buf_t *b);

/* Names. */
extern const char *const gl__date_months[12];
extern const char *const gl__date_days[7]; /* Monday first */

#endif
