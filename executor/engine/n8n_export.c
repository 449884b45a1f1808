/*
 * n8n_export.c: a Glyphic definition as an n8n workflow export (engine.h,
 * "n8n workflows"): the way back of n8n_import.c for the node types both
 * have. Each node becomes the n8n node of the newest layout this file
 * writes (Set 3.4, IF 2.2, Switch 3.2, Merge 3, HTTP Request 4.2, …);
 * conditions, which Glyphic holds as expressions, become a boolean "is
 * true" condition on that expression. Values holding {{ }} get n8n's
 * leading '='. A node without an n8n equivalent is a problem.
 */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static const char *gstr(json_object *o, const char *key, const char *def)
{
    json_object *v = get(o, key);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

static json_object *jstr(const char *s)
{
    return json_object_new_string(s);
}

/* a Glyphic value in n8n's form: strings with {{ }} get '=' */
static json_object *nval(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_string: {
        const char *s = json_object_get_string(v);
        if (gl_expr_has(s) || s[0] == '=') {
            char *t = NULL;
            json_object *o;
            if (!gl_expr_has(s)) { /* a literal starting with '=' */
                json_object *lit = json_object_new_string(s);
                const char *q = json_object_to_json_string_ext(lit, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                size_t n = strlen(q) + 12;
                t = gl_xmalloc(n);
                snprintf(t, n, "={{ %s }}", q);
                json_object_put(lit);
            } else {
                size_t n = strlen(s) + 2;
                t = gl_xmalloc(n);
                snprintf(t, n, "=%s", s);
            }
            o = jstr(t);
            free(t);
            return o;
        }
        return json_object_get(v);
    }
    case json_type_array: {
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(v); i++)
            json_object_array_add(a, nval(json_object_array_get_idx(v, i)));
        return a;
    }
    case json_type_object: {
        json_object *o = json_object_new_object();
        json_object_object_foreach(v, k, e) json_object_object_add(o, k, nval(e));
        return o;
    }
    default: return json_object_get(v);
    }
}

/* {parameters: [{name, value}]} from an object */
static json_object *nv_list(json_object *obj, const char *list_key)
{
    json_object *w = json_object_new_object(), *a = json_object_new_array();
    json_object_object_add(w, list_key, a);
    if (json_object_is_type(obj, json_type_object)) {
        json_object_object_foreach(obj, k, v)
        {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "name", jstr(k));
            json_object_object_add(e, "value", json_object_is_type(v, json_type_string) ? nval(v)
                                                   : jstr(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)));
            json_object_array_add(a, e);
        }
    }
    return w;
}

/* a boolean "is true" filter on a Glyphic condition */
static json_object *is_true_filter(json_object *cond, int i)
{
    json_object *f = json_object_new_object(), *opts = json_object_new_object(), *list = json_object_new_array();
    json_object_object_add(opts, "caseSensitive", json_object_new_boolean(1));
    json_object_object_add(opts, "leftValue", jstr(""));
    json_object_object_add(opts, "typeValidation", jstr("loose"));
    json_object_object_add(f, "options", opts);
    json_object *c = json_object_new_object(), *op = json_object_new_object();
    char id[40];
    snprintf(id, sizeof id, "glyphic-condition-%d", i);
    json_object_object_add(c, "id", jstr(id));
    json_object *lv;
    if (json_object_is_type(cond, json_type_string) && !gl_expr_has(json_object_get_string(cond)))
        lv = json_object_new_boolean(strcmp(json_object_get_string(cond), "true") == 0);
    else
        lv = cond ? nval(cond) : json_object_new_boolean(0);
    json_object_object_add(c, "leftValue", lv);
    json_object_object_add(c, "rightValue", jstr(""));
    json_object_object_add(op, "type", jstr("boolean"));
    json_object_object_add(op, "operation", jstr("true"));
    json_object_object_add(op, "singleValue", json_object_new_boolean(1));
    json_object_object_add(c, "operator", op);
    json_object_array_add(list, c);
    json_object_object_add(f, "conditions", list);
    json_object_object_add(f, "combinator", jstr("and"));
    return f;
}

typedef struct {
    char msg[300];
} ex_t;

static int fail(ex_t *x, const char *fmt, ...) GL_PRINTF(2, 3);
static int fail(ex_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, sizeof x->msg, fmt, ap);
    va_end(ap);
    return GL_INVALID;
}

