/*
 * test_data_convert.c: binary data in the engine — data.convert's four
 * operations (a CSV round trip with quotes, delimiters, line breaks and
 * UTF-8; hand-written CSV and JSON files; malformed input; the item and
 * byte limits), the file source's checks as nodes meet them (no source,
 * a forged or another org's reference, the per-file limit and the quota,
 * which leave nothing written), and what data.set and flow.merge do with
 * "$binary". Workflows run through gl_engine_run with the real file store
 * in a temporary folder (dir_files.h).
 */
#include "gl_test.h"

#include "dir_files.h"
#include "engine.h"
#include "json.h"

/* JSON text with ' for " (\' stays a quote inside strings); a new object. */
static json_object *q(const char *text)
{
    size_t n = strlen(text);
    char *buf = malloc(n + 1);
    for (size_t i = 0; i <= n; i++)
        buf[i] = text[i] == '\'' ? '"' : text[i];
    json_object *o = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_json_parse(buf, n, 64, &o, &err) != GL_OK)
        FAIL_AT("test JSON does not parse: %s: %s", err.msg, buf);
    free(buf);
    return o;
}

static const char *js(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "(none)";
}

static json_object *at(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *err_msg(const gl_run_result_t *r)
{
    json_object *m = at(r->error, "message");
    return m ? json_object_get_string(m) : "";
}

typedef struct {
    gl_engine_limits_t limits;
    bool no_files;
} run_opts_t;

/* Runs def (a new object, put here) on input (a new array, put here). */
static void run_def(json_object *def, json_object *input, dir_files_t *d, const run_opts_t *o, gl_run_result_t *res)
{
    gl_run_t run;
    memset(&run, 0, sizeof run);
    run.definition = def;
    run.execution_id = "00000000-0000-4000-8000-0000000000e1";
    run.workflow_id = "00000000-0000-4000-8000-0000000000f1";
    run.workflow_name = "convert test";
    run.input = input;
    if (o)
        run.limits = o->limits;
    if (d && !(o && o->no_files))
        run.files = dir_files_source(d);
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_engine_run(&run, res, &err);
    if (rc != GL_OK)
        FAIL_AT("gl_engine_run: %d (%s)", rc, err.msg);
    json_object_put(def);
    json_object_put(input);
}

/* trigger t -> n1 -> n2 -> …: the nodes' JSON (' for ") in order; a new
 * definition. */
static json_object *chain(const char *const *nodes, size_t n)
{
    char text[8192];
    size_t len = (size_t)snprintf(text, sizeof text, "{'nodes':[{'id':'t','type':'trigger.manual'}");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, ",%s", nodes[i]);
    len += (size_t)snprintf(text + len, sizeof text - len, "],'edges':[");
    for (size_t i = 0; i < n; i++) {
        char from[16];
        snprintf(from, sizeof from, i ? "n%zu" : "t", i);
        len += (size_t)snprintf(text + len, sizeof text - len, "%s{'from':'%s','to':'n%zu'}", i ? "," : "", from,
                                i + 1);
    }
    snprintf(text + len, sizeof text - len, "]}");
    return q(text);
}

#define CHAIN(...)                                                          \
    ({                                                                      \
        static const char *const nodes_[] = { __VA_ARGS__ };                \
        chain(nodes_, GL_NELEM(nodes_));                                    \
    })

/* ---- the CSV round trip ---- */

static const char *const tricky_items =
    "[{'name':'Ada \\'the first\\' Lovelace','note':'commas, here','city':'Zürich','empty':''},"
    " {'name':'two\\nlines\\r\\nand more','note':'  padded  ','city':'東京 😀','empty':'x'},"
    " {'name':'\\'\\'\\'','note':'tab\\there;semi','city':'São Paulo, BR','empty':'\\''}]";

