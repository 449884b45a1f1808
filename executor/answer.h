/*
 * answer.h: a synchronous webhook's answer, from a finished execution.
 *
 * glyphic-fcgi answers the direct path with it, glyphic-events the calls
 * it waited for: one rule for both. A succeeded execution answers what
 * flow.respond set ({status, headers, body}), else the first item of the
 * last node's output as JSON; anything else is a failure the program
 * renders as its 500 workflow_failed error.
 */
#ifndef GL_ANSWER_H
#define GL_ANSWER_H

#include "gl.h"

#include <json-c/json.h>

#define GL_ANSWER_MAX_HEADERS 32

typedef struct {
    bool failed;              /* render as 500 workflow_failed with message */
    char message[400];        /* failed: what to tell the caller */
    int status;               /* 100..599 */
    const char *content_type; /* NULL: application/json */
    const char *body;         /* the body text (points into the execution's JSON) */
    size_t body_len;
    int n_headers;
    const char *names[GL_ANSWER_MAX_HEADERS];
    const char *values[GL_ANSWER_MAX_HEADERS];
} gl_answer_t;

/* Fills *a for an execution that ended with status (succeeded, failed,
 * canceled) and the recorded output, response and error (each may be
 * NULL). a's strings point into those objects: keep them until a is sent.
 * Headers gl_engine_response_header_check refuses are left out
 * (allow_scripts: http.respond_allow_scripts). */
void gl_answer_build(gl_answer_t *a, const char *execution_id, const char *status, json_object *output,
                     json_object *response, json_object *error, bool allow_scripts);

#endif
