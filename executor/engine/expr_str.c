/*
 * expr_str.c: the methods of strings (toUpperCase, split, replace, padStart…)
 * and isEmpty/isNotEmpty, which strings, arrays and objects share. Indices
 * and lengths count code points (see engine.h, expressions); every loop charges the step
 * budget, every method charges the bytes it scans (gl__expr_app the bytes it
 * writes), every string is built under the output bound, and every search
 * is linear in the bytes it looks at (memmem, Two-Way in glibc; lastIndexOf
 * searches the reversed text rather than walking forward hit after hit,
 * which is quadratic for overlapping needles).
 */
#include "expr_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <utf8proc.h>

/* Strings. Indices count code points (see engine.h, expressions). */

static int str_case(ev_t *ev, const val_t *self, bool upper, val_t *out)
{
    const char *s = sp(self);
    size_t n = sn(self);
    char u8[GL_UTF8_CASE_MAX];
    gl_buf_t b;
    TRY(gl__expr_charge_pass(ev, n));
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = gl_utf8_decode(s, n, i, &cp);
        int rc = cp == 0xFFFD && l == 1 ? gl__expr_app(ev, &b, s + i, l) /* an invalid byte stays */
                                        : gl__expr_app(ev, &b, u8, gl_utf8_case(cp, upper, u8));
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
        i += l;
    }
    return gl__expr_buf_val(&b, out);
}

static int s_upper(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return str_case(ev, self, true, out);
}

static int s_lower(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return str_case(ev, self, false, out);
}

static int str_trim(ev_t *ev, const val_t *self, bool start, bool end, val_t *out)
{
    const char *s = sp(self);
    size_t n = sn(self);
    TRY(gl__expr_charge_pass(ev, n));
    gl__expr_trim_span(&s, &n, start, end);
    if (n > ev->max_out) /* a slice of a larger borrowed string */
        return gl__expr_too_big(ev);
    *out = vstr_n(s, n);
    return GL_OK;
}

static int s_trim(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return str_trim(ev, self, true, true, out);
}

static int s_trim_start(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return str_trim(ev, self, true, false, out);
}

static int s_trim_end(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return str_trim(ev, self, false, true, out);
}

/* Byte offset of the first occurrence of needle at or after from; SIZE_MAX
 * when there is none. */
static size_t find(const char *s, size_t n, size_t from, const char *needle, size_t nn)
{
    if (from > n || nn > n - from)
        return SIZE_MAX;
    if (nn == 0)
        return from;
    const char *hit = memmem(s + from, n - from, needle, nn);
    return hit ? (size_t)(hit - s) : SIZE_MAX;
}

/* Byte offset of the last occurrence of needle that starts at or before
 * from; SIZE_MAX when there is none. The prefix a hit can lie in and the
 * needle are reversed and searched with memmem: linear in from + nn, and
 * it allocates that much (freed before it returns). */
static size_t find_last(const char *s, size_t n, size_t from, const char *needle, size_t nn)
{
    if (nn > n)
        return SIZE_MAX;
    if (from > n - nn)
        from = n - nn;
    if (nn == 0)
        return from;
    size_t hn = from + nn;
    char *rev = gl_xmalloc(hn + nn), *rev_needle = rev + hn;
    for (size_t i = 0; i < hn; i++)
        rev[i] = s[hn - 1 - i];
    for (size_t i = 0; i < nn; i++)
        rev_needle[i] = needle[nn - 1 - i];
    const char *hit = memmem(rev, hn, rev_needle, nn);
    size_t at = hit ? hn - (size_t)(hit - rev) - nn : SIZE_MAX;
    free(rev);
    return at;
}

