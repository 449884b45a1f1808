/*
 * expr_str_n8n_text.c: n8n's string extensions that edit text: case
 * changes (toSentenceCase, toSnakeCase, toTitleCase), URL coding, quote,
 * removeTags and removeMarkdown (n8n's own patterns, run by expr_regex.c)
 * and replaceSpecialChars. Where n8n leans on an npm package (title-case,
 * transliteration) the algorithm is redone here and the README says what
 * differs. Every method charges the bytes it reads and builds its result
 * under the output bound.
 */
#include "expr_int.h"

#include <stdio.h>
#include <strings.h>
#include <utf8proc.h>

/* ------------------------------------------------------------------------ */
/* Case                                                                     */

static bool is_letter(uint32_t cp)
{
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT ||
           c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_LO;
}

static int app_case(ev_t *ev, gl_buf_t *b, const char *s, size_t n, size_t i, size_t l,
                    uint32_t cp, int mode)
{
    char u8[GL_UTF8_CASE_MAX];
    if (mode == 0 || (cp == 0xFFFD && l == 1))
        return gl__expr_app(ev, b, s + i, l);
    (void)n;
    return gl__expr_app(ev, b, u8, gl_utf8_case(cp, mode > 0, u8));
}

/* n8n's loop: in each sentence (ended by ! ? or .) the first letter is
 * upper-cased and everything after it lower-cased. */
static int s_to_sentence_case(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    const char *s = sp(self);
    size_t n = sn(self);
    bool fresh = true;
    gl_buf_t b;
    TRY(gl__expr_charge_pass(ev, n));
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = gl_utf8_decode(s, n, i, &cp);
        int mode = fresh ? 0 : -1;
        if (fresh && is_letter(cp))
            mode = 1, fresh = false;
        int rc = app_case(ev, &b, s, n, i, l, cp, mode);
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
        if (cp == '!' || cp == '?' || cp == '.')
            fresh = true;
        i += l;
    }
    return gl__expr_buf_val(&b, out);
}

/* lower case; spaces and dashes become _; n8n's symbols go */
static int s_to_snake_case(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    const char *s = sp(self);
    size_t n = sn(self);
    gl_buf_t b;
    TRY(gl__expr_charge_pass(ev, n));
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = gl_utf8_decode(s, n, i, &cp);
        int rc = GL_OK;
        if (cp == ' ' || cp == '-')
            rc = gl__expr_app(ev, &b, "_", 1);
        else if (!((cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x2E00 && cp <= 0x2E7F) ||
                   (cp < 0x80 && strchr("\\'!\"#$%&()*+,./:;<=>?@[]^`{|}~", (int)cp) && cp)))
            rc = app_case(ev, &b, s, n, i, l, cp, -1);
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
        i += l;
    }
    return gl__expr_buf_val(&b, out);
}

/* title-case 3's rules, which n8n uses: each token (a run without white
 * space, ':', '-', '–', '—', or one such character) gets its first letter
 * or digit upper-cased, unless it is already mixed case (a capital after
 * its first character, or a '.' inside it), a small word (a, the, of…)
 * not at the start or the end, or a URL scheme ("http:" not followed by a
 * space). */
static bool title_sep(uint32_t cp)
{
    return gl__expr_js_space(cp) || cp == ':' || cp == '-' || cp == 0x2013 || cp == 0x2014;
}

static bool manual_case(const char *t, size_t n)
{
    uint32_t cp;
    size_t first = gl_utf8_decode(t, n, 0, &cp);
    for (size_t i = first; i < n; i++)
        if ((t[i] >= 'A' && t[i] <= 'Z') || (t[i] == '.' && i + 1 < n))
            return true;
    return false;
}

