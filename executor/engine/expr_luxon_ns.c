/*
 * expr_luxon_ns.c: making DateTimes (see expr_date_int.h): from arguments
 * (ISO strings, JS Dates, numbers; the {zone, setZone} options), the
 * DateTime namespace (now, local, utc, fromISO, fromFormat, fromSQL,
 * fromHTTP, fromRFC2822, fromMillis, fromSeconds, fromJSDate, fromObject,
 * the DATE_SHORT… presets), Date.now/parse/UTC's entries, and n8n's
 * string and number toDateTime().
 */
#include "expr_date_int.h"

#include <math.h>
#include <stdio.h>
#include <strings.h>

/* ------------------------------------------------------------------------ */
/* Converting arguments to DateTimes                                        */

/* A DateTime from a DateTime, JS Date or ISO string (n8n's convertToDateTime);
 * false in *ok when it cannot. */
int gl__date_to_dt(ev_t *ev, const val_t *v, val_t *out, bool *ok)
{
    *ok = true;
    if (v->k == V_DATE && !(v->df & DF_DUR)) {
        *out = *v;
        out->df &= (uint8_t)~DF_JS;
        return GL_OK;
    }
    if (v->k == V_STR) {
        TRY(gl__expr_charge_pass(ev, sn(v)));
        TRY(gl__date_parse_iso_val(ev, sp(v), sn(v), gl__date_local_zone(ev), false, false, out));
        *ok = !(out->df & DF_INVALID);
        return GL_OK;
    }
    if (v->k == V_NUM) {
        *ok = isfinite(v->n);
        if (*ok)
            return gl__date_mk(ev, v->n, gl__date_local_zone(ev), false, out);
        return GL_OK;
    }
    *ok = false;
    return GL_OK;
}

/* Parses opts {zone, setZone} into the interpretation zone. */
int gl__date_zone_opts(ev_t *ev, const char *fn, const val_t *opts, int *zone, bool *set_zone)
{
    *zone = gl__date_local_zone(ev);
    *set_zone = false;
    if (opts->k != V_OBJ)
        return GL_OK;
    json_object *z, *sz, *loc;
    if (json_object_object_get_ex(opts->j, "locale", &loc) && json_object_is_type(loc, json_type_string)) {
        const char *l = json_object_get_string(loc);
        if (strncasecmp(l, "en", 2) != 0 || (l[2] && l[2] != '-'))
            return gl__expr_fail(ev, "%s: only the en-US locale is supported, not '%.20s'", fn, l);
    }
    if (json_object_object_get_ex(opts->j, "setZone", &sz))
        *set_zone = json_object_get_boolean(sz);
    if (json_object_object_get_ex(opts->j, "zone", &z) && z) {
        if (!json_object_is_type(z, json_type_string))
            return gl__expr_fail(ev, "%s: zone must be a string like 'America/New_York'", fn);
        TRY(gl__expr_charge(ev, 16));
        if (!gl__date_zone_find(ev, json_object_get_string(z),
                                (size_t)json_object_get_string_len(z), zone))
            *zone = -1;
    }
    return GL_OK;
}

/* Local fields t (has_off: with the offset off) into a DateTime shown in
 * zone (or in the parsed offset when set_zone). */
int gl__date_from_parsed(ev_t *ev, const gl_date_t *t, bool has_off, int32_t off, int zone,
                       bool set_zone, val_t *out)
{
    if (zone < 0) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    int64_t ms;
    if (has_off) {
        ms = gl__date_civil_ms(t->year, t->month, t->day, t->hour, t->minute, t->second, t->ms) -
             (int64_t)off * 1000;
        if (set_zone && !gl__date_zone_fixed_off(off, &zone))
            return gl__expr_fail(ev, "too many time zones in use");
    } else {
        ms = gl__date_from_fields(zone, t, gl__date_off(zone, ev->ctx->now_ms));
    }
    if (!(ms >= GL_DATE_MS_MIN && ms < GL_DATE_MS_END)) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    return gl__date_mk(ev, (double)ms, zone, false, out);
}

int gl__date_parse_iso_val(ev_t *ev, const char *s, size_t n, int zone, bool set_zone, bool sql,
                         val_t *out)
{
    gl_date_t t;
    bool has_off, time_only;
    int32_t off;
    if (!gl__date_parse_iso(s, n, sql, &t, &has_off, &off, &time_only)) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    if (time_only && zone >= 0) { /* today, in the zone */
        val_t now;
        TRY(gl__date_mk(ev, (double)ev->ctx->now_ms, zone, false, &now));
        gl_date_t today;
        gl__date_local(&now, &today, NULL);
        t.year = today.year;
        t.month = today.month;
        t.day = today.day;
    }
    return gl__date_from_parsed(ev, &t, has_off, off, zone, set_zone, out);
}

