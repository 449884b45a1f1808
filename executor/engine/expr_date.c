/*
 * expr_date.c: DateTime, a Luxon subset that is always UTC. A DateTime value
 * is milliseconds since the epoch (val_t.ms) in the proleptic Gregorian
 * calendar, years 0000 to 9999 (the calendar and ISO 8601 text are
 * core/dates.c); this file holds the DateTime methods (toFormat, plus, startOf…)
 * and the DateTime namespace (now, fromISO, utc…).
 */
#include "expr_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

/* DateTime (a Luxon subset; always UTC) */

int gl__expr_date_field(ev_t *ev, const val_t *d, const char *name, size_t len, val_t *out)
{
    (void)ev;
    gl_date_t t;
    gl_date_split(d->ms, &t);
    static const char *const names[] = { "year", "month", "day", "hour", "minute", "second",
                                         "millisecond", "weekday", "quarter", "daysInMonth",
                                         "offset" };
    double vals[] = { (double)t.year, t.month, t.day, t.hour, t.minute, t.second, t.ms,
                      t.weekday, (t.month - 1) / 3 + 1, gl_date_days_in_month(t.year, t.month), 0 };
    for (size_t i = 0; i < GL_NELEM(names); i++)
        if (name_is(name, len, names[i])) {
            *out = vnum(vals[i]);
            return GL_OK;
        }
    if (name_is(name, len, "isValid"))
        *out = vbool(true);
    else if (name_is(name, len, "zoneName"))
        *out = vstr_n("UTC", 3);
    else
        *out = vmk(V_UNDEF);
    return GL_OK;
}

int gl__expr_mk_date(ev_t *ev, double ms, val_t *out)
{
    if (!(ms >= (double)GL_DATE_MS_MIN && ms < (double)GL_DATE_MS_END))
        return gl__expr_fail(ev, "date out of range (years 0000 to 9999)");
    *out = vdate((int64_t)ms);
    return GL_OK;
}

static int d_to_iso(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    char iso[GL_DATE_ISO_LEN];
    gl_date_iso_format(self->ms, iso);
    *out = vstr_n(iso, strlen(iso));
    return GL_OK;
}

static int d_to_iso_date(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    char iso[GL_DATE_ISO_LEN];
    gl_date_iso_format(self->ms, iso);
    *out = vstr_n(iso, 10);
    return GL_OK;
}

static int d_to_millis(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vnum((double)self->ms);
    return GL_OK;
}

static int d_to_seconds(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vnum((double)self->ms / 1000.0);
    return GL_OK;
}

static int d_to_unix_integer(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vnum((double)gl_date_floor_div(self->ms, 1000));
    return GL_OK;
}

static int fmt_num(ev_t *ev, gl_buf_t *b, int64_t v, int width)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%0*" PRId64, width, v);
    return gl__expr_apps(ev, b, tmp);
}

