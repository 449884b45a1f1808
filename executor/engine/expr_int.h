/*
 * expr_int.h: what the files of the expression language share (see expr.c
 * for the design and the map of files). Included only by the engine's expr*.c.
 *
 * Functions shared between those files carry the gl__expr_ prefix. The
 * value accessors below are static inline and keep their short names: they
 * are the value type's vocabulary, used on almost every line of the library,
 * and have no linkage.
 */
#ifndef GL_EXPR_INT_H
#define GL_EXPR_INT_H

#include "engine.h"

#include "arena.h"
#include "buf.h"
#include "dates.h"

#include <string.h>

#define VALUE_DEPTH 512             /* nesting of JSON data walked by the library */
#define MAX_ARGS 32
#define MAX_SAFE 9007199254740992.0 /* 2^53 */

/* ------------------------------------------------------------------------ */
/* Values                                                                   */

typedef enum {
    V_UNDEF, V_NULL, V_BOOL, V_NUM, V_STR, V_ARR, V_OBJ, V_DATE,
    V_NS,    /* a namespace or built-in function: ns is a VAR_* */
    V_NODE,  /* $("Name"): j the node's items, aux its name */
    V_SHORT, /* an optional chain that short-circuited */
    V_FUNC,  /* an arrow function, only as an argument of a call: fn, env */
    V_REGEX, /* a RegExp: j its source, aux its flags (strings); see expr_regex.c */
} vkind_t;

typedef struct {
    vkind_t k;
    bool b;
    uint8_t df;       /* V_DATE: DF_* flags (expr_date.c) */
    int16_t zone;     /* V_DATE: index in expr_date.c's zone table; 0 = UTC */
    int ns;
    double n;
    int64_t ms;
    json_object *j;   /* owned reference: V_STR, V_ARR, V_OBJ, V_NODE */
    json_object *aux; /* owned reference: V_NODE's name */
    size_t size;      /* V_ARR/V_OBJ built here: estimated JSON size; 0 = borrowed */
    const struct node *fn; /* V_FUNC: the N_ARROW node (borrowed from the tree) */
    struct gl_frame *env;  /* V_FUNC: the scope it closes over (lives while the call runs) */
} val_t;

/* Variables and built-in namespaces; the order of gl__expr_var_names. */
enum {
    VAR_JSON, VAR_INPUT, VAR_NODE, VAR_DOLLAR, VAR_EXECUTION, VAR_WORKFLOW, VAR_NOW,
    VAR_TODAY, VAR_ENV, VAR_ITEMINDEX, VAR_MATH, VAR_JSONNS, VAR_OBJECT, VAR_ARRAY,
    VAR_DATETIME, VAR_NUMBER, VAR_STRING, VAR_BOOLEAN, VAR_PARSEINT, VAR_PARSEFLOAT,
    VAR_ISNAN, VAR_ISFINITE,
    VAR_DATE, /* Date: `new Date(…)` (gl__expr_new), Date.now() */
    /* extdata (expr_ext.c): n8n helpers and variables */
    VAR_IF, VAR_IFEMPTY, VAR_NOT, VAR_MIN, VAR_MAX, VAR_AVERAGE, VAR_JMESPATH, VAR_ITEM, VAR_ITEMS,
    VAR_RUNINDEX, VAR_PARAMETER, VAR_VARS, VAR_NUMBERLIST, VAR_ZIP,
    VAR_BINARY, /* $binary: the current item's binary properties */
    VAR_COUNT
};
#define NEW_REGEXP (-1) /* the ns of `new RegExp(…)` for gl__expr_new (RegExp is no variable) */
extern const char *const gl__expr_var_names[VAR_COUNT];

extern const val_t gl__expr_undef; /* what a missing argument reads as */

static inline bool ns_is_function(int ns)
{
    return ns == VAR_DOLLAR || ns >= VAR_NUMBER;
}

static inline val_t vmk(vkind_t k)
{
    val_t v;
    memset(&v, 0, sizeof v);
    v.k = k;
    return v;
}

static inline val_t vnum(double d)
{
    val_t v = vmk(V_NUM);
    v.n = d;
    return v;
}

static inline val_t vbool(bool b)
{
    val_t v = vmk(V_BOOL);
    v.b = b;
    return v;
}