/* n8n's output index of a Glyphic port of a node of type t (-1: none) */
static int out_index(const char *t, const char *port, json_object *params)
{
    if (!strcmp(port, "error"))
        return -2;
    if (!strcmp(t, "flow.if"))
        return !strcmp(port, "true") ? 0 : !strcmp(port, "false") ? 1 : -1;
    if (!strcmp(t, "flow.loop"))
        return !strcmp(port, "done") ? 0 : !strcmp(port, "batch") ? 1 : -1;
    if (!strcmp(t, "flow.switch")) {
        if (!strcmp(port, "fallback")) {
            json_object *r = get(params, "rules");
            return json_object_is_type(r, json_type_array) ? (int)json_object_array_length(r) : 0;
        }
        if (!strncmp(port, "out", 3) && port[3] >= '0' && port[3] <= '7' && !port[4])
            return port[3] - '0';
        return -1;
    }
    return !strcmp(port, "main") ? 0 : -1;
}

/* What a node's exporter reads and sets: the Glyphic params p, n8n's
 * parameters np and node nn, and the n8n type and version it picks. */
typedef struct {
    ex_t *x;
    json_object *p, *np, *nn;
    bool has_respond;
    const char *nt;
    double ver;
} en_t;

/* A data.set that only renames fields (no fields set or removed, not
 * replacing the item). */
static bool set_only_renames(json_object *p)
{
    return json_object_is_type(get(p, "rename"), json_type_object) && json_object_object_length(get(p, "rename"))
           && !(json_object_is_type(get(p, "fields"), json_type_object) && json_object_object_length(get(p, "fields")))
           && !(json_object_is_type(get(p, "remove"), json_type_array) && json_object_array_length(get(p, "remove")))
           && strcmp(gstr(p, "mode", "merge"), "replace");
}

/* trigger.manual */
static int ex_trigger_manual(en_t *en)
{
    en->nt = "n8n-nodes-base.manualTrigger";
    return GL_OK;
}

/* trigger.error */
static int ex_trigger_error(en_t *en)
{
    en->nt = "n8n-nodes-base.errorTrigger";
    return GL_OK;
}

/* flow.noop */
static int ex_flow_noop(en_t *en)
{
    en->nt = "n8n-nodes-base.noOp";
    return GL_OK;
}

/* trigger.webhook */
static int ex_trigger_webhook(en_t *en)
{
    ex_t *x = en->x;
    json_object *p = en->p, *np = en->np;
    bool has_respond = en->has_respond;
    en->nt = "n8n-nodes-base.webhook";
    en->ver = 2;
    if (get(p, "secret"))
        return fail(x, "signed webhooks have no n8n equivalent");
    json_object_object_add(np, "path", jstr(gstr(p, "path", "")));
    const char *m = gstr(p, "method", "POST");
    if (!strcmp(m, "ANY"))
        return fail(x, "a webhook taking any method has no single n8n method");
    json_object_object_add(np, "httpMethod", jstr(m));
    bool sync = !strcmp(gstr(p, "mode", "async"), "sync");
    json_object_object_add(np, "responseMode", jstr(!sync ? "onReceived" : has_respond ? "responseNode" : "lastNode"));
    json_object_object_add(np, "options", json_object_new_object());
    return GL_OK;
}

/* trigger.schedule */
static int ex_trigger_schedule(en_t *en)
{
    json_object *p = en->p, *np = en->np;
    en->nt = "n8n-nodes-base.scheduleTrigger";
    en->ver = 1.2;
    json_object *rule = json_object_new_object(), *iv = json_object_new_array(), *r = json_object_new_object();
    json_object_object_add(r, "field", jstr("cronExpression"));
    json_object_object_add(r, "expression", jstr(gstr(p, "cron", "0 0 * * *")));
    json_object_array_add(iv, r);
    json_object_object_add(rule, "interval", iv);
    json_object_object_add(np, "rule", rule);
    return GL_OK;
}

/* a data.set that only renames: n8n's Rename Keys */
static int ex_rename_keys(en_t *en)
{
    json_object *p = en->p, *np = en->np;
    /* only renames: n8n's Rename Keys */
    en->nt = "n8n-nodes-base.renameKeys";
    json_object *keys = json_object_new_object(), *list = json_object_new_array();
    json_object_object_foreach(get(p, "rename"), from, to)
    {
        json_object *k = json_object_new_object();
        json_object_object_add(k, "currentKey", jstr(from));
        json_object_object_add(k, "newKey", json_object_get(to));
        json_object_array_add(list, k);
    }
    json_object_object_add(keys, "key", list);
    json_object_object_add(np, "keys", keys);
    json_object_object_add(np, "additionalOptions", json_object_new_object());
    return GL_OK;
}

