/*
 * expr_luxon.c: Luxon's DateTime methods and n8n's date extensions (see
 * expr_date_int.h): calendar arithmetic (plus, minus, startOf, endOf, set,
 * setZone), getters, text out (toISO, toFormat, toLocaleString…),
 * comparisons, and beginningOf, diffTo, isBetween… from n8n's
 * date-extensions.ts. Calendar units (years to days) move the local wall
 * clock fields and are resolved in the zone again, so plus({days: 1}) across
 * a DST change keeps the time of day; hours and below add elapsed time.
 */
#include "expr_date_int.h"

#include "tz.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>

/* ------------------------------------------------------------------------ */
/* Arithmetic                                                               */

/* Luxon's adjustTime: calendar units on the local fields, the rest in ms. */
int gl__date_add(ev_t *ev, const val_t *self, const dur_t *d, double sign, val_t *out)
{
    double v[U_N];
    for (int u = 0; u < U_N; u++) {
        v[u] = sign * d->v[u];
        if (!(fabs(v[u]) < 1e15))
            return gl__expr_fail(ev, "date out of range (years 0000 to 9999)");
    }
    if (fabs(v[U_YEAR]) > 20000 || fabs(v[U_QUARTER]) > 80000 || fabs(v[U_MONTH]) > 240000 ||
        fabs(v[U_WEEK]) > 600000 || fabs(v[U_DAY]) > 4000000)
        return gl__expr_fail(ev, "date out of range (years 0000 to 9999)");
    gl_date_t t;
    int32_t off;
    gl__date_local(self, &t, &off);
    int64_t year = t.year + (int64_t)trunc(v[U_YEAR]);
    int64_t month = t.month + (int64_t)trunc(v[U_MONTH]) + (int64_t)trunc(v[U_QUARTER]) * 3;
    int64_t m0 = year * 12 + month - 1;
    year = gl_date_floor_div(m0, 12);
    month = m0 - year * 12 + 1;
    if (year < -1 || year > 10000)
        return gl__expr_fail(ev, "date out of range (years 0000 to 9999)");
    int dim = gl_date_days_in_month(year, (int)month);
    int64_t day = (t.day < dim ? t.day : dim) + (int64_t)trunc(v[U_DAY]) + (int64_t)trunc(v[U_WEEK]) * 7;
    int64_t ms = gl__date_from_local(self->zone, year, month, day, t.hour, t.minute, t.second,
                                     t.ms, off);
    double extra = 0;
    for (int u = 0; u < U_N; u++)
        extra += (u <= U_DAY ? v[u] - trunc(v[u]) : v[u]) * gl__date_unit_ms[u];
    if (!(fabs(extra) < 1e15))
        return gl__expr_fail(ev, "date out of range (years 0000 to 9999)");
    return gl__date_mk_like(ev, self, (double)ms + trunc(extra), out);
}

/* Luxon's set() on local fields, resolved with the current offset first. */
static int64_t set_fields(const val_t *self, const gl_date_t *t)
{
    int32_t off = gl__date_off(self->zone, self->ms);
    return gl__date_from_fields(self->zone, t, off);
}

int gl__date_start_of(ev_t *ev, const val_t *self, int u, val_t *out)
{
    gl_date_t t;
    gl__date_local(self, &t, NULL);
    /* every field below the unit is reset (units in the order of U_*;
     * a week's day is set below) */
    if (u == U_YEAR)
        t.month = 1;
    if (u <= U_MONTH)
        t.day = 1;
    if (u <= U_DAY)
        t.hour = 0;
    if (u <= U_HOUR)
        t.minute = 0;
    if (u <= U_MINUTE)
        t.second = 0;
    if (u <= U_SECOND)
        t.ms = 0;
    if (u == U_QUARTER)
        t.month = (t.month - 1) / 3 * 3 + 1;
    if (u == U_WEEK) /* weeks start on Monday */
        t.day -= t.weekday - 1;
    return gl__date_mk_like(ev, self, (double)set_fields(self, &t), out);
}

int gl__date_end_of(ev_t *ev, const val_t *self, int u, val_t *out)
{
    dur_t one = { 0 };
    one.v[u] = 1;
    one.set[u] = true;
    val_t next, start;
    if (gl__date_add(ev, self, &one, 1, &next) != GL_OK) { /* the year 9999 */
        gl_err_clear(ev->err);
        return gl__date_mk_like(ev, self, (double)GL_DATE_MS_END - 1, out);
    }
    TRY(gl__date_start_of(ev, &next, u, &start));
    return gl__date_mk_like(ev, self, (double)start.ms - 1, out);
}

/* ------------------------------------------------------------------------ */
/* DateTime getters                                                         */