TEST(csv_round_trip_keeps_every_item)
{
    dir_files_t d;
    dir_files_init(&d);
    gl_run_result_t r;
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'to_csv','file_name':'people.csv'}}",
                  "{'id':'n2','type':'data.convert','params':{'operation':'from_csv'}}"),
            q(tricky_items), &d, NULL, &r);
    if (r.status != GL_RUN_SUCCEEDED)
        FAIL_AT("run %s: %s", gl_run_status_name(r.status), err_msg(&r));
    json_object *want = q(tricky_items);
    if (!json_object_equal(r.output, want))
        FAIL_AT("round trip:\n  got  %s\n  want %s", js(r.output), js(want));
    ASSERT_EQ(d.commits, 1);
    ASSERT_EQ(d.opens, 1);
    json_object_put(want);
    gl_run_result_free(&r);
    dir_files_free(&d);
}

TEST(to_csv_writes_rfc4180_with_the_union_of_keys)
{
    dir_files_t d;
    dir_files_init(&d);
    gl_run_result_t r;
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'to_csv','property':'sheet'}}"),
            q("[{'a':1,'b':'x,y','$binary':{'old':{}}},{'c':true,'a':null},{'b':'say \\'hi\\'','d':{'k':[1,2]}},"
              "{'a':2.5,'b':' lead','c':'multi\\nline'}]"),
            &d, NULL, &r);
    if (r.status != GL_RUN_SUCCEEDED)
        FAIL_AT("run %s: %s", gl_run_status_name(r.status), err_msg(&r));
    ASSERT_EQ(json_object_array_length(r.output), 1);
    json_object *item = json_object_array_get_idx(r.output, 0);
    json_object *prop = at(at(item, "$binary"), "sheet");
    ASSERT(prop != NULL);
    ASSERT_STR_EQ(json_object_get_string(at(prop, "file_name")), "data.csv");
    ASSERT_STR_EQ(json_object_get_string(at(prop, "mime_type")), "text/csv");
    ASSERT_EQ(json_object_object_length(item), 1);
    size_t len;
    char *csv = dir_files_read(&d, prop, &len);
    ASSERT_STR_EQ(csv, "a,b,c,d\r\n"
                       "1,\"x,y\",,\r\n"
                       ",,true,\r\n"
                       ",\"say \"\"hi\"\"\",,\"{\"\"k\"\":[1,2]}\"\r\n"
                       "2.5,\" lead\",\"multi\nline\",\r\n");
    ASSERT_EQ(json_object_get_int64(at(prop, "size")), (int64_t)len);
    free(csv);
    gl_run_result_free(&r);
    dir_files_free(&d);
}

TEST(to_csv_delimiter_and_no_header)
{
    dir_files_t d;
    dir_files_init(&d);
    gl_run_result_t r;
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'to_csv','delimiter':';','header':false,"
                  "'file_name':'{{ $json.a }}.csv'}}",
                  "{'id':'n2','type':'data.convert','params':{'operation':'from_csv','delimiter':';','header':false}}"),
            q("[{'a':'x;y','b':'1,2'},{'a':'z','b':'3'}]"), &d, NULL, &r);
    if (r.status != GL_RUN_SUCCEEDED)
        FAIL_AT("run %s: %s", gl_run_status_name(r.status), err_msg(&r));
    json_object *want = q("[{'column_1':'x;y','column_2':'1,2'},{'column_1':'z','column_2':'3'}]");
    if (!json_object_equal(r.output, want))
        FAIL_AT("got %s", js(r.output));
    json_object_put(want);
    gl_run_result_free(&r);
    /* the file's name from an expression on the first item; the bytes */
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'to_csv','delimiter':'\\t','header':false,"
                  "'file_name':'{{ $json.a }}.tsv'}}"),
            q("[{'a':'x;y','b':'1\\t2'},{'a':'z','b':'3'}]"), &d, NULL, &r);
    json_object *prop = at(at(json_object_array_get_idx(r.output, 0), "$binary"), "data");
    ASSERT_STR_EQ(json_object_get_string(at(prop, "file_name")), "x;y.tsv");
    size_t len;
    char *text = dir_files_read(&d, prop, &len);
    ASSERT_STR_EQ(text, "x;y\t\"1\t2\"\r\nz\t3\r\n");
    free(text);
    gl_run_result_free(&r);
    dir_files_free(&d);
}

