/*
 * expr_str_n8n.c: n8n's extension methods of strings (n8n's
 * packages/workflow/src/extensions/string-extensions.ts): hash and base64,
 * the extract/is checks built on n8n's own regular expressions (run by
 * expr_regex.c), casts (numbers, booleans, JSON, dates). The text edits
 * (case, URL coding, quoting, markup) are in expr_str_n8n_text.c. Each keeps
 * n8n's argument rules and the meaning of its error messages. Every method
 * charges the bytes it reads and builds its result under the output bound.
 */
#include "expr_int.h"
#include "expr_date_int.h"
#include "json.h"

#include <math.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <strings.h>

/* n8n's patterns, as n8n writes them (JavaScript syntax). */
static const char re_email[] =
    "(([^<>()\\[\\]\\\\.,;:\\s@\"]+(\\.[^<>()\\[\\]\\\\.,;:\\s@\"]+)*)|(\".+\"))@(?<domain>(\\[[0-9]"
    "{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}])|(([a-zA-Z\\-0-9]+\\.)+[a-zA-Z]{2,}))";
static const char re_domain_extract[] =
    "^(?:(?:https?|ftp):\\/\\/)?(?:mailto:)?(?:\\/\\/)?((?:www\\.)?(?:(?:[-\\w]+\\.)+(?:[a-zA-Z]"
    "{2,}|xn--[a-zA-Z0-9]+)|localhost|\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}))(?::\\d+)?(?:\\/"
    "[^\\s?]*)?(?:\\?[^\\s#]*)?(?:#[^\\s]*)?$";
static const char re_domain[] =
    "^(?:www\\.)?((?:(?:[-\\w]+\\.)+(?:[a-zA-Z]{2,}|xn--[a-zA-Z0-9]+)|localhost|\\d{1,3}\\.\\d{1,3}"
    "\\.\\d{1,3}\\.\\d{1,3}))(?::\\d+)?(?:\\/[^\\s?]*)?(?:\\?[^\\s#]*)?(?:#[^\\s]*)?$";
#define URL_BODY                                                                                   \
    "(?:(?:https?|ftp):\\/\\/)(?:www\\.)?((?:(?:[-\\w]+\\.)+(?:[a-zA-Z]{2,}|xn--[a-zA-Z0-9]+)|"    \
    "localhost|\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}))(?::\\d+)?(?:\\/[^\\s?#]*)?(?:\\?[^\\s#]*)" \
    "?(?=([^\\s]+#.*)?)#?[^\\s]*"
static const char re_url_exact[] = "^" URL_BODY "$";
static const char re_url[] = URL_BODY;
/* n8n's CURRENCY_REGEXP: the symbols of xe.com, in n8n's order */
static const char re_currency[] =
    "(Lek|؋|\\$|ƒ|₼|Br|BZ\\$|\\$b|KM|P|лв|R\\$|៛|¥|₡|kn|₱|Kč|kr|RD\\$|£|€|¢|Q|L|Ft|₹|Rp|﷼|₪|J\\$|"
    "₩|₭|ден|RM|₨|₮|MT|C\\$|₦|B\\/\\.|Gs|S\\/\\.|zł|lei|₽|Дин\\.|S|R|CHF|NT\\$|฿|TT\\$|₺|₴|\\$U|Bs|"
    "₫|Z\\$)";

static int fail_ext(ev_t *ev, const char *fn, const char *msg)
{
    return gl__expr_fail(ev, "%s(): %s", fn, msg);
}

/* re.exec(self) for one of the patterns above: a match array or null. */
static int exec_pat(ev_t *ev, const char *pat, const char *flags, const val_t *self, val_t *out)
{
    val_t re;
    TRY(gl__expr_regex_make(ev, pat, flags, &re));
    int rc = gl__expr_regex_exec(ev, &re, self, out);
    vfree(&re);
    return rc;
}

static int test_pat(ev_t *ev, const char *pat, const char *flags, const val_t *self, bool *hit)
{
    val_t m;
    TRY(exec_pat(ev, pat, flags, self, &m));
    *hit = m.k == V_ARR;
    vfree(&m);
    return GL_OK;
}

/* Element i of a match array (undefined when unset). */
static val_t match_elem(const val_t *m, size_t i)
{
    return gl__expr_vjson(json_object_array_get_idx(m->j, i));
}

/* ------------------------------------------------------------------------ */
/* hash, base64                                                             */

static int b64_encode(ev_t *ev, const char *s, size_t n, val_t *out)
{
    if (n / 3 * 4 + 8 > ev->max_out)
        return gl__expr_too_big(ev);
    TRY(gl__expr_charge_bytes(ev, 2 * n + 4));
    size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *b = gl_xmalloc(cap);
    sodium_bin2base64(b, cap, (const unsigned char *)s, n, sodium_base64_VARIANT_ORIGINAL);
    *out = vstr_n(b, strlen(b));
    free(b);
    return GL_OK;
}