double gl__date_getter(const val_t *d, int u)
{
    gl_date_t t;
    gl__date_local(d, &t, NULL);
    switch (u) {
    case U_YEAR: return (double)t.year;
    case U_QUARTER: return (t.month - 1) / 3 + 1;
    case U_MONTH: return t.month;
    case U_WEEK: return gl__date_iso_week(&t, NULL);
    case U_DAY: return t.day;
    case U_HOUR: return t.hour;
    case U_MINUTE: return t.minute;
    case U_SECOND: return t.second;
    default: return t.ms;
    }
}

int gl__expr_date_field(ev_t *ev, const val_t *d, const char *name, size_t len, val_t *out)
{
    if (d->df & DF_DUR)
        return gl__date_dur_field(d, name, len, out);
    *out = vmk(V_UNDEF);
    if (d->df & DF_JS)
        return GL_OK; /* a JS Date has no own properties */
    static const char *const names[] = { "year", "quarter", "month", "weekNumber", "day",
                                         "hour", "minute", "second", "millisecond" };
    bool bad = d->df & DF_INVALID;
    if (name_is(name, len, "isValid")) {
        *out = vbool(!bad);
        return GL_OK;
    }
    if (name_is(name, len, "invalidReason") || name_is(name, len, "invalidExplanation")) {
        *out = bad ? vstr_n("unparsable", 10) : vmk(V_NULL);
        return GL_OK;
    }
    if (name_is(name, len, "zoneName")) {
        char zb[GL_TZ_NAME_MAX];
        const char *z = bad ? NULL : gl__date_zone_name(d->zone, zb);
        *out = z ? vstr_n(z, strlen(z)) : vmk(V_NULL);
        return GL_OK;
    }
    if (name_is(name, len, "locale")) {
        *out = bad ? vmk(V_NULL) : vstr_n("en-US", 5);
        return GL_OK;
    }
    for (size_t i = 0; i < GL_NELEM(names); i++)
        if (name_is(name, len, names[i])) {
            *out = vnum(bad ? (double)NAN : gl__date_getter(d, (int)i));
            return GL_OK;
        }
    gl_date_t t;
    int32_t off;
    gl__date_local(d, &t, &off);
    if (name_is(name, len, "weekday"))
        *out = vnum(bad ? (double)NAN : t.weekday);
    else if (name_is(name, len, "ordinal"))
        *out = vnum(bad ? (double)NAN : gl__date_ordinal(&t));
    else if (name_is(name, len, "daysInMonth"))
        *out = vnum(bad ? (double)NAN : gl_date_days_in_month(t.year, t.month));
    else if (name_is(name, len, "daysInYear"))
        *out = vnum(bad ? (double)NAN : gl_date_is_leap(t.year) ? 366 : 365);
    else if (name_is(name, len, "isInLeapYear"))
        *out = vbool(!bad && gl_date_is_leap(t.year));
    else if (name_is(name, len, "offset"))
        *out = vnum(bad ? (double)NAN : off / 60);
    else if (name_is(name, len, "isOffsetFixed"))
        *out = bad ? vmk(V_NULL) : vbool(gl__date_zone_fixed(d->zone));
    else if (name_is(name, len, "isInDST"))
        *out = vbool(!bad && gl__date_zone_dst(d->zone, d->ms));
    else if (name_is(name, len, "ts"))
        *out = vnum(bad ? (double)NAN : (double)d->ms);
    else if (name_is(name, len, "weekYear") || name_is(name, len, "weeksInWeekYear")) {
        int64_t wy;
        gl__date_iso_week(&t, &wy);
        *out = vnum(bad ? (double)NAN : name_is(name, len, "weekYear") ? (double)wy : gl__date_weeks_in_year(wy));
    } else if (!bad && (name_is(name, len, "monthLong") || name_is(name, len, "monthShort"))) {
        const char *m = gl__date_months[t.month - 1];
        *out = vstr_n(m, len == 9 ? strlen(m) : 3);
    } else if (!bad && (name_is(name, len, "weekdayLong") || name_is(name, len, "weekdayShort"))) {
        const char *w = gl__date_days[t.weekday - 1];
        *out = vstr_n(w, len == 11 ? strlen(w) : 3);
    } else if (!bad && (name_is(name, len, "offsetNameShort") || name_is(name, len, "offsetNameLong"))) {
        char z[GL_TZ_NAME_MAX];
        if (gl__date_zone_fixed(d->zone))
            gl__date_zone_name(d->zone, z);
        else
            gl__date_zone_abbr(d, len == 14, z, sizeof z);
        *out = vstr_n(z, strlen(z));
    } else if (name_is(name, len, "outputCalendar")) {
        *out = vstr_n("gregory", 7);
    } else if (name_is(name, len, "numberingSystem")) {
        *out = vstr_n("latn", 4);
    }
    (void)ev;
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* DateTime methods                                                         */


int gl__date_str_out(const char *s, val_t *out)
{
    *out = vstr_n(s, strlen(s));
    return GL_OK;
}

/* toISO({suppressMilliseconds, includeOffset}) */
bool gl__date_opt_bool(const val_t *o, const char *key, bool def)
{
    json_object *x;
    if (o->k == V_OBJ && json_object_object_get_ex(o->j, key, &x))
        return json_object_get_boolean(x);
    return def;
}

M(d_to_iso)
{
    (void)ev;
    char tmp[80];
    const val_t *o = arg(a, na, 0);
    bool ms = !(gl__date_opt_bool(o, "suppressMilliseconds", false) && self->ms % 1000 == 0);
    gl__date_iso(self, true, true, gl__date_opt_bool(o, "includeOffset", true), ms, tmp, sizeof tmp);
    return gl__date_str_out(tmp, out);
}

M(d_to_iso_date)
{
    UNUSED_ARGS;
    char tmp[80];
    gl__date_iso(self, true, false, false, false, tmp, sizeof tmp);
    return gl__date_str_out(tmp, out);
}

M(d_to_iso_time)
{
    (void)ev;
    char tmp[80];
    const val_t *o = arg(a, na, 0);
    bool ms = !(gl__date_opt_bool(o, "suppressMilliseconds", false) && self->ms % 1000 == 0);
    gl__date_iso(self, false, true, gl__date_opt_bool(o, "includeOffset", true), ms, tmp, sizeof tmp);
    return gl__date_str_out(tmp, out);
}

M(d_to_iso_week)
{
    UNUSED_ARGS;
    gl_date_t t;
    gl__date_local(self, &t, NULL);
    int64_t wy;
    int wk = gl__date_iso_week(&t, &wy);
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%04" PRId64 "-W%02d-%d", wy, wk, t.weekday);
    return gl__date_str_out(tmp, out);
}

M(d_to_string)
{
    (void)a, (void)na;
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = gl__expr_date_to_string(ev, self, &b);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

M(d_to_json)
{
    UNUSED_ARGS;
    json_object *j = gl__expr_date_json(self);
    *out = j ? vown(V_STR, j, 0) : vmk(V_NULL);
    return GL_OK;
}

M(d_to_millis)
{
    UNUSED_ARGS;
    *out = vnum(gl__expr_date_num(self));
    return GL_OK;
}

M(d_to_seconds)
{
    UNUSED_ARGS;
    *out = vnum(gl__expr_date_num(self) / 1000.0);
    return GL_OK;
}

M(d_to_unix_integer)
{
    UNUSED_ARGS;
    *out = vnum((double)gl_date_floor_div(self->ms, 1000));
    return GL_OK;
}

M(d_to_format)
{
    if (arg(a, na, 0)->k != V_STR)
        return gl__expr_fail(ev, "toFormat() expects a format string");
    int zone;
    bool sz;
    TRY(gl__date_zone_opts(ev, "toFormat()", arg(a, na, 1), &zone, &sz)); /* refuses other locales */
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = gl__date_format(ev, self, sp(arg(a, na, 0)), sn(arg(a, na, 0)), &b);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

/* n8n's format(fmt): toFormat, 'yyyy-MM-dd' when no format is given. */
M(d_format)
{
    if (arg(a, na, 0)->k == V_UNDEF) {
        val_t f = vstr_n("yyyy-MM-dd", 10);
        int rc = d_to_format(ev, self, &f, 1, out);
        vfree(&f);
        return rc;
    }
    return d_to_format(ev, self, a, na, out);
}

M(d_to_locale_string)
{
    const val_t *o = arg(a, na, 0);
    if (o->k == V_STR)
        return gl__expr_fail(ev, "toLocaleString(): pass a format like DateTime.DATE_MED; "
                                 "only the en-US locale is supported");
    int zone;
    bool sz;
    TRY(gl__date_zone_opts(ev, "toLocaleString()", arg(a, na, 1), &zone, &sz));
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = gl__date_locale(ev, self, o->k == V_OBJ ? o->j : NULL, true, false, &b);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

M(d_to_js_date)
{
    (void)a, (void)na;
    return gl__date_mk(ev, (double)self->ms, gl__date_local_zone(ev), true, out);
}

M(d_to_date_time)
{
    (void)a, (void)na;
    if (self->df & DF_JS)
        return gl__date_mk(ev, (double)self->ms, gl__date_local_zone(ev), false, out);
    *out = *self;
    return GL_OK;
}

M(d_to_object)
{
    UNUSED_ARGS;
    gl_date_t t;
    gl__date_local(self, &t, NULL);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "year", json_object_new_int64(t.year));
    json_object_object_add(o, "month", json_object_new_int(t.month));
    json_object_object_add(o, "day", json_object_new_int(t.day));
    json_object_object_add(o, "hour", json_object_new_int(t.hour));
    json_object_object_add(o, "minute", json_object_new_int(t.minute));
    json_object_object_add(o, "second", json_object_new_int(t.second));
    json_object_object_add(o, "millisecond", json_object_new_int(t.ms));
    *out = vown(V_OBJ, o, 160);
    return GL_OK;
}

M(d_to_sql)
{
    UNUSED_ARGS;
    char tmp[80];
    gl_date_t t;
    int32_t off;
    gl__date_local(self, &t, &off);
    int32_t ao = off < 0 ? -off : off;
    if (gl__date_zone_fixed(self->zone) && off == 0)
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02d %02d:%02d:%02d.%03d Z", (int)t.year, t.month,
                 t.day, t.hour, t.minute, t.second, t.ms);
    else
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02d %02d:%02d:%02d.%03d %c%02d:%02d", (int)t.year,
                 t.month, t.day, t.hour, t.minute, t.second, t.ms, off < 0 ? '-' : '+',
                 (int)(ao / 3600), (int)(ao % 3600 / 60));
    return gl__date_str_out(tmp, out);
}

M(d_to_sql_date)
{
    return d_to_iso_date(ev, self, a, na, out);
}

M(d_to_sql_time)
{
    TRY(d_to_sql(ev, self, a, na, out)); /* the time and offset part of toSQL() */
    val_t r = vstr_n(sp(out) + 11, sn(out) - 11);
    vfree(out);
    *out = r;
    return GL_OK;
}

static void rfc_text(const val_t *self, bool http, char *tmp, size_t cap)
{
    gl_date_t t;
    int32_t off = 0;
    if (http)
        gl_date_split(self->ms, &t);
    else
        gl__date_local(self, &t, &off);
    int32_t ao = off < 0 ? -off : off;
    if (http)
        snprintf(tmp, cap, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", gl__date_days[t.weekday - 1],
                 t.day, gl__date_months[t.month - 1], (int)t.year, t.hour, t.minute, t.second);
    else
        snprintf(tmp, cap, "%.3s, %02d %.3s %04d %02d:%02d:%02d %c%02d%02d",
                 gl__date_days[t.weekday - 1], t.day, gl__date_months[t.month - 1], (int)t.year,
                 t.hour, t.minute, t.second, off < 0 ? '-' : '+', (int)(ao / 3600),
                 (int)(ao % 3600 / 60));
}

M(d_to_http)
{
    UNUSED_ARGS;
    char tmp[80];
    rfc_text(self, true, tmp, sizeof tmp);
    return gl__date_str_out(tmp, out);
}

M(d_to_rfc2822)
{
    UNUSED_ARGS;
    char tmp[80];
    rfc_text(self, false, tmp, sizeof tmp);
    return gl__date_str_out(tmp, out);
}

static int plus_minus(ev_t *ev, const val_t *self, const val_t *a, size_t na, double sign,
                      const char *fn, val_t *out)
{
    dur_t d;
    TRY(gl__date_dur_arg(ev, fn, a, na, U_MINUTE, &d));
    return gl__date_add(ev, self, &d, sign, out);
}

M(d_plus)
{
    return plus_minus(ev, self, a, na, 1, "plus()", out);
}

M(d_minus)
{
    return plus_minus(ev, self, a, na, -1, "minus()", out);
}

M(d_start_of)
{
    int u = 0;
    TRY(gl__date_unit_arg(ev, "startOf()", arg(a, na, 0), &u));
    return gl__date_start_of(ev, self, u, out);
}

M(d_end_of)
{
    int u = 0;
    TRY(gl__date_unit_arg(ev, "endOf()", arg(a, na, 0), &u));
    return gl__date_end_of(ev, self, u, out);
}

/* n8n: beginningOf(unit = 'week') */
M(d_beginning_of)
{
    int u = U_WEEK;
    if (arg(a, na, 0)->k != V_UNDEF)
        TRY(gl__date_unit_arg(ev, "beginningOf()", arg(a, na, 0), &u));
    return gl__date_start_of(ev, self, u, out);
}

M(d_end_of_month)
{
    (void)a, (void)na;
    return gl__date_end_of(ev, self, U_MONTH, out);
}

M(d_set)
{
    const val_t *o = arg(a, na, 0);
    if (o->k != V_OBJ)
        return gl__expr_fail(ev, "set() expects an object like {hour: 9}");
    gl_date_t t;
    gl__date_local(self, &t, NULL);
    bool day_set = false;
    int weekday = 0;
    struct json_object_iterator it = json_object_iter_begin(o->j);
    struct json_object_iterator end = json_object_iter_end(o->j);
    while (!json_object_iter_equal(&it, &end)) {
        const char *key = json_object_iter_peek_name(&it);
        json_object *jv = json_object_iter_peek_value(&it);
        json_object_iter_next(&it);
        TRY(gl__expr_charge_pass(ev, strlen(key)));
        if (!json_object_is_type(jv, json_type_int) && !json_object_is_type(jv, json_type_double))
            return gl__expr_fail(ev, "set(): invalid unit value for '%.40s': a number is expected", key);
        double v = json_object_get_double(jv);
        if (!(v == trunc(v) && fabs(v) < 1e9))
            return gl__expr_fail(ev, "set(): '%.40s' must be an integer", key);
        int u = gl__date_unit_find(key, strlen(key));
        if (name_is(key, strlen(key), "weekday")) {
            weekday = (int)v;
            continue;
        }
        switch (u) {
        case U_YEAR: t.year = (int64_t)v; break;
        case U_MONTH: t.month = (int)v; break;
        case U_DAY: t.day = (int)v; day_set = true; break;
        case U_HOUR: t.hour = (int)v; break;
        case U_MINUTE: t.minute = (int)v; break;
        case U_SECOND: t.second = (int)v; break;
        case U_MS: t.ms = (int)v; break;
        default: return gl__expr_fail(ev, "set(): unknown unit '%.40s'", key);
        }
    }
    if (!day_set && t.month >= 1 && t.month <= 12 && t.year >= 0 && t.year <= 9999) {
        int dim = gl_date_days_in_month(t.year, t.month);
        t.day = t.day > dim ? dim : t.day;
    }
    if (weekday)
        t.day += weekday - t.weekday;
    if (t.year < -1 || t.year > 10000 || abs(t.month) > 1000000)
        return gl__expr_fail(ev, "date out of range (years 0000 to 9999)");
    return gl__date_mk_like(ev, self, (double)set_fields(self, &t), out);
}

int gl__date_set_zone(ev_t *ev, const val_t *self, int zone, bool keep_local, val_t *out)
{
    if (zone < 0) {
        *out = gl__date_invalid(self->df & DF_JS);
        return GL_OK;
    }
    double ms = (double)self->ms;
    if (keep_local) {
        gl_date_t t;
        gl__date_local(self, &t, NULL);
        ms = (double)gl__date_from_fields(zone, &t, gl__date_off(zone, self->ms));
    }
    TRY(gl__date_mk(ev, ms, zone, false, out));
    out->df = self->df;
    return GL_OK;
}

M(d_set_zone)
{
    const val_t *z = arg(a, na, 0);
    int zone = gl__date_local_zone(ev);
    if (z->k == V_STR) {
        TRY(gl__expr_charge(ev, 16));
        if (!gl__date_zone_find(ev, sp(z), sn(z), &zone))
            zone = -1;
    } else if (z->k == V_NUM) { /* a fixed offset in minutes */
        if (!(fabs(z->n) <= 18 * 60) || !gl__date_zone_fixed_off((int32_t)z->n * 60, &zone))
            zone = -1;
    } else if (z->k != V_UNDEF) {
        return gl__expr_fail(ev, "setZone() expects a zone name like 'Europe/Berlin'");
    }
    return gl__date_set_zone(ev, self, zone, gl__date_opt_bool(arg(a, na, 1), "keepLocalTime", false) ||
                                        gl__date_opt_bool(arg(a, na, 1), "keepCalendarTime", false), out);
}

M(d_to_utc)
{
    double off = 0;
    int zone = 0;
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &off));
    if (off != 0 && (!(fabs(off) <= 18 * 60) || !gl__date_zone_fixed_off((int32_t)off * 60, &zone)))
        zone = -1;
    return gl__date_set_zone(ev, self, zone, gl__date_opt_bool(arg(a, na, 1), "keepLocalTime", false), out);
}

