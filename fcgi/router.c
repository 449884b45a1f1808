/*
 * router.c: linear match over the resource tables. With a few dozen routes
 * a scan of literal prefixes costs less than building anything cleverer;
 * patterns are compared in place, without splitting or copying the path.
 */
#include "router.h"

#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into the arena; NULL if malformed or it holds NUL. */
static char *decode(gl_arena_t *a, const char *s, size_t n)
{
    char *out = gl_arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        if (i + 2 >= n)
            return NULL;
        int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return NULL;
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

typedef struct {
    int n;
    const char *name[GL_ROUTE_MAX_PARAMS];
    size_t name_len[GL_ROUTE_MAX_PARAMS];
    const char *val[GL_ROUTE_MAX_PARAMS];
    size_t val_len[GL_ROUTE_MAX_PARAMS];
} captures_t;

static bool match(const char *pat, const char *path, size_t len, captures_t *c)
{
    size_t i = 0;
    c->n = 0;
    while (*pat) {
        if (*pat == ':') {
            const char *name = ++pat;
            while (*pat && *pat != '/')
                pat++;
            size_t start = i;
            while (i < len && path[i] != '/')
                i++;
            if (i == start || c->n == GL_ROUTE_MAX_PARAMS)
                return false;
            c->name[c->n] = name;
            c->name_len[c->n] = (size_t)(pat - name);
            c->val[c->n] = path + start;
            c->val_len[c->n] = i - start;
            c->n++;
            continue;
        }
        if (i >= len || path[i] != *pat)
            return false;
        i++;
        pat++;
    }
    return i == len;
}

static void allow_add(char *allow, size_t allow_len, const char *m)
{
    if (strstr(allow, m))
        return;
    size_t used = strlen(allow);
    snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", m);
}

gl_route_result_t gl_route_find(gl_req_t *req, const char *method, const char *path,
                                size_t path_len, const gl_route_t **out, char *allow,
                                size_t allow_len)
{
    bool is_head = strcmp(method, "HEAD") == 0;
    bool path_matched = false;
    captures_t c;
    if (allow_len)
        allow[0] = '\0';
    for (size_t r = 0; r < gl_resources_count; r++) {
        const gl_resource_t *res = gl_resources[r];
        for (size_t i = 0; i < res->n_routes; i++) {
            const gl_route_t *rt = &res->routes[i];
            if (!match(rt->pattern, path, path_len, &c))
                continue;
            path_matched = true;
            allow_add(allow, allow_len, rt->method);
            if (strcmp(rt->method, "GET") == 0)
                allow_add(allow, allow_len, "HEAD");
            if (strcmp(rt->method, method) != 0 &&
                !(is_head && strcmp(rt->method, "GET") == 0))
                continue;
            req->n_params = c.n;
            for (int k = 0; k < c.n; k++) {
                req->param_names[k] = gl_arena_strndup(req->arena, c.name[k], c.name_len[k]);
                req->param_values[k] = decode(req->arena, c.val[k], c.val_len[k]);
                if (!req->param_values[k])
                    return GL_ROUTE_BAD_PATH;
            }
            *out = rt;
            return GL_ROUTE_FOUND;
        }
    }
    return path_matched ? GL_ROUTE_BAD_METHOD : GL_ROUTE_NOT_FOUND;
}

bool gl_ahead_by_id(gl_req_t *req, const gl_stmt_t *stmt, gl_ahead_t *out)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id))
        return false;
    out->stmt = stmt;
    out->params[0] = id;
    return true;
}