static int s_split(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const char *s = sp(self);
    size_t n = sn(self), size = 16, limit = SIZE_MAX;
    uint32_t cp;
    double d;
    if (arg(a, na, 1)->k != V_UNDEF) { /* ToUint32 */
        TRY(gl__expr_to_number(ev, arg(a, na, 1), &d));
        d = isfinite(d) ? fmod(trunc(d), 4294967296.0) : 0;
        limit = (size_t)(d < 0 ? d + 4294967296.0 : d);
    }
    if (arg(a, na, 0)->k == V_REGEX)
        return gl__expr_regex_split(ev, self, arg(a, na, 0), limit, out);
    json_object *arr = json_object_new_array();
    int rc = GL_OK;
    if (limit == 0) {
        /* nothing */
    } else if (arg(a, na, 0)->k == V_UNDEF) {
        rc = gl__expr_arr_add(ev, arr, &size, json_object_get(self->j), n + 2);
    } else {
        sv_t sep;
        rc = gl__expr_to_sv(ev, arg(a, na, 0), &sep);
        if (rc == GL_OK) {
            size_t i = 0, count = 0;
            while (rc == GL_OK && count < limit && (sep.n ? i <= n : i < n)) {
                size_t hit = sep.n ? find(s, n, i, sep.p, sep.n)
                                   : i + gl_utf8_decode(s, n, i, &cp);
                if (hit == SIZE_MAX)
                    hit = n;
                /* the part is searched and copied, the separator compared */
                if ((rc = gl__expr_charge_pass(ev, 2 * (hit - i) + sep.n)) != GL_OK)
                    break;
                json_object *part = json_object_new_string_len(s + i, (int)(hit - i));
                rc = gl__expr_arr_add(ev, arr, &size, part, hit - i + 2);
                count++;
                i = sep.n ? hit + sep.n : hit;
            }
            gl__expr_sv_free(&sep);
        }
    }
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* The needle (ToString of the first argument) and a code point position. */
static int search_args(ev_t *ev, const val_t *self, const val_t *a, size_t na, double def,
                       sv_t *needle, size_t *from_byte, size_t *from_cp)
{
    double pos;
    TRY(gl__expr_charge_pass(ev, sn(self)));
    TRY(gl__expr_num_arg(ev, a, na, 1, def, &pos));
    size_t len = gl_utf8_count(sp(self), sn(self));
    *from_cp = gl__expr_clamp_idx(pos, len);
    *from_byte = gl_utf8_offset(sp(self), sn(self), *from_cp);
    return gl__expr_to_sv(ev, arg(a, na, 0), needle);
}

static int s_includes(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t nd;
    size_t from, from_cp;
    TRY(search_args(ev, self, a, na, 0, &nd, &from, &from_cp));
    *out = vbool(find(sp(self), sn(self), from, nd.p, nd.n) != SIZE_MAX);
    gl__expr_sv_free(&nd);
    return GL_OK;
}

static int s_index_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t nd;
    size_t from, from_cp;
    TRY(search_args(ev, self, a, na, 0, &nd, &from, &from_cp));
    size_t hit = find(sp(self), sn(self), from, nd.p, nd.n);
    *out = vnum(hit == SIZE_MAX
                    ? -1
                    : (double)(from_cp + gl_utf8_count(sp(self) + from, hit - from)));
    gl__expr_sv_free(&nd);
    return GL_OK;
}

static int s_last_index_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t nd;
    size_t from, from_cp;
    TRY(search_args(ev, self, a, na, INFINITY, &nd, &from, &from_cp));
    /* find_last copies the prefix a hit can start in, the needle after it,
     * and the needle, reversed */
    size_t n = sn(self);
    int rc = nd.n <= n ? gl__expr_charge_bytes(ev, (from < n - nd.n ? from : n - nd.n) + 2 * nd.n)
                       : GL_OK;
    if (rc == GL_OK) {
        size_t last = find_last(sp(self), sn(self), from, nd.p, nd.n);
        *out = vnum(last == SIZE_MAX ? -1 : (double)gl_utf8_count(sp(self), last));
    }
    gl__expr_sv_free(&nd);
    return rc;
}

static int s_starts_with(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t nd;
    size_t from, from_cp;
    TRY(search_args(ev, self, a, na, 0, &nd, &from, &from_cp));
    *out = vbool(sn(self) - from >= nd.n && memcmp(sp(self) + from, nd.p, nd.n) == 0);
    gl__expr_sv_free(&nd);
    return GL_OK;
}

static int s_ends_with(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t nd;
    size_t end, end_cp;
    TRY(search_args(ev, self, a, na, INFINITY, &nd, &end, &end_cp));
    *out = vbool(end >= nd.n && memcmp(sp(self) + end - nd.n, nd.p, nd.n) == 0);
    gl__expr_sv_free(&nd);
    return GL_OK;
}

