/*
 * expr_regex.c: regular expressions, JavaScript's syntax run by PCRE2.
 *
 * A RegExp value (V_REGEX) holds its source (j, a string) and its flags
 * (aux, a string in canonical order); the compiled pattern hangs on j as
 * json-c userdata and goes with j's last reference, so a regex is compiled
 * once per literal evaluated or RegExp constructed, never per match.
 *
 * The pattern is translated from JavaScript's dialect to PCRE2's before it
 * is compiled (expr_regex_js.c).
 *
 * Bounds. Patterns are at most RE_MAX_PATTERN bytes and nest at most
 * RE_PARENS_NEST groups; compiling charges a step per 4 pattern bytes.
 * Each match runs under PCRE2's match limit, first a small one and, when it
 * is reached, again with eight times as much, up to what the evaluation's
 * remaining step budget pays for (RE_UNITS_PER_STEP units a step) and at
 * most RE_MAX_LIMIT; every limit reached is charged, so backtracking costs
 * steps in proportion to the work done, and a pattern that needs more than
 * the budget (catastrophic backtracking) ends with "regular expression too
 * complex". The depth of backtracking is bounded by PCRE2's heap limit.
 * Each call also charges the bytes of the subject it scanned.
 */
#include "expr_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define RE_MAX_PATTERN 32768
#define RE_PARENS_NEST 200
#define RE_FIRST_LIMIT 256
#define RE_MAX_LIMIT 5000000
#define RE_UNITS_PER_STEP 16
#define RE_HEAP_KIB 32768 /* PCRE2's backtracking frames, per match */
#define RE_MAGIC 0x52455831u

/* JavaScript's flags, in the canonical order of RegExp.prototype.flags. */
static const char flag_chars[] = "dgimsuy";
enum { F_D = 1, F_G = 2, F_I = 4, F_M = 8, F_S = 16, F_U = 32, F_Y = 64 };

struct gl_re {
    uint32_t magic;
    pcre2_code *code;
    unsigned flags;
    uint32_t ncap, nnames, name_size;
    PCRE2_SPTR names;
};

static void re_delete(json_object *j, void *ud)
{
    (void)j;
    gl_re_t *re = ud;
    pcre2_code_free(re->code);
    free(re);
}

/* ------------------------------------------------------------------------ */
/* Compiling                                                                */

static bool parse_flags(const char *f, size_t n, unsigned *out)
{
    *out = 0;
    for (size_t i = 0; i < n; i++) {
        const char *at = f[i] ? strchr(flag_chars, f[i]) : NULL;
        if (!at || (*out & (1u << (at - flag_chars))))
            return false;
        *out |= 1u << (at - flag_chars);
    }
    return true;
}

/* Compiles the JavaScript pattern p[0..n) with flags into *out (the caller
 * frees it with re_delete(NULL, *out)); err gets the reason on failure. */
static bool re_compile(const char *p, size_t n, unsigned flags, gl_re_t **out, char *err,
                       size_t err_n)
{
    gl_buf_t o;
    *out = NULL;
    if (n > RE_MAX_PATTERN) {
        snprintf(err, err_n, "pattern longer than %d bytes", RE_MAX_PATTERN);
        return false;
    }
    gl_buf_init(&o, 16 * (size_t)RE_MAX_PATTERN);
    if (!gl__expr_regex_translate(p, n, flags & F_S, &o, err, err_n)) {
        gl_buf_free(&o);
        return false;
    }
    uint32_t opts = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_MATCH_UNSET_BACKREF |
                    PCRE2_NEVER_BACKSLASH_C;
    if (flags & F_I)
        opts |= PCRE2_CASELESS;
    if (flags & F_M)
        opts |= PCRE2_MULTILINE;
    if (flags & F_S)
        opts |= PCRE2_DOTALL;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    pcre2_set_parens_nest_limit(cc, RE_PARENS_NEST);
    pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF);
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)(o.data ? o.data : ""), o.len, opts, &ec, &eo, cc);
    pcre2_compile_context_free(cc);
    gl_buf_free(&o);
    if (!code) {
        PCRE2_UCHAR msg[120];
        if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", ec);
        snprintf(err, err_n, "%s", (const char *)msg);
        return false;
    }
    gl_re_t *re = gl_xmalloc(sizeof *re);
    memset(re, 0, sizeof *re);
    re->magic = RE_MAGIC;
    re->code = code;
    re->flags = flags;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &re->ncap);
    pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &re->nnames);
    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &re->name_size);
    pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &re->names);
    *out = re;
    return true;
}