/* ---- reading files that came from elsewhere ---- */

/* from_* on one uploaded file: the run's output into *r. */
static void read_file(dir_files_t *d, const char *node, const char *bytes, size_t len, const run_opts_t *o,
                      gl_run_result_t *r)
{
    json_object *prop = dir_files_put(d, d->org, bytes, len, "in.csv", "text/csv");
    json_object *input = json_object_new_array(), *item = json_object_new_object();
    json_object_object_add(item, "name", json_object_new_string("upload"));
    json_object *bin = json_object_new_object();
    json_object_object_add(bin, "data", prop);
    json_object_object_add(item, "$binary", bin);
    json_object_array_add(input, item);
    char text[512];
    snprintf(text, sizeof text, "{'nodes':[{'id':'t','type':'trigger.manual'},%s],'edges':[{'from':'t','to':'n1'}]}",
             node);
    run_def(q(text), input, d, o, r);
}

#define FROM_CSV "{'id':'n1','type':'data.convert','params':{'operation':'from_csv'}}"
#define FROM_JSON "{'id':'n1','type':'data.convert','params':{'operation':'from_json'}}"

TEST(from_csv_reads_what_spreadsheets_write)
{
    static const char csv[] = "\xEF\xBB\xBF" "id,name,,name,note\r\n"
                              "1,\"Smith, J\",a,b,\"line1\r\nline2\"\r\n"
                              "\r\n"
                              "2,  spaced  ,c\r\n"
                              "3,\"q \"\"x\"\"\",d,e,f,extra1,extra2\n"
                              "4,é,,,";
    dir_files_t d;
    dir_files_init(&d);
    gl_run_result_t r;
    read_file(&d, FROM_CSV, csv, sizeof csv - 1, NULL, &r);
    if (r.status != GL_RUN_SUCCEEDED)
        FAIL_AT("run %s: %s", gl_run_status_name(r.status), err_msg(&r));
    json_object *want = q("[{'id':'1','name':'Smith, J','column_3':'a','name_2':'b','note':'line1\\r\\nline2'},"
                          "{'id':'2','name':'  spaced  ','column_3':'c'},"
                          "{'id':'3','name':'q \\'x\\'','column_3':'d','name_2':'e','note':'f','column_6':'extra1',"
                          "'column_7':'extra2'},"
                          "{'id':'4','name':'é','column_3':'','name_2':'','note':''}]");
    if (!json_object_equal(r.output, want))
        FAIL_AT("got  %s\n  want %s", js(r.output), js(want));
    json_object_put(want);
    gl_run_result_free(&r);
    dir_files_free(&d);
}

TEST(from_csv_refuses_malformed_input)
{
    static const struct {
        const char *csv, *msg;
    } cases[] = {
        { "a,b\n1,\"open\n", "the CSV ends inside a quoted field (row 2)" },
        { "a,b\n1,x\"y\n", "the CSV is malformed at row 2" },
        { "a,b\n1,\"x\"y\n", "the CSV is malformed at row 2" },
        { "a,b\n1,\xff\xfe\n", "row 2, field 2 of the CSV is not UTF-8 text" },
        { "a,b\n1,\xc3\n", "row 2, field 2 of the CSV is not UTF-8 text" },
    };
    for (size_t i = 0; i < GL_NELEM(cases); i++) {
        dir_files_t d;
        dir_files_init(&d);
        gl_run_result_t r;
        read_file(&d, FROM_CSV, cases[i].csv, strlen(cases[i].csv), NULL, &r);
        if (r.status != GL_RUN_FAILED || !strstr(err_msg(&r), cases[i].msg))
            FAIL_AT("case %zu: %s: %s, want \"%s\"", i, gl_run_status_name(r.status), err_msg(&r), cases[i].msg);
        gl_run_result_free(&r);
        dir_files_free(&d);
    }
}