static inline val_t vdate(int64_t ms)
{
    val_t v = vmk(V_DATE);
    v.ms = ms;
    return v;
}

/* Takes over the reference j (a string, array or object). */
static inline val_t vown(vkind_t k, json_object *j, size_t size)
{
    val_t v = vmk(k);
    v.j = j;
    v.size = size;
    return v;
}

static inline val_t vstr_n(const char *s, size_t n)
{
    return vown(V_STR, json_object_new_string_len(s, (int)n), 0);
}

static inline void vfree(val_t *v)
{
    json_object_put(v->j);
    json_object_put(v->aux);
    v->j = v->aux = NULL;
    v->k = V_UNDEF;
}

/* A second owner of v's references; the caller vfree()s both. */
static inline val_t vdup(const val_t *v)
{
    val_t r = *v;
    json_object_get(r.j);
    json_object_get(r.aux);
    return r;
}

/* A V_STR's bytes and length. */
static inline const char *sp(const val_t *v)
{
    return json_object_get_string(v->j);
}

static inline size_t sn(const val_t *v)
{
    return (size_t)json_object_get_string_len(v->j);
}

static inline const val_t *arg(const val_t *args, size_t nargs, size_t i)
{
    return i < nargs ? &args[i] : &gl__expr_undef;
}

static inline bool nullish(const val_t *v)
{
    return v->k == V_UNDEF || v->k == V_NULL || v->k == V_SHORT;
}

static inline bool name_is(const char *name, size_t len, const char *z)
{
    return len == strlen(z) && memcmp(name, z, len) == 0;
}

static inline bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* ------------------------------------------------------------------------ */
/* The syntax tree and the parser state                                     */

enum {
    N_LIT, N_STR, N_TMPL, N_ARR, N_OBJ, N_VAR, N_MEMBER, N_INDEX, N_CALL, N_UNARY, N_BIN,
    N_AND, N_OR, N_NULLISH, N_COND, N_CHAIN,
    N_ARROW,  /* op: parameters, slot: slots of its frame, a: body (expression or N_BLOCK) */
    N_LOCAL,  /* a parameter or declared name: op frames up, slot */
    N_SPREAD, /* ...a inside [], {} or call arguments */
    N_NEW,    /* new X(kids): op the VAR_* of X or NEW_REGEXP */
    N_BLOCK,  /* { kids: statements } */
    N_DECL,   /* const/let: slot = a (NULL: undefined) */
    N_RETURN, /* return a (NULL: undefined) */
    N_IF,     /* if (a) b else c */
    N_REGEX, /* s: "pattern/flags", op: the pattern's length */
};
enum { LIT_UNDEF, LIT_NULL, LIT_TRUE, LIT_FALSE, LIT_NUM };
enum {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
    OP_SEQ, OP_SNE, OP_NOT, OP_NEG, OP_POS, OP_TYPEOF,
    OP_IN, OP_POW, OP_BAND, OP_BOR, OP_BXOR, OP_SHL, OP_SHR, OP_USHR, OP_BNOT, OP_VOID
};

typedef struct node node_t;
struct node {
    int k, op, height;
    int slot; /* N_LOCAL, N_DECL: the slot in the frame; N_ARROW: how many slots */
    bool opt, paren;
    size_t pos;
    double num;
    const char *s; /* N_STR: the string; N_MEMBER: the name; N_OBJ: unused */
    size_t len;
    node_t *a, *b, *c;
    node_t **kids;   /* N_ARR elements, N_OBJ values, N_TMPL parts, N_CALL args */
    const char **keys;
    size_t *key_lens;
    size_t n;
};

enum { T_EOF, T_NUM, T_STR, T_TMPL, T_WORD, T_OP };

typedef struct {
    int k;
    size_t start, end;
    double num;
    const char *s; /* T_STR: cooked (arena); T_WORD, T_OP: points into src */
    size_t len;
} tok_t;

/* The parser's scope of an arrow function: the names it can see, in
 * declaration order (blocks truncate n at their end). */
typedef struct pscope {
    struct pscope *up;
    const char **names;
    size_t *lens;
    int *slots; /* < 0: declared, its initializer being parsed (-1 - slot) */
    size_t n, cap, block;
    int nslots;
} pscope_t;