static int s_hash(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    static const struct {
        const char *name;
        const EVP_MD *(*md)(void);
    } algos[] = {
        { "md5", EVP_md5 }, { "sha1", EVP_sha1 }, { "sha224", EVP_sha224 },
        { "sha256", EVP_sha256 }, { "sha384", EVP_sha384 }, { "sha512", EVP_sha512 },
        { "sha3", EVP_sha3_512 },
    };
    sv_t al;
    char name[16];
    TRY(gl__expr_str_arg(ev, a, na, 0, "md5", &al));
    size_t k = 0;
    for (; k < al.n && k + 1 < sizeof name; k++)
        name[k] = (char)(al.p[k] >= 'A' && al.p[k] <= 'Z' ? al.p[k] | 0x20 : al.p[k]);
    name[k] = '\0';
    bool whole = k == al.n;
    gl__expr_sv_free(&al);
    if (whole && strcmp(name, "base64") == 0)
        return b64_encode(ev, sp(self), sn(self), out);
    for (size_t i = 0; whole && i < GL_NELEM(algos); i++) {
        if (strcmp(name, algos[i].name) != 0)
            continue;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_n = 0;
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        TRY(gl__expr_charge_pass(ev, 4 * sn(self)));
        if (!EVP_Digest(sp(self), sn(self), md, &md_n, algos[i].md(), NULL))
            return fail_ext(ev, "hash", "the digest failed");
        sodium_bin2hex(hex, sizeof hex, md, md_n);
        *out = vstr_n(hex, 2 * (size_t)md_n);
        return GL_OK;
    }
    return gl__expr_fail(ev, "hash(): Unknown algorithm %.20s. Available algorithms are: "
                             "md5,sha1,sha224,sha256,sha384,sha512,sha3, and Base64.", name);
}

static int s_base64_encode(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return b64_encode(ev, sp(self), sn(self), out);
}

/* Text whose invalid UTF-8 bytes read as U+FFFD (what TextDecoder does). */
static int utf8_val(ev_t *ev, const char *s, size_t n, val_t *out)
{
    if (gl_utf8_valid(s, n)) {
        *out = vstr_n(s, n);
        return GL_OK;
    }
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = gl_utf8_decode(s, n, i, &cp);
        int rc = cp == 0xFFFD && l == 1 ? gl__expr_apps(ev, &b, "\xEF\xBF\xBD")
                                        : gl__expr_app(ev, &b, s + i, l);
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
        i += l;
    }
    return gl__expr_buf_val(&b, out);
}

/* js-base64's fromBase64: URL-safe letters allowed, anything outside the
 * alphabet (padding, white space) skipped, then the bytes as UTF-8. */
static int s_base64_decode(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    const char *s = sp(self);
    size_t n = sn(self), got = 0, k = 0;
    uint32_t acc = 0;
    TRY(gl__expr_charge_pass(ev, 2 * n));
    char *bytes = gl_xmalloc(n / 4 * 3 + 3);
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else
            continue;
        acc = acc << 6 | (uint32_t)v;
        if (++got == 4) {
            bytes[k++] = (char)(acc >> 16), bytes[k++] = (char)(acc >> 8), bytes[k++] = (char)acc;
            got = 0, acc = 0;
        }
    }
    if (got == 2)
        bytes[k++] = (char)(acc >> 4);
    else if (got == 3)
        bytes[k++] = (char)(acc >> 10), bytes[k++] = (char)(acc >> 2);
    int rc = utf8_val(ev, bytes, k, out);
    free(bytes);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Checks and extraction                                                    */

static int s_is_email(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    bool hit;
    TRY(test_pat(ev, re_email, "", self, &hit));
    *out = vbool(hit && !memchr(sp(self), ' ', sn(self)));
    return GL_OK;
}

static int s_is_url(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    bool hit;
    TRY(test_pat(ev, re_url_exact, "i", self, &hit));
    *out = vbool(hit);
    return GL_OK;
}

static int s_is_domain(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    bool hit;
    TRY(test_pat(ev, re_domain, "i", self, &hit));
    *out = vbool(hit);
    return GL_OK;
}

static int s_is_numeric(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    val_t f;
    double d;
    if (memchr(sp(self), ' ', sn(self))) {
        *out = vbool(false);
        return GL_OK;
    }
    TRY(gl__expr_to_number(ev, self, &d));
    TRY(gl__expr_global_fn(VAR_PARSEFLOAT)(ev, self, self, 1, &f));
    *out = vbool(!isnan(d) && !isnan(f.n));
    return GL_OK;
}

