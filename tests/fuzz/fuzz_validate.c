/*
 * fuzz_validate.c: a workflow definition as the API receives it: the
 * strict parser, the validator (gl_workflow_validate) and its problem
 * list; for a valid definition the credential scan, and, when every node
 * is quick and local, the run the web server does in-process for a
 * direct webhook (gl_engine_run, can_park false, a 2 s budget) and the
 * answer built from it.
 */
#include "engine.h"
#include "fuzz.h"
#include "json.h"

static void run_direct(json_object *def)
{
    json_object *steps = json_object_new_array();
    json_object *input = json_object_new_array();
    json_object_array_add(input, json_object_new_object());
    gl_run_t r;
    memset(&r, 0, sizeof r);
    r.definition = def;
    r.execution_id = "00000000-0000-0000-0000-000000000001";
    r.workflow_id = "00000000-0000-0000-0000-000000000002";
    r.input = input;
    r.deadline_ms = gl_wall_ms() + 2000;
    r.can_park = false;
    r.limits.max_items = 1000;
    r.limits.max_steps = 200;
    r.limits.max_bytes = 1 << 20;
    r.io.record = gl_step_collect;
    r.io.ud = steps;
    gl_run_result_t rr;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_engine_run(&r, &rr, &err) == GL_OK) {
        gl_answer_t a;
        gl_answer_build(&a, r.execution_id, gl_run_status_name(rr.status), rr.output, rr.response, rr.error,
                        false);
        FUZZ_CHECK(a.failed || (a.status >= 100 && a.status <= 599));
        FUZZ_CHECK(a.n_headers >= 0 && a.n_headers <= GL_ANSWER_MAX_HEADERS);
        gl_run_result_free(&rr);
    }
    json_object_put(input);
    json_object_put(steps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_object *def = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_json_parse((const char *)data, size, 64, &def, &err) != GL_OK)
        return 0;
    static gl_problems_t probs;
    memset(&probs, 0, sizeof probs);
    int rc = gl_workflow_validate(def, &gl_wf_default_limits, &probs);
    FUZZ_CHECK(rc == GL_OK || rc == GL_INVALID);
    FUZZ_CHECK(rc == GL_OK ? probs.n == 0 : probs.n > 0);
    FUZZ_CHECK(probs.n <= GL_WF_MAX_PROBLEMS);
    gl_buf_t b;
    gl_buf_init(&b, 1 << 20);
    FUZZ_CHECK(gl_problems_json(&probs, &b) == GL_OK);
    FUZZ_CHECK(gl_json_check(b.data, b.len, 8, &err) == GL_OK);
    if (rc == GL_OK) {
        gl_buf_reset(&b, SIZE_MAX);
        FUZZ_CHECK(gl_engine_credential_names(def, &b) == GL_OK);
        FUZZ_CHECK(gl_json_check(b.data, b.len, 8, &err) == GL_OK);
        (void)gl_engine_timeout_ms(def);
        if (gl_engine_is_direct(def))
            run_direct(def);
    }
    gl_buf_free(&b);
    json_object_put(def);
    return 0;
}
