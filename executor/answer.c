/*
 * answer.c: a synchronous webhook's answer (see answer.h).
 */
#include "answer.h"

#include "engine.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void failed(gl_answer_t *a, const char *execution_id, const char *status, json_object *error)
{
    json_object *m = NULL;
    if (error)
        json_object_object_get_ex(error, "message", &m);
    a->failed = true;
    a->status = 500;
    snprintf(a->message, sizeof a->message, "the workflow %s (execution %s)%s%.300s", status, execution_id,
             m ? ": " : "", m ? json_object_get_string(m) : "");
}

void gl_answer_build(gl_answer_t *a, const char *execution_id, const char *status, json_object *output,
                     json_object *response, json_object *error)
{
    memset(a, 0, sizeof *a);
    if (strcmp(status, "succeeded") != 0) {
        failed(a, execution_id, status, error);
        return;
    }
    a->status = 200;
    json_object *body = NULL, *v;
    if (response) {
        if (json_object_object_get_ex(response, "status", &v))
            a->status = json_object_get_int(v);
        if (json_object_object_get_ex(response, "headers", &v) && json_object_is_type(v, json_type_object)) {
            json_object_object_foreach(v, k, hv)
            {
                const char *s = json_object_get_string(hv);
                if (!s || !gl_engine_header_allowed(k) || strpbrk(s, "\r\n") || strlen(s) > 1000)
                    continue;
                if (strcasecmp(k, "content-type") == 0) {
                    if (strlen(s) <= 200)
                        a->content_type = s;
                } else if (a->n_headers < GL_ANSWER_MAX_HEADERS) {
                    a->names[a->n_headers] = k;
                    a->values[a->n_headers++] = s;
                }
            }
        }
        json_object_object_get_ex(response, "body", &body);
    } else if (output && json_object_is_type(output, json_type_array) && json_object_array_length(output) > 0) {
        body = json_object_array_get_idx(output, 0);
    }
    if (a->status < 100 || a->status > 599)
        a->status = 200;
    if (body && json_object_is_type(body, json_type_string) && a->content_type && !strstr(a->content_type, "json")) {
        a->body = json_object_get_string(body);
        a->body_len = (size_t)json_object_get_string_len(body);
        return;
    }
    a->content_type = NULL;
    a->body = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : "{}";
    a->body_len = strlen(a->body);
}
