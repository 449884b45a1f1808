/*
 * run_file.c: `glyphic run FILE.json [--input ITEMS.json] [--env NAME]… [--vars VARS.json] [--quiet]`
 * — runs a workflow file in this process, with no database or server, and
 * prints each step (node, attempt, status, output per port) as it finishes,
 * then the execution's outcome. For developing workflows and for the
 * examples/ folder.
 *
 * FILE is a definition ({nodes, edges, settings}), an export
 * ({"format": "glyphic.workflow", "definition": …}) or an n8n workflow
 * export (converted by gl_n8n_import first; refused, listing the
 * problems, when a node cannot be converted). It is validated as a
 * save would be. Waits are slept; flow.subworkflow is not available here.
 * The configuration's http.allow_private and http.respond_allow_scripts
 * apply as in the executor.
 * Exit status: 0 succeeded, 1 failed or canceled, 2 usage, unreadable or
 * invalid file.
 */
#include "run_file.h"

#include "engine.h"
#include "json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (16u << 20)

static json_object *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "glyphic run: cannot open %s: %m\n", path);
        return NULL;
    }
    char *buf = malloc(MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
    fclose(f);
    if (!buf || n > MAX_FILE) {
        fprintf(stderr, "glyphic run: %s is larger than %u bytes\n", path, MAX_FILE);
        free(buf);
        return NULL;
    }
    json_object *o = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_json_parse(buf, n, 128, &o, &err) != GL_OK) {
        fprintf(stderr, "glyphic run: %s: %s\n", path, err.msg);
        o = NULL;
    }
    free(buf);
    return o;
}

/* An n8n export into *def (a new definition); 0, or 1 after printing its
 * problems (unless partial, which keeps the placeholders), 2 when it is
 * not an export at all. */
static int n8n_convert(json_object *doc, bool partial, json_object **def)
{
    json_object *problems = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    *def = NULL;
    if (gl_n8n_import(doc, def, &problems, &err) != GL_OK) {
        fprintf(stderr, "glyphic: %s\n", err.msg);
        return 2;
    }
    size_t n = json_object_array_length(problems);
    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(problems, i), *node, *type, *ver, *msg;
        json_object_object_get_ex(p, "node", &node);
        json_object_object_get_ex(p, "type", &type);
        json_object_object_get_ex(p, "typeVersion", &ver);
        json_object_object_get_ex(p, "message", &msg);
        fprintf(stderr, "  %s%s%s%s%s%s: %s\n", node ? json_object_get_string(node) : "(workflow)",
                type ? " (" : "", type ? json_object_get_string(type) : "", ver ? " v" : "",
                ver ? json_object_get_string(ver) : "", type ? ")" : "", msg ? json_object_get_string(msg) : "");
    }
    json_object_put(problems);
    if (n && !partial) {
        fprintf(stderr, "glyphic: %zu n8n node%s or connection%s cannot be converted (--partial for placeholders)\n",
                n, n == 1 ? "" : "s", n == 1 ? "" : "s");
        json_object_put(*def);
        *def = NULL;
        return 1;
    }
    return 0;
}

typedef struct {
    bool quiet;
} printer_t;

static int print_step(void *ud, const gl_step_t *s, bool *cancel, gl_err_t *err)
{
    (void)err;
    printer_t *p = ud;
    *cancel = false;
    printf("#%d %s (%s) attempt %d: %s, %lld ms\n", s->seq, s->node_name, s->node_type, s->attempt, s->status,
           (long long)(s->finished_ms - s->started_ms));
    if (s->error) {
        json_object *m;
        if (json_object_object_get_ex(s->error, "message", &m))
            printf("  error: %s\n", json_object_get_string(m));
    }
    if (s->output && !p->quiet) {
        json_object_object_foreach(s->output, port, items)
        {
            if (json_object_array_length(items) == 0)
                continue;
            printf("  %s: %s\n", port, json_object_to_json_string_ext(items, JSON_C_TO_STRING_PLAIN));
        }
    }
    fflush(stdout);
    return GL_OK;
}

