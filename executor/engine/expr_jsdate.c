/*
 * expr_jsdate.c: JavaScript's Date (see expr_date_int.h): new Date(…),
 * Date.now/parse/UTC, the get…/toISOString/toLocale… methods, and n8n's
 * date extensions on a Date. "Local" time is the workflow's zone, as if
 * the n8n server ran with TZ set to it. A Date is immutable here: the
 * setters return the new time value (what they return in JavaScript)
 * without changing the Date.
 */
#include "expr_date_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

/* JS MakeDay/MakeTime from possibly overflowing fields: NaN when not finite. */
static double make_ms(const double f[7], int zone, bool utc)
{
    for (int i = 0; i < 7; i++)
        if (!isfinite(f[i]) || fabs(f[i]) > 1e12)
            return NAN;
    double y = trunc(f[0]), m = trunc(f[1]);
    double ym = y + floor(m / 12);
    double mn = m - floor(m / 12) * 12;
    if (fabs(ym) > 400000)
        return NAN;
    int64_t days = gl_date_days_from_civil((int64_t)ym, (int)mn + 1, 1);
    double local = ((double)days + trunc(f[2]) - 1) * 86400000.0 + trunc(f[3]) * 3600000.0 +
                   trunc(f[4]) * 60000.0 + trunc(f[5]) * 1000.0 + trunc(f[6]);
    if (!(local >= (double)GL_DATE_MS_MIN - 2 * 86400000.0 && local < (double)GL_DATE_MS_END + 2 * 86400000.0))
        return NAN;
    if (utc)
        return local;
    return (double)gl__date_js_local(zone, (int64_t)local);
}

static int js_val(ev_t *ev, double ms, val_t *out)
{
    int zone = gl__date_local_zone(ev);
    if (!(ms >= (double)GL_DATE_MS_MIN && ms < (double)GL_DATE_MS_END)) {
        *out = gl__date_invalid(true);
        out->zone = (int16_t)zone;
        return GL_OK;
    }
    return gl__date_mk(ev, trunc(ms), zone, true, out);
}

int gl__expr_date_new(ev_t *ev, const val_t *a, size_t na, val_t *out)
{
    if (na == 0)
        return js_val(ev, (double)ev->ctx->now_ms, out);
    if (na == 1) {
        const val_t *x = &a[0];
        if (x->k == V_DATE && !(x->df & DF_DUR))
            return js_val(ev, x->df & DF_INVALID ? (double)NAN : (double)x->ms, out);
        if (x->k == V_STR) {
            TRY(gl__expr_charge_pass(ev, sn(x)));
            return js_val(ev, gl__date_js_parse(ev, sp(x), sn(x)), out);
        }
        double ms;
        TRY(gl__expr_to_number(ev, x, &ms));
        return js_val(ev, ms, out);
    }
    double f[7] = { 0, 0, 1, 0, 0, 0, 0 };
    for (size_t i = 0; i < 7 && i < na; i++)
        TRY(gl__expr_to_number(ev, &a[i], &f[i]));
    if (isfinite(f[0]) && trunc(f[0]) >= 0 && trunc(f[0]) <= 99)
        f[0] = 1900 + trunc(f[0]);
    return js_val(ev, make_ms(f, gl__date_local_zone(ev), false), out);
}

int gl__date_js_now(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self, (void)a, (void)na;
    *out = vnum((double)ev->ctx->now_ms);
    return GL_OK;
}

int gl__date_js_parse_fn(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    sv_t s;
    TRY(gl__expr_to_sv(ev, arg(a, na, 0), &s));
    int rc = gl__expr_charge_pass(ev, s.n);
    if (rc == GL_OK)
        *out = vnum(gl__date_js_parse(ev, s.p, s.n));
    gl__expr_sv_free(&s);
    return rc;
}