M(d_to_local)
{
    (void)a, (void)na;
    return gl__date_set_zone(ev, self, gl__date_local_zone(ev), false, out);
}

M(d_set_locale)
{
    (void)self;
    const val_t *l = arg(a, na, 0);
    if (l->k != V_STR || (strncasecmp(sp(l), "en", 2) != 0 || (sn(l) > 2 && sp(l)[2] != '-')))
        return gl__expr_fail(ev, "setLocale(): only the en-US locale is supported");
    *out = *self;
    return GL_OK;
}

static int other_dt(ev_t *ev, const char *fn, const val_t *v, val_t *out)
{
    bool ok;
    TRY(gl__date_to_dt(ev, v, out, &ok));
    if (!ok)
        return gl__expr_fail(ev, "%s expects a DateTime or an ISO date string", fn);
    return GL_OK;
}

M(d_diff)
{
    val_t other;
    TRY(other_dt(ev, "diff()", arg(a, na, 0), &other));
    bool want[U_N];
    TRY(gl__date_units_arg(ev, "diff()", arg(a, na, 1), U_MS, want));
    if (other.df & DF_INVALID)
        return gl__expr_fail(ev, "diff(): the other DateTime is invalid");
    dur_t r;
    TRY(gl__date_diff(ev, self, &other, want, &r));
    return gl__date_dur_val(ev, &r, out);
}

