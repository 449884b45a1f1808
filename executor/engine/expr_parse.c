/*
 * expr_parse.c: the lexer and the recursive-descent parser (precedence
 * climbing for binary operators). The tree is allocated on the arena given
 * to gl__expr_ps_init and lives as long as it. Unknown variables and
 * unsupported syntax (assignment, `new`, loops, functions, regular
 * expressions) are rejected here with a column; parser nesting is capped at
 * max_depth and the tree height at 4 * max_depth (see engine.h, expressions).
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
    if (is_id_char((unsigned char)s[i]))
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
        size_t l = gl_utf8_decode(s, ps->n, i, &cp);
        if (!gl__expr_js_space(cp))
            break;
        i += l;
    }
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
    } else if (is_id_start((unsigned char)s[i])) {
        size_t j = i;
        while (is_id_char((unsigned char)s[j]))
            j++;
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
            return perr(ps, t->start, "arrow functions are not supported");
        if (tok_op(ps, "++") || tok_op(ps, "--"))
            return perr(ps, t->start, "increment and decrement are not supported");
        if (tok_op(ps, ";"))
            return perr(ps, t->start, "only one expression is allowed (unexpected ';')");
        if (tok_op(ps, "&") || tok_op(ps, "|") || tok_op(ps, "^") || tok_op(ps, "~") ||
            tok_op(ps, "<<") || tok_op(ps, ">>") || tok_op(ps, ">>>") || tok_op(ps, "**"))
            return perr(ps, t->start, "operator '%.*s' is not supported", (int)t->len, t->s);
        if (tok_op(ps, "..."))
            return perr(ps, t->start, "spread syntax is not supported");
        if (tok_op(ps, "/"))
            return perr(ps, t->start, "regular expressions are not supported");
    }
    if (t->k == T_WORD) {
        static const char *const loops[] = { "for", "while", "do" };
        for (size_t i = 0; i < GL_NELEM(loops); i++)
            if (tok_word(ps, loops[i]))
                return perr(ps, t->start, "loops are not supported");
        if (tok_word(ps, "function") || tok_word(ps, "class"))
            return perr(ps, t->start, "function definitions are not supported");
        if (tok_word(ps, "var") || tok_word(ps, "let") || tok_word(ps, "const"))
            return perr(ps, t->start, "declarations are not supported");
        if (tok_word(ps, "new"))
            return perr(ps, t->start, "'new' is not supported");
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

static node_t *p_array(ps_t *ps)
{
    node_t *nd = mk(ps, N_ARR, ps->tok.start);
    kids_t kids = { 0 };
    if (!next(ps))
        return NULL;
    while (!tok_op(ps, "]")) {
        if (tok_op(ps, ","))
            return perr(ps, ps->tok.start, "array holes are not supported");
        node_t *e = p_expr(ps);
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
            if (tok_op(ps, ",") || tok_op(ps, "}") || tok_op(ps, "("))
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
    while (i < ps->n && (ps->src[i] == ' ' || ps->src[i] == '\t' || ps->src[i] == '\n'))
        i++;
    return ps->src[i] == '=' && ps->src[i + 1] == '>';
}

static node_t *p_word(ps_t *ps)
{
    static const struct {
        const char *w;
        int lit;
        double num;
    } lits[] = {
        { "true", LIT_TRUE, 0 }, { "false", LIT_FALSE, 0 }, { "null", LIT_NULL, 0 },
        { "undefined", LIT_UNDEF, 0 }, { "NaN", LIT_NUM, NAN }, { "Infinity", LIT_NUM, INFINITY },
    };
    size_t start = ps->tok.start;
    for (size_t i = 0; i < GL_NELEM(lits); i++)
        if (tok_word(ps, lits[i].w)) {
            node_t *nd = mk(ps, N_LIT, start);
            nd->op = lits[i].lit;
            nd->num = lits[i].num;
            return next(ps) ? nd : NULL;
        }
    for (int i = 0; i < VAR_COUNT; i++)
        if (tok_word(ps, gl__expr_var_names[i])) {
            node_t *nd = mk(ps, N_VAR, start);
            nd->op = i;
            return next(ps) ? nd : NULL;
        }
    static const char *const special[] = { "for", "while", "do", "function", "class",
                                           "var", "let", "const", "new" };
    static const char *const reserved[] = {
        "return", "if", "else", "switch", "case", "default", "break", "continue", "throw",
        "try", "catch", "finally", "delete", "void", "in", "instanceof", "this", "yield",
        "await", "async", "import", "export", "super", "with", "debugger",
    };
    for (size_t i = 0; i < GL_NELEM(special); i++)
        if (tok_word(ps, special[i]))
            return unexpected(ps);
    for (size_t i = 0; i < GL_NELEM(reserved); i++)
        if (tok_word(ps, reserved[i]))
            return perr(ps, start, "'%s' is not supported", reserved[i]);
    if (arrow_at(ps, ps->tok.end))
        return perr(ps, start, "arrow functions are not supported");
    return perr(ps, start, "unknown variable '%.*s'", (int)(ps->tok.len > 60 ? 60 : ps->tok.len),
                ps->tok.s);
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
        return p_word(ps);
    default:
        break;
    }
    if (tok_op(ps, "(")) {
        size_t i = ps->tok.end; /* (a, b) => …: a parameter list, then => */
        while (i < ps->n && (is_id_char((unsigned char)ps->src[i]) || strchr(" \t\n,", ps->src[i])))
            i++;
        if (ps->src[i] == ')' && arrow_at(ps, i + 1))
            return perr(ps, start, "arrow functions are not supported");
        if (!enter(ps) || !next(ps))
            return NULL;
        nd = p_expr(ps);
        ps->nest--;
        if (!nd)
            return NULL;
        if (tok_op(ps, ")") && arrow_at(ps, ps->tok.end))
            return perr(ps, start, "arrow functions are not supported");
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
        node_t *e = p_expr(ps);
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