/* data.set: Edit Fields (Set) 3.4 */
static int ex_data_set(en_t *en)
{
    if (set_only_renames(en->p))
        return ex_rename_keys(en);
    ex_t *x = en->x;
    json_object *p = en->p, *np = en->np;
    en->nt = "n8n-nodes-base.set";
    en->ver = 3.4;
    json_object *rn = get(p, "rename");
    if (json_object_is_type(rn, json_type_object) && json_object_object_length(rn))
        return fail(x, "renaming fields together with setting or removing them has no Set equivalent in n8n");
    json_object *fields = get(p, "fields");
    bool raw = json_object_is_type(fields, json_type_string) && gl_expr_has(json_object_get_string(fields));
    if (fields && !raw && !json_object_is_type(fields, json_type_object))
        return fail(x, "fields given as anything but an object or an expression have no Set equivalent in n8n");
    json_object *as = json_object_new_object(), *list = json_object_new_array();
    json_object_object_add(as, "assignments", list);
    if (raw) { /* one expression giving the object: n8n's JSON mode */
        json_object_put(as);
        json_object_object_add(np, "mode", jstr("raw"));
        json_object_object_add(np, "jsonOutput", nval(fields));
        fields = NULL;
    } else {
        json_object_object_add(np, "assignments", as);
    }
    int i = 0;
    if (!json_object_is_type(fields, json_type_object))
        fields = NULL;
    for (struct json_object_iterator it = fields ? json_object_iter_begin(fields) : (struct json_object_iterator){ 0 },
                                      end = fields ? json_object_iter_end(fields) : (struct json_object_iterator){ 0 };
         fields && !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *k = json_object_iter_peek_name(&it);
        json_object *v = json_object_iter_peek_value(&it);
        json_object *a = json_object_new_object();
        char id[40];
        snprintf(id, sizeof id, "glyphic-field-%d", i++);
        json_object_object_add(a, "id", jstr(id));
        json_object_object_add(a, "name", jstr(k));
        const char *type = "string";
        json_object *val;
        switch (json_object_get_type(v)) {
        case json_type_int:
        case json_type_double: type = "number"; val = json_object_get(v); break;
        case json_type_boolean: type = "boolean"; val = json_object_get(v); break;
        case json_type_array:
        case json_type_object:
            type = json_object_is_type(v, json_type_array) ? "array" : "object";
            val = jstr(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
            break;
        case json_type_null: val = jstr(""); break;
        default: val = nval(v); break;
        }
        json_object_object_add(a, "value", val);
        json_object_object_add(a, "type", jstr(type));
        json_object_array_add(list, a);
    }
    bool replace = !strcmp(gstr(p, "mode", "merge"), "replace");
    json_object *rm = get(p, "remove");
    json_object_object_add(np, "includeOtherFields", json_object_new_boolean(!replace));
    if (json_object_is_type(rm, json_type_array) && json_object_array_length(rm)) {
        if (replace)
            return fail(x, "removing fields in replace mode has no Set equivalent in n8n");
        char buf[2048];
        size_t len = 0;
        buf[0] = '\0';
        for (size_t r = 0; r < json_object_array_length(rm) && len < sizeof buf; r++) {
            int n = snprintf(buf + len, sizeof buf - len, "%s%s", r ? ", " : "",
                             json_object_get_string(json_object_array_get_idx(rm, r)));
            if (n < 0 || (size_t)n >= sizeof buf - len)
                return fail(x, "too many fields to remove");
            len += (size_t)n;
        }
        json_object_object_add(np, "include", jstr("except"));
        json_object_object_add(np, "excludeFields", jstr(buf));
    }
    json_object_object_add(np, "options", json_object_new_object());
    return GL_OK;
}

/* flow.if */
static int ex_flow_if(en_t *en)
{
    json_object *p = en->p, *np = en->np;
    en->nt = "n8n-nodes-base.if";
    en->ver = 2.2;
    json_object_object_add(np, "conditions", is_true_filter(get(p, "condition"), 0));
    json_object *opts = json_object_new_object();
    json_object_object_add(opts, "looseTypeValidation", json_object_new_boolean(1));
    json_object_object_add(np, "looseTypeValidation", json_object_new_boolean(1));
    json_object_object_add(np, "options", opts);
    return GL_OK;
}

/* flow.switch */
static int ex_flow_switch(en_t *en)
{
    ex_t *x = en->x;
    json_object *p = en->p, *np = en->np;
    en->nt = "n8n-nodes-base.switch";
    en->ver = 3.2;
    json_object *rules = get(p, "rules");
    if (!json_object_is_type(rules, json_type_array))
        return fail(x, "rules given as one expression have no n8n equivalent");
    json_object *rw = json_object_new_object(), *vals = json_object_new_array();
    json_object_object_add(rw, "values", vals);
    for (size_t i = 0; i < json_object_array_length(rules); i++) {
        json_object *r = json_object_new_object();
        json_object_object_add(r, "conditions", is_true_filter(json_object_array_get_idx(rules, i), (int)i));
        json_object_array_add(vals, r);
    }
    json_object_object_add(np, "rules", rw);
    json_object *opts = json_object_new_object();
    json_object_object_add(opts, "fallbackOutput", jstr("extra"));
    json_object_object_add(opts, "looseTypeValidation", json_object_new_boolean(1));
    json_object_object_add(np, "looseTypeValidation", json_object_new_boolean(1));
    json_object_object_add(np, "options", opts);
    return GL_OK;
}

/* flow.merge */
static int ex_flow_merge(en_t *en)
{
    json_object *p = en->p, *np = en->np;
    en->nt = "n8n-nodes-base.merge";
    en->ver = 3;
    const char *m = gstr(p, "mode", "append"), *j = gstr(p, "join", "inner");
    if (!strcmp(m, "append")) {
        json_object_object_add(np, "mode", jstr("append"));
    } else if (!strcmp(m, "wait")) {
        json_object_object_add(np, "mode", jstr("chooseBranch"));
        json_object_object_add(np, "useDataOfInput", json_object_new_int(!strcmp(gstr(p, "output", "input1"), "input2") ? 2 : 1));
    } else if (!strcmp(m, "position")) {
        json_object_object_add(np, "mode", jstr("combine"));
        json_object_object_add(np, "combineBy", jstr("combineByPosition"));
        json_object *o = json_object_new_object();
        json_object_object_add(o, "includeUnpaired", json_object_new_boolean(!strcmp(j, "outer")));
        json_object_object_add(np, "options", o);
    } else {
        json_object_object_add(np, "mode", jstr("combine"));
        json_object_object_add(np, "combineBy", jstr("combineByFields"));
        json_object_object_add(np, "advanced", json_object_new_boolean(1));
        json_object *fm = json_object_new_object(), *vals = json_object_new_array(), *e = json_object_new_object();
        json_object_object_add(e, "field1", jstr(gstr(p, "key", "")));
        json_object_object_add(e, "field2", jstr(gstr(p, "key2", gstr(p, "key", ""))));
        json_object_array_add(vals, e);
        json_object_object_add(fm, "values", vals);
        json_object_object_add(np, "fieldsToMatch", fm);
        const char *jmode = !strcmp(j, "left") ? "enrichInput1" : !strcmp(j, "right") ? "enrichInput2"
                            : !strcmp(j, "outer") ? "keepEverything" : !strncmp(j, "unmatched", 9) ? "keepNonMatches"
                            : "keepMatches";
        json_object_object_add(np, "joinMode", jstr(jmode));
        size_t jl = strlen(j);
        const char *from = jl && j[jl - 1] == '1' ? "input1" : jl && j[jl - 1] == '2' ? "input2" : NULL;
        if (from)
            json_object_object_add(np, "outputDataFrom", jstr(from));
        json_object_object_add(np, "options", json_object_new_object());
    }
    return GL_OK;
}

/* http.request */
/* body_type binary and multipart: n8n's binaryData and multipart-form-data
 * (the body's fields as formData, each binary_property entry, prop or
 * field:prop, as formBinaryData) */
static int ex_http_file_body(en_t *en, const char *bt, json_object *b)
{
    const char *props = gstr(en->p, "binary_property", "data");
    if (!strcmp(bt, "binary")) {
        json_object_object_add(en->np, "contentType", jstr("binaryData"));
        json_object_object_add(en->np, "inputDataFieldName", jstr(props));
        return GL_OK;
    }
    if (b && !json_object_is_type(b, json_type_object))
        return fail(en->x, "a multipart body given as one expression is not exported");
    json_object *w = nv_list(b, "parameters"), *list = get(w, "parameters");
    for (const char *q = props; *q;) {
        size_t n = strcspn(q, ","), colon = strcspn(q, ":");
        char field[256], prop[256];
        bool named = colon < n;
        snprintf(field, sizeof field, "%.*s", (int)(named ? colon : n), q);
        snprintf(prop, sizeof prop, "%.*s", (int)(named ? n - colon - 1 : n), named ? q + colon + 1 : q);
        q += n + (q[n] == ',');
        json_object *e = json_object_new_object();
        json_object_object_add(e, "parameterType", jstr("formBinaryData"));
        json_object_object_add(e, "name", jstr(gl_str_trim(field)));
        json_object_object_add(e, "inputDataFieldName", jstr(gl_str_trim(prop)));
        json_object_array_add(list, e);
    }
    json_object_object_add(en->np, "contentType", jstr("multipart-form-data"));
    json_object_object_add(en->np, "bodyParameters", w);
    return GL_OK;
}

static int ex_http_request(en_t *en)
{
    ex_t *x = en->x;
    json_object *p = en->p, *np = en->np, *nn = en->nn;
    en->nt = "n8n-nodes-base.httpRequest";
    en->ver = 4.2;
    json_object_object_add(np, "method", jstr(gstr(p, "method", "GET")));
    json_object_object_add(np, "url", get(p, "url") ? nval(get(p, "url")) : jstr(""));
    json_object *q = get(p, "query"), *h = get(p, "headers"), *b = get(p, "body");
    if ((q && !json_object_is_type(q, json_type_object)) || (h && !json_object_is_type(h, json_type_object)))
        return fail(x, "query or headers given as one expression are not exported");
    if (q && json_object_object_length(q)) {
        json_object_object_add(np, "sendQuery", json_object_new_boolean(1));
        json_object_object_add(np, "queryParameters", nv_list(q, "parameters"));
    }
    if (h && json_object_object_length(h)) {
        json_object_object_add(np, "sendHeaders", json_object_new_boolean(1));
        json_object_object_add(np, "headerParameters", nv_list(h, "parameters"));
    }
    const char *bt = gstr(p, "body_type", "none");
    if (strcmp(bt, "none")) {
        json_object_object_add(np, "sendBody", json_object_new_boolean(1));
        if (!strcmp(bt, "json")) {
            json_object_object_add(np, "contentType", jstr("json"));
            json_object_object_add(np, "specifyBody", jstr("json"));
            const char *txt = b ? json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "{}";
            if (json_object_is_type(b, json_type_string) && gl_expr_has(json_object_get_string(b)))
                json_object_object_add(np, "jsonBody", nval(b));
            else if (b && gl_expr_has(txt)) {
                size_t n = strlen(txt) + 2;
                char *s = gl_xmalloc(n);
                snprintf(s, n, "=%s", txt);
                json_object_object_add(np, "jsonBody", jstr(s));
                free(s);
            } else
                json_object_object_add(np, "jsonBody", jstr(txt));
        } else if (!strcmp(bt, "form")) {
            if (!json_object_is_type(b, json_type_object))
                return fail(x, "a form body given as one expression is not exported");
            json_object_object_add(np, "contentType", jstr("form-urlencoded"));
            json_object_object_add(np, "bodyParameters", nv_list(b, "parameters"));
        } else if (!strcmp(bt, "binary") || !strcmp(bt, "multipart")) {
            if (ex_http_file_body(en, bt, b) != GL_OK)
                return GL_INVALID;
        } else {
            json_object_object_add(np, "contentType", jstr("raw"));
            json_object_object_add(np, "body", b ? nval(b) : jstr(""));
        }
    }
    json_object *opts = json_object_new_object(), *r1 = json_object_new_object(), *r2 = json_object_new_object();
    const char *rt = gstr(p, "response_type", "auto");
    json_object_object_add(r2, "responseFormat", jstr(!strcmp(rt, "auto") ? "autodetect" : rt));
    if (!strcmp(rt, "file"))
        json_object_object_add(r2, "outputPropertyName", jstr(gstr(p, "response_property", "data")));
    if (!strcmp(gstr(p, "output", "response"), "response"))
        json_object_object_add(r2, "fullResponse", json_object_new_boolean(1));
    json_object *fos = get(p, "fail_on_status");
    if (fos && !json_object_get_boolean(fos))
        json_object_object_add(r2, "neverError", json_object_new_boolean(1));
    json_object_object_add(r1, "response", r2);
    json_object_object_add(opts, "response", r1);
    json_object *to = get(p, "timeout_ms");
    if (json_object_is_type(to, json_type_int))
        json_object_object_add(opts, "timeout", json_object_get(to));
    json_object_object_add(np, "options", opts);
    const char *cred = gstr(p, "credential", NULL);
    if (cred) {
        json_object_object_add(np, "authentication", jstr("genericCredentialType"));
        json_object_object_add(np, "genericAuthType", jstr("httpHeaderAuth"));
        json_object *cs = json_object_new_object(), *c = json_object_new_object();
        json_object_object_add(c, "name", jstr(cred));
        json_object_object_add(cs, "httpHeaderAuth", c);
        json_object_object_add(nn, "credentials", cs);
    }
    return GL_OK;
}

/* flow.respond */
static int ex_flow_respond(en_t *en)
{
    json_object *p = en->p, *np = en->np;
    en->nt = "n8n-nodes-base.respondToWebhook";
    en->ver = 1.1;
    json_object *b = get(p, "body"), *opts = json_object_new_object();
    if (!strcmp(gstr(p, "respond_with", "body"), "binary")) {
        json_object_object_add(np, "respondWith", jstr("binary"));
        json_object_object_add(np, "responseDataSource", jstr("set"));
        json_object_object_add(np, "inputFieldName", jstr(gstr(p, "binary_property", "data")));
    } else if (b) {
        json_object_object_add(np, "respondWith", jstr("json"));
        const char *txt = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        json_object_object_add(np, "responseBody", json_object_is_type(b, json_type_string) ? nval(b) : jstr(txt));
    } else {
        json_object_object_add(np, "respondWith", jstr("firstIncomingItem"));
    }
    if (get(p, "status"))
        json_object_object_add(opts, "responseCode", nval(get(p, "status")));
    json_object *h = get(p, "headers");
    if (json_object_is_type(h, json_type_object) && json_object_object_length(h)) {
        json_object *rh = nv_list(h, "entries");
        json_object_object_add(opts, "responseHeaders", rh);
    }
    json_object_object_add(np, "options", opts);
    return GL_OK;
}

/* flow.loop */
static int ex_flow_loop(en_t *en)
{
    json_object *p = en->p, *np = en->np;
    en->nt = "n8n-nodes-base.splitInBatches";
    en->ver = 3;
    json_object_object_add(np, "batchSize", get(p, "batch_size") ? nval(get(p, "batch_size")) : json_object_new_int(1));
    json_object_object_add(np, "options", json_object_new_object());
    return GL_OK;
}

/* flow.split */
static int ex_flow_split(en_t *en)
{
    json_object *p = en->p, *np = en->np;
    en->nt = "n8n-nodes-base.splitOut";
    json_object_object_add(np, "fieldToSplitOut", jstr(gstr(p, "field", "")));
    json_object_object_add(np, "options", json_object_new_object());
    return GL_OK;
}

/* flow.aggregate */
static int ex_flow_aggregate(en_t *en)
{
    json_object *p = en->p, *np = en->np;
    en->nt = "n8n-nodes-base.aggregate";
    json_object *f = get(p, "fields");
    if (json_object_is_type(f, json_type_array) && json_object_array_length(f)) {
        json_object *w = json_object_new_object(), *list = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(f); i++) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "fieldToAggregate", json_object_get(json_object_array_get_idx(f, i)));
            json_object_array_add(list, e);
        }
        json_object_object_add(w, "fieldToAggregate", list);
        json_object_object_add(np, "fieldsToAggregate", w);
    } else {
        json_object_object_add(np, "aggregate", jstr("aggregateAllItemData"));
        json_object_object_add(np, "destinationFieldName", jstr(gstr(p, "field", "items")));
    }
    json_object_object_add(np, "options", json_object_new_object());
    return GL_OK;
}