M(d_diff_now)
{
    val_t now;
    TRY(gl__date_mk(ev, (double)ev->ctx->now_ms, self->zone, false, &now));
    val_t args[2] = { now, *arg(a, na, 0) };
    return d_diff(ev, self, args, 2, out);
}

/* n8n: diffTo(other, unit = 'days'): a number for one unit, an object for several. */
static int diff_to(ev_t *ev, const val_t *self, const val_t *other_v, const val_t *unit,
                   val_t *out)
{
    val_t other;
    TRY(other_dt(ev, "diffTo()", other_v, &other));
    bool want[U_N];
    TRY(gl__date_units_arg(ev, "diffTo()", unit, U_DAY, want));
    int n = 0, last = U_DAY;
    for (int u = 0; u < U_N; u++)
        if (want[u])
            n++, last = u;
    dur_t r;
    TRY(gl__date_diff(ev, self, &other, want, &r));
    if (n == 1) {
        *out = vnum(r.v[last] == 0 ? 0 : r.v[last]);
        return GL_OK;
    }
    json_object *o = json_object_new_object();
    for (int u = 0; u < U_N; u++)
        if (want[u])
            json_object_object_add(o, gl__date_unit_names[u], gl__date_jnum(r.v[u] == 0 ? 0 : r.v[u]));
    *out = vown(V_OBJ, o, 256);
    return GL_OK;
}

