/*
 * expr_parse.c: the lexer and the recursive-descent parser (precedence
 * climbing for binary operators). The tree is allocated on the arena given
 * to gl__expr_ps_init and lives as long as it. Unknown variables and
 * unsupported syntax (assignment, loops, function declarations, `new` of
 * anything but Date and RegExp) are rejected here with a column; parser
 * nesting is capped at max_depth and the tree height at 4 * max_depth (see
 * engine.h, expressions).
 *
 * Arrow functions (`x => e`, `(a, b) => { const y = …; if (…) return …; return e; }`)
 * are resolved here: each has a scope (pscope_t) of its parameters and
 * declarations, every one a slot of the frame a call creates; a name is
 * looked up innermost first and becomes N_LOCAL (frames up, slot), so the
 * evaluator never looks a name up. Blocks only limit where a name is seen.
 */
#include "expr_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static size_t column(const char *src, size_t at)
{
    size_t col = 1;
    for (size_t i = 0; i < at; i++)
        if (((unsigned char)src[i] & 0xC0) != 0x80)
            col++;
    return col;
}

static node_t *perr(ps_t *ps, size_t at, const char *fmt, ...) GL_PRINTF(3, 4);
static node_t *perr(ps_t *ps, size_t at, const char *fmt, ...)
{
    if (ps->bad)
        return NULL;
    ps->bad = true;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gl_err_set(ps->err, "syntax error at column %zu: %s", column(ps->src, at), msg);
    return NULL;
}

static node_t *mk(ps_t *ps, int k, size_t pos)
{
    node_t *nd = gl_arena_calloc(ps->arena, 1, sizeof *nd);
    nd->k = k;
    nd->pos = pos;
    nd->height = 1;
    return nd;
}

/* Sets the height from the children; false (and an error) when too tall. */
static bool grow(ps_t *ps, node_t *nd)
{
    int h = 0;
    node_t *c3[3] = { nd->a, nd->b, nd->c };
    for (int i = 0; i < 3; i++)
        if (c3[i] && c3[i]->height > h)
            h = c3[i]->height;
    for (size_t i = 0; i < nd->n; i++)
        if (nd->kids[i] && nd->kids[i]->height > h)
            h = nd->kids[i]->height;
    nd->height = h + 1;
    if (nd->height > ps->max_height) {
        perr(ps, nd->pos, "expression nested too deeply");
        return false;
    }
    return true;
}

static bool is_id_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

static bool is_id_char(int c)
{
    return is_id_start(c) || is_digit(c);
}

/* A non-ASCII code point in an identifier: JavaScript's ID_Start and
 * ID_Continue approximated by "not a space, control, punctuation or symbol
 * of the common blocks" ($json.Dirección, $json.名前). */
static bool uni_id(uint32_t cp)
{
    if (cp < 0xC0)
        return cp == 0xAA || cp == 0xB5 || cp == 0xBA;
    if (gl__expr_js_space(cp) || cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp <= 0x2BFF) ||
        (cp >= 0x3000 && cp <= 0x303F && cp != 0x3005) || (cp >= 0xD800 && cp <= 0xDFFF) ||
        (cp >= 0xE000 && cp <= 0xF8FF) || (cp >= 0xFE10 && cp <= 0xFE6F) ||
        (cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
        (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) || cp >= 0xFFF0)
        return cp >= 0x10000 && !(cp >= 0x1F000 && cp <= 0x1FAFF) && cp < 0xE0000;
    return true;
}

/* The length of the identifier character at src[i] (0: none). */
static size_t id_len(const ps_t *ps, size_t i, bool start)
{
    unsigned char c = (unsigned char)ps->src[i];
    if (i >= ps->n)
        return 0;
    if (c < 0x80)
        return (start ? is_id_start(c) : is_id_char(c)) ? 1 : 0;
    uint32_t cp;
    size_t l = gl_utf8_decode(ps->src, ps->n, i, &cp);
    return uni_id(cp) ? l : 0;
}

static bool is_hex(int c)
{
    return gl__expr_digit_val(c) < 16;
}