/* Code points [from, to) of self as a new string. */
static int substr_cp(ev_t *ev, const val_t *self, size_t from, size_t to, val_t *out)
{
    TRY(gl__expr_charge_pass(ev, sn(self)));
    if (from >= to) {
        *out = vstr_n("", 0);
        return GL_OK;
    }
    size_t b0 = gl_utf8_offset(sp(self), sn(self), from);
    size_t b1 = b0 + gl_utf8_offset(sp(self) + b0, sn(self) - b0, to - from);
    if (b1 - b0 > ev->max_out)
        return gl__expr_too_big(ev);
    *out = vstr_n(sp(self) + b0, b1 - b0);
    return GL_OK;
}

static int s_slice(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    size_t len = gl_utf8_count(sp(self), sn(self));
    double s, e;
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &s));
    TRY(gl__expr_num_arg(ev, a, na, 1, INFINITY, &e));
    return substr_cp(ev, self, gl__expr_rel_idx(s, len), gl__expr_rel_idx(e, len), out);
}

static int s_substring(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    size_t len = gl_utf8_count(sp(self), sn(self));
    double s, e;
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &s));
    TRY(gl__expr_num_arg(ev, a, na, 1, INFINITY, &e));
    size_t from = gl__expr_clamp_idx(s, len), to = gl__expr_clamp_idx(e, len);
    return from <= to ? substr_cp(ev, self, from, to, out) : substr_cp(ev, self, to, from, out);
}

static int s_substr(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    size_t len = gl_utf8_count(sp(self), sn(self));
    double s, l;
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &s));
    TRY(gl__expr_num_arg(ev, a, na, 1, INFINITY, &l));
    size_t from = gl__expr_rel_idx(s, len), count = gl__expr_clamp_idx(l, len - from);
    return substr_cp(ev, self, from, from + count, out);
}

/* The code point at index i (relative from the end when rel and i < 0). */
static bool cp_at(const val_t *self, double i, bool rel, size_t *at, size_t *l, uint32_t *cp)
{
    size_t len = gl_utf8_count(sp(self), sn(self));
    i = isnan(i) ? 0 : trunc(i);
    if (rel && i < 0)
        i += (double)len;
    if (!(i >= 0 && i < (double)len))
        return false;
    *at = gl_utf8_offset(sp(self), sn(self), (size_t)i);
    *l = gl_utf8_decode(sp(self), sn(self), *at, cp);
    return true;
}

static int char_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, int mode, val_t *out)
{
    double i;
    size_t at, l;
    uint32_t cp;
    TRY(gl__expr_charge_pass(ev, sn(self)));
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &i));
    bool ok = cp_at(self, i, mode == 3, &at, &l, &cp);
    switch (mode) {
    case 0: *out = ok ? vstr_n(sp(self) + at, l) : vstr_n("", 0); break; /* charAt */
    case 1: *out = vnum(ok ? cp : NAN); break;                           /* charCodeAt */
    case 2: *out = ok ? vnum(cp) : vmk(V_UNDEF); break;                  /* codePointAt */
    default: *out = ok ? vstr_n(sp(self) + at, l) : vmk(V_UNDEF); break; /* at */
    }
    return GL_OK;
}

static int s_char_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return char_at(ev, self, a, na, 0, out);
}

static int s_char_code_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return char_at(ev, self, a, na, 1, out);
}

static int s_code_point_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return char_at(ev, self, a, na, 2, out);
}

static int s_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return char_at(ev, self, a, na, 3, out);
}