M(d_diff_to)
{
    if (na < 1)
        return gl__expr_fail(ev, "diffTo() expects a date to compare with");
    return diff_to(ev, self, arg(a, na, 0), arg(a, na, 1), out);
}

M(d_diff_to_now)
{
    val_t now;
    TRY(gl__date_mk(ev, (double)ev->ctx->now_ms, self->zone, false, &now));
    return diff_to(ev, self, &now, arg(a, na, 0), out);
}

M(d_equals)
{
    (void)ev;
    const val_t *o = arg(a, na, 0);
    *out = vbool(o->k == V_DATE && !((o->df | self->df) & (DF_INVALID | DF_DUR)) &&
                 o->ms == self->ms && o->zone == self->zone && (o->df & DF_JS) == (self->df & DF_JS));
    return GL_OK;
}

M(d_has_same)
{
    val_t other, adj, s, e;
    TRY(other_dt(ev, "hasSame()", arg(a, na, 0), &other));
    int u = 0;
    TRY(gl__date_unit_arg(ev, "hasSame()", arg(a, na, 1), &u));
    TRY(gl__date_set_zone(ev, self, other.zone, true, &adj));
    TRY(gl__date_start_of(ev, &adj, u, &s));
    TRY(gl__date_end_of(ev, &adj, u, &e));
    *out = vbool(s.ms <= other.ms && other.ms <= e.ms);
    return GL_OK;
}