static bool small_word(const char *t, size_t n)
{
    static const char *const small[] = {
        "a", "an", "and", "ad", "as", "at", "because", "but", "by", "en", "for", "if", "in",
        "neither", "nor", "of", "on", "or", "only", "over", "per", "so", "some", "that", "than",
        "the", "to", "up", "upon", "v", "vs", "v.", "vs.", "versus", "via", "when", "with",
        "without", "yet",
    };
    /* n8n's test is /\b(?:…)\b/i anywhere in the token: its ASCII words */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && (((t[j] | 0x20) >= 'a' && (t[j] | 0x20) <= 'z') || is_digit(t[j]) || t[j] == '_'))
            j++;
        for (size_t k = 0; k < GL_NELEM(small); k++) {
            size_t l = strlen(small[k]);
            bool dot = small[k][l - 1] == '.';
            if (dot ? (j - i == l - 1 && j < n && t[j] == '.') : j - i == l)
                if (strncasecmp(t + i, small[k], dot ? l - 1 : l) == 0)
                    return true;
        }
        i = j < n ? j + 1 : n;
        while (i < n && (t[i] & 0x80)) /* not a word character */
            i++;
    }
    return false;
}

static int s_to_title_case(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    const char *s = sp(self);
    size_t n = sn(self);
    gl_buf_t b;
    TRY(gl__expr_charge_pass(ev, 4 * n));
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = gl_utf8_decode(s, n, i, &cp), end = i + l;
        if (!title_sep(cp))
            while (end < n && !title_sep((gl_utf8_decode(s, n, end, &cp), cp)))
                end += gl_utf8_decode(s, n, end, &cp);
        const char *t = s + i;
        size_t tn = end - i;
        bool edge = i == 0 || end == n;
        bool url = end < n && s[end] == ':' &&
                   !(end + 1 < n && (gl_utf8_decode(s, n, end + 1, &cp), gl__expr_js_space(cp)));
        int rc = GL_OK;
        if (!manual_case(t, tn) && (!small_word(t, tn) || edge) && !url) {
            size_t k = 0; /* the first of [A-Za-z0-9\u00C0-\u00FF] */
            for (; k < tn; k += gl_utf8_decode(t, tn, k, &cp)) {
                gl_utf8_decode(t, tn, k, &cp);
                if ((cp < 0x80 && (is_digit((int)cp) || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z'))) ||
                    (cp >= 0xC0 && cp <= 0xFF))
                    break;
            }
            if (k < tn) {
                size_t kl = gl_utf8_decode(t, tn, k, &cp);
                if ((rc = gl__expr_app(ev, &b, t, k)) == GL_OK &&
                    (rc = app_case(ev, &b, t, tn, k, kl, cp, 1)) == GL_OK)
                    rc = gl__expr_app(ev, &b, t + k + kl, tn - k - kl);
            } else {
                rc = gl__expr_app(ev, &b, t, tn);
            }
        } else {
            rc = gl__expr_app(ev, &b, t, tn);
        }
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
        i = end;
    }
    return gl__expr_buf_val(&b, out);
}

/* ------------------------------------------------------------------------ */
/* URLs, quoting, markup                                                    */

/* encodeURIComponent, or encodeURI (whole) which keeps the URI syntax. */
static int url_encode(ev_t *ev, const val_t *self, bool whole, val_t *out)
{
    static const char hexd[] = "0123456789ABCDEF";
    const char *s = sp(self);
    size_t n = sn(self);
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool keep = (c < 0x80 && (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || is_digit(c) ||
                                  strchr("-_.!~*'()", c))) ||
                    (whole && c && strchr(";,/?:@&=+$#", c));
        char e[3] = { '%', hexd[c >> 4], hexd[c & 15] };
        int rc = keep ? gl__expr_app(ev, &b, s + i, 1) : gl__expr_app(ev, &b, e, 3);
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
    }
    return gl__expr_buf_val(&b, out);
}

static int hex2(const char *s)
{
    int h = gl__expr_digit_val((unsigned char)s[0]), l = gl__expr_digit_val((unsigned char)s[1]);
    return h < 16 && l < 16 ? h * 16 + l : -1;
}

/* decodeURIComponent, or decodeURI (whole), which leaves escapes of the URI
 * syntax characters as they are. A malformed escape is a URIError. */