/* JavaScript's EscapeRegExpPattern: the source as a literal would show it. */
static int escape_source(ev_t *ev, const char *p, size_t n, gl_buf_t *b)
{
    bool in_class = false;
    if (!n)
        return gl__expr_apps(ev, b, "(?:)");
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < n) {
            TRY(gl__expr_app(ev, b, p + i, 2));
            i++;
            continue;
        }
        if (c == '[')
            in_class = true;
        else if (c == ']')
            in_class = false;
        if (c == '/' && !in_class)
            TRY(gl__expr_apps(ev, b, "\\/"));
        else if (c == '\n')
            TRY(gl__expr_apps(ev, b, "\\n"));
        else if (c == '\r')
            TRY(gl__expr_apps(ev, b, "\\r"));
        else
            TRY(gl__expr_app(ev, b, &c, 1));
    }
    return GL_OK;
}

/* A RegExp value for pattern p[0..n) and flags f[0..fn). */
static int re_make(ev_t *ev, const char *p, size_t n, const char *f, size_t fn, val_t *out)
{
    unsigned flags;
    char err[160];
    gl_re_t *re;
    if (!parse_flags(f, fn, &flags))
        return gl__expr_fail(ev, "Invalid regular expression flags '%.*s'",
                             (int)(fn > 20 ? 20 : fn), f);
    TRY(gl__expr_charge_pass(ev, 16 * n)); /* compiling: a step per 4 bytes */
    if (!re_compile(p, n, flags, &re, err, sizeof err))
        return gl__expr_fail(ev, "Invalid regular expression: /%.*s/: %s",
                             (int)(n > 60 ? 60 : n), p, err);
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = escape_source(ev, p, n, &b);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        re_delete(NULL, re);
        return rc;
    }
    char fl[sizeof flag_chars];
    size_t k = 0;
    for (size_t i = 0; flag_chars[i]; i++)
        if (flags & (1u << i))
            fl[k++] = flag_chars[i];
    *out = vmk(V_REGEX);
    out->j = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
    out->aux = json_object_new_string_len(fl, (int)k);
    gl_buf_free(&b);
    json_object_set_userdata(out->j, re, re_delete);
    return GL_OK;
}

int gl__expr_regex_lit(ev_t *ev, const char *p, size_t n, const char *f, size_t fn, val_t *out)
{
    return re_make(ev, p, n, f, fn, out);
}

/* new RegExp(pattern, flags) / RegExp(pattern, flags). */
int gl__expr_regex_new(ev_t *ev, const val_t *a, size_t na, val_t *out)
{
    const val_t *pat = arg(a, na, 0), *fl = arg(a, na, 1);
    sv_t ps = { 0 }, fs = { 0 };
    int rc;
    if (pat->k == V_REGEX) {
        /* the source as shown is a pattern that means the same */
        const char *src = sp(pat);
        size_t src_n = sn(pat);
        if (src_n == 4 && memcmp(src, "(?:)", 4) == 0)
            src_n = 0;
        if (fl->k == V_UNDEF)
            return re_make(ev, src, src_n, json_object_get_string(pat->aux),
                           (size_t)json_object_get_string_len(pat->aux), out);
        TRY(gl__expr_to_sv(ev, fl, &fs));
        rc = re_make(ev, src, src_n, fs.p, fs.n, out);
        gl__expr_sv_free(&fs);
        return rc;
    }
    if (pat->k != V_UNDEF)
        TRY(gl__expr_to_sv(ev, pat, &ps));
    if (fl->k != V_UNDEF && (rc = gl__expr_to_sv(ev, fl, &fs)) != GL_OK) {
        gl__expr_sv_free(&ps);
        return rc;
    }
    rc = re_make(ev, ps.p ? ps.p : "", ps.n, fs.p ? fs.p : "", fs.n, out);
    gl__expr_sv_free(&ps);
    gl__expr_sv_free(&fs);
    return rc;
}

