/*
 * data.convert: items into a file, and a file back into items, through the
 * run's file store (engine.h, binary data).
 *
 *   to_csv     all input items -> one item whose binary property `property`
 *              (default "data") is a CSV file (`file_name`, default
 *              data.csv; text/csv): a header row with the union of the
 *              items' keys in first-seen order ("$binary" left out), then a
 *              row per item. Strings are written as they are, null and
 *              missing fields empty, numbers and booleans as JSON writes
 *              them, objects and arrays as JSON text. libcsv quotes a field
 *              that holds the delimiter, a quote (doubled), a line break or
 *              spaces at either end; rows end with CRLF (RFC 4180).
 *   to_json    all input items ("$binary" left out) -> one item with a JSON
 *              file holding their array (data.json, application/json).
 *   from_csv   each input item's binary property -> an item per row after
 *              the header row, {name: value} with every value a string. An
 *              empty or repeated header name becomes column_N / name_2; a
 *              row longer than the header names its extra fields column_N; a
 *              shorter one lacks the missing keys; empty lines are skipped,
 *              a UTF-8 byte order mark is dropped. With `header` false every
 *              row is data, its fields column_1, column_2…. Parsed by libcsv
 *              in strict mode: an unterminated quote or a quote inside an
 *              unquoted field is an error naming the row.
 *   from_json  each input item's binary property -> an array gives one item
 *              per element (objects as they are, other values {value: v}),
 *              an object one item, anything else {value: v}.
 *
 * The files are streamed: to_csv and to_json write row by row into the
 * store's writer, from_csv reads 64 KiB at a time into libcsv. Reading is
 * bounded before anything is built: every value must be UTF-8, and the
 * items made may not pass what the execution may still hold
 * (gl_node_limits: limits.max_items on the port, limits.max_bytes of data).
 */
#include "json.h"
#include "node.h"
#include "utf8.h"

#include <csv.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (64u << 10)      /* bytes read, or buffered before a write */
#define ROW_MAX (256u << 20)   /* one CSV row or JSON item being written */
#define MAX_NAME 255

/* ---- parameters ---- */

typedef struct {
    const char *op;
    char prop[MAX_NAME + 1];
    char file_name[MAX_NAME + 1];
    unsigned char delim;
    bool header;
} conv_params_t;

static int read_params(gl_node_ctx_t *c, conv_params_t *p)
{
    const char *s;
    memset(p, 0, sizeof *p);
    if (gl_node_param_str(c, "operation", -1, &s) != GL_OK)
        return GL_INVALID;
    static const char *const ops[] = { "to_csv", "to_json", "from_csv", "from_json" };
    for (size_t i = 0; s && i < GL_NELEM(ops); i++)
        if (strcmp(s, ops[i]) == 0)
            p->op = ops[i];
    if (!p->op)
        return gl_node_fail(c, "parameter 'operation' must be one of to_csv, to_json, from_csv, from_json");
    if (gl_node_param_str(c, "property", -1, &s) != GL_OK)
        return GL_INVALID;
    if (!s || !*s || strlen(s) > MAX_NAME)
        return gl_node_fail(c, "parameter 'property' must be a binary property name of 1 to %d bytes", MAX_NAME);
    snprintf(p->prop, sizeof p->prop, "%s", s);
    if (gl_node_param_str(c, "delimiter", -1, &s) != GL_OK)
        return GL_INVALID;
    if (!s || strlen(s) != 1 || strchr("\"\r\n", s[0]))
        return gl_node_fail(c, "parameter 'delimiter' must be one character (not a quote or a line break)");
    p->delim = (unsigned char)s[0];
    p->header = true;
    if (gl_node_param_bool(c, "header", -1, &p->header) != GL_OK)
        return GL_INVALID;
    /* the file's name may use the first item ({{ $json.name }}.csv) */
    if (gl_node_param_str(c, "file_name", 0, &s) != GL_OK)
        return GL_INVALID;
    if (s && strlen(s) > MAX_NAME)
        return gl_node_fail(c, "parameter 'file_name' is longer than %d bytes", MAX_NAME);
    snprintf(p->file_name, sizeof p->file_name, "%s",
             s && *s ? s : strcmp(p->op, "to_json") == 0 ? "data.json" : "data.csv");
    return GL_OK;
}

/* ---- writing: items -> one file ---- */