/* n8n's tryToParseDateTime: ISO, HTTP, RFC 2822, SQL (each keeping an
 * offset the text has), then Date.parse; with a format, fromFormat or a
 * number conversion. */
int gl__expr_date_from_string(ev_t *ev, const char *s, size_t n, const val_t *fmt, val_t *out)
{
    TRY(gl__expr_charge_pass(ev, n));
    int zone = gl__date_local_zone(ev);
    if (fmt && fmt->k == V_STR && sn(fmt)) {
        const char *f = sp(fmt);
        if (!strcmp(f, "ms") || !strcmp(f, "s") || !strcmp(f, "us") || !strcmp(f, "excel")) {
            double v = gl__expr_str_to_num(s, n);
            return gl__expr_date_from_number(ev, v, fmt, out);
        }
        return gl__date_from_format(ev, s, n, f, sn(fmt), zone, false, out);
    }
    gl__expr_trim_span(&s, &n, true, true);
    TRY(gl__date_parse_iso_val(ev, s, n, zone, true, false, out));
    if (!(out->df & DF_INVALID))
        return GL_OK;
    int64_t ms;
    int32_t off;
    if (gl__date_parse_rfc(s, n, true, &ms, &off))
        return gl__date_mk(ev, (double)ms, 0, false, out);
    if (gl__date_parse_rfc(s, n, false, &ms, &off)) {
        int z;
        if (!gl__date_zone_fixed_off(off, &z))
            z = zone;
        return gl__date_mk(ev, (double)ms, z, false, out);
    }
    TRY(gl__date_parse_iso_val(ev, s, n, zone, true, true, out));
    if (!(out->df & DF_INVALID))
        return GL_OK;
    double js = gl__date_js_parse(ev, s, n);
    if (isfinite(js))
        return gl__date_mk(ev, js, zone, false, out);
    return gl__expr_fail(ev, "cannot convert to Luxon DateTime");
}

/* ------------------------------------------------------------------------ */
/* The DateTime namespace                                                   */

static int dt_now(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self, (void)a, (void)na;
    return gl__expr_date_now(ev, false, out);
}

/* The bounds of year, month, day, hour, minute, second, millisecond. */
static const double field_lo[] = { 0, 1, 1, 0, 0, 0, 0 }, field_hi[] = { 9999, 12, 31, 23, 59, 59, 999 };

/* The DateTime of fields f in zone; out of range or not whole: an invalid
 * DateTime, as Luxon gives. */
static int from_fields(ev_t *ev, const double f[7], int zone, val_t *out)
{
    for (size_t i = 0; i < 7; i++) {
        if (!(f[i] >= field_lo[i] && f[i] <= field_hi[i] && f[i] == trunc(f[i]))) {
            *out = gl__date_invalid(false);
            return GL_OK;
        }
    }
    if (f[2] > gl_date_days_in_month((int64_t)f[0], (int)f[1])) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    gl_date_t t = { (int64_t)f[0], (int)f[1], (int)f[2], (int)f[3], (int)f[4], (int)f[5], (int)f[6], 0 };
    return gl__date_from_parsed(ev, &t, false, 0, zone, false, out);
}

/* DateTime.local/utc(year, month, day, hour, minute, second, ms[, opts]) */
static int dt_fields(ev_t *ev, const val_t *a, size_t na, int zone, const char *fn, val_t *out)
{
    double f[7];
    size_t nf = 0;
    while (nf < na && nf < 7 && a[nf].k == V_NUM)
        nf++;
    if (nf < na && a[nf].k == V_OBJ) {
        bool sz;
        TRY(gl__date_zone_opts(ev, fn, &a[nf], &zone, &sz));
        if (zone < 0) {
            *out = gl__date_invalid(false);
            return GL_OK;
        }
    }
    if (!nf)
        return gl__date_mk(ev, (double)ev->ctx->now_ms, zone, false, out);
    for (size_t i = 0; i < 7; i++)
        f[i] = i < nf ? a[i].n : field_lo[i];
    return from_fields(ev, f, zone, out);
}

static int dt_local(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return dt_fields(ev, a, na, gl__date_local_zone(ev), "DateTime.local()", out);
}

static int dt_utc(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return dt_fields(ev, a, na, 0, "DateTime.utc()", out);
}