/* Reads one escape sequence at src[*i] (just after the backslash) into b. */
static bool lex_escape(ps_t *ps, size_t *i, gl_buf_t *b)
{
    const char *s = ps->src;
    size_t at = *i - 1;
    char ch = s[*i], u8[4];
    uint32_t cp;
    static const char from[] = "ntrbfv'\"\\`$", to[] = "\n\t\r\b\f\v'\"\\`$";
    const char *m = ch ? strchr(from, ch) : NULL;
    if (m) {
        (*i)++;
        return gl_buf_append(b, &to[m - from], 1) == GL_OK;
    }
    if (ch == '0' && !is_digit(s[*i + 1])) {
        (*i)++;
        return gl_buf_append(b, "", 1) == GL_OK;
    }
    if (is_digit(ch)) {
        perr(ps, at, "octal escape sequences are not supported");
        return false;
    }
    if (ch == '\r' || ch == '\n') { /* line continuation */
        (*i) += (ch == '\r' && s[*i + 1] == '\n') ? 2 : 1;
        return true;
    }
    if (ch == 'x') {
        if (!is_hex(s[*i + 1]) || !is_hex(s[*i + 2])) {
            perr(ps, at, "invalid \\x escape");
            return false;
        }
        cp = (uint32_t)(gl__expr_digit_val(s[*i + 1]) * 16 + gl__expr_digit_val(s[*i + 2]));
        *i += 3;
        return gl_buf_append(b, u8, gl_utf8_encode(cp, u8)) == GL_OK;
    }
    if (ch == 'u') {
        size_t j = *i + 1;
        cp = 0;
        if (s[j] == '{') {
            j++;
            size_t nd = 0;
            while (is_hex(s[j]) && cp <= 0x10FFFF)
                cp = cp * 16 + (uint32_t)gl__expr_digit_val(s[j++]), nd++;
            if (!nd || s[j] != '}' || cp > 0x10FFFF) {
                perr(ps, at, "invalid \\u escape");
                return false;
            }
            j++;
        } else {
            for (int k = 0; k < 4; k++, j++) {
                if (!is_hex(s[j])) {
                    perr(ps, at, "invalid \\u escape");
                    return false;
                }
                cp = cp * 16 + (uint32_t)gl__expr_digit_val(s[j]);
            }
            /* a surrogate pair written as two escapes */
            if (cp >= 0xD800 && cp <= 0xDBFF && s[j] == '\\' && s[j + 1] == 'u') {
                uint32_t lo = 0;
                int k = 0;
                for (; k < 4 && is_hex(s[j + 2 + k]); k++)
                    lo = lo * 16 + (uint32_t)gl__expr_digit_val(s[j + 2 + k]);
                if (k == 4 && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    j += 6;
                }
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
        *i = j;
        return gl_buf_append(b, u8, gl_utf8_encode(cp, u8)) == GL_OK;
    }
    if (!ch) {
        perr(ps, at, "unterminated string");
        return false;
    }
    size_t l = gl_utf8_decode(s, ps->n, *i, &cp); /* any other character stands for itself */
    bool ok = gl_buf_append(b, s + *i, l) == GL_OK;
    *i += l;
    return ok;
}

static bool lex_string(ps_t *ps, size_t start)
{
    char q = ps->src[start];
    size_t i = start + 1;
    gl_buf_t b;
    gl_buf_init(&b, ps->n + 1);
    for (;;) {
        char c = ps->src[i];
        if (i >= ps->n || c == '\n' || c == '\r') {
            gl_buf_free(&b);
            perr(ps, start, "unterminated string");
            return false;
        }
        if (c == q)
            break;
        if (c == '\\') {
            i++;
            if (!lex_escape(ps, &i, &b)) {
                gl_buf_free(&b);
                return false;
            }
            continue;
        }
        if (gl_buf_append(&b, &ps->src[i], 1) != GL_OK) {
            gl_buf_free(&b);
            return perr(ps, start, "string too long") != NULL;
        }
        i++;
    }
    ps->tok.k = T_STR;
    ps->tok.s = gl_arena_strndup(ps->arena, b.data ? b.data : "", b.len);
    ps->tok.len = b.len;
    ps->tok.end = i + 1;
    gl_buf_free(&b);
    return true;
}

static bool lex_number(ps_t *ps, size_t start)
{
    const char *s = ps->src;
    size_t i = start;
    double v = 0;
    if (s[i] == '0' && s[i + 1] && strchr("xXoObB", s[i + 1])) {
        int radix = (s[i + 1] | 0x20) == 'x' ? 16 : (s[i + 1] | 0x20) == 'o' ? 8 : 2;
        i += 2;
        size_t first = i;
        while (i < ps->n && gl__expr_digit_val((unsigned char)s[i]) < radix)
            v = v * radix + gl__expr_digit_val((unsigned char)s[i++]);
        if (i == first)
            return perr(ps, start, "invalid number") != NULL;
    } else {
        if (s[i] == '0' && is_digit(s[i + 1]))
            return perr(ps, start, "numbers with a leading zero are not supported") != NULL;
        while (is_digit(s[i]))
            i++;
        if (s[i] == '.') {
            i++;
            while (is_digit(s[i]))
                i++;
        }
        if (s[i] == 'e' || s[i] == 'E') {
            size_t j = i + 1;
            if (s[j] == '+' || s[j] == '-')
                j++;
            if (!is_digit(s[j]))
                return perr(ps, start, "invalid number") != NULL;
            while (is_digit(s[j]))
                j++;
            i = j;
        }
        v = gl__expr_strtod_n(s + start, i - start);
    }
    if (id_len(ps, i, false))
        return perr(ps, i, "identifier starts immediately after a number") != NULL;
    ps->tok.k = T_NUM;
    ps->tok.num = v;
    ps->tok.end = i;
    return true;
}

static const char *const ops[] = {
    ">>>=", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "?\?=", "...", "=>", "==",
    "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=",
    "|=", "^=", "**", "<<", ">>", "(", ")", "{", "}", "[", "]", ",", ".", ";", ":", "?", "!",
    "~", "+", "-", "*", "/", "%", "<", ">", "=", "&", "|", "^", "#", "@",
};

/* Reads the token at ps->pos into ps->tok. */
static bool lex(ps_t *ps)
{
    const char *s = ps->src;
    size_t i = ps->pos;
    uint32_t cp;
    while (i < ps->n) {
        if (s[i] == '/' && s[i + 1] == '/') { /* to the end of the line or of the {{ }} */
            while (i < ps->n && s[i] != '\n' && s[i] != '\r' &&
                   !(ps->embedded && s[i] == '}' && s[i + 1] == '}'))
                i++;
            continue;
        }
        if (s[i] == '/' && s[i + 1] == '*') {
            const char *e = strstr(s + i + 2, "*/");
            if (!e)
                return perr(ps, i, "unterminated comment") != NULL;
            i = (size_t)(e - s) + 2;
            continue;
        }
        size_t l = gl_utf8_decode(s, ps->n, i, &cp);
        if (!gl__expr_js_space(cp))
            break;
        i += l;
    }
    ps->prev_end = ps->tok.end;
    memset(&ps->tok, 0, sizeof ps->tok);
    ps->tok.start = i;
    bool ok = true;
    if (i >= ps->n) {
        ps->tok.k = T_EOF;
        ps->tok.end = i;
    } else if (s[i] == '"' || s[i] == '\'') {
        ok = lex_string(ps, i);
    } else if (s[i] == '`') {
        ps->tok.k = T_TMPL;
        ps->tok.end = i + 1;
    } else if (is_digit(s[i]) || (s[i] == '.' && is_digit(s[i + 1]))) {
        ok = lex_number(ps, i);
    } else if (id_len(ps, i, true)) {
        size_t j = i, l;
        while ((l = id_len(ps, j, false)) > 0)
            j += l;
        ps->tok.k = T_WORD;
        ps->tok.s = s + i;
        ps->tok.len = j - i;
        ps->tok.end = j;
    } else {
        for (size_t k = 0; k < GL_NELEM(ops); k++) {
            size_t l = strlen(ops[k]);
            if (strncmp(s + i, ops[k], l) != 0)
                continue;
            if (l == 2 && memcmp(ops[k], "?.", 2) == 0 && is_digit(s[i + 2]))
                continue; /* a ? .5 : 1 */
            ps->tok.k = T_OP;
            ps->tok.s = s + i;
            ps->tok.len = l;
            ps->tok.end = i + l;
            break;
        }
        if (ps->tok.k != T_OP)
            return perr(ps, i, "unexpected character '%.*s'",
                        (int)gl_utf8_decode(s, ps->n, i, &cp), s + i) != NULL;
    }
    if (!ok)
        return false;
    ps->pos = ps->tok.end;
    return true;
}

static bool tok_op(const ps_t *ps, const char *op)
{
    return ps->tok.k == T_OP && ps->tok.len == strlen(op) && memcmp(ps->tok.s, op, ps->tok.len) == 0;
}

static bool tok_word(const ps_t *ps, const char *w)
{
    return ps->tok.k == T_WORD && ps->tok.len == strlen(w) && memcmp(ps->tok.s, w, ps->tok.len) == 0;
}

static bool next(ps_t *ps)
{
    return lex(ps);
}

/* The error for a token that cannot appear here. */
static node_t *unexpected(ps_t *ps)
{
    const tok_t *t = &ps->tok;
    static const char *const assign[] = { "=", "+=", "-=", "*=", "/=", "%=", "**=", "<<=",
                                          ">>=", ">>>=", "&=", "|=", "^=", "&&=", "||=", "?\?=" };
    if (t->k == T_EOF)
        return perr(ps, t->start, "unexpected end of expression");
    if (t->k == T_OP) {
        for (size_t i = 0; i < GL_NELEM(assign); i++)
            if (tok_op(ps, assign[i]))
                return perr(ps, t->start, "assignment is not allowed");
        if (tok_op(ps, "=>"))
            return perr(ps, t->start, "unexpected '=>' (an arrow function's parameters are "
                                      "names in parentheses)");
        if (tok_op(ps, "++") || tok_op(ps, "--"))
            return perr(ps, t->start, "increment and decrement are not supported");
        if (tok_op(ps, ";"))
            return perr(ps, t->start, "only one expression is allowed (unexpected ';')");
        if (tok_op(ps, "..."))
            return perr(ps, t->start, "spread syntax is only allowed in [], {} and arguments");
        if (tok_op(ps, "/"))
            return perr(ps, t->start, "regular expressions are not supported");
    }
    if (t->k == T_WORD) {
        static const char *const loops[] = { "for", "while", "do" };
        for (size_t i = 0; i < GL_NELEM(loops); i++)
            if (tok_word(ps, loops[i]))
                return perr(ps, t->start, "loops are not supported");
        if (tok_word(ps, "function") || tok_word(ps, "class"))
            return perr(ps, t->start, "function definitions are not supported (use an arrow "
                                      "function: x => …)");
        if (tok_word(ps, "var") || tok_word(ps, "let") || tok_word(ps, "const"))
            return perr(ps, t->start, "declarations are only allowed in an arrow function's "
                                      "body { … }");
        if (tok_word(ps, "new"))
            return perr(ps, t->start, "unexpected 'new'");
        return perr(ps, t->start, "unexpected '%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s);
    }
    size_t l = t->end - t->start;
    return perr(ps, t->start, "unexpected '%.*s'", (int)(l > 40 ? 40 : l), ps->src + t->start);
}

static bool expect(ps_t *ps, const char *op)
{
    if (tok_op(ps, op))
        return next(ps);
    if (ps->tok.k == T_EOF)
        perr(ps, ps->tok.start, "expected '%s' but the expression ended", op);
    else if (ps->tok.k != T_OP || (ps->tok.len == 1 && strchr(")]},:.?", ps->tok.s[0])))
        perr(ps, ps->tok.start, "expected '%s' but found '%.*s'", op,
             (int)(ps->tok.end - ps->tok.start > 40 ? 40 : ps->tok.end - ps->tok.start),
             ps->src + ps->tok.start);
    else
        unexpected(ps);
    return false;
}

static bool enter(ps_t *ps)
{
    if (++ps->nest > ps->max_nest) {
        perr(ps, ps->tok.start, "expression nested too deeply");
        return false;
    }
    return true;
}

static node_t *p_expr(ps_t *ps);

/* Collects kids into an arena array. */
typedef struct {
    node_t **v;
    const char **keys;
    size_t *key_lens;
    size_t n, cap;
} kids_t;

static void kids_push(ps_t *ps, kids_t *k, node_t *nd, const char *key, size_t key_len)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 4;
        node_t **v = gl_arena_alloc(ps->arena, cap * sizeof *v);
        const char **keys = gl_arena_alloc(ps->arena, cap * sizeof *keys);
        size_t *lens = gl_arena_alloc(ps->arena, cap * sizeof *lens);
        if (k->n) {
            memcpy(v, k->v, k->n * sizeof *v);
            memcpy(keys, k->keys, k->n * sizeof *keys);
            memcpy(lens, k->key_lens, k->n * sizeof *lens);
        }
        k->v = v, k->keys = keys, k->key_lens = lens, k->cap = cap;
    }
    k->v[k->n] = nd;
    k->keys[k->n] = key;
    k->key_lens[k->n] = key_len;
    k->n++;
}

static void kids_set(node_t *nd, const kids_t *k)
{
    nd->kids = k->v;
    nd->keys = k->keys;
    nd->key_lens = k->key_lens;
    nd->n = k->n;
}

/* `text ${expr} text`: the current token is the opening backtick. */
static node_t *p_template(ps_t *ps)
{
    node_t *nd = mk(ps, N_TMPL, ps->tok.start);
    kids_t kids = { 0 };
    size_t i = ps->tok.end;
    gl_buf_t b;
    gl_buf_init(&b, ps->n + 1);
    for (;;) {
        char c = ps->src[i];
        if (i >= ps->n) {
            gl_buf_free(&b);
            return perr(ps, nd->pos, "unterminated template literal");
        }
        if (c == '`' || (c == '$' && ps->src[i + 1] == '{')) {
            if (b.len) {
                node_t *str = mk(ps, N_STR, i);
                str->s = gl_arena_strndup(ps->arena, b.data, b.len);
                str->len = b.len;
                kids_push(ps, &kids, str, NULL, 0);
                b.len = 0;
            }
            if (c == '`')
                break;
            ps->pos = i + 2;
            if (!next(ps) || !enter(ps)) {
                gl_buf_free(&b);
                return NULL;
            }
            node_t *e = p_expr(ps);
            ps->nest--;
            if (!e || !tok_op(ps, "}")) {
                gl_buf_free(&b);
                return e ? perr(ps, ps->tok.start, "expected '}' to close '${'") : NULL;
            }
            kids_push(ps, &kids, e, NULL, 0);
            i = ps->tok.end; /* the raw text resumes right after the '}' */
            continue;
        }
        if (c == '\\') {
            i++;
            if (!lex_escape(ps, &i, &b)) {
                gl_buf_free(&b);
                return NULL;
            }
            continue;
        }
        if (gl_buf_append(&b, &c, 1) != GL_OK) {
            gl_buf_free(&b);
            return perr(ps, nd->pos, "template literal too long");
        }
        i++;
    }
    gl_buf_free(&b);
    kids_set(nd, &kids);
    ps->pos = i + 1;
    if (!next(ps) || !grow(ps, nd))
        return NULL;
    return nd;
}

/* An element of [], {} or the arguments: `...e` or e. */
static node_t *p_elem(ps_t *ps)
{
    if (!tok_op(ps, "..."))
        return p_expr(ps);
    node_t *nd = mk(ps, N_SPREAD, ps->tok.start);
    if (!next(ps))
        return NULL;
    nd->a = p_expr(ps);
    return nd->a && grow(ps, nd) ? nd : NULL;
}

static node_t *resolve_word(ps_t *ps, const tok_t *t);

static node_t *p_array(ps_t *ps)
{
    node_t *nd = mk(ps, N_ARR, ps->tok.start);
    kids_t kids = { 0 };
    if (!next(ps))
        return NULL;
    while (!tok_op(ps, "]")) {
        if (tok_op(ps, ","))
            return perr(ps, ps->tok.start, "array holes are not supported");
        node_t *e = p_elem(ps);
        if (!e)
            return NULL;
        kids_push(ps, &kids, e, NULL, 0);
        if (tok_op(ps, ",")) {
            if (!next(ps))
                return NULL;
        } else if (!tok_op(ps, "]")) {
            expect(ps, "]");
            return NULL;
        }
    }
    kids_set(nd, &kids);
    if (!next(ps) || !grow(ps, nd))
        return NULL;
    return nd;
}

static node_t *p_object(ps_t *ps)
{
    node_t *nd = mk(ps, N_OBJ, ps->tok.start);
    kids_t kids = { 0 };
    if (!next(ps))
        return NULL;
    while (!tok_op(ps, "}")) {
        const char *key;
        size_t key_len;
        char num[40];
        if (tok_op(ps, "...")) {
            node_t *e = p_elem(ps);
            if (!e)
                return NULL;
            kids_push(ps, &kids, e, NULL, 0);
            goto sep;
        }
        if (ps->tok.k == T_WORD) { /* {a}: shorthand for {a: a} */
            tok_t w = ps->tok;
            size_t save = ps->pos;
            if (!next(ps))
                return NULL;
            bool shorthand = tok_op(ps, ",") || tok_op(ps, "}");
            ps->pos = save;
            ps->tok = w;
            if (shorthand) {
                node_t *e = resolve_word(ps, &w);
                if (!e || !next(ps))
                    return NULL;
                kids_push(ps, &kids, e, gl_arena_strndup(ps->arena, w.s, w.len), w.len);
                goto sep;
            }
        }
        if (ps->tok.k == T_WORD || ps->tok.k == T_STR) {
            key = ps->tok.k == T_WORD ? gl_arena_strndup(ps->arena, ps->tok.s, ps->tok.len)
                                      : ps->tok.s;
            key_len = ps->tok.len;
        } else if (ps->tok.k == T_NUM) {
            gl__expr_num_fmt(ps->tok.num, num);
            key = gl_arena_strdup(ps->arena, num);
            key_len = strlen(num);
        } else if (tok_op(ps, "[")) {
            return perr(ps, ps->tok.start, "computed property names are not supported");
        } else {
            return unexpected(ps);
        }
        if (!next(ps))
            return NULL;
        if (!tok_op(ps, ":")) {
            if (tok_op(ps, "("))
                return perr(ps, ps->tok.start, "methods in object literals are not supported");
            if (tok_op(ps, ",") || tok_op(ps, "}"))
                return perr(ps, ps->tok.start, "expected ':' after the property name");
            expect(ps, ":");
            return NULL;
        }
        if (!next(ps))
            return NULL;
        node_t *e = p_expr(ps);
        if (!e)
            return NULL;
        kids_push(ps, &kids, e, key, key_len);
    sep:
        if (tok_op(ps, ",")) {
            if (!next(ps))
                return NULL;
        } else if (!tok_op(ps, "}")) {
            expect(ps, "}");
            return NULL;
        }
    }
    kids_set(nd, &kids);
    if (!next(ps) || !grow(ps, nd))
        return NULL;
    return nd;
}

/* True when `=>` follows at src[i] (after whitespace). */
static bool arrow_at(const ps_t *ps, size_t i)
{
    while (i < ps->n && strchr(" \t\r\n", ps->src[i]))
        i++;
    return ps->src[i] == '=' && ps->src[i + 1] == '>';
}

/* True when the '(' token starts an arrow function's parameter list: only
 * names, commas, spaces (and the brackets, dots and '=' of the forms we
 * refuse with a clear error) up to a ')' followed by '=>'. The scan never
 * passes another '(', so all scans together read the source once. */
static bool paren_arrow(const ps_t *ps)
{
    size_t i = ps->tok.end;
    while (i < ps->n && ((unsigned char)ps->src[i] >= 0x80 ||
                         is_id_char((unsigned char)ps->src[i]) ||
                         strchr(" \t\r\n,.{}[]=:", ps->src[i])))
        i++;
    return ps->src[i] == ')' && arrow_at(ps, i + 1);
}

static const char *const keywords[] = {
    "true", "false", "null", "undefined", "NaN", "Infinity", "for", "while", "do",
    "function", "class", "var", "let", "const", "new", "return", "if", "else", "switch",
    "case", "default", "break", "continue", "throw", "try", "catch", "finally", "delete",
    "void", "in", "instanceof", "this", "yield", "await", "async", "import", "export",
    "super", "with", "debugger", "typeof", "of", "arguments", "eval",
};

static bool is_keyword(const char *s, size_t len)
{
    for (size_t i = 0; i < GL_NELEM(keywords); i++)
        if (name_is(s, len, keywords[i]))
            return true;
    return false;
}

#define MAX_SLOTS 256 /* parameters and declarations of one arrow function */

/* Declares the name t in the innermost scope (pending: its initializer is
 * being parsed); its slot, or -1 (and an error). */
static int declare(ps_t *ps, const tok_t *t)
{
    pscope_t *sc = ps->scope;
    if (is_keyword(t->s, t->len)) {
        perr(ps, t->start, "'%.*s' cannot be the name of a parameter or variable",
             (int)(t->len > 40 ? 40 : t->len), t->s);
        return -1;
    }
    for (size_t i = sc->block; i < sc->n; i++)
        if (sc->lens[i] == t->len && memcmp(sc->names[i], t->s, t->len) == 0) {
            perr(ps, t->start, "Identifier '%.*s' has already been declared",
                 (int)(t->len > 40 ? 40 : t->len), t->s);
            return -1;
        }
    if (sc->nslots == MAX_SLOTS) {
        perr(ps, t->start, "too many parameters and variables (at most %d)", MAX_SLOTS);
        return -1;
    }
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 8;
        const char **names = gl_arena_alloc(ps->arena, cap * sizeof *names);
        size_t *lens = gl_arena_alloc(ps->arena, cap * sizeof *lens);
        int *slots = gl_arena_alloc(ps->arena, cap * sizeof *slots);
        if (sc->n) {
            memcpy(names, sc->names, sc->n * sizeof *names);
            memcpy(lens, sc->lens, sc->n * sizeof *lens);
            memcpy(slots, sc->slots, sc->n * sizeof *slots);
        }
        sc->names = names, sc->lens = lens, sc->slots = slots, sc->cap = cap;
    }
    sc->names[sc->n] = t->s;
    sc->lens[sc->n] = t->len;
    sc->slots[sc->n] = sc->nslots;
    sc->n++;
    return sc->nslots++;
}