/* flow.wait */
static int ex_flow_wait(en_t *en)
{
    json_object *p = en->p, *np = en->np;
    en->nt = "n8n-nodes-base.wait";
    en->ver = 1.1;
    if (!strcmp(gstr(p, "mode", "duration"), "until")) {
        json_object_object_add(np, "resume", jstr("specificTime"));
        json_object_object_add(np, "dateTime", get(p, "until") ? nval(get(p, "until")) : jstr(""));
    } else {
        json_object_object_add(np, "amount", get(p, "seconds") ? nval(get(p, "seconds")) : json_object_new_int(0));
        json_object_object_add(np, "unit", jstr("seconds"));
    }
    return GL_OK;
}

/* flow.subworkflow */
static int ex_flow_subworkflow(en_t *en)
{
    json_object *p = en->p, *np = en->np;
    en->nt = "n8n-nodes-base.executeWorkflow";
    en->ver = 1;
    json_object_object_add(np, "workflowId", jstr(gstr(p, "workflow_id", "")));
    return GL_OK;
}

/* Glyphic node type -> its exporter. */
static const struct {
    const char *type;
    int (*fn)(en_t *en);
} exporters[] = {
    { "trigger.manual", ex_trigger_manual },
    { "trigger.error", ex_trigger_error },
    { "flow.noop", ex_flow_noop },
    { "trigger.webhook", ex_trigger_webhook },
    { "trigger.schedule", ex_trigger_schedule },
    { "data.set", ex_data_set },
    { "flow.if", ex_flow_if },
    { "flow.switch", ex_flow_switch },
    { "flow.merge", ex_flow_merge },
    { "http.request", ex_http_request },
    { "flow.respond", ex_flow_respond },
    { "flow.loop", ex_flow_loop },
    { "flow.split", ex_flow_split },
    { "flow.aggregate", ex_flow_aggregate },
    { "flow.wait", ex_flow_wait },
    { "flow.subworkflow", ex_flow_subworkflow },
};

