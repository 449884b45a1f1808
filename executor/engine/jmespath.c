/*
 * jmespath.c: JMESPath (https://jmespath.org/specification.html) for n8n's
 * $jmespath(object, expression): identifiers (bare and "quoted"),
 * subexpressions, index and slice, list and object projections ([*], .*),
 * flatten ([]), filters ([?…]) with the comparators, ||, &&, !, multiselect
 * lists and hashes, pipes, `literals`, 'raw strings', @, expression
 * references (&) and the spec's built-in functions.
 *
 * The expression is tokenized and parsed by a Pratt parser (the binding
 * powers of the reference implementation) into a tree on an arena, then
 * evaluated over json-c data borrowed from the caller. Every node visited,
 * every element a projection, filter or function walks and every
 * BYTES_PER_STEP bytes compared or copied is charged to the calling
 * expression's budget; everything built goes through the output bound; the
 * parser's nesting is capped by the expression's max_depth.
 */
#include "expr_int.h"

#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* Tokens                                                                   */

enum {
    K_EOF, K_ID, K_QID, K_RAW, K_LIT, K_NUM, K_DOT, K_STAR, K_FLATTEN, K_FILTER, K_LBRACKET,
    K_RBRACKET, K_LBRACE, K_RBRACE, K_LPAREN, K_RPAREN, K_COMMA, K_COLON, K_PIPE, K_OR, K_AND,
    K_EXPREF, K_NOT, K_EQ, K_NE, K_LT, K_LE, K_GT, K_GE, K_CURRENT
};

typedef struct {
    int k;
    size_t pos;
    const char *s; /* K_ID, K_QID, K_RAW: the text (arena, NUL-terminated) */
    size_t len;
    long num;
    json_object *lit; /* K_LIT: owned by the arena */
} jtok_t;

/* ------------------------------------------------------------------------ */
/* The tree                                                                 */

enum {
    J_CURRENT, J_FIELD, J_SUB, J_INDEX, J_SLICE, J_PROJ, J_VPROJ, J_FLATTEN, J_FILTER, J_CMP,
    J_OR, J_AND, J_NOT, J_LIT, J_MLIST, J_MHASH, J_PIPE, J_FUNC, J_EXPREF
};

typedef struct jn jn_t;
struct jn {
    int k, op;
    const char *s; /* J_FIELD, J_FUNC: the name */
    size_t len;
    jn_t *a, *b, *c;
    jn_t **kids; /* J_MLIST, J_MHASH, J_FUNC */
    const char **keys;
    size_t n;
    long idx[3];
    bool has[3];
    json_object *lit;
};

typedef struct {
    ev_t *ev;
    gl_arena_t *arena;
    const char *src;
    size_t n;
    jtok_t *t;
    size_t nt, cap, at;
    int depth;
} jp_t;

static int perr(jp_t *p, size_t pos, const char *what)
{
    return gl__expr_fail(p->ev, "jmespath: syntax error at column %zu: %s", pos + 1, what);
}

static bool id_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool id_char(int c)
{
    return id_start(c) || is_digit(c);
}

static int push_tok(jp_t *p, jtok_t t)
{
    if (p->nt == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        jtok_t *nt = gl_arena_alloc(p->arena, cap * sizeof *nt);
        if (p->nt)
            memcpy(nt, p->t, p->nt * sizeof *nt);
        p->t = nt;
        p->cap = cap;
    }
    p->t[p->nt++] = t;
    return GL_OK;
}

/* The text between delimiters q at *i (past the opening one); JSON
 * string escapes for "…", \' and \\ for '…', \` for `…`. */
static int delimited(jp_t *p, size_t *i, char q, const char **out, size_t *len)
{
    size_t start = *i - 1, j = *i;
    while (j < p->n && p->src[j] != q)
        j += p->src[j] == '\\' && j + 1 < p->n ? 2 : 1;
    if (j >= p->n)
        return perr(p, start, "unterminated string");
    *out = p->src + *i;
    *len = j - *i;
    *i = j + 1;
    return GL_OK;
}

/* A quoted token whose body is s[0..len) after its opening quote q:
 * 'raw string', "quoted identifier" (a JSON string) or `JSON literal`
 * (\` for a backquote). */
static int lex_quoted(jp_t *p, char q, const char *s, size_t len, jtok_t *t)
{
    if (q == '\'') {
        char *r = gl_arena_alloc(p->arena, len + 1);
        size_t n = 0;
        for (size_t k = 0; k < len; k++) {
            if (s[k] == '\\' && k + 1 < len && (s[k + 1] == '\'' || s[k + 1] == '\\'))
                k++;
            r[n++] = s[k];
        }
        r[n] = '\0';
        t->k = K_RAW;
        t->s = r;
        t->len = n;
        return GL_OK;
    }
    /* "…" is a JSON string; `…` JSON text with \` for ` */
    char *r = gl_arena_alloc(p->arena, len + 3);
    size_t n = 0;
    if (q == '"')
        r[n++] = '"';
    for (size_t k = 0; k < len; k++) {
        if (q == '`' && s[k] == '\\' && k + 1 < len && s[k + 1] == '`')
            k++;
        r[n++] = s[k];
    }
    if (q == '"')
        r[n++] = '"';
    r[n] = '\0';
    json_object *j = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_json_parse(r, n, VALUE_DEPTH, &j, &err) != GL_OK)
        return perr(p, t->pos, q == '"' ? "bad quoted identifier" : "bad JSON literal");
    gl_json_own(p->arena, j);
    if (q == '"') {
        t->k = K_QID;
        t->s = json_object_get_string(j);
        t->len = (size_t)json_object_get_string_len(j);
    } else {
        t->k = K_LIT;
        t->lit = j;
    }
    return GL_OK;
}

/* The operator at src[*i] into t (*i past it). */
static int lex_op(jp_t *p, size_t *i, jtok_t *t)
{
    static const struct {
        const char *op;
        int k;
    } ops[] = {
        { "[]", K_FLATTEN }, { "[?", K_FILTER }, { "||", K_OR }, { "&&", K_AND },
        { "!=", K_NE }, { "==", K_EQ }, { "<=", K_LE }, { ">=", K_GE }, { ".", K_DOT },
        { "*", K_STAR }, { "[", K_LBRACKET }, { "]", K_RBRACKET }, { "{", K_LBRACE },
        { "}", K_RBRACE }, { "(", K_LPAREN }, { ")", K_RPAREN }, { ",", K_COMMA },
        { ":", K_COLON }, { "|", K_PIPE }, { "&", K_EXPREF }, { "!", K_NOT },
        { "<", K_LT }, { ">", K_GT }, { "@", K_CURRENT },
    };
    size_t k = 0;
    for (; k < GL_NELEM(ops); k++) {
        size_t l = strlen(ops[k].op);
        if (*i + l <= p->n && memcmp(p->src + *i, ops[k].op, l) == 0)
            break;
    }
    if (k == GL_NELEM(ops))
        return perr(p, *i, p->src[*i] == '=' ? "'=' is not an operator (use '==')" : "unexpected character");
    t->k = ops[k].k;
    *i += strlen(ops[k].op);
    return GL_OK;
}