/* The node for the name t: a literal, a parameter or declared name of an
 * enclosing arrow function, or a variable; does not advance. */
static node_t *resolve_word(ps_t *ps, const tok_t *t)
{
    static const struct {
        const char *w;
        int lit;
        double num;
    } lits[] = {
        { "true", LIT_TRUE, 0 }, { "false", LIT_FALSE, 0 }, { "null", LIT_NULL, 0 },
        { "undefined", LIT_UNDEF, 0 }, { "NaN", LIT_NUM, NAN }, { "Infinity", LIT_NUM, INFINITY },
    };
    size_t start = t->start;
    for (size_t i = 0; i < GL_NELEM(lits); i++)
        if (name_is(t->s, t->len, lits[i].w)) {
            node_t *nd = mk(ps, N_LIT, start);
            nd->op = lits[i].lit;
            nd->num = lits[i].num;
            return nd;
        }
    int up = 0;
    for (const pscope_t *sc = ps->scope; sc; sc = sc->up, up++)
        for (size_t i = sc->n; i-- > 0;)
            if (sc->lens[i] == t->len && memcmp(sc->names[i], t->s, t->len) == 0) {
                if (sc->slots[i] < 0)
                    return perr(ps, start, "Cannot access '%.*s' before initialization",
                                (int)(t->len > 40 ? 40 : t->len), t->s);
                node_t *nd = mk(ps, N_LOCAL, start);
                nd->op = up;
                nd->slot = sc->slots[i];
                nd->s = t->s;
                nd->len = t->len;
                return nd;
            }
    for (int i = 0; i < VAR_COUNT; i++)
        if (name_is(t->s, t->len, gl__expr_var_names[i])) {
            node_t *nd = mk(ps, N_VAR, start);
            nd->op = i;
            return nd;
        }
    static const char *const special[] = { "for", "while", "do", "function", "class",
                                           "var", "let", "const", "new" };
    static const char *const reserved[] = {
        "switch", "case", "default", "break", "continue", "throw", "else",
        "try", "catch", "finally", "delete", "void", "in", "instanceof", "this", "yield",
        "await", "async", "import", "export", "super", "with", "debugger",
    };
    for (size_t i = 0; i < GL_NELEM(special); i++)
        if (name_is(t->s, t->len, special[i]))
            return unexpected(ps);
    if (name_is(t->s, t->len, "return") || name_is(t->s, t->len, "if"))
        return perr(ps, start, "'%.*s' is only allowed in an arrow function's body { … }",
                    (int)t->len, t->s);
    for (size_t i = 0; i < GL_NELEM(reserved); i++)
        if (name_is(t->s, t->len, reserved[i]))
            return perr(ps, start, "'%s' is not supported", reserved[i]);
    if (arrow_at(ps, t->end))
        return perr(ps, start, "an arrow function cannot be an operand here: put it in "
                               "parentheses");
    return perr(ps, start, "unknown variable '%.*s'", (int)(t->len > 60 ? 60 : t->len), t->s);
}