typedef struct {
    const char *src;
    size_t n, pos; /* pos: where the next token starts */
    tok_t tok;
    size_t prev_end;  /* where the token before tok ended */
    bool embedded;    /* inside {{ }}: a // comment also ends at }} */
    pscope_t *scope;  /* innermost arrow function being parsed, or NULL */
    gl_arena_t *arena;
    gl_err_t *err;
    int nest, max_nest, max_height;
    bool bad;
} ps_t;

/* ------------------------------------------------------------------------ */
/* The evaluator's state, strings views, library tables                     */

typedef struct {
    const gl_expr_ctx_t *ctx;
    gl_err_t *err;
    size_t steps, max_steps, max_out;
    size_t bytes;      /* bytes charged but not yet a whole step (gl__expr_charge_bytes) */
    int64_t deadline;  /* gl_now_ms() the evaluation must end by; 0: none */
    size_t clock_left; /* steps until the clock is read again; 0: at the next charge */
    int depth, max_depth;
    struct gl_frame *frame; /* the running arrow function's frame, or NULL */
    size_t calls;           /* arrow functions called so far */
} ev_t;

/* The frame of one call of an arrow function: its parameters and
 * declarations; up is the frame it was created in (closures). */
typedef struct gl_frame {
    struct gl_frame *up;
    val_t *slots;
    size_t n;
} gl_frame_t;

#define BYTES_PER_STEP 64 /* a step pays for reading, comparing or copying this many bytes */
#define CLOCK_EVERY 512   /* steps between two looks at the clock */

#define TRY(x)                                                              \
    do {                                                                    \
        int rc_ = (x);                                                      \
        if (rc_ != GL_OK)                                                   \
            return rc_;                                                     \
    } while (0)

/* A string view of ToString(v); the caller calls gl__expr_sv_free() on success. */
typedef struct {
    const char *p;
    size_t n;
    gl_buf_t buf;
} sv_t;

typedef int (*method_fn)(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);

/* A receiver type's methods, looked up by name. */
typedef struct {
    const char *name;
    method_fn fn;
} method_t;

typedef struct {
    const method_t *v;
    size_t n;
} methods_t;

/* Functions of built-in namespaces (Math.round, DateTime.now…). */
typedef struct {
    int ns;
    const char *name;
    method_fn fn;
} ns_method_t;

typedef struct {
    const ns_method_t *v;
    size_t n;
} ns_methods_t;

/* ------------------------------------------------------------------------ */
/* expr_parse.c: the parser                                                 */

/* Prepares ps to parse src (NUL-terminated, borrowed) into nodes allocated
 * on arena; errors go to err as "syntax error at column N: …". */
void gl__expr_ps_init(ps_t *ps, const char *src, gl_arena_t *arena, int max_depth, gl_err_t *err);
/* Parses the whole of ps->src from ps->pos; NULL (and err) on a syntax error. */
node_t *gl__expr_parse_all(ps_t *ps);
/* Parses an embedded expression starting at ps->pos and ending at "}}";
 * *end is set past the "}}". */
node_t *gl__expr_parse_embedded(ps_t *ps, size_t *end);

/* ------------------------------------------------------------------------ */
/* expr_cache.c: parsed templates, kept per thread                          */

typedef struct gl__tmpl gl__tmpl_t;
/* The thread's entry for the template tmpl (n bytes, parsed with
 * max_depth), made empty if missing; NULL when it is not kept (longer than
 * the cache takes, or the cache is held by a render further out). Held
 * until gl__tmpl_release. */
gl__tmpl_t *gl__tmpl_hold(const char *tmpl, size_t n, int max_depth);
/* The tree of the {{ }} whose "{{" is at byte at of the template, and *end
 * past its "}}": parsed on the first call, kept for the next. NULL (and
 * err) on a syntax error. */
node_t *gl__tmpl_part(gl__tmpl_t *t, size_t at, size_t *end, gl_err_t *err);
/* Lets t go (NULL: nothing); an entry that could not keep a tree is dropped. */
void gl__tmpl_release(gl__tmpl_t *t);

/* ------------------------------------------------------------------------ */
/* expr.c: calls of function values and `new`                               */

/* Calls fn (a V_FUNC, or a built-in global function such as Number) with
 * the arguments a; a TypeError when fn is not a function. */