/* One run of `count` copies of the token letter c. */
static int fmt_token(ev_t *ev, gl_buf_t *b, const gl_date_t *t, int64_t ms, char c, int count)
{
    static const char *const months[] = { "January", "February", "March", "April", "May",
                                          "June", "July", "August", "September", "October",
                                          "November", "December" };
    static const char *const days[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday" };
    switch (c) {
    case 'y':
        if (count == 2)
            return fmt_num(ev, b, t->year % 100, 2);
        return fmt_num(ev, b, t->year, count == 1 ? 1 : count > 6 ? 6 : count);
    case 'M':
    case 'L':
        if (count <= 2)
            return fmt_num(ev, b, t->month, count);
        if (count == 3)
            return gl__expr_app(ev, b, months[t->month - 1], 3);
        if (count == 4)
            return gl__expr_apps(ev, b, months[t->month - 1]);
        return gl__expr_app(ev, b, months[t->month - 1], 1);
    case 'd': if (count <= 2) return fmt_num(ev, b, t->day, count); break;
    case 'H': if (count <= 2) return fmt_num(ev, b, t->hour, count); break;
    case 'h': if (count <= 2) return fmt_num(ev, b, t->hour % 12 ? t->hour % 12 : 12, count); break;
    case 'm': if (count <= 2) return fmt_num(ev, b, t->minute, count); break;
    case 's': if (count <= 2) return fmt_num(ev, b, t->second, count); break;
    case 'S':
        if (count == 1 || count == 3)
            return fmt_num(ev, b, t->ms, count);
        break;
    case 'a': if (count == 1) return gl__expr_apps(ev, b, t->hour < 12 ? "AM" : "PM"); break;
    case 'E':
    case 'c':
        if (count == 1)
            return fmt_num(ev, b, t->weekday, 1);
        if (count == 3)
            return gl__expr_app(ev, b, days[t->weekday - 1], 3);
        if (count == 4)
            return gl__expr_apps(ev, b, days[t->weekday - 1]);
        break;
    case 'q': if (count <= 2) return fmt_num(ev, b, (t->month - 1) / 3 + 1, count); break;
    case 'o':
        if (count == 1 || count == 3)
            return fmt_num(ev, b, gl_date_days_from_civil(t->year, t->month, t->day) -
                                      gl_date_days_from_civil(t->year, 1, 1) + 1, count);
        break;
    case 'x': if (count == 1) return fmt_num(ev, b, ms, 1); break;
    case 'X': if (count == 1) return fmt_num(ev, b, gl_date_floor_div(ms, 1000), 1); break;
    case 'Z':
        if (count <= 3)
            return gl__expr_apps(ev, b, count == 1 ? "+0" : count == 2 ? "+00:00" : "+0000");
        break;
    case 'z': return gl__expr_apps(ev, b, "UTC");
    default: break;
    }
    for (int i = 0; i < count; i++) /* not a token: the letters stand for themselves */
        TRY(gl__expr_app(ev, b, &c, 1));
    return GL_OK;
}

static int d_to_format(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    if (arg(a, na, 0)->k != V_STR)
        return gl__expr_fail(ev, "toFormat() expects a format string");
    const char *f = sp(arg(a, na, 0));
    size_t n = sn(arg(a, na, 0));
    gl_date_t t;
    gl_date_split(self->ms, &t);
    TRY(gl__expr_charge(ev, 1 + n / 8));
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < n;) {
        char c = f[i];
        if (c == '\'') { /* 'quoted literal' */
            const char *close = memchr(f + i + 1, '\'', n - i - 1);
            size_t end = close ? (size_t)(close - f) : n;
            rc = gl__expr_app(ev, &b, f + i + 1, end - i - 1);
            i = close ? end + 1 : n;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            size_t j = i;
            while (j < n && f[j] == c && j - i < 16)
                j++;
            rc = fmt_token(ev, &b, &t, self->ms, c, (int)(j - i));
            i = j;
        } else {
            rc = gl__expr_app(ev, &b, &c, 1);
            i++;
        }
    }
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

/* Units for plus/minus/startOf: months for calendar units, else ms. */
typedef struct {
    const char *name;
    double months, ms;
} unit_t;

static const unit_t units[] = {
    { "year", 12, 0 }, { "quarter", 3, 0 }, { "month", 1, 0 }, { "week", 0, 7 * 86400000.0 },
    { "day", 0, 86400000.0 }, { "hour", 0, 3600000.0 }, { "minute", 0, 60000.0 },
    { "second", 0, 1000.0 }, { "millisecond", 0, 1 },
};

static const unit_t *find_unit(const char *s, size_t n)
{
    if (n > 1 && s[n - 1] == 's')
        n--;
    for (size_t i = 0; i < GL_NELEM(units); i++)
        if (name_is(s, n, units[i].name))
            return &units[i];
    return NULL;
}

static int unit_arg(ev_t *ev, const char *fn, const val_t *v, const unit_t **u)
{
    if (v->k != V_STR || !(*u = find_unit(sp(v), sn(v))))
        return gl__expr_fail(ev, "%s: unknown unit '%.40s' (years, quarters, months, weeks, "
                                 "days, hours, minutes, seconds, milliseconds)",
                             fn, v->k == V_STR ? sp(v) : gl__expr_type_of(v));
    return GL_OK;
}

/* Adds whole months (clamping the day to the month's end) then ms. */
static int date_shift(ev_t *ev, int64_t ms, double months, double extra, val_t *out)
{
    if (!(fabs(months) < 240000 && fabs(extra) < 1e15))
        return gl__expr_fail(ev, "date out of range (years 0000 to 9999)");
    if (months != trunc(months))
        return gl__expr_fail(ev, "years, quarters and months must be whole numbers");
    if (months != 0) {
        gl_date_t t;
        gl_date_split(ms, &t);
        int64_t m0 = t.year * 12 + (t.month - 1) + (int64_t)months;
        t.year = gl_date_floor_div(m0, 12);
        t.month = (int)(m0 - t.year * 12) + 1;
        if (t.year < 0 || t.year > 9999)
            return gl__expr_fail(ev, "date out of range (years 0000 to 9999)");
        int dim = gl_date_days_in_month(t.year, t.month);
        t.day = t.day > dim ? dim : t.day;
        ms = gl_date_join(&t);
    }
    return gl__expr_mk_date(ev, (double)ms + trunc(extra), out);
}

static int date_add(ev_t *ev, const val_t *self, const val_t *a, size_t na, double sign,
                    const char *fn, val_t *out)
{
    double months = 0, extra = 0, amount;
    const val_t *x = arg(a, na, 0);
    const unit_t *u;
    if (x->k == V_OBJ) {
        struct json_object_iterator it = json_object_iter_begin(x->j);
        struct json_object_iterator end = json_object_iter_end(x->j);
        while (!json_object_iter_equal(&it, &end)) {
            const char *key = json_object_iter_peek_name(&it);
            val_t v = gl__expr_vjson(json_object_iter_peek_value(&it));
            json_object_iter_next(&it);
            if (gl__expr_charge_pass(ev, strlen(key)) != GL_OK) {
                vfree(&v);
                return GL_INVALID;
            }
            if (!(u = find_unit(key, strlen(key)))) {
                vfree(&v);
                return gl__expr_fail(ev, "%s: unknown unit '%.40s'", fn, key);
            }
            int rc = gl__expr_to_number(ev, &v, &amount);
            vfree(&v);
            TRY(rc);
            months += amount * u->months;
            extra += amount * u->ms;
        }
    } else if (x->k == V_NUM) {
        amount = x->n;
        if (arg(a, na, 1)->k == V_UNDEF)
            u = &units[GL_NELEM(units) - 1];
        else
            TRY(unit_arg(ev, fn, arg(a, na, 1), &u));
        months = amount * u->months;
        extra = amount * u->ms;
    } else {
        return gl__expr_fail(ev, "%s expects a number and a unit, or an object like {days: 1}", fn);
    }
    if (!isfinite(months) || !isfinite(extra))
        return gl__expr_fail(ev, "%s: the amount must be a finite number", fn);
    return date_shift(ev, self->ms, sign * months, sign * extra, out);
}

static int d_plus(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return date_add(ev, self, a, na, 1, "plus()", out);
}

static int d_minus(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return date_add(ev, self, a, na, -1, "minus()", out);
}

static int64_t start_of(int64_t ms, const unit_t *u)
{
    gl_date_t t;
    gl_date_split(ms, &t);
    if (u->months || u->ms >= 86400000.0) {
        t.hour = t.minute = t.second = t.ms = 0;
        if (u->months)
            t.day = 1;
        if (u->months >= 3)
            t.month = u->months == 12 ? 1 : (t.month - 1) / 3 * 3 + 1;
        int64_t r = gl_date_join(&t);
        return u->ms > 86400000.0 ? r - (t.weekday - 1) * GL_DATE_MS_PER_DAY : r; /* weeks start on Monday */
    }
    int64_t step = (int64_t)u->ms;
    return gl_date_floor_div(ms, step) * step;
}

static int d_start_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const unit_t *u;
    TRY(unit_arg(ev, "startOf()", arg(a, na, 0), &u));
    return gl__expr_mk_date(ev, (double)start_of(self->ms, u), out);
}