static int dt_from_iso(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *s = arg(a, na, 0);
    if (s->k != V_STR)
        return gl__expr_fail(ev, "DateTime.fromISO() expects a string, got %s",
                             gl__expr_vtype_name(s));
    int zone;
    bool sz;
    TRY(gl__date_zone_opts(ev, "DateTime.fromISO()", arg(a, na, 1), &zone, &sz));
    TRY(gl__expr_charge_pass(ev, sn(s)));
    return gl__date_parse_iso_val(ev, sp(s), sn(s), zone, sz, false, out);
}

static int dt_from_sql(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *s = arg(a, na, 0);
    if (s->k != V_STR)
        return gl__expr_fail(ev, "DateTime.fromSQL() expects a string, got %s",
                             gl__expr_vtype_name(s));
    int zone;
    bool sz;
    TRY(gl__date_zone_opts(ev, "DateTime.fromSQL()", arg(a, na, 1), &zone, &sz));
    TRY(gl__expr_charge_pass(ev, sn(s)));
    return gl__date_parse_iso_val(ev, sp(s), sn(s), zone, sz, true, out);
}

static int from_rfc(ev_t *ev, const val_t *a, size_t na, bool http, const char *fn, val_t *out)
{
    const val_t *s = arg(a, na, 0);
    if (s->k != V_STR)
        return gl__expr_fail(ev, "%s expects a string, got %s", fn, gl__expr_vtype_name(s));
    int zone;
    bool sz;
    TRY(gl__date_zone_opts(ev, fn, arg(a, na, 1), &zone, &sz));
    TRY(gl__expr_charge_pass(ev, sn(s)));
    int64_t ms;
    int32_t off;
    if (zone < 0 || !gl__date_parse_rfc(sp(s), sn(s), http, &ms, &off)) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    if (sz && !gl__date_zone_fixed_off(off, &zone))
        return gl__expr_fail(ev, "too many time zones in use");
    return gl__date_mk(ev, (double)ms, zone, false, out);
}

static int dt_from_http(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return from_rfc(ev, a, na, true, "DateTime.fromHTTP()", out);
}

static int dt_from_rfc2822(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return from_rfc(ev, a, na, false, "DateTime.fromRFC2822()", out);
}

int gl__date_from_format(ev_t *ev, const char *s, size_t sn_, const char *f, size_t fn_, int zone,
                       bool sz, val_t *out)
{
    TRY(gl__expr_charge_pass(ev, sn_ + fn_));
    parsed_t p;
    if (zone < 0 || !gl__date_parse_format(ev, s, sn_, f, fn_, &p)) {
        if (ev->err->msg[0])
            return GL_INVALID;
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    if (p.has_epoch)
        return gl__date_mk(ev, (double)p.epoch_ms, sz && p.has_zone ? p.zone : zone, false, out);
    /* Luxon: units above the largest one given come from today, the ones
     * below it are their minimum */
    val_t now;
    TRY(gl__date_mk(ev, (double)ev->ctx->now_ms, p.has_zone ? p.zone : zone, false, &now));
    gl_date_t nt;
    gl__date_local(&now, &nt, NULL);
    gl_date_t t = p.t;
    int first = 0;
    while (first < 7 && !p.has[first])
        first++;
    if (p.ordinal && first > 0) /* an ordinal stands for the month and day */
        first = 1;
    if (!p.has[0])
        t.year = first > 0 ? nt.year : 0;
    if (!p.has[1])
        t.month = first > 1 ? nt.month : 1;
    if (!p.has[2])
        t.day = first > 2 ? nt.day : 1;
    if (!p.has[3])
        t.hour = 0;
    if (!p.has[4])
        t.minute = 0;
    if (!p.has[5])
        t.second = 0;
    if (!p.has[6])
        t.ms = 0;
    if (p.pm_set) {
        if (t.hour < 1 || t.hour > 12) {
            *out = gl__date_invalid(false);
            return GL_OK;
        }
        t.hour = t.hour % 12 + (p.pm ? 12 : 0);
    }
    if (p.ordinal && !p.has[1] && !p.has[2]) {
        t.month = 1;
        t.day = p.ordinal;
    }
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > gl_date_days_in_month(t.year, t.month) ||
        t.hour > 23 || t.minute > 59 || t.second > 59 || t.year < 0 || t.year > 9999) {
        if (!(p.ordinal && t.month == 1 && t.day <= (gl_date_is_leap(t.year) ? 366 : 365))) {
            *out = gl__date_invalid(false);
            return GL_OK;
        }
    }
    int out_zone = zone;
    if (p.has_zone && sz)
        out_zone = p.zone;
    if (p.has_off) {
        int64_t ms = gl__date_civil_ms(t.year, t.month, t.day, t.hour, t.minute, t.second, t.ms) -
                     (int64_t)p.off * 1000;
        if (sz && !gl__date_zone_fixed_off(p.off, &out_zone))
            return gl__expr_fail(ev, "too many time zones in use");
        return gl__date_mk(ev, (double)ms, out_zone, false, out);
    }
    int in_zone = p.has_zone ? p.zone : zone;
    int64_t ms = gl__date_from_fields(in_zone, &t, gl__date_off(in_zone, ev->ctx->now_ms));
    if (!(ms >= GL_DATE_MS_MIN && ms < GL_DATE_MS_END)) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    return gl__date_mk(ev, (double)ms, out_zone, false, out);
}

