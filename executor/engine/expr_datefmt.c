/*
 * expr_datefmt.c: dates as text, in and out (see expr_date_int.h): Luxon's
 * toFormat tokens and fromFormat, ISO 8601 as Luxon reads and writes it,
 * SQL, HTTP and RFC 2822 dates, JavaScript's Date.parse, and what
 * Intl.DateTimeFormat writes for en-US (toLocaleString and the D/t/f macro
 * tokens). Other locales are refused by the callers; names of months and
 * weekdays are English.
 *
 * Node 20's ICU puts a narrow no-break space (U+202F) before AM/PM, which
 * V8's format() turns back into a space but formatToParts() keeps; Luxon
 * formats DateTimes in fixed-offset zones (UTC, UTC+3) with the latter, so
 * those texts carry U+202F and all others a space, as in n8n.
 */
#include "expr_date_int.h"

#include "tz.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>

#define NNBSP "\xe2\x80\xaf"

/* ------------------------------------------------------------------------ */
/* Zone names en-US shows                                                   */

static const struct {
    const char *zone, *std, *dst, *std_long, *dst_long;
} zone_names[] = {
    { "America/New_York", "EST", "EDT", "Eastern Standard Time", "Eastern Daylight Time" },
    { "America/Detroit", "EST", "EDT", "Eastern Standard Time", "Eastern Daylight Time" },
    { "America/Toronto", "EST", "EDT", "Eastern Standard Time", "Eastern Daylight Time" },
    { "US/Eastern", "EST", "EDT", "Eastern Standard Time", "Eastern Daylight Time" },
    { "America/Chicago", "CST", "CDT", "Central Standard Time", "Central Daylight Time" },
    { "US/Central", "CST", "CDT", "Central Standard Time", "Central Daylight Time" },
    { "America/Denver", "MST", "MDT", "Mountain Standard Time", "Mountain Daylight Time" },
    { "America/Phoenix", "MST", "MST", "Mountain Standard Time", "Mountain Standard Time" },
    { "US/Mountain", "MST", "MDT", "Mountain Standard Time", "Mountain Daylight Time" },
    { "America/Los_Angeles", "PST", "PDT", "Pacific Standard Time", "Pacific Daylight Time" },
    { "US/Pacific", "PST", "PDT", "Pacific Standard Time", "Pacific Daylight Time" },
    { "America/Anchorage", "AKST", "AKDT", "Alaska Standard Time", "Alaska Daylight Time" },
    { "Pacific/Honolulu", "HST", "HST", "Hawaii-Aleutian Standard Time", "Hawaii-Aleutian Standard Time" },
    { "Europe/London", NULL, NULL, "Greenwich Mean Time", "British Summer Time" },
    { "Europe/Dublin", NULL, NULL, "Greenwich Mean Time", "Irish Standard Time" },
    { "Europe/Lisbon", NULL, NULL, "Western European Standard Time", "Western European Summer Time" },
    { "Europe/Berlin", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Paris", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Madrid", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Rome", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Amsterdam", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Brussels", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Vienna", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Zurich", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Stockholm", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Oslo", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Copenhagen", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Warsaw", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Prague", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Budapest", NULL, NULL, "Central European Standard Time", "Central European Summer Time" },
    { "Europe/Athens", NULL, NULL, "Eastern European Standard Time", "Eastern European Summer Time" },
    { "Europe/Helsinki", NULL, NULL, "Eastern European Standard Time", "Eastern European Summer Time" },
    { "Europe/Bucharest", NULL, NULL, "Eastern European Standard Time", "Eastern European Summer Time" },
    { "Europe/Kyiv", NULL, NULL, "Eastern European Standard Time", "Eastern European Summer Time" },
    { "Asia/Tokyo", NULL, NULL, "Japan Standard Time", "Japan Standard Time" },
    { "Asia/Kolkata", NULL, NULL, "India Standard Time", "India Standard Time" },
    { "Asia/Shanghai", NULL, NULL, "China Standard Time", "China Standard Time" },
    { "Australia/Sydney", NULL, NULL, "Australian Eastern Standard Time", "Australian Eastern Daylight Time" },
};

/* ICU's GMT format; before 1970 (no metazone) even a zero offset has digits. */
static void gmt_name(int32_t off, bool lng, bool zero_plain, char *out, size_t cap)
{
    int32_t a = off < 0 ? -off : off;
    char sign = off < 0 ? '-' : '+';
    if (off == 0 && zero_plain)
        snprintf(out, cap, "GMT");
    else if (lng)
        snprintf(out, cap, "GMT%c%02d:%02d", sign, (int)(a / 3600), (int)(a % 3600 / 60));
    else if (a % 3600)
        snprintf(out, cap, "GMT%c%d:%02d", sign, (int)(a / 3600), (int)(a % 3600 / 60));
    else
        snprintf(out, cap, "GMT%c%d", sign, (int)(a / 3600));
}

void gl__date_zone_abbr(const val_t *d, bool lng, char *out, size_t cap)
{
    int zone = d->zone;
    int64_t ms = d->ms;
    char nb[GL_TZ_NAME_MAX];
    const char *name = gl__date_zone_name(zone, nb);
    int32_t off = gl__date_off(zone, ms);
    bool luxon = !(d->df & DF_JS);
    if (zone == 0) { /* Luxon names its UTC zone "UTC" */
        snprintf(out, cap, "%s", lng && !luxon ? "Coordinated Universal Time" : "UTC");
        return;
    }
    for (size_t i = 0; ms >= 0 && i < GL_NELEM(zone_names); i++) { /* ICU names zones from 1970 */
        if (strcmp(zone_names[i].zone, name) != 0)
            continue;
        /* DST when the offset is above the zone's smaller offset of the year */
        gl_date_t t;
        gl_date_split(ms, &t);
        int64_t y0 = gl_date_days_from_civil(t.year, 1, 1) * GL_DATE_MS_PER_DAY;
        int64_t y6 = gl_date_days_from_civil(t.year, 7, 1) * GL_DATE_MS_PER_DAY;
        int32_t o0 = gl__date_off(zone, y0), o6 = gl__date_off(zone, y6);
        bool dst = off > (o0 < o6 ? o0 : o6);
        const char *s = lng ? (dst ? zone_names[i].dst_long : zone_names[i].std_long)
                            : (dst ? zone_names[i].dst : zone_names[i].std);
        if (s) {
            snprintf(out, cap, "%s", s);
            return;
        }
        break;
    }
    gmt_name(off, lng, ms >= 0, out, cap);
}

/* ------------------------------------------------------------------------ */
/* ISO 8601 out                                                             */

void gl__date_iso(const val_t *d, bool date, bool time, bool offset, bool ms, char *out,
                  size_t cap)
{
    gl_date_t t;
    int32_t off;
    gl__date_local(d, &t, &off);
    size_t n = 0;
    out[0] = 0;
    if (date)
        n += (size_t)snprintf(out + n, cap - n, "%04d-%02d-%02d", (int)t.year, t.month, t.day);
    if (time && n < cap) {
        n += (size_t)snprintf(out + n, cap - n, "%s%02d:%02d:%02d", date ? "T" : "", t.hour,
                              t.minute, t.second);
        if (ms && n < cap)
            n += (size_t)snprintf(out + n, cap - n, ".%03d", t.ms);
        if (offset && n < cap) {
            int32_t a = off < 0 ? -off : off;
            if (gl__date_zone_fixed(d->zone) && off == 0)
                snprintf(out + n, cap - n, "Z");
            else
                snprintf(out + n, cap - n, "%c%02d:%02d", off < 0 ? '-' : '+', (int)(a / 3600),
                         (int)(a % 3600 / 60));
        }
    }
}

/* ------------------------------------------------------------------------ */
/* en-US Intl.DateTimeFormat                                                */

typedef struct {
    int year, month, day, weekday, hour, minute, second, tzname; /* 0: absent */
    bool h12;
} lopt_t;

enum { L_NUM = 1, L_2DIGIT, L_SHORT, L_LONG, L_NARROW };

static int lopt_word(json_object *o, const char *key)
{
    json_object *x;
    if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_string))
        return 0;
    const char *s = json_object_get_string(x);
    static const char *const words[] = { "numeric", "2-digit", "short", "long", "narrow" };
    for (int i = 0; i < 5; i++)
        if (strcmp(s, words[i]) == 0)
            return i + 1;
    return 0;
}