static int lex(jp_t *p)
{
    size_t i = 0;
    TRY(gl__expr_charge_bytes(p->ev, p->n));
    while (i < p->n) {
        char c = p->src[i];
        jtok_t t = { .pos = i };
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        if (id_start((unsigned char)c)) {
            size_t j = i;
            while (j < p->n && id_char((unsigned char)p->src[j]))
                j++;
            t.k = K_ID;
            t.s = gl_arena_strndup(p->arena, p->src + i, j - i);
            t.len = j - i;
            i = j;
        } else if (is_digit(c) || (c == '-' && i + 1 < p->n && is_digit(p->src[i + 1]))) {
            size_t j = i + 1;
            while (j < p->n && is_digit(p->src[j]))
                j++;
            if (j - i > 15)
                return perr(p, i, "number too long");
            char tmp[20];
            memcpy(tmp, p->src + i, j - i);
            tmp[j - i] = '\0';
            t.k = K_NUM;
            t.num = strtol(tmp, NULL, 10);
            i = j;
        } else if (c == '"' || c == '\'' || c == '`') {
            const char *s = NULL;
            size_t len = 0;
            i++;
            TRY(delimited(p, &i, c, &s, &len));
            TRY(lex_quoted(p, c, s, len, &t));
        } else {
            TRY(lex_op(p, &i, &t));
        }
        TRY(push_tok(p, t));
    }
    jtok_t eof = { .k = K_EOF, .pos = p->n };
    return push_tok(p, eof);
}

/* ------------------------------------------------------------------------ */
/* The parser (binding powers of the reference implementation)              */

static int bp(int k)
{
    switch (k) {
    case K_PIPE: return 1;
    case K_OR: return 2;
    case K_AND: return 3;
    case K_EQ: case K_NE: case K_LT: case K_LE: case K_GT: case K_GE: return 5;
    case K_FLATTEN: return 9;
    case K_STAR: return 20;
    case K_FILTER: return 21;
    case K_DOT: return 40;
    case K_NOT: return 45;
    case K_LBRACE: return 50;
    case K_LBRACKET: return 55;
    case K_LPAREN: return 60;
    default: return 0;
    }
}

static jtok_t *cur(jp_t *p)
{
    return &p->t[p->at];
}

static int peek(jp_t *p, size_t ahead)
{
    return p->at + ahead < p->nt ? p->t[p->at + ahead].k : K_EOF;
}

static jn_t *mk(jp_t *p, int k)
{
    jn_t *n = gl_arena_calloc(p->arena, 1, sizeof *n);
    n->k = k;
    return n;
}

static jn_t *mk2(jp_t *p, int k, jn_t *a, jn_t *b)
{
    jn_t *n = mk(p, k);
    n->a = a;
    n->b = b;
    return n;
}

static int expr(jp_t *p, int rbp, jn_t **out);

static int expect(jp_t *p, int k, const char *what)
{
    if (cur(p)->k != k)
        return perr(p, cur(p)->pos, what);
    p->at++;
    return GL_OK;
}

/* [n], [a:b:c] after the '[' */
static int index_or_slice(jp_t *p, jn_t **out)
{
    long v[3] = { 0, 0, 0 };
    bool has[3] = { false, false, false };
    int part = 0;
    size_t pos = cur(p)->pos;
    while (cur(p)->k != K_RBRACKET) {
        if (cur(p)->k == K_COLON) {
            if (++part > 2)
                return perr(p, cur(p)->pos, "too many colons in a slice");
            p->at++;
        } else if (cur(p)->k == K_NUM) {
            if (has[part])
                return perr(p, cur(p)->pos, "expected ':' or ']'");
            v[part] = cur(p)->num;
            has[part] = true;
            p->at++;
        } else {
            return perr(p, cur(p)->pos, "expected a number, ':' or ']'");
        }
    }
    p->at++;
    jn_t *n = mk(p, part == 0 ? J_INDEX : J_SLICE);
    if (part == 0) {
        n->idx[0] = v[0];
    } else {
        memcpy(n->idx, v, sizeof v);
        memcpy(n->has, has, sizeof has);
        if (has[2] && v[2] == 0)
            return perr(p, pos, "a slice step cannot be 0");
    }
    *out = n;
    return GL_OK;
}

static int dot_rhs(jp_t *p, int rbp, jn_t **out);

/* What follows a projection: nothing (@), [..], [?..] or .rhs */
static int projection_rhs(jp_t *p, int rbp, jn_t **out)
{
    int k = cur(p)->k;
    if (bp(k) < 10) {
        *out = mk(p, J_CURRENT);
        return GL_OK;
    }
    if (k == K_LBRACKET || k == K_FILTER)
        return expr(p, rbp, out);
    if (k == K_DOT) {
        p->at++;
        return dot_rhs(p, rbp, out);
    }
    return perr(p, cur(p)->pos, "unexpected token after a projection");
}

/* Appends x to the growing arena array *v of *n elements (capacity *cap). */
static void grow(jp_t *p, void **v, size_t *n, size_t *cap, const void *x, size_t elem)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 4;
        void *nv = gl_arena_alloc(p->arena, c * elem);
        if (*n)
            memcpy(nv, *v, *n * elem);
        *v = nv;
        *cap = c;
    }
    memcpy((char *)*v + *n * elem, x, elem);
    (*n)++;
}

static int mlist(jp_t *p, jn_t **out)
{
    jn_t *n = mk(p, J_MLIST), *e;
    size_t cap = 0;
    for (;;) {
        TRY(expr(p, 0, &e));
        grow(p, (void **)&n->kids, &n->n, &cap, &e, sizeof e);
        if (cur(p)->k == K_RBRACKET)
            break;
        TRY(expect(p, K_COMMA, "expected ',' or ']'"));
    }
    p->at++;
    *out = n;
    return GL_OK;
}

static int mhash(jp_t *p, jn_t **out)
{
    jn_t *n = mk(p, J_MHASH), *e;
    size_t cap = 0, kn = 0, kcap = 0;
    for (;;) {
        if (cur(p)->k != K_ID && cur(p)->k != K_QID)
            return perr(p, cur(p)->pos, "expected a key");
        const char *key = cur(p)->s;
        if (memchr(key, 0, cur(p)->len))
            return perr(p, cur(p)->pos, "a key may not contain NUL");
        grow(p, (void **)&n->keys, &kn, &kcap, &key, sizeof key);
        p->at++;
        TRY(expect(p, K_COLON, "expected ':'"));
        TRY(expr(p, 0, &e));
        grow(p, (void **)&n->kids, &n->n, &cap, &e, sizeof e);
        if (cur(p)->k == K_RBRACE)
            break;
        TRY(expect(p, K_COMMA, "expected ',' or '}'"));
    }
    p->at++;
    *out = n;
    return GL_OK;
}

