/*
 * n8n_import.c: an n8n workflow export ({name, nodes, connections,
 * settings, pinData…}) into a Glyphic definition (engine.h, "n8n
 * workflows"). A pure function of JSON: nothing is read or stored.
 *
 * Each n8n node becomes one Glyphic node of the same name, position and
 * (when it is a usable id) id; Sticky Notes become the definition's
 * top-level `notes`. Parameters are translated per type and typeVersion;
 * n8n's conditions (IF, Switch, the filter component) become Glyphic
 * expressions. Connections become edges: every n8n node keeps a map from
 * its output indexes to Glyphic ports (an IF's 0/1 to true/false, a
 * Switch's outputs to out<n>/fallback, Loop Over Items' done/loop, the
 * error output) and from its input indexes to Glyphic inputs (a Merge's
 * input1/input2; an edge into Loop Over Items from a node its loop output
 * reaches goes to flow.loop's loop input).
 *
 * Values: n8n marks an expression with a leading '=' ("={{ $json.a }}",
 * "=Hello {{ $json.name }}"); the '=' is dropped and the rest is a Glyphic
 * template as it is. A value without '=' is literal: one holding "{{" is
 * written as a Glyphic expression of a string literal ({{ "…" }}) so it
 * stays literal text.
 *
 * Whatever cannot be translated is a problem {node, type, typeVersion,
 * message}; that node becomes a disabled flow.noop whose notes hold the
 * original type and parameters, so a partial import can still be edited.
 */
#include "engine.h"

#include "json.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OUTS 12 /* n8n outputs of one node we map */
#define MAX_PORTS 4 /* Glyphic ports one n8n output maps to */
#define MAX_SWITCH 8
#define MSG 300

/* A string being built; rc collects buffer errors (too large). */
typedef struct {
    gl_buf_t b;
    int rc;
} sb_t;

static void sb_init(sb_t *s)
{
    gl_buf_init(&s->b, 1 << 20);
    s->rc = GL_OK;
}

static void sb_puts(sb_t *s, const char *t)
{
    s->rc |= gl_buf_puts(&s->b, t);
}

static void sb_add(sb_t *s, const char *t, size_t n)
{
    s->rc |= gl_buf_append(&s->b, t, n);
}

static void sb_printf(sb_t *s, const char *fmt, ...) GL_PRINTF(2, 3);
static void sb_printf(sb_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || n > (1 << 20)) {
        s->rc |= GL_TOO_LARGE;
        return;
    }
    char *tmp = gl_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    int m = vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (m != n)
        s->rc |= GL_TOO_LARGE;
    else
        sb_add(s, tmp, (size_t)n);
    free(tmp);
}

/* s as a JavaScript (JSON) string literal, with quotes */
static void sb_jsstr(sb_t *s, const char *t, size_t n)
{
    sb_puts(s, "\"");
    s->rc |= gl_buf_json_escape(&s->b, t, n);
    sb_puts(s, "\"");
}

static const char *sb_str(sb_t *s)
{
    return s->b.data ? s->b.data : "";
}

/* ---- the n8n document ---------------------------------------------- */

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

/* o[a][b]… by a dotted path */
static json_object *path(json_object *o, const char *p)
{
    char key[64];
    while (o && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        o = get(o, key);
        p += n;
        if (*p == '.')
            p++;
    }
    return o;
}

/* a resource locator {__rl: true, value, mode} stands for its value */
static json_object *unrl(json_object *v)
{
    json_object *inner = get(v, "__rl");
    return inner && json_object_get_boolean(inner) ? get(v, "value") : v;
}

static const char *pstr(json_object *p, const char *key, const char *def)
{
    json_object *v = unrl(path(p, key));
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

static bool pbool(json_object *p, const char *key, bool def)
{
    json_object *v = path(p, key);
    return json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

static double pnum(json_object *p, const char *key, double def)
{
    json_object *v = path(p, key);
    return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)
               ? json_object_get_double(v)
               : def;
}

static size_t alen(json_object *a)
{
    return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static bool is_expr(json_object *v)
{
    return json_object_is_type(v, json_type_string) && json_object_get_string(v)[0] == '=';
}

/* ---- values and expressions ---------------------------------------- */

/* a string parameter value in Glyphic's form (see the top) */
static json_object *conv_str(const char *s)
{
    if (s[0] == '=')
        return json_object_new_string(s + 1);
    if (!gl_expr_has(s))
        return json_object_new_string(s);
    sb_t b;
    sb_init(&b);
    sb_puts(&b, "{{ ");
    sb_jsstr(&b, s, strlen(s));
    sb_puts(&b, " }}");
    json_object *o = b.rc == GL_OK ? json_object_new_string(sb_str(&b)) : json_object_new_string("");
    gl_buf_free(&b.b);
    return o;
}

/* v with fn applied to each string inside (arrays and objects walked); a
 * new reference */
static json_object *map_strings(json_object *v, json_object *(*fn)(json_object *str))
{
    switch (json_object_get_type(v)) {
    case json_type_string: return fn(v);
    case json_type_array: {
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(v); i++)
            json_object_array_add(a, map_strings(json_object_array_get_idx(v, i), fn));
        return a;
    }
    case json_type_object: {
        json_object *o = json_object_new_object();
        json_object_object_foreach(v, k, e) json_object_object_add(o, k, map_strings(e, fn));
        return o;
    }
    default: return json_object_get(v);
    }
}

/* a literal string (from JSON text without '='): it stays literal */
static json_object *lit_string(json_object *v)
{
    const char *s = json_object_get_string(v);
    if (s[0] != '=')
        return conv_str(s);
    sb_t b;
    sb_init(&b);
    sb_puts(&b, "{{ ");
    sb_jsstr(&b, s, strlen(s));
    sb_puts(&b, " }}");
    json_object *o = json_object_new_string(b.rc == GL_OK ? sb_str(&b) : "");
    gl_buf_free(&b.b);
    return o;
}

/* a literal value (from JSON text without '='): strings stay literal */
static json_object *lit_value(json_object *v)
{
    return map_strings(v, lit_string);
}

/* any parameter value, strings inside converted; a new reference */
static json_object *conv_value(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_string: return conv_str(json_object_get_string(v));
    case json_type_array: {
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(v); i++)
            json_object_array_add(a, conv_value(json_object_array_get_idx(v, i)));
        return a;
    }
    case json_type_object: {
        if (get(v, "__rl"))
            return conv_value(unrl(v));
        json_object *o = json_object_new_object();
        json_object_object_foreach(v, k, e) json_object_object_add(o, k, conv_value(e));
        return o;
    }
    default: return json_object_get(v);
    }
}

/* n cut to at most max bytes at a UTF-8 character boundary of s */
static int utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return (int)n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

/* JSON text written as an n8n expression ("={ "a": "{{ x }}" }"): its
 * strings are templates, and a string that is one {{ }} is still a string
 * there (the value's text), so it becomes {{ String(x) }} */
static json_object *json_text_value(json_object *v);

static bool all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

