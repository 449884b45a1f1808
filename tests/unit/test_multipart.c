/*
 * test_multipart.c: the streaming multipart/form-data parser (core/multipart.c)
 * and the file-name cleaning webhook uploads use (gl_filestore_name_clean):
 * the same parts whatever the chunking (every split point, one byte at a
 * time), preamble and epilogue, quoted names with escapes, filename*, an
 * empty file, data that looks like a boundary, and every malformed body it
 * must refuse.
 */
#include "filestore.h"
#include "gl_test.h"
#include "multipart.h"

#define B "xYz-123"

/* What the callbacks saw: "[name|file|type]" at a part's start ("-" for
 * NULL), its data, "$" at its end. */
typedef struct {
    char log[1 << 16];
    size_t len;
    int fail_data_after; /* the data callback fails once this many bytes came (0: never) */
    size_t data_bytes;
} rec_t;

static void rec_put(rec_t *r, const char *s, size_t n)
{
    ASSERT(r->len + n < sizeof r->log);
    memcpy(r->log + r->len, s, n);
    r->len += n;
    r->log[r->len] = '\0';
}

static int on_begin(void *ud, const gl_mp_part_t *p, gl_err_t *err)
{
    (void)err;
    rec_t *r = ud;
    char s[1024];
    int n = snprintf(s, sizeof s, "[%s|%s|%s]", p->name, p->file_name ? p->file_name : "-",
                     p->content_type ? p->content_type : "-");
    rec_put(r, s, (size_t)n);
    return GL_OK;
}

static int on_data(void *ud, const char *buf, size_t len, gl_err_t *err)
{
    rec_t *r = ud;
    ASSERT(len > 0);
    r->data_bytes += len;
    if (r->fail_data_after && r->data_bytes >= (size_t)r->fail_data_after) {
        gl_err_set(err, "too big");
        return GL_TOO_LARGE;
    }
    rec_put(r, buf, len);
    return GL_OK;
}

static int on_end(void *ud, gl_err_t *err)
{
    (void)err;
    rec_put(ud, "$", 1);
    return GL_OK;
}

/* Parses body[0..n) fed in the chunks cuts[] gives (ascending offsets,
 * ending with n): the log into r, the outcome returned, err's message
 * into msg. */
static int parse_cut(const char *body, size_t n, const size_t *cuts, int n_cuts, int max_parts, rec_t *r,
                     char *msg, size_t msg_len)
{
    ASSERT(n_cuts == 0 ? n == 0 : cuts[n_cuts - 1] == n);
    gl_arena_t *a = gl_arena_create(4096);
    memset(r, 0, offsetof(rec_t, fail_data_after));
    r->data_bytes = 0;
    gl_mp_handler_t h = { on_begin, on_data, on_end, r };
    gl_multipart_t *mp = gl_multipart_new(a, B, max_parts, &h);
    gl_err_t err;
    gl_err_clear(&err);
    int rc = GL_OK;
    size_t at = 0;
    for (int i = 0; i < n_cuts && rc == GL_OK; i++) {
        rc = gl_multipart_feed(mp, body + at, cuts[i] - at, &err);
        at = cuts[i];
    }
    if (rc == GL_OK)
        rc = gl_multipart_end(mp, &err);
    snprintf(msg, msg_len, "%s", rc == GL_OK ? "" : err.msg);
    gl_arena_destroy(a);
    return rc;
}

static int parse(const char *body, size_t n, rec_t *r, char *msg, size_t msg_len)
{
    size_t cuts[] = { n };
    return parse_cut(body, n, cuts, 1, GL_MP_MAX_PARTS, r, msg, msg_len);
}

/* The body gives want (log) and rc however it is cut: whole, in two at
 * every offset, in three around every offset, and a byte at a time. */