int gl__expr_call_fn(ev_t *ev, const val_t *fn, const val_t *a, size_t na, val_t *out);
/* True when fn can be called by gl__expr_call_fn. */
bool gl__expr_is_fn(const val_t *fn);
/* Walks the JSON of v (shared parts as often as they occur in its text):
 * an error when its text would pass the output bound or its nesting
 * VALUE_DEPTH. For values built by repeated calls (reduce), whose size
 * estimate cannot see what they share. */
int gl__expr_check_value(ev_t *ev, const val_t *v);
/* `new X(a…)`: ns is VAR_DATE (gl__expr_date_new) or NEW_REGEXP
 * (gl__expr_regex_new); anything else is an error. */
int gl__expr_new(ev_t *ev, int ns, const val_t *a, size_t na, val_t *out);
/* new Date(…): JavaScript's Date constructor (expr_jsdate.c). */
int gl__expr_date_new(ev_t *ev, const val_t *a, size_t na, val_t *out);
/* new RegExp(pattern, flags) (expr_regex.c). */
int gl__expr_regex_new(ev_t *ev, const val_t *a, size_t na, val_t *out);

/* ------------------------------------------------------------------------ */
/* expr_text.c: UTF-8 and numbers as text (no allocation)                   */

bool gl__expr_js_space(uint32_t c);
void gl__expr_num_fmt(double d, char out[40]);
int gl__expr_digit_val(int c);
double gl__expr_strtod_n(const char *s, size_t n);
size_t gl__expr_dec_prefix(const char *s, size_t n);
void gl__expr_trim_span(const char **s, size_t *n, bool start, bool end);
double gl__expr_str_to_num(const char *s, size_t n);
size_t gl__expr_rel_idx(double d, size_t len);
size_t gl__expr_clamp_idx(double d, size_t len);

/* ------------------------------------------------------------------------ */
/* expr_value.c: values, budget and errors, coercions, operators            */

/* A value for borrowed JSON data: containers and strings take a reference. */
val_t gl__expr_vjson(json_object *j);
size_t gl__expr_vsize(const val_t *v);
/* A new reference for JSON output (NULL for JSON null); the caller puts it. */
json_object *gl__expr_vto_json(const val_t *v);
bool gl__expr_vtruthy(const val_t *v);
const char *gl__expr_vtype_name(const val_t *v);
const char *gl__expr_type_of(const val_t *v);

/* Writes the message into ev->err; returns GL_INVALID. */
int gl__expr_fail(ev_t *ev, const char *fmt, ...) GL_PRINTF(2, 3);
int gl__expr_too_big(ev_t *ev);
/* Spends n steps of the budget; GL_INVALID when it runs out or when the
 * evaluation's deadline has passed (the clock is read every CLOCK_EVERY
 * steps, and at the first charge). */
int gl__expr_charge(ev_t *ev, size_t n);
/* Spends the steps for touching n bytes (one per BYTES_PER_STEP, the
 * remainder carried over to the next call). */
int gl__expr_charge_bytes(ev_t *ev, size_t n);
/* One step for the call plus its n bytes: what a single pass over a
 * string of n bytes costs. */
int gl__expr_charge_pass(ev_t *ev, size_t n);
/* Append to b, which is capped at the output bound; charges the bytes. */
int gl__expr_app(ev_t *ev, gl_buf_t *b, const char *p, size_t n);
int gl__expr_apps(ev_t *ev, gl_buf_t *b, const char *s);
/* Hands b's text over as a string value in *out and frees b. */
int gl__expr_buf_val(gl_buf_t *b, val_t *out);

int gl__expr_to_string(ev_t *ev, const val_t *v, gl_buf_t *b, int depth);
int gl__expr_arr_join(ev_t *ev, json_object *arr, const char *sep, size_t sep_n, gl_buf_t *b,
                      int depth);
/* On GL_OK the caller releases *s with gl__expr_sv_free(). */
int gl__expr_to_sv(ev_t *ev, const val_t *v, sv_t *s);
/* Argument i as text (gl__expr_to_sv), def when absent or undefined. */
int gl__expr_str_arg(ev_t *ev, const val_t *a, size_t na, size_t i, const char *def, sv_t *s);
void gl__expr_sv_free(sv_t *s);
int gl__expr_to_number(ev_t *ev, const val_t *v, double *d);
/* ToNumber of argument i, or def when it is undefined. */
int gl__expr_num_arg(ev_t *ev, const val_t *args, size_t nargs, size_t i, double def, double *d);
bool gl__expr_strict_eq(const val_t *a, const val_t *b);
/* Charges what gl__expr_strict_eq(a, b) reads: call it first. */
int gl__expr_charge_eq(ev_t *ev, const val_t *a, const val_t *b);
int gl__expr_binary(ev_t *ev, int op, const val_t *a, const val_t *b, val_t *out);

