/*
 * expr_date.c: dates as n8n has them (see expr_date_int.h for the value and
 * the map of the date files): the per-process zone table, local time in a
 * zone with Luxon's and JavaScript's rules for DST gaps and overlaps, what
 * a date value is as text, JSON and number, and the dispatch of its methods.
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
bool gl__date_zone_dst(int zone, int64_t ms)
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
int64_t gl__date_civil_ms(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
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
    int64_t local = gl__date_civil_ms(year, month, day, hour, minute, second, ms);
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

int64_t gl__date_from_fields(int zone, const gl_date_t *t, int32_t guess)
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

int gl__date_mk_like(ev_t *ev, const val_t *self, double ms, val_t *out)
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

int gl__date_ordinal(const gl_date_t *t)
{
    return (int)(gl_date_days_from_civil(t->year, t->month, t->day) -
                 gl_date_days_from_civil(t->year, 1, 1)) + 1;
}

/* ISO week number and week year. */
int gl__date_iso_week(const gl_date_t *t, int64_t *week_year)
{
    int ord = gl__date_ordinal(t);
    int wk = (ord - t->weekday + 10) / 7;
    int64_t y = t->year;
    if (wk < 1) {
        y--;
        gl_date_t dec31 = { y, 12, 31, 0, 0, 0, 0,
                            gl_date_weekday(gl_date_days_from_civil(y, 12, 31)) };
        wk = gl__date_iso_week(&dec31, NULL);
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

int gl__date_weeks_in_year(int64_t y)
{
    int jan1 = gl_date_weekday(gl_date_days_from_civil(y, 1, 1));
    return (jan1 == 4 || (jan1 == 3 && gl_date_is_leap(y))) ? 53 : 52;
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

json_object *gl__expr_date_json(const val_t *d)
{
    char tmp[160];
    if (d->df & DF_DUR) {
        dur_t du;
        gl__date_dur_get(d, &du);
        gl__date_dur_iso(&du, tmp, sizeof tmp);
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
        gl__date_dur_get(d, &du);
        return gl__date_dur_as(&du, U_MS);
    }
    return d->df & DF_INVALID ? (double)NAN : (double)d->ms;
}

method_fn gl__date_find_method(const method_t *t, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (name_is(name, len, t[i].name))
            return t[i].fn;
    return NULL;
}

method_fn gl__expr_date_method(const val_t *d, const char *name, size_t len)
{
    if (d->df & DF_DUR)
        return gl__date_find_method(gl__date_dur_methods.v, gl__date_dur_methods.n, name, len);
    if (d->df & DF_JS)
        return gl__date_find_method(gl__date_js_methods.v, gl__date_js_methods.n, name, len);
    if (d->df & DF_INVALID) {
        method_fn fn = gl__date_find_method(gl__date_invalid_methods.v, gl__date_invalid_methods.n, name, len);
        if (fn)
            return fn;
    }
    return gl__date_find_method(gl__expr_date_methods.v, gl__expr_date_methods.n, name, len);
}

/* n8n's extensions that a JS Date shares with DateTime: run them on the
 * DateTime and hand back a JS Date where n8n does. */
int gl__date_js_ext(ev_t *ev, const val_t *self, const char *name, const val_t *a, size_t na,
                    val_t *out)
{
    val_t dt = *self;
    dt.df &= (uint8_t)~DF_JS;
    method_fn fn = gl__date_find_method(gl__expr_date_methods.v, gl__expr_date_methods.n, name, strlen(name));
    if (!fn)
        return gl__expr_fail(ev, "a Date has no method '%s'", name);
    TRY(fn(ev, &dt, a, na, out));
    if (out->k == V_DATE && !(out->df & DF_DUR) && strcmp(name, "toDateTime") != 0)
        out->df |= DF_JS;
    return GL_OK;
}