static void check_every_cut(const char *body, size_t n, int want_rc, const char *want_log, const char *want_msg)
{
    static rec_t r;
    char msg[300];
    int rc = parse(body, n, &r, msg, sizeof msg);
    ASSERT_EQ(rc, want_rc);
    if (want_log)
        ASSERT_STR_EQ(r.log, want_log);
    if (want_msg)
        ASSERT_CONTAINS(msg, want_msg);
    char whole_log[sizeof r.log];
    memcpy(whole_log, r.log, r.len + 1);
    char whole_msg[300];
    snprintf(whole_msg, sizeof whole_msg, "%s", msg);
    for (size_t k = 0; k <= n; k++) {
        size_t two[] = { k, n };
        ASSERT_EQ(parse_cut(body, n, two, 2, GL_MP_MAX_PARTS, &r, msg, sizeof msg), want_rc);
        if (strcmp(r.log, whole_log) != 0 || strcmp(msg, whole_msg) != 0)
            FAIL_AT("cut at %zu: \"%s\" (%s) != \"%s\" (%s)", k, r.log, msg, whole_log, whole_msg);
        size_t three[] = { k, k + 1 < n ? k + 1 : n, n };
        ASSERT_EQ(parse_cut(body, n, three, 3, GL_MP_MAX_PARTS, &r, msg, sizeof msg), want_rc);
        ASSERT_STR_EQ(r.log, whole_log);
    }
    size_t *bytes = malloc((n + 1) * sizeof *bytes);
    for (size_t i = 0; i < n; i++)
        bytes[i] = i + 1;
    ASSERT_EQ(parse_cut(body, n, bytes, (int)n, GL_MP_MAX_PARTS, &r, msg, sizeof msg), want_rc);
    ASSERT_STR_EQ(r.log, whole_log);
    ASSERT_STR_EQ(msg, whole_msg);
    free(bytes);
}

static void check(const char *body, int want_rc, const char *want_log, const char *want_msg)
{
    check_every_cut(body, strlen(body), want_rc, want_log, want_msg);
}

TEST(fields_and_files_at_every_cut)
{
    const char *body = "--" B "\r\n"
                       "Content-Disposition: form-data; name=\"title\"\r\n"
                       "\r\n"
                       "Hello, world\r\n"
                       "--" B "\r\n"
                       "Content-Disposition: form-data; name=\"doc\"; filename=\"a.pdf\"\r\n"
                       "Content-Type: application/pdf\r\n"
                       "\r\n"
                       "%PDF-1.4\r\n\r\nbinary\r\n-- not a boundary\r\n--" B "x? no\r\n"
                       "--" B "\r\n"
                       "content-disposition: FORM-DATA; NAME=img; FILENAME=b.png\r\n"
                       "X-Ignored: yes\r\n"
                       "\r\n"
                       "\x89PNG\r\n\x1a\n\r\r\n\r\n-\r\n--\r\n--x\r\n--" B "\r\n"
                       "Content-Disposition: form-data; name=\"empty\"; filename=\"e.txt\"\r\n"
                       "\r\n"
                       "\r\n"
                       "--" B "--";
    /* a boundary followed by anything but CRLF or "--" is not a delimiter
     * line: "--xYz-123x" in the data above ends the body as malformed */
    char msg[300];
    static rec_t r;
    ASSERT_EQ(parse(body, strlen(body), &r, msg, sizeof msg), GL_INVALID);
    ASSERT_CONTAINS(msg, "must end with CRLF");

    body = "--" B "\r\n"
           "Content-Disposition: form-data; name=\"title\"\r\n"
           "\r\n"
           "Hello, world\r\n"
           "--" B "\r\n"
           "Content-Disposition: form-data; name=\"doc\"; filename=\"a.pdf\"\r\n"
           "Content-Type: application/pdf\r\n"
           "\r\n"
           "%PDF-1.4\r\n\r\nbinary\r\n-- not a boundary\r\n--xYz-12 almost\r\r\n--" B "\r\n"
           "content-disposition: FORM-DATA; NAME=img; FILENAME=b.png\r\n"
           "X-Ignored: yes\r\n"
           "\r\n"
           "\x89PNG\r\n\x1a\n\r\r\n\r\n-\r\n--\r\n--x\r\n--" B "\r\n"
           "Content-Disposition: form-data; name=\"empty\"; filename=\"e.txt\"\r\n"
           "\r\n"
           "\r\n"
           "--" B "--";
    check(body, GL_OK,
          "[title|-|-]Hello, world$"
          "[doc|a.pdf|application/pdf]%PDF-1.4\r\n\r\nbinary\r\n-- not a boundary\r\n--xYz-12 almost\r$"
          "[img|b.png|-]\x89PNG\r\n\x1a\n\r\r\n\r\n-\r\n--\r\n--x$"
          "[empty|e.txt|-]$",
          NULL);
}