static int dot_rhs(jp_t *p, int rbp, jn_t **out)
{
    int k = cur(p)->k;
    if (k == K_ID || k == K_QID || k == K_STAR)
        return expr(p, rbp, out);
    if (k == K_LBRACKET) {
        p->at++;
        return mlist(p, out);
    }
    if (k == K_LBRACE) {
        p->at++;
        return mhash(p, out);
    }
    return perr(p, cur(p)->pos, "expected an identifier, '*', '[' or '{' after '.'");
}

static int nud(jp_t *p, jn_t **out)
{
    jtok_t *t = cur(p);
    jn_t *n, *r;
    p->at++;
    switch (t->k) {
    case K_LIT:
        n = mk(p, J_LIT);
        n->lit = t->lit;
        *out = n;
        return GL_OK;
    case K_RAW:
        n = mk(p, J_LIT);
        n->lit = gl_json_own(p->arena, json_object_new_string_len(t->s, (int)t->len));
        *out = n;
        return GL_OK;
    case K_ID:
    case K_QID:
        if (t->k == K_QID && cur(p)->k == K_LPAREN)
            return perr(p, t->pos, "a quoted identifier cannot name a function");
        n = mk(p, J_FIELD);
        n->s = t->s;
        n->len = t->len;
        *out = n;
        return GL_OK;
    case K_STAR:
        TRY(projection_rhs(p, bp(K_STAR), &r));
        *out = mk2(p, J_VPROJ, mk(p, J_CURRENT), r);
        return GL_OK;
    case K_FILTER: {
        jn_t *cond;
        TRY(expr(p, 0, &cond));
        TRY(expect(p, K_RBRACKET, "expected ']'"));
        TRY(projection_rhs(p, bp(K_FILTER), &r));
        n = mk2(p, J_FILTER, mk(p, J_CURRENT), r);
        n->c = cond;
        *out = n;
        return GL_OK;
    }
    case K_LBRACE: return mhash(p, out);
    case K_FLATTEN:
        TRY(projection_rhs(p, bp(K_FLATTEN), &r));
        *out = mk2(p, J_PROJ, mk2(p, J_FLATTEN, mk(p, J_CURRENT), NULL), r);
        return GL_OK;
    case K_LBRACKET:
        if (cur(p)->k == K_NUM || cur(p)->k == K_COLON) {
            TRY(index_or_slice(p, &n));
            if (n->k == J_SLICE) {
                TRY(projection_rhs(p, bp(K_STAR), &r));
                n = mk2(p, J_PROJ, mk2(p, J_SUB, mk(p, J_CURRENT), n), r);
            }
            *out = n;
            return GL_OK;
        }
        if (cur(p)->k == K_STAR && peek(p, 1) == K_RBRACKET) {
            p->at += 2;
            TRY(projection_rhs(p, bp(K_STAR), &r));
            *out = mk2(p, J_PROJ, mk(p, J_CURRENT), r);
            return GL_OK;
        }
        return mlist(p, out);
    case K_CURRENT: *out = mk(p, J_CURRENT); return GL_OK;
    case K_EXPREF:
        TRY(expr(p, bp(K_EXPREF), &r));
        *out = mk2(p, J_EXPREF, r, NULL);
        return GL_OK;
    case K_NOT:
        TRY(expr(p, bp(K_NOT), &r));
        *out = mk2(p, J_NOT, r, NULL);
        return GL_OK;
    case K_LPAREN:
        TRY(expr(p, 0, &r));
        TRY(expect(p, K_RPAREN, "expected ')'"));
        *out = r;
        return GL_OK;
    case K_EOF: return perr(p, t->pos, "unexpected end of expression");
    default: return perr(p, t->pos, "unexpected token");
    }
}

/* name( args ): a function call; '(' taken (t), left the name. */
static int call_args(jp_t *p, const jtok_t *t, jn_t *left, jn_t **out)
{
    if (left->k != J_FIELD)
        return perr(p, t->pos, "only a name can be called");
    jn_t *args[16];
    jn_t *n = mk(p, J_FUNC);
    n->s = left->s;
    n->len = left->len;
    while (cur(p)->k != K_RPAREN) {
        if (n->n == GL_NELEM(args))
            return perr(p, cur(p)->pos, "too many arguments");
        TRY(expr(p, 0, &args[n->n++]));
        if (cur(p)->k != K_RPAREN)
            TRY(expect(p, K_COMMA, "expected ',' or ')'"));
    }
    p->at++;
    n->kids = gl_arena_alloc(p->arena, (n->n + 1) * sizeof *n->kids);
    memcpy(n->kids, args, n->n * sizeof *n->kids);
    *out = n;
    return GL_OK;
}

/* left[ … ]: an index, a slice (a projection) or [*]; '[' taken. */
static int bracket_rhs(jp_t *p, jn_t *left, jn_t **out)
{
    jn_t *n, *r;
    if (cur(p)->k == K_NUM || cur(p)->k == K_COLON) {
        TRY(index_or_slice(p, &n));
        if (n->k == J_SLICE) {
            TRY(projection_rhs(p, bp(K_STAR), &r));
            *out = mk2(p, J_PROJ, mk2(p, J_SUB, left, n), r);
        } else {
            *out = mk2(p, J_SUB, left, n);
        }
        return GL_OK;
    }
    if (cur(p)->k == K_STAR && peek(p, 1) == K_RBRACKET) {
        p->at += 2;
        TRY(projection_rhs(p, bp(K_STAR), &r));
        *out = mk2(p, J_PROJ, left, r);
        return GL_OK;
    }
    return perr(p, cur(p)->pos, "expected a number, ':', '*' or ']'");
}

static int led(jp_t *p, jn_t *left, jn_t **out)
{
    jtok_t *t = cur(p);
    int k = t->k;
    jn_t *r, *n;
    p->at++;
    switch (k) {
    case K_DOT:
        if (cur(p)->k == K_STAR) {
            p->at++;
            TRY(projection_rhs(p, bp(K_DOT), &r));
            *out = mk2(p, J_VPROJ, left, r);
            return GL_OK;
        }
        TRY(dot_rhs(p, bp(K_DOT), &r));
        *out = mk2(p, J_SUB, left, r);
        return GL_OK;
    case K_PIPE:
        TRY(expr(p, bp(K_PIPE), &r));
        *out = mk2(p, J_PIPE, left, r);
        return GL_OK;
    case K_OR:
    case K_AND:
        TRY(expr(p, bp(k), &r));
        *out = mk2(p, k == K_OR ? J_OR : J_AND, left, r);
        return GL_OK;
    case K_LPAREN:
        return call_args(p, t, left, out);
    case K_FILTER: {
        jn_t *cond;
        TRY(expr(p, 0, &cond));
        TRY(expect(p, K_RBRACKET, "expected ']'"));
        TRY(projection_rhs(p, bp(K_FILTER), &r));
        n = mk2(p, J_FILTER, left, r);
        n->c = cond;
        *out = n;
        return GL_OK;
    }
    case K_FLATTEN:
        TRY(projection_rhs(p, bp(K_FLATTEN), &r));
        *out = mk2(p, J_PROJ, mk2(p, J_FLATTEN, left, NULL), r);
        return GL_OK;
    case K_EQ: case K_NE: case K_LT: case K_LE: case K_GT: case K_GE:
        TRY(expr(p, bp(k), &r));
        n = mk2(p, J_CMP, left, r);
        n->op = k;
        *out = n;
        return GL_OK;
    case K_LBRACKET:
        return bracket_rhs(p, left, out);
    default: return perr(p, t->pos, "unexpected token");
    }
}