static int s_concat(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = gl__expr_app(ev, &b, sp(self), sn(self));
    for (size_t i = 0; rc == GL_OK && i < na; i++)
        rc = gl__expr_to_string(ev, &a[i], &b, 0);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

/* GetSubstitution without capture groups: $$, $&, $`, $'. */
static int put_replacement(ev_t *ev, gl_buf_t *b, const sv_t *rep, const char *s, size_t n,
                           size_t hit, size_t hit_n)
{
    size_t run = 0;
    TRY(gl__expr_charge_bytes(ev, rep->n)); /* scanned for $ at every hit */
    for (size_t i = 0; i + 1 < rep->n; i++) {
        if (rep->p[i] != '$' || !rep->p[i + 1] || !strchr("$&`'", rep->p[i + 1]))
            continue;
        TRY(gl__expr_app(ev, b, rep->p + run, i - run));
        switch (rep->p[i + 1]) {
        case '$': TRY(gl__expr_app(ev, b, "$", 1)); break;
        case '&': TRY(gl__expr_app(ev, b, s + hit, hit_n)); break;
        case '`': TRY(gl__expr_app(ev, b, s, hit)); break;
        default: TRY(gl__expr_app(ev, b, s + hit + hit_n, n - hit - hit_n)); break;
        }
        i++;
        run = i + 1;
    }
    return gl__expr_app(ev, b, rep->p + run, rep->n - run);
}

static int replace(ev_t *ev, const val_t *self, const val_t *a, size_t na, bool all, val_t *out)
{
    const char *s = sp(self);
    size_t n = sn(self), i = 0, copied = 0;
    sv_t pat, rep;
    uint32_t cp;
    if (arg(a, na, 0)->k == V_REGEX)
        return gl__expr_regex_replace(ev, self, a, na, all, out);
    TRY(gl__expr_to_sv(ev, arg(a, na, 0), &pat));
    int rc = gl__expr_to_sv(ev, arg(a, na, 1), &rep);
    if (rc != GL_OK) {
        gl__expr_sv_free(&pat);
        return rc;
    }
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    while (rc == GL_OK) {
        size_t hit = find(s, n, i, pat.p, pat.n);
        if (hit == SIZE_MAX)
            break;
        /* searched up to the hit (the text before it is copied, and charged,
         * by gl__expr_app) and the pattern compared */
        if ((rc = gl__expr_charge_pass(ev, pat.n)) != GL_OK ||
            (rc = gl__expr_app(ev, &b, s + copied, hit - copied)) != GL_OK ||
            (rc = put_replacement(ev, &b, &rep, s, n, hit, pat.n)) != GL_OK)
            break;
        copied = hit + pat.n;
        if (!all)
            break;
        if (pat.n) {
            i = hit + pat.n;
        } else { /* an empty pattern matches between every code point */
            if (hit >= n)
                break;
            i = hit + gl_utf8_decode(s, n, hit, &cp);
            if ((rc = gl__expr_app(ev, &b, s + hit, i - hit)) != GL_OK)
                break;
            copied = i;
        }
    }
    if (rc == GL_OK)
        rc = gl__expr_app(ev, &b, s + copied, n - copied);
    gl__expr_sv_free(&pat);
    gl__expr_sv_free(&rep);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

static int s_replace(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return replace(ev, self, a, na, false, out);
}

static int s_replace_all(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return replace(ev, self, a, na, true, out);
}

/* The padding of want code points: whole copies of fill and the first
 * *rem_n bytes of one more, *n bytes in all. False when *n would be over max. */
static bool pad_size(const sv_t *fill, size_t want, size_t max, size_t *copies, size_t *rem_n,
                     size_t *n)
{
    size_t fill_cps = gl_utf8_count(fill->p, fill->n);
    *copies = want / fill_cps;
    *rem_n = gl_utf8_offset(fill->p, fill->n, want % fill_cps);
    return gl_size_mul(*copies, fill->n, n) && gl_size_add(*n, *rem_n, n) && *n <= max;
}

/* The padding itself, built by doubling (a few memcpy calls, not one per
 * copy); the caller frees it. */
static char *pad_text(const sv_t *fill, size_t copies, size_t rem_n, size_t n)
{
    char *p = gl_xmalloc(n ? n : 1);
    size_t whole = n - rem_n, done = 0;
    if (copies) {
        memcpy(p, fill->p, fill->n);
        done = fill->n;
    }
    while (done < whole) { /* done and whole are multiples of fill->n */
        size_t k = done < whole - done ? done : whole - done;
        memcpy(p + done, p, k);
        done += k;
    }
    memcpy(p + whole, fill->p, rem_n);
    return p;
}

/* padStart/padEnd. The result's size is known before anything is built: too
 * large is refused before any allocation. */
static int pad(ev_t *ev, const val_t *self, const val_t *a, size_t na, bool start, val_t *out)
{
    double target;
    size_t len = gl_utf8_count(sp(self), sn(self));
    TRY(gl__expr_charge_pass(ev, sn(self)));
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &target));
    sv_t fill = { " ", 1, { 0 } };
    gl_buf_init(&fill.buf, 0);
    if (arg(a, na, 1)->k != V_UNDEF)
        TRY(gl__expr_to_sv(ev, arg(a, na, 1), &fill));
    int rc = GL_OK;
    if (isnan(target) || target <= (double)len || fill.n == 0) {
        *out = vdup(self);
    } else {
        size_t copies = 0, rem_n = 0, pad_n = 0;
        size_t room = sn(self) < ev->max_out ? ev->max_out - sn(self) : 0;
        rc = target - (double)len > (double)ev->max_out ? gl__expr_too_big(ev)
                                                        : gl__expr_charge_pass(ev, fill.n);
        if (rc == GL_OK && !pad_size(&fill, (size_t)target - len, room, &copies, &rem_n, &pad_n))
            rc = gl__expr_too_big(ev);
        if (rc == GL_OK)
            rc = gl__expr_charge_bytes(ev, pad_n); /* written once by pad_text */
        if (rc == GL_OK) {
            char *text = pad_text(&fill, copies, rem_n, pad_n);
            gl_buf_t b;
            gl_buf_init(&b, ev->max_out);
            rc = gl__expr_app(ev, &b, start ? text : sp(self), start ? pad_n : sn(self));
            if (rc == GL_OK)
                rc = gl__expr_app(ev, &b, start ? sp(self) : text, start ? sn(self) : pad_n);
            free(text);
            if (rc == GL_OK)
                gl__expr_buf_val(&b, out);
            else
                gl_buf_free(&b);
        }
    }
    gl__expr_sv_free(&fill);
    return rc;
}