static bool blank(const val_t *self)
{
    const char *s = sp(self);
    size_t n = sn(self);
    gl__expr_trim_span(&s, &n, true, true);
    return n == 0;
}

static int s_is_blank(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    TRY(gl__expr_charge_pass(ev, sn(self)));
    *out = vbool(blank(self));
    return GL_OK;
}

static int s_is_not_blank(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    TRY(gl__expr_charge_pass(ev, sn(self)));
    *out = vbool(!blank(self));
    return GL_OK;
}

/* The first match of pat (group i of it), or undefined. */
static int extract(ev_t *ev, const char *pat, const char *flags, const val_t *self, size_t i,
                   val_t *out)
{
    val_t m;
    TRY(exec_pat(ev, pat, flags, self, &m));
    *out = m.k == V_ARR ? match_elem(&m, i) : vmk(V_UNDEF);
    if (out->k == V_NULL)
        out->k = V_UNDEF;
    vfree(&m);
    return GL_OK;
}

static int s_extract_email(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return extract(ev, re_email, "", self, 0, out);
}

static int s_extract_url(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return extract(ev, re_url, "i", self, 0, out);
}

static int s_extract_domain(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    val_t is;
    TRY(s_is_email(ev, self, a, na, &is));
    if (is.b) {
        val_t m, g;
        TRY(exec_pat(ev, re_email, "", self, &m));
        *out = vmk(V_UNDEF);
        if (m.k == V_ARR && gl__expr_regex_arr_prop(&m, "groups", 6, &g)) {
            json_object *d = g.k == V_OBJ ? json_object_object_get(g.j, "domain") : NULL;
            if (d)
                *out = gl__expr_vjson(d);
            vfree(&g);
        }
        vfree(&m);
        return GL_OK;
    }
    return extract(ev, re_domain_extract, "i", self, 1, out);
}

static bool scheme_char(char c, bool first)
{
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return first ? alpha : alpha || is_digit(c) || c == '+' || c == '-' || c == '.';
}