/* one node: sets type, typeVersion and parameters of nn */
static int export_node(ex_t *x, json_object *g, json_object *nn, bool has_respond)
{
    const char *t = gstr(g, "type", "");
    json_object *np = json_object_new_object();
    json_object_object_add(nn, "parameters", np);
    en_t e = { x, get(g, "params"), np, nn, has_respond, NULL, 1 };
    int (*fn)(en_t *) = NULL;
    for (size_t i = 0; i < sizeof exporters / sizeof exporters[0]; i++)
        if (!strcmp(exporters[i].type, t))
            fn = exporters[i].fn;
    if (!fn)
        return fail(x, "no n8n node type for Glyphic's %.60s", t);
    int rc = fn(&e);
    if (rc != GL_OK)
        return rc;
    json_object_object_add(nn, "type", jstr(e.nt));
    json_object_object_add(nn, "typeVersion", e.ver == (int)e.ver ? json_object_new_int((int)e.ver) : json_object_new_double(e.ver));
    return GL_OK;
}

static void problem(json_object *problems, const char *node, const char *type, const char *msg)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "node", node ? jstr(node) : NULL);
    json_object_object_add(p, "type", type ? jstr(type) : NULL);
    json_object_object_add(p, "typeVersion", NULL);
    json_object_object_add(p, "message", jstr(msg));
    json_object_array_add(problems, p);
}