static node_t *p_word(ps_t *ps)
{
    node_t *nd = resolve_word(ps, &ps->tok);
    return nd && next(ps) ? nd : NULL;
}

/* One name of a destructuring pattern: [a, , b] or {a, b: c, 'd': e}. */
typedef struct {
    tok_t name;
    const char *key; /* object patterns: the property; NULL: index idx */
    size_t key_len, idx;
    int src;         /* the slot of the value destructured */
} pat_t;

#define MAX_PAT 32

/* A slot for a value nobody names (a destructured parameter or initializer). */
static int declare_hidden(ps_t *ps, size_t at)
{
    if (ps->scope->nslots == MAX_SLOTS) {
        perr(ps, at, "too many parameters and variables (at most %d)", MAX_SLOTS);
        return -1;
    }
    return ps->scope->nslots++;
}

/* Reads the pattern at the current '[' or '{' into pats (src: its slot). */
static bool p_pattern(ps_t *ps, int src, pat_t *pats, size_t *np)
{
    bool obj = tok_op(ps, "{");
    const char *close = obj ? "}" : "]";
    size_t idx = 0;
    if (!next(ps))
        return false;
    while (!tok_op(ps, close)) {
        pat_t p = { .src = src, .idx = idx };
        if (!obj && tok_op(ps, ",")) { /* a hole */
            idx++;
            if (!next(ps))
                return false;
            continue;
        }
        if (tok_op(ps, "..."))
            return perr(ps, ps->tok.start, "rest elements are not supported") != NULL;
        if (tok_op(ps, "[") || tok_op(ps, "{"))
            return perr(ps, ps->tok.start, "nested destructuring is not supported") != NULL;
        if (obj && (ps->tok.k == T_STR || ps->tok.k == T_WORD)) { /* key [: name] */
            tok_t k = ps->tok;
            p.key = k.k == T_STR ? k.s : gl_arena_strndup(ps->arena, k.s, k.len);
            p.key_len = k.len;
            if (!next(ps))
                return false;
            if (tok_op(ps, ":")) {
                if (!next(ps))
                    return false;
            } else if (k.k == T_STR) {
                return expect(ps, ":");
            } else {
                p.name = k;
            }
        }
        if (!p.name.s) {
            if (ps->tok.k != T_WORD)
                return unexpected(ps) != NULL;
            p.name = ps->tok;
            if (!next(ps))
                return false;
        }
        if (tok_op(ps, "="))
            return perr(ps, ps->tok.start, "default values in destructuring are not supported") != NULL;
        if (*np == MAX_PAT)
            return perr(ps, p.name.start, "too many names in destructuring patterns (at most %d)",
                        MAX_PAT) != NULL;
        pats[(*np)++] = p;
        idx++;
        if (tok_op(ps, ",")) {
            if (!next(ps))
                return false;
        } else if (!tok_op(ps, close)) {
            return expect(ps, close);
        }
    }
    return next(ps);
}