M(d_get)
{
    const val_t *n = arg(a, na, 0);
    if (n->k != V_STR)
        return gl__expr_fail(ev, "get() expects a unit name like 'year'");
    return gl__expr_date_field(ev, self, sp(n), sn(n), out);
}

/* n8n: extract(part = 'week') */
M(d_extract)
{
    const val_t *p = arg(a, na, 0);
    if (p->k == V_UNDEF) {
        *out = vnum(gl__date_getter(self, U_WEEK));
        return GL_OK;
    }
    if (p->k != V_STR)
        return gl__expr_fail(ev, "extract() expects a unit like 'month'");
    gl_date_t t;
    gl__date_local(self, &t, NULL);
    if (name_is(sp(p), sn(p), "yearDayNumber")) {
        *out = vnum(gl__date_ordinal(&t));
        return GL_OK;
    }
    if (name_is(sp(p), sn(p), "weekday")) {
        *out = vnum(t.weekday);
        return GL_OK;
    }
    if (name_is(sp(p), sn(p), "weekNumber") || name_is(sp(p), sn(p), "week")) {
        *out = vnum(gl__date_getter(self, U_WEEK));
        return GL_OK;
    }
    int u = gl__date_unit_find(sp(p), sn(p));
    if (u < 0 || u == U_WEEK)
        return gl__expr_fail(ev, "extract(): unknown part '%.40s' (year, month, week, day, hour, "
                                 "minute, second, millisecond, weekday, yearDayNumber)", sp(p));
    *out = vnum(gl__date_getter(self, u));
    return GL_OK;
}

