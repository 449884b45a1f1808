/*
 * expr_dateparse.c: dates from text (see expr_date_int.h): ISO 8601 as
 * Luxon's fromISO and fromSQL read it, HTTP and RFC 2822 dates, Luxon's
 * fromFormat tokens, and JavaScript's Date.parse (its ISO format, then
 * V8's other common forms). Every scanner reads each byte at most once;
 * callers charge the text's length first.
 */
#include "expr_date_int.h"

#include "tz.h"

#include <math.h>
#include <stdio.h>
#include <strings.h>

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

bool gl__date_iso_instant(const char *s, size_t n, int64_t *ms)
{
    gl_date_t t;
    bool has_off, time_only;
    int32_t off;
    /* a full calendar date in the extended form first: YYYY-MM-DD */
    if (n < 10 || s[4] != '-' || s[7] != '-' || !gl__date_parse_iso(s, n, true, &t, &has_off, &off, &time_only) ||
        time_only || (n > 10 && !has_off))
        return false;
    *ms = gl_date_join(&t) - (int64_t)off * 1000;
    return *ms >= GL_DATE_MS_MIN && *ms < GL_DATE_MS_END;
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

/* asctime, after the weekday: Nov  6 08:49:37 1994 (to the end). */
static bool rfc_asctime(in_t *in, gl_date_t *t)
{
    spaces(in);
    int m = month_word(in->s + in->i, word_len(in), false);
    if (!m)
        return false;
    in->i += 3;
    spaces(in);
    int64_t d, y;
    if (!digits(in, 1, 2, &d))
        return false;
    spaces(in);
    if (!hms(in, t, true))
        return false;
    spaces(in);
    if (!digits(in, 4, 4, &y) || in->i != in->n)
        return false;
    t->year = y;
    t->month = m;
    t->day = (int)d;
    return true;
}

/* RFC 850, after "Sunday, ": 06-Nov-94 08:49:37 GMT (to the end). */
static bool rfc_850(in_t *in, gl_date_t *t)
{
    int d, yy;
    if (!fixed2(in, &d) || !at(in, '-'))
        return false;
    in->i++;
    int m = month_word(in->s + in->i, word_len(in), false);
    if (!m)
        return false;
    in->i += 3;
    if (!at(in, '-'))
        return false;
    in->i++;
    if (!fixed2(in, &yy))
        return false;
    spaces(in);
    if (!hms(in, t, true))
        return false;
    spaces(in);
    if (word_len(in) != 3 || strncmp(in->s + in->i, "GMT", 3) != 0 || in->i + 3 != in->n)
        return false;
    t->year = two_digit_year(yy, 2);
    t->month = m;
    t->day = d;
    return true;
}

/* RFC 2822 / RFC 1123, after the weekday: 6 Nov 1994 08:49:37 GMT or
 * +0100 (HTTP: two-digit day, four-digit year, GMT only; to the end). */
static bool rfc_2822(in_t *in, bool http, gl_date_t *t, int32_t *off)
{
    int64_t d, y;
    if (!digits(in, http ? 2 : 1, 2, &d))
        return false;
    spaces(in);
    int m = month_word(in->s + in->i, word_len(in), false);
    if (!m)
        return false;
    in->i += 3;
    spaces(in);
    size_t ys = in->i;
    if (!digits(in, 2, 4, &y))
        return false;
    if (http && in->i - ys != 4)
        return false;
    spaces(in);
    if (!hms(in, t, http))
        return false;
    spaces(in);
    t->year = two_digit_year(y, (int)(in->i - ys));
    t->month = m;
    t->day = (int)d;
    if (http)
        return word_len(in) == 3 && strncmp(in->s + in->i, "GMT", 3) == 0 && in->i + 3 == in->n;
    size_t zl = word_len(in);
    if (zl) {
        if (!zone_word(in->s + in->i, zl, off))
            return false;
        in->i += zl;
    } else if (!offset(in, off)) {
        return false;
    }
    return in->i == in->n;
}

bool gl__date_parse_rfc(const char *s, size_t n, bool http, int64_t *ms, int32_t *off)
{
    in_t in = { s, n, 0 };
    gl_date_t t = { 0 };
    *off = 0;
    bool ok;
    size_t wl = word_len(&in);
    if (wl && !weekday_word(in.s + in.i, wl))
        return false;
    in.i += wl;
    if (wl && http && !at(&in, ',')) { /* asctime: Sun Nov  6 08:49:37 1994 */
        ok = rfc_asctime(&in, &t);
    } else {
        if (wl) {
            if (!at(&in, ','))
                return false;
            in.i++;
            spaces(&in);
        }
        ok = wl && http && wl > 3 ? rfc_850(&in, &t) /* Sunday, 06-Nov-94 08:49:37 GMT */
                                  : rfc_2822(&in, http, &t, off);
    }
    if (!ok || !valid_day(t.year, t.month, t.day))
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

/* Date tokens of a format: y, M/L, d, q, o, E/c. */
static bool pf_date(in_t *in, char c, int count, parsed_t *p)
{
    int64_t v;
    int idx;
    switch (c) {
    case 'y':
        if (count == 2) {
            if (!digits(in, 2, 2, &v))
                return false;
            v = two_digit_year(v, 2);
        } else if (!digits(in, count == 1 ? 1 : count, count <= 4 ? (count == 1 ? 6 : 4) : 6, &v)) {
            return false;
        }
        p->t.year = v;
        p->has[0] = true;
        break;
    case 'M':
    case 'L':
        if (count <= 2) {
            if (!digits(in, count, 2, &v))
                return false;
            p->t.month = (int)v;
        } else {
            if (!name_match(in, gl__date_months, 12, count == 3, &idx))
                return false;
            p->t.month = idx;
        }
        p->has[1] = true;
        break;
    case 'd':
        if (count > 2 || !digits(in, count, 2, &v))
            return false;
        p->t.day = (int)v;
        p->has[2] = true;
        break;
    case 'E':
    case 'c':
        if (count == 1) {
            if (!digits(in, 1, 1, &v) || v < 1 || v > 7)
                return false;
            idx = (int)v;
        } else if (!name_match(in, gl__date_days, 7, count == 3, &idx)) {
            return false;
        }
        p->weekday = idx;
        break;
    case 'o':
        if (!digits(in, count == 3 ? 3 : 1, 3, &v) || v < 1 || v > 366)
            return false;
        p->ordinal = (int)v;
        break;
    case 'q':
        if (!digits(in, count, count == 2 ? 2 : 1, &v) || v < 1 || v > 4)
            return false;
        p->t.month = (int)(v - 1) * 3 + 1;
        p->has[1] = true;
        break;
    default: break;
    }
    return true;
}

/* Clock tokens of a format: H, h, m, s, S, u, a. */
static bool pf_time(in_t *in, char c, int count, parsed_t *p)
{
    int64_t v;
    const char *s = in->s;
    size_t n = in->n;
    switch (c) {
    case 'H':
    case 'h':
        if (count > 2 || !digits(in, count, 2, &v))
            return false;
        p->t.hour = (int)v;
        p->has[3] = true;
        if (c == 'h' && !p->pm_set) {
            p->pm_set = true;
            p->pm = false;
        }
        break;
    case 'm':
        if (count > 2 || !digits(in, count, 2, &v))
            return false;
        p->t.minute = (int)v;
        p->has[4] = true;
        break;
    case 's':
        if (count > 2 || !digits(in, count, 2, &v))
            return false;
        p->t.second = (int)v;
        p->has[5] = true;
        break;
    case 'S':
        if (count == 3) {
            if (!digits(in, 3, 3, &v))
                return false;
        } else if (count == 1) {
            if (!digits(in, 1, 3, &v))
                return false;
        } else {
            return false;
        }
        p->t.ms = (int)v;
        p->has[6] = true;
        break;
    case 'u': {
        int ms;
        if (!fraction(in, &ms))
            return false;
        p->t.ms = ms;
        p->has[6] = true;
        break;
    }
    case 'a':
        if (n - in->i >= 2 && strncasecmp(s + in->i, "AM", 2) == 0)
            p->pm = false;
        else if (n - in->i >= 2 && strncasecmp(s + in->i, "PM", 2) == 0)
            p->pm = true;
        else
            return false;
        p->pm_set = true;
        in->i += 2;
        break;
    default: break;
    }
    return true;
}

/* Zone and epoch tokens of a format: Z, z, x, X. */
static bool pf_zone(ev_t *ev, in_t *in, char c, parsed_t *p)
{
    int64_t v;
    size_t st = in->i;
    const char *s = in->s;
    size_t n = in->n;
    switch (c) {
    case 'Z': {
        int32_t off;
        if (!offset(in, &off)) {
            in->i = st;
            size_t wl = word_len(in);
            if (!wl || !zone_word(s + in->i, wl, &off))
                return false;
            in->i += wl;
        }
        p->off = off;
        p->has_off = true;
        break;
    }
    case 'z': {
        size_t k = in->i;
        while (k < n && (s[k] == '/' || s[k] == '_' || s[k] == '-' || s[k] == '+' ||
                         is_digit(s[k]) || (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')))
            k++;
        int zone;
        if (k == in->i || gl__expr_charge(ev, 16) != GL_OK)
            return false;
        if (!gl__date_zone_find(ev, s + in->i, k - in->i, &zone))
            return false;
        in->i = k;
        p->zone = zone;
        p->has_zone = true;
        break;
    }
    case 'x':
    case 'X': {
        bool neg = at(in, '-');
        if (neg)
            in->i++;
        if (!digits(in, 1, 15, &v))
            return false;
        double x = (double)v;
        if (c == 'X' && at(in, '.')) {
            in->i++;
            int ms;
            if (!fraction(in, &ms))
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
    default: break;
    }
    return true;
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
        bool ok = true;
        switch (c) {
        case 'y': case 'M': case 'L': case 'd': case 'q': case 'o': case 'E': case 'c':
            ok = pf_date(&in, c, count, p);
            break;
        case 'H': case 'h': case 'm': case 's': case 'S': case 'u': case 'a':
            ok = pf_time(&in, c, count, p);
            break;
        case 'Z': case 'z': case 'x': case 'X':
            ok = pf_zone(ev, &in, c, p);
            break;
        default: /* not a token: the letters must be there */
            for (int k = 0; k < count; k++) {
                if (!at(&in, c))
                    return false;
                in.i++;
            }
            break;
        }
        if (!ok)
            return false;
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
/* What js_legacy has read so far. */
typedef struct {
    in_t in;
    int64_t nums[3]; /* bare numbers */
    int nn, month, pm;
    gl_date_t t;
    bool has_time, has_off;
    int32_t off;
} js_t;

/* A word of wl letters: a month, a weekday (ignored), AM/PM or a zone
 * (with an offset after it: GMT+0100). */
static bool js_word(js_t *j, size_t wl)
{
    in_t *in = &j->in;
    const char *w = in->s + in->i;
    int m;
    if ((m = month_word(w, wl, true)) != 0 && !j->month) {
        j->month = m;
    } else if (weekday_word(w, wl)) {
        /* ignored */
    } else if (wl == 2 && (strncasecmp(w, "AM", 2) == 0 || strncasecmp(w, "PM", 2) == 0)) {
        j->pm = strncasecmp(w, "PM", 2) == 0;
    } else if (zone_word(w, wl, &j->off)) {
        j->has_off = true;
        in->i += wl;
        if (!at(in, '+') && !at(in, '-'))
            return true;
        int sign = in->s[in->i++] == '-' ? -1 : 1;
        int64_t hm;
        size_t st = in->i;
        if (!digits(in, 1, 4, &hm))
            return false;
        if (in->i - st <= 2)
            hm *= 100;
        if (at(in, ':')) {
            int mm;
            in->i++;
            if (!fixed2(in, &mm))
                return false;
            hm += mm;
        }
        j->off = sign * (int32_t)((hm / 100) * 3600 + (hm % 100) * 60);
        return true;
    } else {
        return false;
    }
    in->i += wl;
    return true;
}

/* h:mm[:ss[.f]] from st. */
static bool js_time(js_t *j, size_t st)
{
    in_t *in = &j->in;
    in->i = st;
    int64_t h, m, sec = 0;
    if (!digits(in, 1, 2, &h) || !at(in, ':'))
        return false;
    in->i++;
    if (!digits(in, 2, 2, &m))
        return false;
    if (at(in, ':')) {
        in->i++;
        if (!digits(in, 2, 2, &sec))
            return false;
        if (at(in, '.')) {
            in->i++;
            if (!fraction(in, &j->t.ms))
                return false;
        }
    }
    j->t.hour = (int)h;
    j->t.minute = (int)m;
    j->t.second = (int)sec;
    j->has_time = true;
    return true;
}

/* v (read from st) then /b/c or -b-c: y/m/d or m/d/y. */
static bool js_slashed(js_t *j, size_t st, int64_t v)
{
    in_t *in = &j->in;
    char sep = in->s[in->i];
    int64_t b, c3;
    in->i++;
    if (!digits(in, 1, 4, &b) || !at(in, sep))
        return false;
    in->i++;
    if (!digits(in, 1, 4, &c3))
        return false;
    if (in->i - st >= 4 && v > 31) { /* y/m/d */
        j->t.year = v;
        j->month = (int)b;
        j->t.day = (int)c3;
    } else { /* m/d/y */
        j->month = (int)v;
        j->t.day = (int)b;
        j->t.year = c3 < 50 ? 2000 + c3 : c3 < 100 ? 1900 + c3 : c3;
    }
    j->nn = 3;
    return true;
}

/* One piece at in.i: a (comment), a separator, a word, an offset, a time,
 * a slashed date or a bare number. */
static bool js_piece(js_t *j)
{
    in_t *in = &j->in;
    const char *s = in->s;
    char c = s[in->i];
    if (c == '(') { /* comment: (Central European Standard Time) */
        const char *close = memchr(s + in->i, ')', in->n - in->i);
        if (!close)
            return false;
        in->i = (size_t)(close - s) + 1;
        return true;
    }
    if (c == ' ' || c == ',' || c == '\t') {
        in->i++;
        return true;
    }
    size_t wl = word_len(in);
    if (wl)
        return js_word(j, wl);
    if ((c == '+' || c == '-') && j->has_time && !j->has_off) {
        j->has_off = true;
        return offset(in, &j->off);
    }
    if (!is_digit(c))
        return false;
    size_t st = in->i;
    int64_t v;
    if (!digits(in, 1, 6, &v))
        return false;
    if (at(in, ':')) /* a time */
        return js_time(j, st);
    if (at(in, '/') || (at(in, '-') && j->nn == 0 && !j->month)) /* a/b/c */
        return js_slashed(j, st, v);
    if (j->nn >= 3)
        return false;
    j->nums[j->nn++] = v;
    return true;
}

static bool js_legacy(ev_t *ev, const char *s, size_t n, double *out)
{
    js_t j = { .in = { s, n, 0 }, .pm = -1 };
    gl_date_t *t = &j.t;
    while (j.in.i < n)
        if (!js_piece(&j))
            return false;
    if (j.nn > 0 && j.nn < 3) { /* "Nov 25 2026", "25 Nov 2026" */
        if (!j.month || j.nn != 2)
            return false;
        int64_t a0 = j.nums[0], a1 = j.nums[1];
        if (a0 > 31) {
            t->year = a0;
            t->day = (int)a1;
        } else {
            t->day = (int)a0;
            t->year = a1 < 50 ? 2000 + a1 : a1 < 100 ? 1900 + a1 : a1;
        }
    } else if (j.nn == 0) {
        return false;
    }
    t->month = j.month;
    if (j.pm >= 0) {
        if (t->hour < 1 || t->hour > 12)
            return false;
        t->hour = t->hour % 12 + (j.pm ? 12 : 0);
    }
    if (!valid_day(t->year, t->month, t->day) || t->hour > 23 || t->minute > 59 || t->second > 59)
        return false;
    if (j.has_off) {
        *out = (double)(gl_date_join(t) - (int64_t)j.off * 1000);
        return true;
    }
    *out = (double)gl__date_js_local(gl__date_local_zone(ev), gl_date_join(t));
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