/* Node i of the definition (g) as an n8n node appended to nn_list, or a
 * problem. */
static void export_one_node(json_object *g, size_t i, bool has_respond, json_object *nn_list, json_object *problems)
{
    json_object *nn = json_object_new_object(), *v;
    const char *id = gstr(g, "id", ""), *nm = gstr(g, "name", id);
    json_object_object_add(nn, "id", jstr(id));
    json_object_object_add(nn, "name", jstr(nm));
    ex_t x = { "" };
    if (export_node(&x, g, nn, has_respond) != GL_OK) {
        problem(problems, nm, gstr(g, "type", NULL), x.msg);
        json_object_put(nn);
        return;
    }
    v = get(g, "position");
    json_object_object_add(nn, "position", v ? json_object_get(v) : NULL);
    if (!v) {
        json_object *pos = json_object_new_array();
        json_object_array_add(pos, json_object_new_int((int)i * 220));
        json_object_array_add(pos, json_object_new_int(300));
        json_object_object_add(nn, "position", pos);
    }
    if ((v = get(g, "disabled")) && json_object_get_boolean(v))
        json_object_object_add(nn, "disabled", json_object_new_boolean(1));
    if ((v = get(g, "notes")))
        json_object_object_add(nn, "notes", json_object_get(v));
    if ((v = get(g, "continue_on_fail")) && json_object_get_boolean(v))
        json_object_object_add(nn, "onError", jstr("continueErrorOutput"));
    if ((v = get(g, "retry"))) {
        json_object_object_add(nn, "retryOnFail", json_object_new_boolean(1));
        json_object_object_add(nn, "maxTries", json_object_new_int64(json_object_get_int64(get(v, "max")) + 1));
        if (get(v, "backoff_ms"))
            json_object_object_add(nn, "waitBetweenTries", json_object_get(get(v, "backoff_ms")));
    }
    json_object_array_add(nn_list, nn);
}