static json_object *json_text_string(json_object *v)
{
    const char *s = json_object_get_string(v);
    const char *open = strstr(s, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
    if (!open || !close || !all_space(s, (size_t)(open - s)) || !all_space(close + 2, strlen(close + 2)) ||
        strstr(open + 2, "{{"))
        return json_object_get(v);
    sb_t b;
    sb_init(&b);
    sb_puts(&b, "{{ String(");
    sb_add(&b, open + 2, (size_t)(close - open - 2));
    sb_puts(&b, ") }}");
    json_object *o = json_object_new_string(b.rc == GL_OK ? sb_str(&b) : "");
    gl_buf_free(&b.b);
    return o;
}

static json_object *json_text_value(json_object *v)
{
    return map_strings(v, json_text_string);
}

/* n8n's raw JSON with expressions ("={ \"a\": {{ x }} }"): n8n puts each
 * {{ }}'s value into the text (objects as JSON text, the rest as
 * String()) and parses the result (Set's resolveRawData). The same as one
 * Glyphic expression: {{ JSON.parse("{ \"a\": " + text(x) + " }") }}. NULL
 * when the text has an unclosed {{. A new string. */
static json_object *raw_json_expr(const char *body)
{
    sb_t b;
    sb_init(&b);
    sb_puts(&b, "{{ JSON.parse(\"\"");
    const char *p = body;
    while (*p) {
        const char *open = strstr(p, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
        const char *text_end = close ? open : p + strlen(p);
        if (text_end > p) {
            sb_puts(&b, " + ");
            sb_jsstr(&b, p, (size_t)(text_end - p));
        }
        if (!close)
            break;
        char x[8192];
        int n = snprintf(x, sizeof x, "(%.*s)", (int)(close - open - 2), open + 2);
        if (n < 0 || (size_t)n >= sizeof x) {
            gl_buf_free(&b.b);
            return NULL;
        }
        sb_printf(&b, " + (typeof %s === \"object\" && %s !== null ? JSON.stringify(%s) : String(%s))", x, x, x, x);
        p = close + 2;
    }
    sb_puts(&b, ") }}");
    json_object *o = b.rc == GL_OK ? json_object_new_string(sb_str(&b)) : NULL;
    gl_buf_free(&b.b);
    return o;
}

/* Appends a JavaScript expression for an n8n value (for the conditions
 * the converter writes): an expression "={{ x }}" as (x), a template
 * "=a {{ x }} b" as a template literal, a literal as a JSON literal. */
static void sb_js(sb_t *b, json_object *v)
{
    v = unrl(v);
    if (!v) {
        sb_puts(b, "undefined");
        return;
    }
    if (!json_object_is_type(v, json_type_string)) {
        sb_puts(b, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        return;
    }
    const char *s = json_object_get_string(v);
    if (s[0] != '=') {
        sb_jsstr(b, s, strlen(s));
        return;
    }
    s++;
    const char *open = strstr(s, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
    if (!open || !close) {
        sb_jsstr(b, s, strlen(s));
        return;
    }
    /* exactly one {{ }} and nothing around it but space: the value itself */
    if (all_space(s, (size_t)(open - s)) && all_space(close + 2, strlen(close + 2)) && !strstr(open + 2, "{{")) {
        sb_puts(b, "(");
        sb_add(b, open + 2, (size_t)(close - open - 2));
        sb_puts(b, ")");
        return;
    }
    sb_puts(b, "`");
    const char *p = s;
    while (*p) {
        open = strstr(p, "{{");
        close = open ? strstr(open + 2, "}}") : NULL;
        const char *text_end = close ? open : p + strlen(p);
        for (const char *q = p; q < text_end; q++) {
            if (*q == '`' || *q == '\\' || (*q == '$' && q[1] == '{'))
                sb_puts(b, "\\");
            sb_add(b, q, 1);
        }
        if (!close)
            break;
        sb_puts(b, "${");
        sb_add(b, open + 2, (size_t)(close - open - 2));
        sb_puts(b, "}");
        p = close + 2;
    }
    sb_puts(b, "`");
}

/* ---- conversion state ---------------------------------------------- */

typedef struct {
    const char *name;        /* n8n name (borrowed) */
    char id[72];             /* Glyphic id */
    json_object *g;          /* the Glyphic node (borrowed from the output), NULL: none (a note) */
    char outs[MAX_OUTS][MAX_PORTS][12];
    char ins[4][12];
    bool loop;               /* flow.loop: edges back from its body go to "loop" */
    bool placeholder;
} nmap_t;

typedef struct {
    json_object *problems;
    char msg[MSG];           /* the current node's problem, "" none */
} cv_t;

static int fail(cv_t *cv, const char *fmt, ...) GL_PRINTF(2, 3);
static int fail(cv_t *cv, const char *fmt, ...)
{
    if (cv->msg[0])
        return GL_INVALID;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cv->msg, sizeof cv->msg, fmt, ap);
    va_end(ap);
    return GL_INVALID;
}

static void set_out(nmap_t *m, int idx, const char *port)
{
    if (idx < 0 || idx >= MAX_OUTS)
        return;
    for (int k = 0; k < MAX_PORTS; k++) {
        if (!m->outs[idx][k][0]) {
            snprintf(m->outs[idx][k], sizeof m->outs[idx][k], "%s", port);
            return;
        }
        if (strcmp(m->outs[idx][k], port) == 0)
            return;
    }
}

static void padd(json_object *g, const char *key, json_object *v)
{
    json_object_object_add(g, key, v);
}

static json_object *jstr(const char *s)
{
    return json_object_new_string(s);
}

static json_object *expr_obj(sb_t *b)
{
    return json_object_new_string(sb_str(b));
}

/* ---- conditions ---------------------------------------------------- */

/* n8n's regex condition: the right value is "/pattern/flags" or a bare
 * pattern; true when String(left) matches it. */
static void regex_cond(sb_t *b, bool neg, const char *left, json_object *r)
{
    static const char rx[] = "/^\\/(.*)\\/([dgimsuy]*)$/s";
    sb_t P;
    sb_init(&P);
    sb_puts(&P, "String(");
    sb_js(&P, r);
    sb_puts(&P, " ?? \"\")");
    const char *p = sb_str(&P);
    sb_printf(b, "%s!!(%s).match(new RegExp(%s.replace(%s, \"$1\"), %s.match(%s) ? %s.replace(%s, \"$2\") : \"\"))",
              neg ? "!" : "", left, p, rx, p, rx, p, rx);
    b->rc |= P.rc;
    gl_buf_free(&P.b);
}

/* pre, v as JavaScript, post */
static void sb_wrap_js(sb_t *b, const char *pre, json_object *v, const char *post)
{
    sb_puts(b, pre);
    sb_js(b, v);
    sb_puts(b, post);
}

/* The JavaScript operator of a comparing filter operation (equals, gt,
 * after, …), or NULL. */
static const char *compare_op(const char *op)
{
    static const char *const ops[][2] = {
        { "equals", "===" }, { "notEquals", "!==" }, { "gt", ">" }, { "after", ">" }, { "lt", "<" },
        { "before", "<" }, { "gte", ">=" }, { "afterOrEquals", ">=" }, { "lte", "<=" }, { "beforeOrEquals", "<=" },
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(op, ops[i][0]))
            return ops[i][1];
    return NULL;
}

/* The string method of a string filter operation ((not)contains,
 * (not)startsWith, (not)endsWith), or NULL. */
static const char *string_method(const char *op)
{
    const char *fn = strncmp(op, "not", 3) == 0 ? op + 3 : op;
    if (!strcmp(fn, "contains") || !strcmp(fn, "Contains"))
        return "includes";
    if (!strcmp(fn, "startsWith") || !strcmp(fn, "StartsWith"))
        return "startsWith";
    if (!strcmp(fn, "endsWith") || !strcmp(fn, "EndsWith"))
        return "endsWith";
    return NULL;
}

/* An array filter operation: (not)contains, length… */
static int array_cond(cv_t *cv, sb_t *b, const char *op, const char *lraw, json_object *r)
{
    if (!strcmp(op, "contains") || !strcmp(op, "notContains")) {
        sb_printf(b, "%s((%s) ?? []).includes(", strcmp(op, "contains") ? "!" : "", lraw);
        sb_js(b, r);
        sb_puts(b, ")");
        return GL_OK;
    }
    const char *o = !strcmp(op, "lengthEquals") ? "===" : !strcmp(op, "lengthNotEquals") ? "!=="
                    : !strcmp(op, "lengthGt") ? ">" : !strcmp(op, "lengthLt") ? "<"
                    : !strcmp(op, "lengthGte") ? ">=" : !strcmp(op, "lengthLte") ? "<=" : NULL;
    if (!o)
        return fail(cv, "unknown array operation '%.40s'", op);
    sb_printf(b, "(((%s) ?? []).length %s Number(", lraw, o);
    sb_js(b, r);
    sb_puts(b, "))");
    return GL_OK;
}

/* One condition of n8n's filter component (IF v2, Switch v3):
 * {leftValue, rightValue, operator: {type, operation}} */
static int filter_cond(cv_t *cv, sb_t *b, json_object *c, bool ci)
{
    json_object *l = get(c, "leftValue"), *r = get(c, "rightValue");
    const char *type = pstr(c, "operator.type", "string"), *op = pstr(c, "operator.operation", "equals");
    sb_t L, R;
    sb_init(&L);
    sb_init(&R);
    bool str = strcmp(type, "string") == 0;
    const char *pre = "", *post = "";
    if (str) {
        pre = "String(";
        post = ci ? " ?? \"\").toLowerCase()" : " ?? \"\")";
    } else if (strcmp(type, "dateTime") == 0) {
        /* n8n compares dates as instants: ISO text (or a DateTime) on both sides */
        pre = "DateTime.fromISO(String(";
        post = ")).toMillis()";
    } else if (strcmp(type, "number") == 0) {
        pre = "Number(";
        post = ")";
    }
    sb_wrap_js(&L, pre, l, post);
    sb_wrap_js(&R, pre, r, post);
    const char *ls = sb_str(&L), *rs = sb_str(&R);
    int rc = GL_OK;
    sb_t raw;
    sb_init(&raw);
    sb_js(&raw, l);
    const char *lraw = sb_str(&raw);
    if (strcmp(op, "exists") == 0)
        sb_printf(b, "(%s) != null", lraw);
    else if (strcmp(op, "notExists") == 0)
        sb_printf(b, "(%s) == null", lraw);
    else if (strcmp(op, "empty") == 0 || strcmp(op, "notEmpty") == 0) {
        const char *neg = strcmp(op, "empty") == 0 ? "" : "!";
        if (strcmp(type, "object") == 0)
            sb_printf(b, "%s(Object.keys((%s) ?? {}).length === 0)", neg, lraw);
        else if (strcmp(type, "array") == 0)
            sb_printf(b, "%s(((%s) ?? []).length === 0)", neg, lraw);
        else
            sb_printf(b, "%s((%s) == null || (%s) === \"\")", neg, lraw, lraw);
    } else if (compare_op(op)) {
        sb_printf(b, "(%s %s %s)", ls, compare_op(op), rs);
    } else if (!strcmp(op, "true") || !strcmp(op, "false")) {
        sb_printf(b, "((%s) === %s)", lraw, op);
    } else if (str && string_method(op)) {
        sb_printf(b, "%s%s.%s(%s)", strncmp(op, "not", 3) == 0 ? "!" : "", ls, string_method(op), rs);
    } else if (strcmp(type, "array") == 0 && (!strcmp(op, "contains") || !strcmp(op, "notContains") ||
                                              strncmp(op, "length", 6) == 0)) {
        rc = array_cond(cv, b, op, lraw, r);
    } else if (str && (!strcmp(op, "regex") || !strcmp(op, "notRegex"))) {
        sb_t LR; /* n8n lowercases the left value only when ignoring case */
        sb_init(&LR);
        sb_wrap_js(&LR, "String(", l, ci ? " ?? \"\").toLowerCase()" : " ?? \"\")");
        regex_cond(b, op[0] == 'n', sb_str(&LR), r);
        b->rc |= LR.rc;
        gl_buf_free(&LR.b);
    } else {
        rc = fail(cv, "condition operation %.20s '%.40s' is not imported", type, op);
    }
    if (L.rc | R.rc | raw.rc)
        rc = fail(cv, "condition too large");
    gl_buf_free(&L.b);
    gl_buf_free(&R.b);
    gl_buf_free(&raw.b);
    return rc;
}

/* n8n's filter value {conditions: [...], combinator, options} as one
 * Glyphic expression source (without braces) */
static int filter_expr(cv_t *cv, sb_t *b, json_object *f, json_object *node_params)
{
    json_object *conds = get(f, "conditions");
    const char *comb = pstr(f, "combinator", "and");
    bool ci = !pbool(f, "options.caseSensitive", true) || pbool(node_params, "options.ignoreCase", false);
    size_t n = alen(conds);
    if (n == 0) {
        sb_puts(b, "true");
        return GL_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_puts(b, strcmp(comb, "or") == 0 ? " || " : " && ");
        sb_puts(b, "(");
        if (filter_cond(cv, b, json_object_array_get_idx(conds, i), ci) != GL_OK)
            return GL_INVALID;
        sb_puts(b, ")");
    }
    return GL_OK;
}

/* A v1 comparison (IF v1, Switch v1/v2): value1 op value2 of a data type */
static int v1_cond(cv_t *cv, sb_t *b, const char *dtype, json_object *v1, const char *op, json_object *v2)
{
    sb_t A, B;
    sb_init(&A);
    sb_init(&B);
    sb_js(&A, v1);
    sb_js(&B, v2);
    const char *a = sb_str(&A), *c = sb_str(&B);
    int rc = GL_OK;
    if (strcmp(dtype, "dateTime") == 0 && (!strcmp(op, "after") || !strcmp(op, "before")))
        sb_printf(b, "(DateTime.fromISO(String(%s)).toMillis() %s DateTime.fromISO(String(%s)).toMillis())", a,
                  op[0] == 'a' ? ">" : "<", c);
    else if (strcmp(dtype, "dateTime") == 0)
        rc = fail(cv, "dateTime operation '%.40s' is not imported", op);
    else if (!strcmp(op, "equal"))
        sb_printf(b, "((%s) === (%s))", a, c);
    else if (!strcmp(op, "notEqual"))
        sb_printf(b, "((%s) !== (%s))", a, c);
    else if (!strcmp(op, "smaller"))
        sb_printf(b, "((%s) < (%s))", a, c);
    else if (!strcmp(op, "smallerEqual"))
        sb_printf(b, "((%s) <= (%s))", a, c);
    else if (!strcmp(op, "larger"))
        sb_printf(b, "((%s) > (%s))", a, c);
    else if (!strcmp(op, "largerEqual"))
        sb_printf(b, "((%s) >= (%s))", a, c);
    else if (!strcmp(op, "isEmpty"))
        sb_printf(b, "((%s) == null || (%s) === \"\")", a, a);
    else if (!strcmp(op, "isNotEmpty"))
        sb_printf(b, "!((%s) == null || (%s) === \"\")", a, a);
    else if (!strcmp(op, "contains") || !strcmp(op, "notContains"))
        sb_printf(b, "%sString(%s ?? \"\").includes(String(%s))", op[0] == 'n' ? "!" : "", a, c);
    else if (!strcmp(op, "startsWith") || !strcmp(op, "notStartsWith"))
        sb_printf(b, "%sString(%s ?? \"\").startsWith(String(%s))", op[0] == 'n' ? "!" : "", a, c);
    else if (!strcmp(op, "endsWith") || !strcmp(op, "notEndsWith"))
        sb_printf(b, "%sString(%s ?? \"\").endsWith(String(%s))", op[0] == 'n' ? "!" : "", a, c);
    else if (!strcmp(op, "regex") || !strcmp(op, "notRegex")) {
        sb_t LR;
        sb_init(&LR);
        sb_printf(&LR, "String(%s ?? \"\")", a);
        regex_cond(b, op[0] == 'n', sb_str(&LR), v2);
        b->rc |= LR.rc;
        gl_buf_free(&LR.b);
    }
    else
        rc = fail(cv, "condition operation '%.40s' is not imported", op);
    if (A.rc | B.rc)
        rc = fail(cv, "condition too large");
    gl_buf_free(&A.b);
    gl_buf_free(&B.b);
    return rc;
}

static json_object *braced(sb_t *inner)
{
    sb_t b;
    sb_init(&b);
    sb_puts(&b, "{{ ");
    sb_puts(&b, sb_str(inner));
    sb_puts(&b, " }}");
    json_object *o = expr_obj(&b);
    gl_buf_free(&b.b);
    return o;
}

/* ---- node types ---------------------------------------------------- */

typedef struct {
    cv_t *cv;
    json_object *n;    /* the n8n node */
    json_object *p;    /* its parameters (may be NULL) */
    double ver;        /* typeVersion */
    json_object *g;    /* the Glyphic params being written */
    nmap_t *m;
    const char *gtype; /* set by the converter */
} nx_t;

static int c_manual(nx_t *x)
{
    x->gtype = "trigger.manual";
    return GL_OK;
}

static int c_error_trigger(nx_t *x)
{
    x->gtype = "trigger.error";
    return GL_OK;
}

static int c_noop(nx_t *x)
{
    x->gtype = "flow.noop";
    return GL_OK;
}

static int c_webhook(nx_t *x)
{
    x->gtype = "trigger.webhook";
    const char *path_s = pstr(x->p, "path", ""), *method = pstr(x->p, "httpMethod", "GET");
    const char *rm = pstr(x->p, "responseMode", "onReceived");
    if (x->p && get(x->p, "multipleMethods") && pbool(x->p, "multipleMethods", false))
        return fail(x->cv, "a webhook with several methods is not imported");
    if (*path_s == '/')
        path_s++;
    for (const char *c = path_s; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.' || *c == '/'))
            return fail(x->cv, "webhook path '%.60s' has characters Glyphic's paths do not take (path parameters "
                               "like :id are not imported)", path_s);
    if (strstr(path_s, "..") || strstr(path_s, "//") || strlen(path_s) > 200)
        return fail(x->cv, "webhook path '%.60s' is not a Glyphic path", path_s);
    if (strcmp(method, "GET") && strcmp(method, "POST") && strcmp(method, "PUT") && strcmp(method, "PATCH") &&
        strcmp(method, "DELETE"))
        return fail(x->cv, "webhook method '%.20s' is not imported", method);
    if (*path_s)
        padd(x->g, "path", jstr(path_s));
    padd(x->g, "method", jstr(method));
    if (strcmp(rm, "onReceived") == 0)
        padd(x->g, "mode", jstr("async"));
    else if (strcmp(rm, "lastNode") == 0 || strcmp(rm, "responseNode") == 0)
        padd(x->g, "mode", jstr("sync"));
    else
        return fail(x->cv, "response mode '%.40s' is not imported", rm);
    if (strcmp(pstr(x->p, "authentication", "none"), "none") != 0)
        return fail(x->cv, "webhook authentication is not imported (Glyphic signs webhooks with a webhook.hmac "
                           "credential instead)");
    return GL_OK;
}

/* cron from one Schedule Trigger interval rule */
static int sched_rule(cv_t *cv, json_object *r, char *cron, size_t cap)
{
    const char *field = pstr(r, "field", "days");
    int mi = (int)pnum(r, "triggerAtMinute", 0), h = (int)pnum(r, "triggerAtHour", 0);
    if (mi < 0 || mi > 59 || h < 0 || h > 23)
        return fail(cv, "triggerAtHour/triggerAtMinute out of range");
    int n;
    if (strcmp(field, "minutes") == 0) {
        int k = (int)pnum(r, "minutesInterval", 5);
        n = k <= 1 ? snprintf(cron, cap, "* * * * *") : snprintf(cron, cap, "*/%d * * * *", k);
    } else if (strcmp(field, "hours") == 0) {
        int k = (int)pnum(r, "hoursInterval", 1);
        n = k <= 1 ? snprintf(cron, cap, "%d * * * *", mi) : snprintf(cron, cap, "%d */%d * * *", mi, k);
    } else if (strcmp(field, "days") == 0) {
        int k = (int)pnum(r, "daysInterval", 1);
        n = k <= 1 ? snprintf(cron, cap, "%d %d * * *", mi, h) : snprintf(cron, cap, "%d %d */%d * *", mi, h, k);
    } else if (strcmp(field, "weeks") == 0) {
        if (pnum(r, "weeksInterval", 1) != 1)
            return fail(cv, "schedules every few weeks are not imported (cron has no week interval)");
        json_object *days = get(r, "triggerAtDay");
        char list[32] = "";
        size_t len = 0;
        for (size_t i = 0; i < alen(days) && len + 3 < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", i ? "," : "",
                                    json_object_get_int(json_object_array_get_idx(days, i)));
        n = snprintf(cron, cap, "%d %d * * %s", mi, h, len ? list : "0");
    } else if (strcmp(field, "months") == 0) {
        int k = (int)pnum(r, "monthsInterval", 1), d = (int)pnum(r, "triggerAtDayOfMonth", 1);
        n = k <= 1 ? snprintf(cron, cap, "%d %d %d * *", mi, h, d) : snprintf(cron, cap, "%d %d %d */%d *", mi, h, d, k);
    } else if (strcmp(field, "cronExpression") == 0) {
        const char *e = pstr(r, "expression", "");
        if (e[0] == '=')
            return fail(cv, "a cron expression written as an expression is not imported");
        /* six fields: n8n's leading seconds; only 0 can be dropped */
        char f[6][64];
        int nf = 0;
        const char *p = e;
        while (*p && nf < 6) {
            p += strspn(p, " \t");
            size_t l = strcspn(p, " \t");
            if (!l)
                break;
            if (l >= sizeof f[0])
                return fail(cv, "cron expression too long");
            memcpy(f[nf], p, l);
            f[nf++][l] = '\0';
            p += l;
        }
        p += strspn(p, " \t");
        if (*p || nf < 5)
            return fail(cv, "cron expression '%.60s' has neither 5 nor 6 fields", e);
        if (nf == 6 && strcmp(f[0], "0") != 0)
            return fail(cv, "cron expressions with seconds are not imported (Glyphic's finest unit is a minute)");
        int o = nf == 6 ? 1 : 0;
        n = snprintf(cron, cap, "%s %s %s %s %s", f[o], f[o + 1], f[o + 2], f[o + 3], f[o + 4]);
    } else if (strcmp(field, "seconds") == 0) {
        return fail(cv, "schedules in seconds are not imported (Glyphic's finest unit is a minute)");
    } else {
        return fail(cv, "schedule interval '%.40s' is not imported", field);
    }
    return n > 0 && (size_t)n < cap ? GL_OK : fail(cv, "schedule too long");
}

static int c_schedule(nx_t *x)
{
    x->gtype = "trigger.schedule";
    json_object *rules = path(x->p, "rule.interval");
    char cron[200];
    if (alen(rules) > 1)
        return fail(x->cv, "several schedule rules in one node are not imported (one cron per trigger)");
    json_object *r = alen(rules) ? json_object_array_get_idx(rules, 0) : NULL;
    if (sched_rule(x->cv, r, cron, sizeof cron) != GL_OK)
        return GL_INVALID;
    padd(x->g, "cron", jstr(cron));
    return GL_OK;
}

/* the old Cron node: triggerTimes.item[] {mode, hour, minute, weekday, dayOfMonth, value, unit, cronExpression} */
static int c_cron(nx_t *x)
{
    x->gtype = "trigger.schedule";
    json_object *items = path(x->p, "triggerTimes.item");
    if (alen(items) != 1)
        return fail(x->cv, alen(items) ? "several trigger times in one node are not imported (one cron per trigger)"
                                       : "a Cron node without a trigger time");
    json_object *t = json_object_array_get_idx(items, 0);
    const char *mode = pstr(t, "mode", "everyDay");
    int h = (int)pnum(t, "hour", 14), mi = (int)pnum(t, "minute", 0);
    char cron[200];
    int n;
    if (!strcmp(mode, "everyMinute"))
        n = snprintf(cron, sizeof cron, "* * * * *");
    else if (!strcmp(mode, "everyHour"))
        n = snprintf(cron, sizeof cron, "%d * * * *", mi);
    else if (!strcmp(mode, "everyDay"))
        n = snprintf(cron, sizeof cron, "%d %d * * *", mi, h);
    else if (!strcmp(mode, "everyWeek"))
        n = snprintf(cron, sizeof cron, "%d %d * * %s", mi, h, pstr(t, "weekday", "1"));
    else if (!strcmp(mode, "everyMonth"))
        n = snprintf(cron, sizeof cron, "%d %d %d * *", mi, h, (int)pnum(t, "dayOfMonth", 1));
    else if (!strcmp(mode, "everyX")) {
        const char *unit = pstr(t, "unit", "hours");
        int v = (int)pnum(t, "value", 2);
        if (v < 1)
            return fail(x->cv, "everyX needs a value of 1 or more");
        n = !strcmp(unit, "minutes") ? snprintf(cron, sizeof cron, "*/%d * * * *", v)
                                     : snprintf(cron, sizeof cron, "0 */%d * * *", v);
    } else if (!strcmp(mode, "custom")) {
        json_object *r = json_object_new_object();
        json_object_object_add(r, "field", jstr("cronExpression"));
        json_object_object_add(r, "expression", jstr(pstr(t, "cronExpression", "")));
        int rc = sched_rule(x->cv, r, cron, sizeof cron);
        json_object_put(r);
        if (rc != GL_OK)
            return rc;
        n = 1;
    } else
        return fail(x->cv, "cron mode '%.40s' is not imported", mode);
    if (n <= 0 || (size_t)n >= sizeof cron)
        return fail(x->cv, "schedule too long");
    padd(x->g, "cron", jstr(cron));
    return GL_OK;
}

/* "={{ x }}" (one expression, nothing around it): x, else NULL */
static const char *single_expr(const char *s, size_t *len)
{
    if (s[0] != '=')
        return NULL;
    s++;
    const char *open = strstr(s, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
    if (!close || !all_space(s, (size_t)(open - s)) || !all_space(close + 2, strlen(close + 2)) ||
        strstr(open + 2, "{{"))
        return NULL;
    *len = (size_t)(close - open - 2);
    return open + 2;
}

/* the value of a Set v3 assignment by its type */
static json_object *typed_value(cv_t *cv, json_object *v, const char *type)
{
    size_t xl = 0;
    const char *x = json_object_is_type(v, json_type_string) ? single_expr(json_object_get_string(v), &xl) : NULL;
    bool str = !strcmp(type, "string") || !strcmp(type, "stringValue");
    bool num = !strcmp(type, "number") || !strcmp(type, "numberValue");
    if (x && str) { /* a string literal needs no conversion */
        json_object *lit = NULL;
        gl_err_t perr;
        gl_err_clear(&perr);
        bool is_lit = gl_json_parse(x, xl, 4, &lit, &perr) == GL_OK && json_object_is_type(lit, json_type_string);
        json_object_put(lit);
        if (is_lit)
            x = NULL;
    }
    if (x && (str || num)) {
        /* n8n converts the value to the field's type (Set's prepareEntry):
         * a string field gets String(value), objects as JSON text; a
         * number field Number(value) */
        sb_t b;
        sb_init(&b);
        char e[8192];
        int n = snprintf(e, sizeof e, "(%.*s)", (int)xl, x);
        if (n < 0 || (size_t)n >= sizeof e) {
            gl_buf_free(&b.b);
            return conv_value(v);
        }
        if (str)
            sb_printf(&b, "{{ typeof %s === \"object\" && %s !== null ? JSON.stringify(%s) : String(%s) }}", "__X", "__X",
                      "__X", "__X");
        else
            sb_printf(&b, "{{ Number(%s) }}", "__X");
        /* __X stands for the expression (written once per use) */
        sb_t out;
        sb_init(&out);
        for (const char *p = sb_str(&b); *p;) {
            const char *hit = strstr(p, "__X");
            if (!hit) {
                sb_puts(&out, p);
                break;
            }
            sb_add(&out, p, (size_t)(hit - p));
            sb_puts(&out, e);
            p = hit + 3;
        }
        json_object *o = out.rc == GL_OK && b.rc == GL_OK ? json_object_new_string(sb_str(&out)) : conv_value(v);
        gl_buf_free(&b.b);
        gl_buf_free(&out.b);
        return o;
    }
    if (!json_object_is_type(v, json_type_string) || is_expr(v))
        return conv_value(v);
    const char *s = json_object_get_string(v);
    if (!strcmp(type, "number") || !strcmp(type, "numberValue")) {
        char *end;
        double d = strtod(s, &end);
        if (*s && !*end && isfinite(d))
            return d == trunc(d) && fabs(d) < 9e15 ? json_object_new_int64((int64_t)d) : json_object_new_double(d);
        if (!*s)
            return NULL;
        fail(cv, "'%.40s' is not a number", s);
        return NULL;
    }
    if (!strcmp(type, "boolean") || !strcmp(type, "booleanValue"))
        return json_object_new_boolean(strcmp(s, "true") == 0);
    if (!strcmp(type, "array") || !strcmp(type, "object") || !strcmp(type, "arrayValue") ||
        !strcmp(type, "objectValue")) {
        json_object *o = NULL;
        gl_err_t err;
        gl_err_clear(&err);
        if (gl_json_parse(s, strlen(s), 64, &o, &err) != GL_OK) {
            fail(cv, "value '%.40s' is not JSON: %.100s", s, err.msg);
            return NULL;
        }
        json_object *c = lit_value(o);
        json_object_put(o);
        return c;
    }
    return conv_value(v);
}

/* comma-separated field names into a JSON array */
static json_object *name_list(const char *s)
{
    json_object *a = json_object_new_array();
    while (*s) {
        s += strspn(s, " ,");
        size_t l = strcspn(s, ",");
        size_t e = l;
        while (e && isspace((unsigned char)s[e - 1]))
            e--;
        if (e)
            json_object_array_add(a, json_object_new_string_len(s, (int)e));
        s += l;
    }
    return a;
}

/* Set's include options (v3): all, none, selected, except */
static int set_include(nx_t *x, json_object *fields)
{
    const char *inc = x->ver >= 3.3 ? (pbool(x->p, "includeOtherFields", false) ? pstr(x->p, "include", "all") : "none")
                                    : pstr(x->p, "include", "all");
    if (!strcmp(inc, "all")) {
        padd(x->g, "mode", jstr("merge"));
    } else if (!strcmp(inc, "none")) {
        padd(x->g, "mode", jstr("replace"));
    } else if (!strcmp(inc, "except")) {
        padd(x->g, "mode", jstr("merge"));
        padd(x->g, "remove", name_list(pstr(x->p, "excludeFields", "")));
    } else if (!strcmp(inc, "selected")) {
        padd(x->g, "mode", jstr("replace"));
        json_object *names = name_list(pstr(x->p, "includeFields", ""));
        for (size_t i = 0; i < json_object_array_length(names); i++) {
            const char *nm = json_object_get_string(json_object_array_get_idx(names, i));
            if (get(fields, nm))
                continue;
            sb_t b;
            sb_init(&b);
            sb_puts(&b, "{{ $json[");
            sb_jsstr(&b, nm, strlen(nm));
            sb_puts(&b, "] }}");
            json_object_object_add(fields, nm, expr_obj(&b));
            gl_buf_free(&b.b);
        }
        json_object_put(names);
    } else {
        return fail(x->cv, "include option '%.40s' is not imported", inc);
    }
    return GL_OK;
}

/* Set v1-v2: values.string/number/boolean, keepOnlySet. */
static int set_v1(nx_t *x, json_object *fields)
{
    static const char *const kinds[] = { "string", "number", "boolean", NULL };
    for (const char *const *k = kinds; *k; k++) {
        char key[32];
        snprintf(key, sizeof key, "values.%s", *k);
        json_object *vals = path(x->p, key);
        for (size_t i = 0; i < alen(vals); i++) {
            json_object *e = json_object_array_get_idx(vals, i);
            const char *nm = pstr(e, "name", "propertyName");
            json_object *v = get(e, "value");
            json_object *out = v ? conv_value(v)
                                 : !strcmp(*k, "string") ? jstr("")
                                 : !strcmp(*k, "number") ? json_object_new_int(0) : json_object_new_boolean(0);
            json_object_object_add(fields, nm, out);
        }
    }
    padd(x->g, "mode", jstr(pbool(x->p, "keepOnlySet", false) ? "replace" : "merge"));
    return GL_OK;
}

/* Edit Fields' JSON mode (jsonOutput): JSON text whose strings may hold
 * {{ }}, one expression giving the object, or n8n's JSON with unquoted
 * {{ }}. */
static int set_raw(nx_t *x, json_object *fields)
{
    json_object *jo = get(x->p, "jsonOutput");
    const char *s = json_object_is_type(jo, json_type_string) ? json_object_get_string(jo) : "{}";
    bool e = s[0] == '=';
    const char *body = e ? s + 1 : s;
    json_object *parsed = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_json_parse(body, strlen(body), 64, &parsed, &err) == GL_OK && json_object_is_type(parsed, json_type_object)) {
        /* JSON text: {{ }} inside its strings are templates when it is an expression */
        json_object_object_foreach(parsed, k, v) json_object_object_add(fields, k, e ? json_text_value(v) : lit_value(v));
        json_object_put(parsed);
        return GL_OK;
    }
    json_object_put(parsed);
    const char *open = strstr(body, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
    json_object *rx = NULL;
    if (e && open && close && all_space(body, (size_t)(open - body)) && all_space(close + 2, strlen(close + 2)))
        padd(x->g, "fields", jstr(body)); /* one expression giving the object */
    else if (e && (rx = raw_json_expr(body)) != NULL)
        padd(x->g, "fields", rx);
    else
        return fail(x->cv, "JSON output that is neither JSON text nor n8n's JSON with {{ }} expressions is "
                           "not imported");
    return GL_OK;
}

/* Edit Fields' manual mode: 3.3+ assignments, 3.0-3.2 fields.values. */
static int set_manual(nx_t *x, json_object *fields)
{
    bool v33 = x->ver >= 3.3;
    json_object *list = path(x->p, v33 ? "assignments.assignments" : "fields.values");
    for (size_t i = 0; i < alen(list); i++) {
        json_object *a = json_object_array_get_idx(list, i);
        json_object *v = v33 ? typed_value(x->cv, get(a, "value"), pstr(a, "type", "string"))
                             : typed_value(x->cv, get(a, pstr(a, "type", "stringValue")), pstr(a, "type", "stringValue"));
        if (x->cv->msg[0])
            return GL_INVALID;
        json_object_object_add(fields, pstr(a, "name", ""), v);
    }
    return GL_OK;
}

static int c_set(nx_t *x)
{
    x->gtype = "data.set";
    json_object *fields = json_object_new_object();
    padd(x->g, "fields", fields);
    if (!pbool(x->p, "options.dotNotation", true))
        return fail(x->cv, "dot notation off is not imported (Glyphic's data.set always reads dots as nesting)");
    if (x->ver < 3)
        return set_v1(x, fields);
    const char *mode = pstr(x->p, "mode", "manual");
    int rc;
    if (!strcmp(mode, "raw"))
        rc = set_raw(x, fields);
    else if (!strcmp(mode, "manual"))
        rc = set_manual(x, fields);
    else
        return fail(x->cv, "mode '%.40s' is not imported", mode);
    if (rc != GL_OK)
        return rc;
    return set_include(x, fields);
}

static int c_if(nx_t *x)
{
    x->gtype = "flow.if";
    set_out(x->m, 0, "true");
    set_out(x->m, 1, "false");
    sb_t b;
    sb_init(&b);
    int rc = GL_OK;
    if (x->ver < 2) {
        static const char *const kinds[] = { "boolean", "number", "string", "dateTime", NULL };
        bool any = !strcmp(pstr(x->p, "combineOperation", "all"), "any") ||
                   !strcmp(pstr(x->p, "combineConditions", "AND"), "OR");
        int n = 0;
        for (const char *const *k = kinds; *k && rc == GL_OK; k++) {
            char key[40];
            snprintf(key, sizeof key, "conditions.%s", *k);
            json_object *cs = path(x->p, key);
            for (size_t i = 0; i < alen(cs) && rc == GL_OK; i++) {
                json_object *c = json_object_array_get_idx(cs, i);
                if (n++)
                    sb_puts(&b, any ? " || " : " && ");
                json_object *dv1 = !strcmp(*k, "boolean") ? json_object_new_boolean(0)
                                   : !strcmp(*k, "number") ? json_object_new_int(0) : jstr("");
                json_object *v1 = get(c, "value1") ? get(c, "value1") : dv1;
                json_object *v2 = get(c, "value2") ? get(c, "value2") : dv1;
                rc = v1_cond(x->cv, &b, *k, v1, pstr(c, "operation", !strcmp(*k, "dateTime") ? "after" : "equal"), v2);
                json_object_put(dv1);
            }
        }
        if (n == 0)
            sb_puts(&b, "false");
    } else {
        rc = filter_expr(x->cv, &b, get(x->p, "conditions"), x->p);
    }
    if (rc == GL_OK && b.rc == GL_OK)
        padd(x->g, "condition", braced(&b));
    else if (rc == GL_OK)
        rc = fail(x->cv, "condition too large");
    gl_buf_free(&b.b);
    return rc;
}

static int c_switch(nx_t *x)
{
    x->gtype = "flow.switch";
    const char *mode = pstr(x->p, "mode", "rules");
    json_object *rules = json_object_new_array();
    padd(x->g, "rules", rules);
    if (!strcmp(mode, "expression")) {
        int n = x->ver >= 3 ? (int)pnum(x->p, "numberOutputs", 4) : x->ver >= 2 ? (int)pnum(x->p, "outputsAmount", 4) : 4;
        if (n < 1 || n > MAX_SWITCH)
            return fail(x->cv, "%d outputs; Glyphic's switch has at most %d", n, MAX_SWITCH);
        json_object *out = get(x->p, "output");
        for (int o = 0; o < n; o++) {
            sb_t b;
            sb_init(&b);
            sb_puts(&b, "{{ Number(");
            sb_js(&b, out);
            sb_printf(&b, ") === %d }}", o);
            json_object_array_add(rules, expr_obj(&b));
            gl_buf_free(&b.b);
            char port[12];
            snprintf(port, sizeof port, "out%d", o);
            set_out(x->m, o, port);
        }
        return GL_OK;
    }
    if (strcmp(mode, "rules") != 0)
        return fail(x->cv, "mode '%.40s' is not imported", mode);
    if (x->ver < 3) {
        const char *dtype = pstr(x->p, "dataType", "number");
        json_object *rs = path(x->p, "rules.rules"), *v1 = get(x->p, "value1");
        if (alen(rs) > MAX_SWITCH)
            return fail(x->cv, "%zu rules; Glyphic's switch has at most %d", alen(rs), MAX_SWITCH);
        for (size_t i = 0; i < alen(rs); i++) {
            json_object *r = json_object_array_get_idx(rs, i);
            sb_t b;
            sb_init(&b);
            json_object *dv = !strcmp(dtype, "number") ? json_object_new_int(0) : !strcmp(dtype, "boolean") ? json_object_new_boolean(0) : jstr("");
            int rc = v1_cond(x->cv, &b, dtype, v1 ? v1 : dv, pstr(r, "operation", "equal"), get(r, "value2") ? get(r, "value2") : dv);
            json_object_put(dv);
            if (rc == GL_OK)
                json_object_array_add(rules, braced(&b));
            gl_buf_free(&b.b);
            if (rc != GL_OK)
                return rc;
            char port[12];
            snprintf(port, sizeof port, "out%d", (int)i & 7);
            set_out(x->m, (int)pnum(r, "output", 0), port);
        }
        int fb = (int)pnum(x->p, "fallbackOutput", -1);
        if (fb >= 0)
            set_out(x->m, fb, "fallback");
        return GL_OK;
    }
    json_object *rs = path(x->p, "rules.values");
    if (alen(rs) > MAX_SWITCH)
        return fail(x->cv, "%zu rules; Glyphic's switch has at most %d", alen(rs), MAX_SWITCH);
    if (pbool(x->p, "options.allMatchingOutputs", false))
        return fail(x->cv, "sending an item to all matching outputs is not imported (Glyphic's switch takes the first)");
    for (size_t i = 0; i < alen(rs); i++) {
        sb_t b;
        sb_init(&b);
        int rc = filter_expr(x->cv, &b, get(json_object_array_get_idx(rs, i), "conditions"), x->p);
        if (rc == GL_OK)
            json_object_array_add(rules, braced(&b));
        gl_buf_free(&b.b);
        if (rc != GL_OK)
            return rc;
        char port[12];
        snprintf(port, sizeof port, "out%d", (int)i & 7);
        set_out(x->m, (int)i, port);
    }
    json_object *fb = path(x->p, "options.fallbackOutput");
    if (json_object_is_type(fb, json_type_string) && !strcmp(json_object_get_string(fb), "extra"))
        set_out(x->m, (int)alen(rs), "fallback");
    else if (json_object_is_type(fb, json_type_int) && json_object_get_int(fb) >= 0)
        set_out(x->m, json_object_get_int(fb), "fallback");
    return GL_OK;
}

/* Merge's key fields: v2 mergeByFields.values[{field1, field2}], v3
 * fieldsToMatchString "a" or advanced fieldsToMatch.values */
static int merge_keys(nx_t *x)
{
    json_object *vals = x->ver >= 3 ? path(x->p, "fieldsToMatch.values") : path(x->p, "mergeByFields.values");
    const char *k1 = NULL, *k2 = NULL;
    if (x->ver >= 3 && !pbool(x->p, "advanced", false)) {
        json_object *names = name_list(pstr(x->p, "fieldsToMatchString", ""));
        size_t n = json_object_array_length(names);
        if (n == 1) {
            padd(x->g, "key", json_object_get(json_object_array_get_idx(names, 0)));
        }
        json_object_put(names);
        return n == 1 ? GL_OK : fail(x->cv, "merging by %zu fields is not imported (one key field)", n);
    }
    if (alen(vals) != 1)
        return fail(x->cv, "merging by %zu fields is not imported (one key field)", alen(vals));
    json_object *v = json_object_array_get_idx(vals, 0);
    k1 = pstr(v, "field1", "");
    k2 = pstr(v, "field2", "");
    if (!*k1 || !*k2 || k1[0] == '=' || k2[0] == '=')
        return fail(x->cv, "merge key fields must be plain field names");
    padd(x->g, "key", jstr(k1));
    if (strcmp(k1, k2))
        padd(x->g, "key2", jstr(k2));
    return GL_OK;
}

static int merge_join_mode(nx_t *x)
{
    const char *jm = pstr(x->p, "joinMode", "keepMatches"), *from = pstr(x->p, "outputDataFrom", "both");
    if (!strcmp(jm, "keepMatches")) {
        padd(x->g, "join", jstr(!strcmp(from, "input1") ? "matched1" : !strcmp(from, "input2") ? "matched2" : "inner"));
    } else if (!strcmp(jm, "keepNonMatches")) {
        padd(x->g, "join", jstr(!strcmp(from, "input1") ? "unmatched1" : !strcmp(from, "input2") ? "unmatched2" : "unmatched"));
    } else if (!strcmp(jm, "enrichInput1")) {
        padd(x->g, "join", jstr("left"));
    } else if (!strcmp(jm, "enrichInput2")) {
        padd(x->g, "join", jstr("right"));
    } else if (!strcmp(jm, "keepEverything")) {
        padd(x->g, "join", jstr("outer"));
    } else {
        return fail(x->cv, "join mode '%.40s' is not imported", jm);
    }
    const char *clash = pstr(x->p, "options.clashHandling.values.resolveClash", "preferInput2");
    if (strcmp(clash, "preferInput2") != 0)
        return fail(x->cv, "clash handling '%.40s' is not imported (input2's fields win)", clash);
    return GL_OK;
}

static int c_merge(nx_t *x)
{
    x->gtype = "flow.merge";
    snprintf(x->m->ins[0], sizeof x->m->ins[0], "input1");
    snprintf(x->m->ins[1], sizeof x->m->ins[1], "input2");
    const char *mode = pstr(x->p, "mode", "append");
    if (x->ver >= 3 && pnum(x->p, "numberInputs", 2) != 2)
        return fail(x->cv, "a merge of more than two inputs is not imported");
    if (!strcmp(mode, "append")) {
        padd(x->g, "mode", jstr("append"));
        return GL_OK;
    }
    if (x->ver < 2) {
        if (!strcmp(mode, "mergeByKey") || !strcmp(mode, "keepKeyMatches")) {
            const char *k1 = pstr(x->p, "propertyName1", ""), *k2 = pstr(x->p, "propertyName2", "");
            if (!*k1 || !*k2)
                return fail(x->cv, "merge by key needs both property names");
            padd(x->g, "mode", jstr("join"));
            padd(x->g, "key", jstr(k1));
            if (strcmp(k1, k2))
                padd(x->g, "key2", jstr(k2));
            /* v1 mergeByKey: every input1 item, enriched; keepKeyMatches: input1's items that match */
            padd(x->g, "join", jstr(!strcmp(mode, "keepKeyMatches") ? "matched1" : "left"));
            return GL_OK;
        }
        if (!strcmp(mode, "mergeByIndex")) {
            const char *j = pstr(x->p, "join", "left");
            if (!strcmp(j, "left"))
                return fail(x->cv, "merge by index with a left join is not imported (inner or outer)");
            padd(x->g, "mode", jstr("position"));
            padd(x->g, "join", jstr(!strcmp(j, "outer") ? "outer" : "inner"));
            return GL_OK;
        }
        if (!strcmp(mode, "removeKeyMatches")) {
            const char *k1 = pstr(x->p, "propertyName1", ""), *k2 = pstr(x->p, "propertyName2", "");
            if (!*k1 || !*k2)
                return fail(x->cv, "remove key matches needs both property names");
            padd(x->g, "mode", jstr("join"));
            padd(x->g, "key", jstr(k1));
            if (strcmp(k1, k2))
                padd(x->g, "key2", jstr(k2));
            padd(x->g, "join", jstr("unmatched1"));
            return GL_OK;
        }
        if (!strcmp(mode, "wait") || !strcmp(mode, "passThrough")) {
            padd(x->g, "mode", jstr("wait"));
            padd(x->g, "output", jstr(!strcmp(mode, "wait") ? "input1" : pstr(x->p, "output", "input1")));
            return GL_OK;
        }
        return fail(x->cv, "mode '%.40s' is not imported", mode);
    }
    if (!strcmp(mode, "chooseBranch")) {
        const char *o = x->ver >= 3 ? pstr(x->p, "useDataOfInput", "1") : pstr(x->p, "output", "input1");
        json_object *on = path(x->p, "useDataOfInput");
        if (x->ver >= 3 && json_object_is_type(on, json_type_int))
            o = json_object_get_int(on) == 2 ? "input2" : "input1";
        if (!strcmp(o, "empty") || strcmp(pstr(x->p, "chooseBranchMode", "waitForBoth"), "waitForBoth") != 0)
            return fail(x->cv, "choose branch with output '%.20s' is not imported", o);
        padd(x->g, "mode", jstr("wait"));
        padd(x->g, "output", jstr(!strcmp(o, "input2") || !strcmp(o, "2") ? "input2" : "input1"));
        return GL_OK;
    }
    const char *how = x->ver >= 3 ? (!strcmp(mode, "combine") ? pstr(x->p, "combineBy", "combineByFields") : mode)
                                  : (!strcmp(mode, "combine") ? pstr(x->p, "combinationMode", "mergeByFields") : mode);
    if (!strcmp(how, "combineByFields") || !strcmp(how, "mergeByFields")) {
        padd(x->g, "mode", jstr("join"));
        if (merge_keys(x) != GL_OK || merge_join_mode(x) != GL_OK)
            return GL_INVALID;
        return GL_OK;
    }
    if (!strcmp(how, "combineByPosition") || !strcmp(how, "mergeByPosition")) {
        padd(x->g, "mode", jstr("position"));
        padd(x->g, "join", jstr(pbool(x->p, "options.includeUnpaired", false) ? "outer" : "inner"));
        return GL_OK;
    }
    return fail(x->cv, "merge mode '%.40s' is not imported", how);
}

/* HTTP Request: name/value pairs into an object */
static json_object *pairs(json_object *list)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < alen(list); i++) {
        json_object *e = json_object_array_get_idx(list, i);
        const char *nm = pstr(e, "name", "");
        if (*nm)
            json_object_object_add(o, nm, get(e, "value") ? conv_value(get(e, "value")) : jstr(""));
    }
    return o;
}

/* a JSON-text parameter (jsonBody, jsonQuery, v1's *ParametersJson) */
static int json_param(nx_t *x, const char *gkey, json_object *v)
{
    if (!v)
        return GL_OK;
    if (!json_object_is_type(v, json_type_string)) {
        padd(x->g, gkey, conv_value(v));
        return GL_OK;
    }
    const char *s = json_object_get_string(v);
    bool e = s[0] == '=';
    const char *body = e ? s + 1 : s;
    json_object *parsed = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_json_parse(body, strlen(body), 64, &parsed, &err) == GL_OK) {
        padd(x->g, gkey, e ? json_text_value(parsed) : lit_value(parsed));
        json_object_put(parsed);
        return GL_OK;
    }
    const char *open = strstr(body, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
    if (e && open && close && all_space(body, (size_t)(open - body)) && all_space(close + 2, strlen(close + 2))) {
        padd(x->g, gkey, jstr(body));
        return GL_OK;
    }
    json_object *rx = e ? raw_json_expr(body) : NULL;
    if (rx) {
        padd(x->g, gkey, rx);
        return GL_OK;
    }
    return fail(x->cv, "%s: text that is neither JSON nor n8n's JSON with {{ }} expressions is not imported", gkey);
}

/* the credential the node names for its authentication: n8n's credentials
 * object {type: {id, name}} names the Glyphic credential of that name */
static int http_auth(nx_t *x, const char *auth)
{
    if (!strcmp(auth, "none"))
        return GL_OK;
    json_object *creds = get(x->n, "credentials");
    const char *name = NULL;
    if (json_object_is_type(creds, json_type_object)) {
        json_object_object_foreach(creds, k, v)
        {
            (void)k;
            if (!name)
                name = pstr(v, "name", NULL);
        }
    }
    if (!name)
        return fail(x->cv, "authentication '%.40s' without a credential name", auth);
    padd(x->g, "credential", jstr(name));
    return GL_OK;
}

/* HTTP Request v1-v2: the body and its parameters, as key/value lists or
 * JSON text. */
static int http_v1_params(nx_t *x)
{
    if (pbool(x->p, "jsonParameters", false)) {
        if (json_param(x, "query", get(x->p, "queryParametersJson")) != GL_OK ||
            json_param(x, "headers", get(x->p, "headerParametersJson")) != GL_OK ||
            json_param(x, "body", get(x->p, "bodyParametersJson")) != GL_OK)
            return GL_INVALID;
        if (get(x->g, "body"))
            padd(x->g, "body_type", jstr("json"));
        return GL_OK;
    }
    json_object *q = path(x->p, "queryParametersUi.parameter"), *h = path(x->p, "headerParametersUi.parameter"),
                *b = path(x->p, "bodyParametersUi.parameter");
    if (alen(q))
        padd(x->g, "query", pairs(q));
    if (alen(h))
        padd(x->g, "headers", pairs(h));
    if (alen(b)) {
        padd(x->g, "body", pairs(b));
        if (!strcmp(pstr(x->p, "options.bodyContentType", "json"), "form-urlencoded"))
            padd(x->g, "body_type", jstr("form"));
        else
            padd(x->g, "body_type", jstr("json"));
    }
    return GL_OK;
}

/* responseFormat file: the response saved as the binary property prop. */
static void http_file_response(nx_t *x, const char *prop)
{
    padd(x->g, "response_type", jstr("file"));
    padd(x->g, "response_property", jstr(*prop ? prop : "data"));
}

/* HTTP Request v1-v2 (requestMethod, *ParametersUi, responseFormat). */
static int http_v1(nx_t *x)
{
    padd(x->g, "method", jstr(pstr(x->p, "requestMethod", "GET")));
    padd(x->g, "url", conv_value(get(x->p, "url") ? get(x->p, "url") : jstr("")));
    if (http_v1_params(x) != GL_OK)
        return GL_INVALID;
    const char *rf = pstr(x->p, "responseFormat", "json");
    if (!strcmp(rf, "string"))
        padd(x->g, "response_type", jstr("text"));
    else if (!strcmp(rf, "file"))
        http_file_response(x, pstr(x->p, "dataPropertyName", "data"));
    else if (strcmp(rf, "json"))
        return fail(x->cv, "response format '%.20s' is not imported", rf);
    if (pbool(x->p, "options.fullResponse", false))
        padd(x->g, "output", jstr("response"));
    if (pbool(x->p, "options.ignoreResponseCode", false))
        padd(x->g, "fail_on_status", json_object_new_boolean(0));
    double t = pnum(x->p, "options.timeout", 0);
    if (t > 0)
        padd(x->g, "timeout_ms", json_object_new_int64((int64_t)t));
    const char *auth = pstr(x->p, "authentication", "none");
    if (!strcmp(auth, "oAuth1") || !strcmp(auth, "digestAuth"))
        return fail(x->cv, "authentication '%.20s' is not imported", auth);
    return http_auth(x, auth);
}

/* HTTP Request v3+: query or headers (name: "query" / "headers") as
 * key/value pairs or JSON text, when send is on. */
static int http_pairs_or_json(nx_t *x, const char *name, const char *send, const char *specify,
                              const char *json_key, const char *pairs_path)
{
    if (!pbool(x->p, send, false))
        return GL_OK;
    if (!strcmp(pstr(x->p, specify, "keypair"), "json"))
        return json_param(x, name, get(x->p, json_key));
    padd(x->g, name, pairs(path(x->p, pairs_path)));
    return GL_OK;
}

/* HTTP Request v3+, contentType multipart-form-data: formData parameters
 * become the body's fields, formBinaryData ones file parts
 * (binary_property "name:inputDataFieldName, …"). */
static int http_multipart(nx_t *x)
{
    json_object *list = path(x->p, "bodyParameters.parameters"), *fields = json_object_new_object();
    gl_buf_t spec;
    gl_buf_init(&spec, 4096);
    int rc = GL_OK;
    for (size_t i = 0; i < alen(list) && rc == GL_OK; i++) {
        json_object *e = json_object_array_get_idx(list, i);
        const char *nm = pstr(e, "name", "");
        if (!*nm)
            continue;
        if (strcmp(pstr(e, "parameterType", "formData"), "formBinaryData") != 0)
            json_object_object_add(fields, nm, get(e, "value") ? conv_value(get(e, "value")) : jstr(""));
        else if (strpbrk(nm, ",:") || gl_buf_printf(&spec, "%s%s:%s", spec.len ? "," : "", nm,
                                                    pstr(e, "inputDataFieldName", "data")) != GL_OK)
            rc = fail(x->cv, "the multipart file part '%.40s' is not imported", nm);
    }
    padd(x->g, "body_type", jstr("multipart"));
    padd(x->g, "body", fields);
    if (rc == GL_OK && spec.len)
        padd(x->g, "binary_property", jstr(spec.data));
    gl_buf_free(&spec);
    return rc;
}

/* HTTP Request v3+: the body (json, form-urlencoded, raw, binary, multipart). */
static int http_body(nx_t *x)
{
    if (!pbool(x->p, "sendBody", false))
        return GL_OK;
    const char *ct = pstr(x->p, "contentType", "json");
    if (!strcmp(ct, "json")) {
        padd(x->g, "body_type", jstr("json"));
        if (!strcmp(pstr(x->p, "specifyBody", "keypair"), "json"))
            return json_param(x, "body", get(x->p, "jsonBody"));
        padd(x->g, "body", pairs(path(x->p, "bodyParameters.parameters")));
    } else if (!strcmp(ct, "form-urlencoded")) {
        padd(x->g, "body_type", jstr("form"));
        padd(x->g, "body", pairs(path(x->p, "bodyParameters.parameters")));
    } else if (!strcmp(ct, "raw")) {
        padd(x->g, "body_type", jstr("raw"));
        padd(x->g, "body", conv_value(get(x->p, "body") ? get(x->p, "body") : jstr("")));
        const char *rct = pstr(x->p, "rawContentType", "");
        if (*rct) {
            json_object *h = get(x->g, "headers");
            if (!h) {
                h = json_object_new_object();
                padd(x->g, "headers", h);
            }
            json_object_object_add(h, "Content-Type", conv_str(rct));
        }
    } else if (!strcmp(ct, "binaryData")) {
        padd(x->g, "body_type", jstr("binary"));
        padd(x->g, "binary_property", jstr(pstr(x->p, "inputDataFieldName", "data")));
    } else if (!strcmp(ct, "multipart-form-data")) {
        return http_multipart(x);
    } else {
        return fail(x->cv, "body content type '%.30s' is not imported", ct);
    }
    return GL_OK;
}

/* HTTP Request v3+: the response and request options. */
static int http_options(nx_t *x)
{
    const char *rf = pstr(x->p, "options.response.response.responseFormat", "autodetect");
    if (!strcmp(rf, "json"))
        padd(x->g, "response_type", jstr("json"));
    else if (!strcmp(rf, "text"))
        padd(x->g, "response_type", jstr("text"));
    else if (!strcmp(rf, "file"))
        http_file_response(x, pstr(x->p, "options.response.response.outputPropertyName", "data"));
    else if (strcmp(rf, "autodetect"))
        return fail(x->cv, "response format '%.20s' is not imported", rf);
    if (pbool(x->p, "options.response.response.fullResponse", false))
        padd(x->g, "output", jstr("response"));
    if (pbool(x->p, "options.response.response.neverError", false))
        padd(x->g, "fail_on_status", json_object_new_boolean(0));
    if (get(path(x->p, "options.redirect.redirect"), "followRedirects") &&
        !pbool(x->p, "options.redirect.redirect.followRedirects", true))
        padd(x->g, "follow_redirects", json_object_new_boolean(0));
    double t = pnum(x->p, "options.timeout", 0);
    if (t > 0)
        padd(x->g, "timeout_ms", json_object_new_int64((int64_t)t));
    if (get(path(x->p, "options"), "batching") || get(path(x->p, "options"), "pagination"))
        return fail(x->cv, "batching and pagination options are not imported");
    return GL_OK;
}

static int c_http(nx_t *x)
{
    x->gtype = "http.request";
    padd(x->g, "output", jstr("body"));
    if (pbool(x->p, "options.allowUnauthorizedCerts", false) || pbool(x->p, "allowUnauthorizedCerts", false))
        return fail(x->cv, "ignoring TLS certificate errors is not imported (Glyphic always checks them)");
    if (*pstr(x->p, "options.proxy", ""))
        return fail(x->cv, "a proxy is not imported (Glyphic's requests use none)");
    if (x->ver < 3)
        return http_v1(x);
    padd(x->g, "method", jstr(pstr(x->p, "method", "GET")));
    padd(x->g, "url", conv_value(get(x->p, "url") ? get(x->p, "url") : jstr("")));
    if (http_pairs_or_json(x, "query", "sendQuery", "specifyQuery", "jsonQuery", "queryParameters.parameters") !=
            GL_OK ||
        http_pairs_or_json(x, "headers", "sendHeaders", "specifyHeaders", "jsonHeaders",
                           "headerParameters.parameters") != GL_OK ||
        http_body(x) != GL_OK || http_options(x) != GL_OK)
        return GL_INVALID;
    return http_auth(x, pstr(x->p, "authentication", "none"));
}

static int c_respond(nx_t *x)
{
    x->gtype = "flow.respond";
    const char *with = pstr(x->p, "respondWith", "firstIncomingItem");
    json_object *h = json_object_new_object();
    padd(x->g, "headers", h);
    json_object *entries = path(x->p, "options.responseHeaders.entries");
    for (size_t i = 0; i < alen(entries); i++) {
        json_object *e = json_object_array_get_idx(entries, i);
        json_object_object_add(h, pstr(e, "name", "X-Unnamed"), conv_value(get(e, "value") ? get(e, "value") : jstr("")));
    }
    json_object *code = path(x->p, "options.responseCode");
    if (code)
        padd(x->g, "status", conv_value(code));
    if (!strcmp(with, "firstIncomingItem")) {
        /* the default body */
    } else if (!strcmp(with, "allIncomingItems")) {
        padd(x->g, "body", jstr("{{ $input.all() }}"));
    } else if (!strcmp(with, "json")) {
        if (json_param(x, "body", get(x->p, "responseBody") ? get(x->p, "responseBody") : jstr("{}")) != GL_OK)
            return GL_INVALID;
    } else if (!strcmp(with, "text")) {
        padd(x->g, "body", conv_value(get(x->p, "responseBody") ? get(x->p, "responseBody") : jstr("")));
        if (!get(h, "Content-Type") && !get(h, "content-type"))
            json_object_object_add(h, "Content-Type", jstr("text/plain; charset=utf-8"));
    } else if (!strcmp(with, "binary")) {
        /* v1.1: responseDataSource set names inputFieldName; automatically
         * (n8n: the first binary property) is "data" here */
        padd(x->g, "respond_with", jstr("binary"));
        padd(x->g, "binary_property", jstr(!strcmp(pstr(x->p, "responseDataSource", "automatically"), "set")
                                               ? pstr(x->p, "inputFieldName", "data")
                                               : "data"));
    } else if (!strcmp(with, "noData")) {
        padd(x->g, "body", jstr(""));
    } else if (!strcmp(with, "redirect")) {
        json_object_object_add(h, "Location", conv_value(get(x->p, "redirectURL") ? get(x->p, "redirectURL") : jstr("")));
        if (!code)
            padd(x->g, "status", json_object_new_int(307));
        padd(x->g, "body", jstr(""));
    } else {
        return fail(x->cv, "respond with '%.30s' is not imported", with);
    }
    return GL_OK;
}

static int c_loop(nx_t *x)
{
    x->gtype = "flow.loop";
    x->m->loop = true;
    double bs = pnum(x->p, "batchSize", 10);
    padd(x->g, "batch_size", json_object_new_int64(bs >= 1 ? (int64_t)bs : 1));
    if (pbool(x->p, "options.reset", false))
        return fail(x->cv, "the reset option is not imported");
    if (x->ver >= 3) {
        set_out(x->m, 0, "done");
        set_out(x->m, 1, "batch");
    } else {
        set_out(x->m, 0, "batch");
    }
    return GL_OK;
}

static int c_split_out(nx_t *x, const char *field_key)
{
    x->gtype = "flow.split";
    const char *f = pstr(x->p, field_key, "");
    if (!*f || f[0] == '=' || strchr(f, ','))
        return fail(x->cv, "split out needs one plain field name (several fields or an expression are not imported)");
    const char *inc = pstr(x->p, "include", "noOtherFields");
    if (strcmp(inc, "noOtherFields"))
        return fail(x->cv, "including other fields is not imported");
    if (*pstr(x->p, "options.destinationFieldName", ""))
        return fail(x->cv, "a destination field name is not imported");
    padd(x->g, "field", jstr(f));
    return GL_OK;
}

static int c_aggregate_like(nx_t *x, const char *what)
{
    x->gtype = "flow.aggregate";
    if (!strcmp(what, "aggregateAllItemData")) {
        padd(x->g, "field", jstr(pstr(x->p, "destinationFieldName", "data")));
        if (strcmp(pstr(x->p, "include", "allFields"), "allFields"))
            return fail(x->cv, "aggregating only some fields of the items is not imported");
        return GL_OK;
    }
    if (strcmp(what, "aggregateIndividualFields"))
        return fail(x->cv, "aggregate '%.40s' is not imported", what);
    json_object *list = path(x->p, "fieldsToAggregate.fieldToAggregate"), *names = json_object_new_array();
    padd(x->g, "fields", names);
    for (size_t i = 0; i < alen(list); i++) {
        json_object *e = json_object_array_get_idx(list, i);
        const char *f = pstr(e, "fieldToAggregate", "");
        if (!*f || f[0] == '=' || pbool(e, "renameField", false) || strchr(f, '.'))
            return fail(x->cv, "aggregated fields must be plain top-level names, not renamed");
        json_object_array_add(names, jstr(f));
    }
    if (!alen(list))
        return fail(x->cv, "no field to aggregate");
    if (pbool(x->p, "options.keepMissing", false) || pbool(x->p, "options.mergeLists", false))
        return fail(x->cv, "the keepMissing and mergeLists options are not imported");
    return GL_OK;
}

static int c_aggregate(nx_t *x)
{
    return c_aggregate_like(x, pstr(x->p, "aggregate", "aggregateIndividualFields"));
}

static int c_split_out_node(nx_t *x)
{
    return c_split_out(x, "fieldToSplitOut");
}

static int c_item_lists(nx_t *x)
{
    const char *op = pstr(x->p, "operation", "splitOutItems");
    if (!strcmp(op, "splitOutItems"))
        return c_split_out(x, "fieldToSplitOut");
    if (!strcmp(op, "aggregateItems"))
        return c_aggregate_like(x, pstr(x->p, "aggregate", "aggregateIndividualFields"));
    return fail(x->cv, "Item Lists operation '%.40s' is not imported", op);
}

static int c_wait(nx_t *x)
{
    x->gtype = "flow.wait";
    const char *resume = pstr(x->p, "resume", "timeInterval");
    if (!strcmp(resume, "timeInterval")) {
        const char *unit = pstr(x->p, "unit", x->ver >= 1.1 ? "seconds" : "hours");
        double mult = !strcmp(unit, "seconds") ? 1 : !strcmp(unit, "minutes") ? 60 : !strcmp(unit, "hours") ? 3600
                      : !strcmp(unit, "days") ? 86400 : -1;
        if (mult < 0)
            return fail(x->cv, "unit '%.20s' is not imported", unit);
        padd(x->g, "mode", jstr("duration"));
        json_object *amount = get(x->p, "amount");
        if (is_expr(amount)) {
            sb_t b;
            sb_init(&b);
            sb_puts(&b, "{{ Number(");
            sb_js(&b, amount);
            sb_printf(&b, ") * %g }}", mult);
            padd(x->g, "seconds", expr_obj(&b));
            gl_buf_free(&b.b);
        } else {
            /* defaults: v1 1 hour; v1.1 5 seconds (from memory of n8n's Wait
             * node; exports leave default values out) */
            double a = amount ? json_object_get_double(amount) : x->ver >= 1.1 ? 5 : 1;
            padd(x->g, "seconds", json_object_new_double(a * mult));
        }
        return GL_OK;
    }
    if (!strcmp(resume, "specificTime")) {
        padd(x->g, "mode", jstr("until"));
        padd(x->g, "until", conv_value(get(x->p, "dateTime") ? get(x->p, "dateTime") : jstr("")));
        return GL_OK;
    }
    return fail(x->cv, "resuming on '%.30s' is not imported (Glyphic's wait is for a time)", resume);
}

static int c_exec_workflow(nx_t *x)
{
    x->gtype = "flow.subworkflow";
    const char *src = pstr(x->p, "source", "database");
    if (strcmp(src, "database"))
        return fail(x->cv, "running a workflow from source '%.20s' is not imported", src);
    if (strcmp(pstr(x->p, "mode", "once"), "once"))
        return fail(x->cv, "running the workflow once for each item is not imported");
    const char *id = pstr(x->p, "workflowId", "");
    if (!gl_is_uuid(id))
        return fail(x->cv, "workflow id '%.40s' is not a Glyphic workflow id: import that workflow, then put its "
                           "Glyphic id here", id);
    padd(x->g, "workflow_id", jstr(id));
    return GL_OK;
}

/* Filter (1, 2–2.2): an If whose true output keeps the items (output 0)
 * and whose false output holds the discarded ones (output 1 when shown);
 * v1 has IF v1's conditions with combineConditions AND/OR */
static int c_filter(nx_t *x)
{
    return c_if(x);
}

/* Rename Keys (1): keys.key[] {currentKey, newKey} */
static int c_rename_keys(nx_t *x)
{
    x->gtype = "data.set";
    json_object *keys = path(x->p, "keys.key"), *rn = json_object_new_object();
    padd(x->g, "rename", rn);
    padd(x->g, "mode", jstr("merge"));
    if (alen(path(x->p, "additionalOptions.regexReplacement.replacements")))
        return fail(x->cv, "regular-expression renames are not imported");
    for (size_t i = 0; i < alen(keys); i++) {
        json_object *k = json_object_array_get_idx(keys, i);
        const char *from = pstr(k, "currentKey", ""), *to = pstr(k, "newKey", "");
        if (!*from || !*to || from[0] == '=' || to[0] == '=')
            return fail(x->cv, "renamed keys must be plain names");
        json_object_object_add(rn, from, jstr(to));
    }
    return GL_OK;
}

/* Interval (1): every N seconds/minutes/hours */
static int c_interval(nx_t *x)
{
    x->gtype = "trigger.schedule";
    const char *unit = pstr(x->p, "unit", "seconds");
    int n = (int)pnum(x->p, "interval", 1);
    char cron[64];
    if (n < 1)
        return fail(x->cv, "interval must be 1 or more");
    if (!strcmp(unit, "minutes") && n < 60)
        snprintf(cron, sizeof cron, n == 1 ? "* * * * *" : "*/%d * * * *", n);
    else if (!strcmp(unit, "hours") && n < 24)
        snprintf(cron, sizeof cron, n == 1 ? "0 * * * *" : "0 */%d * * *", n);
    else
        return fail(x->cv, "an interval of %d %.10s has no cron equivalent (minutes below 60, hours below 24)", n, unit);
    padd(x->g, "cron", jstr(cron));
    return GL_OK;
}

typedef int (*conv_fn)(nx_t *x);

static const struct {
    const char *type;
    conv_fn fn;
} conv_table[] = {
    { "n8n-nodes-base.manualTrigger", c_manual },
    { "n8n-nodes-base.start", c_manual },
    { "n8n-nodes-base.webhook", c_webhook },
    { "n8n-nodes-base.scheduleTrigger", c_schedule },
    { "n8n-nodes-base.cron", c_cron },
    { "n8n-nodes-base.errorTrigger", c_error_trigger },
    { "n8n-nodes-base.set", c_set },
    { "n8n-nodes-base.if", c_if },
    { "n8n-nodes-base.switch", c_switch },
    { "n8n-nodes-base.merge", c_merge },
    { "n8n-nodes-base.httpRequest", c_http },
    { "n8n-nodes-base.respondToWebhook", c_respond },
    { "n8n-nodes-base.splitInBatches", c_loop },
    { "n8n-nodes-base.splitOut", c_split_out_node },
    { "n8n-nodes-base.itemLists", c_item_lists },
    { "n8n-nodes-base.aggregate", c_aggregate },
    { "n8n-nodes-base.wait", c_wait },
    { "n8n-nodes-base.executeWorkflow", c_exec_workflow },
    { "n8n-nodes-base.noOp", c_noop },
    { "n8n-nodes-base.executeWorkflowTrigger", c_manual },
    { "n8n-nodes-base.filter", c_filter },
    { "n8n-nodes-base.renameKeys", c_rename_keys },
    { "n8n-nodes-base.interval", c_interval },
};

static const char *why_not(const char *type)
{
    if (!strcmp(type, "n8n-nodes-base.code") || !strcmp(type, "n8n-nodes-base.function") ||
        !strcmp(type, "n8n-nodes-base.functionItem"))
        return "no code node yet: Glyphic has no node that runs JavaScript";
    return "no Glyphic node for this n8n node type";
}

/* ---- the document -------------------------------------------------- */

bool gl_n8n_is_export(json_object *doc)
{
    json_object *nodes = get(doc, "nodes"), *conns = get(doc, "connections");
    if (!json_object_is_type(nodes, json_type_array) || !json_object_is_type(conns, json_type_object) ||
        get(doc, "edges"))
        return false;
    for (size_t i = 0; i < json_object_array_length(nodes); i++) {
        const char *t = pstr(json_object_array_get_idx(nodes, i), "type", "");
        if (strchr(t, '.') && (!strncmp(t, "n8n-nodes-", 10) || !strncmp(t, "@n8n/", 5)))
            return true;
    }
    return json_object_array_length(nodes) == 0;
}

static void add_problem(json_object *problems, const char *node, const char *type, json_object *ver, const char *msg)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "node", node ? jstr(node) : NULL);
    json_object_object_add(p, "type", type ? jstr(type) : NULL);
    json_object_object_add(p, "typeVersion", ver ? json_object_get(ver) : NULL);
    json_object_object_add(p, "message", jstr(msg));
    json_object_array_add(problems, p);
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

static nmap_t *find_map(nmap_t *maps, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (maps[i].name && strcmp(maps[i].name, name) == 0)
            return &maps[i];
    return NULL;
}

static void placeholder(json_object *g, json_object *n, const char *type, const char *msg)
{
    json_object_object_add(g, "type", jstr("flow.noop"));
    json_object_object_add(g, "disabled", json_object_new_boolean(1));
    sb_t b;
    sb_init(&b);
    sb_printf(&b, "Imported from n8n as a placeholder: %.100s could not be imported (%.200s).\nOriginal parameters: ",
              type, msg);
    json_object *p = get(n, "parameters");
    const char *ps = p ? json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN) : "{}";
    size_t room = 9900 > b.b.len ? 9900 - b.b.len : 0;
    size_t l = strlen(ps);
    sb_add(&b, ps, (size_t)utf8_cut(ps, l, room));
    json_object_object_add(g, "notes", jstr(b.rc == GL_OK ? sb_str(&b) : "Imported from n8n as a placeholder"));
    gl_buf_free(&b.b);
}

/* true when `to` is reachable from node `from` following the mapped edges */
static bool reaches(json_object *conns, nmap_t *maps, size_t n, const char *from, const char *to, int *budget)
{
    /* iterative search over names */
    const char **stack = gl_xmalloc((n + 1) * sizeof *stack);
    bool *seen = gl_xcalloc(n + 1, sizeof *seen);
    int top = 0;
    bool found = false;
    stack[top++] = from;
    while (top && !found && (*budget)-- > 0) {
        const char *cur = stack[--top];
        json_object *mains = get(get(conns, cur), "main");
        for (size_t o = 0; o < alen(mains) && !found; o++) {
            json_object *list = json_object_array_get_idx(mains, o);
            for (size_t k = 0; k < alen(list); k++) {
                const char *dst = pstr(json_object_array_get_idx(list, k), "node", NULL);
                nmap_t *dm = dst ? find_map(maps, n, dst) : NULL;
                if (!dm)
                    continue;
                if (strcmp(dst, to) == 0) {
                    found = true;
                    break;
                }
                size_t di = (size_t)(dm - maps);
                if (!seen[di] && top < (int)n) {
                    seen[di] = true;
                    stack[top++] = dst;
                }
            }
        }
    }
    free(stack);
    free(seen);
    return found;
}

/* A Sticky Note: a canvas note {text, position, size} of the definition. */
static json_object *import_note(json_object *nd)
{
    json_object *note = json_object_new_object();
    const char *text = pstr(nd, "parameters.content", "");
    size_t tl = strlen(text);
    json_object_object_add(note, "text", json_object_new_string_len(text, utf8_cut(text, tl, 10000)));
    json_object *pos = get(nd, "position");
    if (pos)
        json_object_object_add(note, "position", json_object_get(pos));
    json_object *size = json_object_new_array();
    json_object_array_add(size, json_object_new_double(pnum(nd, "parameters.width", 240)));
    json_object_array_add(size, json_object_new_double(pnum(nd, "parameters.height", 160)));
    json_object_object_add(note, "size", size);
    return note;
}

/* Node i's Glyphic id: its n8n id when that is a valid one no earlier node
 * took, else n8n-<i+1>. */
static void import_id(nmap_t *maps, size_t i, json_object *nd)
{
    nmap_t *m = &maps[i];
    const char *nid = pstr(nd, "id", "");
    bool dup = false;
    for (size_t k = 0; k < i; k++)
        if (maps[k].g && strcmp(maps[k].id, nid) == 0)
            dup = true;
    if (id_ok(nid) && !dup)
        snprintf(m->id, sizeof m->id, "%s", nid);
    else
        snprintf(m->id, sizeof m->id, "n8n-%zu", i + 1);
}

/* The node settings n8n keeps beside the parameters: onError/continueOnFail,
 * retries; executeOnce and alwaysOutputData are refused (cv->msg). */
static void import_settings_of_node(cv_t *cv, json_object *nd, nmap_t *m, json_object *g, const char *gtype)
{
    const char *on_error = pstr(nd, "onError", pbool(nd, "continueOnFail", false) ? "continueRegularOutput" : "stopWorkflow");
    if (!cv->msg[0] && pbool(nd, "executeOnce", false))
        fail(cv, "'execute once' is not imported");
    if (!cv->msg[0] && pbool(nd, "alwaysOutputData", false))
        fail(cv, "'always output data' is not imported");
    if (!cv->msg[0] && !m->outs[0][0][0])
        set_out(m, 0, !strcmp(gtype, "flow.loop") ? "batch" : "main");
    if (!cv->msg[0] && strcmp(on_error, "stopWorkflow")) {
        json_object_object_add(g, "continue_on_fail", json_object_new_boolean(1));
        if (!strcmp(on_error, "continueErrorOutput")) {
            int k = 0;
            while (k < MAX_OUTS - 1 && m->outs[k][0][0])
                k++;
            set_out(m, k, "error");
        } else {
            set_out(m, 0, "error"); /* failures go on along the regular output */
        }
    }
    if (!cv->msg[0] && pbool(nd, "retryOnFail", false)) {
        json_object *r = json_object_new_object();
        int tries = (int)pnum(nd, "maxTries", 3);
        json_object_object_add(r, "max", json_object_new_int(tries < 1 ? 0 : tries > 11 ? 10 : tries - 1));
        json_object_object_add(r, "backoff_ms", json_object_new_int64((int64_t)pnum(nd, "waitBetweenTries", 1000)));
        json_object_object_add(g, "retry", r);
    }
}

/* Converts node i (a named, typed n8n node, not a sticky note) into a new
 * Glyphic node appended to gnodes; one that cannot be converted becomes a
 * placeholder and a problem. */
static void import_node(cv_t *cv, nmap_t *maps, size_t i, json_object *nd, json_object *gnodes)
{
    nmap_t *m = &maps[i];
    const char *name = pstr(nd, "name", NULL), *type = pstr(nd, "type", NULL);
    import_id(maps, i, nd);
    json_object *g = json_object_new_object();
    json_object_array_add(gnodes, g);
    m->g = g;
    json_object_object_add(g, "id", jstr(m->id));
    size_t nl = strlen(name);
    json_object_object_add(g, "name", json_object_new_string_len(name, utf8_cut(name, nl, 100)));
    json_object *pos = get(nd, "position");
    if (json_object_is_type(pos, json_type_array) && json_object_array_length(pos) == 2)
        json_object_object_add(g, "position", json_object_get(pos));
    snprintf(m->ins[0], sizeof m->ins[0], "main");
    json_object *params = json_object_new_object();
    nx_t x = { cv, nd, get(nd, "parameters"), pnum(nd, "typeVersion", 1), params, m, NULL };
    cv->msg[0] = '\0';
    conv_fn fn = NULL;
    for (size_t k = 0; k < sizeof conv_table / sizeof conv_table[0]; k++)
        if (!strcmp(conv_table[k].type, type))
            fn = conv_table[k].fn;
    if (!fn)
        fail(cv, "%s", why_not(type));
    else if (fn(&x) != GL_OK && !cv->msg[0])
        fail(cv, "cannot be imported");
    import_settings_of_node(cv, nd, m, g, x.gtype);
    if (cv->msg[0]) {
        add_problem(cv->problems, name, type, get(nd, "typeVersion"), cv->msg);
        json_object_put(params);
        placeholder(g, nd, type, cv->msg);
        m->placeholder = true;
        for (int k = 0; k < MAX_OUTS; k++)
            snprintf(m->outs[k][0], sizeof m->outs[k][0], "main");
        snprintf(m->ins[1], sizeof m->ins[1], "main");
        return;
    }
    json_object_object_add(g, "type", jstr(x.gtype));
    json_object_object_add(g, "params", params);
    if (pbool(nd, "disabled", false))
        json_object_object_add(g, "disabled", json_object_new_boolean(1));
    const char *nnotes = pstr(nd, "notes", NULL);
    if (nnotes && *nnotes) {
        size_t l = strlen(nnotes);
        json_object_object_add(g, "notes", json_object_new_string_len(nnotes, utf8_cut(nnotes, l, 10000)));
    }
}

/* Every node of the export: Glyphic nodes into gnodes, canvas notes into
 * notes, and what cannot be taken into problems. */
static void import_nodes(cv_t *cv, nmap_t *maps, json_object *nodes, json_object *gnodes, json_object *notes)
{
    size_t n = json_object_array_length(nodes);
    for (size_t i = 0; i < n; i++) {
        json_object *nd = json_object_array_get_idx(nodes, i);
        const char *name = pstr(nd, "name", NULL), *type = pstr(nd, "type", NULL);
        json_object *verv = get(nd, "typeVersion");
        if (!json_object_is_type(nd, json_type_object) || !name || !*name || !type) {
            add_problem(cv->problems, name, type, verv, "a node needs a name and a type");
            continue;
        }
        if (find_map(maps, i, name)) {
            add_problem(cv->problems, name, type, verv, "two nodes have this name");
            continue;
        }
        maps[i].name = name;
        if (!strcmp(type, "n8n-nodes-base.stickyNote"))
            json_object_array_add(notes, import_note(nd));
        else
            import_node(cv, maps, i, nd, gnodes);
    }
}

/* The edges of one n8n connection, output o of sm to c ({node, index}). */
static void import_edge(json_object *problems, json_object *conns, nmap_t *maps, size_t n, const char *src,
                        nmap_t *sm, size_t o, json_object *c, json_object *edges, int *budget)
{
    const char *dst = pstr(c, "node", "");
    int in = (int)pnum(c, "index", 0);
    nmap_t *dm = find_map(maps, n, dst);
    if (!dm || !dm->g) {
        add_problem(problems, src, NULL, NULL, "connection to a node that does not exist");
        return;
    }
    if (o >= MAX_OUTS || !sm->outs[o][0][0]) {
        add_problem(problems, src, NULL, NULL, "connection from an output this node does not have");
        return;
    }
    const char *tp = in >= 0 && in < 4 && dm->ins[in][0] ? dm->ins[in] : NULL;
    if (!tp) {
        add_problem(problems, dst, NULL, NULL, "connection to an input this node does not have");
        return;
    }
    if (dm->loop && !dm->placeholder && reaches(conns, maps, n, dst, src, budget))
        tp = "loop";
    for (int p = 0; p < MAX_PORTS && sm->outs[o][p][0]; p++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "from", jstr(sm->id));
        json_object_object_add(e, "from_port", jstr(sm->outs[o][p]));
        json_object_object_add(e, "to", jstr(dm->id));
        json_object_object_add(e, "to_port", jstr(tp));
        json_object_array_add(edges, e);
    }
}

