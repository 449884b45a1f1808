/*
 * expr_datefmt.c: dates as text (see expr_date_int.h): Luxon's toFormat
 * tokens, ISO 8601 as Luxon writes it, zone names as en-US shows them, and
 * what Intl.DateTimeFormat writes for en-US (toLocaleString and the D/t/f
 * macro tokens). Other locales are refused by the callers; names of months
 * and weekdays are English.
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
/* fmt_cal and fmt_zone: a letter that is no token of theirs */
#define FMT_LITERAL 1

/* The calendar and clock tokens of t (y, M/L, d, H, h, m, s, S, u, a, E/c,
 * q, o); FMT_LITERAL for other letters and counts. */
static int fmt_cal(ev_t *ev, gl_buf_t *b, const gl_date_t *t, char c, int count)
{
    const char *mn = gl__date_months[t->month - 1], *wd = gl__date_days[t->weekday - 1];
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
    default: break;
    }
    return FMT_LITERAL;
}

/* The week, era, epoch, zone and macro tokens of d (W, k, G, x, X, Z, z,
 * D, t, T, f, F); FMT_LITERAL for other letters and counts. */
static int fmt_zone(ev_t *ev, gl_buf_t *b, const val_t *d, int32_t off, char c, int count)
{
    bool done;
    switch (c) {
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
    return FMT_LITERAL;
}

static int fmt_token(ev_t *ev, gl_buf_t *b, const val_t *d, const gl_date_t *t, int32_t off,
                     char c, int count)
{
    int rc = fmt_cal(ev, b, t, c, count);
    if (rc == FMT_LITERAL)
        rc = fmt_zone(ev, b, d, off, c, count);
    if (rc != FMT_LITERAL)
        return rc;
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