/* What is buffered goes to the writer past CHUNK bytes (all of it: flush). */
static int drain(gl_node_ctx_t *c, gl_fs_writer_t *w, gl_buf_t *b, bool flush)
{
    if (b->len == 0 || (!flush && b->len < CHUNK))
        return GL_OK;
    int rc = gl_node_file_write(c, w, b->data, b->len);
    gl_buf_reset(b, 2 * CHUNK);
    return rc;
}

/* Ends the file: flushed and committed, emitted as one item's binary
 * property. w is ended whatever happens. */
static int emit_file(gl_node_ctx_t *c, const conv_params_t *p, gl_fs_writer_t *w, gl_buf_t *b, const char *mime)
{
    json_object *prop = NULL;
    if (drain(c, w, b, true) != GL_OK) {
        gl_filestore_abort(w);
        return GL_INVALID;
    }
    if (gl_node_file_commit(c, w, p->file_name, mime, &prop) != GL_OK)
        return GL_INVALID;
    json_object *item = json_object_new_object();
    gl_node_set_binary(item, p->prop, prop);
    gl_node_emit(c, 0, item);
    return GL_OK;
}

/* One field's text (JSON text for anything but strings; "" for null). */
static const char *field_text(json_object *v, size_t *len)
{
    const char *s;
    if (!v) {
        s = "";
    } else if (json_object_is_type(v, json_type_string)) {
        *len = (size_t)json_object_get_string_len(v);
        return json_object_get_string(v);
    } else {
        s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    }
    *len = strlen(s);
    return s;
}

/* Appends one field, quoted by libcsv (csv_write2) when it must be. */
static int put_field(gl_buf_t *b, const char *s, size_t n, unsigned char delim)
{
    bool quote = n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
    for (size_t i = 0; !quote && i < n; i++)
        quote = (unsigned char)s[i] == delim || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote)
        return gl_buf_append(b, s, n);
    size_t need = csv_write2(NULL, 0, s, n, CSV_QUOTE);
    char *tmp = gl_xmalloc(need);
    csv_write2(tmp, need, s, n, CSV_QUOTE);
    int rc = gl_buf_append(b, tmp, need);
    free(tmp);
    return rc;
}

/* The columns of to_csv: every key of every item but "$binary", in
 * first-seen order (*cols: a new array the caller puts). */
static int csv_columns(gl_node_ctx_t *c, json_object **cols)
{
    json_object *seen = json_object_new_object();
    *cols = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(c->in[0]); i++) {
        json_object *item = gl_node_item(c, (int)i);
        if (!json_object_is_type(item, json_type_object)) {
            json_object_put(seen);
            return gl_node_fail(c, "item %zu is not an object: only objects become CSV rows", i);
        }
        json_object_object_foreach(item, k, v) {
            (void)v;
            if (strcmp(k, GL_BINARY_KEY) == 0 || json_object_object_get_ex(seen, k, NULL))
                continue;
            json_object_object_add(seen, k, NULL);
            json_object_array_add(*cols, json_object_new_string(k));
        }
    }
    json_object_put(seen);
    return GL_OK;
}

static int to_csv(gl_node_ctx_t *c, const conv_params_t *p)
{
    json_object *cols = NULL;
    int rc = csv_columns(c, &cols);
    gl_fs_writer_t *w = NULL;
    if (rc != GL_OK || (rc = gl_node_file_create(c, &w)) != GL_OK) {
        json_object_put(cols);
        return rc;
    }
    gl_buf_t b;
    gl_buf_init(&b, ROW_MAX);
    size_t ncol = json_object_array_length(cols), n = json_object_array_length(c->in[0]);
    for (size_t r = p->header ? 0 : 1; rc == GL_OK && r <= n; r++) {
        json_object *item = r ? gl_node_item(c, (int)(r - 1)) : NULL;
        for (size_t k = 0; rc == GL_OK && k < ncol; k++) {
            const char *name = json_object_get_string(json_object_array_get_idx(cols, k));
            json_object *v = NULL;
            size_t len = strlen(name);
            const char *s = name; /* the header row */
            if (item) {
                json_object_object_get_ex(item, name, &v);
                s = field_text(v, &len);
            }
            if ((k && gl_buf_append(&b, &p->delim, 1) != GL_OK) || put_field(&b, s, len, p->delim) != GL_OK)
                rc = gl_node_fail(c, "row %zu of the CSV is too large", r);
        }
        if (rc == GL_OK && gl_buf_append(&b, "\r\n", 2) != GL_OK)
            rc = gl_node_fail(c, "row %zu of the CSV is too large", r);
        if (rc == GL_OK)
            rc = drain(c, w, &b, false);
    }
    json_object_put(cols);
    if (rc != GL_OK) {
        gl_filestore_abort(w);
        gl_buf_free(&b);
        return rc;
    }
    rc = emit_file(c, p, w, &b, "text/csv");
    gl_buf_free(&b);
    return rc;
}