static int d_end_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const unit_t *u;
    TRY(unit_arg(ev, "endOf()", arg(a, na, 0), &u));
    int64_t s = start_of(self->ms, u);
    if (!u->months)
        return gl__expr_mk_date(ev, (double)s + u->ms - 1, out);
    val_t next_start;
    if (date_shift(ev, s, u->months, 0, &next_start) != GL_OK) { /* the year 9999 */
        gl_err_clear(ev->err);
        return gl__expr_mk_date(ev, (double)GL_DATE_MS_END - 1, out);
    }
    return gl__expr_mk_date(ev, (double)next_start.ms - 1, out);
}

static const method_t date_methods[] = {
    { "toISO", d_to_iso }, { "toJSON", d_to_iso }, { "toString", d_to_iso },
    { "toISODate", d_to_iso_date }, { "toMillis", d_to_millis }, { "valueOf", d_to_millis },
    { "toSeconds", d_to_seconds }, { "toUnixInteger", d_to_unix_integer },
    { "toFormat", d_to_format }, { "plus", d_plus }, { "minus", d_minus },
    { "startOf", d_start_of }, { "endOf", d_end_of },
};

static int dt_now(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self, (void)a, (void)na;
    return gl__expr_mk_date(ev, (double)ev->ctx->now_ms, out);
}