/* The compiled pattern of a RegExp value (every one has it: re_make). */
gl_re_t *gl__expr_regex_of(const val_t *v)
{
    gl_re_t *re = v->k == V_REGEX ? json_object_get_userdata(v->j) : NULL;
    if (!re || re->magic != RE_MAGIC)
        abort();
    return re;
}

/* ------------------------------------------------------------------------ */
/* Matching under the bounds                                                */

typedef struct {
    gl_re_t *re;
    pcre2_match_data *md;
    pcre2_match_context *mc;
    const char *s;
    size_t n;
    PCRE2_SIZE *ov;
    size_t cp_byte, cp_idx; /* a known byte offset and its code point index */
    char *own;              /* the subject's valid copy, when it had invalid bytes */
    int rc;                 /* what rx_init met: every rx_exec returns it */
} rx_t;

/* Prepares matching re against s[0..n). PCRE2 is told the subject is valid
 * UTF-8 (its own check would rescan the whole subject at every call): it is
 * checked here once, and a subject with invalid bytes is matched as a copy
 * where each of them reads U+FFFD. rx_exec returns what went wrong here. */
static int rx_subject(ev_t *ev, rx_t *x, const char **sp_, size_t *np);

static void rx_init(ev_t *ev, rx_t *x, gl_re_t *re, const char *s, size_t n)
{
    memset(x, 0, sizeof *x);
    x->re = re;
    x->rc = rx_subject(ev, x, &s, &n);
    x->s = s;
    x->n = n;
    if (x->rc != GL_OK)
        return;
    x->md = pcre2_match_data_create_from_pattern(re->code, NULL);
    x->mc = pcre2_match_context_create(NULL);
    pcre2_set_heap_limit(x->mc, RE_HEAP_KIB);
    pcre2_set_depth_limit(x->mc, RE_MAX_LIMIT);
    x->ov = pcre2_get_ovector_pointer(x->md);
}

static int rx_subject(ev_t *ev, rx_t *x, const char **sp_, size_t *np)
{
    const char *s = *sp_;
    size_t n = *np;
    TRY(gl__expr_charge_pass(ev, n));
    if (!gl_utf8_valid(s, n)) {
        gl_buf_t b;
        gl_buf_init(&b, 3 * n + 1);
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            size_t l = gl_utf8_decode(s, n, i, &cp);
            int rc = cp == 0xFFFD && l == 1 ? gl_buf_append(&b, "\xEF\xBF\xBD", 3)
                                            : gl_buf_append(&b, s + i, l);
            if (rc != GL_OK) {
                gl_buf_free(&b);
                return gl__expr_too_big(ev);
            }
            i += l;
        }
        TRY(gl__expr_charge_bytes(ev, b.len));
        x->own = b.data;
        *sp_ = b.data ? b.data : "";
        *np = b.len;
    }
    return GL_OK;
}

static void rx_free(rx_t *x)
{
    free(x->own);
    pcre2_match_data_free(x->md);
    pcre2_match_context_free(x->mc);
}

static int too_complex(ev_t *ev, const char *why)
{
    return gl__expr_fail(ev, "regular expression too complex (%s)", why);
}

/* The next match at or after byte offset start (only at start when
 * anchored): *found, and the offsets in x->ov. */
