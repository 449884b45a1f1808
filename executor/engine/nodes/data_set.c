/*
 * data.set: sets, renames and removes fields of each item. `fields` maps a
 * name (a dotted path reaches into nested objects, creating them) to a
 * value, evaluated for the item; `rename` maps old names to new; `remove`
 * lists names. Mode `merge` changes a copy of the item, `replace` starts
 * from an empty object — but for the item's binary properties ("$binary"),
 * which it keeps unless `keep_binary` is false (n8n's Set node's "include
 * binary data"). Order: remove, rename, then set; so "$binary" (or
 * "$binary.data") in `remove` drops binary data in either mode, and
 * `rename` and `fields` may reach into it ("$binary.data.file_name").
 */
#include "node.h"

#include <stdio.h>
#include <string.h>

#define MAX_PATH 256

/* The objects of an item this node made (its copy of the input item, the
 * nested objects it copied or created on the way to a change): the item
 * starts as a copy of the input item's top level, sharing its members
 * with the input (items are handed on by reference and never changed), and
 * a nested object is copied the first time a change reaches into it. So a
 * change never touches the input, and what no change reaches is not
 * copied: a deep copy of every item was a fiftieth of a quick webhook's
 * CPU. */
#define OWNED_MAX 32
typedef struct {
    json_object *obj[OWNED_MAX];
    int n;
} owned_t;

/* A new empty object of the item's own (past OWNED_MAX it is not
 * remembered, and a later change reaching into it copies it again: more
 * work, the same item). */
static json_object *owned_new(owned_t *own)
{
    json_object *out = json_object_new_object();
    if (own->n < OWNED_MAX)
        own->obj[own->n++] = out;
    return out;
}

static json_object *shallow_copy(json_object *obj, owned_t *own)
{
    json_object *out = owned_new(own);
    json_object_object_foreach(obj, k, v) json_object_object_add(out, k, json_object_get(v));
    return out;
}

static bool is_owned(const owned_t *own, json_object *obj)
{
    for (int i = 0; i < own->n; i++)
        if (own->obj[i] == obj)
            return true;
    return false;
}

/* the object at the parent of a dotted path, made the item's own (copied
 * when shared), created on the way when create is set; *leaf is the last
 * segment (points into buf) */
static json_object *parent_of(json_object *root, char *buf, bool create, const char **leaf, owned_t *own)
{
    json_object *cur = root;
    char *seg = buf;
    for (char *dot; (dot = strchr(seg, '.')) != NULL; seg = dot + 1) {
        *dot = '\0';
        json_object *next = NULL;
        if (!json_object_object_get_ex(cur, seg, &next) || !json_object_is_type(next, json_type_object)) {
            if (!create)
                return NULL;
            next = owned_new(own);
            json_object_object_add(cur, seg, next);
        } else if (!is_owned(own, next)) {
            next = shallow_copy(next, own);
            json_object_object_add(cur, seg, next); /* drops cur's reference to the shared one */
        }
        cur = next;
    }
    *leaf = seg;
    return cur;
}

static json_object *deep_copy(json_object *v)
{
    json_object *out = NULL;
    if (json_object_deep_copy(v, &out, NULL) != 0)
        return json_object_new_object();
    return out;
}