static int expr(jp_t *p, int rbp, jn_t **out)
{
    if (++p->depth > 4 * p->ev->max_depth + 8)
        return perr(p, cur(p)->pos, "expression nested too deeply");
    TRY(gl__expr_charge(p->ev, 1));
    jn_t *left;
    TRY(nud(p, &left));
    while (rbp < bp(cur(p)->k)) {
        TRY(gl__expr_charge(p->ev, 1));
        TRY(led(p, left, &left));
    }
    p->depth--;
    *out = left;
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */

/* A result: a new reference (NULL for null) and its estimated JSON size. */
typedef struct {
    json_object *j;
    size_t sz;
} jv_t;

static jv_t borrowed(json_object *j)
{
    jv_t v = { json_object_get(j), gl__expr_json_size(j) };
    return v;
}

/* The end of an evaluation that built v (a new reference) of size bytes:
 * *out takes it when rc is GL_OK, else it goes and rc is returned. */
static int give(int rc, json_object *v, size_t size, jv_t *out)
{
    if (rc != GL_OK) {
        json_object_put(v);
        return rc;
    }
    out->j = v;
    out->sz = size;
    return GL_OK;
}

static void jfree(jv_t *v)
{
    json_object_put(v->j);
    v->j = NULL;
}

static int jeval(ev_t *ev, const jn_t *n, json_object *cur, jv_t *out);

static bool jtruthy(json_object *j)
{
    switch (json_object_get_type(j)) {
    case json_type_null: return false;
    case json_type_boolean: return json_object_get_boolean(j);
    case json_type_string: return json_object_get_string_len(j) > 0;
    case json_type_array: return json_object_array_length(j) > 0;
    case json_type_object: return json_object_object_length(j) > 0;
    default: return true;
    }
}

static bool is_num(json_object *j)
{
    return json_object_is_type(j, json_type_int) || json_object_is_type(j, json_type_double);
}

static int add(ev_t *ev, json_object *arr, size_t *size, jv_t *v)
{
    TRY(gl__expr_charge(ev, 1));
    int rc = gl__expr_arr_add(ev, arr, size, v->j, v->sz);
    v->j = NULL;
    return rc;
}

static int slice(ev_t *ev, const jn_t *n, json_object *arr, jv_t *out)
{
    long len = (long)json_object_array_length(arr);
    long step = n->has[2] ? n->idx[2] : 1, start, stop;
    if (n->has[0]) {
        start = n->idx[0];
        start = start < 0 ? (start + len < 0 ? (step < 0 ? -1 : 0) : start + len)
                          : (start >= len ? (step < 0 ? len - 1 : len) : start);
    } else {
        start = step < 0 ? len - 1 : 0;
    }
    if (n->has[1]) {
        stop = n->idx[1];
        stop = stop < 0 ? (stop + len < 0 ? (step < 0 ? -1 : 0) : stop + len)
                        : (stop >= len ? (step < 0 ? len - 1 : len) : stop);
    } else {
        stop = step < 0 ? -1 : len;
    }
    json_object *r = json_object_new_array();
    size_t size = 16;
    for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
        jv_t e = borrowed(json_object_array_get_idx(arr, (size_t)i));
        int rc = add(ev, r, &size, &e);
        if (rc != GL_OK) {
            json_object_put(r);
            return rc;
        }
    }
    out->j = r;
    out->sz = size;
    return GL_OK;
}

static int call(ev_t *ev, const jn_t *n, json_object *cur, jv_t *out);

/* J_FLATTEN: flatten [] of what n->a gives */
static int j_flatten(ev_t *ev, const jn_t *n, json_object *cur, jv_t *out)
{
    jv_t l = { 0 };
    int rc = GL_OK;
    TRY(jeval(ev, n->a, cur, &l));
    if (!json_object_is_type(l.j, json_type_array)) {
        jfree(&l);
        return GL_OK;
    }
    json_object *arr = json_object_new_array();
    size_t size = 16;
    for (size_t i = 0; rc == GL_OK && i < json_object_array_length(l.j); i++) {
        json_object *e = json_object_array_get_idx(l.j, i);
        if (json_object_is_type(e, json_type_array)) {
            for (size_t k = 0; rc == GL_OK && k < json_object_array_length(e); k++) {
                jv_t x = borrowed(json_object_array_get_idx(e, k));
                rc = add(ev, arr, &size, &x);
            }
        } else {
            jv_t x = borrowed(e);
            rc = add(ev, arr, &size, &x);
        }
    }
    jfree(&l);
    return give(rc, arr, size, out);
}

/* J_PROJ, J_VPROJ, J_FILTER: n->b of each element (of an array, or of an object's values), those n->c keeps */
static int j_project(ev_t *ev, const jn_t *n, json_object *cur, jv_t *out)
{
    jv_t l = { 0 }, r = { 0 };
    int rc = GL_OK;
    TRY(jeval(ev, n->a, cur, &l));
    json_object *src = l.j, *vals = NULL;
    if (n->k == J_VPROJ) {
        if (!json_object_is_type(src, json_type_object)) {
            jfree(&l);
            return GL_OK;
        }
        vals = json_object_new_array();
        json_object_object_foreach(src, k, v)
        {
            (void)k;
            json_object_array_add(vals, json_object_get(v));
        }
        TRY(gl__expr_charge(ev, json_object_array_length(vals)));
        src = vals;
    } else if (!json_object_is_type(src, json_type_array)) {
        jfree(&l);
        return GL_OK;
    }
    json_object *arr = json_object_new_array();
    size_t size = 16;
    for (size_t i = 0; rc == GL_OK && i < json_object_array_length(src); i++) {
        json_object *e = json_object_array_get_idx(src, i);
        if (n->k == J_FILTER) {
            jv_t c;
            if ((rc = jeval(ev, n->c, e, &c)) != GL_OK)
                break;
            bool keep = jtruthy(c.j);
            jfree(&c);
            if (!keep)
                continue;
        }
        if ((rc = jeval(ev, n->b, e, &r)) != GL_OK)
            break;
        if (r.j)
            rc = add(ev, arr, &size, &r);
    }
    json_object_put(vals);
    jfree(&l);
    return give(rc, arr, size, out);
}