static int rx_exec(ev_t *ev, rx_t *x, size_t start, bool anchored, bool *found)
{
    size_t left = ev->max_steps > ev->steps ? ev->max_steps - ev->steps : 0;
    uint64_t max = (uint64_t)left * RE_UNITS_PER_STEP;
    uint64_t lim = RE_FIRST_LIMIT;
    if (max > RE_MAX_LIMIT)
        max = RE_MAX_LIMIT;
    *found = false;
    TRY(x->rc);
    TRY(gl__expr_charge(ev, 1));
    for (;;) {
        uint64_t use = lim < max ? lim : max;
        pcre2_set_match_limit(x->mc, (uint32_t)use);
        int rc = pcre2_match(x->re->code, (PCRE2_SPTR)x->s, x->n, start,
                             (anchored ? PCRE2_ANCHORED : 0) | PCRE2_NO_UTF_CHECK, x->md, x->mc);
        if (rc == PCRE2_ERROR_MATCHLIMIT) {
            if (use >= max)
                return too_complex(ev, max < RE_MAX_LIMIT ? "its backtracking outran the step budget"
                                                          : "backtracking limit reached");
            TRY(gl__expr_charge(ev, (size_t)(use / RE_UNITS_PER_STEP)));
            lim *= 8;
            continue;
        }
        if (rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
            rc == PCRE2_ERROR_NOMEMORY)
            return too_complex(ev, "backtracking too deep");
        if (rc == PCRE2_ERROR_NOMATCH)
            return gl__expr_charge_bytes(ev, x->n - start);
        if (rc < 0) {
            PCRE2_UCHAR msg[120];
            if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
                snprintf((char *)msg, sizeof msg, "error %d", rc);
            return gl__expr_fail(ev, "regular expression: %s", (const char *)msg);
        }
        *found = true;
        return gl__expr_charge_bytes(ev, x->ov[1] > start ? x->ov[1] - start : 0);
    }
}

/* The code point index of byte offset at (matches come in order: counted on
 * from the last one). */
static size_t rx_cp(rx_t *x, size_t at)
{
    if (at < x->cp_byte)
        x->cp_byte = x->cp_idx = 0;
    x->cp_idx += gl_utf8_count(x->s + x->cp_byte, at - x->cp_byte);
    x->cp_byte = at;
    return x->cp_idx;
}

/* Where the search goes on after a match ending at end: past one more code
 * point when the match was empty (JavaScript's AdvanceStringIndex). */
static size_t rx_next(const rx_t *x, size_t end)
{
    if (x->ov[0] != x->ov[1])
        return end;
    uint32_t cp;
    return end < x->n ? end + gl_utf8_decode(x->s, x->n, end, &cp) : x->n + 1;
}

static bool cap_set(const rx_t *x, uint32_t i)
{
    return x->ov[2 * i] != PCRE2_UNSET;
}

/* What a match array carries beyond its elements: index, input, groups. */
typedef struct {
    uint32_t magic;
    double index;
    json_object *input, *groups;
} mx_t;

static void mx_delete(json_object *j, void *ud)
{
    (void)j;
    mx_t *m = ud;
    json_object_put(m->input);
    json_object_put(m->groups);
    free(m);
}

/* The array exec() returns for the current match: the match, then each
 * group (null when it took no part), with index, input and groups. */
