/*
 * flow.loop: loop over batches. Items arriving on `main` start a loop:
 * they are kept in the node's state and the first `batch_size` of them go
 * out on `batch`, into the loop body. The body's end connects back to the
 * `loop` input; what comes back is collected, and the next batch goes out.
 * When no items are left, everything collected goes out on `done`. If the
 * body sends nothing back, the engine calls the loop again with an empty
 * `loop` input, so the loop still goes on. `max_iterations` guards against
 * runaway loops. State: {"rest": [...], "done": [...], "iterations": n}.
 */
#include "node.h"

static int run(gl_node_ctx_t *c)
{
    int64_t size = 1, max_iter = 1000;
    if (gl_node_param_int(c, "batch_size", -1, &size) != GL_OK ||
        gl_node_param_int(c, "max_iterations", -1, &max_iter) != GL_OK)
        return GL_INVALID;
    if (size < 1 || size > 100000)
        return gl_node_fail(c, "parameter 'batch_size' must be from 1 to 100000");
    json_object *rest, *done;
    int64_t iterations = 0;
    json_object *st = c->state_in, *v;
    if (json_object_array_length(c->in[0]) > 0 || !st) {
        rest = json_object_new_array();
        done = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(c->in[0]); i++)
            json_object_array_add(rest, json_object_get(json_object_array_get_idx(c->in[0], i)));
    } else {
        rest = json_object_object_get_ex(st, "rest", &v) ? json_object_get(v) : json_object_new_array();
        done = json_object_new_array();
        if (json_object_object_get_ex(st, "done", &v))
            for (size_t i = 0; i < json_object_array_length(v); i++)
                json_object_array_add(done, json_object_get(json_object_array_get_idx(v, i)));
        if (json_object_object_get_ex(st, "iterations", &v))
            iterations = json_object_get_int64(v);
    }
    for (size_t i = 0; i < json_object_array_length(c->in[1]); i++)
        json_object_array_add(done, json_object_get(json_object_array_get_idx(c->in[1], i)));

    size_t left = json_object_array_length(rest);
    if (left == 0) {
        for (size_t i = 0; i < json_object_array_length(done); i++)
            gl_node_emit(c, 1, json_object_get(json_object_array_get_idx(done, i)));
        json_object_put(rest);
        json_object_put(done);
        return GL_OK; /* no state: the loop is over */
    }
    if (++iterations > max_iter) {
        json_object_put(rest);
        json_object_put(done);
        return gl_node_fail(c, "the loop ran more than max_iterations (%lld) times", (long long)max_iter);
    }
    size_t take = left < (size_t)size ? left : (size_t)size;
    json_object *remaining = json_object_new_array();
    for (size_t i = 0; i < left; i++) {
        json_object *it = json_object_get(json_object_array_get_idx(rest, i));
        if (i < take)
            gl_node_emit(c, 0, it);
        else
            json_object_array_add(remaining, it);
    }
    json_object_put(rest);
    json_object *ns = json_object_new_object();
    json_object_object_add(ns, "rest", remaining);
    json_object_object_add(ns, "done", done);
    json_object_object_add(ns, "iterations", json_object_new_int64(iterations));
    c->state_out = ns;
    return GL_OK;
}

const gl_node_def_t gl_node_flow_loop = {
    .type = "flow.loop",
    .display_name = "Loop over batches",
    .category = "flow",
    .description = "Feeds items to the loop body in batches; the body's end connects back to the loop input; done emits everything collected.",
    .inputs = { "main", "loop" },
    .outputs = { "batch", "done" },
    .params = {
        { "batch_size", GL_PARAM_NUMBER, "1", false, false, NULL, "items per batch" },
        { "max_iterations", GL_PARAM_NUMBER, "1000", false, false, NULL, "guard against runaway loops" },
    },
    .run = run,
    .quick = true,
    .loop_input = "loop",
};