TEST(from_csv_and_from_json_honour_the_limits)
{
    char csv[4096];
    size_t len = (size_t)snprintf(csv, sizeof csv, "n\n");
    for (int i = 0; i < 30; i++)
        len += (size_t)snprintf(csv + len, sizeof csv - len, "%d\n", i);
    dir_files_t d;
    dir_files_init(&d);
    gl_run_result_t r;
    run_opts_t o = { .limits = { .max_items = 20 } };
    read_file(&d, FROM_CSV, csv, len, &o, &r);
    ASSERT_EQ(r.status, GL_RUN_FAILED);
    ASSERT(strstr(err_msg(&r), "the file gives more than 20 items, the limit of one output (executor.max_items)"));
    gl_run_result_free(&r);
    /* 300 rows of 40 bytes: about 15 KB of items, over a 10 KB execution */
    len = (size_t)snprintf(csv, sizeof csv, "field\n");
    char *big = malloc(16384);
    memcpy(big, csv, len);
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(big + len, 16384 - len, "%039d\n", i);
    run_opts_t ob = { .limits = { .max_bytes = 10000 } };
    read_file(&d, FROM_CSV, big, len, &ob, &r);
    ASSERT_EQ(r.status, GL_RUN_FAILED);
    if (!strstr(err_msg(&r), "the items read from the file exceed the ") ||
        !strstr(err_msg(&r), " bytes the execution may still hold (executor.max_execution_bytes)"))
        FAIL_AT("got %s", err_msg(&r));
    gl_run_result_free(&r);
    /* a file far larger than what is left is refused before it is read */
    run_opts_t os = { .limits = { .max_bytes = 2000 } };
    read_file(&d, FROM_CSV, big, len, &os, &r);
    ASSERT_EQ(r.status, GL_RUN_FAILED);
    ASSERT(strstr(err_msg(&r), "is larger than the execution may still hold"));
    gl_run_result_free(&r);
    free(big);
    static const char arr[] = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21]";
    read_file(&d, FROM_JSON, arr, sizeof arr - 1, &o, &r);
    ASSERT_EQ(r.status, GL_RUN_FAILED);
    ASSERT(strstr(err_msg(&r), "more than 20 items"));
    gl_run_result_free(&r);
    dir_files_free(&d);
}

TEST(from_json_and_to_json)
{
    static const struct {
        const char *json, *items;
    } cases[] = {
        { "[{\"a\":1},{\"b\":[true,null]},3,\"s\"]", "[{'a':1},{'b':[true,null]},{'value':3},{'value':'s'}]" },
        { "{\"one\":\"item\"}", "[{'one':'item'}]" },
        { "  42 \n", "[{'value':42}]" },
        { "[]", "[]" },
    };
    for (size_t i = 0; i < GL_NELEM(cases); i++) {
        dir_files_t d;
        dir_files_init(&d);
        gl_run_result_t r;
        read_file(&d, FROM_JSON, cases[i].json, strlen(cases[i].json), NULL, &r);
        json_object *want = q(cases[i].items);
        if (r.status != GL_RUN_SUCCEEDED || !json_object_equal(r.output, want))
            FAIL_AT("case %zu: %s %s: %s", i, gl_run_status_name(r.status), err_msg(&r), js(r.output));
        json_object_put(want);
        gl_run_result_free(&r);
        dir_files_free(&d);
    }
    dir_files_t d;
    dir_files_init(&d);
    gl_run_result_t r;
    read_file(&d, FROM_JSON, "{\"x\":\"\xff\"}", 10, NULL, &r);
    ASSERT_EQ(r.status, GL_RUN_FAILED);
    ASSERT(strstr(err_msg(&r), "the file is not JSON"));
    gl_run_result_free(&r);
    /* to_json leaves the binary references out; from_json gives the items back */
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'to_json','property':'out'}}",
                  "{'id':'n2','type':'data.convert','params':{'operation':'from_json','property':'out'}}"),
            q("[{'a':'ü','$binary':{'data':{'id':'x'}}},{'b':[1,{'c':null}]}]"), &d, NULL, &r);
    json_object *want = q("[{'a':'ü'},{'b':[1,{'c':null}]}]");
    if (r.status != GL_RUN_SUCCEEDED || !json_object_equal(r.output, want))
        FAIL_AT("%s %s: %s", gl_run_status_name(r.status), err_msg(&r), js(r.output));
    ASSERT_EQ(d.commits, 1);
    size_t len;
    char prop_id[64];
    snprintf(prop_id, sizeof prop_id, "%s", d.rows[d.n_rows - 1].id);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_string(prop_id));
    json_object_object_add(p, "size", json_object_new_int64(d.rows[d.n_rows - 1].size));
    json_object_object_add(p, "sha256", json_object_new_string(d.rows[d.n_rows - 1].sha));
    char *text = dir_files_read(&d, p, &len);
    ASSERT_STR_EQ(text, "[\n{\"a\":\"ü\"},\n{\"b\":[1,{\"c\":null}]}\n]\n");
    free(text);
    json_object_put(p);
    json_object_put(want);
    gl_run_result_free(&r);
    dir_files_free(&d);
}