static int dt_from_format(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *s = arg(a, na, 0), *f = arg(a, na, 1);
    if (s->k != V_STR || f->k != V_STR)
        return gl__expr_fail(ev, "DateTime.fromFormat() expects a string and a format string");
    int zone;
    bool sz;
    TRY(gl__date_zone_opts(ev, "DateTime.fromFormat()", arg(a, na, 2), &zone, &sz));
    return gl__date_from_format(ev, sp(s), sn(s), sp(f), sn(f), zone, sz, out);
}

/* n8n's number.toDateTime(format = 'ms'): ms, s, us or excel (days since
 * 1900 with Excel's leap-year bug), in the workflow's zone. */
int gl__expr_date_from_number(ev_t *ev, double v, const val_t *fmt, val_t *out)
{
    const char *f = fmt && fmt->k == V_STR ? sp(fmt) : "ms";
    if (fmt && fmt->k != V_STR && fmt->k != V_UNDEF)
        f = "?";
    double ms;
    if (strcmp(f, "ms") == 0)
        ms = v;
    else if (strcmp(f, "s") == 0)
        ms = v * 1000;
    else if (strcmp(f, "us") == 0)
        ms = v / 1000;
    else if (strcmp(f, "excel") == 0)
        ms = (v - (25567 + 2)) * 86400 * 1000;
    else
        return gl__expr_fail(ev, "Unsupported format '%.20s'. toDateTime() supports 'ms', 's', "
                                 "'us' and 'excel'.", f);
    if (!isfinite(ms)) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    return gl__date_mk(ev, trunc(ms), gl__date_local_zone(ev), false, out);
}

static int dt_from_millis(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *x = arg(a, na, 0);
    if (x->k != V_NUM)
        return gl__expr_fail(ev, "DateTime.fromMillis() expects a number, got %s",
                             gl__expr_vtype_name(x));
    int zone;
    bool sz;
    TRY(gl__date_zone_opts(ev, "DateTime.fromMillis()", arg(a, na, 1), &zone, &sz));
    if (zone < 0) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    return gl__date_mk(ev, trunc(x->n), zone, false, out);
}

static int dt_from_seconds(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *x = arg(a, na, 0);
    if (x->k != V_NUM)
        return gl__expr_fail(ev, "DateTime.fromSeconds() expects a number, got %s",
                             gl__expr_vtype_name(x));
    int zone;
    bool sz;
    TRY(gl__date_zone_opts(ev, "DateTime.fromSeconds()", arg(a, na, 1), &zone, &sz));
    if (zone < 0) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    return gl__date_mk(ev, gl__expr_js_round(x->n * 1000), zone, false, out);
}

static int dt_from_js_date(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *x = arg(a, na, 0);
    if (x->k != V_DATE || (x->df & DF_DUR))
        return gl__expr_fail(ev, "DateTime.fromJSDate() expects a Date, got %s",
                             gl__expr_vtype_name(x));
    int zone;
    bool sz;
    TRY(gl__date_zone_opts(ev, "DateTime.fromJSDate()", arg(a, na, 1), &zone, &sz));
    if (zone < 0 || (x->df & DF_INVALID)) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    return gl__date_mk(ev, (double)x->ms, zone, false, out);
}