static int s_pad_start(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return pad(ev, self, a, na, true, out);
}

static int s_pad_end(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return pad(ev, self, a, na, false, out);
}

static int s_repeat(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    double count;
    char tmp[40];
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &count));
    count = isnan(count) ? 0 : trunc(count);
    if (count < 0 || isinf(count)) {
        gl__expr_num_fmt(count, tmp);
        return gl__expr_fail(ev, "Invalid count value: %s", tmp);
    }
    if (sn(self) && count * (double)sn(self) > (double)ev->max_out)
        return gl__expr_too_big(ev);
    if (!sn(self))
        count = 0;
    TRY(gl__expr_charge(ev, (size_t)count));
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < (size_t)count; i++) {
        int rc = gl__expr_app(ev, &b, sp(self), sn(self));
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
    }
    return gl__expr_buf_val(&b, out);
}

static int s_to_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vdup(self);
    return GL_OK;
}

/* normalize(form): NFC (the default), NFD, NFKC or NFKD (utf8proc). */
static int s_normalize(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    static const struct {
        const char *name;
        int opts;
    } forms[] = {
        { "NFC", UTF8PROC_COMPOSE }, { "NFD", UTF8PROC_DECOMPOSE },
        { "NFKC", UTF8PROC_COMPOSE | UTF8PROC_COMPAT }, { "NFKD", UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT },
    };
    sv_t f = { "NFC", 3, { 0 } };
    gl_buf_init(&f.buf, 0);
    if (arg(a, na, 0)->k != V_UNDEF)
        TRY(gl__expr_to_sv(ev, arg(a, na, 0), &f));
    int opts = -1;
    for (size_t i = 0; i < GL_NELEM(forms); i++)
        if (name_is(f.p, f.n, forms[i].name))
            opts = forms[i].opts;
    gl__expr_sv_free(&f);
    if (opts < 0)
        return gl__expr_fail(ev, "RangeError: The normalization form should be one of NFC, NFD, "
                                 "NFKC, NFKD.");
    TRY(gl__expr_charge_pass(ev, 8 * sn(self)));
    if (!gl_utf8_valid(sp(self), sn(self)) || memchr(sp(self), 0, sn(self))) {
        *out = vdup(self); /* utf8proc stops at a NUL and refuses invalid bytes */
        return GL_OK;
    }
    utf8proc_uint8_t *res = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)sp(self), (utf8proc_ssize_t)sn(self),
                                      &res, (utf8proc_option_t)(opts | UTF8PROC_STABLE));
    int rc = GL_OK;
    if (n < 0)
        *out = vdup(self);
    else if ((size_t)n > ev->max_out)
        rc = gl__expr_too_big(ev);
    else
        *out = vstr_n((const char *)res, (size_t)n);
    free(res);
    return rc;
}