/* J_CMP: ==, != on any values, <, <=, >, >= on numbers (else null) */
static int j_compare(ev_t *ev, const jn_t *n, json_object *cur, jv_t *out)
{
    jv_t l = { 0 }, r = { 0 };
    int rc = GL_OK;
    TRY(jeval(ev, n->a, cur, &l));
    if ((rc = jeval(ev, n->b, cur, &r)) != GL_OK) {
        jfree(&l);
        return rc;
    }
    bool eq = false;
    if (n->op == K_EQ || n->op == K_NE) {
        rc = gl__expr_json_equal(ev, l.j, r.j, false, 0, &eq);
        if (rc == GL_OK)
            out->j = json_object_new_boolean(n->op == K_EQ ? eq : !eq);
    } else if (is_num(l.j) && is_num(r.j)) {
        double x = json_object_get_double(l.j), y = json_object_get_double(r.j);
        bool b = n->op == K_LT ? x < y : n->op == K_LE ? x <= y : n->op == K_GT ? x > y : x >= y;
        out->j = json_object_new_boolean(b);
    }
    out->sz = 8;
    jfree(&l);
    jfree(&r);
    return rc;
}

/* J_MLIST, J_MHASH: [a, b] and {k: a} of the current value */
static int j_multiselect(ev_t *ev, const jn_t *n, json_object *cur, jv_t *out)
{
    jv_t r = { 0 };
    int rc = GL_OK;
    if (!cur)
        return GL_OK;
    bool list = n->k == J_MLIST;
    json_object *o = list ? json_object_new_array() : json_object_new_object();
    size_t size = 16;
    for (size_t i = 0; rc == GL_OK && i < n->n; i++) {
        if ((rc = jeval(ev, n->kids[i], cur, &r)) != GL_OK)
            break;
        if (list) {
            rc = add(ev, o, &size, &r);
        } else {
            rc = gl__expr_obj_add(ev, o, &size, n->keys[i], r.j, r.sz);
            r.j = NULL;
        }
    }
    return give(rc, o, size, out);
}

static int jeval_node(ev_t *ev, const jn_t *n, json_object *cur, jv_t *out)
{
    jv_t l = { 0 };
    int rc = GL_OK;
    switch (n->k) {
    case J_CURRENT: *out = borrowed(cur); return GL_OK;
    case J_LIT: *out = borrowed(n->lit); return GL_OK;
    case J_FIELD: {
        json_object *v = NULL;
        TRY(gl__expr_charge_bytes(ev, n->len));
        if (json_object_is_type(cur, json_type_object) && !memchr(n->s, 0, n->len))
            json_object_object_get_ex(cur, n->s, &v);
        *out = borrowed(v);
        return GL_OK;
    }
    case J_SUB:
    case J_PIPE:
        TRY(jeval(ev, n->a, cur, &l));
        if (n->k == J_SUB && !l.j) {
            *out = l;
            return GL_OK;
        }
        rc = jeval(ev, n->b, l.j, out);
        jfree(&l);
        return rc;
    case J_INDEX: {
        if (!json_object_is_type(cur, json_type_array))
            return GL_OK;
        long len = (long)json_object_array_length(cur), i = n->idx[0];
        if (i < 0)
            i += len;
        if (i >= 0 && i < len)
            *out = borrowed(json_object_array_get_idx(cur, (size_t)i));
        return GL_OK;
    }
    case J_SLICE:
        if (!json_object_is_type(cur, json_type_array))
            return GL_OK;
        return slice(ev, n, cur, out);
    case J_FLATTEN:
        return j_flatten(ev, n, cur, out);
    case J_PROJ:
    case J_VPROJ:
    case J_FILTER:
        return j_project(ev, n, cur, out);
    case J_CMP:
        return j_compare(ev, n, cur, out);
    case J_OR:
    case J_AND:
        TRY(jeval(ev, n->a, cur, &l));
        if (jtruthy(l.j) == (n->k == J_OR)) {
            *out = l;
            return GL_OK;
        }
        jfree(&l);
        return jeval(ev, n->b, cur, out);
    case J_NOT:
        TRY(jeval(ev, n->a, cur, &l));
        out->j = json_object_new_boolean(!jtruthy(l.j));
        out->sz = 8;
        jfree(&l);
        return GL_OK;
    case J_MLIST:
    case J_MHASH:
        return j_multiselect(ev, n, cur, out);
    case J_FUNC: return call(ev, n, cur, out);
    case J_EXPREF: return gl__expr_fail(ev, "jmespath: an expression reference (&) is only an argument of a function");
    default: return gl__expr_fail(ev, "jmespath: internal error");
    }
}

static int jeval(ev_t *ev, const jn_t *n, json_object *cur, jv_t *out)
{
    out->j = NULL;
    out->sz = 8;
    TRY(gl__expr_charge(ev, 1));
    if (ev->depth >= 4 * ev->max_depth + 8)
        return gl__expr_fail(ev, "jmespath: expression nested too deeply");
    ev->depth++;
    int rc = jeval_node(ev, n, cur, out);
    ev->depth--;
    if (rc != GL_OK)
        jfree(out);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Functions                                                                */

enum { A_ANY = 0, A_NUM = 1, A_STR = 2, A_ARR = 4, A_OBJ = 8, A_BOOL = 16, A_NULL = 32,
       A_EXPREF = 64, A_ANUM = 128, A_ASTR = 256 };

static const char *jtype(json_object *j)
{
    switch (json_object_get_type(j)) {
    case json_type_null: return "null";
    case json_type_boolean: return "boolean";
    case json_type_int:
    case json_type_double: return "number";
    case json_type_string: return "string";
    case json_type_array: return "array";
    default: return "object";
    }
}

static bool all_of(json_object *arr, bool num)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        if (num ? !is_num(e) : !json_object_is_type(e, json_type_string))
            return false;
    }
    return true;
}

static bool type_ok(json_object *j, int want)
{
    if (want == A_ANY)
        return true;
    if ((want & A_NUM) && is_num(j))
        return true;
    if ((want & A_STR) && json_object_is_type(j, json_type_string))
        return true;
    if ((want & A_ARR) && json_object_is_type(j, json_type_array))
        return true;
    if ((want & A_OBJ) && json_object_is_type(j, json_type_object))
        return true;
    if ((want & A_BOOL) && json_object_is_type(j, json_type_boolean))
        return true;
    if ((want & A_NULL) && !j)
        return true;
    if ((want & A_ANUM) && json_object_is_type(j, json_type_array) && all_of(j, true))
        return true;
    if ((want & A_ASTR) && json_object_is_type(j, json_type_array) && all_of(j, false))
        return true;
    return false;
}

/* Compares two numbers or two strings (byte order is code point order). */
static int cmp_vals(ev_t *ev, json_object *a, json_object *b)
{
    if (is_num(a)) {
        double x = json_object_get_double(a), y = json_object_get_double(b);
        return x < y ? -1 : x > y;
    }
    size_t la = (size_t)json_object_get_string_len(a), lb = (size_t)json_object_get_string_len(b);
    (void)gl__expr_charge_bytes(ev, la < lb ? la : lb); /* the failure shows at the next charge */
    int c = memcmp(json_object_get_string(a), json_object_get_string(b), la < lb ? la : lb);
    return c ? c : la < lb ? -1 : la > lb;
}