/* DateTime.fromObject({year, month, …}, {zone}) */
static int dt_from_object(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *o = arg(a, na, 0);
    if (o->k != V_OBJ)
        return gl__expr_fail(ev, "DateTime.fromObject() expects an object like {year: 2024}");
    int zone;
    bool sz;
    TRY(gl__date_zone_opts(ev, "DateTime.fromObject()", arg(a, na, 1), &zone, &sz));
    if (zone < 0) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    static const char *const keys[] = { "year", "month", "day", "hour", "minute", "second",
                                        "millisecond" };
    double f[7];
    bool has[7] = { 0 }, any = false;
    for (size_t i = 0; i < 7; i++) {
        json_object *x;
        char plural[16];
        snprintf(plural, sizeof plural, "%ss", keys[i]);
        if (json_object_object_get_ex(o->j, keys[i], &x) ||
            json_object_object_get_ex(o->j, plural, &x)) {
            f[i] = json_object_get_double(x);
            has[i] = true;
        }
    }
    TRY(gl__expr_charge(ev, 8));
    val_t now;
    TRY(gl__date_mk(ev, (double)ev->ctx->now_ms, zone, false, &now));
    gl_date_t nt;
    gl__date_local(&now, &nt, NULL);
    const double nowv[] = { (double)nt.year, nt.month, nt.day };
    for (size_t i = 0; i < 7; i++) {
        if (has[i])
            any = true;
        else
            f[i] = !any && i < 3 ? nowv[i] : field_lo[i];
    }
    return from_fields(ev, f, zone, out);
}

static int dt_is_date_time(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self;
    const val_t *x = arg(a, na, 0);
    *out = vbool(x->k == V_DATE && !(x->df & (DF_JS | DF_DUR)));
    return GL_OK;
}

static int dt_invalid(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    UNUSED_ARGS;
    *out = gl__date_invalid(false);
    return GL_OK;
}

/* DateTime.max(…) / min(…) */
static int dt_extreme(ev_t *ev, const val_t *a, size_t na, bool max, val_t *out)
{
    *out = vmk(V_UNDEF);
    for (size_t i = 0; i < na; i++) {
        if (a[i].k != V_DATE || (a[i].df & DF_DUR))
            return gl__expr_fail(ev, "DateTime.%s() expects DateTimes", max ? "max" : "min");
        if (out->k == V_UNDEF || (max ? a[i].ms > out->ms : a[i].ms < out->ms))
            *out = a[i];
    }
    return GL_OK;
}

static int dt_max(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return dt_extreme(ev, a, na, true, out);
}

static int dt_min(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return dt_extreme(ev, a, na, false, out);
}

