/*
 * expr_date.c: dates as n8n has them (see expr_date_int.h for the value):
 * Luxon's DateTime with real IANA zones (core/tz.c) and its Duration, the
 * DateTime namespace (now, fromISO, fromFormat…), n8n's date extensions
 * (beginningOf, diffTo, isBetween…), and the per-process zone table.
 * Text in and out is expr_datefmt.c, JavaScript's Date expr_jsdate.c.
 *
 * Calendar arithmetic follows Luxon: calendar units (years, quarters,
 * months, weeks, days) move the local wall-clock fields and the result is
 * resolved in the zone again (so plus({days: 1}) across a DST change keeps
 * the time of day), time units add milliseconds. A local time in a DST gap
 * moves forward; an ambiguous one keeps the offset it had.
 */
#include "expr_date_int.h"

#include "tz.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <strings.h>

const char *const gl__date_months[12] = { "January", "February", "March", "April",
                                          "May", "June", "July", "August",
                                          "September", "October", "November", "December" };
const char *const gl__date_days[7] = { "Monday", "Tuesday", "Wednesday", "Thursday",
                                       "Friday", "Saturday", "Sunday" };

/* ------------------------------------------------------------------------ */
/* Zones: IANA zones are loaded once per process into a table (never
 * freed; index 0 is UTC; tzdata has fewer than ZONES_MAX names a loader
 * accepts). Fixed offsets need no table entry: zone numbers from ZONES_MAX
 * on are offsets in minutes, ZONES_MAX + 1080 + minutes, from -18:00 to
 * +18:00. A negative zone number means an unknown zone.                    */

#define ZONES_MAX 512
#define FIXED_MIN (-1080)

typedef struct {
    char name[GL_TZ_NAME_MAX];
    gl_tz_t *tz; /* NULL: UTC */
} zone_t;

static zone_t zones[ZONES_MAX] = { { "UTC", NULL } };
static int n_zones = 1;
static pthread_mutex_t zones_lock = PTHREAD_MUTEX_INITIALIZER;

static int32_t fixed_minutes(int zone)
{
    return zone - ZONES_MAX + FIXED_MIN;
}

const char *gl__date_zone_name(int zone, char buf[GL_TZ_NAME_MAX])
{
    if (zone < ZONES_MAX) {
        snprintf(buf, GL_TZ_NAME_MAX, "%.63s", zones[zone].name);
        return buf;
    }
    int32_t m = fixed_minutes(zone), a = m < 0 ? -m : m;
    if (a % 60)
        snprintf(buf, GL_TZ_NAME_MAX, "UTC%c%d:%02d", m < 0 ? '-' : '+', (int)(a / 60), (int)(a % 60));
    else
        snprintf(buf, GL_TZ_NAME_MAX, "UTC%c%d", m < 0 ? '-' : '+', (int)(a / 60));
    return buf;
}

bool gl__date_zone_fixed(int zone)
{
    return zone == 0 || zone >= ZONES_MAX;
}

int32_t gl__date_off(int zone, int64_t ms)
{
    if (zone >= ZONES_MAX)
        return fixed_minutes(zone) * 60;
    const zone_t *z = &zones[zone];
    return z->tz ? gl_tz_offset(z->tz, gl_date_floor_div(ms, 1000), NULL) : 0;
}

/* Luxon's isInDST: the offset is above the one on January 1st or in May
 * (the same wall-clock time). */
static bool zone_dst(int zone, int64_t ms)
{
    if (gl__date_zone_fixed(zone))
        return false;
    int32_t off = gl__date_off(zone, ms);
    gl_date_t t;
    gl_date_split(ms + (int64_t)off * 1000, &t);
    int64_t jan = gl__date_from_local(zone, t.year, 1, 1, t.hour, t.minute, t.second, t.ms, off);
    int64_t may = gl__date_from_local(zone, t.year, 5, t.day, t.hour, t.minute, t.second, t.ms, off);
    return off > gl__date_off(zone, jan) || off > gl__date_off(zone, may);
}

/* Under zones_lock: the index of name, or -1. */
static int zone_index(const char *name)
{
    for (int i = 0; i < n_zones; i++)
        if (strcmp(zones[i].name, name) == 0)
            return i;
    return -1;
}

bool gl__date_zone_fixed_off(int32_t off, int *zone)
{
    int32_t m = off / 60;
    if (m < FIXED_MIN || m > -FIXED_MIN)
        return false;
    *zone = m == 0 ? 0 : ZONES_MAX + (m - FIXED_MIN);
    return true;
}

/* "UTC+3", "utc-05:30" (Luxon's FixedOffsetZone.parseSpecifier). */
static bool parse_fixed(const char *s, size_t n, int32_t *off)
{
    if (n < 3 || strncasecmp(s, "utc", 3) != 0)
        return false;
    if (n == 3) {
        *off = 0;
        return true;
    }
    size_t i = 3;
    int sign = s[i] == '+' ? 1 : s[i] == '-' ? -1 : 0;
    if (!sign)
        return false;
    i++;
    int h = 0, m = 0, nd = 0;
    while (i < n && is_digit(s[i]) && nd < 2)
        h = h * 10 + (s[i++] - '0'), nd++;
    if (!nd)
        return false;
    if (i < n && s[i] == ':') {
        if (i + 3 != n || !is_digit(s[i + 1]) || !is_digit(s[i + 2]))
            return false;
        m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
        i += 3;
    }
    if (i != n || m > 59)
        return false;
    *off = sign * (h * 3600 + m * 60);
    return true;
}