static int to_json(gl_node_ctx_t *c, const conv_params_t *p)
{
    gl_fs_writer_t *w = NULL;
    int rc = gl_node_file_create(c, &w);
    if (rc != GL_OK)
        return rc;
    gl_buf_t b;
    gl_buf_init(&b, ROW_MAX);
    size_t n = json_object_array_length(c->in[0]);
    rc = gl_buf_puts(&b, "[") == GL_OK ? GL_OK : GL_TOO_LARGE;
    for (size_t i = 0; rc == GL_OK && i < n; i++) {
        json_object *item = gl_node_item(c, (int)i), *plain = item;
        if (json_object_is_type(item, json_type_object) && json_object_object_get_ex(item, GL_BINARY_KEY, NULL)) {
            plain = json_object_new_object(); /* the item without its binary references */
            json_object_object_foreach(item, k, v) if (strcmp(k, GL_BINARY_KEY) != 0)
                json_object_object_add(plain, k, json_object_get(v));
        } else {
            json_object_get(plain);
        }
        if (gl_buf_puts(&b, i ? ",\n" : "\n") != GL_OK ||
            gl_buf_puts(&b, json_object_to_json_string_ext(plain, JSON_C_TO_STRING_PLAIN)) != GL_OK)
            rc = gl_node_fail(c, "item %zu is too large", i);
        json_object_put(plain);
        if (rc == GL_OK)
            rc = drain(c, w, &b, false);
    }
    if (rc == GL_OK && gl_buf_puts(&b, n ? "\n]\n" : "]\n") != GL_OK)
        rc = gl_node_fail(c, "the JSON file is too large");
    if (rc != GL_OK) {
        gl_filestore_abort(w);
        gl_buf_free(&b);
        return rc;
    }
    rc = emit_file(c, p, w, &b, "application/json");
    gl_buf_free(&b);
    return rc;
}

/* ---- reading: one file -> items ---- */

/* Reads up to cap bytes of fd into buf: the count, 0 at the end, -1 on an
 * error (errno). */
