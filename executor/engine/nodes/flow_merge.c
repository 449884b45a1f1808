/*
 * flow.merge: combines input1 and input2. It runs once both branches
 * before it have run (the engine's topological order), with whatever they
 * sent:
 *   append  input1's items, then input2's
 *   join    for each input1 item, each input2 item whose `key2` (default:
 *           `key`) field equals the input1 item's `key` field: the two
 *           merged (input2's fields win); then, by `join`, nothing more
 *           (inner), input1's unmatched items (left), input2's (right),
 *           or both (outer); or, instead of merged pairs, the items of
 *           one input that match (matched1, matched2) or those without a
 *           match (unmatched: input1's then input2's; unmatched1/2)
 *   position item i of input1 merged with item i of input2 (input2's
 *           fields win), up to the shorter input (join inner) or the
 *           longer (outer)
 *   wait    input1's (or `output` input2's) items, only when both inputs
 *           sent something
 * Merged items merge their binary properties ("$binary") property by
 * property too (input2's win); appended and passed items keep theirs.
 */
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a's fields, then b's over them; binary properties ("$binary") are
 * merged the same way, property by property (b's win), not replaced
 * whole */
static json_object *merged(json_object *a, json_object *b)
{
    json_object *o = json_object_new_object(), *bin = NULL;
    json_object *src[2] = { a, b };
    for (int s = 0; s < 2; s++) {
        if (!json_object_is_type(src[s], json_type_object))
            continue;
        json_object_object_foreach(src[s], k, v) {
            if (strcmp(k, GL_BINARY_KEY) != 0) {
                json_object_object_add(o, k, json_object_get(v));
                continue;
            }
            if (!json_object_is_type(v, json_type_object))
                continue;
            if (!bin)
                bin = json_object_new_object();
            json_object_object_foreach(v, name, prop) json_object_object_add(bin, name, json_object_get(prop));
        }
    }
    if (bin)
        json_object_object_add(o, GL_BINARY_KEY, bin);
    return o;
}

/* the JSON text of item's field key (into buf), or NULL when absent */
static const char *key_text(json_object *item, const char *key, char *buf, size_t cap)
{
    json_object *k;
    if (!json_object_is_type(item, json_type_object) || !json_object_object_get_ex(item, key, &k))
        return NULL;
    snprintf(buf, cap, "%s", json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN));
    return buf;
}

static int join(gl_node_ctx_t *c, size_t n1, size_t n2)
{
    const char *k1, *k2, *jm;
    if (gl_node_param_str(c, "key", -1, &k1) != GL_OK || gl_node_param_str(c, "key2", -1, &k2) != GL_OK ||
        gl_node_param_str(c, "join", -1, &jm) != GL_OK)
        return GL_INVALID;
    if (!k1 || !*k1)
        return gl_node_fail(c, "join mode needs the parameter 'key'");
    char key1[256], key2[256];
    snprintf(key1, sizeof key1, "%s", k1);
    snprintf(key2, sizeof key2, "%s", k2 && *k2 ? k2 : key1);
    char how[16];
    snprintf(how, sizeof how, "%s", jm ? jm : "inner");
    bool left = !strcmp(how, "left"), outer = !strcmp(how, "outer"), right = !strcmp(how, "right");
    bool emit_pairs = left || outer || right || !strcmp(how, "inner");
    bool un1 = left || outer || !strcmp(how, "unmatched") || !strcmp(how, "unmatched1");
    bool un2 = right || outer || !strcmp(how, "unmatched") || !strcmp(how, "unmatched2");
    bool *used2 = gl_xcalloc(n2 + 1, sizeof *used2), *used1 = gl_xcalloc(n1 + 1, sizeof *used1);
    for (size_t i = 0; i < n1; i++) {
        json_object *a = json_object_array_get_idx(c->in[0], i);
        char abuf[512], bbuf[512];
        const char *sa = key_text(a, key1, abuf, sizeof abuf);
        for (size_t j = 0; sa && j < n2; j++) {
            json_object *b = json_object_array_get_idx(c->in[1], j);
            const char *sb = key_text(b, key2, bbuf, sizeof bbuf);
            if (sb && strcmp(sa, sb) == 0) {
                if (emit_pairs)
                    gl_node_emit(c, 0, merged(a, b));
                used1[i] = used2[j] = true;
            }
        }
    }
    /* matched1/matched2: each item of that input that has a match, once */
    for (size_t i = 0; !strcmp(how, "matched1") && i < n1; i++)
        if (used1[i])
            gl_node_emit(c, 0, json_object_get(json_object_array_get_idx(c->in[0], i)));
    for (size_t j = 0; !strcmp(how, "matched2") && j < n2; j++)
        if (used2[j])
            gl_node_emit(c, 0, json_object_get(json_object_array_get_idx(c->in[1], j)));
    /* n8n's order: the matches, then input1's unmatched, then input2's */
    for (size_t i = 0; un1 && i < n1; i++)
        if (!used1[i])
            gl_node_emit(c, 0, json_object_get(json_object_array_get_idx(c->in[0], i)));
    for (size_t j = 0; un2 && j < n2; j++)
        if (!used2[j])
            gl_node_emit(c, 0, json_object_get(json_object_array_get_idx(c->in[1], j)));
    free(used1);
    free(used2);
    return GL_OK;
}