/* new URL(value).pathname, or undefined when value is no absolute URL. */
static int s_extract_url_path(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    static const char *const special[] = { "http", "https", "ftp", "ws", "wss", "file" };
    const char *s = sp(self);
    size_t n = sn(self), i = 0;
    TRY(gl__expr_charge_pass(ev, n));
    gl__expr_trim_span(&s, &n, true, true);
    *out = vmk(V_UNDEF);
    while (i < n && scheme_char(s[i], i == 0))
        i++;
    if (i == 0 || i >= n || s[i] != ':')
        return GL_OK;
    bool is_special = false;
    for (size_t k = 0; k < GL_NELEM(special); k++)
        if (strlen(special[k]) == i && strncasecmp(s, special[k], i) == 0)
            is_special = true;
    size_t p = i + 1;
    bool authority = n - p >= 2 && (s[p] == '/' || (is_special && s[p] == '\\')) &&
                     (s[p + 1] == '/' || (is_special && s[p + 1] == '\\'));
    if (is_special && !authority) {
        while (p < n && (s[p] == '/' || s[p] == '\\'))
            p++;
        authority = true;
        p -= 2; /* "http:example.com" reads as "http://example.com" */
    }
    if (authority) {
        size_t host = p + 2;
        p = host;
        while (p < n && !strchr(is_special ? "/\\?#" : "/?#", s[p]))
            p++;
        if (is_special && p == host)
            return GL_OK; /* no host: invalid */
    }
    size_t q = p;
    while (q < n && s[q] != '?' && s[q] != '#')
        q++;
    *out = q == p && is_special ? vstr_n("/", 1) : vstr_n(s + p, q - p);
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* Casts                                                                    */

/* self without n8n's currency symbols; the caller vfree()s *out. */
static int strip_currency(ev_t *ev, const val_t *self, val_t *out)
{
    return gl__expr_regex_sub_pat(ev, re_currency, "gu", self, "", out);
}

static int s_to_number(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    val_t v;
    double d;
    TRY(strip_currency(ev, self, &v));
    int rc = gl__expr_to_number(ev, &v, &d);
    vfree(&v);
    TRY(rc);
    if (isnan(d))
        return fail_ext(ev, "toNumber", "cannot convert to number");
    *out = vnum(d);
    return GL_OK;
}

static int to_int(ev_t *ev, const char *fn, const val_t *self, const val_t *a, size_t na,
                  val_t *out)
{
    val_t args[2];
    TRY(strip_currency(ev, self, &args[0]));
    args[1] = *arg(a, na, 0);
    int rc = gl__expr_global_fn(VAR_PARSEINT)(ev, self, args, 2, out);
    vfree(&args[0]);
    TRY(rc);
    if (isnan(out->n))
        return fail_ext(ev, fn, "cannot convert to integer");
    return GL_OK;
}

static int s_to_int(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return to_int(ev, "toInt", self, a, na, out);
}

static int s_to_whole_number(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return to_int(ev, "toWholeNumber", self, a, na, out);
}

static int to_float(ev_t *ev, const char *fn, const val_t *self, val_t *out)
{
    val_t v;
    TRY(gl__expr_charge_pass(ev, sn(self)));
    if (memchr(sp(self), ',', sn(self)))
        return fail_ext(ev, fn, "cannot convert to float, expected . as decimal separator");
    TRY(strip_currency(ev, self, &v));
    int rc = gl__expr_global_fn(VAR_PARSEFLOAT)(ev, self, &v, 1, out);
    vfree(&v);
    TRY(rc);
    if (isnan(out->n))
        return fail_ext(ev, fn, "cannot convert to float");
    return GL_OK;
}

static int s_to_float(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return to_float(ev, "toFloat", self, out);
}

static int s_to_decimal_number(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return to_float(ev, "toDecimalNumber", self, out);
}

/* "false", "no" and "0" (any case) and "" are false, the rest true. */
static int s_to_boolean(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    static const char *const falsy[] = { "false", "no", "0" };
    TRY(gl__expr_charge_pass(ev, sn(self)));
    bool v = sn(self) > 0;
    for (size_t i = 0; i < GL_NELEM(falsy); i++)
        if (sn(self) == strlen(falsy[i]) && strncasecmp(sp(self), falsy[i], sn(self)) == 0)
            v = false;
    *out = vbool(v);
    return GL_OK;
}

static int s_parse_json(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    json_object *j = NULL;
    gl_err_t jerr;
    TRY(gl__expr_charge(ev, 1 + sn(self) / 32));
    gl_err_clear(&jerr);
    if (gl_json_parse(sp(self), sn(self), ev->max_depth, &j, &jerr) != GL_OK)
        return fail_ext(ev, "parseJson", memchr(sp(self), '\'', sn(self))
                                             ? "Parsing failed. Check you're using double quotes"
                                             : "Parsing failed");
    *out = gl__expr_vjson(j);
    if (out->k == V_ARR || out->k == V_OBJ)
        out->size = sn(self) + 16;
    json_object_put(j);
    return GL_OK;
}

/* n8n's toDateTime(format) and toDate(): the date library reads the text
 * (ISO, HTTP, RFC 2822, SQL, Date.parse; with a format Luxon's fromFormat or
 * 'ms'/'s'/'us'/'excel'), in the workflow's zone. */
static int s_to_date_time(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const val_t *fmt = arg(a, na, 0);
    if (!nullish(fmt) && fmt->k != V_STR)
        return fail_ext(ev, "toDateTime", "the format must be a string");
    return gl__expr_date_from_string(ev, sp(self), sn(self), fmt, out);
}

static int s_to_date(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    val_t d;
    if (gl__expr_date_from_string(ev, sp(self), sn(self), NULL, &d) != GL_OK)
        return fail_ext(ev, "toDate", "cannot convert to date");
    d.df |= DF_JS; /* n8n's toDate() is a JavaScript Date */
    *out = d;
    return GL_OK;
}

static int s_length(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    TRY(gl__expr_charge_pass(ev, sn(self)));
    *out = vnum((double)gl_utf8_count(sp(self), sn(self)));
    return GL_OK;
}

static const method_t n8n_methods[] = {
    { "hash", s_hash }, { "toDate", s_to_date }, { "toDateTime", s_to_date_time },
    { "toBoolean", s_to_boolean }, { "toDecimalNumber", s_to_decimal_number },
    { "toNumber", s_to_number }, { "toFloat", s_to_float }, { "toInt", s_to_int },
    { "toWholeNumber", s_to_whole_number }, { "length", s_length }, { "isDomain", s_is_domain },
    { "isEmail", s_is_email }, { "isNumeric", s_is_numeric }, { "isUrl", s_is_url },
    { "isBlank", s_is_blank }, { "isNotBlank", s_is_not_blank },
    { "toJsonString", gl__expr_to_json_string }, { "extractEmail", s_extract_email },
    { "extractDomain", s_extract_domain }, { "extractUrl", s_extract_url },
    { "extractUrlPath", s_extract_url_path }, { "parseJson", s_parse_json },
    { "base64Encode", s_base64_encode }, { "base64Decode", s_base64_decode },
};

/* n8n's string extensions (isEmpty and isNotEmpty are expr_str.c's, the
 * text edits expr_str_n8n_text.c's). */
const methods_t gl__expr_str_n8n_methods = { n8n_methods, GL_NELEM(n8n_methods) };