/* ------------------------------------------------------------------------ */
/* expr_json.c: JSON text, arrays and objects under the output bound        */

int gl__expr_jw_val(ev_t *ev, gl_buf_t *b, const val_t *v, const char *ind, size_t ind_n,
                    bool *defined);
size_t gl__expr_json_size(json_object *j);
/* item's "$binary" object (borrowed), or NULL when it has none (expr_lib.c). */
json_object *gl__expr_item_binary(json_object *item);
/* n8n's item wrapper {json: item, binary: item's "$binary" when it has
 * one}: a new object holding references to borrowed data (expr_lib.c). */
json_object *gl__expr_wrap_item(json_object *item);
/* s[0..n) is a canonical array index ("0", "17"; not "01", "-1", "1.5"): *idx. */
bool gl__expr_array_index(const char *s, size_t n, size_t *idx);
/* n8n's toJsonString() on any value: JSON.stringify(self). */
int gl__expr_to_json_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);
/* Object.prototype.hasOwnProperty(key) (also n8n's hasField). */
int gl__expr_o_has_own(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);
/* Math.min and Math.max (also $min and $max): NaN if any argument is. */
int gl__expr_math_min(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);
int gl__expr_math_max(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);
/* Deep equality of JSON data (lodash isEqual: numbers by value, 1 == 1.0;
 * objects by their keys whatever the order), charged a step per node and
 * the string bytes; NaN equals NaN when nan_equal (isEqual), not in
 * JMESPath. depth: 0 at the top. */
int gl__expr_json_equal(ev_t *ev, json_object *a, json_object *b, bool nan_equal, int depth, bool *eq) GL_WUR;
/* The add functions take over elem/v, also on failure. */
int gl__expr_arr_add(ev_t *ev, json_object *arr, size_t *size, json_object *elem,
                     size_t elem_size);
int gl__expr_arr_add_val(ev_t *ev, json_object *arr, size_t *size, const val_t *v);
int gl__expr_obj_add(ev_t *ev, json_object *obj, size_t *size, const char *key, json_object *v,
                     size_t v_size);
extern const ns_methods_t gl__expr_json_ns;

/* ------------------------------------------------------------------------ */
/* expr_lib.c: property access and method dispatch                          */

int gl__expr_get_prop(ev_t *ev, const val_t *o, const char *name, size_t len, val_t *out);
int gl__expr_key_sv(ev_t *ev, const val_t *key, sv_t *s);
int gl__expr_call_method(ev_t *ev, const val_t *self, const char *name, size_t len,
                         const val_t *a, size_t na, val_t *out);
int gl__expr_g_dollar(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);

/* ------------------------------------------------------------------------ */
/* The rest of the library: each file's method tables                       */

extern const methods_t gl__expr_str_methods;   /* expr_str.c */
extern const methods_t gl__expr_str_n8n_methods; /* expr_str_n8n.c */
extern const methods_t gl__expr_str_n8n_text_methods; /* expr_str_n8n_text.c */
int gl__expr_m_is_empty(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);
int gl__expr_m_is_not_empty(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);

extern const methods_t gl__expr_num_methods;   /* expr_num.c */
extern const ns_methods_t gl__expr_num_ns;     /* Math, Number */
/* The built-in global function with this VAR_* id, or NULL. */
method_fn gl__expr_global_fn(int ns);
double gl__expr_js_round(double x);