/* The node of nodes with this id, or NULL. */
static json_object *node_by_id(json_object *nodes, const char *id)
{
    for (size_t k = 0; k < json_object_array_length(nodes); k++) {
        json_object *g = json_object_array_get_idx(nodes, k);
        if (!strcmp(gstr(g, "id", ""), id))
            return g;
    }
    return NULL;
}

/* Edge e into conns {name: {main: [[{node, type, index}]…]}}, or a problem. */
static void export_edge(json_object *nodes, json_object *e, json_object *conns, json_object *problems)
{
    const char *fid = gstr(e, "from", ""), *tid = gstr(e, "to", "");
    json_object *from = node_by_id(nodes, fid), *to = node_by_id(nodes, tid);
    if (!from || !to)
        return;
    const char *ft = gstr(from, "type", ""), *fp = gstr(e, "from_port", "main"), *tp = gstr(e, "to_port", "main");
    int o = out_index(ft, fp, get(from, "params"));
    if (o == -2) { /* the error output comes after the regular ones */
        o = !strcmp(ft, "flow.if") || !strcmp(ft, "flow.loop") ? 2 : !strcmp(ft, "flow.switch") ? out_index(ft, "fallback", get(from, "params")) + 1 : 1;
    }
    if (o < 0) {
        problem(problems, gstr(from, "name", fid), ft, "an edge from a port n8n has no output for");
        return;
    }
    int in = !strcmp(tp, "input2") ? 1 : 0;
    const char *fname = gstr(from, "name", fid);
    json_object *byport = get(conns, fname);
    if (!byport) {
        byport = json_object_new_object();
        json_object_object_add(byport, "main", json_object_new_array());
        json_object_object_add(conns, fname, byport);
    }
    json_object *mains = get(byport, "main");
    while ((int)json_object_array_length(mains) <= o)
        json_object_array_add(mains, json_object_new_array());
    json_object *c = json_object_new_object();
    json_object_object_add(c, "node", jstr(gstr(to, "name", tid)));
    json_object_object_add(c, "type", jstr("main"));
    json_object_object_add(c, "index", json_object_new_int(in));
    json_object_array_add(json_object_array_get_idx(mains, (size_t)o), c);
}