static int url_decode(ev_t *ev, const char *fn, const val_t *self, bool whole, val_t *out)
{
    const char *s = sp(self);
    size_t n = sn(self);
    gl_buf_t b;
    int rc = GL_OK;
    bool bad = false;
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; rc == GL_OK && !bad && i < n;) {
        if (s[i] != '%') {
            rc = gl__expr_app(ev, &b, s + i++, 1);
            continue;
        }
        int c = i + 2 < n ? hex2(s + i + 1) : -1;
        size_t len = c < 0 ? 0 : c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                                           : (c & 0xF8) == 0xF0 ? 4 : 0;
        unsigned char bytes[4] = { (unsigned char)c };
        size_t k = 1;
        for (; k < len; k++) {
            size_t at = i + 3 * k;
            int d = at + 2 < n && s[at] == '%' ? hex2(s + at + 1) : -1;
            if (d < 0 || (d & 0xC0) != 0x80)
                break;
            bytes[k] = (unsigned char)d;
        }
        if (!len || k < len || !gl_utf8_valid((const char *)bytes, len)) {
            bad = true;
            break;
        }
        if (whole && len == 1 && c && strchr(";/?:@&=+$,#", c))
            rc = gl__expr_app(ev, &b, s + i, 3);
        else
            rc = gl__expr_app(ev, &b, (const char *)bytes, len);
        i += 3 * len;
    }
    if (rc == GL_OK && bad)
        rc = gl__expr_fail(ev, "%s(): URIError: URI malformed", fn);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

static int s_url_encode(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return url_encode(ev, self, gl__expr_vtruthy(arg(a, na, 0)), out);
}

static int s_url_decode(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return url_decode(ev, "urlDecode", self, gl__expr_vtruthy(arg(a, na, 0)), out);
}

/* Appends s with every occurrence of mark m preceded by a backslash. */
static int app_escaped(ev_t *ev, gl_buf_t *b, const char *s, size_t n, const char *m, size_t mn)
{
    size_t run = 0;
    for (size_t i = 0; mn && i + mn <= n;) {
        if (memcmp(s + i, m, mn) != 0) {
            i++;
            continue;
        }
        TRY(gl__expr_app(ev, b, s + run, i - run));
        TRY(gl__expr_app(ev, b, "\\", 1));
        TRY(gl__expr_app(ev, b, m, mn));
        i += mn;
        run = i;
    }
    return gl__expr_app(ev, b, s + run, n - run);
}

/* mark + the text with its backslashes doubled and its marks escaped + mark */
static int s_quote(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t m;
    gl_buf_t b1, b2;
    TRY(gl__expr_str_arg(ev, a, na, 0, "\"", &m));
    TRY(gl__expr_charge_pass(ev, 2 * sn(self) * (m.n + 1)));
    gl_buf_init(&b1, ev->max_out);
    gl_buf_init(&b2, ev->max_out);
    int rc = app_escaped(ev, &b1, sp(self), sn(self), "\\", 1);
    if (rc == GL_OK && (rc = gl__expr_app(ev, &b2, m.p, m.n)) == GL_OK &&
        (rc = app_escaped(ev, &b2, b1.data ? b1.data : "", b1.len, m.p, m.n)) == GL_OK)
        rc = gl__expr_app(ev, &b2, m.p, m.n);
    gl_buf_free(&b1);
    gl__expr_sv_free(&m);
    if (rc != GL_OK) {
        gl_buf_free(&b2);
        return rc;
    }
    return gl__expr_buf_val(&b2, out);
}

static int s_remove_tags(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return gl__expr_regex_sub_pat(ev, "<[^>]*>?", "gm", self, "", out);
}

/* n8n's removeMarkdown: its replacements, in its order. */
static int s_remove_markdown(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    static const char *const steps[][3] = {
        { "^([\\s\\t]*)([*\\-+]|\\d\\.)\\s+", "gm", "$1" },
        { "\\n={2,}", "g", "\n" },
        { "~~", "g", "" },
        { "`{3}.*\\n", "g", "" },
        { "<[\\w|\\s|=|'|\"|:|(|)|,|;|/|0-9|.|-]+[>|\\\\>]", "g", "" },
        { "^[=-]{2,}\\s*$", "g", "" },
        { "\\[\\^.+?\\](: .*?$)?", "g", "" },
        { "\\s{0,2}\\[.*?\\]: .*?$", "g", "" },
        { "!\\[.*?\\][[(].*?[\\])]", "g", "" },
        { "\\[(.*?)\\][[(].*?[\\])]", "g", "$1" },
        { ">", "g", "" },
        { "^\\s{1,2}\\[(.*?)\\]: (\\S+)( \".*?\")?\\s*$", "g", "" },
        { "^#{1,6}\\s*([^#]*)\\s*(#{1,6})?", "gm", "$1" },
        { "([*_]{1,3})(\\S.*?\\S)\\1", "g", "$2" },
        { "(`{3,})(.*?)\\1", "gm", "$2" },
        { "^-{3,}\\s*$", "g", "" },
        { "`(.+?)`", "g", "$1" },
        { "\\n{2,}", "g", "\n\n" },
    };
    val_t cur = vdup(self);
    for (size_t i = 0; i < GL_NELEM(steps); i++) {
        val_t next;
        int rc = gl__expr_regex_sub_pat(ev, steps[i][0], steps[i][1], &cur, steps[i][2], &next);
        vfree(&cur);
        TRY(rc);
        cur = next;
    }
    *out = cur;
    return GL_OK;
}