/* ---- the source's checks, as nodes meet them ---- */

TEST(no_file_source_says_so)
{
    dir_files_t d;
    dir_files_init(&d);
    gl_run_result_t r;
    run_opts_t o = { .no_files = true };
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'to_csv'}}"), q("[{'a':1}]"), &d, &o, &r);
    ASSERT_EQ(r.status, GL_RUN_FAILED);
    ASSERT(strstr(err_msg(&r), "this node needs the file store, and this run has none"));
    gl_run_result_free(&r);
    dir_files_free(&d);
}

TEST(references_are_checked_against_the_rows)
{
    dir_files_t d;
    dir_files_init(&d);
    json_object *mine = dir_files_put(&d, d.org, "a\n1\n", 4, "mine.csv", "text/csv");
    json_object *theirs = dir_files_put(&d, DIR_FILES_OTHER_ORG, "a\nsecret\n", 9, "theirs.csv", "text/csv");
    static const struct {
        const char *field, *value, *msg;
    } cases[] = {
        { NULL, NULL, NULL },                                        /* mine, as stored: read */
        { "size", "5", "does not match the stored file" },           /* forged size */
        { "sha256", "0000000000000000000000000000000000000000000000000000000000000000",
          "does not match the stored file" },
        { "id", "theirs", "no file with this id in this org" },      /* another org's file, its metadata copied */
        { "id", "00000000-0000-4000-8000-000000000000", "no file with this id in this org" },
        { "id", "../../etc/passwd", "binary property 'data' has no file id" },
        { "sha256", "../x", "binary property 'data' has no sha256" },
        { "size", "-1", "binary property 'data' has no size" },
    };
    for (size_t i = 0; i < GL_NELEM(cases); i++) {
        json_object *prop = NULL;
        bool other = cases[i].value && strcmp(cases[i].value, "theirs") == 0;
        ASSERT_EQ(json_object_deep_copy(other ? theirs : mine, &prop, NULL), 0);
        if (cases[i].field && !other)
            json_object_object_add(prop, cases[i].field,
                                   strcmp(cases[i].field, "size") == 0 ? json_object_new_int(atoi(cases[i].value))
                                                                      : json_object_new_string(cases[i].value));
        /* the workflow writes the "$binary" itself (data.set), then reads it */
        json_object *input = json_object_new_array(), *item = json_object_new_object();
        json_object_object_add(item, "ref", prop);
        json_object_array_add(input, item);
        gl_run_result_t r;
        run_def(CHAIN("{'id':'n1','type':'data.set','params':{'fields':{'$binary':{'data':'{{ $json.ref }}'}}}}",
                      "{'id':'n2','type':'data.convert','params':{'operation':'from_csv'}}"),
                input, &d, NULL, &r);
        if (!cases[i].msg) {
            json_object *want = q("[{'a':'1'}]");
            if (r.status != GL_RUN_SUCCEEDED || !json_object_equal(r.output, want))
                FAIL_AT("case %zu: %s %s: %s", i, gl_run_status_name(r.status), err_msg(&r), js(r.output));
            json_object_put(want);
        } else if (r.status != GL_RUN_FAILED || !strstr(err_msg(&r), cases[i].msg)) {
            FAIL_AT("case %zu: %s: %s, want \"%s\"", i, gl_run_status_name(r.status), err_msg(&r), cases[i].msg);
        }
        gl_run_result_free(&r);
    }
    /* an item without the property: the message lists what it has */
    gl_run_result_t r;
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'from_csv','property':'sheet'}}"),
            q("[{'$binary':{'data':{},'other':{}}}]"), &d, NULL, &r);
    ASSERT_EQ(r.status, GL_RUN_FAILED);
    ASSERT_STR_EQ(err_msg(&r), "item 0 has no binary property 'sheet' (its binary properties: 'data', 'other')");
    gl_run_result_free(&r);
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'from_json'}}"), q("[{'a':1}]"), &d,
            NULL, &r);
    ASSERT_STR_EQ(err_msg(&r), "item 0 has no binary property 'data' (its binary properties: none)");
    gl_run_result_free(&r);
    json_object_put(mine);
    json_object_put(theirs);
    dir_files_free(&d);
}