bool gl__date_zone_find(ev_t *ev, const char *name, size_t n, int *zone)
{
    char buf[GL_TZ_NAME_MAX];
    int32_t off;
    if (n == 0 || n >= sizeof buf || memchr(name, 0, n))
        return false;
    memcpy(buf, name, n);
    buf[n] = 0;
    if (strcasecmp(buf, "local") == 0 || strcasecmp(buf, "system") == 0 ||
        strcasecmp(buf, "default") == 0) {
        *zone = gl__date_local_zone(ev);
        return true;
    }
    if (strcasecmp(buf, "utc") == 0 || strcasecmp(buf, "gmt") == 0) {
        *zone = 0;
        return true;
    }
    if (parse_fixed(buf, n, &off))
        return gl__date_zone_fixed_off(off, zone);
    pthread_mutex_lock(&zones_lock);
    int i = zone_index(buf);
    if (i < 0 && n_zones < ZONES_MAX) {
        gl_tz_t *tz = NULL;
        gl_err_t err;
        gl_err_clear(&err);
        if (gl_tz_load(buf, &tz, &err) == GL_OK) {
            i = n_zones;
            snprintf(zones[i].name, sizeof zones[i].name, "%s", buf);
            zones[i].tz = tz;
            n_zones++;
        }
    }
    pthread_mutex_unlock(&zones_lock);
    if (i < 0)
        return false;
    *zone = i;
    return true;
}

int gl__date_local_zone(ev_t *ev)
{
    int zone = 0;
    const char *tz = ev->ctx->tz;
    if (tz && *tz && strcmp(tz, "UTC") != 0 && !gl__date_zone_find(ev, tz, strlen(tz), &zone))
        zone = 0;
    return zone;
}

/* ------------------------------------------------------------------------ */
/* Local time                                                               */

void gl__date_local(const val_t *d, gl_date_t *t, int32_t *off)
{
    int32_t o = gl__date_off(d->zone, d->ms);
    gl_date_split(d->ms + (int64_t)o * 1000, t);
    if (off)
        *off = o;
}

/* Local fields (any overflow) as milliseconds of a UTC calendar. */
static int64_t civil_ms(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
                        int64_t second, int64_t ms)
{
    int64_t m0 = year * 12 + (month - 1);
    int64_t y = gl_date_floor_div(m0, 12);
    int mo = (int)(m0 - y * 12) + 1;
    return (gl_date_days_from_civil(y, mo, 1) + day - 1) * GL_DATE_MS_PER_DAY + hour * MS_HOUR +
           minute * MS_MIN + second * 1000 + ms;
}

int64_t gl__date_from_local(int zone, int64_t year, int64_t month, int64_t day, int64_t hour,
                            int64_t minute, int64_t second, int64_t ms, int32_t guess)
{
    int64_t local = civil_ms(year, month, day, hour, minute, second, ms);
    int64_t utc = local - (int64_t)guess * 1000;
    int32_t o2 = gl__date_off(zone, utc);
    if (o2 == guess)
        return utc;
    utc -= (int64_t)(o2 - guess) * 1000;
    int32_t o3 = gl__date_off(zone, utc);
    if (o2 == o3)
        return utc;
    return local - (int64_t)(o2 < o3 ? o2 : o3) * 1000;
}

int64_t gl__date_js_local(int zone, int64_t local)
{
    int32_t oa = gl__date_off(zone, local - GL_DATE_MS_PER_DAY);
    int32_t ob = gl__date_off(zone, local + GL_DATE_MS_PER_DAY);
    int64_t ua = local - (int64_t)oa * 1000, ub = local - (int64_t)ob * 1000;
    bool va = gl__date_off(zone, ua) == oa, vb = gl__date_off(zone, ub) == ob;
    if (va && vb)
        return ua < ub ? ua : ub;
    if (vb)
        return ub;
    return ua; /* valid, or in a gap: the offset before the transition */
}

static int64_t from_fields(int zone, const gl_date_t *t, int32_t guess)
{
    return gl__date_from_local(zone, t->year, t->month, t->day, t->hour, t->minute, t->second,
                               t->ms, guess);
}

int gl__date_mk(ev_t *ev, double ms, int zone, bool js, val_t *out)
{
    if (!(ms >= (double)GL_DATE_MS_MIN && ms < (double)GL_DATE_MS_END))
        return gl__expr_fail(ev, "date out of range (years 0000 to 9999)");
    *out = vdate((int64_t)ms);
    out->zone = (int16_t)zone;
    out->df = js ? DF_JS : 0;
    return GL_OK;
}

val_t gl__date_invalid(bool js)
{
    val_t v = vdate(0);
    v.df = DF_INVALID | (js ? DF_JS : 0);
    return v;
}

int gl__expr_mk_date(ev_t *ev, double ms, val_t *out)
{
    return gl__date_mk(ev, ms, 0, false, out);
}

static int mk_like(ev_t *ev, const val_t *self, double ms, val_t *out)
{
    return gl__date_mk(ev, ms, self->zone, self->df & DF_JS, out);
}

int gl__expr_date_now(ev_t *ev, bool today, val_t *out)
{
    int zone = gl__date_local_zone(ev);
    TRY(gl__date_mk(ev, (double)ev->ctx->now_ms, zone, false, out));
    if (today) {
        gl_date_t t;
        int32_t off;
        gl__date_local(out, &t, &off);
        out->ms = gl__date_from_local(zone, t.year, t.month, t.day, 0, 0, 0, 0, off);
    }
    return GL_OK;
}

