/*
 * expr_duration.c: Luxon's Duration (see expr_date_int.h): units and their
 * names, durations as plus()/minus() take them, Luxon's casual conversion
 * matrix, shiftTo/as/normalize, the diff algorithm between two DateTimes,
 * and the Duration methods.
 */
#include "expr_date_int.h"

#include <math.h>
#include <stdio.h>
#include <strings.h>

/* ------------------------------------------------------------------------ */
/* Units                                                                    */

const char *const gl__date_unit_names[U_N] = { "years", "quarters", "months", "weeks", "days",
                                             "hours", "minutes", "seconds", "milliseconds" };
/* Luxon's casual conversion (a month is 30 days, a year 365). */
const double gl__date_unit_ms[U_N] = { 365 * 86400000.0, 91 * 86400000.0, 30 * 86400000.0,
                                     7 * 86400000.0, 86400000.0, 3600000.0, 60000.0, 1000.0, 1 };

/* Luxon's unit names, singular or plural, and n8n's aliases (ms, sec, min, hr…). */
int gl__date_unit_find(const char *s, size_t n)
{
    static const struct {
        const char *name;
        int u;
    } alias[] = { { "ms", U_MS }, { "sec", U_SECOND }, { "secs", U_SECOND }, { "min", U_MINUTE },
                  { "mins", U_MINUTE }, { "hr", U_HOUR }, { "hrs", U_HOUR } };
    for (size_t i = 0; i < GL_NELEM(alias); i++)
        if (name_is(s, n, alias[i].name))
            return alias[i].u;
    for (int u = 0; u < U_N; u++) {
        size_t ln = strlen(gl__date_unit_names[u]);
        if ((n == ln || n == ln - 1) && strncasecmp(s, gl__date_unit_names[u], n) == 0)
            return u;
    }
    return -1;
}

