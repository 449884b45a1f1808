/*
 * expr.h: the `{{ … }}` expression language of workflow parameters.
 *
 * The syntax and semantics are JavaScript's for what the language covers, so
 * common n8n expressions work unchanged: literals (numbers, strings, template
 * literals, arrays, objects), member access (`.`, `[]`, `?.`), the unary,
 * arithmetic, comparison, equality, logical, `??` and `?:` operators, the
 * n8n variables ($json, $input, $node, $("Name"), $execution, $workflow,
 * $now, $today, $env, $itemIndex), a library of string, array, number,
 * Math, JSON, Object and Luxon-style DateTime functions. There is no
 * assignment, no function definition, no `new`, no loops and no regular
 * expressions: those are syntax errors.
 *
 * Differences from JavaScript, on purpose:
 *  - string lengths and indices count Unicode code points, not UTF-16 code
 *    units ("é".length and "😀".length are both 1);
 *  - case mapping covers ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic;
 *  - DateTime values are always UTC; two DateTimes are == when they denote
 *    the same millisecond;
 *  - an unknown variable is reported when the expression is parsed, even in a
 *    branch that would not run.
 *
 * Every evaluation is bounded (gl_expr_limits_t): steps, nesting and the size
 * of every string, array or object it builds. A step is one tree node
 * visited, one loop iteration inside a library call, or 64 bytes a library
 * call reads, compares, copies or writes, so every builtin pays for the work
 * it really does (a search of a 1 MiB string costs 16384 steps). Outputs
 * whose size is known in advance (repeat, padStart, padEnd) are refused
 * before anything is allocated. Beside the step count, an evaluation given a
 * deadline (limits.deadline_ms) checks the clock every few hundred steps
 * and fails with "expression exceeded its time budget" once it has passed:
 * a safety net should any charge be too low. Parser nesting (parentheses,
 * brackets, unary operators, arguments) is limited to max_depth; the height
 * of the syntax tree, which also grows with chains like a+b+c or a.b.c, is
 * limited to 4 * max_depth. max_depth is capped at 1024 (recursion uses the
 * C stack). Each {{ }} of a rendered string gets its own step budget.
 */
#ifndef GL_EXPR_H
#define GL_EXPR_H

#include "gl.h"

#include <json-c/json.h>
#include <stdint.h>

typedef struct {
    size_t max_steps;   /* evaluation steps (AST nodes visited + loop iterations inside library calls); 0 = 100000 */
    int max_depth;      /* nesting of the parser and evaluator; 0 = 64 */
    size_t max_output;  /* bytes of any string/array/object built; 0 = 1 MiB */
    int64_t deadline_ms; /* wall clock (gl_wall_ms) the evaluation must end by; 0 = none */
} gl_expr_limits_t;

typedef struct gl_expr_ctx {
    json_object *json;        /* $json: the current item (borrowed; NULL means {}) */
    json_object *input;       /* array of the node's input items (borrowed; NULL means []): $input.all(), $input.first(), $input.last(), $input.item (= the current item) */
    int64_t item_index;       /* $itemIndex */
    /* $node["Name"].json / $("Name").item.json etc: returns a borrowed array of that node's output items (first output port), or NULL when no node has that name or it has not run */
    json_object *(*node_items)(void *ud, const char *name);
    void *ud;
    const char *execution_id; /* $execution.id (NULL → null) */
    const char *workflow_id;  /* $workflow.id */
    const char *workflow_name;/* $workflow.name */
    int64_t now_ms;           /* $now, $today: milliseconds since the epoch, UTC */
    json_object *env;         /* $env: object of the variables the operator allows (borrowed; NULL → {}) */
    gl_expr_limits_t limits;
} gl_expr_ctx_t;

/* true when s contains "{{" … "}}" */
bool gl_expr_has(const char *s);

/*
 * Evaluates one expression (without braces). *out is a new reference the
 * caller releases with json_object_put() (NULL for null/undefined).
 * GL_OK, or GL_INVALID with err->msg a clear message (syntax error with
 * column, type error, limit exceeded: "expression exceeds 100000 steps",
 * "expression result exceeds 1048576 bytes", "expression exceeded its time
 * budget" etc).
 */
int gl_expr_eval(const char *src, const gl_expr_ctx_t *ctx, json_object **out, gl_err_t *err) GL_WUR;

/*
 * Renders a parameter string. If the string is exactly one {{ expr }}
 * (whitespace outside the braces allowed), the result is the expression's
 * value with its type kept (number, object…); otherwise each {{ }} is
 * replaced by its string form (strings as is, null/undefined as "", numbers
 * JS-style, objects/arrays as JSON text) and the result is a json string. A
 * string without {{ is returned as a json string unchanged. A "{{" with no
 * "}}" after it is literal text. Each {{ }} gets the full step budget.
 * *out is a new reference the caller releases (NULL when the single
 * expression is null or undefined).
 */
int gl_expr_render(const char *tmpl, const gl_expr_ctx_t *ctx, json_object **out, gl_err_t *err) GL_WUR;

/*
 * Recursively renders every string inside a JSON value (object values, array
 * elements; keys unchanged); returns a new value (*out, released by the
 * caller; values without strings may be shared with v). On error err->field
 * holds the path of the failing string ("headers.x", "list[2]") when it fits.
 */
int gl_expr_render_value(json_object *v, const gl_expr_ctx_t *ctx, json_object **out, gl_err_t *err) GL_WUR;

/* Truthiness in JavaScript's sense, for flow.if/switch conditions:
 * false for null, false, 0, NaN and "", true for everything else. */
bool gl_expr_truthy(json_object *v);

#endif