TEST(preamble_epilogue_and_padding)
{
    check("This is the preamble.\r\nIt is ignored --" B " too.\r\n"
          "--" B "  \t\r\n"
          "Content-Disposition: form-data; name=a\r\n\r\n1\r\n"
          "--" B "\t\r\n"
          "Content-Disposition: form-data; name=b\r\n\r\n2\r\n"
          "--" B "--\r\nThe epilogue, also ignored.\r\n--" B "\r\nnot a part",
          GL_OK, "[a|-|-]1$[b|-|-]2$", NULL);
    /* the first delimiter may come right at the start, or after a CRLF */
    check("\r\n--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--" B "--", GL_OK, "[a|-|-]x$", NULL);
    /* no parts at all */
    check("--" B "--", GL_OK, "", NULL);
}

TEST(quoted_names_and_filename_star)
{
    check("--" B "\r\n"
          "Content-Disposition: form-data; name=\"a \\\"quoted\\\" \\\\ name;x=y\"; filename=\"C:\\\\dir\\\\r\xc3\xa9sum\xc3\xa9.pdf\"\r\n"
          "\r\nv\r\n"
          "--" B "\r\n"
          "Content-Disposition: form-data ; name = \"f\" ; filename=\"plain.txt\"; filename*=UTF-8''na%C3%AFve%20file.txt ;\r\n"
          "Content-Type: text/plain; charset=utf-8\r\n"
          "\r\nw\r\n"
          "--" B "\r\n"
          "Content-Disposition: form-data; filename*=iso-8859-1''x%E9.txt; name=g; filename=fallback.txt; name=ignored\r\n"
          "\r\nz\r\n"
          "--" B "--",
          GL_OK,
          "[a \"quoted\" \\ name;x=y|C:\\dir\\r\xc3\xa9sum\xc3\xa9.pdf|-]v$"
          "[f|na\xc3\xafve file.txt|text/plain; charset=utf-8]w$"
          "[g|fallback.txt|-]z$",
          NULL);
}

TEST(malformed_bodies)
{
    const char *part = "Content-Disposition: form-data; name=a\r\n\r\nx";
    char body[GL_MP_HEADER_MAX + 512];
    /* no boundary at all, or no final one */
    check("", GL_INVALID, "", "no boundary line");
    check("just some text", GL_INVALID, "", "no boundary line");
    snprintf(body, sizeof body, "--" B "\r\n%s", part);
    check(body, GL_INVALID, "[a|-|-]x", "ends before its closing boundary");
    snprintf(body, sizeof body, "--" B "\r\n%s\r\n--" B "\r\n", part);
    check(body, GL_INVALID, "[a|-|-]x$", "closing boundary");
    snprintf(body, sizeof body, "--" B "\r\n%s\r\n--" B "-", part);
    check(body, GL_INVALID, "[a|-|-]x$", "closing boundary");
    /* the line after a boundary */
    check("--" B "x\r\n", GL_INVALID, "", "must end with CRLF");
    check("--" B "-x", GL_INVALID, "", "must end with CRLF");
    check("--" B " \rx", GL_INVALID, "", "must end with CRLF");
    /* part headers */
    check("--" B "\r\n\r\nx\r\n--" B "--", GL_INVALID, "", "no Content-Disposition");
    check("--" B "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" B "--", GL_INVALID, "", "no Content-Disposition");
    check("--" B "\r\nContent-Disposition: form-data\r\n\r\nx\r\n--" B "--", GL_INVALID, "", "with a name");
    check("--" B "\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--" B "--", GL_INVALID, "",
          "with a name");
    check("--" B "\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--" B "--", GL_INVALID, "",
          "form-data");
    check("--" B "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--" B "--", GL_INVALID, "",
          "unterminated");
    check("--" B "\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--" B "--", GL_INVALID, "", "no value");
    check("--" B "\r\nContent-Disposition: form-data name=a\r\n\r\nx\r\n--" B "--", GL_INVALID, "",
          "expected ';'");
    check("--" B "\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\n"
          "x\r\n--" B "--",
          GL_INVALID, "", "two Content-Disposition");
    check("--" B "\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n--" B "--", GL_INVALID, "", "folded");
    check("--" B "\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\nx\r\n--" B "--", GL_INVALID, "",
          "control character");
    check("--" B "\r\nContent-Disposition: form-data; name=a\r\nno colon\r\n\r\nx\r\n--" B "--", GL_INVALID, "",
          "Name: value");
    /* a header block that never ends, or is too long */
    size_t n = (size_t)snprintf(body, sizeof body, "--" B "\r\nContent-Disposition: form-data; name=a\r\nX-Long: ");
    memset(body + n, 'a', GL_MP_HEADER_MAX);
    snprintf(body + n + GL_MP_HEADER_MAX, sizeof body - n - GL_MP_HEADER_MAX, "\r\n\r\nx\r\n--" B "--");
    static rec_t r;
    char msg[300];
    ASSERT_EQ(parse(body, strlen(body), &r, msg, sizeof msg), GL_INVALID);
    ASSERT_CONTAINS(msg, "longer than 8192 bytes");
    /* just under the limit is fine */
    n = (size_t)snprintf(body, sizeof body, "--" B "\r\nContent-Disposition: form-data; name=a\r\nX-Long: ");
    size_t fill = GL_MP_HEADER_MAX - (n - strlen("--" B "\r\n")) - 4;
    memset(body + n, 'a', fill);
    snprintf(body + n + fill, sizeof body - n - fill, "\r\n\r\nx\r\n--" B "--");
    ASSERT_EQ(parse(body, strlen(body), &r, msg, sizeof msg), GL_OK);
    ASSERT_STR_EQ(r.log, "[a|-|-]x$");
}