/* A stable merge sort of items by keys (parallel arrays). */
static int msort(ev_t *ev, json_object **items, json_object **keys, json_object **ti, json_object **tk, size_t n)
{
    if (n < 2)
        return GL_OK;
    size_t h = n / 2;
    TRY(msort(ev, items, keys, ti, tk, h));
    TRY(msort(ev, items + h, keys + h, ti, tk, n - h));
    TRY(gl__expr_charge(ev, n));
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        if (cmp_vals(ev, keys[j], keys[i]) < 0)
            ti[k] = items[j], tk[k++] = keys[j++];
        else
            ti[k] = items[i], tk[k++] = keys[i++];
    }
    while (i < h)
        ti[k] = items[i], tk[k++] = keys[i++];
    while (j < n)
        ti[k] = items[j], tk[k++] = keys[j++];
    memcpy(items, ti, n * sizeof *items);
    memcpy(keys, tk, n * sizeof *keys);
    return GL_OK;
}

/* The keys an expref gives each element of arr (new references in keys[]):
 * all numbers or all strings, else an error. */
static int by_keys(ev_t *ev, const char *fn, const jn_t *ref, json_object *arr, json_object **keys)
{
    size_t n = json_object_array_length(arr);
    int kind = 0;
    for (size_t i = 0; i < n; i++) {
        jv_t v;
        TRY(jeval(ev, ref, json_object_array_get_idx(arr, i), &v));
        keys[i] = v.j;
        int k = is_num(v.j) ? 1 : json_object_is_type(v.j, json_type_string) ? 2 : 0;
        if (!k || (kind && k != kind))
            return gl__expr_fail(ev, "jmespath: invalid-type: %s() expects the expression to give all numbers "
                                     "or all strings, got %s", fn, jtype(v.j));
        kind = k;
    }
    return GL_OK;
}

static int sort_common(ev_t *ev, const char *fn, json_object *arr, const jn_t *ref, jv_t *out)
{
    size_t n = json_object_array_length(arr);
    json_object **items = calloc(4 * (n + 1), sizeof *items);
    if (!items)
        return gl__expr_fail(ev, "out of memory");
    json_object **keys = items + n + 1, **ti = keys + n + 1, **tk = ti + n + 1;
    int rc = GL_OK;
    for (size_t i = 0; i < n; i++)
        items[i] = json_object_array_get_idx(arr, i);
    if (ref) {
        rc = by_keys(ev, fn, ref, arr, keys);
    } else {
        for (size_t i = 0; i < n; i++)
            keys[i] = json_object_get(items[i]);
        if (!all_of(arr, true) && !all_of(arr, false))
            rc = gl__expr_fail(ev, "jmespath: invalid-type: %s() expects an array of numbers or of strings", fn);
    }
    if (rc == GL_OK)
        rc = msort(ev, items, keys, ti, tk, n);
    if (rc == GL_OK) {
        json_object *r = json_object_new_array();
        size_t size = 16;
        for (size_t i = 0; rc == GL_OK && i < n; i++) {
            jv_t e = borrowed(items[i]);
            rc = add(ev, r, &size, &e);
        }
        rc = give(rc, r, size, out);
    }
    for (size_t i = 0; i < n; i++) /* the keys were permuted, not lost */
        json_object_put(keys[i]);
    free(items);
    return rc;
}

/* max_by / min_by */
static int by_extreme(ev_t *ev, const char *fn, json_object *arr, const jn_t *ref, bool max, jv_t *out)
{
    size_t n = json_object_array_length(arr);
    if (n == 0)
        return GL_OK;
    json_object **keys = calloc(n, sizeof *keys);
    if (!keys)
        return gl__expr_fail(ev, "out of memory");
    int rc = by_keys(ev, fn, ref, arr, keys);
    size_t best = 0;
    for (size_t i = 1; rc == GL_OK && i < n; i++) {
        int c = cmp_vals(ev, keys[i], keys[best]);
        if (max ? c > 0 : c < 0)
            best = i;
    }
    if (rc == GL_OK)
        *out = borrowed(json_object_array_get_idx(arr, best));
    for (size_t i = 0; i < n; i++)
        json_object_put(keys[i]);
    free(keys);
    return rc;
}

typedef struct fdef fdef_t;

/* One call of a built-in function: its arguments av[0..na) (after the
 * type checks; expression references in n->kids), the result into out. */
typedef struct {
    ev_t *ev;
    const fdef_t *f;
    const jn_t *n;
    json_object **av;
    size_t na;
    jv_t *out;
} fcall_t;

struct fdef {
    const char *name;
    int min, max; /* arguments; max -1: variadic */
    int types[3];
    int (*run)(const fcall_t *c);
};


static int new_str(ev_t *ev, const char *s, size_t n, jv_t *out)
{
    if (n > ev->max_out)
        return gl__expr_too_big(ev);
    TRY(gl__expr_charge_bytes(ev, n));
    out->j = json_object_new_string_len(s, (int)n);
    out->sz = n + 2;
    return GL_OK;
}

static int number(double d, jv_t *out)
{
    out->j = d == trunc(d) && fabs(d) <= MAX_SAFE ? json_object_new_int64((int64_t)d) : json_object_new_double(d);
    out->sz = 8;
    return GL_OK;
}

/* abs */
static int jf_abs(const fcall_t *c)
{
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    return number(fabs(json_object_get_double(x)), out);
}

/* ceil */
static int jf_ceil(const fcall_t *c)
{
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    return number(ceil(json_object_get_double(x)), out);
}

/* floor */
static int jf_floor(const fcall_t *c)
{
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    return number(floor(json_object_get_double(x)), out);
}

/* avg, sum */
static int jf_avg_sum(const fcall_t *c)
{
    ev_t *ev = c->ev;
    const char *name = c->f->name;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    size_t len = json_object_array_length(x);
    double s = 0;
    TRY(gl__expr_charge(ev, len));
    for (size_t i = 0; i < len; i++)
        s += json_object_get_double(json_object_array_get_idx(x, i));
    if (name[0] == 'a' && len == 0)
        return GL_OK;
    return number(name[0] == 'a' ? s / (double)len : s, out);
}

/* contains */
static int jf_contains(const fcall_t *c)
{
    ev_t *ev = c->ev;
    json_object **av = c->av;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    bool found = false;
    if (json_object_is_type(x, json_type_string)) {
        size_t hn = (size_t)json_object_get_string_len(x);
        TRY(gl__expr_charge_pass(ev, hn));
        found = json_object_is_type(av[1], json_type_string) &&
                memmem(json_object_get_string(x), hn, json_object_get_string(av[1]),
                       (size_t)json_object_get_string_len(av[1])) != NULL;
    } else {
        for (size_t i = 0; !found && i < json_object_array_length(x); i++)
            TRY(gl__expr_json_equal(ev, json_object_array_get_idx(x, i), av[1], false, 0, &found));
    }
    out->j = json_object_new_boolean(found);
    return GL_OK;
}