static int app_num(ev_t *ev, gl_buf_t *b, int64_t v, int width)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%0*" PRId64, width, v);
    return gl__expr_apps(ev, b, tmp);
}

static int locale_fmt(ev_t *ev, const val_t *d, const lopt_t *o, gl_buf_t *b)
{
    gl_date_t t;
    gl__date_local(d, &t, NULL);
    bool date = o->year || o->month || o->day || o->weekday;
    bool time = o->hour || o->minute || o->second;
    bool text_month = o->month >= L_SHORT;
    if (o->weekday) {
        const char *w = gl__date_days[t.weekday - 1];
        TRY(gl__expr_app(ev, b, w, o->weekday == L_LONG ? strlen(w) : o->weekday == L_NARROW ? 1 : 3));
        if (o->year || o->month || o->day)
            TRY(gl__expr_apps(ev, b, ", "));
    }
    if (text_month) {
        const char *m = gl__date_months[t.month - 1];
        TRY(gl__expr_app(ev, b, m, o->month == L_LONG ? strlen(m) : o->month == L_NARROW ? 1 : 3));
        if (o->day) {
            TRY(gl__expr_apps(ev, b, " "));
            TRY(app_num(ev, b, t.day, o->day == L_2DIGIT ? 2 : 1));
        }
        if (o->year) {
            TRY(gl__expr_apps(ev, b, o->day ? ", " : " "));
            TRY(app_num(ev, b, o->year == L_2DIGIT ? t.year % 100 : t.year, o->year == L_2DIGIT ? 2 : 1));
        }
    } else if (o->month || o->day || o->year) {
        bool first = true;
        if (o->month) {
            TRY(app_num(ev, b, t.month, o->month == L_2DIGIT ? 2 : 1));
            first = false;
        }
        if (o->day) {
            if (!first)
                TRY(gl__expr_apps(ev, b, "/"));
            TRY(app_num(ev, b, t.day, o->day == L_2DIGIT ? 2 : 1));
            first = false;
        }
        if (o->year) {
            if (!first)
                TRY(gl__expr_apps(ev, b, "/"));
            TRY(app_num(ev, b, o->year == L_2DIGIT ? t.year % 100 : t.year, o->year == L_2DIGIT ? 2 : 1));
        }
    }
    if (!time)
        return GL_OK;
    if (date)
        TRY(gl__expr_apps(ev, b, o->month == L_LONG ? " at " : ", "));
    if (o->hour) {
        int h = o->h12 ? (t.hour % 12 ? t.hour % 12 : 12) : t.hour;
        TRY(app_num(ev, b, h, o->hour == L_2DIGIT || !o->h12 ? 2 : 1));
    }
    if (o->minute) {
        if (o->hour)
            TRY(gl__expr_apps(ev, b, ":"));
        TRY(app_num(ev, b, t.minute, o->hour ? 2 : (o->minute == L_2DIGIT ? 2 : 1)));
    }
    if (o->second) {
        if (o->hour || o->minute)
            TRY(gl__expr_apps(ev, b, ":"));
        TRY(app_num(ev, b, t.second, o->hour || o->minute ? 2 : (o->second == L_2DIGIT ? 2 : 1)));
    }
    /* Node 20: Intl's format() writes a space before AM/PM, formatToParts()
     * a U+202F, which is what Luxon uses for fixed-offset zones (UTC) */
    bool nnbsp = !(d->df & DF_JS) && gl__date_zone_fixed(d->zone);
    if (o->hour && o->h12)
        TRY(gl__expr_apps(ev, b, t.hour < 12 ? (nnbsp ? NNBSP "AM" : " AM") : (nnbsp ? NNBSP "PM" : " PM")));
    if (o->tzname) {
        char z[64];
        gl__date_zone_abbr(d, o->tzname == L_LONG, z, sizeof z);
        TRY(gl__expr_apps(ev, b, " "));
        TRY(gl__expr_apps(ev, b, z));
    }
    return GL_OK;
}