TEST(too_many_parts)
{
    char body[4096];
    size_t n = 0;
    for (int i = 0; i < 3; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "--" B "\r\nContent-Disposition: form-data; name=p%d\r\n\r\n%d\r\n",
                              i, i);
    snprintf(body + n, sizeof body - n, "--" B "--");
    static rec_t r;
    char msg[300];
    size_t cuts[] = { strlen(body) };
    ASSERT_EQ(parse_cut(body, strlen(body), cuts, 1, 3, &r, msg, sizeof msg), GL_OK);
    ASSERT_STR_EQ(r.log, "[p0|-|-]0$[p1|-|-]1$[p2|-|-]2$");
    ASSERT_EQ(parse_cut(body, strlen(body), cuts, 1, 2, &r, msg, sizeof msg), GL_INVALID);
    ASSERT_STR_EQ(msg, "the multipart body has more than 2 parts");
    ASSERT_STR_EQ(r.log, "[p0|-|-]0$[p1|-|-]1$");
}

TEST(callback_errors_stop_the_parser)
{
    const char *body = "--" B "\r\nContent-Disposition: form-data; name=f; filename=x\r\n\r\n"
                       "0123456789abcdef\r\n--" B "--";
    static rec_t r;
    memset(&r, 0, sizeof r);
    r.fail_data_after = 10;
    gl_arena_t *a = gl_arena_create(4096);
    gl_mp_handler_t h = { on_begin, on_data, on_end, &r };
    gl_multipart_t *mp = gl_multipart_new(a, B, 10, &h);
    gl_err_t err;
    gl_err_clear(&err);
    int rc = GL_OK;
    for (size_t i = 0; body[i] && rc == GL_OK; i += 4)
        rc = gl_multipart_feed(mp, body + i, strnlen(body + i, 4), &err);
    ASSERT_EQ(rc, GL_TOO_LARGE);
    ASSERT_STR_EQ(err.msg, "too big");
    gl_err_clear(&err);
    ASSERT_EQ(gl_multipart_feed(mp, "more", 4, &err), GL_TOO_LARGE);
    ASSERT_EQ(gl_multipart_end(mp, &err), GL_TOO_LARGE);
    ASSERT_EQ(gl_multipart_parts(mp), 1);
    gl_arena_destroy(a);
}

/* the data of one big part, collected */
static struct {
    char *got;
    size_t len, calls;
} big;