int gl__date_js_utc(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double f[7] = { NAN, 0, 1, 0, 0, 0, 0 };
    for (size_t i = 0; i < 7 && i < na; i++)
        TRY(gl__expr_to_number(ev, &a[i], &f[i]));
    if (isfinite(f[0]) && trunc(f[0]) >= 0 && trunc(f[0]) <= 99)
        f[0] = 1900 + trunc(f[0]);
    double ms = make_ms(f, 0, true);
    *out = vnum(ms >= -8.64e15 && ms <= 8.64e15 ? ms : (double)NAN);
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* Getters                                                                  */

enum { G_YEAR, G_MONTH, G_DATE, G_DAY, G_HOURS, G_MINUTES, G_SECONDS, G_MS };

static int getter(const val_t *self, int g, bool utc, val_t *out)
{
    if (self->df & DF_INVALID) {
        *out = vnum(NAN);
        return GL_OK;
    }
    gl_date_t t;
    if (utc)
        gl_date_split(self->ms, &t);
    else
        gl__date_local(self, &t, NULL);
    double v[] = { (double)t.year, t.month - 1, t.day, t.weekday % 7, t.hour, t.minute, t.second, t.ms };
    *out = vnum(v[g]);
    return GL_OK;
}

#define GETTER(fn, g, utc)                                                                    \
    M(fn)                                                                                     \
    {                                                                                         \
        (void)ev, (void)a, (void)na;                                                          \
        return getter(self, g, utc, out);                                                     \
    }

GETTER(j_get_full_year, G_YEAR, false)
GETTER(j_get_month, G_MONTH, false)
GETTER(j_get_date, G_DATE, false)
GETTER(j_get_day, G_DAY, false)
GETTER(j_get_hours, G_HOURS, false)
GETTER(j_get_minutes, G_MINUTES, false)
GETTER(j_get_seconds, G_SECONDS, false)
GETTER(j_get_ms, G_MS, false)
GETTER(j_get_utc_full_year, G_YEAR, true)
GETTER(j_get_utc_month, G_MONTH, true)
GETTER(j_get_utc_date, G_DATE, true)
GETTER(j_get_utc_day, G_DAY, true)
GETTER(j_get_utc_hours, G_HOURS, true)
GETTER(j_get_utc_minutes, G_MINUTES, true)
GETTER(j_get_utc_seconds, G_SECONDS, true)
GETTER(j_get_utc_ms, G_MS, true)

M(j_get_time)
{
    (void)ev, (void)a, (void)na;
    *out = vnum(self->df & DF_INVALID ? (double)NAN : (double)self->ms);
    return GL_OK;
}

M(j_get_timezone_offset)
{
    (void)ev, (void)a, (void)na;
    *out = vnum(self->df & DF_INVALID ? (double)NAN : -(gl__date_off(self->zone, self->ms) / 60) + 0.0);
    return GL_OK;
}

/* Setters: the new time value (the Date itself is not changed). */
static int setter(ev_t *ev, const val_t *self, const val_t *a, size_t na, int first, bool utc,
                  val_t *out)
{
    if (self->df & DF_INVALID) {
        *out = vnum(NAN);
        return GL_OK;
    }
    gl_date_t t;
    if (utc)
        gl_date_split(self->ms, &t);
    else
        gl__date_local(self, &t, NULL);
    double f[7] = { (double)t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.ms };
    int max = first == 0 ? 3 : first == 1 ? 2 : first == 2 ? 1 : 7 - first;
    if (na == 0) {
        *out = vnum(NAN);
        return GL_OK;
    }
    for (int i = 0; i < max && (size_t)i < na; i++)
        TRY(gl__expr_to_number(ev, &a[i], &f[first + i]));
    double ms = make_ms(f, self->zone, utc);
    *out = vnum(ms >= (double)GL_DATE_MS_MIN && ms < (double)GL_DATE_MS_END ? ms : (double)NAN);
    return GL_OK;
}

#define SETTER(fn, first, utc)                                                                \
    M(fn)                                                                                     \
    {                                                                                         \
        return setter(ev, self, a, na, first, utc, out);                                      \
    }

SETTER(j_set_full_year, 0, false)
SETTER(j_set_month, 1, false)
SETTER(j_set_date, 2, false)
SETTER(j_set_hours, 3, false)
SETTER(j_set_minutes, 4, false)
SETTER(j_set_seconds, 5, false)
SETTER(j_set_ms, 6, false)
SETTER(j_set_utc_full_year, 0, true)
SETTER(j_set_utc_month, 1, true)
SETTER(j_set_utc_date, 2, true)
SETTER(j_set_utc_hours, 3, true)
SETTER(j_set_utc_minutes, 4, true)
SETTER(j_set_utc_seconds, 5, true)
SETTER(j_set_utc_ms, 6, true)

M(j_set_time)
{
    (void)self;
    double ms;
    TRY(gl__expr_num_arg(ev, a, na, 0, NAN, &ms));
    *out = vnum(ms >= (double)GL_DATE_MS_MIN && ms < (double)GL_DATE_MS_END ? trunc(ms) : (double)NAN);
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* Text                                                                     */

static void tz_part(const val_t *d, char *out, size_t cap)
{
    int32_t off = gl__date_off(d->zone, d->ms), ao = off < 0 ? -off : off;
    char name[80];
    gl__date_zone_abbr(d, true, name, sizeof name);
    snprintf(out, cap, "GMT%c%02d%02d (%s)", off < 0 ? '-' : '+', (int)(ao / 3600),
             (int)(ao % 3600 / 60), name);
}

/* mode 0: toString, 1: toDateString, 2: toTimeString */
static int js_text(ev_t *ev, const val_t *d, int mode, gl_buf_t *b)
{
    if (d->df & DF_INVALID)
        return gl__expr_apps(ev, b, "Invalid Date");
    gl_date_t t;
    gl__date_local(d, &t, NULL);
    char date[40], time[160], tz[120];
    snprintf(date, sizeof date, "%.3s %.3s %02d %04d", gl__date_days[t.weekday - 1],
             gl__date_months[t.month - 1], t.day, (int)t.year);
    tz_part(d, tz, sizeof tz);
    snprintf(time, sizeof time, "%02d:%02d:%02d %s", t.hour, t.minute, t.second, tz);
    if (mode != 2)
        TRY(gl__expr_apps(ev, b, date));
    if (mode == 0)
        TRY(gl__expr_apps(ev, b, " "));
    if (mode != 1)
        TRY(gl__expr_apps(ev, b, time));
    return GL_OK;
}

int gl__date_js_to_string(ev_t *ev, const val_t *d, gl_buf_t *b)
{
    return js_text(ev, d, 0, b);
}

static int text_val(ev_t *ev, const val_t *self, int mode, val_t *out)
{
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = js_text(ev, self, mode, &b);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

M(j_to_string)
{
    (void)a, (void)na;
    return text_val(ev, self, 0, out);
}

M(j_to_date_string)
{
    (void)a, (void)na;
    return text_val(ev, self, 1, out);
}

M(j_to_time_string)
{
    (void)a, (void)na;
    return text_val(ev, self, 2, out);
}

M(j_to_iso_string)
{
    (void)a, (void)na;
    if (self->df & DF_INVALID)
        return gl__expr_fail(ev, "RangeError: Invalid time value");
    char iso[GL_DATE_ISO_LEN];
    gl_date_iso_format(self->ms, iso);
    *out = vstr_n(iso, strlen(iso));
    return GL_OK;
}

M(j_to_json)
{
    (void)ev, (void)a, (void)na;
    json_object *j = gl__expr_date_json(self);
    *out = j ? vown(V_STR, j, 0) : vmk(V_NULL);
    return GL_OK;
}

M(j_to_utc_string)
{
    (void)ev, (void)a, (void)na;
    if (self->df & DF_INVALID) {
        *out = vstr_n("Invalid Date", 12);
        return GL_OK;
    }
    gl_date_t t;
    gl_date_split(self->ms, &t);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", gl__date_days[t.weekday - 1],
             t.day, gl__date_months[t.month - 1], (int)t.year, t.hour, t.minute, t.second);
    *out = vstr_n(tmp, strlen(tmp));
    return GL_OK;
}

/* toLocale{,Date,Time}String(locale, options): en-US only. */
static int js_locale(ev_t *ev, const val_t *self, const val_t *a, size_t na, bool date, bool time,
                     val_t *out)
{
    const val_t *loc = arg(a, na, 0), *opts = arg(a, na, 1);
    if (loc->k == V_STR && (sn(loc) < 2 || strncmp(sp(loc), "en", 2) != 0 ||
                            (sn(loc) > 2 && sp(loc)[2] != '-')))
        return gl__expr_fail(ev, "toLocaleString(): only the en-US locale is supported, not '%.20s'",
                             sp(loc));
    if (loc->k != V_STR && !nullish(loc))
        return gl__expr_fail(ev, "toLocaleString(): the locale must be a string like 'en-US'");
    if (self->df & DF_INVALID) {
        *out = vstr_n("Invalid Date", 12);
        return GL_OK;
    }
    json_object *o = opts->k == V_OBJ ? opts->j : NULL;
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc;
    if (o && date != time) { /* the other half's fields are dropped, as in JavaScript */
        json_object *copy = json_object_new_object();
        static const char *const keys[] = { "year", "month", "day", "weekday", "hour", "minute",
                                            "second", "timeZone", "timeZoneName", "hour12",
                                            "hourCycle", "dateStyle", "timeStyle" };
        for (size_t i = 0; i < GL_NELEM(keys); i++) {
            json_object *x;
            if (json_object_object_get_ex(o, keys[i], &x))
                json_object_object_add(copy, keys[i], json_object_get(x));
        }
        rc = gl__date_locale(ev, self, copy, date, time, &b);
        json_object_put(copy);
    } else {
        rc = gl__date_locale(ev, self, o, date, time, &b);
    }
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

M(j_to_locale_string)
{
    return js_locale(ev, self, a, na, true, true, out);
}

M(j_to_locale_date_string)
{
    return js_locale(ev, self, a, na, true, false, out);
}

M(j_to_locale_time_string)
{
    return js_locale(ev, self, a, na, false, true, out);
}

/* n8n's date extensions, shared with DateTime */
#define EXT(fn, name)                                                                         \
    M(fn)                                                                                     \
    {                                                                                         \
        if (self->df & DF_INVALID)                                                            \
            return gl__expr_fail(ev, "%s(): the Date is invalid", name);                      \
        return gl__date_js_ext(ev, self, name, a, na, out);                                   \
    }

EXT(j_beginning_of, "beginningOf")
EXT(j_end_of_month, "endOfMonth")
EXT(j_extract, "extract")
EXT(j_format, "format")
EXT(j_is_between, "isBetween")
EXT(j_is_dst, "isDst")
EXT(j_is_in_last, "isInLast")
EXT(j_is_weekend, "isWeekend")
EXT(j_plus, "plus")
EXT(j_minus, "minus")
EXT(j_to_date_time, "toDateTime")
EXT(j_diff_to, "diffTo")
EXT(j_diff_to_now, "diffToNow")
EXT(j_to_int, "toInt")
EXT(j_to_boolean, "toBoolean")
EXT(j_is_empty, "isEmpty")
EXT(j_is_not_empty, "isNotEmpty")

static const method_t js_methods[] = {
    { "getFullYear", j_get_full_year }, { "getMonth", j_get_month }, { "getDate", j_get_date },
    { "getDay", j_get_day }, { "getHours", j_get_hours }, { "getMinutes", j_get_minutes },
    { "getSeconds", j_get_seconds }, { "getMilliseconds", j_get_ms },
    { "getUTCFullYear", j_get_utc_full_year }, { "getUTCMonth", j_get_utc_month },
    { "getUTCDate", j_get_utc_date }, { "getUTCDay", j_get_utc_day },
    { "getUTCHours", j_get_utc_hours }, { "getUTCMinutes", j_get_utc_minutes },
    { "getUTCSeconds", j_get_utc_seconds }, { "getUTCMilliseconds", j_get_utc_ms },
    { "getTime", j_get_time }, { "valueOf", j_get_time },
    { "getTimezoneOffset", j_get_timezone_offset },
    { "setFullYear", j_set_full_year }, { "setMonth", j_set_month }, { "setDate", j_set_date },
    { "setHours", j_set_hours }, { "setMinutes", j_set_minutes }, { "setSeconds", j_set_seconds },
    { "setMilliseconds", j_set_ms }, { "setUTCFullYear", j_set_utc_full_year },
    { "setUTCMonth", j_set_utc_month }, { "setUTCDate", j_set_utc_date },
    { "setUTCHours", j_set_utc_hours }, { "setUTCMinutes", j_set_utc_minutes },
    { "setUTCSeconds", j_set_utc_seconds }, { "setUTCMilliseconds", j_set_utc_ms },
    { "setTime", j_set_time },
    { "toString", j_to_string }, { "toDateString", j_to_date_string },
    { "toTimeString", j_to_time_string }, { "toISOString", j_to_iso_string },
    { "toJSON", j_to_json }, { "toUTCString", j_to_utc_string }, { "toGMTString", j_to_utc_string },
    { "toLocaleString", j_to_locale_string }, { "toLocaleDateString", j_to_locale_date_string },
    { "toLocaleTimeString", j_to_locale_time_string },
    { "beginningOf", j_beginning_of }, { "endOfMonth", j_end_of_month }, { "extract", j_extract },
    { "format", j_format }, { "isBetween", j_is_between }, { "isDst", j_is_dst },
    { "isInLast", j_is_in_last }, { "isWeekend", j_is_weekend }, { "plus", j_plus },
    { "minus", j_minus }, { "toDateTime", j_to_date_time }, { "diffTo", j_diff_to },
    { "diffToNow", j_diff_to_now }, { "toInt", j_to_int }, { "toFloat", j_to_int },
    { "toBoolean", j_to_boolean }, { "isEmpty", j_is_empty }, { "isNotEmpty", j_is_not_empty },
};

const methods_t gl__date_js_methods = { js_methods, GL_NELEM(js_methods) };