static int run(gl_node_ctx_t *c)
{
    const char *mode;
    if (gl_node_param_str(c, "mode", -1, &mode) != GL_OK)
        return GL_INVALID;
    bool replace = mode && strcmp(mode, "replace") == 0, keep_binary = true;
    if (gl_node_param_bool(c, "keep_binary", -1, &keep_binary) != GL_OK)
        return GL_INVALID;
    json_object *rename = NULL, *remove = NULL;
    if (gl_node_param(c, "rename", -1, &rename) != GL_OK || gl_node_param(c, "remove", -1, &remove) != GL_OK) {
        json_object_put(rename);
        return GL_INVALID;
    }
    int rc = GL_OK;
    if (rename && !json_object_is_type(rename, json_type_object))
        rc = gl_node_fail(c, "parameter 'rename' must be an object of old name -> new name");
    else if (remove && !json_object_is_type(remove, json_type_array))
        rc = gl_node_fail(c, "parameter 'remove' must be an array of names");
    size_t n = json_object_array_length(c->in[0]);
    for (size_t i = 0; i < n && rc == GL_OK; i++) {
        json_object *in = gl_node_item(c, (int)i);
        owned_t own = { .n = 0 };
        json_object *item = !replace && json_object_is_type(in, json_type_object) ? shallow_copy(in, &own)
                                                                                   : owned_new(&own);
        json_object *bin = NULL;
        if (replace && keep_binary && json_object_is_type(in, json_type_object) &&
            json_object_object_get_ex(in, GL_BINARY_KEY, &bin))
            json_object_object_add(item, GL_BINARY_KEY, deep_copy(bin));
        char buf[MAX_PATH];
        const char *leaf;
        for (size_t k = 0; remove && k < json_object_array_length(remove); k++) {
            json_object *name = json_object_array_get_idx(remove, k);
            if (!json_object_is_type(name, json_type_string))
                continue;
            snprintf(buf, sizeof buf, "%s", json_object_get_string(name));
            json_object *p = parent_of(item, buf, false, &leaf, &own);
            if (p)
                json_object_object_del(p, leaf);
        }
        if (rename) {
            json_object_object_foreach(rename, from, to)
            {
                if (!json_object_is_type(to, json_type_string))
                    continue;
                snprintf(buf, sizeof buf, "%s", from);
                json_object *p = parent_of(item, buf, false, &leaf, &own), *v = NULL;
                if (!p || !json_object_object_get_ex(p, leaf, &v))
                    continue;
                json_object_get(v);
                json_object_object_del(p, leaf);
                snprintf(buf, sizeof buf, "%s", json_object_get_string(to));
                json_object *q = parent_of(item, buf, true, &leaf, &own);
                json_object_object_add(q, leaf, v);
            }
        }
        json_object *fields = NULL;
        rc = gl_node_param(c, "fields", (int)i, &fields);
        if (rc == GL_OK && fields && !json_object_is_type(fields, json_type_object))
            rc = gl_node_fail(c, "parameter 'fields' must be an object of name -> value");
        if (rc == GL_OK && fields) {
            json_object_object_foreach(fields, name, v)
            {
                if (!*name || strlen(name) >= MAX_PATH) {
                    rc = gl_node_fail(c, "field names must have 1 to %d bytes", MAX_PATH - 1);
                    break;
                }
                snprintf(buf, sizeof buf, "%s", name);
                json_object *p = parent_of(item, buf, true, &leaf, &own);
                json_object_object_add(p, leaf, json_object_get(v));
            }
        }
        json_object_put(fields);
        if (rc == GL_OK)
            gl_node_emit(c, 0, item);
        else
            json_object_put(item);
    }
    json_object_put(rename);
    json_object_put(remove);
    return rc;
}

static const char *const set_modes[] = { "merge", "replace", NULL };

const gl_node_def_t gl_node_data_set = {
    .type = "data.set",
    .display_name = "Set fields",
    .category = "data",
    .description = "Sets, renames or removes fields of each item.",
    .inputs = { "main" },
    .outputs = { "main" },
    .params = {
        { "fields", GL_PARAM_JSON, "{}", false, true, NULL, "fields to set: name -> value (values may be expressions)" },
        { "rename", GL_PARAM_JSON, "{}", false, false, NULL, "fields to rename: old -> new" },
        { "remove", GL_PARAM_JSON, "[]", false, false, NULL, "field names to remove" },
        { "mode", GL_PARAM_SELECT, "\"merge\"", false, false, set_modes, "merge into the item or replace it" },
        { "keep_binary", GL_PARAM_BOOLEAN, "true", false, false, NULL, "replace mode: keep the item's binary data ($binary)" },
    },
    .run = run,
    .quick = true,
};