/* Declares the names of pats and pushes, for each, the N_DECL that takes
 * its value out of its source slot. */
static bool p_pattern_decls(ps_t *ps, const pat_t *pats, size_t np, kids_t *out)
{
    for (size_t i = 0; i < np; i++) {
        const pat_t *p = &pats[i];
        node_t *src = mk(ps, N_LOCAL, p->name.start), *get, *d = mk(ps, N_DECL, p->name.start);
        src->slot = p->src;
        src->s = "";
        if (p->key) {
            get = mk(ps, N_MEMBER, p->name.start);
            get->s = p->key;
            get->len = p->key_len;
        } else {
            get = mk(ps, N_INDEX, p->name.start);
            get->b = mk(ps, N_LIT, p->name.start);
            get->b->op = LIT_NUM;
            get->b->num = (double)p->idx;
        }
        get->a = src;
        d->a = get;
        d->s = p->name.s;
        d->len = p->name.len;
        if ((d->slot = declare(ps, &p->name)) < 0 || !grow(ps, get) || !grow(ps, d))
            return false;
        kids_push(ps, out, d, NULL, 0);
    }
    return true;
}

static node_t *p_block(ps_t *ps, bool body);

/* An arrow function; the current token is its only parameter (paren:
 * false) or the '(' of its parameter list. */
static node_t *p_arrow(ps_t *ps, bool paren)
{
    node_t *nd = mk(ps, N_ARROW, ps->tok.start);
    pscope_t *sc = gl_arena_calloc(ps->arena, 1, sizeof *sc);
    sc->up = ps->scope;
    if (!enter(ps))
        return NULL;
    ps->scope = sc;
    node_t *ok = nd;
    pat_t pats[MAX_PAT];
    size_t np = 0;
    kids_t prologue = { 0 };
    if (!paren) {
        if (declare(ps, &ps->tok) < 0 || !next(ps))
            ok = NULL;
    } else if (!next(ps)) {
        ok = NULL;
    } else {
        while (ok && !tok_op(ps, ")")) {
            if (tok_op(ps, "..."))
                ok = perr(ps, ps->tok.start, "rest parameters are not supported");
            else if (tok_op(ps, "{") || tok_op(ps, "[")) { /* ([k, v]) => …, ({a}) => … */
                int slot = declare_hidden(ps, ps->tok.start);
                if (slot < 0 || !p_pattern(ps, slot, pats, &np))
                    ok = NULL;
                else if (tok_op(ps, "="))
                    ok = perr(ps, ps->tok.start, "default parameter values are not supported");
                else if (tok_op(ps, ","))
                    ok = next(ps) ? nd : NULL;
                else if (!tok_op(ps, ")"))
                    ok = expect(ps, ")") ? nd : NULL;
            } else if (ps->tok.k != T_WORD)
                ok = unexpected(ps);
            else if (declare(ps, &ps->tok) < 0 || !next(ps))
                ok = NULL;
            else if (tok_op(ps, "="))
                ok = perr(ps, ps->tok.start, "default parameter values are not supported");
            else if (tok_op(ps, ",")) {
                if (!next(ps))
                    ok = NULL;
            } else if (!tok_op(ps, ")"))
                ok = expect(ps, ")") ? nd : NULL;
        }
        if (ok && !next(ps))
            ok = NULL;
    }
    nd->op = sc->nslots; /* the parameters */
    if (ok && !p_pattern_decls(ps, pats, np, &prologue))
        ok = NULL;
    kids_set(nd, &prologue); /* run when called, before the body */
    if (ok && !expect(ps, "=>"))
        ok = NULL;
    if (ok)
        nd->a = tok_op(ps, "{") ? p_block(ps, true) : p_expr(ps);
    ps->scope = sc->up;
    ps->nest--;
    nd->slot = sc->nslots;
    if (!ok || !nd->a || !grow(ps, nd))
        return NULL;
    return nd;
}