int gl__date_locale(ev_t *ev, const val_t *d, json_object *opts, bool def_date, bool def_time,
                    gl_buf_t *b)
{
    lopt_t o = { 0 };
    o.h12 = true;
    val_t v = *d;
    if (opts) {
        o.year = lopt_word(opts, "year");
        o.month = lopt_word(opts, "month");
        o.day = lopt_word(opts, "day");
        o.weekday = lopt_word(opts, "weekday");
        o.hour = lopt_word(opts, "hour");
        o.minute = lopt_word(opts, "minute");
        o.second = lopt_word(opts, "second");
        o.tzname = lopt_word(opts, "timeZoneName");
        json_object *x;
        if (json_object_object_get_ex(opts, "hour12", &x))
            o.h12 = json_object_get_boolean(x);
        if (json_object_object_get_ex(opts, "hourCycle", &x) &&
            json_object_is_type(x, json_type_string))
            o.h12 = strncmp(json_object_get_string(x), "h1", 2) == 0;
        if (json_object_object_get_ex(opts, "dateStyle", &x) && json_object_is_type(x, json_type_string)) {
            const char *s = json_object_get_string(x);
            o.year = L_NUM;
            o.day = L_NUM;
            o.month = strcmp(s, "short") == 0 ? L_NUM : strcmp(s, "medium") == 0 ? L_SHORT : L_LONG;
            if (strcmp(s, "full") == 0)
                o.weekday = L_LONG;
            if (strcmp(s, "short") == 0)
                o.year = L_2DIGIT;
        }
        if (json_object_object_get_ex(opts, "timeStyle", &x) && json_object_is_type(x, json_type_string)) {
            const char *s = json_object_get_string(x);
            o.hour = o.minute = L_NUM;
            if (strcmp(s, "short") != 0)
                o.second = L_NUM;
            if (strcmp(s, "long") == 0)
                o.tzname = L_SHORT;
            if (strcmp(s, "full") == 0)
                o.tzname = L_LONG;
        }
        if (json_object_object_get_ex(opts, "timeZone", &x) && x) {
            int zone;
            TRY(gl__expr_charge(ev, 16));
            if (!json_object_is_type(x, json_type_string) ||
                !gl__date_zone_find(ev, json_object_get_string(x),
                                    (size_t)json_object_get_string_len(x), &zone))
                return gl__expr_fail(ev, "Invalid time zone specified: %.60s",
                                     json_object_get_string(x));
            v.zone = (int16_t)zone;
        }
    }
    if (!o.year && !o.month && !o.day && !o.weekday && !o.hour && !o.minute && !o.second) {
        if (def_date)
            o.year = o.month = o.day = L_NUM;
        if (def_time)
            o.hour = o.minute = o.second = L_NUM;
    }
    TRY(gl__expr_charge(ev, 4));
    return locale_fmt(ev, &v, &o, b);
}

/* ------------------------------------------------------------------------ */
/* Luxon toFormat                                                           */

static int macro(ev_t *ev, const val_t *d, char c, int count, gl_buf_t *b, bool *done)
{
    lopt_t o = { 0 };
    o.h12 = true;
    *done = true;
    if (count > 4)
        count = 4;
    bool dt = c == 'f' || c == 'F';
    if (c == 'D' || dt) {
        o.year = L_NUM;
        o.day = L_NUM;
        o.month = count == 1 ? L_NUM : count == 2 ? L_SHORT : L_LONG;
        if (count == 4)
            o.weekday = L_LONG;
    }
    if (c == 't' || c == 'T' || dt) {
        o.hour = o.minute = L_NUM;
        if (c == 'T')
            o.h12 = false;
        if (((c == 't' || c == 'T') && count >= 2) || c == 'F')
            o.second = L_NUM;
        if ((c == 't' || c == 'T') && count >= 3)
            o.tzname = count == 3 ? L_SHORT : L_LONG;
        if (dt && count >= 3)
            o.tzname = count == 3 ? L_SHORT : L_LONG;
    }
    if (!o.year && !o.hour) {
        *done = false;
        return GL_OK;
    }
    return locale_fmt(ev, d, &o, b);
}

static int fmt_offset(ev_t *ev, gl_buf_t *b, int32_t off, int style)
{
    char tmp[16];
    int32_t a = off < 0 ? -off : off;
    char sign = off < 0 ? '-' : '+';
    if (style == 1) {
        if (a % 3600)
            snprintf(tmp, sizeof tmp, "%c%d:%02d", sign, (int)(a / 3600), (int)(a % 3600 / 60));
        else
            snprintf(tmp, sizeof tmp, "%c%d", sign, (int)(a / 3600));
    } else if (style == 2) {
        snprintf(tmp, sizeof tmp, "%c%02d:%02d", sign, (int)(a / 3600), (int)(a % 3600 / 60));
    } else {
        snprintf(tmp, sizeof tmp, "%c%02d%02d", sign, (int)(a / 3600), (int)(a % 3600 / 60));
    }
    return gl__expr_apps(ev, b, tmp);
}