static int big_data(void *ud, const char *buf, size_t len, gl_err_t *err)
{
    (void)ud;
    (void)err;
    memcpy(big.got + big.len, buf, len);
    big.len += len;
    big.calls++;
    return GL_OK;
}

TEST(large_binary_part_in_64k_chunks)
{
    /* 1 MiB of every byte value, with boundary-like runs, one at a chunk's edge */
    size_t data_len = 1 << 20;
    char *data = malloc(data_len);
    for (size_t i = 0; i < data_len; i++)
        data[i] = (char)((i * 7919u) >> 3);
    memcpy(data + 1000, "\r\n--" B, 4 + strlen(B) - 1);
    const char *head = "--" B "\r\nContent-Disposition: form-data; name=\"big\"; filename=\"big.bin\"\r\n\r\n";
    size_t hl = strlen(head);
    memcpy(data + 65536 - hl - 3, "\r\n--xY", 7);
    const char *tail = "\r\n--" B "--\r\n";
    size_t n = hl + data_len + strlen(tail);
    char *body = malloc(n);
    memcpy(body, head, hl);
    memcpy(body + hl, data, data_len);
    memcpy(body + hl + data_len, tail, strlen(tail));
    big.got = malloc(data_len);
    big.len = big.calls = 0;
    static rec_t r;
    memset(&r, 0, sizeof r);
    gl_arena_t *a = gl_arena_create(4096);
    gl_mp_handler_t h = { on_begin, big_data, on_end, &r };
    gl_multipart_t *mp = gl_multipart_new(a, B, 10, &h);
    gl_err_t err;
    gl_err_clear(&err);
    for (size_t at = 0; at < n; at += 65536)
        ASSERT_EQ(gl_multipart_feed(mp, body + at, n - at < 65536 ? n - at : 65536, &err), GL_OK);
    ASSERT_EQ(gl_multipart_end(mp, &err), GL_OK);
    ASSERT_EQ(big.len, data_len);
    ASSERT(memcmp(big.got, data, data_len) == 0);
    ASSERT(big.calls < 200); /* runs between CRs are handed on whole */
    ASSERT_STR_EQ(r.log, "[big|big.bin|-]$");
    gl_arena_destroy(a);
    free(big.got);
    free(body);
    free(data);
}

TEST(boundary_parameter)
{
    char b[GL_MP_BOUNDARY_MAX + 1];
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_multipart_boundary("multipart/form-data; boundary=abc", b, sizeof b, &err), GL_OK);
    ASSERT_STR_EQ(b, "abc");
    ASSERT_EQ(gl_multipart_boundary("multipart/form-data;charset=utf-8; BOUNDARY=\"a b'()+_,-./:=?c\"", b, sizeof b,
                                    &err),
              GL_OK);
    ASSERT_STR_EQ(b, "a b'()+_,-./:=?c");
    ASSERT_EQ(gl_multipart_boundary("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", b,
                                    sizeof b, &err),
              GL_OK);
    ASSERT_STR_EQ(b, "----WebKitFormBoundary7MA4YWxkTrZu0gW");
    const char *bad[] = {
        "multipart/form-data",
        "multipart/form-data;",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"trailing \"",
        "multipart/form-data; boundary=a\"b",
        "multipart/form-data; boundary=a;b",
        "multipart/form-data; boundary=\"unterminated",
        "multipart/form-data; boundary=\"tab\there\"",
        "multipart/form-data; boundary=01234567890123456789012345678901234567890123456789012345678901234567890",
        NULL,
    };
    for (int i = 0; bad[i]; i++)
        if (gl_multipart_boundary(bad[i], b, sizeof b, &err) != GL_INVALID)
            FAIL_AT("accepted %s", bad[i]);
    ASSERT_EQ(gl_multipart_boundary(NULL, b, sizeof b, &err), GL_INVALID);
    ASSERT_CONTAINS(err.msg, "boundary");
    /* 70 characters is the most */
    ASSERT_EQ(gl_multipart_boundary("multipart/form-data; boundary=0123456789012345678901234567890123456789012345678901234567890123456789",
                                    b, sizeof b, &err),
              GL_OK);
    ASSERT(gl_multipart_is_form("multipart/form-data; boundary=x"));
    ASSERT(gl_multipart_is_form(" Multipart/Form-Data"));
    ASSERT(!gl_multipart_is_form("multipart/form-database"));
    ASSERT(!gl_multipart_is_form("multipart/mixed; boundary=x"));
    ASSERT(!gl_multipart_is_form(NULL));
}