/* n8n: isBetween(a, b), either order, exclusive; undefined when one is not a date. */
M(d_is_between)
{
    if (na != 2)
        return gl__expr_fail(ev, "isBetween(): expected exactly two args");
    val_t x, y;
    bool okx, oky;
    TRY(gl__date_to_dt(ev, &a[0], &x, &okx));
    TRY(gl__date_to_dt(ev, &a[1], &y, &oky));
    if (!okx || !oky) {
        *out = vmk(V_UNDEF);
        return GL_OK;
    }
    int64_t lo = x.ms < y.ms ? x.ms : y.ms, hi = x.ms < y.ms ? y.ms : x.ms;
    *out = vbool(lo < self->ms && self->ms < hi);
    return GL_OK;
}

M(d_is_dst)
{
    (void)ev, (void)a, (void)na;
    *out = vbool(gl__date_zone_dst(self->zone, self->ms));
    return GL_OK;
}

M(d_is_weekend)
{
    (void)ev, (void)a, (void)na;
    gl_date_t t;
    gl__date_local(self, &t, NULL);
    *out = vbool(t.weekday >= 6);
    return GL_OK;
}

/* n8n: isInLast(n = 0, unit = 'minutes') */
M(d_is_in_last)
{
    double n = 0;
    int u = U_MINUTE;
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &n));
    if (arg(a, na, 1)->k != V_UNDEF)
        TRY(gl__date_unit_arg(ev, "isInLast()", arg(a, na, 1), &u));
    if (!isfinite(n))
        return gl__expr_fail(ev, "isInLast(): the amount must be a finite number");
    val_t now, past;
    TRY(gl__date_mk(ev, (double)ev->ctx->now_ms, self->zone, false, &now));
    dur_t d = { 0 };
    d.v[u] = n;
    TRY(gl__date_add(ev, &now, &d, -1, &past));
    *out = vbool(past.ms <= self->ms && self->ms <= now.ms);
    return GL_OK;
}

M(d_to_int)
{
    UNUSED_ARGS;
    *out = vnum((double)self->ms);
    return GL_OK;
}

M(d_undefined)
{
    UNUSED_ARGS;
    *out = vmk(V_UNDEF);
    return GL_OK;
}

M(d_false)
{
    UNUSED_ARGS;
    *out = vbool(false);
    return GL_OK;
}

M(d_true)
{
    UNUSED_ARGS;
    *out = vbool(true);
    return GL_OK;
}

/* toRelative({base, unit, round}): "in 3 days", "2 hours ago" (en-US). */
M(d_to_relative)
{
    const val_t *o = arg(a, na, 0);
    val_t base;
    TRY(gl__date_mk(ev, (double)ev->ctx->now_ms, self->zone, false, &base));
    bool want[U_N] = { 0 };
    int order[U_N], n = 0;
    json_object *jb, *ju;
    if (o->k == V_OBJ && json_object_object_get_ex(o->j, "base", &jb) && jb) {
        val_t bv = gl__expr_vjson(jb);
        bool ok;
        int rc = gl__date_to_dt(ev, &bv, &base, &ok);
        vfree(&bv);
        TRY(rc);
        if (!ok)
            return gl__expr_fail(ev, "toRelative(): base must be a DateTime");
    }
    if (o->k == V_OBJ && json_object_object_get_ex(o->j, "unit", &ju) && ju) {
        val_t uv = gl__expr_vjson(ju);
        bool w[U_N];
        int rc = gl__date_units_arg(ev, "toRelative()", &uv, U_DAY, w);
        vfree(&uv);
        TRY(rc);
        for (int u = 0; u < U_N; u++)
            if (w[u])
                order[n++] = u;
    } else {
        static const int def[] = { U_YEAR, U_MONTH, U_DAY, U_HOUR, U_MINUTE, U_SECOND };
        for (size_t i = 0; i < GL_NELEM(def); i++)
            order[n++] = def[i];
    }
    bool round_it = gl__date_opt_bool(o, "round", true);
    double count = 0;
    int unit = order[n - 1];
    bool found = false;
    for (int i = 0; i < n && !found; i++) {
        memset(want, 0, sizeof want);
        want[order[i]] = true;
        dur_t r;
        TRY(gl__date_diff(ev, self, &base, want, &r));
        if (fabs(r.v[order[i]]) >= 1 || n == 1) {
            count = r.v[order[i]];
            unit = order[i];
            found = true;
        }
    }
    bool past = self->ms < base.ms;
    count = round_it ? trunc(count) : trunc(count * 100) / 100;
    char num[40], tmp[120];
    gl__expr_num_fmt(fabs(count), num);
    const char *un = gl__date_unit_names[unit];
    size_t ul = strlen(un) - (fabs(count) == 1 ? 1 : 0);
    if (past || (count == 0 && signbit(count)))
        snprintf(tmp, sizeof tmp, "%s %.*s ago", num, (int)ul, un);
    else
        snprintf(tmp, sizeof tmp, "in %s %.*s", num, (int)ul, un);
    return gl__date_str_out(tmp, out);
}