static int dt_from_iso(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *s = arg(a, na, 0);
    int64_t ms;
    if (s->k != V_STR)
        return gl__expr_fail(ev, "DateTime.fromISO() expects a string, got %s",
                             gl__expr_vtype_name(s));
    TRY(gl__expr_charge_pass(ev, sn(s)));
    if (!gl_date_iso_parse(sp(s), sn(s), 0, &ms))
        return gl__expr_fail(ev, "DateTime.fromISO(): invalid ISO date '%.60s'", sp(s));
    *out = vdate(ms);
    return GL_OK;
}

static int dt_from_millis(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *x = arg(a, na, 0);
    if (x->k != V_NUM)
        return gl__expr_fail(ev, "DateTime.fromMillis() expects a number, got %s",
                             gl__expr_vtype_name(x));
    return gl__expr_mk_date(ev, trunc(x->n), out);
}

static int dt_from_seconds(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *x = arg(a, na, 0);
    if (x->k != V_NUM)
        return gl__expr_fail(ev, "DateTime.fromSeconds() expects a number, got %s",
                             gl__expr_vtype_name(x));
    return gl__expr_mk_date(ev, gl__expr_js_round(x->n * 1000), out);
}

/* DateTime.utc(year, month, day, hour, minute, second, ms); no arguments: now. */
static int dt_utc(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    static const double lo[] = { 0, 1, 1, 0, 0, 0, 0 }, hi[] = { 9999, 12, 31, 23, 59, 59, 999 };
    double f[7];
    if (!na)
        return dt_now(ev, self, a, na, out);
    for (size_t i = 0; i < 7; i++) {
        TRY(gl__expr_num_arg(ev, a, na, i, lo[i], &f[i]));
        if (!(f[i] >= lo[i] && f[i] <= hi[i] && f[i] == trunc(f[i])))
            return gl__expr_fail(ev, "DateTime.utc(): argument %zu is out of range", i + 1);
    }
    gl_date_t t = { (int64_t)f[0], (int)f[1], (int)f[2], (int)f[3], (int)f[4], (int)f[5], (int)f[6], 0 };
    if (t.day > gl_date_days_in_month(t.year, t.month))
        return gl__expr_fail(ev, "DateTime.utc(): day %d does not exist in that month", t.day);
    return gl__expr_mk_date(ev, (double)gl_date_join(&t), out);
}

static const ns_method_t date_ns[] = {
    { VAR_DATETIME, "now", dt_now }, { VAR_DATETIME, "fromISO", dt_from_iso },
    { VAR_DATETIME, "fromMillis", dt_from_millis },
    { VAR_DATETIME, "fromSeconds", dt_from_seconds },
    { VAR_DATETIME, "utc", dt_utc }, { VAR_DATETIME, "local", dt_utc },
};

const methods_t gl__expr_date_methods = { date_methods, GL_NELEM(date_methods) };
const ns_methods_t gl__expr_date_ns = { date_ns, GL_NELEM(date_ns) };

/* new Date(), new Date(ms), new Date(isoString), new Date(date): a minimal
 * constructor for `new Date(…)` (expr.c, gl__expr_new). Temporary: the
 * dates work replaces it with JavaScript's Date semantics. */
int gl__expr_date_new(ev_t *ev, const val_t *a, size_t na, val_t *out)
{
    const val_t *x = arg(a, na, 0);
    int64_t ms;
    if (na == 0)
        return gl__expr_mk_date(ev, (double)ev->ctx->now_ms, out);
    if (x->k == V_DATE)
        return gl__expr_mk_date(ev, (double)x->ms, out);
    if (x->k == V_STR) {
        if (!gl_date_iso_parse(sp(x), sn(x), GL_DATE_ISO_SPACE, &ms))
            return gl__expr_fail(ev, "new Date(): Invalid Date '%.60s'", sp(x));
        return gl__expr_mk_date(ev, (double)ms, out);
    }
    double d;
    TRY(gl__expr_to_number(ev, x, &d));
    if (!isfinite(d))
        return gl__expr_fail(ev, "new Date(): Invalid Date");
    return gl__expr_mk_date(ev, trunc(d), out);
}