static int rx_match_arr(ev_t *ev, rx_t *x, json_object *input, val_t *out)
{
    json_object *arr = json_object_new_array(), *groups = NULL;
    size_t size = 16, gsize = 16;
    int rc = GL_OK;
    for (uint32_t i = 0; rc == GL_OK && i <= x->re->ncap; i++) {
        json_object *e = NULL;
        size_t l = 0;
        if (cap_set(x, i)) {
            l = x->ov[2 * i + 1] - x->ov[2 * i];
            if ((rc = gl__expr_charge_bytes(ev, l)) != GL_OK)
                break;
            e = json_object_new_string_len(x->s + x->ov[2 * i], (int)l);
        }
        rc = gl__expr_arr_add(ev, arr, &size, e, l + 2);
    }
    if (rc == GL_OK && x->re->nnames) {
        groups = json_object_new_object();
        for (uint32_t k = 0; rc == GL_OK && k < x->re->nnames; k++) {
            PCRE2_SPTR ent = x->re->names + (size_t)k * x->re->name_size;
            uint32_t g = (uint32_t)(ent[0] << 8 | ent[1]);
            json_object *v = cap_set(x, g) ? json_object_array_get_idx(arr, g) : NULL;
            rc = gl__expr_obj_add(ev, groups, &gsize, (const char *)ent + 2, json_object_get(v),
                                  v ? (size_t)json_object_get_string_len(v) + 2 : 4);
        }
        size += gsize;
    }
    if (rc != GL_OK) {
        json_object_put(arr);
        json_object_put(groups);
        return rc;
    }
    mx_t *m = gl_xmalloc(sizeof *m);
    m->magic = RE_MAGIC + 1;
    m->index = (double)rx_cp(x, x->ov[0]);
    m->input = json_object_get(input);
    m->groups = groups;
    json_object_set_userdata(arr, m, mx_delete);
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

bool gl__expr_regex_arr_prop(const val_t *o, const char *name, size_t len, val_t *out)
{
    mx_t *m = o->k == V_ARR ? json_object_get_userdata(o->j) : NULL;
    if (!m || m->magic != RE_MAGIC + 1)
        return false;
    if (name_is(name, len, "index"))
        *out = vnum(m->index);
    else if (name_is(name, len, "input"))
        *out = gl__expr_vjson(m->input);
    else if (name_is(name, len, "groups"))
        *out = m->groups ? gl__expr_vjson(m->groups) : vmk(V_UNDEF);
    else
        return false;
    return true;
}

/* ------------------------------------------------------------------------ */
/* RegExp methods and properties                                            */

/* The subject: ToString of argument i, kept as a json string (the input of
 * match arrays); the caller puts *j. */
static int subject_arg(ev_t *ev, const val_t *a, size_t na, size_t i, json_object **j)
{
    const val_t *v = arg(a, na, i);
    if (v->k == V_STR) {
        *j = json_object_get(v->j);
        return GL_OK;
    }
    sv_t s;
    TRY(gl__expr_to_sv(ev, v, &s));
    *j = json_object_new_string_len(s.p, (int)s.n);
    gl__expr_sv_free(&s);
    return GL_OK;
}

/* exec() on the json string j: the match array, or null. */
static int exec_on(ev_t *ev, gl_re_t *re, json_object *j, val_t *out)
{
    rx_t x;
    bool found;
    rx_init(ev, &x, re, json_object_get_string(j), (size_t)json_object_get_string_len(j));
    int rc = rx_exec(ev, &x, 0, re->flags & F_Y, &found);
    if (rc == GL_OK)
        rc = found ? rx_match_arr(ev, &x, j, out) : (*out = vmk(V_NULL), GL_OK);
    rx_free(&x);
    return rc;
}

static int r_exec(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    json_object *j;
    TRY(subject_arg(ev, a, na, 0, &j));
    int rc = exec_on(ev, gl__expr_regex_of(self), j, out);
    json_object_put(j);
    return rc;
}

static int r_test(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    json_object *j;
    rx_t x;
    bool found;
    gl_re_t *re = gl__expr_regex_of(self);
    TRY(subject_arg(ev, a, na, 0, &j));
    rx_init(ev, &x, re, json_object_get_string(j), (size_t)json_object_get_string_len(j));
    int rc = rx_exec(ev, &x, 0, re->flags & F_Y, &found);
    rx_free(&x);
    json_object_put(j);
    *out = vbool(found);
    return rc;
}

static int r_to_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = gl__expr_regex_to_string(ev, self, &b);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

int gl__expr_regex_to_string(ev_t *ev, const val_t *v, gl_buf_t *b)
{
    TRY(gl__expr_apps(ev, b, "/"));
    TRY(gl__expr_app(ev, b, sp(v), sn(v)));
    TRY(gl__expr_apps(ev, b, "/"));
    return gl__expr_apps(ev, b, json_object_get_string(v->aux));
}

static const method_t regex_methods[] = {
    { "test", r_test }, { "exec", r_exec }, { "toString", r_to_string },
};

const methods_t gl__expr_regex_methods = { regex_methods, GL_NELEM(regex_methods) };

int gl__expr_regex_prop(ev_t *ev, const val_t *o, const char *name, size_t len, val_t *out)
{
    static const struct {
        const char *name;
        unsigned flag;
    } props[] = {
        { "global", F_G }, { "ignoreCase", F_I }, { "multiline", F_M }, { "dotAll", F_S },
        { "unicode", F_U }, { "sticky", F_Y }, { "hasIndices", F_D },
    };
    gl_re_t *re = gl__expr_regex_of(o);
    (void)ev;
    *out = vmk(V_UNDEF);
    if (name_is(name, len, "source"))
        *out = gl__expr_vjson(o->j);
    else if (name_is(name, len, "flags"))
        *out = gl__expr_vjson(o->aux);
    else if (name_is(name, len, "lastIndex"))
        *out = vnum(0);
    for (size_t i = 0; i < GL_NELEM(props); i++)
        if (name_is(name, len, props[i].name))
            *out = vbool(re->flags & props[i].flag);
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* String methods that take a RegExp                                        */

/* The regex argument i: the RegExp itself, or one made from ToString of the
 * value (undefined: the empty pattern) with flags; *tmp is set when made. */
static int regex_arg(ev_t *ev, const val_t *a, size_t na, size_t i, const char *flags,
                     val_t *tmp, gl_re_t **re)
{
    const val_t *v = arg(a, na, i);
    *tmp = vmk(V_UNDEF);
    if (v->k == V_REGEX) {
        *re = gl__expr_regex_of(v);
        return GL_OK;
    }
    sv_t s = { 0 };
    if (v->k != V_UNDEF)
        TRY(gl__expr_to_sv(ev, v, &s));
    int rc = re_make(ev, s.p ? s.p : "", s.n, flags, strlen(flags), tmp);
    gl__expr_sv_free(&s);
    if (rc == GL_OK)
        *re = gl__expr_regex_of(tmp);
    return rc;
}

/* JavaScript's GetSubstitution: $$, $&, $`, $', $n, $nn, $<name>. */
static int substitute(ev_t *ev, gl_buf_t *b, const sv_t *rep, const rx_t *x)
{
    const char *r = rep->p;
    size_t n = rep->n, run = 0, m0 = x->ov[0], m1 = x->ov[1];
    uint32_t ncap = x->re->ncap;
    TRY(gl__expr_charge_bytes(ev, n));
    for (size_t i = 0; i + 1 < n; i++) {
        if (r[i] != '$')
            continue;
        char c = r[i + 1];
        size_t skip = 2;
        const char *put_p = NULL;
        size_t put_n = 0;
        if (c == '$') {
            put_p = "$", put_n = 1;
        } else if (c == '&') {
            put_p = x->s + m0, put_n = m1 - m0;
        } else if (c == '`') {
            put_p = x->s, put_n = m0;
        } else if (c == '\'') {
            put_p = x->s + m1, put_n = x->n - m1;
        } else if (is_digit(c)) {
            uint32_t g = (uint32_t)(c - '0');
            if (i + 2 < n && is_digit(r[i + 2]) && g * 10 + (uint32_t)(r[i + 2] - '0') >= 1 &&
                g * 10 + (uint32_t)(r[i + 2] - '0') <= ncap) {
                g = g * 10 + (uint32_t)(r[i + 2] - '0');
                skip = 3;
            }
            if (g < 1 || g > ncap)
                continue;
            put_p = "", put_n = 0;
            if (cap_set(x, g))
                put_p = x->s + x->ov[2 * g], put_n = x->ov[2 * g + 1] - x->ov[2 * g];
        } else if (c == '<' && x->re->nnames) {
            const char *close = memchr(r + i + 2, '>', n - i - 2);
            if (!close)
                continue;
            size_t nl = (size_t)(close - (r + i + 2));
            skip = 3 + nl;
            put_p = "", put_n = 0;
            for (uint32_t k = 0; k < x->re->nnames; k++) {
                PCRE2_SPTR ent = x->re->names + (size_t)k * x->re->name_size;
                uint32_t g = (uint32_t)(ent[0] << 8 | ent[1]);
                if (strlen((const char *)ent + 2) == nl && memcmp(ent + 2, r + i + 2, nl) == 0 &&
                    cap_set(x, g))
                    put_p = x->s + x->ov[2 * g], put_n = x->ov[2 * g + 1] - x->ov[2 * g];
            }
        } else {
            continue;
        }
        TRY(gl__expr_app(ev, b, r + run, i - run));
        TRY(gl__expr_app(ev, b, put_p, put_n));
        i += skip - 1;
        run = i + 1;
    }
    return gl__expr_app(ev, b, r + run, n - run);
}

/* replace/replaceAll with a RegExp first argument. */
int gl__expr_regex_replace(ev_t *ev, const val_t *self, const val_t *a, size_t na, bool all,
                           val_t *out)
{
    gl_re_t *re = gl__expr_regex_of(arg(a, na, 0));
    if (all && !(re->flags & F_G))
        return gl__expr_fail(ev, "TypeError: replaceAll must be called with a global RegExp");
    sv_t rep;
    TRY(gl__expr_to_sv(ev, arg(a, na, 1), &rep));
    rx_t x;
    gl_buf_t b;
    bool found, global = re->flags & F_G;
    size_t pos = 0, copied = 0;
    int rc = GL_OK;
    rx_init(ev, &x, re, sp(self), sn(self));
    gl_buf_init(&b, ev->max_out);
    while (pos <= x.n) {
        if ((rc = rx_exec(ev, &x, pos, re->flags & F_Y, &found)) != GL_OK || !found)
            break;
        if ((rc = gl__expr_app(ev, &b, x.s + copied, x.ov[0] - copied)) != GL_OK ||
            (rc = substitute(ev, &b, &rep, &x)) != GL_OK)
            break;
        copied = x.ov[1];
        if (!global)
            break;
        pos = rx_next(&x, x.ov[1]);
    }
    if (rc == GL_OK)
        rc = gl__expr_app(ev, &b, x.s + copied, x.n - copied);
    rx_free(&x);
    gl__expr_sv_free(&rep);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

/* All matches of a global regex: their texts (match) or match arrays
 * (matchAll). */
static int all_matches(ev_t *ev, const val_t *self, gl_re_t *re, bool arrays, val_t *out)
{
    rx_t x;
    bool found;
    size_t pos = 0, size = 16, count = 0;
    json_object *arr = json_object_new_array();
    int rc = GL_OK;
    rx_init(ev, &x, re, sp(self), sn(self));
    while (pos <= x.n) {
        if ((rc = rx_exec(ev, &x, pos, re->flags & F_Y, &found)) != GL_OK || !found)
            break;
        if (arrays) {
            val_t m;
            if ((rc = rx_match_arr(ev, &x, self->j, &m)) != GL_OK)
                break;
            rc = gl__expr_arr_add(ev, arr, &size, json_object_get(m.j), gl__expr_vsize(&m));
            vfree(&m);
        } else {
            size_t l = x.ov[1] - x.ov[0];
            rc = gl__expr_arr_add(ev, arr, &size, json_object_new_string_len(x.s + x.ov[0], (int)l),
                                  l + 2);
        }
        if (rc != GL_OK)
            break;
        count++;
        pos = rx_next(&x, x.ov[1]);
    }
    rx_free(&x);
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    if (!arrays && !count) {
        json_object_put(arr);
        *out = vmk(V_NULL);
        return GL_OK;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

int gl__expr_s_match(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    val_t tmp;
    gl_re_t *re;
    TRY(regex_arg(ev, a, na, 0, "", &tmp, &re));
    int rc = (re->flags & F_G) ? all_matches(ev, self, re, false, out)
                               : exec_on(ev, re, self->j, out);
    vfree(&tmp);
    return rc;
}

int gl__expr_s_match_all(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    val_t tmp;
    gl_re_t *re;
    TRY(regex_arg(ev, a, na, 0, "g", &tmp, &re));
    int rc = (re->flags & F_G)
                 ? all_matches(ev, self, re, true, out)
                 : gl__expr_fail(ev, "TypeError: matchAll must be called with a global RegExp");
    vfree(&tmp);
    return rc;
}

int gl__expr_s_search(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    val_t tmp;
    gl_re_t *re;
    rx_t x;
    bool found;
    TRY(regex_arg(ev, a, na, 0, "", &tmp, &re));
    rx_init(ev, &x, re, sp(self), sn(self));
    int rc = rx_exec(ev, &x, 0, re->flags & F_Y, &found);
    if (rc == GL_OK)
        *out = vnum(found ? (double)rx_cp(&x, x.ov[0]) : -1);
    rx_free(&x);
    vfree(&tmp);
    return rc;
}

/* split with a RegExp separator (JavaScript's @@split: captures are spliced
 * in, an empty match at the start of what is left does not split). */
int gl__expr_regex_split(ev_t *ev, const val_t *self, const val_t *sep, size_t limit,
                         val_t *out)
{
    gl_re_t *re = gl__expr_regex_of(sep);
    rx_t x;
    bool found;
    size_t size = 16, count = 0, p = 0, q = 0;
    json_object *arr = json_object_new_array();
    int rc = GL_OK;
    rx_init(ev, &x, re, sp(self), sn(self));
    if (limit == 0)
        goto done;
    if (x.n == 0) {
        if ((rc = rx_exec(ev, &x, 0, true, &found)) == GL_OK && !(found && x.ov[1] == 0))
            rc = gl__expr_arr_add(ev, arr, &size, json_object_get(self->j), 2);
        goto done;
    }
    while (q < x.n) {
        if ((rc = rx_exec(ev, &x, q, false, &found)) != GL_OK || !found ||
            x.ov[0] >= x.n)
            break;
        if (x.ov[1] == p) { /* empty, where the last piece ended */
            uint32_t cp;
            q = x.ov[0] + gl_utf8_decode(x.s, x.n, x.ov[0], &cp);
            continue;
        }
        json_object *piece = json_object_new_string_len(x.s + p, (int)(x.ov[0] - p));
        if ((rc = gl__expr_arr_add(ev, arr, &size, piece, x.ov[0] - p + 2)) != GL_OK)
            break;
        if (++count == limit)
            goto done;
        for (uint32_t g = 1; g <= re->ncap; g++) {
            size_t l = cap_set(&x, g) ? x.ov[2 * g + 1] - x.ov[2 * g] : 0;
            json_object *e = cap_set(&x, g) ? json_object_new_string_len(x.s + x.ov[2 * g], (int)l)
                                            : NULL;
            if ((rc = gl__expr_arr_add(ev, arr, &size, e, l + 2)) != GL_OK)
                goto done;
            if (++count == limit)
                goto done;
        }
        p = q = x.ov[1];
    }
    if (rc == GL_OK)
        rc = gl__expr_arr_add(ev, arr, &size, json_object_new_string_len(x.s + p, (int)(x.n - p)),
                              x.n - p + 2);
done:
    rx_free(&x);
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* For the library's own patterns (n8n's string extensions): a RegExp made
 * from a JavaScript pattern and flags; the caller vfree()s it. */
int gl__expr_regex_make(ev_t *ev, const char *pattern, const char *flags, val_t *out)
{
    return re_make(ev, pattern, strlen(pattern), flags, strlen(flags), out);
}

/* str.replace(re, rep) for the library's own use: str is a V_STR value. */
int gl__expr_regex_sub(ev_t *ev, const val_t *str, const val_t *re, const char *rep, val_t *out)
{
    val_t args[2] = { *re, vmk(V_STR) };
    args[1].j = json_object_new_string(rep);
    int rc = gl__expr_regex_replace(ev, str, args, 2, false, out);
    json_object_put(args[1].j);
    return rc;
}

/* re.exec(str): a match array or null. */
int gl__expr_regex_exec(ev_t *ev, const val_t *re, const val_t *str, val_t *out)
{
    return exec_on(ev, gl__expr_regex_of(re), str->j, out);
}

/* self.replace(new RegExp(pat, flags), rep) */
int gl__expr_regex_sub_pat(ev_t *ev, const char *pat, const char *flags, const val_t *self,
                           const char *rep, val_t *out)
{
    val_t re;
    TRY(gl__expr_regex_make(ev, pat, flags, &re));
    int rc = gl__expr_regex_sub(ev, self, &re, rep, out);
    vfree(&re);
    return rc;
}