int gl_cli_run(const gl_config_t *cfg, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "input", required_argument, NULL, 'i' },
        { "env", required_argument, NULL, 'e' },
        { "vars", required_argument, NULL, 'V' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *input_path = NULL, *vars_path = NULL;
    printer_t pr = { false };
    json_object *env = json_object_new_object();
    int opt, status = 2;
    optind = 0; /* 0: glibc re-initialises (main parsed with "+") */
    while ((opt = getopt_long(argc, argv, "i:e:V:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i': input_path = optarg; break;
        case 'V': vars_path = optarg; break;
        case 'e': {
            const char *v = getenv(optarg);
            if (v)
                json_object_object_add(env, optarg, json_object_new_string(v));
            break;
        }
        case 'q': pr.quiet = true; break;
        case 'h':
            printf("usage: glyphic run FILE.json [--input ITEMS.json] [--env NAME]... [--vars VARS.json] [--quiet]\n"
                   "  runs the workflow in FILE here (no database or server) and prints each step;\n"
                   "  --input: a JSON array of items for the trigger; --env NAME: lets expressions\n"
                   "  read $env.NAME; --vars: a JSON object of string values that expressions read as\n"
                   "  $vars (the org's variables on a server; none by default); --quiet: no item data.\n"
                   "  Exit 0 succeeded, 1 failed, 2 bad input.\n"
                   "  http.request reaches internal addresses only in http.allow_private (glyphic -c FILE\n"
                   "  or GLYPHIC_HTTP_ALLOW_PRIVATE).\n");
            json_object_put(env);
            return 0;
        default: json_object_put(env); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: glyphic run FILE.json [--input ITEMS.json] [--env NAME]... [--vars VARS.json] [--quiet]\n");
        json_object_put(env);
        return 2;
    }
    json_object *file = read_json(argv[optind]), *input = NULL, *vars = NULL, *def = file, *v,
                *n8n_def = NULL;
    if (file && json_object_object_get_ex(file, "format", &v) && json_object_object_get_ex(file, "definition", &v))
        def = v;
    if (file && gl_n8n_is_export(file)) {
        if (n8n_convert(file, false, &n8n_def) != 0)
            goto out;
        def = n8n_def;
    }
    if (file && input_path) {
        input = read_json(input_path);
        if (!input || !json_object_is_type(input, json_type_array)) {
            if (input)
                fprintf(stderr, "glyphic run: %s must hold a JSON array of items\n", input_path);
            goto out;
        }
    }
    if (file && vars_path) {
        vars = read_json(vars_path);
        bool ok = vars && json_object_is_type(vars, json_type_object);
        if (ok) {
            json_object_object_foreach(vars, k, val)
            {
                (void)k;
                ok = ok && json_object_is_type(val, json_type_string);
            }
        }
        if (!ok) {
            if (vars)
                fprintf(stderr, "glyphic run: %s must hold a JSON object of string values\n", vars_path);
            goto out;
        }
    }
    if (!file)
        goto out;
    gl_problems_t *probs = calloc(1, sizeof *probs);
    if (gl_workflow_validate(def, &gl_wf_default_limits, probs) != GL_OK) {
        fprintf(stderr, "glyphic run: %s is not a valid workflow:\n", argv[optind]);
        for (int i = 0; i < probs->n; i++)
            fprintf(stderr, "  %s%s%s: %s\n", probs->items[i].node, probs->items[i].node[0] ? " " : "",
                    probs->items[i].field, probs->items[i].message);
        free(probs);
        goto out;
    }
    free(probs);
    json_object *name = NULL, *wf = NULL;
    if (json_object_object_get_ex(file, "workflow", &wf))
        json_object_object_get_ex(wf, "name", &name);
    gl_run_t r;
    memset(&r, 0, sizeof r);
    r.definition = def;
    r.workflow_name = name ? json_object_get_string(name) : argv[optind];
    r.input = input;
    r.env = env;
    r.vars = vars;
    r.limits.allow_private = &cfg->http_allow_private;
    r.limits.allow_scripts = cfg->http_respond_allow_scripts;
    int64_t t = gl_engine_timeout_ms(def);
    r.deadline_ms = t > 0 ? gl_wall_ms() + t : 0;
    r.io.record = print_step;
    r.io.ud = &pr;
    gl_run_result_t rr;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_engine_run(&r, &rr, &err) != GL_OK) {
        fprintf(stderr, "glyphic run: %s\n", err.msg);
        goto out;
    }
    printf("execution %s, %d step(s)\n", gl_run_status_name(rr.status), rr.steps);
    if (rr.response)
        printf("response: %s\n", json_object_to_json_string_ext(rr.response, JSON_C_TO_STRING_PLAIN));
    if (rr.error) {
        json_object *m;
        if (json_object_object_get_ex(rr.error, "message", &m))
            printf("error: %s\n", json_object_get_string(m));
    }
    printf("output: %s\n", json_object_to_json_string_ext(rr.output, JSON_C_TO_STRING_PLAIN));
    status = rr.status == GL_RUN_SUCCEEDED ? 0 : 1;
    gl_run_result_free(&rr);
out:
    json_object_put(n8n_def);
    json_object_put(file);
    json_object_put(input);
    json_object_put(vars);
    json_object_put(env);
    return status;
}

int gl_cli_import(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "partial", no_argument, NULL, 'p' },
        { "name", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool partial = false;
    const char *name = NULL;
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "pn:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p': partial = true; break;
        case 'n': name = optarg; break;
        case 'h':
            printf("usage: glyphic import N8N_EXPORT.json [--partial] [--name NAME]\n"
                   "  converts an n8n workflow export into a Glyphic workflow document (format\n"
                   "  glyphic.workflow) on standard output; no database is touched. Import the result\n"
                   "  with POST /api/workflows/import or the editor, or run it with glyphic run.\n"
                   "  Nodes that cannot be converted are listed on standard error and the exit status\n"
                   "  is 1; --partial converts them into disabled placeholders instead (exit 0).\n"
                   "  --name: the workflow's name (default: the export's name).\n");
            return 0;
        default: return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: glyphic import N8N_EXPORT.json [--partial] [--name NAME]\n");
        return 2;
    }
    json_object *doc = read_json(argv[optind]), *def = NULL, *v;
    if (!doc)
        return 2;
    if (!gl_n8n_is_export(doc)) {
        fprintf(stderr, "glyphic import: %s is not an n8n workflow export (nodes and connections)\n", argv[optind]);
        json_object_put(doc);
        return 2;
    }
    int st = n8n_convert(doc, partial, &def);
    if (st == 0) {
        if (!name)
            name = json_object_object_get_ex(doc, "name", &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : "Imported from n8n";
        json_object *out = json_object_new_object();
        json_object_object_add(out, "format", json_object_new_string("glyphic.workflow"));
        json_object_object_add(out, "format_version", json_object_new_int(1));
        json_object_object_add(out, "name", json_object_new_string(name));
        json_object_object_add(out, "tags", json_object_new_array());
        json_object_object_add(out, "definition", def);
        printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(out);
    }
    json_object_put(doc);
    return st;
}