/* True when a newline separates the current token from the one before. */
static bool newline_before(const ps_t *ps)
{
    for (size_t i = ps->prev_end; i < ps->tok.start; i++)
        if (ps->src[i] == '\n' || ps->src[i] == '\r')
            return true;
    return false;
}

/* The end of a statement: ';', or (automatic semicolon insertion) a '}',
 * the end, or a newline. */
static bool end_stmt(ps_t *ps)
{
    if (tok_op(ps, ";"))
        return next(ps);
    if (tok_op(ps, "}") || ps->tok.k == T_EOF || newline_before(ps))
        return true;
    if (ps->tok.k == T_OP) /* x = 1, x++: what unexpected() explains */
        return unexpected(ps) != NULL;
    perr(ps, ps->tok.start, "expected ';' before '%.*s'",
         (int)(ps->tok.end - ps->tok.start > 40 ? 40 : ps->tok.end - ps->tok.start),
         ps->src + ps->tok.start);
    return false;
}

/* const/let/var a = e, b = e; */
static node_t *p_decl(ps_t *ps)
{
    node_t *blk = mk(ps, N_BLOCK, ps->tok.start);
    kids_t kids = { 0 };
    bool is_const = tok_word(ps, "const");
    if (!next(ps))
        return NULL;
    for (;;) {
        if (tok_op(ps, "{") || tok_op(ps, "[")) { /* const [a, b] = e, const {a} = e */
            pat_t pats[MAX_PAT];
            size_t np = 0;
            node_t *d = mk(ps, N_DECL, ps->tok.start);
            d->s = "";
            if ((d->slot = declare_hidden(ps, ps->tok.start)) < 0 ||
                !p_pattern(ps, d->slot, pats, &np))
                return NULL;
            if (!tok_op(ps, "="))
                return perr(ps, ps->tok.start, "missing initializer in destructuring declaration");
            if (!next(ps) || !(d->a = p_expr(ps)) || !grow(ps, d))
                return NULL;
            kids_push(ps, &kids, d, NULL, 0);
            if (!p_pattern_decls(ps, pats, np, &kids))
                return NULL;
            if (!tok_op(ps, ","))
                break;
            if (!next(ps))
                return NULL;
            continue;
        }
        if (ps->tok.k != T_WORD)
            return unexpected(ps);
        tok_t name = ps->tok;
        node_t *d = mk(ps, N_DECL, name.start);
        d->s = name.s;
        d->len = name.len;
        int slot = declare(ps, &name);
        if (slot < 0 || !next(ps))
            return NULL;
        d->slot = slot;
        if (tok_op(ps, "=")) {
            pscope_t *sc = ps->scope;
            sc->slots[sc->n - 1] = -1 - slot; /* not yet initialized */
            if (!next(ps) || !(d->a = p_expr(ps)))
                return NULL;
            sc->slots[sc->n - 1] = slot;
        } else if (is_const) {
            return perr(ps, name.start, "missing initializer in const declaration");
        }
        if (!grow(ps, d))
            return NULL;
        kids_push(ps, &kids, d, NULL, 0);
        if (!tok_op(ps, ","))
            break;
        if (!next(ps))
            return NULL;
    }
    kids_set(blk, &kids);
    return grow(ps, blk) && end_stmt(ps) ? blk : NULL;
}

/* A statement of an arrow function's body; single: the body of an if or
 * else, where a declaration cannot stand. */
static node_t *p_stmt(ps_t *ps, bool single)
{
    size_t start = ps->tok.start;
    node_t *nd;
    if (tok_op(ps, ";")) {
        nd = mk(ps, N_BLOCK, start);
        return next(ps) ? nd : NULL;
    }
    if (tok_op(ps, "{"))
        return p_block(ps, false);
    if (tok_word(ps, "const") || tok_word(ps, "let") || tok_word(ps, "var")) {
        if (single)
            return perr(ps, start, "a declaration cannot be the body of if or else: "
                                   "use a block { … }");
        return p_decl(ps);
    }
    if (tok_word(ps, "return")) {
        nd = mk(ps, N_RETURN, start);
        if (!next(ps))
            return NULL;
        if (!tok_op(ps, ";") && !tok_op(ps, "}") && ps->tok.k != T_EOF && !newline_before(ps) &&
            !(nd->a = p_expr(ps)))
            return NULL;
        return grow(ps, nd) && end_stmt(ps) ? nd : NULL;
    }
    if (tok_word(ps, "if")) {
        nd = mk(ps, N_IF, start);
        if (!enter(ps) || !next(ps) || !expect(ps, "(") || !(nd->a = p_expr(ps)) ||
            !expect(ps, ")") || !(nd->b = p_stmt(ps, true)))
            return NULL;
        if (tok_word(ps, "else") && (!next(ps) || !(nd->c = p_stmt(ps, true))))
            return NULL;
        ps->nest--;
        return grow(ps, nd) ? nd : NULL;
    }
    static const char *const stmts[] = { "for", "while", "do", "switch", "try", "throw",
                                         "break", "continue", "function", "class", "else" };
    for (size_t i = 0; i < GL_NELEM(stmts); i++)
        if (tok_word(ps, stmts[i]))
            return perr(ps, start, "'%s' is not supported in an arrow function's body (only "
                                   "const, let, if/else, return and expressions)", stmts[i]);
    nd = p_expr(ps); /* an expression statement: evaluated, its value dropped */
    return nd && end_stmt(ps) ? nd : NULL;
}

/* { statements }; body: the arrow function's body, whose names share the
 * block of its parameters. */
static node_t *p_block(ps_t *ps, bool body)
{
    node_t *nd = mk(ps, N_BLOCK, ps->tok.start);
    kids_t kids = { 0 };
    pscope_t *sc = ps->scope;
    size_t n = sc->n, block = sc->block;
    if (!body)
        sc->block = sc->n;
    if (!enter(ps) || !next(ps))
        return NULL;
    while (!tok_op(ps, "}")) {
        if (ps->tok.k == T_EOF)
            return perr(ps, ps->tok.start, "expected '}' to close the block");
        node_t *s = p_stmt(ps, false);
        if (!s)
            return NULL;
        kids_push(ps, &kids, s, NULL, 0);
    }
    ps->nest--;
    sc->n = n;
    sc->block = block;
    kids_set(nd, &kids);
    return next(ps) && grow(ps, nd) ? nd : NULL;
}

static node_t *p_args(ps_t *ps, node_t *call);