/* Canvas note i as a Sticky Note appended to nn_list. */
static void export_note(json_object *nt, size_t i, json_object *nn_list)
{
    json_object *nn = json_object_new_object(), *np = json_object_new_object();
    char nm[40];
    snprintf(nm, sizeof nm, "Sticky Note%s%zu", i ? " " : "", i ? i + 1 : (size_t)0);
    if (!i)
        snprintf(nm, sizeof nm, "Sticky Note");
    json_object_object_add(nn, "name", jstr(nm));
    json_object_object_add(nn, "type", jstr("n8n-nodes-base.stickyNote"));
    json_object_object_add(nn, "typeVersion", json_object_new_int(1));
    json_object_object_add(np, "content", jstr(gstr(nt, "text", "")));
    json_object *sz = get(nt, "size");
    if (json_object_is_type(sz, json_type_array) && json_object_array_length(sz) == 2) {
        json_object_object_add(np, "width", json_object_get(json_object_array_get_idx(sz, 0)));
        json_object_object_add(np, "height", json_object_get(json_object_array_get_idx(sz, 1)));
    }
    json_object_object_add(nn, "parameters", np);
    json_object *pos = get(nt, "position");
    json_object_object_add(nn, "position", pos ? json_object_get(pos) : NULL);
    json_object_array_add(nn_list, nn);
}

/* The workflow's settings for n8n. */
static json_object *export_settings(json_object *gs)
{
    json_object *settings = json_object_new_object();
    json_object_object_add(settings, "executionOrder", jstr("v1"));
    if (gstr(gs, "timezone", NULL))
        json_object_object_add(settings, "timezone", jstr(gstr(gs, "timezone", NULL)));
    if (gstr(gs, "error_workflow_id", NULL))
        json_object_object_add(settings, "errorWorkflow", jstr(gstr(gs, "error_workflow_id", NULL)));
    return settings;
}

int gl_n8n_export(json_object *def, const char *name, json_object **doc_out, json_object **problems_out,
                  gl_err_t *err)
{
    *doc_out = NULL;
    *problems_out = NULL;
    json_object *nodes = get(def, "nodes"), *edges = get(def, "edges");
    if (!json_object_is_type(nodes, json_type_array)) {
        gl_err_set(err, "the definition has no nodes array");
        return GL_INVALID;
    }
    json_object *problems = json_object_new_array(), *nn_list = json_object_new_array(),
                *conns = json_object_new_object();
    size_t n = json_object_array_length(nodes);
    bool has_respond = false;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(gstr(json_object_array_get_idx(nodes, i), "type", ""), "flow.respond"))
            has_respond = true;
    for (size_t i = 0; i < n; i++)
        export_one_node(json_object_array_get_idx(nodes, i), i, has_respond, nn_list, problems);
    for (size_t i = 0; i < json_object_array_length(edges); i++)
        export_edge(nodes, json_object_array_get_idx(edges, i), conns, problems);
    json_object *notes = get(def, "notes");
    for (size_t i = 0; i < (json_object_is_type(notes, json_type_array) ? json_object_array_length(notes) : 0); i++)
        export_note(json_object_array_get_idx(notes, i), i, nn_list);
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "name", jstr(name ? name : "Glyphic workflow"));
    json_object_object_add(doc, "nodes", nn_list);
    json_object_object_add(doc, "connections", conns);
    json_object_object_add(doc, "settings", export_settings(get(def, "settings")));
    json_object_object_add(doc, "pinData", json_object_new_object());
    *doc_out = doc;
    *problems_out = problems;
    return GL_OK;
}