/* n8n's connections {source: {main: [[{node, index}, …] per output]}} as
 * edges between the converted nodes. */
static void import_connections(json_object *problems, json_object *conns, nmap_t *maps, size_t n,
                               json_object *edges)
{
    int budget = 1000000;
    json_object_object_foreach(conns, src, byport)
    {
        nmap_t *sm = find_map(maps, n, src);
        if (!sm || !sm->g) {
            add_problem(problems, src, NULL, NULL, sm ? "a sticky note has no connections" : "connection from a node that does not exist");
            continue;
        }
        if (!json_object_is_type(byport, json_type_object)) {
            add_problem(problems, src, NULL, NULL, "connections must be an object {main: [[…]]}");
            continue;
        }
        json_object_object_foreach(byport, kind, outs)
        {
            if (strcmp(kind, "main")) {
                add_problem(problems, src, NULL, NULL, "only main connections are imported (no AI sub-nodes)");
                continue;
            }
            for (size_t o = 0; o < alen(outs); o++) {
                json_object *list = json_object_array_get_idx(outs, o);
                for (size_t k = 0; k < alen(list); k++)
                    import_edge(problems, conns, maps, n, src, sm, o, json_object_array_get_idx(list, k), edges,
                                &budget);
            }
        }
    }
}

/* The workflow's settings: timezone, error workflow, execution timeout. */
static json_object *import_workflow_settings(json_object *doc, json_object *problems)
{
    json_object *settings = get(doc, "settings"), *gs = json_object_new_object();
    const char *tz = pstr(settings, "timezone", NULL);
    if (tz && strcmp(tz, "DEFAULT"))
        json_object_object_add(gs, "timezone", jstr(tz));
    const char *ew = pstr(settings, "errorWorkflow", NULL);
    if (ew && gl_is_uuid(ew))
        json_object_object_add(gs, "error_workflow_id", jstr(ew));
    else if (ew && *ew)
        add_problem(problems, NULL, NULL, NULL, "settings.errorWorkflow is an n8n workflow id: set the error "
                                                "workflow again after importing it");
    double to = pnum(settings, "executionTimeout", -1);
    if (to > 0)
        json_object_object_add(gs, "timeout_ms", json_object_new_int64((int64_t)(to * 1000)));
    return gs;
}