static int run(gl_node_ctx_t *c)
{
    const char *m;
    if (gl_node_param_str(c, "mode", -1, &m) != GL_OK)
        return GL_INVALID;
    char mode[16];
    snprintf(mode, sizeof mode, "%s", m ? m : "append");
    size_t n1 = json_object_array_length(c->in[0]), n2 = json_object_array_length(c->in[1]);
    if (strcmp(mode, "append") == 0) {
        gl_node_pass(c, 0, 0);
        gl_node_pass(c, 1, 0);
    } else if (strcmp(mode, "wait") == 0) {
        const char *o;
        if (gl_node_param_str(c, "output", -1, &o) != GL_OK)
            return GL_INVALID;
        if (n1 > 0 && n2 > 0)
            gl_node_pass(c, o && strcmp(o, "input2") == 0 ? 1 : 0, 0);
    } else if (strcmp(mode, "position") == 0) {
        const char *jm;
        if (gl_node_param_str(c, "join", -1, &jm) != GL_OK)
            return GL_INVALID;
        bool outer = jm && strcmp(jm, "outer") == 0;
        size_t n = outer ? (n1 > n2 ? n1 : n2) : (n1 < n2 ? n1 : n2);
        for (size_t i = 0; i < n; i++)
            gl_node_emit(c, 0, merged(i < n1 ? json_object_array_get_idx(c->in[0], i) : NULL,
                                      i < n2 ? json_object_array_get_idx(c->in[1], i) : NULL));
    } else if (strcmp(mode, "join") == 0) {
        return join(c, n1, n2);
    } else {
        return gl_node_fail(c, "unknown mode '%.20s'", mode);
    }
    return GL_OK;
}

static const char *const merge_modes[] = { "append", "join", "position", "wait", NULL };
static const char *const join_modes[] = { "inner", "left", "right", "outer", "matched1", "matched2",
                                           "unmatched", "unmatched1", "unmatched2", NULL };
static const char *const wait_outputs[] = { "input1", "input2", NULL };

const gl_node_def_t gl_node_flow_merge = {
    .type = "flow.merge",
    .display_name = "Merge",
    .category = "flow",
    .description = "Combines two inputs: append, join by key, pair by position, or wait for both.",
    .inputs = { "input1", "input2" },
    .outputs = { "main" },
    .params = {
        { "mode", GL_PARAM_SELECT, "\"append\"", false, false, merge_modes, "how the inputs combine" },
        { "key", GL_PARAM_STRING, NULL, false, false, NULL, "join mode: the field both inputs share (input1's)" },
        { "key2", GL_PARAM_STRING, NULL, false, false, NULL, "join mode: input2's field, when its name differs from key" },
        { "join", GL_PARAM_SELECT, "\"inner\"", false, false, join_modes,
          "join mode: inner (matches only), left (then input1's unmatched items), right (then input2's), outer (then both); matched1/matched2 (that input's items that match, once each); unmatched (input1's then input2's items without a match), unmatched1, unmatched2. position mode: inner (up to the shorter input) or outer (up to the longer)" },
        { "output", GL_PARAM_SELECT, "\"input1\"", false, false, wait_outputs, "wait mode: the input whose items go on" },
    },
    .run = run,
    .quick = true,
};