/* The next code point of s from *i, as the level of localeCompare looks at
 * it: level 0 the base letter without marks and case, 1 with its marks,
 * 2 as written. Marks alone are skipped below level 1; 0 at the end. */
static uint32_t collate_next(const char *s, size_t n, size_t *i, int level)
{
    while (*i < n) {
        uint32_t cp, base;
        *i += gl_utf8_decode(s, n, *i, &cp);
        if (level == 2)
            return cp;
        utf8proc_int32_t dec[8];
        int last = 0;
        utf8proc_ssize_t dn = utf8proc_decompose_char((utf8proc_int32_t)cp, dec, 8,
                                                      UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD, &last);
        base = dn > 0 ? (uint32_t)dec[0] : cp;
        if (level == 0 && utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_MN)
            continue;
        if (level == 1)
            base = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
        return base;
    }
    return 0;
}

/* localeCompare without a locale: an approximation of Unicode's root
 * collation that n8n's ICU applies (letters before their accented and
 * upper-case forms only when nothing else differs: "a" < "B" < "é"
 * compares "a" < "b" < "e" first), -1, 0 or 1. */
static int s_locale_compare(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t o;
    TRY(gl__expr_to_sv(ev, arg(a, na, 0), &o));
    int rc = gl__expr_charge_pass(ev, 3 * (sn(self) + o.n)), res = 0;
    for (int level = 0; rc == GL_OK && level < 3 && !res; level++) {
        size_t i = 0, j = 0;
        for (;;) {
            uint32_t x = collate_next(sp(self), sn(self), &i, level);
            uint32_t y = collate_next(o.p, o.n, &j, level);
            if (x != y) {
                /* as written (level 2), lower case sorts before upper case */
                bool xl = utf8proc_islower((utf8proc_int32_t)x), yl = utf8proc_islower((utf8proc_int32_t)y);
                if (level == 2 && x && y && xl != yl &&
                    utf8proc_tolower((utf8proc_int32_t)x) == utf8proc_tolower((utf8proc_int32_t)y))
                    res = xl ? -1 : 1;
                else
                    res = x < y ? -1 : 1;
                break;
            }
            if (!x)
                break;
        }
    }
    gl__expr_sv_free(&o);
    *out = vnum(res);
    return rc;
}

static bool is_empty(const val_t *v)
{
    switch (v->k) {
    case V_STR: return sn(v) == 0;
    case V_ARR: return json_object_array_length(v->j) == 0;
    case V_OBJ: return json_object_object_length(v->j) == 0;
    default: return false;
    }
}

int gl__expr_m_is_empty(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vbool(is_empty(self));
    return GL_OK;
}

int gl__expr_m_is_not_empty(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vbool(!is_empty(self));
    return GL_OK;
}

static const method_t str_methods[] = {
    { "toUpperCase", s_upper }, { "toLowerCase", s_lower }, { "trim", s_trim },
    { "trimStart", s_trim_start }, { "trimEnd", s_trim_end }, { "split", s_split },
    { "includes", s_includes }, { "startsWith", s_starts_with }, { "endsWith", s_ends_with },
    { "indexOf", s_index_of }, { "lastIndexOf", s_last_index_of }, { "slice", s_slice },
    { "substring", s_substring }, { "substr", s_substr }, { "replace", s_replace },
    { "replaceAll", s_replace_all }, { "padStart", s_pad_start }, { "padEnd", s_pad_end },
    { "repeat", s_repeat }, { "charAt", s_char_at }, { "charCodeAt", s_char_code_at },
    { "codePointAt", s_code_point_at }, { "at", s_at }, { "concat", s_concat },
    { "toString", s_to_string }, { "valueOf", s_to_string }, { "isEmpty", gl__expr_m_is_empty },
    { "isNotEmpty", gl__expr_m_is_not_empty }, { "match", gl__expr_s_match },
    { "matchAll", gl__expr_s_match_all }, { "search", gl__expr_s_search },
    { "toLocaleUpperCase", s_upper }, { "toLocaleLowerCase", s_lower },
    { "trimLeft", s_trim_start }, { "trimRight", s_trim_end }, { "normalize", s_normalize },
    { "localeCompare", s_locale_compare },
};

const methods_t gl__expr_str_methods = { str_methods, GL_NELEM(str_methods) };