static int ordinal_of(const gl_date_t *t)
{
    return (int)(gl_date_days_from_civil(t->year, t->month, t->day) -
                 gl_date_days_from_civil(t->year, 1, 1)) + 1;
}

/* ISO week number and week year. */
static int iso_week(const gl_date_t *t, int64_t *week_year)
{
    int ord = ordinal_of(t);
    int wk = (ord - t->weekday + 10) / 7;
    int64_t y = t->year;
    if (wk < 1) {
        y--;
        gl_date_t dec31 = { y, 12, 31, 0, 0, 0, 0,
                            gl_date_weekday(gl_date_days_from_civil(y, 12, 31)) };
        wk = iso_week(&dec31, NULL);
    } else {
        int jan1 = gl_date_weekday(gl_date_days_from_civil(y, 1, 1));
        int weeks = (jan1 == 4 || (jan1 == 3 && gl_date_is_leap(y))) ? 53 : 52;
        if (wk > weeks) {
            wk = 1;
            y++;
        }
    }
    if (week_year)
        *week_year = y;
    return wk;
}

static int weeks_in_year(int64_t y)
{
    int jan1 = gl_date_weekday(gl_date_days_from_civil(y, 1, 1));
    return (jan1 == 4 || (jan1 == 3 && gl_date_is_leap(y))) ? 53 : 52;
}

/* ------------------------------------------------------------------------ */
/* Units                                                                    */

enum { U_YEAR, U_QUARTER, U_MONTH, U_WEEK, U_DAY, U_HOUR, U_MINUTE, U_SECOND, U_MS, U_N };

static const char *const unit_names[U_N] = { "years", "quarters", "months", "weeks", "days",
                                             "hours", "minutes", "seconds", "milliseconds" };
/* Luxon's casual conversion (a month is 30 days, a year 365). */
static const double unit_ms[U_N] = { 365 * 86400000.0, 91 * 86400000.0, 30 * 86400000.0,
                                     7 * 86400000.0, 86400000.0, 3600000.0, 60000.0, 1000.0, 1 };

/* Luxon's unit names, singular or plural, and n8n's aliases (ms, sec, min, hr…). */
static int unit_find(const char *s, size_t n)
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
        size_t ln = strlen(unit_names[u]);
        if ((n == ln || n == ln - 1) && strncasecmp(s, unit_names[u], n) == 0)
            return u;
    }
    return -1;
}