int gl__date_unit_arg(ev_t *ev, const char *fn, const val_t *v, int *u)
{
    if (v->k != V_STR || (*u = gl__date_unit_find(sp(v), sn(v))) < 0)
        return gl__expr_fail(ev, "%s: unknown unit '%.40s' (years, quarters, months, weeks, "
                                 "days, hours, minutes, seconds, milliseconds)",
                             fn, v->k == V_STR ? sp(v) : gl__expr_type_of(v));
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* Durations                                                                */

/* A number for JSON: integral values as integers, as JavaScript prints them. */
json_object *gl__date_jnum(double v)
{
    if (v == trunc(v) && fabs(v) < 9007199254740992.0)
        return json_object_new_int64((int64_t)v);
    return json_object_new_double(v);
}

int gl__date_dur_val(ev_t *ev, const dur_t *d, val_t *out)
{
    json_object *o = json_object_new_object();
    size_t size = 2;
    for (int u = 0; u < U_N; u++)
        if (d->set[u]) {
            int rc = gl__expr_obj_add(ev, o, &size, gl__date_unit_names[u],
                                      gl__date_jnum(d->v[u] == 0 ? 0 : d->v[u]), 24);
            if (rc != GL_OK) {
                json_object_put(o);
                return rc;
            }
        }
    *out = vown(V_DATE, o, 0);
    out->df = DF_DUR;
    return GL_OK;
}

void gl__date_dur_get(const val_t *self, dur_t *d)
{
    memset(d, 0, sizeof *d);
    for (int u = 0; u < U_N; u++) {
        json_object *x;
        if (self->j && json_object_object_get_ex(self->j, gl__date_unit_names[u], &x)) {
            d->v[u] = json_object_get_double(x);
            d->set[u] = true;
        }
    }
}

/* From {days: 1, hours: 2} (Luxon's Duration.fromObject and plus()'s argument). */
static int dur_from_obj(ev_t *ev, const char *fn, const val_t *x, dur_t *d)
{
    memset(d, 0, sizeof *d);
    struct json_object_iterator it = json_object_iter_begin(x->j);
    struct json_object_iterator end = json_object_iter_end(x->j);
    while (!json_object_iter_equal(&it, &end)) {
        const char *key = json_object_iter_peek_name(&it);
        val_t v = gl__expr_vjson(json_object_iter_peek_value(&it));
        json_object_iter_next(&it);
        int u = gl__date_unit_find(key, strlen(key));
        double amount = NAN;
        int rc = gl__expr_charge_pass(ev, strlen(key));
        if (rc == GL_OK && u < 0)
            rc = gl__expr_fail(ev, "%s: unknown unit '%.40s'", fn, key);
        if (rc == GL_OK && v.k != V_NUM)
            rc = gl__expr_fail(ev, "%s: invalid unit value for '%.40s': a number is expected",
                               fn, key);
        if (rc == GL_OK)
            amount = v.n;
        vfree(&v);
        TRY(rc);
        if (!isfinite(amount))
            return gl__expr_fail(ev, "%s: the amount must be a finite number", fn);
        d->v[u] += amount;
        d->set[u] = true;
    }
    return GL_OK;
}

/* A duration argument: an object, a number of ms, or (n, 'unit') (n8n). */
int gl__date_dur_arg(ev_t *ev, const char *fn, const val_t *a, size_t na, int def_unit, dur_t *d)
{
    const val_t *x = arg(a, na, 0);
    memset(d, 0, sizeof *d);
    if (x->k == V_OBJ)
        return dur_from_obj(ev, fn, x, d);
    if (x->k == V_DATE && (x->df & DF_DUR)) {
        gl__date_dur_get(x, d);
        return GL_OK;
    }
    if (x->k == V_NUM || (x->k == V_UNDEF && na > 1)) {
        int u = def_unit;
        if (na < 2)
            u = U_MS;
        else if (arg(a, na, 1)->k != V_UNDEF)
            TRY(gl__date_unit_arg(ev, fn, arg(a, na, 1), &u));
        double amount = x->k == V_NUM ? x->n : 0;
        if (!isfinite(amount))
            return gl__expr_fail(ev, "%s: the amount must be a finite number", fn);
        d->v[u] = amount;
        d->set[u] = true;
        return GL_OK;
    }
    return gl__expr_fail(ev, "%s expects a number and a unit, or an object like {days: 1}", fn);
}

/* Luxon's casual conversion matrix: how many b in one a (a before b in
 * unit order): a year is 4 quarters, 12 months, 52 weeks or 365 days, a
 * quarter 3 months, 13 weeks or 91 days, a month 4 weeks or 30 days. */
static double mat(int a, int b)
{
    static const double cal[3][5] = { { 1, 4, 12, 52, 365 }, { 0, 1, 3, 13, 91 }, { 0, 0, 1, 4, 30 } };
    if (a == b)
        return 1;
    if (a <= U_MONTH) {
        if (b <= U_DAY)
            return cal[a][b];
        return cal[a][U_DAY] * (gl__date_unit_ms[U_DAY] / gl__date_unit_ms[b]);
    }
    return gl__date_unit_ms[a] / gl__date_unit_ms[b];
}

/* Luxon's normalizeValues: carry each set unit's overflow into the next
 * larger set unit, then push fractions down into the next smaller one. */
static void dur_normalize(dur_t *d)
{
    double ms = 0;
    for (int u = 0; u < U_N; u++)
        if (d->set[u] && d->v[u] != 0)
            ms += u == U_MS ? d->v[u] : d->v[u] * mat(u, U_MS);
    double factor = ms < 0 ? -1 : 1;
    int prev = -1;
    for (int u = U_N - 1; u >= 0; u--) {
        if (!d->set[u])
            continue;
        if (prev >= 0) {
            double conv = mat(u, prev);
            double roll = floor(d->v[prev] * factor / conv);
            d->v[u] += roll * factor;
            d->v[prev] -= roll * conv * factor;
        }
        prev = u;
    }
    prev = -1;
    for (int u = 0; u < U_N; u++) {
        if (!d->set[u])
            continue;
        if (prev >= 0) {
            double frac = fmod(d->v[prev], 1);
            d->v[prev] -= frac;
            d->v[u] += frac * mat(prev, u);
        }
        prev = u;
    }
}

/* Luxon's shiftTo: the whole duration in the given units. */
void gl__date_dur_shift(const dur_t *in, const bool want[U_N], dur_t *out)
{
    double acc[U_N] = { 0 };
    bool has_acc[U_N] = { 0 };
    int last = -1;
    memset(out, 0, sizeof *out);
    for (int k = 0; k < U_N; k++) {
        if (want[k]) {
            last = k;
            double own = 0;
            for (int a = 0; a < U_N; a++)
                if (has_acc[a]) {
                    own += mat(a, k) * acc[a];
                    acc[a] = 0;
                }
            if (in->set[k])
                own += in->v[k];
            double i = trunc(own);
            out->v[k] = i;
            out->set[k] = true;
            acc[k] = (own * 1000 - i * 1000) / 1000;
            has_acc[k] = true;
        } else if (in->set[k]) {
            acc[k] = in->v[k];
            has_acc[k] = true;
        }
    }
    if (last < 0)
        return;
    for (int k = 0; k < U_N; k++)
        if (has_acc[k] && acc[k] != 0)
            out->v[last] += k == last ? acc[k] : acc[k] / mat(last, k);
    dur_normalize(out);
}

double gl__date_dur_as(const dur_t *d, int unit)
{
    bool want[U_N] = { 0 };
    dur_t r;
    want[unit] = true;
    gl__date_dur_shift(d, want, &r);
    return r.v[unit];
}

/* Luxon's diff algorithm (earlier <= later): calendar units by stepping,
 * the rest from the remaining milliseconds. */
static int day_diff(const val_t *a, const val_t *b)
{
    gl_date_t ta, tb;
    gl__date_local(a, &ta, NULL);
    gl__date_local(b, &tb, NULL);
    return (int)(gl_date_days_from_civil(tb.year, tb.month, tb.day) -
                 gl_date_days_from_civil(ta.year, ta.month, ta.day));
}

static int plus_units(ev_t *ev, const val_t *base, const double res[U_N], val_t *out)
{
    dur_t d = { 0 };
    for (int u = 0; u < U_N; u++)
        d.v[u] = res[u];
    return gl__date_add(ev, base, &d, 1, out);
}

int gl__date_diff(ev_t *ev, const val_t *self, const val_t *other, const bool want[U_N],
                     dur_t *r)
{
    bool later_other = other->ms > self->ms;
    const val_t *earlier = later_other ? self : other, *later = later_other ? other : self;
    double res[U_N] = { 0 };
    val_t cursor = *earlier, high = *earlier;
    int lowest = -1;
    for (int u = U_YEAR; u <= U_DAY; u++) {
        if (!want[u])
            continue;
        TRY(gl__expr_charge(ev, 4));
        gl_date_t a, b;
        gl__date_local(&cursor, &a, NULL);
        gl__date_local(later, &b, NULL);
        lowest = u;
        double dv;
        switch (u) {
        case U_YEAR: dv = (double)(b.year - a.year); break;
        case U_QUARTER:
            dv = (double)((b.month - 1) / 3 - (a.month - 1) / 3 + (b.year - a.year) * 4);
            break;
        case U_MONTH: dv = (double)(b.month - a.month + (b.year - a.year) * 12); break;
        case U_WEEK: {
            int days = day_diff(&cursor, later);
            dv = (days - days % 7) / 7;
            break;
        }
        default: dv = day_diff(&cursor, later); break;
        }
        res[u] = dv;
        TRY(plus_units(ev, earlier, res, &high));
        if (high.ms > later->ms) {
            res[u]--;
            TRY(plus_units(ev, earlier, res, &cursor));
            if (cursor.ms > later->ms) {
                high = cursor;
                res[u]--;
                TRY(plus_units(ev, earlier, res, &cursor));
            }
        } else {
            cursor = high;
        }
    }
    double remaining = (double)(later->ms - cursor.ms);
    bool lower = want[U_HOUR] || want[U_MINUTE] || want[U_SECOND] || want[U_MS];
    memset(r, 0, sizeof *r);
    for (int u = 0; u <= U_DAY; u++)
        if (want[u]) {
            r->v[u] = res[u];
            r->set[u] = true;
        }
    if (!lower && lowest >= 0) {
        if (high.ms < later->ms) {
            double step[U_N] = { 0 };
            step[lowest] = 1;
            TRY(plus_units(ev, &cursor, step, &high));
        }
        if (high.ms != cursor.ms)
            r->v[lowest] += remaining / (double)(high.ms - cursor.ms);
    }
    if (lower) {
        dur_t ms = { 0 }, shifted;
        bool w[U_N] = { 0 };
        ms.v[U_MS] = remaining;
        ms.set[U_MS] = true;
        for (int u = U_HOUR; u < U_N; u++)
            w[u] = want[u];
        gl__date_dur_shift(&ms, w, &shifted);
        for (int u = U_HOUR; u < U_N; u++)
            if (want[u]) {
                r->v[u] = shifted.v[u];
                r->set[u] = true;
            }
    }
    if (later_other)
        for (int u = 0; u < U_N; u++)
            r->v[u] = r->v[u] == 0 ? 0 : -r->v[u];
    return GL_OK;
}

/* Units from a string, an array of strings or nothing (def). */
int gl__date_units_arg(ev_t *ev, const char *fn, const val_t *v, int def, bool want[U_N])
{
    memset(want, 0, sizeof(bool) * U_N);
    int u = 0;
    if (v->k == V_UNDEF) {
        want[def] = true;
        return GL_OK;
    }
    if (v->k == V_ARR) {
        size_t n = json_object_array_length(v->j);
        TRY(gl__expr_charge(ev, n));
        for (size_t i = 0; i < n; i++) {
            val_t e = gl__expr_vjson(json_object_array_get_idx(v->j, i));
            int rc = gl__date_unit_arg(ev, fn, &e, &u);
            vfree(&e);
            TRY(rc);
            want[u] = true;
        }
        if (!n)
            want[def] = true;
        return GL_OK;
    }
    TRY(gl__date_unit_arg(ev, fn, v, &u));
    want[u] = true;
    return GL_OK;
}

int gl__date_dur_field(const val_t *d, const char *name, size_t len, val_t *out)
{
    dur_t du;
    gl__date_dur_get(d, &du);
    for (int u = 0; u < U_N; u++)
        if (name_is(name, len, gl__date_unit_names[u])) {
            *out = vnum(du.v[u]);
            return GL_OK;
        }
    if (name_is(name, len, "isValid"))
        *out = vbool(true);
    else
        *out = vmk(V_UNDEF);
    return GL_OK;
}

void gl__date_dur_iso(const dur_t *d, char *out, size_t cap)
{
    char num[40];
    size_t n = (size_t)snprintf(out, cap, "P");
    static const char *const sfx[] = { "Y", "", "M", "W", "D", "H", "M", "S" };
    for (int u = 0; u <= U_SECOND && n < cap; u++) {
        double v = d->v[u];
        if (u == U_MONTH)
            v += d->v[U_QUARTER] * 3;
        if (u == U_SECOND)
            v = round((d->v[U_SECOND] + d->v[U_MS] / 1000) * 1000) / 1000;
        if (u == U_HOUR && (d->v[U_HOUR] != 0 || d->v[U_MINUTE] != 0 || d->v[U_SECOND] != 0 ||
                            d->v[U_MS] != 0))
            n += (size_t)snprintf(out + n, cap - n, "T");
        if (u == U_QUARTER || v == 0 || n >= cap)
            continue;
        gl__expr_num_fmt(v, num);
        n += (size_t)snprintf(out + n, cap - n, "%s%s", num, sfx[u]);
    }
    if (n == 1)
        snprintf(out, cap, "PT0S");
}

/* ------------------------------------------------------------------------ */
/* Duration methods                                                         */

M(du_to_json)
{
    UNUSED_ARGS;
    json_object *j = gl__expr_date_json(self);
    *out = j ? vown(V_STR, j, 0) : vmk(V_NULL);
    return GL_OK;
}

M(du_to_millis)
{
    UNUSED_ARGS;
    *out = vnum(gl__expr_date_num(self));
    return GL_OK;
}

M(du_as)
{
    int u = 0;
    TRY(gl__date_unit_arg(ev, "as()", arg(a, na, 0), &u));
    dur_t d;
    gl__date_dur_get(self, &d);
    *out = vnum(gl__date_dur_as(&d, u));
    return GL_OK;
}

M(du_get)
{
    const val_t *n = arg(a, na, 0);
    int u = 0;
    TRY(gl__date_unit_arg(ev, "get()", n, &u));
    dur_t d;
    gl__date_dur_get(self, &d);
    *out = vnum(d.v[u]);
    return GL_OK;
}

M(du_to_object)
{
    UNUSED_ARGS;
    *out = vown(V_OBJ, json_object_get(self->j), 0);
    out->size = gl__expr_json_size(self->j);
    return GL_OK;
}

M(du_shift_to)
{
    bool want[U_N] = { 0 };
    for (size_t i = 0; i < na; i++) {
        int u = 0;
        TRY(gl__date_unit_arg(ev, "shiftTo()", &a[i], &u));
        want[u] = true;
    }
    dur_t d, r;
    gl__date_dur_get(self, &d);
    gl__date_dur_shift(&d, want, &r);
    return gl__date_dur_val(ev, &r, out);
}

M(du_negate)
{
    (void)a, (void)na;
    dur_t d;
    gl__date_dur_get(self, &d);
    for (int u = 0; u < U_N; u++)
        d.v[u] = d.v[u] == 0 ? 0 : -d.v[u];
    return gl__date_dur_val(ev, &d, out);
}

/* toHuman(): "1 day, 2 hours" (en-US). */
M(du_to_human)
{
    (void)a, (void)na;
    dur_t d;
    gl__date_dur_get(self, &d);
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = GL_OK;
    char num[40];
    bool first = true;
    for (int u = 0; rc == GL_OK && u < U_N; u++) {
        if (!d.set[u])
            continue;
        gl__expr_num_fmt(d.v[u], num);
        if (!first)
            rc = gl__expr_apps(ev, &b, ", ");
        first = false;
        size_t ul = strlen(gl__date_unit_names[u]) - (fabs(d.v[u]) == 1 ? 1 : 0);
        if (rc == GL_OK)
            rc = gl__expr_apps(ev, &b, num);
        if (rc == GL_OK)
            rc = gl__expr_apps(ev, &b, " ");
        if (rc == GL_OK)
            rc = gl__expr_app(ev, &b, gl__date_unit_names[u], ul);
    }
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

static const method_t dur_methods[] = {
    { "as", du_as }, { "get", du_get }, { "toObject", du_to_object }, { "toISO", du_to_json },
    { "toJSON", du_to_json }, { "toString", du_to_json }, { "toMillis", du_to_millis },
    { "valueOf", du_to_millis }, { "shiftTo", du_shift_to }, { "negate", du_negate },
    { "toHuman", du_to_human },
};

const methods_t gl__date_dur_methods = { dur_methods, GL_NELEM(dur_methods) };