int gl_n8n_import(json_object *doc, json_object **def_out, json_object **problems_out, gl_err_t *err)
{
    *def_out = NULL;
    *problems_out = NULL;
    json_object *nodes = get(doc, "nodes"), *conns = get(doc, "connections");
    if (!json_object_is_type(nodes, json_type_array) || !json_object_is_type(conns, json_type_object)) {
        gl_err_set(err, "not an n8n workflow export: it needs a 'nodes' array and a 'connections' object");
        return GL_INVALID;
    }
    size_t n = json_object_array_length(nodes);
    if (n > 500) {
        gl_err_set(err, "%zu nodes; the limit is 500", n);
        return GL_INVALID;
    }
    json_object *problems = json_object_new_array(), *gnodes = json_object_new_array(),
                *edges = json_object_new_array(), *notes = json_object_new_array();
    nmap_t *maps = gl_xcalloc(n + 1, sizeof *maps);
    cv_t cv = { .problems = problems };
    import_nodes(&cv, maps, nodes, gnodes, notes);
    import_connections(problems, conns, maps, n, edges);
    json_object *def = json_object_new_object();
    json_object_object_add(def, "nodes", gnodes);
    json_object_object_add(def, "edges", edges);
    json_object_object_add(def, "settings", import_workflow_settings(doc, problems));
    if (json_object_array_length(notes))
        json_object_object_add(def, "notes", notes);
    else
        json_object_put(notes);
    free(maps);
    *def_out = def;
    *problems_out = problems;
    return GL_OK;
}