static int unit_arg(ev_t *ev, const char *fn, const val_t *v, int *u)
{
    if (v->k != V_STR || (*u = unit_find(sp(v), sn(v))) < 0)
        return gl__expr_fail(ev, "%s: unknown unit '%.40s' (years, quarters, months, weeks, "
                                 "days, hours, minutes, seconds, milliseconds)",
                             fn, v->k == V_STR ? sp(v) : gl__expr_type_of(v));
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* Durations                                                                */

typedef struct {
    double v[U_N];
    bool set[U_N];
} dur_t;

/* A number for JSON: integral values as integers, as JavaScript prints them. */
static json_object *jnum(double v)
{
    if (v == trunc(v) && fabs(v) < 9007199254740992.0)
        return json_object_new_int64((int64_t)v);
    return json_object_new_double(v);
}

static int dur_val(ev_t *ev, const dur_t *d, val_t *out)
{
    json_object *o = json_object_new_object();
    size_t size = 2;
    for (int u = 0; u < U_N; u++)
        if (d->set[u]) {
            int rc = gl__expr_obj_add(ev, o, &size, unit_names[u],
                                      jnum(d->v[u] == 0 ? 0 : d->v[u]), 24);
            if (rc != GL_OK) {
                json_object_put(o);
                return rc;
            }
        }
    *out = vown(V_DATE, o, 0);
    out->df = DF_DUR;
    return GL_OK;
}

static void dur_get(const val_t *self, dur_t *d)
{
    memset(d, 0, sizeof *d);
    for (int u = 0; u < U_N; u++) {
        json_object *x;
        if (self->j && json_object_object_get_ex(self->j, unit_names[u], &x)) {
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
        int u = unit_find(key, strlen(key));
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
static int dur_arg(ev_t *ev, const char *fn, const val_t *a, size_t na, int def_unit, dur_t *d)
{
    const val_t *x = arg(a, na, 0);
    memset(d, 0, sizeof *d);
    if (x->k == V_OBJ)
        return dur_from_obj(ev, fn, x, d);
    if (x->k == V_DATE && (x->df & DF_DUR)) {
        dur_get(x, d);
        return GL_OK;
    }
    if (x->k == V_NUM || (x->k == V_UNDEF && na > 1)) {
        int u = def_unit;
        if (na < 2)
            u = U_MS;
        else if (arg(a, na, 1)->k != V_UNDEF)
            TRY(unit_arg(ev, fn, arg(a, na, 1), &u));
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
        return cal[a][U_DAY] * (unit_ms[U_DAY] / unit_ms[b]);
    }
    return unit_ms[a] / unit_ms[b];
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
static void dur_shift(const dur_t *in, const bool want[U_N], dur_t *out)
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

static double dur_as(const dur_t *d, int unit)
{
    bool want[U_N] = { 0 };
    dur_t r;
    want[unit] = true;
    dur_shift(d, want, &r);
    return r.v[unit];
}

/* ------------------------------------------------------------------------ */
/* Arithmetic                                                               */

/* Luxon's adjustTime: calendar units on the local fields, the rest in ms. */
static int date_add(ev_t *ev, const val_t *self, const dur_t *d, double sign, val_t *out)
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
        extra += (u <= U_DAY ? v[u] - trunc(v[u]) : v[u]) * unit_ms[u];
    if (!(fabs(extra) < 1e15))
        return gl__expr_fail(ev, "date out of range (years 0000 to 9999)");
    return mk_like(ev, self, (double)ms + trunc(extra), out);
}

/* Luxon's set() on local fields, resolved with the current offset first. */
static int64_t set_fields(const val_t *self, const gl_date_t *t)
{
    int32_t off = gl__date_off(self->zone, self->ms);
    return from_fields(self->zone, t, off);
}

static int start_of(ev_t *ev, const val_t *self, int u, val_t *out)
{
    gl_date_t t;
    gl__date_local(self, &t, NULL);
    switch (u) {
    case U_YEAR: t.month = 1; /* fall through */
    case U_QUARTER:
    case U_MONTH: t.day = 1; /* fall through */
    case U_WEEK:
    case U_DAY: t.hour = 0; /* fall through */
    case U_HOUR: t.minute = 0; /* fall through */
    case U_MINUTE: t.second = 0; /* fall through */
    case U_SECOND: t.ms = 0; /* fall through */
    default: break;
    }
    if (u == U_QUARTER)
        t.month = (t.month - 1) / 3 * 3 + 1;
    if (u == U_WEEK) /* weeks start on Monday */
        t.day -= t.weekday - 1;
    return mk_like(ev, self, (double)set_fields(self, &t), out);
}

static int end_of(ev_t *ev, const val_t *self, int u, val_t *out)
{
    dur_t one = { 0 };
    one.v[u] = 1;
    one.set[u] = true;
    val_t next, start;
    if (date_add(ev, self, &one, 1, &next) != GL_OK) { /* the year 9999 */
        gl_err_clear(ev->err);
        return mk_like(ev, self, (double)GL_DATE_MS_END - 1, out);
    }
    TRY(start_of(ev, &next, u, &start));
    return mk_like(ev, self, (double)start.ms - 1, out);
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
    return date_add(ev, base, &d, 1, out);
}

static int date_diff(ev_t *ev, const val_t *self, const val_t *other, const bool want[U_N],
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
        dur_shift(&ms, w, &shifted);
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
static int units_arg(ev_t *ev, const char *fn, const val_t *v, int def, bool want[U_N])
{
    memset(want, 0, sizeof(bool) * U_N);
    int u;
    if (v->k == V_UNDEF) {
        want[def] = true;
        return GL_OK;
    }
    if (v->k == V_ARR) {
        size_t n = json_object_array_length(v->j);
        TRY(gl__expr_charge(ev, n));
        for (size_t i = 0; i < n; i++) {
            val_t e = gl__expr_vjson(json_object_array_get_idx(v->j, i));
            int rc = unit_arg(ev, fn, &e, &u);
            vfree(&e);
            TRY(rc);
            want[u] = true;
        }
        if (!n)
            want[def] = true;
        return GL_OK;
    }
    TRY(unit_arg(ev, fn, v, &u));
    want[u] = true;
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* Converting arguments to DateTimes                                        */

static int parse_iso_val(ev_t *ev, const char *s, size_t n, int zone, bool set_zone, bool sql,
                         val_t *out);

/* A DateTime from a DateTime, JS Date or ISO string (n8n's convertToDateTime);
 * false in *ok when it cannot. */
static int to_dt(ev_t *ev, const val_t *v, val_t *out, bool *ok)
{
    *ok = true;
    if (v->k == V_DATE && !(v->df & DF_DUR)) {
        *out = *v;
        out->df &= (uint8_t)~DF_JS;
        return GL_OK;
    }
    if (v->k == V_STR) {
        TRY(gl__expr_charge_pass(ev, sn(v)));
        TRY(parse_iso_val(ev, sp(v), sn(v), gl__date_local_zone(ev), false, false, out));
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
static int zone_opts(ev_t *ev, const char *fn, const val_t *opts, int *zone, bool *set_zone)
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
static int from_parsed(ev_t *ev, const gl_date_t *t, bool has_off, int32_t off, int zone,
                       bool set_zone, val_t *out)
{
    if (zone < 0) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    int64_t ms;
    if (has_off) {
        ms = civil_ms(t->year, t->month, t->day, t->hour, t->minute, t->second, t->ms) -
             (int64_t)off * 1000;
        if (set_zone && !gl__date_zone_fixed_off(off, &zone))
            return gl__expr_fail(ev, "too many time zones in use");
    } else {
        ms = from_fields(zone, t, gl__date_off(zone, ev->ctx->now_ms));
    }
    if (!(ms >= GL_DATE_MS_MIN && ms < GL_DATE_MS_END)) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    return gl__date_mk(ev, (double)ms, zone, false, out);
}

static int parse_iso_val(ev_t *ev, const char *s, size_t n, int zone, bool set_zone, bool sql,
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
    return from_parsed(ev, &t, has_off, off, zone, set_zone, out);
}

static int from_format(ev_t *ev, const char *s, size_t sn_, const char *f, size_t fn_, int zone,
                       bool sz, val_t *out);

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
        return from_format(ev, s, n, f, sn(fmt), zone, false, out);
    }
    gl__expr_trim_span(&s, &n, true, true);
    TRY(parse_iso_val(ev, s, n, zone, true, false, out));
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
    TRY(parse_iso_val(ev, s, n, zone, true, true, out));
    if (!(out->df & DF_INVALID))
        return GL_OK;
    double js = gl__date_js_parse(ev, s, n);
    if (isfinite(js))
        return gl__date_mk(ev, js, zone, false, out);
    return gl__expr_fail(ev, "cannot convert to Luxon DateTime");
}

/* ------------------------------------------------------------------------ */
/* DateTime getters                                                         */

static double dt_getter(const val_t *d, int u)
{
    gl_date_t t;
    gl__date_local(d, &t, NULL);
    switch (u) {
    case U_YEAR: return (double)t.year;
    case U_QUARTER: return (t.month - 1) / 3 + 1;
    case U_MONTH: return t.month;
    case U_WEEK: return iso_week(&t, NULL);
    case U_DAY: return t.day;
    case U_HOUR: return t.hour;
    case U_MINUTE: return t.minute;
    case U_SECOND: return t.second;
    default: return t.ms;
    }
}

static int dur_field(const val_t *d, const char *name, size_t len, val_t *out)
{
    dur_t du;
    dur_get(d, &du);
    for (int u = 0; u < U_N; u++)
        if (name_is(name, len, unit_names[u])) {
            *out = vnum(du.v[u]);
            return GL_OK;
        }
    if (name_is(name, len, "isValid"))
        *out = vbool(true);
    else
        *out = vmk(V_UNDEF);
    return GL_OK;
}

int gl__expr_date_field(ev_t *ev, const val_t *d, const char *name, size_t len, val_t *out)
{
    if (d->df & DF_DUR)
        return dur_field(d, name, len, out);
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
            *out = vnum(bad ? (double)NAN : dt_getter(d, (int)i));
            return GL_OK;
        }
    gl_date_t t;
    int32_t off;
    gl__date_local(d, &t, &off);
    if (name_is(name, len, "weekday"))
        *out = vnum(bad ? (double)NAN : t.weekday);
    else if (name_is(name, len, "ordinal"))
        *out = vnum(bad ? (double)NAN : ordinal_of(&t));
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
        *out = vbool(!bad && zone_dst(d->zone, d->ms));
    else if (name_is(name, len, "ts"))
        *out = vnum(bad ? (double)NAN : (double)d->ms);
    else if (name_is(name, len, "weekYear") || name_is(name, len, "weeksInWeekYear")) {
        int64_t wy;
        iso_week(&t, &wy);
        *out = vnum(bad ? (double)NAN : name_is(name, len, "weekYear") ? (double)wy : weeks_in_year(wy));
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
/* To text and numbers                                                      */

int gl__expr_date_to_string(ev_t *ev, const val_t *d, gl_buf_t *b)
{
    char tmp[80];
    if (d->df & DF_JS)
        return gl__date_js_to_string(ev, d, b);
    if (d->df & DF_DUR) {
        json_object *j = gl__expr_date_json(d);
        int rc = gl__expr_apps(ev, b, json_object_get_string(j));
        json_object_put(j);
        return rc;
    }
    if (d->df & DF_INVALID)
        return gl__expr_apps(ev, b, "Invalid DateTime");
    gl__date_iso(d, true, true, true, true, tmp, sizeof tmp);
    return gl__expr_apps(ev, b, tmp);
}

static void dur_iso(const dur_t *d, char *out, size_t cap)
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

json_object *gl__expr_date_json(const val_t *d)
{
    char tmp[160];
    if (d->df & DF_DUR) {
        dur_t du;
        dur_get(d, &du);
        dur_iso(&du, tmp, sizeof tmp);
        return json_object_new_string(tmp);
    }
    if (d->df & DF_INVALID)
        return NULL;
    if (d->df & DF_JS) {
        gl_date_iso_format(d->ms, tmp);
        return json_object_new_string(tmp);
    }
    gl__date_iso(d, true, true, true, true, tmp, sizeof tmp);
    return json_object_new_string(tmp);
}

const char *gl__expr_date_type_name(const val_t *d)
{
    return d->df & DF_DUR ? "a Duration" : d->df & DF_JS ? "a Date" : "a DateTime";
}

double gl__expr_date_num(const val_t *d)
{
    if (d->df & DF_DUR) {
        dur_t du;
        dur_get(d, &du);
        return dur_as(&du, U_MS);
    }
    return d->df & DF_INVALID ? (double)NAN : (double)d->ms;
}

/* ------------------------------------------------------------------------ */
/* DateTime methods                                                         */

#define M(name) static int name(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
#define UNUSED_ARGS (void)ev, (void)self, (void)a, (void)na

static int str_out(const char *s, val_t *out)
{
    *out = vstr_n(s, strlen(s));
    return GL_OK;
}

/* toISO({suppressMilliseconds, includeOffset}) */
static bool opt_bool(const val_t *o, const char *key, bool def)
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
    bool ms = !(opt_bool(o, "suppressMilliseconds", false) && self->ms % 1000 == 0);
    gl__date_iso(self, true, true, opt_bool(o, "includeOffset", true), ms, tmp, sizeof tmp);
    return str_out(tmp, out);
}

M(d_to_iso_date)
{
    UNUSED_ARGS;
    char tmp[80];
    gl__date_iso(self, true, false, false, false, tmp, sizeof tmp);
    return str_out(tmp, out);
}

M(d_to_iso_time)
{
    (void)ev;
    char tmp[80];
    const val_t *o = arg(a, na, 0);
    bool ms = !(opt_bool(o, "suppressMilliseconds", false) && self->ms % 1000 == 0);
    gl__date_iso(self, false, true, opt_bool(o, "includeOffset", true), ms, tmp, sizeof tmp);
    return str_out(tmp, out);
}

M(d_to_iso_week)
{
    UNUSED_ARGS;
    gl_date_t t;
    gl__date_local(self, &t, NULL);
    int64_t wy;
    int wk = iso_week(&t, &wy);
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%04" PRId64 "-W%02d-%d", wy, wk, t.weekday);
    return str_out(tmp, out);
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
    TRY(zone_opts(ev, "toFormat()", arg(a, na, 1), &zone, &sz)); /* refuses other locales */
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
    TRY(zone_opts(ev, "toLocaleString()", arg(a, na, 1), &zone, &sz));
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
    return str_out(tmp, out);
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
    return str_out(tmp, out);
}

M(d_to_rfc2822)
{
    UNUSED_ARGS;
    char tmp[80];
    rfc_text(self, false, tmp, sizeof tmp);
    return str_out(tmp, out);
}

static int plus_minus(ev_t *ev, const val_t *self, const val_t *a, size_t na, double sign,
                      const char *fn, val_t *out)
{
    dur_t d;
    TRY(dur_arg(ev, fn, a, na, U_MINUTE, &d));
    return date_add(ev, self, &d, sign, out);
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
    int u;
    TRY(unit_arg(ev, "startOf()", arg(a, na, 0), &u));
    return start_of(ev, self, u, out);
}

M(d_end_of)
{
    int u;
    TRY(unit_arg(ev, "endOf()", arg(a, na, 0), &u));
    return end_of(ev, self, u, out);
}

/* n8n: beginningOf(unit = 'week') */
M(d_beginning_of)
{
    int u = U_WEEK;
    if (arg(a, na, 0)->k != V_UNDEF)
        TRY(unit_arg(ev, "beginningOf()", arg(a, na, 0), &u));
    return start_of(ev, self, u, out);
}

M(d_end_of_month)
{
    (void)a, (void)na;
    return end_of(ev, self, U_MONTH, out);
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
        int u = unit_find(key, strlen(key));
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
    return mk_like(ev, self, (double)set_fields(self, &t), out);
}

static int set_zone(ev_t *ev, const val_t *self, int zone, bool keep_local, val_t *out)
{
    if (zone < 0) {
        *out = gl__date_invalid(self->df & DF_JS);
        return GL_OK;
    }
    double ms = (double)self->ms;
    if (keep_local) {
        gl_date_t t;
        gl__date_local(self, &t, NULL);
        ms = (double)from_fields(zone, &t, gl__date_off(zone, self->ms));
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
    return set_zone(ev, self, zone, opt_bool(arg(a, na, 1), "keepLocalTime", false) ||
                                        opt_bool(arg(a, na, 1), "keepCalendarTime", false), out);
}

M(d_to_utc)
{
    double off = 0;
    int zone = 0;
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &off));
    if (off != 0 && (!(fabs(off) <= 18 * 60) || !gl__date_zone_fixed_off((int32_t)off * 60, &zone)))
        zone = -1;
    return set_zone(ev, self, zone, opt_bool(arg(a, na, 1), "keepLocalTime", false), out);
}

M(d_to_local)
{
    (void)a, (void)na;
    return set_zone(ev, self, gl__date_local_zone(ev), false, out);
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
    TRY(to_dt(ev, v, out, &ok));
    if (!ok)
        return gl__expr_fail(ev, "%s expects a DateTime or an ISO date string", fn);
    return GL_OK;
}

M(d_diff)
{
    val_t other;
    TRY(other_dt(ev, "diff()", arg(a, na, 0), &other));
    bool want[U_N];
    TRY(units_arg(ev, "diff()", arg(a, na, 1), U_MS, want));
    if (other.df & DF_INVALID)
        return gl__expr_fail(ev, "diff(): the other DateTime is invalid");
    dur_t r;
    TRY(date_diff(ev, self, &other, want, &r));
    return dur_val(ev, &r, out);
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
    TRY(units_arg(ev, "diffTo()", unit, U_DAY, want));
    int n = 0, last = U_DAY;
    for (int u = 0; u < U_N; u++)
        if (want[u])
            n++, last = u;
    dur_t r;
    TRY(date_diff(ev, self, &other, want, &r));
    if (n == 1) {
        *out = vnum(r.v[last] == 0 ? 0 : r.v[last]);
        return GL_OK;
    }
    json_object *o = json_object_new_object();
    for (int u = 0; u < U_N; u++)
        if (want[u])
            json_object_object_add(o, unit_names[u], jnum(r.v[u] == 0 ? 0 : r.v[u]));
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
    int u;
    TRY(unit_arg(ev, "hasSame()", arg(a, na, 1), &u));
    TRY(set_zone(ev, self, other.zone, true, &adj));
    TRY(start_of(ev, &adj, u, &s));
    TRY(end_of(ev, &adj, u, &e));
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
        *out = vnum(dt_getter(self, U_WEEK));
        return GL_OK;
    }
    if (p->k != V_STR)
        return gl__expr_fail(ev, "extract() expects a unit like 'month'");
    gl_date_t t;
    gl__date_local(self, &t, NULL);
    if (name_is(sp(p), sn(p), "yearDayNumber")) {
        *out = vnum(ordinal_of(&t));
        return GL_OK;
    }
    if (name_is(sp(p), sn(p), "weekday")) {
        *out = vnum(t.weekday);
        return GL_OK;
    }
    if (name_is(sp(p), sn(p), "weekNumber") || name_is(sp(p), sn(p), "week")) {
        *out = vnum(dt_getter(self, U_WEEK));
        return GL_OK;
    }
    int u = unit_find(sp(p), sn(p));
    if (u < 0 || u == U_WEEK)
        return gl__expr_fail(ev, "extract(): unknown part '%.40s' (year, month, week, day, hour, "
                                 "minute, second, millisecond, weekday, yearDayNumber)", sp(p));
    *out = vnum(dt_getter(self, u));
    return GL_OK;
}

/* n8n: isBetween(a, b), either order, exclusive; undefined when one is not a date. */
M(d_is_between)
{
    if (na != 2)
        return gl__expr_fail(ev, "isBetween(): expected exactly two args");
    val_t x, y;
    bool okx, oky;
    TRY(to_dt(ev, &a[0], &x, &okx));
    TRY(to_dt(ev, &a[1], &y, &oky));
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
    *out = vbool(zone_dst(self->zone, self->ms));
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
        TRY(unit_arg(ev, "isInLast()", arg(a, na, 1), &u));
    if (!isfinite(n))
        return gl__expr_fail(ev, "isInLast(): the amount must be a finite number");
    val_t now, past;
    TRY(gl__date_mk(ev, (double)ev->ctx->now_ms, self->zone, false, &now));
    dur_t d = { 0 };
    d.v[u] = n;
    TRY(date_add(ev, &now, &d, -1, &past));
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
        int rc = to_dt(ev, &bv, &base, &ok);
        vfree(&bv);
        TRY(rc);
        if (!ok)
            return gl__expr_fail(ev, "toRelative(): base must be a DateTime");
    }
    if (o->k == V_OBJ && json_object_object_get_ex(o->j, "unit", &ju) && ju) {
        val_t uv = gl__expr_vjson(ju);
        bool w[U_N];
        int rc = units_arg(ev, "toRelative()", &uv, U_DAY, w);
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
    bool round_it = opt_bool(o, "round", true);
    double count = 0;
    int unit = order[n - 1];
    bool found = false;
    for (int i = 0; i < n && !found; i++) {
        memset(want, 0, sizeof want);
        want[order[i]] = true;
        dur_t r;
        TRY(date_diff(ev, self, &base, want, &r));
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
    const char *un = unit_names[unit];
    size_t ul = strlen(un) - (fabs(count) == 1 ? 1 : 0);
    if (past || (count == 0 && signbit(count)))
        snprintf(tmp, sizeof tmp, "%s %.*s ago", num, (int)ul, un);
    else
        snprintf(tmp, sizeof tmp, "in %s %.*s", num, (int)ul, un);
    return str_out(tmp, out);
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
    return str_out("Invalid DateTime", out);
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

/* ------------------------------------------------------------------------ */
/* Duration methods                                                         */

M(du_as)
{
    int u;
    TRY(unit_arg(ev, "as()", arg(a, na, 0), &u));
    dur_t d;
    dur_get(self, &d);
    *out = vnum(dur_as(&d, u));
    return GL_OK;
}

M(du_get)
{
    const val_t *n = arg(a, na, 0);
    int u;
    TRY(unit_arg(ev, "get()", n, &u));
    dur_t d;
    dur_get(self, &d);
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
        int u;
        TRY(unit_arg(ev, "shiftTo()", &a[i], &u));
        want[u] = true;
    }
    dur_t d, r;
    dur_get(self, &d);
    dur_shift(&d, want, &r);
    return dur_val(ev, &r, out);
}

M(du_negate)
{
    (void)a, (void)na;
    dur_t d;
    dur_get(self, &d);
    for (int u = 0; u < U_N; u++)
        d.v[u] = d.v[u] == 0 ? 0 : -d.v[u];
    return dur_val(ev, &d, out);
}

/* toHuman(): "1 day, 2 hours" (en-US). */
M(du_to_human)
{
    (void)a, (void)na;
    dur_t d;
    dur_get(self, &d);
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
        size_t ul = strlen(unit_names[u]) - (fabs(d.v[u]) == 1 ? 1 : 0);
        if (rc == GL_OK)
            rc = gl__expr_apps(ev, &b, num);
        if (rc == GL_OK)
            rc = gl__expr_apps(ev, &b, " ");
        if (rc == GL_OK)
            rc = gl__expr_app(ev, &b, unit_names[u], ul);
    }
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

static const method_t dur_methods[] = {
    { "as", du_as }, { "get", du_get }, { "toObject", du_to_object }, { "toISO", d_to_json },
    { "toJSON", d_to_json }, { "toString", d_to_json }, { "toMillis", d_to_millis },
    { "valueOf", d_to_millis }, { "shiftTo", du_shift_to }, { "negate", du_negate },
    { "toHuman", du_to_human },
};

static method_fn find_in(const method_t *t, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (name_is(name, len, t[i].name))
            return t[i].fn;
    return NULL;
}

method_fn gl__expr_date_method(const val_t *d, const char *name, size_t len)
{
    if (d->df & DF_DUR)
        return find_in(dur_methods, GL_NELEM(dur_methods), name, len);
    if (d->df & DF_JS)
        return find_in(gl__date_js_methods.v, gl__date_js_methods.n, name, len);
    if (d->df & DF_INVALID) {
        method_fn fn = find_in(invalid_methods, GL_NELEM(invalid_methods), name, len);
        if (fn)
            return fn;
    }
    return find_in(dt_methods, GL_NELEM(dt_methods), name, len);
}

/* n8n's extensions that a JS Date shares with DateTime: run them on the
 * DateTime and hand back a JS Date where n8n does. */
int gl__date_js_ext(ev_t *ev, const val_t *self, const char *name, const val_t *a, size_t na,
                    val_t *out)
{
    val_t dt = *self;
    dt.df &= (uint8_t)~DF_JS;
    method_fn fn = find_in(dt_methods, GL_NELEM(dt_methods), name, strlen(name));
    if (!fn)
        return gl__expr_fail(ev, "a Date has no method '%s'", name);
    TRY(fn(ev, &dt, a, na, out));
    if (out->k == V_DATE && !(out->df & DF_DUR) && strcmp(name, "toDateTime") != 0)
        out->df |= DF_JS;
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* The DateTime namespace                                                   */

static int dt_now(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self, (void)a, (void)na;
    return gl__expr_date_now(ev, false, out);
}

/* DateTime.local/utc(year, month, day, hour, minute, second, ms[, opts]) */
static int dt_fields(ev_t *ev, const val_t *a, size_t na, int zone, const char *fn, val_t *out)
{
    static const double lo[] = { 0, 1, 1, 0, 0, 0, 0 }, hi[] = { 9999, 12, 31, 23, 59, 59, 999 };
    double f[7];
    size_t nf = 0;
    while (nf < na && nf < 7 && a[nf].k == V_NUM)
        nf++;
    if (nf < na && a[nf].k == V_OBJ) {
        bool sz;
        TRY(zone_opts(ev, fn, &a[nf], &zone, &sz));
        if (zone < 0) {
            *out = gl__date_invalid(false);
            return GL_OK;
        }
    }
    if (!nf)
        return gl__date_mk(ev, (double)ev->ctx->now_ms, zone, false, out);
    for (size_t i = 0; i < 7; i++) {
        f[i] = i < nf ? a[i].n : lo[i];
        if (!(f[i] >= lo[i] && f[i] <= hi[i] && f[i] == trunc(f[i]))) {
            *out = gl__date_invalid(false); /* Luxon: an invalid DateTime */
            return GL_OK;
        }
    }
    if (f[2] > gl_date_days_in_month((int64_t)f[0], (int)f[1])) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    gl_date_t t = { (int64_t)f[0], (int)f[1], (int)f[2], (int)f[3], (int)f[4], (int)f[5], (int)f[6], 0 };
    return from_parsed(ev, &t, false, 0, zone, false, out);
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
    TRY(zone_opts(ev, "DateTime.fromISO()", arg(a, na, 1), &zone, &sz));
    TRY(gl__expr_charge_pass(ev, sn(s)));
    return parse_iso_val(ev, sp(s), sn(s), zone, sz, false, out);
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
    TRY(zone_opts(ev, "DateTime.fromSQL()", arg(a, na, 1), &zone, &sz));
    TRY(gl__expr_charge_pass(ev, sn(s)));
    return parse_iso_val(ev, sp(s), sn(s), zone, sz, true, out);
}

static int from_rfc(ev_t *ev, const val_t *a, size_t na, bool http, const char *fn, val_t *out)
{
    const val_t *s = arg(a, na, 0);
    if (s->k != V_STR)
        return gl__expr_fail(ev, "%s expects a string, got %s", fn, gl__expr_vtype_name(s));
    int zone;
    bool sz;
    TRY(zone_opts(ev, fn, arg(a, na, 1), &zone, &sz));
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

static int from_format(ev_t *ev, const char *s, size_t sn_, const char *f, size_t fn_, int zone,
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
        int64_t ms = civil_ms(t.year, t.month, t.day, t.hour, t.minute, t.second, t.ms) -
                     (int64_t)p.off * 1000;
        if (sz && !gl__date_zone_fixed_off(p.off, &out_zone))
            return gl__expr_fail(ev, "too many time zones in use");
        return gl__date_mk(ev, (double)ms, out_zone, false, out);
    }
    int in_zone = p.has_zone ? p.zone : zone;
    int64_t ms = from_fields(in_zone, &t, gl__date_off(in_zone, ev->ctx->now_ms));
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
    TRY(zone_opts(ev, "DateTime.fromFormat()", arg(a, na, 2), &zone, &sz));
    return from_format(ev, sp(s), sn(s), sp(f), sn(f), zone, sz, out);
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
    TRY(zone_opts(ev, "DateTime.fromMillis()", arg(a, na, 1), &zone, &sz));
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
    TRY(zone_opts(ev, "DateTime.fromSeconds()", arg(a, na, 1), &zone, &sz));
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
    TRY(zone_opts(ev, "DateTime.fromJSDate()", arg(a, na, 1), &zone, &sz));
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
    TRY(zone_opts(ev, "DateTime.fromObject()", arg(a, na, 1), &zone, &sz));
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
    static const double lo[] = { 0, 1, 1, 0, 0, 0, 0 }, hi[] = { 9999, 12, 31, 23, 59, 59, 999 };
    for (size_t i = 0; i < 7; i++) {
        if (has[i])
            any = true;
        else
            f[i] = !any && i < 3 ? nowv[i] : lo[i];
        if (!(f[i] >= lo[i] && f[i] <= hi[i] && f[i] == trunc(f[i]))) {
            *out = gl__date_invalid(false);
            return GL_OK;
        }
    }
    if (f[2] > gl_date_days_in_month((int64_t)f[0], (int)f[1])) {
        *out = gl__date_invalid(false);
        return GL_OK;
    }
    gl_date_t t = { (int64_t)f[0], (int)f[1], (int)f[2], (int)f[3], (int)f[4], (int)f[5], (int)f[6], 0 };
    return from_parsed(ev, &t, false, 0, zone, false, out);
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

const methods_t gl__expr_date_methods = { dt_methods, GL_NELEM(dt_methods) };
const ns_methods_t gl__expr_date_ns = { date_ns, GL_NELEM(date_ns) };