/* One run of `count` copies of the token letter c. */
static int fmt_token(ev_t *ev, gl_buf_t *b, const val_t *d, const gl_date_t *t, int32_t off,
                     char c, int count)
{
    const char *mn = gl__date_months[t->month - 1], *wd = gl__date_days[t->weekday - 1];
    bool done;
    switch (c) {
    case 'y':
        if (count == 2)
            return app_num(ev, b, t->year % 100, 2);
        return app_num(ev, b, t->year, count == 1 ? 1 : count > 6 ? 6 : count);
    case 'M':
    case 'L':
        if (count <= 2)
            return app_num(ev, b, t->month, count);
        if (count == 3)
            return gl__expr_app(ev, b, mn, 3);
        if (count == 4)
            return gl__expr_apps(ev, b, mn);
        if (count == 5)
            return gl__expr_app(ev, b, mn, 1);
        break;
    case 'd': if (count <= 2) return app_num(ev, b, t->day, count); break;
    case 'H': if (count <= 2) return app_num(ev, b, t->hour, count); break;
    case 'h': if (count <= 2) return app_num(ev, b, t->hour % 12 ? t->hour % 12 : 12, count); break;
    case 'm': if (count <= 2) return app_num(ev, b, t->minute, count); break;
    case 's': if (count <= 2) return app_num(ev, b, t->second, count); break;
    case 'S':
        if (count == 1 || count == 3)
            return app_num(ev, b, t->ms, count);
        break;
    case 'u': /* fractional seconds: 3, 2 or 1 digits */
        if (count == 1)
            return app_num(ev, b, t->ms, 3);
        if (count == 2)
            return app_num(ev, b, t->ms / 10, 2);
        if (count == 3)
            return app_num(ev, b, t->ms / 100, 1);
        break;
    case 'a': if (count == 1) return gl__expr_apps(ev, b, t->hour < 12 ? "AM" : "PM"); break;
    case 'E':
    case 'c':
        if (count == 1)
            return app_num(ev, b, t->weekday, 1);
        if (count == 3)
            return gl__expr_app(ev, b, wd, 3);
        if (count == 4)
            return gl__expr_apps(ev, b, wd);
        if (count == 5)
            return gl__expr_app(ev, b, wd, 1);
        break;
    case 'q': if (count <= 2) return app_num(ev, b, (t->month - 1) / 3 + 1, count); break;
    case 'o':
        if (count == 1 || count == 3)
            return app_num(ev, b, gl_date_days_from_civil(t->year, t->month, t->day) -
                                      gl_date_days_from_civil(t->year, 1, 1) + 1, count);
        break;
    case 'W':
    case 'k': {
        val_t wn;
        TRY(gl__expr_date_field(ev, d, c == 'W' ? "weekNumber" : "weekYear",
                                c == 'W' ? 10 : 8, &wn));
        if (c == 'W' && count <= 2)
            return app_num(ev, b, (int64_t)wn.n, count);
        if (c == 'k' && (count == 2 || count == 4))
            return app_num(ev, b, count == 2 ? (int64_t)wn.n % 100 : (int64_t)wn.n, count);
        break;
    }
    case 'G':
        if (count <= 5)
            return gl__expr_apps(ev, b, count == 1 ? "AD" : count == 2 ? "Anno Domini" : "A");
        break;
    case 'x': if (count == 1) return app_num(ev, b, d->ms, 1); break;
    case 'X': if (count == 1) return app_num(ev, b, gl_date_floor_div(d->ms, 1000), 1); break;
    case 'Z':
        if (count <= 3)
            return fmt_offset(ev, b, off, count);
        if (count <= 5) {
            char z[64];
            if (gl__date_zone_fixed(d->zone)) /* Luxon: a fixed zone's name */
                return gl__expr_apps(ev, b, gl__date_zone_name(d->zone, z));
            gl__date_zone_abbr(d, count == 5, z, sizeof z);
            return gl__expr_apps(ev, b, z);
        }
        break;
    case 'z':
        if (count == 1) {
            char z[GL_TZ_NAME_MAX];
            return gl__expr_apps(ev, b, gl__date_zone_name(d->zone, z));
        }
        break;
    case 'D':
    case 't':
    case 'T':
    case 'f':
    case 'F':
        TRY(macro(ev, d, c, count, b, &done));
        if (done)
            return GL_OK;
        break;
    default: break;
    }
    for (int i = 0; i < count; i++) /* not a token: the letters stand for themselves */
        TRY(gl__expr_app(ev, b, &c, 1));
    return GL_OK;
}