static ssize_t read_some(int fd, void *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

/* What the items made so far may still grow to (gl_node_limits). */
typedef struct {
    int max_items;
    size_t bytes_left;
    size_t bytes;   /* the JSON size of the items made, about */
} budget_t;

/* An item is about to be emitted: within the limits? */
static int budget_item(gl_node_ctx_t *c, budget_t *bu, size_t item_bytes)
{
    size_t n = json_object_array_length(c->out[0]);
    bu->bytes += item_bytes + 1;
    if (n + 1 > (size_t)bu->max_items)
        return gl_node_fail(c, "the file gives more than %d items, the limit of one output (executor.max_items)",
                            bu->max_items);
    if (bu->bytes > bu->bytes_left)
        return gl_node_fail(c, "the items read from the file exceed the %zu bytes the execution may still hold "
                               "(executor.max_execution_bytes)", bu->bytes_left);
    return GL_OK;
}

typedef struct {
    gl_node_ctx_t *c;
    budget_t *bu;
    bool header;        /* the next row is the header */
    json_object *names; /* the header's names (array), or NULL */
    json_object *row;   /* the row being read, or NULL */
    size_t col;         /* its fields so far */
    size_t row_bytes;
    int64_t rows;       /* rows ended (the header too) */
    int rc;             /* the first failure */
} csv_in_t;

/* A header name: "" becomes column_N, a repeated one name_2, name_3… */
static void add_name(csv_in_t *in, const char *s, size_t n)
{
    char name[MAX_NAME + 24];
    size_t idx = json_object_array_length(in->names);
    if (n == 0)
        snprintf(name, sizeof name, "column_%zu", idx + 1);
    else
        snprintf(name, sizeof name, "%.*s", (int)(n > MAX_NAME ? MAX_NAME : n), s);
    size_t base = strlen(name);
    for (int dup = 2;; dup++) {
        bool taken = false;
        for (size_t i = 0; i < idx && !taken; i++)
            taken = strcmp(json_object_get_string(json_object_array_get_idx(in->names, i)), name) == 0;
        if (!taken)
            break;
        snprintf(name + base, sizeof name - base, "_%d", dup);
    }
    json_object_array_add(in->names, json_object_new_string(name));
}

static void on_field(void *s, size_t n, void *ud)
{
    csv_in_t *in = ud;
    if (in->rc != GL_OK)
        return;
    if (n > INT_MAX / 2) {
        in->rc = gl_node_fail(in->c, "row %lld, field %zu of the CSV is too large", (long long)in->rows + 1,
                              in->col + 1);
        return;
    }
    if (memchr(s, 0, n) || !gl_utf8_valid(s, n)) {
        in->rc = gl_node_fail(in->c, "row %lld, field %zu of the CSV is not UTF-8 text", (long long)in->rows + 1,
                              in->col + 1);
        return;
    }
    if (in->header && n > MAX_NAME) {
        in->rc = gl_node_fail(in->c, "header field %zu of the CSV is longer than %d bytes", in->col + 1, MAX_NAME);
        return;
    }
    in->col++;
    if (in->header) {
        add_name(in, s, n);
        return;
    }
    char extra[32];
    const char *key = extra;
    if (in->names && in->col <= json_object_array_length(in->names))
        key = json_object_get_string(json_object_array_get_idx(in->names, in->col - 1));
    else
        snprintf(extra, sizeof extra, "column_%zu", in->col);
    if (!in->row)
        in->row = json_object_new_object();
    json_object_object_add(in->row, key, json_object_new_string_len(s, (int)n));
    /* as JSON: "key":"value", with room for escapes */
    in->row_bytes += strlen(key) + n + n / 8 + 6;
    if (in->bu->bytes + in->row_bytes > in->bu->bytes_left)
        in->rc = gl_node_fail(in->c, "the items read from the file exceed the %zu bytes the execution may still "
                                     "hold (executor.max_execution_bytes)", in->bu->bytes_left);
}

static void on_row(int ch, void *ud)
{
    csv_in_t *in = ud;
    (void)ch;
    if (in->rc != GL_OK)
        return;
    in->rows++;
    if (in->header) {
        in->header = false;
    } else if (in->row) {
        if ((in->rc = budget_item(in->c, in->bu, in->row_bytes + 2)) == GL_OK)
            gl_node_emit(in->c, 0, in->row);
        else
            json_object_put(in->row);
        in->row = NULL;
    }
    in->col = 0;
    in->row_bytes = 0;
}

static int no_space(unsigned char ch)
{
    (void)ch;
    return 0; /* spaces are data: kept in unquoted fields too */
}

/* One file's rows into items; fd is the caller's. */
static int from_csv_fd(gl_node_ctx_t *c, const conv_params_t *p, int fd, budget_t *bu)
{
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return gl_node_fail(c, "the CSV reader cannot start");
    csv_set_delim(&parser, p->delim);
    csv_set_space_func(&parser, no_space);
    csv_in_t in = { .c = c, .bu = bu, .header = p->header, .rc = GL_OK };
    if (p->header)
        in.names = json_object_new_array();
    char *buf = gl_xmalloc(CHUNK);
    bool first = true;
    ssize_t n = 0;
    while (in.rc == GL_OK && (n = read_some(fd, buf, CHUNK)) > 0) {
        size_t skip = 0;
        if (first && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
            skip = 3; /* a byte order mark (spreadsheets write one) */
        first = false;
        if (csv_parse(&parser, buf + skip, (size_t)n - skip, on_field, on_row, &in) != (size_t)n - skip &&
            in.rc == GL_OK)
            in.rc = gl_node_fail(c, "the CSV is malformed at row %lld: %s (a quote must open and close a field)",
                                 (long long)in.rows + 1, csv_strerror(csv_error(&parser)));
    }
    if (in.rc == GL_OK && n < 0)
        in.rc = gl_node_fail(c, "reading the file failed: %s", strerror(errno));
    if (in.rc == GL_OK && csv_fini(&parser, on_field, on_row, &in) != 0 && in.rc == GL_OK)
        in.rc = gl_node_fail(c, "the CSV ends inside a quoted field (row %lld)", (long long)in.rows + 1);
    free(buf);
    csv_free(&parser);
    json_object_put(in.row);
    json_object_put(in.names);
    return in.rc;
}

/* One file's JSON value into items; fd is the caller's. */
static int from_json_fd(gl_node_ctx_t *c, const gl_binary_ref_t *ref, int fd, budget_t *bu)
{
    /* compact JSON may be smaller than the file (whitespace), not 4 times */
    if ((uint64_t)ref->size / 4 > bu->bytes_left - bu->bytes)
        return gl_node_fail(c, "the JSON file of %lld bytes is larger than the execution may still hold "
                               "(%zu bytes, executor.max_execution_bytes)", (long long)ref->size,
                            bu->bytes_left - bu->bytes);
    char *text = gl_xmalloc((size_t)ref->size + 1);
    size_t got = 0;
    ssize_t n = 1;
    while (got < (size_t)ref->size && (n = read_some(fd, text + got, (size_t)ref->size - got)) > 0)
        got += (size_t)n;
    if (got != (size_t)ref->size) {
        free(text);
        return gl_node_fail(c, "reading the file failed: %s", n < 0 ? strerror(errno) : "it is shorter than its size");
    }
    json_object *v = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_json_parse(text, got, 64, &v, &err);
    free(text);
    if (rc != GL_OK)
        return gl_node_fail(c, "the file is not JSON: %s", err.msg);
    bool many = json_object_is_type(v, json_type_array);
    size_t count = many ? json_object_array_length(v) : 1;
    for (size_t i = 0; rc == GL_OK && i < count; i++) {
        json_object *e = many ? json_object_array_get_idx(v, i) : v, *item;
        if (json_object_is_type(e, json_type_object)) {
            item = json_object_get(e);
        } else {
            item = json_object_new_object();
            json_object_object_add(item, "value", json_object_get(e));
        }
        size_t len = 0;
        json_object_to_json_string_length(item, JSON_C_TO_STRING_PLAIN, &len);
        if ((rc = budget_item(c, bu, len)) == GL_OK)
            gl_node_emit(c, 0, item);
        else
            json_object_put(item);
    }
    json_object_put(v);
    return rc;
}

static int from_file(gl_node_ctx_t *c, const conv_params_t *p)
{
    budget_t bu = { 0 };
    gl_node_limits(c, &bu.max_items, &bu.bytes_left);
    bool csv = strcmp(p->op, "from_csv") == 0;
    for (size_t i = 0; i < json_object_array_length(c->in[0]); i++) {
        gl_binary_ref_t ref;
        int fd = -1, rc = gl_node_binary(c, (int)i, p->prop, &ref);
        if (rc != GL_OK || (rc = gl_node_file_open(c, &ref, &fd)) != GL_OK)
            return rc;
        /* a CSV's items are at least half its size as JSON */
        if (csv && (uint64_t)ref.size / 2 > bu.bytes_left - bu.bytes)
            rc = gl_node_fail(c, "the CSV file of %lld bytes is larger than the execution may still hold "
                                 "(%zu bytes, executor.max_execution_bytes)", (long long)ref.size,
                              bu.bytes_left - bu.bytes);
        else
            rc = csv ? from_csv_fd(c, p, fd, &bu) : from_json_fd(c, &ref, fd, &bu);
        close(fd);
        if (rc != GL_OK)
            return rc;
    }
    return GL_OK;
}

static int run(gl_node_ctx_t *c)
{
    conv_params_t p;
    if (read_params(c, &p) != GL_OK)
        return GL_INVALID;
    if (strcmp(p.op, "to_csv") == 0)
        return to_csv(c, &p);
    if (strcmp(p.op, "to_json") == 0)
        return to_json(c, &p);
    return from_file(c, &p);
}

static const char *const operations[] = { "to_csv", "to_json", "from_csv", "from_json", NULL };

const gl_node_def_t gl_node_data_convert = {
    .type = "data.convert",
    .display_name = "Convert file",
    .category = "data",
    .description = "Turns items into a CSV or JSON file (a binary property), or a CSV or JSON file back into items.",
    .inputs = { "main" },
    .outputs = { "main" },
    .params = {
        { "operation", GL_PARAM_SELECT, "\"to_csv\"", true, false, operations,
          "to_csv / to_json: all items into one file; from_csv / from_json: each item's file into items" },
        { "property", GL_PARAM_STRING, "\"data\"", false, false, NULL,
          "the binary property written (to_*) or read (from_*)" },
        { "file_name", GL_PARAM_STRING, "\"\"", false, true, NULL,
          "to_*: the file's name (default data.csv or data.json; expressions see the first item)" },
        { "delimiter", GL_PARAM_STRING, "\",\"", false, false, NULL, "CSV: the field delimiter, one character" },
        { "header", GL_PARAM_BOOLEAN, "true", false, false, NULL,
          "CSV: the first row holds the field names (to_csv writes it)" },
    },
    .run = run,
    /* it reads and writes the file store, which only glyphic-executor has */
    .quick = false,
};