TEST(quota_and_file_limit_fail_the_node_and_write_nothing)
{
    dir_files_t d;
    dir_files_init(&d);
    json_object *up = dir_files_put(&d, d.org, "x\r\n1\r\n", 6, "up.csv", "text/csv");
    json_object_put(up);
    d.quota = 20; /* 6 used: a 34-byte CSV does not fit */
    gl_run_result_t r;
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'to_csv'}}"),
            q("[{'text':'abcdefghijklmnopqrstuvwxyz'}]"), &d, NULL, &r);
    ASSERT_EQ(r.status, GL_RUN_FAILED);
    if (!strstr(err_msg(&r), "the org's files would pass its quota of 20 bytes (files.max_bytes_per_org)"))
        FAIL_AT("got %s", err_msg(&r));
    ASSERT_EQ(d.commits, 0);
    ASSERT_EQ(d.n_rows, 1);
    ASSERT_EQ(dir_files_on_disk(&d, d.org), 1);
    ASSERT_EQ(dir_files_temps(&d), 0);
    gl_run_result_free(&r);
    /* a content the org stores already costs nothing, even with the quota spent */
    d.quota = 6;
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'to_csv'}}"), q("[{'x':'1'}]"), &d, NULL,
            &r);
    if (r.status != GL_RUN_SUCCEEDED)
        FAIL_AT("same content: %s", err_msg(&r));
    ASSERT_EQ(d.commits, 1);
    ASSERT_EQ(dir_files_usage(&d, d.org), 6);
    gl_run_result_free(&r);
    d.quota = 0;
    d.max_file = 16;
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'to_json'}}"),
            q("[{'text':'abcdefghijklmnopqrstuvwxyz'}]"), &d, NULL, &r);
    ASSERT_EQ(r.status, GL_RUN_FAILED);
    ASSERT_STR_EQ(err_msg(&r), "the file is larger than the limit of 16 bytes (files.max_file_bytes)");
    ASSERT_EQ(d.commits, 1); /* no more than before */
    ASSERT_EQ(dir_files_temps(&d), 0);
    gl_run_result_free(&r);
    /* a file name the store refuses */
    run_def(CHAIN("{'id':'n1','type':'data.convert','params':{'operation':'to_csv','file_name':'a/b.csv'}}"),
            q("[{'x':'1'}]"), &d, NULL, &r);
    ASSERT(strstr(err_msg(&r), "the file name 'a/b.csv' is not allowed"));
    ASSERT_EQ(dir_files_temps(&d), 0);
    gl_run_result_free(&r);
    dir_files_free(&d);
}