/* DateTime.DATE_SHORT…: Luxon's presets, Intl options objects. */
int gl__expr_date_ns_prop(ev_t *ev, int ns, const char *name, size_t len, val_t *out)
{
    (void)ev;
    static const struct {
        const char *name, *json;
    } presets[] = {
        { "DATE_SHORT", "{\"year\":\"numeric\",\"month\":\"numeric\",\"day\":\"numeric\"}" },
        { "DATE_MED", "{\"year\":\"numeric\",\"month\":\"short\",\"day\":\"numeric\"}" },
        { "DATE_MED_WITH_WEEKDAY", "{\"year\":\"numeric\",\"month\":\"short\",\"day\":\"numeric\",\"weekday\":\"short\"}" },
        { "DATE_FULL", "{\"year\":\"numeric\",\"month\":\"long\",\"day\":\"numeric\"}" },
        { "DATE_HUGE", "{\"year\":\"numeric\",\"month\":\"long\",\"day\":\"numeric\",\"weekday\":\"long\"}" },
        { "TIME_SIMPLE", "{\"hour\":\"numeric\",\"minute\":\"numeric\"}" },
        { "TIME_WITH_SECONDS", "{\"hour\":\"numeric\",\"minute\":\"numeric\",\"second\":\"numeric\"}" },
        { "TIME_WITH_SHORT_OFFSET", "{\"hour\":\"numeric\",\"minute\":\"numeric\",\"second\":\"numeric\",\"timeZoneName\":\"short\"}" },
        { "TIME_WITH_LONG_OFFSET", "{\"hour\":\"numeric\",\"minute\":\"numeric\",\"second\":\"numeric\",\"timeZoneName\":\"long\"}" },
        { "TIME_24_SIMPLE", "{\"hour\":\"numeric\",\"minute\":\"numeric\",\"hourCycle\":\"h23\"}" },
        { "TIME_24_WITH_SECONDS", "{\"hour\":\"numeric\",\"minute\":\"numeric\",\"second\":\"numeric\",\"hourCycle\":\"h23\"}" },
        { "TIME_24_WITH_SHORT_OFFSET", "{\"hour\":\"numeric\",\"minute\":\"numeric\",\"second\":\"numeric\",\"hourCycle\":\"h23\",\"timeZoneName\":\"short\"}" },
        { "TIME_24_WITH_LONG_OFFSET", "{\"hour\":\"numeric\",\"minute\":\"numeric\",\"second\":\"numeric\",\"hourCycle\":\"h23\",\"timeZoneName\":\"long\"}" },
        { "DATETIME_SHORT", "{\"year\":\"numeric\",\"month\":\"numeric\",\"day\":\"numeric\",\"hour\":\"numeric\",\"minute\":\"numeric\"}" },
        { "DATETIME_SHORT_WITH_SECONDS", "{\"year\":\"numeric\",\"month\":\"numeric\",\"day\":\"numeric\",\"hour\":\"numeric\",\"minute\":\"numeric\",\"second\":\"numeric\"}" },
        { "DATETIME_MED", "{\"year\":\"numeric\",\"month\":\"short\",\"day\":\"numeric\",\"hour\":\"numeric\",\"minute\":\"numeric\"}" },
        { "DATETIME_MED_WITH_SECONDS", "{\"year\":\"numeric\",\"month\":\"short\",\"day\":\"numeric\",\"hour\":\"numeric\",\"minute\":\"numeric\",\"second\":\"numeric\"}" },
        { "DATETIME_MED_WITH_WEEKDAY", "{\"year\":\"numeric\",\"month\":\"short\",\"day\":\"numeric\",\"weekday\":\"short\",\"hour\":\"numeric\",\"minute\":\"numeric\"}" },
        { "DATETIME_FULL", "{\"year\":\"numeric\",\"month\":\"long\",\"day\":\"numeric\",\"hour\":\"numeric\",\"minute\":\"numeric\",\"timeZoneName\":\"short\"}" },
        { "DATETIME_FULL_WITH_SECONDS", "{\"year\":\"numeric\",\"month\":\"long\",\"day\":\"numeric\",\"hour\":\"numeric\",\"minute\":\"numeric\",\"second\":\"numeric\",\"timeZoneName\":\"short\"}" },
        { "DATETIME_HUGE", "{\"year\":\"numeric\",\"month\":\"long\",\"day\":\"numeric\",\"weekday\":\"long\",\"hour\":\"numeric\",\"minute\":\"numeric\",\"timeZoneName\":\"long\"}" },
        { "DATETIME_HUGE_WITH_SECONDS", "{\"year\":\"numeric\",\"month\":\"long\",\"day\":\"numeric\",\"weekday\":\"long\",\"hour\":\"numeric\",\"minute\":\"numeric\",\"second\":\"numeric\",\"timeZoneName\":\"long\"}" },
    };
    *out = vmk(V_UNDEF);
    if (ns != VAR_DATETIME)
        return GL_OK;
    for (size_t i = 0; i < GL_NELEM(presets); i++)
        if (name_is(name, len, presets[i].name)) {
            json_object *o = json_tokener_parse(presets[i].json);
            if (o)
                *out = vown(V_OBJ, o, strlen(presets[i].json));
        }
    return GL_OK;
}

static const ns_method_t date_ns[] = {
    { VAR_DATETIME, "now", dt_now }, { VAR_DATETIME, "local", dt_local },
    { VAR_DATETIME, "utc", dt_utc }, { VAR_DATETIME, "fromISO", dt_from_iso },
    { VAR_DATETIME, "fromSQL", dt_from_sql }, { VAR_DATETIME, "fromHTTP", dt_from_http },
    { VAR_DATETIME, "fromRFC2822", dt_from_rfc2822 },
    { VAR_DATETIME, "fromFormat", dt_from_format }, { VAR_DATETIME, "fromString", dt_from_format },
    { VAR_DATETIME, "fromMillis", dt_from_millis },
    { VAR_DATETIME, "fromSeconds", dt_from_seconds },
    { VAR_DATETIME, "fromJSDate", dt_from_js_date },
    { VAR_DATETIME, "fromObject", dt_from_object },
    { VAR_DATETIME, "isDateTime", dt_is_date_time }, { VAR_DATETIME, "invalid", dt_invalid },
    { VAR_DATETIME, "max", dt_max }, { VAR_DATETIME, "min", dt_min },
    { VAR_DATE, "now", gl__date_js_now }, { VAR_DATE, "parse", gl__date_js_parse_fn },
    { VAR_DATE, "UTC", gl__date_js_utc },
};

const ns_methods_t gl__expr_date_ns = { date_ns, GL_NELEM(date_ns) };