static node_t *p_unary(ps_t *ps)
{
    int op = -1;
    if (tok_op(ps, "!"))
        op = OP_NOT;
    else if (tok_op(ps, "-"))
        op = OP_NEG;
    else if (tok_op(ps, "+"))
        op = OP_POS;
    else if (tok_word(ps, "typeof"))
        op = OP_TYPEOF;
    else if (tok_op(ps, "++") || tok_op(ps, "--") || tok_op(ps, "~") || tok_word(ps, "void") ||
             tok_word(ps, "delete") || tok_word(ps, "new") || tok_word(ps, "await"))
        return unexpected(ps);
    if (op < 0) {
        node_t *nd = p_postfix(ps);
        if (nd && (tok_op(ps, "++") || tok_op(ps, "--")))
            return unexpected(ps);
        return nd;
    }
    node_t *nd = mk(ps, N_UNARY, ps->tok.start);
    nd->op = op;
    if (!enter(ps) || !next(ps))
        return NULL;
    nd->a = p_unary(ps);
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
        { "%", N_BIN, OP_MOD, 11 },
    };
    for (size_t i = 0; i < GL_NELEM(t); i++)
        if (tok_op(ps, t[i].s)) {
            *kind = t[i].kind;
            *op = t[i].op;
            return t[i].prec;
        }
    return 0;
}

static bool mixes_nullish(const node_t *nd)
{
    return !nd->paren && (nd->k == N_AND || nd->k == N_OR);
}

static node_t *p_binary(ps_t *ps, int min_prec)
{
    node_t *l = p_unary(ps);
    while (l) {
        int kind, op, prec = binop(ps, &kind, &op);
        if (!prec) {
            if (tok_word(ps, "in") || tok_word(ps, "instanceof"))
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
    if (nd && ps->tok.k != T_EOF)
        return unexpected(ps);
    return nd;
}

/* Parses an embedded expression starting at ps->pos and ending at "}}";
 * *end is set past the "}}". */
node_t *gl__expr_parse_embedded(ps_t *ps, size_t *end)
{
    if (!next(ps))
        return NULL;
    node_t *nd = p_expr(ps);
    if (!nd)
        return NULL;
    if (!tok_op(ps, "}") || ps->src[ps->tok.end] != '}')
        return ps->tok.k == T_EOF ? perr(ps, ps->tok.start, "expected '}}'") : unexpected(ps);
    *end = ps->tok.end + 1;
    return nd;
}