/* transliteration's job, roughly: letters with marks lose the marks (NFKD),
 * a few letters are spelled out, and what has no ASCII form becomes '?'. */
static int s_replace_special_chars(ev_t *ev, const val_t *self, const val_t *a, size_t na,
                                   val_t *out)
{
    (void)a, (void)na;
    static const struct {
        uint32_t cp;
        const char *ascii;
    } spelled[] = {
        { 0xDF, "ss" }, { 0xE6, "ae" }, { 0xC6, "AE" }, { 0xF8, "o" }, { 0xD8, "O" },
        { 0x153, "oe" }, { 0x152, "OE" }, { 0x142, "l" }, { 0x141, "L" }, { 0x111, "d" },
        { 0x110, "D" }, { 0xFE, "th" }, { 0xDE, "Th" }, { 0xF0, "d" }, { 0xD0, "D" },
        { 0x131, "i" }, { 0x127, "h" }, { 0x126, "H" }, { 0x167, "t" }, { 0x166, "T" },
        { 0x2018, "'" }, { 0x2019, "'" }, { 0x201C, "\"" }, { 0x201D, "\"" }, { 0x2013, "-" },
        { 0x2014, "-" }, { 0x2026, "..." }, { 0xA0, " " }, { 0x20AC, "EUR" }, { 0xA3, "PS" },
    };
    const char *s = sp(self);
    size_t n = sn(self);
    gl_buf_t b;
    TRY(gl__expr_charge_pass(ev, 4 * n));
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = gl_utf8_decode(s, n, i, &cp);
        int rc = GL_OK;
        const char *rep = NULL;
        char ascii[32];
        size_t an = 0;
        for (size_t k = 0; k < GL_NELEM(spelled); k++)
            if (spelled[k].cp == cp)
                rep = spelled[k].ascii;
        if (cp < 0x80) {
            rc = gl__expr_app(ev, &b, s + i, l);
        } else if (rep) {
            rc = gl__expr_apps(ev, &b, rep);
        } else {
            utf8proc_int32_t dec[16];
            int last = 0;
            utf8proc_ssize_t dn = utf8proc_decompose_char((utf8proc_int32_t)cp, dec, 16,
                                                          UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE,
                                                          &last);
            bool ok = dn > 0 && dn <= 16;
            for (utf8proc_ssize_t k = 0; ok && k < dn; k++) {
                utf8proc_category_t c = utf8proc_category(dec[k]);
                if (c == UTF8PROC_CATEGORY_MN)
                    continue;
                if (dec[k] >= 0x80 || an + 1 >= sizeof ascii)
                    ok = false;
                else
                    ascii[an++] = (char)dec[k];
            }
            rc = ok && an ? gl__expr_app(ev, &b, ascii, an) : gl__expr_app(ev, &b, "?", 1);
        }
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
        i += l;
    }
    return gl__expr_buf_val(&b, out);
}

static const method_t text_methods[] = {
    { "toSentenceCase", s_to_sentence_case }, { "toSnakeCase", s_to_snake_case },
    { "toTitleCase", s_to_title_case }, { "urlDecode", s_url_decode },
    { "urlEncode", s_url_encode }, { "quote", s_quote },
    { "replaceSpecialChars", s_replace_special_chars }, { "removeTags", s_remove_tags },
    { "removeMarkdown", s_remove_markdown },
};

const methods_t gl__expr_str_n8n_text_methods = { text_methods, GL_NELEM(text_methods) };