/* new Date(…), new RegExp(…) */
static node_t *p_new(ps_t *ps)
{
    node_t *nd = mk(ps, N_NEW, ps->tok.start);
    if (!next(ps))
        return NULL;
    if (tok_word(ps, "Date"))
        nd->op = VAR_DATE;
    else if (tok_word(ps, "RegExp"))
        nd->op = NEW_REGEXP;
    else if (ps->tok.k == T_WORD)
        return perr(ps, ps->tok.start, "'new %.*s' is not supported (only new Date(…) and "
                                       "new RegExp(…))",
                    (int)(ps->tok.len > 40 ? 40 : ps->tok.len), ps->tok.s);
    else
        return unexpected(ps);
    if (!next(ps))
        return NULL;
    if (tok_op(ps, "(") && !p_args(ps, nd))
        return NULL;
    return grow(ps, nd) ? nd : NULL;
}

/* A regular expression literal /…/flags: the current token is the '/' (or
 * '/=') where an operand was expected. Classes may hold an unescaped '/';
 * the pattern itself is checked when it is compiled (expr_regex.c). */
static node_t *p_regex(ps_t *ps)
{
    const char *s = ps->src;
    size_t start = ps->tok.start, i = start + 1;
    bool in_class = false;
    for (;; i++) {
        if (i >= ps->n || s[i] == '\n' || s[i] == '\r')
            return perr(ps, start, "unterminated regular expression");
        if (s[i] == '\\') {
            if (i + 1 >= ps->n || s[i + 1] == '\n' || s[i + 1] == '\r')
                return perr(ps, start, "unterminated regular expression");
            i++;
        } else if (s[i] == '[') {
            in_class = true;
        } else if (s[i] == ']') {
            in_class = false;
        } else if (s[i] == '/' && !in_class) {
            break;
        }
    }
    size_t body = i - start - 1, j = i + 1;
    while (j < ps->n && is_id_char((unsigned char)s[j]))
        j++;
    for (size_t k = i + 1; k < j; k++)
        if (!strchr("dgimsuy", s[k]) || memchr(s + i + 1, s[k], k - i - 1))
            return perr(ps, k, "invalid regular expression flag '%c'", s[k]);
    node_t *nd = mk(ps, N_REGEX, start);
    nd->s = gl_arena_strndup(ps->arena, s + start + 1, j - start - 1);
    nd->len = j - start - 1;
    nd->op = (int)body;
    ps->pos = j;
    return next(ps) ? nd : NULL;
}

static node_t *p_primary(ps_t *ps)
{
    size_t start = ps->tok.start;
    node_t *nd;
    switch (ps->tok.k) {
    case T_NUM:
        nd = mk(ps, N_LIT, start);
        nd->op = LIT_NUM;
        nd->num = ps->tok.num;
        return next(ps) ? nd : NULL;
    case T_STR:
        nd = mk(ps, N_STR, start);
        nd->s = ps->tok.s;
        nd->len = ps->tok.len;
        return next(ps) ? nd : NULL;
    case T_TMPL:
        return enter(ps) ? (nd = p_template(ps), ps->nest--, nd) : NULL;
    case T_WORD:
        if (tok_word(ps, "new"))
            return enter(ps) ? (nd = p_new(ps), ps->nest--, nd) : NULL;
        return p_word(ps);
    default:
        break;
    }
    if (tok_op(ps, "(")) {
        if (paren_arrow(ps))
            return perr(ps, start, "an arrow function cannot be an operand here: put it in "
                                   "parentheses");
        if (!enter(ps) || !next(ps))
            return NULL;
        nd = p_expr(ps);
        ps->nest--;
        if (!nd)
            return NULL;
        if (tok_op(ps, ")") && arrow_at(ps, ps->tok.end))
            return perr(ps, start, "invalid arrow function parameters (only names are allowed)");
        if (tok_op(ps, ",") )
            return perr(ps, ps->tok.start, "the comma operator is not supported");
        if (!expect(ps, ")"))
            return NULL;
        nd->paren = true;
        return nd;
    }
    if (tok_op(ps, "["))
        return enter(ps) ? (nd = p_array(ps), ps->nest--, nd) : NULL;
    if (tok_op(ps, "{"))
        return enter(ps) ? (nd = p_object(ps), ps->nest--, nd) : NULL;
    if (tok_op(ps, "/") || tok_op(ps, "/="))
        return p_regex(ps);
    return unexpected(ps);
}

static node_t *p_args(ps_t *ps, node_t *call)
{
    kids_t kids = { 0 };
    if (!enter(ps) || !next(ps))
        return NULL;
    while (!tok_op(ps, ")")) {
        node_t *e = p_elem(ps);
        if (!e)
            return NULL;
        if (kids.n == MAX_ARGS)
            return perr(ps, e->pos, "too many arguments (at most %d)", MAX_ARGS);
        kids_push(ps, &kids, e, NULL, 0);
        if (tok_op(ps, ",")) {
            if (!next(ps))
                return NULL;
        } else if (!tok_op(ps, ")")) {
            expect(ps, ")");
            return NULL;
        }
    }
    ps->nest--;
    kids_set(call, &kids);
    return next(ps) ? call : NULL;
}

static node_t *p_postfix(ps_t *ps)
{
    node_t *nd = p_primary(ps);
    bool chain = false;
    while (nd) {
        size_t at = ps->tok.start;
        bool opt = tok_op(ps, "?.");
        node_t *x;
        if (opt || tok_op(ps, ".")) {
            if (!next(ps))
                return NULL;
            if (opt && tok_op(ps, "("))
                return perr(ps, at, "optional calls '?.()' are not supported");
            if (opt && tok_op(ps, "[")) {
                x = mk(ps, N_INDEX, at);
                goto index;
            }
            if (ps->tok.k != T_WORD)
                return ps->tok.k == T_EOF ? perr(ps, ps->tok.start, "expected a property name after '.'")
                                          : unexpected(ps);
            x = mk(ps, N_MEMBER, at);
            x->s = gl_arena_strndup(ps->arena, ps->tok.s, ps->tok.len);
            x->len = ps->tok.len;
            if (!next(ps))
                return NULL;
        } else if (tok_op(ps, "[")) {
            x = mk(ps, N_INDEX, at);
        index:
            if (!enter(ps) || !next(ps))
                return NULL;
            x->b = p_expr(ps);
            ps->nest--;
            if (!x->b || !expect(ps, "]"))
                return NULL;
        } else if (tok_op(ps, "(")) {
            x = mk(ps, N_CALL, at);
            if (!p_args(ps, x))
                return NULL;
        } else if (ps->tok.k == T_TMPL) {
            return perr(ps, at, "tagged templates are not supported");
        } else {
            break;
        }
        x->a = nd;
        x->opt = opt;
        chain |= opt;
        if (!grow(ps, x))
            return NULL;
        nd = x;
    }
    if (nd && chain) {
        node_t *c = mk(ps, N_CHAIN, nd->pos);
        c->a = nd;
        if (!grow(ps, c))
            return NULL;
        nd = c;
    }
    return nd;
}

/* operand: the operand of a unary operator, which cannot be the base of
 * '**' (-2 ** 2 is a syntax error in JavaScript). */