/* ---- other nodes and "$binary" ---- */

TEST(data_set_and_merge_keep_binary)
{
    static const char *const in = "[{'a':1,'$binary':{'data':{'id':'f1'},'img':{'id':'f2'}}}]";
    static const struct {
        const char *params, *want;
    } cases[] = {
        { "{'mode':'replace','fields':{'b':2}}", "[{'b':2,'$binary':{'data':{'id':'f1'},'img':{'id':'f2'}}}]" },
        { "{'mode':'replace','keep_binary':false,'fields':{'b':2}}", "[{'b':2}]" },
        { "{'fields':{'b':2}}", "[{'a':1,'b':2,'$binary':{'data':{'id':'f1'},'img':{'id':'f2'}}}]" },
        { "{'remove':['$binary.img']}", "[{'a':1,'$binary':{'data':{'id':'f1'}}}]" },
        { "{'mode':'replace','remove':['$binary']}", "[{}]" },
        { "{'remove':['$binary']}", "[{'a':1}]" },
        { "{'rename':{'$binary.img':'$binary.photo'}}", "[{'a':1,'$binary':{'data':{'id':'f1'},'photo':{'id':'f2'}}}]" },
        { "{'fields':{'$binary.data.file_name':'{{ $binary.data.id }}.csv'}}",
          "[{'a':1,'$binary':{'data':{'id':'f1','file_name':'f1.csv'},'img':{'id':'f2'}}}]" },
    };
    for (size_t i = 0; i < GL_NELEM(cases); i++) {
        char node[512];
        snprintf(node, sizeof node, "{'id':'n1','type':'data.set','params':%s}", cases[i].params);
        const char *nodes[] = { node };
        gl_run_result_t r;
        run_def(chain(nodes, 1), q(in), NULL, NULL, &r);
        json_object *want = q(cases[i].want);
        if (r.status != GL_RUN_SUCCEEDED || !json_object_equal(r.output, want))
            FAIL_AT("case %zu: %s %s: %s", i, gl_run_status_name(r.status), err_msg(&r), js(r.output));
        json_object_put(want);
        gl_run_result_free(&r);
    }
    /* flow.merge by position: fields and binary properties merged, input2's win */
    gl_run_result_t r;
    run_def(q("{'nodes':[{'id':'t','type':'trigger.manual'},"
              "{'id':'a','type':'data.set','params':{'mode':'replace','keep_binary':false,"
              "'fields':{'x':1,'$binary':{'data':{'id':'a1'},'left':{'id':'a2'}}}}},"
              "{'id':'b','type':'data.set','params':{'mode':'replace','keep_binary':false,"
              "'fields':{'y':2,'$binary':{'data':{'id':'b1'},'right':{'id':'b2'}}}}},"
              "{'id':'m','type':'flow.merge','params':{'mode':'position'}}],"
              "'edges':[{'from':'t','to':'a'},{'from':'t','to':'b'},{'from':'a','to':'m','to_port':'input1'},"
              "{'from':'b','to':'m','to_port':'input2'}]}"),
            q("[{}]"), NULL, NULL, &r);
    json_object *want = q("[{'x':1,'y':2,'$binary':{'data':{'id':'b1'},'left':{'id':'a2'},'right':{'id':'b2'}}}]");
    if (r.status != GL_RUN_SUCCEEDED || !json_object_equal(r.output, want))
        FAIL_AT("merge: %s %s: %s", gl_run_status_name(r.status), err_msg(&r), js(r.output));
    json_object_put(want);
    gl_run_result_free(&r);
}

TEST_MAIN()