int gl__date_format(ev_t *ev, const val_t *d, const char *f, size_t n, gl_buf_t *b)
{
    gl_date_t t;
    int32_t off;
    gl__date_local(d, &t, &off);
    TRY(gl__expr_charge(ev, 1 + n / 8));
    for (size_t i = 0; i < n;) {
        char c = f[i];
        if (c == '\'') { /* 'quoted literal' */
            const char *close = memchr(f + i + 1, '\'', n - i - 1);
            size_t end = close ? (size_t)(close - f) : n;
            TRY(gl__expr_app(ev, b, f + i + 1, end - i - 1));
            i = close ? end + 1 : n;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            size_t j = i;
            while (j < n && f[j] == c && j - i < 16)
                j++;
            TRY(fmt_token(ev, b, d, &t, off, c, (int)(j - i)));
            i = j;
        } else {
            TRY(gl__expr_app(ev, b, &c, 1));
            i++;
        }
    }
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading: small scanners                                                  */

typedef struct {
    const char *s;
    size_t n, i;
} in_t;

static bool at(const in_t *in, char c)
{
    return in->i < in->n && in->s[in->i] == c;
}

static bool digit_at(const in_t *in)
{
    return in->i < in->n && is_digit(in->s[in->i]);
}

/* Between min and max digits (greedy up to max). */
static bool digits(in_t *in, int min, int max, int64_t *v)
{
    int nd = 0;
    int64_t x = 0;
    while (nd < max && digit_at(in)) {
        x = x * 10 + (in->s[in->i++] - '0');
        nd++;
    }
    *v = x;
    return nd >= min;
}

static bool fixed2(in_t *in, int *v)
{
    int64_t x;
    size_t save = in->i;
    if (!digits(in, 2, 2, &x)) {
        in->i = save;
        return false;
    }
    *v = (int)x;
    return true;
}

/* A fraction after '.' or ',': milliseconds (truncated, as Luxon). */
static bool fraction(in_t *in, int *ms)
{
    int nd = 0, v = 0;
    while (digit_at(in)) {
        if (nd < 3)
            v = v * 10 + (in->s[in->i] - '0');
        nd++;
        in->i++;
    }
    if (!nd)
        return false;
    for (int k = nd; k < 3; k++)
        v *= 10;
    *ms = v;
    return true;
}

/* Z, ±hh, ±hh:mm, ±hhmm */
static bool offset(in_t *in, int32_t *off)
{
    if (at(in, 'Z') || at(in, 'z')) {
        in->i++;
        *off = 0;
        return true;
    }
    if (!at(in, '+') && !at(in, '-'))
        return false;
    int sign = in->s[in->i++] == '-' ? -1 : 1;
    int h, m = 0;
    if (!fixed2(in, &h))
        return false;
    if (at(in, ':')) {
        in->i++;
        if (!fixed2(in, &m))
            return false;
    } else if (digit_at(in) && !fixed2(in, &m)) {
        return false;
    }
    if (h > 23 || m > 59)
        return false;
    *off = sign * (h * 3600 + m * 60);
    return true;
}

/* hh[:mm[:ss[.f]]] or hhmm[ss[.f]] */
static bool iso_time(in_t *in, gl_date_t *t)
{
    int h, m = 0, s = 0, ms = 0;
    if (!fixed2(in, &h))
        return false;
    bool ext = at(in, ':');
    if (ext || digit_at(in)) {
        if (ext)
            in->i++;
        if (!fixed2(in, &m))
            return false;
        if (ext ? at(in, ':') : digit_at(in)) {
            if (ext)
                in->i++;
            if (!fixed2(in, &s))
                return false;
            if (at(in, '.') || at(in, ',')) {
                in->i++;
                if (!fraction(in, &ms))
                    return false;
            }
        }
    }
    if (h > 23 || m > 59 || s > 59)
        return false;
    t->hour = h;
    t->minute = m;
    t->second = s;
    t->ms = ms;
    return true;
}

static bool valid_day(int64_t y, int m, int d)
{
    return m >= 1 && m <= 12 && d >= 1 && d <= gl_date_days_in_month(y, m);
}

/* The Monday of ISO week 1 of year y, as days since the epoch. */
static int64_t week1_monday(int64_t y)
{
    int64_t jan4 = gl_date_days_from_civil(y, 1, 4);
    return jan4 - (gl_date_weekday(jan4) - 1);
}

static bool iso_date(in_t *in, gl_date_t *t)
{
    int64_t y, v;
    if (!digits(in, 4, 4, &y))
        return false;
    t->year = y;
    t->month = t->day = 1;
    bool ext = at(in, '-');
    if (ext)
        in->i++;
    if (at(in, 'W')) { /* week date */
        in->i++;
        int w, wd = 1;
        if (!fixed2(in, &w))
            return false;
        if (ext ? at(in, '-') : digit_at(in)) {
            if (ext)
                in->i++;
            int64_t x;
            if (!digits(in, 1, 1, &x) || x < 1 || x > 7)
                return false;
            wd = (int)x;
        }
        if (w < 1 || w > 53)
            return false;
        int64_t days = week1_monday(y) + (w - 1) * 7 + wd - 1;
        gl_date_civil_from_days(days, &t->year, &t->month, &t->day);
        return true;
    }
    if (!ext && !digit_at(in))
        return true; /* YYYY */
    size_t k = in->i;
    while (k < in->n && is_digit(in->s[k]))
        k++;
    size_t nd = k - in->i;
    if (ext ? (nd != 2 && nd != 3) : (nd != 3 && nd != 4))
        return false;
    if (!digits(in, nd == 3 ? 3 : 2, nd == 3 ? 3 : 2, &v))
        return false;
    if (nd == 3) { /* ordinal */
        if (v < 1 || v > (gl_date_is_leap(y) ? 366 : 365) || digit_at(in))
            return false;
        gl_date_civil_from_days(gl_date_days_from_civil(y, 1, 1) + v - 1, &t->year, &t->month,
                                &t->day);
        return true;
    }
    t->month = (int)v;
    if (ext ? at(in, '-') : digit_at(in)) {
        if (ext)
            in->i++;
        int d;
        if (!fixed2(in, &d))
            return false;
        t->day = d;
    } else if (!ext) {
        return false; /* YYYYMM is not ISO */
    }
    return valid_day(t->year, t->month, t->day);
}

bool gl__date_parse_iso(const char *s, size_t n, bool sql, gl_date_t *t, bool *has_off,
                        int32_t *off, bool *time_only)
{
    in_t in = { s, n, 0 };
    memset(t, 0, sizeof *t);
    t->month = t->day = 1;
    *has_off = false;
    *off = 0;
    *time_only = false;
    bool date = false;
    size_t save = in.i;
    if (iso_date(&in, t) && (in.i == n || at(&in, 'T') || (sql && at(&in, ' ')))) {
        date = true;
    } else {
        in.i = save;
        memset(t, 0, sizeof *t);
        t->month = t->day = 1;
    }
    bool time = false;
    if (date && in.i < n) {
        in.i++;
        if (!iso_time(&in, t))
            return false;
        time = true;
    } else if (!date) {
        if (!sql && at(&in, 'T'))
            in.i++;
        if (!iso_time(&in, t))
            return false;
        time = true;
        *time_only = true;
    }
    if (time && in.i < n) {
        if (sql && at(&in, ' '))
            in.i++;
        if (!offset(&in, off))
            return false;
        *has_off = true;
    }
    return in.i == n;
}

/* ------------------------------------------------------------------------ */
/* RFC 2822 and HTTP dates                                                  */

static int month_word(const char *s, size_t n, bool full_ok)
{
    for (int m = 0; m < 12; m++) {
        size_t ln = strlen(gl__date_months[m]);
        if ((n == 3 || (full_ok && n == ln)) && strncasecmp(s, gl__date_months[m], n) == 0)
            return m + 1;
        if (full_ok && m == 8 && n == 4 && strncasecmp(s, "Sept", 4) == 0)
            return 9;
    }
    return 0;
}

static int weekday_word(const char *s, size_t n)
{
    for (int d = 0; d < 7; d++) {
        size_t ln = strlen(gl__date_days[d]);
        if ((n == 3 || n == ln) && strncasecmp(s, gl__date_days[d], n) == 0)
            return d + 1;
    }
    return 0;
}

static size_t word_len(const in_t *in)
{
    size_t k = in->i;
    while (k < in->n && ((in->s[k] >= 'a' && in->s[k] <= 'z') || (in->s[k] >= 'A' && in->s[k] <= 'Z')))
        k++;
    return k - in->i;
}

static void spaces(in_t *in)
{
    while (at(in, ' '))
        in->i++;
}

static int64_t two_digit_year(int64_t y, int nd)
{
    if (nd > 2)
        return y;
    return y > 60 ? 1900 + y : 2000 + y;
}

static bool zone_word(const char *s, size_t n, int32_t *off)
{
    static const struct {
        const char *name;
        int h;
    } z[] = { { "GMT", 0 }, { "UT", 0 }, { "UTC", 0 }, { "Z", 0 }, { "EST", -5 }, { "EDT", -4 },
              { "CST", -6 }, { "CDT", -5 }, { "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 } };
    for (size_t i = 0; i < GL_NELEM(z); i++)
        if (strlen(z[i].name) == n && strncasecmp(s, z[i].name, n) == 0) {
            *off = z[i].h * 3600;
            return true;
        }
    return false;
}

static bool hms(in_t *in, gl_date_t *t, bool secs_required)
{
    int h, m, s = 0;
    if (!fixed2(in, &h) || !at(in, ':'))
        return false;
    in->i++;
    if (!fixed2(in, &m))
        return false;
    if (at(in, ':')) {
        in->i++;
        if (!fixed2(in, &s))
            return false;
    } else if (secs_required) {
        return false;
    }
    if (h > 23 || m > 59 || s > 59)
        return false;
    t->hour = h;
    t->minute = m;
    t->second = s;
    return true;
}

bool gl__date_parse_rfc(const char *s, size_t n, bool http, int64_t *ms, int32_t *off)
{
    in_t in = { s, n, 0 };
    gl_date_t t = { 0 };
    *off = 0;
    size_t wl = word_len(&in);
    if (wl) {
        if (!weekday_word(in.s + in.i, wl))
            return false;
        bool long_wd = wl > 3;
        in.i += wl;
        if (http && !at(&in, ',')) { /* asctime: Sun Nov  6 08:49:37 1994 */
            spaces(&in);
            int m = month_word(in.s + in.i, word_len(&in), false);
            if (!m)
                return false;
            in.i += 3;
            spaces(&in);
            int64_t d, y;
            if (!digits(&in, 1, 2, &d))
                return false;
            spaces(&in);
            if (!hms(&in, &t, true))
                return false;
            spaces(&in);
            if (!digits(&in, 4, 4, &y) || in.i != n)
                return false;
            t.year = y;
            t.month = m;
            t.day = (int)d;
            goto done;
        }
        if (!at(&in, ','))
            return false;
        in.i++;
        spaces(&in);
        if (http && long_wd) { /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
            int d, yy;
            if (!fixed2(&in, &d) || !at(&in, '-'))
                return false;
            in.i++;
            int m = month_word(in.s + in.i, word_len(&in), false);
            if (!m)
                return false;
            in.i += 3;
            if (!at(&in, '-'))
                return false;
            in.i++;
            if (!fixed2(&in, &yy))
                return false;
            spaces(&in);
            if (!hms(&in, &t, true))
                return false;
            spaces(&in);
            if (word_len(&in) != 3 || strncmp(in.s + in.i, "GMT", 3) != 0 || in.i + 3 != n)
                return false;
            t.year = two_digit_year(yy, 2);
            t.month = m;
            t.day = d;
            goto done;
        }
    }
    int64_t d, y;
    if (!digits(&in, http ? 2 : 1, 2, &d))
        return false;
    spaces(&in);
    int m = month_word(in.s + in.i, word_len(&in), false);
    if (!m)
        return false;
    in.i += 3;
    spaces(&in);
    size_t ys = in.i;
    if (!digits(&in, 2, 4, &y))
        return false;
    if (http && in.i - ys != 4)
        return false;
    spaces(&in);
    if (!hms(&in, &t, http))
        return false;
    spaces(&in);
    t.year = two_digit_year(y, (int)(in.i - ys));
    t.month = m;
    t.day = (int)d;
    if (http) {
        if (word_len(&in) != 3 || strncmp(in.s + in.i, "GMT", 3) != 0 || in.i + 3 != n)
            return false;
    } else {
        size_t zl = word_len(&in);
        if (zl) {
            if (!zone_word(in.s + in.i, zl, off))
                return false;
            in.i += zl;
        } else if (!offset(&in, off)) {
            return false;
        }
        if (in.i != n)
            return false;
    }
done:
    if (!valid_day(t.year, t.month, t.day))
        return false;
    *ms = gl_date_join(&t) - (int64_t)*off * 1000;
    return *ms >= GL_DATE_MS_MIN && *ms < GL_DATE_MS_END;
}

/* ------------------------------------------------------------------------ */
/* Luxon fromFormat                                                         */

static bool name_match(in_t *in, const char *const *names, int count, bool abbr, int *idx)
{
    for (int i = 0; i < count; i++) {
        size_t ln = abbr ? 3 : strlen(names[i]);
        if (in->n - in->i >= ln && strncasecmp(in->s + in->i, names[i], ln) == 0) {
            in->i += ln;
            *idx = i + 1;
            return true;
        }
    }
    return false;
}

bool gl__date_parse_format(ev_t *ev, const char *s, size_t n, const char *f, size_t fn,
                           parsed_t *p)
{
    in_t in = { s, n, 0 };
    memset(p, 0, sizeof *p);
    p->t.month = p->t.day = 1;
    for (size_t i = 0; i < fn;) {
        char c = f[i];
        if (c == '\'') {
            const char *close = memchr(f + i + 1, '\'', fn - i - 1);
            size_t end = close ? (size_t)(close - f) : fn;
            size_t len = end - i - 1;
            if (n - in.i < len || strncasecmp(s + in.i, f + i + 1, len) != 0)
                return false;
            in.i += len;
            i = close ? end + 1 : fn;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            if (!at(&in, c))
                return false;
            in.i++;
            i++;
            continue;
        }
        size_t j = i;
        while (j < fn && f[j] == c)
            j++;
        int count = (int)(j - i);
        i = j;
        int64_t v;
        int idx;
        size_t st = in.i;
        switch (c) {
        case 'y':
            if (count == 2) {
                if (!digits(&in, 2, 2, &v))
                    return false;
                v = two_digit_year(v, 2);
            } else if (!digits(&in, count == 1 ? 1 : count, count <= 4 ? (count == 1 ? 6 : 4) : 6, &v)) {
                return false;
            }
            p->t.year = v;
            p->has[0] = true;
            break;
        case 'M':
        case 'L':
            if (count <= 2) {
                if (!digits(&in, count, 2, &v))
                    return false;
                p->t.month = (int)v;
            } else {
                if (!name_match(&in, gl__date_months, 12, count == 3, &idx))
                    return false;
                p->t.month = idx;
            }
            p->has[1] = true;
            break;
        case 'd':
            if (count > 2 || !digits(&in, count, 2, &v))
                return false;
            p->t.day = (int)v;
            p->has[2] = true;
            break;
        case 'H':
        case 'h':
            if (count > 2 || !digits(&in, count, 2, &v))
                return false;
            p->t.hour = (int)v;
            p->has[3] = true;
            if (c == 'h' && !p->pm_set) {
                p->pm_set = true;
                p->pm = false;
            }
            break;
        case 'm':
            if (count > 2 || !digits(&in, count, 2, &v))
                return false;
            p->t.minute = (int)v;
            p->has[4] = true;
            break;
        case 's':
            if (count > 2 || !digits(&in, count, 2, &v))
                return false;
            p->t.second = (int)v;
            p->has[5] = true;
            break;
        case 'S':
            if (count == 3) {
                if (!digits(&in, 3, 3, &v))
                    return false;
            } else if (count == 1) {
                if (!digits(&in, 1, 3, &v))
                    return false;
            } else {
                return false;
            }
            p->t.ms = (int)v;
            p->has[6] = true;
            break;
        case 'u': {
            int ms;
            if (!fraction(&in, &ms))
                return false;
            p->t.ms = ms;
            p->has[6] = true;
            break;
        }
        case 'a':
            if (n - in.i >= 2 && strncasecmp(s + in.i, "AM", 2) == 0)
                p->pm = false;
            else if (n - in.i >= 2 && strncasecmp(s + in.i, "PM", 2) == 0)
                p->pm = true;
            else
                return false;
            p->pm_set = true;
            in.i += 2;
            break;
        case 'E':
        case 'c':
            if (count == 1) {
                if (!digits(&in, 1, 1, &v) || v < 1 || v > 7)
                    return false;
                idx = (int)v;
            } else if (!name_match(&in, gl__date_days, 7, count == 3, &idx)) {
                return false;
            }
            p->weekday = idx;
            break;
        case 'o':
            if (!digits(&in, count == 3 ? 3 : 1, 3, &v) || v < 1 || v > 366)
                return false;
            p->ordinal = (int)v;
            break;
        case 'q':
            if (!digits(&in, count, count == 2 ? 2 : 1, &v) || v < 1 || v > 4)
                return false;
            p->t.month = (int)(v - 1) * 3 + 1;
            p->has[1] = true;
            break;
        case 'Z': {
            int32_t off;
            if (!offset(&in, &off)) {
                in.i = st;
                size_t wl = word_len(&in);
                if (!wl || !zone_word(s + in.i, wl, &off))
                    return false;
                in.i += wl;
            }
            p->off = off;
            p->has_off = true;
            break;
        }
        case 'z': {
            size_t k = in.i;
            while (k < n && (s[k] == '/' || s[k] == '_' || s[k] == '-' || s[k] == '+' ||
                             is_digit(s[k]) || (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')))
                k++;
            int zone;
            if (k == in.i || gl__expr_charge(ev, 16) != GL_OK)
                return false;
            if (!gl__date_zone_find(ev, s + in.i, k - in.i, &zone))
                return false;
            in.i = k;
            p->zone = zone;
            p->has_zone = true;
            break;
        }
        case 'x':
        case 'X': {
            bool neg = at(&in, '-');
            if (neg)
                in.i++;
            if (!digits(&in, 1, 15, &v))
                return false;
            double x = (double)v;
            if (c == 'X' && at(&in, '.')) {
                in.i++;
                int ms;
                if (!fraction(&in, &ms))
                    return false;
                x += ms / 1000.0;
            }
            x = (neg ? -x : x) * (c == 'X' ? 1000 : 1);
            if (!(x >= (double)GL_DATE_MS_MIN && x < (double)GL_DATE_MS_END))
                return false;
            p->epoch_ms = (int64_t)x;
            p->has_epoch = true;
            break;
        }
        default: /* not a token: the letters must be there */
            for (int k = 0; k < count; k++) {
                if (!at(&in, c))
                    return false;
                in.i++;
            }
            break;
        }
    }
    if (in.i != n)
        return false;
    if (p->weekday && p->has[0] && p->has[1] && p->has[2] && valid_day(p->t.year, p->t.month, p->t.day) &&
        gl_date_weekday(gl_date_days_from_civil(p->t.year, p->t.month, p->t.day)) != p->weekday)
        return false; /* Luxon: mismatched weekday */
    if (p->ordinal && !p->has[1] && !p->has[2] && p->has[0]) {
        int64_t y;
        int mo, d;
        gl_date_civil_from_days(gl_date_days_from_civil(p->t.year, 1, 1) + p->ordinal - 1, &y, &mo, &d);
        if (y != p->t.year)
            return false;
        p->t.month = mo;
        p->t.day = d;
        p->has[1] = p->has[2] = true;
        p->ordinal = 0;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* JavaScript Date.parse                                                    */

/* ES's date-time string format: date-only forms are UTC, date-times
 * without an offset are local (the workflow's zone). */
static bool js_iso(ev_t *ev, const char *s, size_t n, double *out)
{
    in_t in = { s, n, 0 };
    gl_date_t t = { 0 };
    t.month = t.day = 1;
    int64_t y;
    bool neg = false;
    if (at(&in, '+') || at(&in, '-')) {
        neg = s[in.i] == '-';
        in.i++;
        if (!digits(&in, 6, 6, &y))
            return false;
    } else if (!digits(&in, 4, 4, &y)) {
        return false;
    }
    t.year = neg ? -y : y;
    if (at(&in, '-')) {
        in.i++;
        if (!fixed2(&in, &t.month))
            return false;
        if (at(&in, '-')) {
            in.i++;
            if (!fixed2(&in, &t.day))
                return false;
        }
    }
    if (!valid_day(t.year, t.month, t.day))
        return false;
    bool has_time = false, has_off = false;
    int32_t off = 0;
    if (at(&in, 'T') || at(&in, 't') || at(&in, ' ')) {
        in.i++;
        int h, m;
        if (!fixed2(&in, &h) || !at(&in, ':'))
            return false;
        in.i++;
        if (!fixed2(&in, &m))
            return false;
        t.hour = h;
        t.minute = m;
        if (at(&in, ':')) {
            in.i++;
            if (!fixed2(&in, &t.second))
                return false;
            if (at(&in, '.')) {
                in.i++;
                if (!fraction(&in, &t.ms))
                    return false;
            }
        }
        if (h > 24 || m > 59 || t.second > 59 || (h == 24 && (m || t.second || t.ms)))
            return false;
        has_time = true;
        if (in.i < n) {
            if (!offset(&in, &off))
                return false;
            has_off = true;
        }
    }
    if (in.i != n)
        return false;
    int64_t local = gl_date_join(&t);
    if (!has_time || has_off) {
        *out = (double)(local - (int64_t)off * 1000);
        return true;
    }
    *out = (double)gl__date_js_local(gl__date_local_zone(ev), local);
    return true;
}

/* V8's fallback for other texts: "Nov 25, 2026 10:00", "2026/11/25",
 * "11/25/2026", "Wed Nov 25 2026 19:33:53 GMT+0100 (…)": local unless a
 * zone is given. */
static bool js_legacy(ev_t *ev, const char *s, size_t n, double *out)
{
    in_t in = { s, n, 0 };
    int64_t nums[3];
    int nn = 0, month = 0, pm = -1;
    gl_date_t t = { 0 };
    bool has_time = false, has_off = false;
    int32_t off = 0;
    while (in.i < n) {
        char c = s[in.i];
        if (c == '(') { /* comment: (Central European Standard Time) */
            const char *close = memchr(s + in.i, ')', n - in.i);
            if (!close)
                return false;
            in.i = (size_t)(close - s) + 1;
            continue;
        }
        if (c == ' ' || c == ',' || c == '\t') {
            in.i++;
            continue;
        }
        size_t wl = word_len(&in);
        if (wl) {
            int m;
            if ((m = month_word(s + in.i, wl, true)) != 0 && !month) {
                month = m;
            } else if (weekday_word(s + in.i, wl)) {
                /* ignored */
            } else if (wl == 2 && (strncasecmp(s + in.i, "AM", 2) == 0 || strncasecmp(s + in.i, "PM", 2) == 0)) {
                pm = strncasecmp(s + in.i, "PM", 2) == 0;
            } else if (zone_word(s + in.i, wl, &off)) {
                has_off = true;
                in.i += wl;
                if (at(&in, '+') || at(&in, '-')) {
                    int sign = s[in.i++] == '-' ? -1 : 1;
                    int64_t hm;
                    size_t st = in.i;
                    if (!digits(&in, 1, 4, &hm))
                        return false;
                    if (in.i - st <= 2)
                        hm *= 100;
                    if (at(&in, ':')) {
                        int mm;
                        in.i++;
                        if (!fixed2(&in, &mm))
                            return false;
                        hm += mm;
                    }
                    off = sign * (int32_t)((hm / 100) * 3600 + (hm % 100) * 60);
                }
                continue;
            } else {
                return false;
            }
            in.i += wl;
            continue;
        }
        if ((c == '+' || c == '-') && has_time && !has_off) {
            if (!offset(&in, &off))
                return false;
            has_off = true;
            continue;
        }
        if (!is_digit(c))
            return false;
        size_t st = in.i;
        int64_t v;
        if (!digits(&in, 1, 6, &v))
            return false;
        if (at(&in, ':')) { /* a time */
            in.i = st;
            int64_t h, m, sec = 0;
            if (!digits(&in, 1, 2, &h) || !at(&in, ':'))
                return false;
            in.i++;
            if (!digits(&in, 2, 2, &m))
                return false;
            if (at(&in, ':')) {
                in.i++;
                if (!digits(&in, 2, 2, &sec))
                    return false;
                if (at(&in, '.')) {
                    in.i++;
                    if (!fraction(&in, &t.ms))
                        return false;
                }
            }
            t.hour = (int)h;
            t.minute = (int)m;
            t.second = (int)sec;
            has_time = true;
            continue;
        }
        if (at(&in, '/') || (at(&in, '-') && nn == 0 && !month)) { /* a/b/c */
            char sep = s[in.i];
            int64_t b, c3;
            in.i++;
            if (!digits(&in, 1, 4, &b) || !at(&in, sep))
                return false;
            in.i++;
            if (!digits(&in, 1, 4, &c3))
                return false;
            if (in.i - st >= 4 && v > 31) { /* y/m/d */
                t.year = v;
                month = (int)b;
                t.day = (int)c3;
            } else { /* m/d/y */
                month = (int)v;
                t.day = (int)b;
                t.year = c3 < 50 ? 2000 + c3 : c3 < 100 ? 1900 + c3 : c3;
            }
            nn = 3;
            continue;
        }
        if (nn >= 3)
            return false;
        nums[nn++] = v;
    }
    if (nn > 0 && nn < 3) { /* "Nov 25 2026", "25 Nov 2026" */
        if (!month || nn != 2)
            return false;
        int64_t a0 = nums[0], a1 = nums[1];
        if (a0 > 31) {
            t.year = a0;
            t.day = (int)a1;
        } else {
            t.day = (int)a0;
            t.year = a1 < 50 ? 2000 + a1 : a1 < 100 ? 1900 + a1 : a1;
        }
    } else if (nn == 0) {
        return false;
    }
    t.month = month;
    if (pm >= 0) {
        if (t.hour < 1 || t.hour > 12)
            return false;
        t.hour = t.hour % 12 + (pm ? 12 : 0);
    }
    if (!valid_day(t.year, t.month, t.day) || t.hour > 23 || t.minute > 59 || t.second > 59)
        return false;
    if (has_off) {
        *out = (double)(gl_date_join(&t) - (int64_t)off * 1000);
        return true;
    }
    *out = (double)gl__date_js_local(gl__date_local_zone(ev), gl_date_join(&t));
    return true;
}

double gl__date_js_parse(ev_t *ev, const char *s, size_t n)
{
    double ms;
    const char *p = s;
    size_t len = n;
    gl__expr_trim_span(&p, &len, true, true);
    if (len > 200)
        return NAN;
    if (!js_iso(ev, p, len, &ms) && !js_legacy(ev, p, len, &ms))
        return NAN;
    if (!(ms >= (double)GL_DATE_MS_MIN && ms < (double)GL_DATE_MS_END))
        return NAN;
    return ms;
}