static const method_t dt_methods[] = {
    { "toISO", d_to_iso }, { "toJSON", d_to_json }, { "toString", d_to_string },
    { "toISODate", d_to_iso_date }, { "toISOTime", d_to_iso_time },
    { "toISOWeekDate", d_to_iso_week }, { "toMillis", d_to_millis }, { "valueOf", d_to_millis },
    { "toSeconds", d_to_seconds }, { "toUnixInteger", d_to_unix_integer },
    { "toFormat", d_to_format }, { "toLocaleString", d_to_locale_string },
    { "toJSDate", d_to_js_date }, { "toObject", d_to_object }, { "toSQL", d_to_sql },
    { "toSQLDate", d_to_sql_date }, { "toSQLTime", d_to_sql_time }, { "toHTTP", d_to_http },
    { "toRFC2822", d_to_rfc2822 }, { "plus", d_plus }, { "minus", d_minus },
    { "startOf", d_start_of }, { "endOf", d_end_of }, { "set", d_set },
    { "setZone", d_set_zone }, { "toUTC", d_to_utc }, { "toLocal", d_to_local },
    { "setLocale", d_set_locale }, { "reconfigure", d_set_locale }, { "diff", d_diff },
    { "diffNow", d_diff_now }, { "equals", d_equals }, { "hasSame", d_has_same },
    { "get", d_get }, { "toRelative", d_to_relative },
    /* n8n's date extensions */
    { "beginningOf", d_beginning_of }, { "endOfMonth", d_end_of_month }, { "extract", d_extract },
    { "format", d_format }, { "isBetween", d_is_between }, { "isDst", d_is_dst },
    { "isInLast", d_is_in_last }, { "isWeekend", d_is_weekend }, { "toDateTime", d_to_date_time },
    { "diffTo", d_diff_to }, { "diffToNow", d_diff_to_now }, { "toInt", d_to_int },
    { "toFloat", d_to_int }, { "toBoolean", d_undefined }, { "isEmpty", d_false },
    { "isNotEmpty", d_true },
};

/* What an invalid DateTime answers (Luxon): null, "Invalid DateTime", NaN or itself. */
M(inv_null)
{
    UNUSED_ARGS;
    *out = vmk(V_NULL);
    return GL_OK;
}

M(inv_text)
{
    UNUSED_ARGS;
    return gl__date_str_out("Invalid DateTime", out);
}

M(inv_nan)
{
    UNUSED_ARGS;
    *out = vnum(NAN);
    return GL_OK;
}

M(inv_self)
{
    UNUSED_ARGS;
    *out = *self;
    return GL_OK;
}

static const method_t invalid_methods[] = {
    { "toISO", inv_null }, { "toJSON", inv_null }, { "toISODate", inv_null },
    { "toISOTime", inv_null }, { "toISOWeekDate", inv_null }, { "toSQL", inv_null },
    { "toSQLDate", inv_null }, { "toSQLTime", inv_null }, { "toHTTP", inv_null },
    { "toRFC2822", inv_null }, { "toRelative", inv_null }, { "toString", inv_text },
    { "toFormat", inv_text }, { "format", inv_text }, { "toLocaleString", inv_text },
    { "toMillis", inv_nan }, { "valueOf", inv_nan }, { "toSeconds", inv_nan },
    { "toUnixInteger", inv_nan }, { "toInt", inv_nan }, { "toFloat", inv_nan },
    { "extract", inv_nan }, { "plus", inv_self }, { "minus", inv_self }, { "startOf", inv_self },
    { "endOf", inv_self }, { "set", inv_self }, { "setZone", inv_self }, { "toUTC", inv_self },
    { "toLocal", inv_self }, { "beginningOf", inv_self }, { "endOfMonth", inv_self },
    { "toDateTime", inv_self }, { "equals", d_false }, { "hasSame", d_false },
    { "isWeekend", d_false }, { "isDst", d_false }, { "isInLast", d_false },
    { "isBetween", d_false },
};

const methods_t gl__expr_date_methods = { dt_methods, GL_NELEM(dt_methods) };
const methods_t gl__date_invalid_methods = { invalid_methods, GL_NELEM(invalid_methods) };