TEST(disposition_of_raw_bodies)
{
    char out[256];
    gl_mp_disposition_t d;
    gl_err_t err;
    gl_err_clear(&err);
    const char *v = "attachment; filename=\"report.pdf\"";
    ASSERT_EQ(gl_mp_disposition_parse(v, strlen(v), &d, out, strlen(v) + 4, &err), GL_OK);
    ASSERT_STR_EQ(d.type, "attachment");
    ASSERT(d.name == NULL);
    ASSERT_STR_EQ(d.file_name, "report.pdf");
    v = "inline; filename*=UTF-8''%E2%82%AC%20rates.csv; filename=\"EUR rates.csv\"";
    ASSERT_EQ(gl_mp_disposition_parse(v, strlen(v), &d, out, strlen(v) + 4, &err), GL_OK);
    ASSERT_STR_EQ(d.file_name, "\xe2\x82\xac rates.csv");
    /* a filename* that is not UTF-8 (or broken) leaves filename */
    v = "attachment; filename*=UTF-8''%FF.bin; filename=ok.bin";
    ASSERT_EQ(gl_mp_disposition_parse(v, strlen(v), &d, out, strlen(v) + 4, &err), GL_OK);
    ASSERT_STR_EQ(d.file_name, "ok.bin");
    v = "attachment; filename*=UTF-8''a%2";
    ASSERT_EQ(gl_mp_disposition_parse(v, strlen(v), &d, out, strlen(v) + 4, &err), GL_OK);
    ASSERT(d.file_name == NULL);
    v = "attachment";
    ASSERT_EQ(gl_mp_disposition_parse(v, strlen(v), &d, out, strlen(v) + 4, &err), GL_OK);
    ASSERT(d.file_name == NULL);
    v = "; filename=x";
    ASSERT_EQ(gl_mp_disposition_parse(v, strlen(v), &d, out, strlen(v) + 4, &err), GL_INVALID);
    /* many ignored parameters still fit in n + 4 bytes */
    v = "form-data;a=1;b=\"22\";c=333;name=n;d=4444;filename=f";
    ASSERT_EQ(gl_mp_disposition_parse(v, strlen(v), &d, out, strlen(v) + 4, &err), GL_OK);
    ASSERT_STR_EQ(d.name, "n");
    ASSERT_STR_EQ(d.file_name, "f");
}

TEST(file_names_are_cleaned)
{
    char out[GL_FILE_NAME_MAX + 1];
    struct {
        const char *raw, *want;
    } cases[] = {
        { "report.pdf", "report.pdf" },
        { "C:\\Users\\me\\report.pdf", "report.pdf" },
        { "../../etc/passwd", "passwd" },
        { "dir/", "file" },
        { "", "file" },
        { "..", "file" },
        { ".", "file" },
        { "a\tb\nc\x7f" "d", "a_b_c_d" },
        { "r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac.pdf", "r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac.pdf" },
        { "bad\xff\xfe.bin", "bad__.bin" },
        { "c1\xc2\x85x\xe2\x80\xa8y", "c1_x_y" },
        { NULL, "file" },
    };
    for (size_t i = 0; i < GL_NELEM(cases); i++) {
        gl_filestore_name_clean(cases[i].raw, "file", out);
        ASSERT_STR_EQ(out, cases[i].want);
        ASSERT(gl_filestore_name_ok(out));
    }
    /* cut at a character, never inside one */
    char longname[600];
    memset(longname, 0, sizeof longname);
    for (int i = 0; i < 130; i++)
        memcpy(longname + i * 2, "\xc3\xa9", 2);
    gl_filestore_name_clean(longname, "file", out);
    ASSERT_EQ(strlen(out), 254);
    ASSERT(gl_filestore_name_ok(out));
    memset(longname, 'x', 599);
    gl_filestore_name_clean(longname, "file", out);
    ASSERT_EQ(strlen(out), GL_FILE_NAME_MAX);
}

TEST_MAIN()
