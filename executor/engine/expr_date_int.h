/*
 * expr_date_int.h: what the date files of the expression language share
 * (expr_date.c: zones, Luxon DateTime, Duration, n8n's date extensions;
 * expr_datefmt.c: text in and out; expr_jsdate.c: JavaScript's Date).
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