static node_t *p_unary(ps_t *ps, bool operand)
{
    int op = -1;
    if (tok_op(ps, "!"))
        op = OP_NOT;
    else if (tok_op(ps, "-"))
        op = OP_NEG;
    else if (tok_op(ps, "+"))
        op = OP_POS;
    else if (tok_op(ps, "~"))
        op = OP_BNOT;
    else if (tok_word(ps, "typeof"))
        op = OP_TYPEOF;
    else if (tok_word(ps, "void"))
        op = OP_VOID;
    else if (tok_op(ps, "++") || tok_op(ps, "--") || tok_word(ps, "delete") ||
             tok_word(ps, "await"))
        return unexpected(ps);
    if (op < 0) {
        node_t *nd = p_postfix(ps);
        if (nd && (tok_op(ps, "++") || tok_op(ps, "--")))
            return unexpected(ps);
        if (!nd || !tok_op(ps, "**"))
            return nd;
        if (operand)
            return perr(ps, ps->tok.start, "a unary operator before '**' needs parentheses");
        node_t *pw = mk(ps, N_BIN, ps->tok.start); /* right-associative */
        pw->op = OP_POW;
        pw->a = nd;
        if (!enter(ps) || !next(ps))
            return NULL;
        pw->b = p_unary(ps, false);
        ps->nest--;
        return pw->b && grow(ps, pw) ? pw : NULL;
    }
    node_t *nd = mk(ps, N_UNARY, ps->tok.start);
    nd->op = op;
    if (!enter(ps) || !next(ps))
        return NULL;
    nd->a = p_unary(ps, true);
    ps->nest--;
    if (!nd->a || !grow(ps, nd))
        return NULL;
    return nd;
}

/* Binary operators: node kind, operator and precedence (0: not binary). */
static int binop(const ps_t *ps, int *kind, int *op)
{
    static const struct {
        const char *s;
        int kind, op, prec;
    } t[] = {
        { "??", N_NULLISH, 0, 1 }, { "||", N_OR, 0, 2 }, { "&&", N_AND, 0, 3 },
        { "==", N_BIN, OP_EQ, 7 }, { "!=", N_BIN, OP_NE, 7 }, { "===", N_BIN, OP_SEQ, 7 },
        { "!==", N_BIN, OP_SNE, 7 }, { "<", N_BIN, OP_LT, 8 }, { "<=", N_BIN, OP_LE, 8 },
        { ">", N_BIN, OP_GT, 8 }, { ">=", N_BIN, OP_GE, 8 }, { "+", N_BIN, OP_ADD, 10 },
        { "-", N_BIN, OP_SUB, 10 }, { "*", N_BIN, OP_MUL, 11 }, { "/", N_BIN, OP_DIV, 11 },
        { "%", N_BIN, OP_MOD, 11 }, { "|", N_BIN, OP_BOR, 4 }, { "^", N_BIN, OP_BXOR, 5 },
        { "&", N_BIN, OP_BAND, 6 }, { "<<", N_BIN, OP_SHL, 9 }, { ">>", N_BIN, OP_SHR, 9 },
        { ">>>", N_BIN, OP_USHR, 9 },
    };
    for (size_t i = 0; i < GL_NELEM(t); i++)
        if (tok_op(ps, t[i].s)) {
            *kind = t[i].kind;
            *op = t[i].op;
            return t[i].prec;
        }
    if (tok_word(ps, "in")) {
        *kind = N_BIN;
        *op = OP_IN;
        return 8;
    }
    return 0;
}

static bool mixes_nullish(const node_t *nd)
{
    return !nd->paren && (nd->k == N_AND || nd->k == N_OR);
}

static node_t *p_binary(ps_t *ps, int min_prec)
{
    node_t *l = p_unary(ps, false);
    while (l) {
        int kind, op, prec = binop(ps, &kind, &op);
        if (!prec) {
            if (tok_word(ps, "instanceof"))
                return perr(ps, ps->tok.start, "operator '%.*s' is not supported",
                            (int)ps->tok.len, ps->tok.s);
            break;
        }
        if (prec < min_prec)
            break;
        node_t *nd = mk(ps, kind, ps->tok.start);
        nd->op = op;
        if (!next(ps))
            return NULL;
        nd->a = l;
        nd->b = p_binary(ps, prec + 1);
        if (!nd->b || !grow(ps, nd))
            return NULL;
        if (kind == N_NULLISH ? (mixes_nullish(nd->a) || mixes_nullish(nd->b))
                              : ((kind == N_AND || kind == N_OR) &&
                                 ((!nd->a->paren && nd->a->k == N_NULLISH) ||
                                  (!nd->b->paren && nd->b->k == N_NULLISH))))
            return perr(ps, nd->pos, "'?\?' cannot be mixed with '&&' or '||' without parentheses");
        l = nd;
    }
    return l;
}

static node_t *p_expr(ps_t *ps)
{
    size_t start = ps->tok.start;
    if (ps->tok.k == T_WORD && arrow_at(ps, ps->tok.end))
        return p_arrow(ps, false);
    if (tok_op(ps, "(") && paren_arrow(ps))
        return p_arrow(ps, true);
    node_t *cond = p_binary(ps, 1);
    if (!cond || !tok_op(ps, "?"))
        return cond;
    node_t *nd = mk(ps, N_COND, start);
    if (!enter(ps) || !next(ps))
        return NULL;
    nd->a = cond;
    nd->b = p_expr(ps);
    if (!nd->b || !expect(ps, ":"))
        return NULL;
    nd->c = p_expr(ps);
    ps->nest--;
    if (!nd->c || !grow(ps, nd))
        return NULL;
    return nd;
}

/* One ';' may end the expression ({{ Math.min(1, 2); }}, as n8n allows). */
static bool skip_semicolon(ps_t *ps)
{
    if (!tok_op(ps, ";"))
        return true;
    size_t at = ps->tok.start;
    if (!next(ps))
        return false;
    if (ps->tok.k == T_EOF || (tok_op(ps, "}") && ps->src[ps->tok.end] == '}'))
        return true;
    perr(ps, at, "only one expression is allowed (unexpected ';')");
    return false;
}

void gl__expr_ps_init(ps_t *ps, const char *src, gl_arena_t *arena, int max_depth, gl_err_t *err)
{
    memset(ps, 0, sizeof *ps);
    ps->src = src;
    ps->n = strlen(src);
    ps->arena = arena;
    ps->err = err;
    ps->max_nest = max_depth;
    ps->max_height = 4 * max_depth;
}

/* Parses the whole of ps->src from ps->pos; NULL (and err) on a syntax error. */
node_t *gl__expr_parse_all(ps_t *ps)
{
    if (!next(ps))
        return NULL;
    if (ps->tok.k == T_EOF)
        return perr(ps, ps->tok.start, "empty expression");
    node_t *nd = p_expr(ps);
    if (nd && !skip_semicolon(ps))
        return NULL;
    if (nd && ps->tok.k != T_EOF)
        return unexpected(ps);
    return nd;
}

/* Parses an embedded expression starting at ps->pos and ending at "}}";
 * *end is set past the "}}". */
node_t *gl__expr_parse_embedded(ps_t *ps, size_t *end)
{
    ps->embedded = true;
    if (!next(ps))
        return NULL;
    node_t *nd = p_expr(ps);
    if (!nd || !skip_semicolon(ps))
        return NULL;
    if (!tok_op(ps, "}") || ps->src[ps->tok.end] != '}')
        return ps->tok.k == T_EOF ? perr(ps, ps->tok.start, "expected '}}'") : unexpected(ps);
    *end = ps->tok.end + 1;
    return nd;
}