/* starts_with, ends_with */
static int jf_starts_with_ends_with(const fcall_t *c)
{
    ev_t *ev = c->ev;
    const char *name = c->f->name;
    json_object **av = c->av;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    size_t hn = (size_t)json_object_get_string_len(x), nn = (size_t)json_object_get_string_len(av[1]);
    TRY(gl__expr_charge_pass(ev, nn));
    bool r = nn <= hn && memcmp(json_object_get_string(x) + (name[0] == 's' ? 0 : hn - nn),
                                json_object_get_string(av[1]), nn) == 0;
    out->j = json_object_new_boolean(r);
    return GL_OK;
}

/* join */
static int jf_join(const fcall_t *c)
{
    ev_t *ev = c->ev;
    json_object **av = c->av;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    int rc = GL_OK;
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    json_object *arr = av[1];
    for (size_t i = 0; rc == GL_OK && i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        if (i)
            rc = gl__expr_app(ev, &b, json_object_get_string(x), (size_t)json_object_get_string_len(x));
        if (rc == GL_OK)
            rc = gl__expr_app(ev, &b, json_object_get_string(e), (size_t)json_object_get_string_len(e));
    }
    if (rc == GL_OK)
        rc = new_str(ev, b.data ? b.data : "", b.len, out);
    gl_buf_free(&b);
    return rc;
}

/* keys, values */
static int jf_keys_values(const fcall_t *c)
{
    ev_t *ev = c->ev;
    const char *name = c->f->name;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    int rc = GL_OK;
    json_object *arr = json_object_new_array();
    size_t size = 16;
    json_object_object_foreach(x, k, v)
    {
        jv_t e;
        if (name[0] == 'k') {
            if ((rc = new_str(ev, k, strlen(k), &e)) != GL_OK)
                break;
        } else {
            e = borrowed(v);
        }
        if ((rc = add(ev, arr, &size, &e)) != GL_OK)
            break;
    }
    return give(rc, arr, size, out);
}

/* length */
static int jf_length(const fcall_t *c)
{
    ev_t *ev = c->ev;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    size_t len = json_object_is_type(x, json_type_string)
                     ? gl_utf8_count(json_object_get_string(x), (size_t)json_object_get_string_len(x))
                 : json_object_is_type(x, json_type_array) ? json_object_array_length(x)
                                                            : (size_t)json_object_object_length(x);
    if (json_object_is_type(x, json_type_string))
        TRY(gl__expr_charge_pass(ev, (size_t)json_object_get_string_len(x)));
    return number((double)len, out);
}

/* map */
static int jf_map(const fcall_t *c)
{
    ev_t *ev = c->ev;
    const jn_t *n = c->n;
    json_object **av = c->av;
    jv_t *out = c->out;
    int rc = GL_OK;
    json_object *arr = json_object_new_array();
    size_t size = 16;
    for (size_t i = 0; rc == GL_OK && i < json_object_array_length(av[1]); i++) {
        jv_t e;
        if ((rc = jeval(ev, n->kids[0]->a, json_object_array_get_idx(av[1], i), &e)) == GL_OK)
            rc = add(ev, arr, &size, &e);
    }
    return give(rc, arr, size, out);
}

/* max, min */
static int jf_max_min(const fcall_t *c)
{
    ev_t *ev = c->ev;
    const char *name = c->f->name;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    size_t len = json_object_array_length(x), best = 0;
    if (!len)
        return GL_OK;
    TRY(gl__expr_charge(ev, len));
    for (size_t i = 1; i < len; i++) {
        int d = cmp_vals(ev, json_object_array_get_idx(x, i), json_object_array_get_idx(x, best));
        if (name[1] == 'a' ? d > 0 : d < 0)
            best = i;
    }
    *out = borrowed(json_object_array_get_idx(x, best));
    return GL_OK;
}

/* max_by, min_by */
static int jf_max_by_min_by(const fcall_t *c)
{
    ev_t *ev = c->ev;
    const char *name = c->f->name;
    const jn_t *n = c->n;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    return by_extreme(ev, name, x, n->kids[1]->a, name[1] == 'a', out);
}

/* sort */
static int jf_sort(const fcall_t *c)
{
    ev_t *ev = c->ev;
    const char *name = c->f->name;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    return sort_common(ev, name, x, NULL, out);
}

/* sort_by */
static int jf_sort_by(const fcall_t *c)
{
    ev_t *ev = c->ev;
    const char *name = c->f->name;
    const jn_t *n = c->n;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    return sort_common(ev, name, x, n->kids[1]->a, out);
}

/* merge */
static int jf_merge(const fcall_t *c)
{
    ev_t *ev = c->ev;
    json_object **av = c->av;
    size_t na = c->na;
    jv_t *out = c->out;
    int rc = GL_OK;
    json_object *o = json_object_new_object();
    size_t size = 16;
    for (size_t i = 0; rc == GL_OK && i < na; i++) {
        json_object_object_foreach(av[i], k, v)
        {
            if ((rc = gl__expr_charge_pass(ev, strlen(k))) == GL_OK)
                rc = gl__expr_obj_add(ev, o, &size, k, json_object_get(v), gl__expr_json_size(v));
            if (rc != GL_OK)
                break;
        }
    }
    return give(rc, o, size, out);
}

/* not_null */
static int jf_not_null(const fcall_t *c)
{
    json_object **av = c->av;
    size_t na = c->na;
    jv_t *out = c->out;
    for (size_t i = 0; i < na; i++)
        if (av[i]) {
            *out = borrowed(av[i]);
            break;
        }
    return GL_OK;
}

/* reverse */
static int jf_reverse(const fcall_t *c)
{
    ev_t *ev = c->ev;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    int rc = GL_OK;
    if (json_object_is_type(x, json_type_string)) {
        const char *s = json_object_get_string(x);
        size_t len = (size_t)json_object_get_string_len(x);
        TRY(gl__expr_charge_pass(ev, len));
        char *r = malloc(len + 1);
        if (!r)
            return gl__expr_fail(ev, "out of memory");
        size_t at = len;
        for (size_t i = 0; i < len;) {
            uint32_t cp;
            size_t l = gl_utf8_decode(s, len, i, &cp);
            if (!l)
                l = 1;
            at -= l;
            memcpy(r + at, s + i, l);
            i += l;
        }
        rc = new_str(ev, r, len, out);
        free(r);
        return rc;
    }
    json_object *arr = json_object_new_array();
    size_t size = 16, len = json_object_array_length(x);
    for (size_t i = 0; rc == GL_OK && i < len; i++) {
        jv_t e = borrowed(json_object_array_get_idx(x, len - 1 - i));
        rc = add(ev, arr, &size, &e);
    }
    return give(rc, arr, size, out);
}

/* to_array */
static int jf_to_array(const fcall_t *c)
{
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    if (json_object_is_type(x, json_type_array)) {
        *out = borrowed(x);
        return GL_OK;
    }
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, json_object_get(x));
    out->j = arr;
    out->sz = 24 + gl__expr_json_size(x);
    return GL_OK;
}