extern const methods_t gl__expr_date_methods;  /* expr_date.c */
extern const ns_methods_t gl__expr_date_ns;    /* DateTime, Date */
int gl__expr_date_field(ev_t *ev, const val_t *d, const char *name, size_t len, val_t *out);
/* The method of a date value (Luxon DateTime, JS Date or Duration), or NULL. */
method_fn gl__expr_date_method(const val_t *d, const char *name, size_t len);
/* DateTime.DATE_SHORT… (properties of the namespace ns). */
int gl__expr_date_ns_prop(ev_t *ev, int ns, const char *name, size_t len, val_t *out);
/* ToString, JSON (a new reference, NULL for null) and valueOf of a date value. */
int gl__expr_date_to_string(ev_t *ev, const val_t *d, gl_buf_t *b);
json_object *gl__expr_date_json(const val_t *d);
double gl__expr_date_num(const val_t *d);
/* "a DateTime", "a Date" or "a Duration". */
const char *gl__expr_date_type_name(const val_t *d);
/* $now and $today in the workflow's zone. */
int gl__expr_date_now(ev_t *ev, bool today, val_t *out);
/* n8n's string.toDateTime(format): ISO, HTTP, RFC 2822, SQL, then Date.parse,
 * in the workflow's zone (fmt NULL or undefined); with a format string,
 * fromFormat or ('ms', 's', 'us', 'excel') a number conversion. An error
 * "cannot convert to Luxon DateTime" when nothing reads the text. */
int gl__expr_date_from_string(ev_t *ev, const char *s, size_t n, const val_t *fmt, val_t *out);
/* n8n's number.toDateTime(format = 'ms'): 'ms', 's', 'us' or 'excel'. */
int gl__expr_date_from_number(ev_t *ev, double v, const val_t *fmt, val_t *out);
/* A DateTime, or an error when ms is outside the years 0000–9999. */
int gl__expr_mk_date(ev_t *ev, double ms, val_t *out);

/* expr_regex.c: regular expressions (PCRE2) */
typedef struct gl_re gl_re_t;
/* expr_regex_js.c: a JavaScript pattern in PCRE2's syntax, into o. */
bool gl__expr_regex_translate(const char *p, size_t n, bool dotall, gl_buf_t *o, char *err,
                              size_t err_n);
extern const methods_t gl__expr_regex_methods;
/* A RegExp literal /p/f. */
int gl__expr_regex_lit(ev_t *ev, const char *p, size_t n, const char *f, size_t fn, val_t *out);
/* new RegExp(pattern, flags). */
int gl__expr_regex_new(ev_t *ev, const val_t *a, size_t na, val_t *out);
gl_re_t *gl__expr_regex_of(const val_t *v) __attribute__((returns_nonnull));
int gl__expr_regex_prop(ev_t *ev, const val_t *o, const char *name, size_t len, val_t *out);
int gl__expr_regex_to_string(ev_t *ev, const val_t *v, gl_buf_t *b);
/* index, input and groups of an array exec() or match() returned. */
bool gl__expr_regex_arr_prop(const val_t *o, const char *name, size_t len, val_t *out);
int gl__expr_regex_replace(ev_t *ev, const val_t *self, const val_t *a, size_t na, bool all,
                           val_t *out);
int gl__expr_regex_split(ev_t *ev, const val_t *self, const val_t *sep, size_t limit, val_t *out);
int gl__expr_s_match(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);
int gl__expr_s_match_all(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);
int gl__expr_s_search(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);
/* For the library's own patterns (JavaScript syntax); the caller vfree()s *out. */
int gl__expr_regex_make(ev_t *ev, const char *pattern, const char *flags, val_t *out);
int gl__expr_regex_sub(ev_t *ev, const val_t *str, const val_t *re, const char *rep, val_t *out);
/* self.replace(new RegExp(pat, flags), rep), for patterns of the library. */
int gl__expr_regex_sub_pat(ev_t *ev, const char *pat, const char *flags, const val_t *self, const char *rep,
                           val_t *out);
int gl__expr_regex_exec(ev_t *ev, const val_t *re, const val_t *str, val_t *out);
/* expr_ext.c: n8n's extensions on numbers, arrays, objects and booleans,
 * the helpers ($if, $jmespath…) and $runIndex/$parameter/$vars */
method_fn gl__expr_ext_method(int kind, const char *name, size_t len);
method_fn gl__expr_ext_global_fn(int ns);
/* GL_NOTFOUND when var is not one of expr_ext.c's variables. */
int gl__expr_ext_var(ev_t *ev, int var, val_t *out);

/* jmespath.c: a JMESPath search of data (borrowed) under ev's bounds;
 * *out is a new reference (NULL for null), *size its estimated JSON size. */
int gl__expr_jmespath(ev_t *ev, json_object *data, const char *expr, size_t n, json_object **out,
                      size_t *size);

#endif