/* to_number */
static int jf_to_number(const fcall_t *c)
{
    ev_t *ev = c->ev;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    if (is_num(x)) {
        *out = borrowed(x);
    } else if (json_object_is_type(x, json_type_string)) {
        const char *s = json_object_get_string(x);
        size_t len = (size_t)json_object_get_string_len(x);
        TRY(gl__expr_charge_pass(ev, len));
        bool ok = len > 0 && len < 400 && strspn(s, "0123456789+-.eE") == len;
        char *end = NULL;
        double d = ok ? strtod(s, &end) : 0;
        if (ok && end == s + len && isfinite(d))
            return number(d, out);
    }
    return GL_OK;
}

/* to_string */
static int jf_to_string(const fcall_t *c)
{
    ev_t *ev = c->ev;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    int rc = GL_OK;
    if (json_object_is_type(x, json_type_string)) {
        *out = borrowed(x);
        return GL_OK;
    }
    gl_buf_t b;
    bool defined;
    val_t v = gl__expr_vjson(x);
    gl_buf_init(&b, ev->max_out);
    rc = gl__expr_jw_val(ev, &b, &v, "", 0, &defined);
    vfree(&v);
    if (rc == GL_OK)
        rc = new_str(ev, b.data ? b.data : "null", b.data ? b.len : 4, out);
    gl_buf_free(&b);
    return rc;
}

/* type */
static int jf_type(const fcall_t *c)
{
    ev_t *ev = c->ev;
    json_object *x = c->na ? c->av[0] : NULL;
    jv_t *out = c->out;
    const char *t = jtype(x);
    return new_str(ev, t, strlen(t), out);
}

static const fdef_t fdefs[] = {
    { "abs", 1, 1, { A_NUM } , jf_abs },
    { "avg", 1, 1, { A_ANUM } , jf_avg_sum },
    { "ceil", 1, 1, { A_NUM } , jf_ceil },
    { "contains", 2, 2, { A_ARR | A_STR, A_ANY } , jf_contains },
    { "ends_with", 2, 2, { A_STR, A_STR } , jf_starts_with_ends_with },
    { "floor", 1, 1, { A_NUM } , jf_floor },
    { "join", 2, 2, { A_STR, A_ASTR } , jf_join },
    { "keys", 1, 1, { A_OBJ } , jf_keys_values },
    { "length", 1, 1, { A_STR | A_ARR | A_OBJ } , jf_length },
    { "map", 2, 2, { A_EXPREF, A_ARR } , jf_map },
    { "max", 1, 1, { A_ANUM | A_ASTR } , jf_max_min },
    { "max_by", 2, 2, { A_ARR, A_EXPREF } , jf_max_by_min_by },
    { "merge", 1, -1, { A_OBJ } , jf_merge },
    { "min", 1, 1, { A_ANUM | A_ASTR } , jf_max_min },
    { "min_by", 2, 2, { A_ARR, A_EXPREF } , jf_max_by_min_by },
    { "not_null", 1, -1, { A_ANY } , jf_not_null },
    { "reverse", 1, 1, { A_ARR | A_STR } , jf_reverse },
    { "sort", 1, 1, { A_ANUM | A_ASTR } , jf_sort },
    { "sort_by", 2, 2, { A_ARR, A_EXPREF } , jf_sort_by },
    { "starts_with", 2, 2, { A_STR, A_STR } , jf_starts_with_ends_with },
    { "sum", 1, 1, { A_ANUM } , jf_avg_sum },
    { "to_array", 1, 1, { A_ANY } , jf_to_array },
    { "to_number", 1, 1, { A_ANY } , jf_to_number },
    { "to_string", 1, 1, { A_ANY } , jf_to_string },
    { "type", 1, 1, { A_ANY } , jf_type },
    { "values", 1, 1, { A_OBJ } , jf_keys_values },
};

static int run_fn(ev_t *ev, const fdef_t *f, const jn_t *n, json_object **av, size_t na, jv_t *out)
{
    fcall_t c = { ev, f, n, av, na, out };
    return f->run(&c);
}

static int call(ev_t *ev, const jn_t *n, json_object *cur, jv_t *out)
{
    const fdef_t *f = NULL;
    for (size_t i = 0; i < GL_NELEM(fdefs); i++)
        if (name_is(n->s, n->len, fdefs[i].name))
            f = &fdefs[i];
    if (!f)
        return gl__expr_fail(ev, "jmespath: unknown-function: %.40s()", n->s);
    if ((int)n->n < f->min || (f->max >= 0 && (int)n->n > f->max))
        return gl__expr_fail(ev, "jmespath: invalid-arity: %s() takes %s%d argument%s, got %zu", f->name,
                             f->max < 0 ? "at least " : "", f->min, f->min == 1 ? "" : "s", n->n);
    jv_t args[16];
    json_object *av[16];
    size_t na = 0;
    int rc = GL_OK;
    for (; na < n->n; na++) {
        int want = f->types[na < 3 ? na : 2];
        if (f->max < 0)
            want = f->types[0];
        if (want == A_EXPREF) {
            if (n->kids[na]->k != J_EXPREF) {
                rc = gl__expr_fail(ev, "jmespath: invalid-type: %s() expects argument %zu to be an expression (&…)",
                                   f->name, na + 1);
                break;
            }
            args[na].j = NULL;
            av[na] = NULL;
            continue;
        }
        if (n->kids[na]->k == J_EXPREF) {
            rc = gl__expr_fail(ev, "jmespath: invalid-type: %s() does not take an expression (&…) as argument %zu",
                               f->name, na + 1);
            break;
        }
        if ((rc = jeval(ev, n->kids[na], cur, &args[na])) != GL_OK)
            break;
        av[na] = args[na].j;
        if (want & (A_ANUM | A_ASTR))
            rc = gl__expr_charge(ev, json_object_array_length(av[na]));
        if (rc == GL_OK && !type_ok(av[na], want)) {
            rc = gl__expr_fail(ev, "jmespath: invalid-type: %s() got %s as argument %zu", f->name,
                               jtype(av[na]), na + 1);
            na++;
            break;
        }
    }
    if (rc == GL_OK)
        rc = run_fn(ev, f, n, av, na, out);
    for (size_t i = 0; i < na; i++)
        jfree(&args[i]);
    return rc;
}

int gl__expr_jmespath(ev_t *ev, json_object *data, const char *src, size_t n, json_object **out, size_t *size)
{
    *out = NULL;
    *size = 8;
    gl_arena_t *arena = gl_arena_create(0);
    jp_t p = { .ev = ev, .arena = arena, .src = src, .n = n };
    jn_t *root = NULL;
    int rc = memchr(src, 0, n) ? gl__expr_fail(ev, "jmespath: the expression contains NUL") : lex(&p);
    if (rc == GL_OK)
        rc = expr(&p, 0, &root);
    if (rc == GL_OK && cur(&p)->k != K_EOF)
        rc = perr(&p, cur(&p)->pos, "unexpected token");
    if (rc == GL_OK) {
        jv_t v;
        if ((rc = jeval(ev, root, data, &v)) == GL_OK) {
            *out = v.j;
            *size = v.sz;
        }
    }
    gl_arena_destroy(arena);
    return rc;
}
