#include <malloc.h>

#include "gl_test.h"
#include "json.h"

static int parse(const char *s, int depth, json_object **out, gl_err_t *err)
{
    gl_err_clear(err);
    return gl_json_parse(s, strlen(s), depth, out, err);
}

TEST(valid_documents)
{
    static const char *const ok[] = {
        "{}", "[]", "0", "-0", "1.5e-3", "-12E+2", "\"x\"", "true", "false", "null",
        " {\"a\" : [1, 2, {\"b\": null}], \"c\": \"\\u00e9\\ud83d\\ude00\\n\"} ",
        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        json_object *o = NULL;
        gl_err_t err;
        if (parse(ok[i], 32, &o, &err) != GL_OK)
            FAIL_AT("rejected %s: %s", ok[i], err.msg);
        json_object_put(o);
    }
}

TEST(invalid_documents)
{
    static const char *const bad[] = {
        "", "   ", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "NaN", "Infinity", "-Infinity", "1.",
        ".5", "+1", "01", "0x10", "[1 2]", "{\"a\" 1}", "\"a\tb\"", "\"\\x\"", "\"\\u12\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\u0000\"", "tru", "nul",
        "True", "{} {}", "[1] x", "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "// c\n{}", "/* */{}", "{\"a\":}", "[,]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_object *o = NULL;
        gl_err_t err;
        int rc = parse(bad[i], 32, &o, &err);
        if (rc != GL_INVALID)
            FAIL_AT("accepted or misclassified '%s' (rc %d)", bad[i], rc);
        ASSERT_CONTAINS(err.msg, "JSON");
        ASSERT_STR_EQ(err.field, "body");
    }
}

/* numbers the rest of the system keeps exactly: the subnormal doubles an
 * expression can produce (found by fuzz_expr: 201.E-318) are accepted */
TEST(number_range)
{
    static const char *const ok[] = { "5e-324", "2.01e-316", "1.7976931348623157e308", "-9223372036854775808",
                                      "9223372036854775807", "202000000000000000000.0" };
    static const char *const bad[] = { "1e-325", "1e309", "9223372036854775808", "-9223372036854775809",
                                       "202000000000000000000", "1.00000000000000000000000000000000000000001" };
    gl_err_t err;
    for (size_t i = 0; i < GL_NELEM(ok); i++)
        if (gl_json_check(ok[i], strlen(ok[i]), 8, &err) != GL_OK)
            FAIL_AT("rejected %s: %s", ok[i], err.msg);
    for (size_t i = 0; i < GL_NELEM(bad); i++)
        if (gl_json_check(bad[i], strlen(bad[i]), 8, &err) != GL_INVALID)
            FAIL_AT("accepted %s", bad[i]);
}

TEST(error_names_offset)
{
    json_object *o = NULL;
    gl_err_t err;
    ASSERT_EQ(parse("{\"a\": [1, 2,, 3]}", 32, &o, &err), GL_INVALID);
    ASSERT_CONTAINS(err.msg, "offset 12");
}

TEST(embedded_nul_rejected)
{
    json_object *o = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_json_parse("{\"a\":\"x\0y\"}", 11, 32, &o, &err), GL_INVALID);
}

TEST(depth_limit)
{
    char deep[200];
    json_object *o = NULL;
    gl_err_t err;
    for (int depth = 1; depth <= 40; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        deep[2 * depth] = '\0';
        int rc = parse(deep, 32, &o, &err);
        if (depth <= 32) {
            if (rc != GL_OK)
                FAIL_AT("depth %d rejected: %s", depth, err.msg);
            json_object_put(o);
        } else {
            ASSERT_EQ(rc, GL_TOO_LARGE);
            ASSERT_CONTAINS(err.msg, "deeper than 32");
        }
    }
}

/* the nesting the parser sizes json-c's stack by: a document parses with
 * a stack exactly as deep as it needs, and strings (the checker's fast
 * path for plain ASCII) end where they should */
TEST(nesting_measured)
{
    static const struct {
        const char *text;
        int nesting;
    } cases[] = {
        { "1", 0 }, { "\"a\\\"b]\"", 0 }, { "[]", 1 }, { "{\"a\":1}", 1 }, { "[[1],[[2]]]", 3 },
        { "{\"a\":{\"b\":[{}]},\"c\":[]}", 4 }, { "[\"x\\u00e9\u00e9\", {\"]\":\"}\"}]", 2 },
    };
    gl_err_t err;
    for (size_t i = 0; i < GL_NELEM(cases); i++) {
        int nesting = -1;
        if (gl_json_check_nesting(cases[i].text, strlen(cases[i].text), 8, &nesting, &err) != GL_OK)
            FAIL_AT("rejected %s: %s", cases[i].text, err.msg);
        if (nesting != cases[i].nesting)
            FAIL_AT("%s: nesting %d, want %d", cases[i].text, nesting, cases[i].nesting);
        json_object *o = NULL;
        ASSERT_EQ(gl_json_parse(cases[i].text, strlen(cases[i].text), cases[i].nesting, &o, &err), GL_OK);
        json_object_put(o);
    }
    static const char *const bad[] = { "\"abc", "\"a\tb\"", "[\"a\"", "\"a\\\"" };
    for (size_t i = 0; i < GL_NELEM(bad); i++)
        if (gl_json_check(bad[i], strlen(bad[i]), 8, &err) != GL_INVALID)
            FAIL_AT("accepted %s", bad[i]);
}

/* members counted in the text (of a member, as gl_json_member_text finds
 * it) and in json-c's tree: they differ exactly when a name repeats in an
 * object */
TEST(members_counted)
{
    static const struct {
        const char *text;
        size_t in_text, in_tree;
    } cases[] = {
        { "1", 0, 0 }, { "[]", 0, 0 }, { "{\"a\":1}", 1, 1 }, { "{\"a:b\":\"c:\\\"d:\"}", 1, 1 },
        { "[{\"a\":{\"b\":[{\"c\":1}]}},{}]", 3, 3 }, { "{\"a\":1,\"a\":2}", 2, 1 },
        { "{\"a\":{\"x\":1,\"y\":2,\"x\":3},\"b\":\"\\\\\"}", 5, 4 },
    };
    gl_err_t err;
    for (size_t i = 0; i < GL_NELEM(cases); i++) {
        size_t len = strlen(cases[i].text);
        json_object *o = NULL;
        if (gl_json_parse(cases[i].text, len, 8, &o, &err) != GL_OK)
            FAIL_AT("rejected %s: %s", cases[i].text, err.msg);
        char doc[128];
        snprintf(doc, sizeof doc, "{\"x\":{\"y\":2},\"definition\":%s,\"z\":{\"w\":1}}", cases[i].text);
        const char *at = NULL;
        size_t n = 0, t = 99;
        ASSERT(gl_json_member_text(doc, strlen(doc), "definition", 8, &at, &n, &t));
        size_t m = gl_json_members(o);
        json_object_put(o);
        if (t != cases[i].in_text || m != cases[i].in_tree)
            FAIL_AT("%s: %zu in the text, %zu in the tree; want %zu, %zu", cases[i].text, t, m, cases[i].in_text,
                    cases[i].in_tree);
    }
}

TEST(typed_getters)
{
    json_object *o = NULL;
    gl_err_t err;
    ASSERT_EQ(parse("{\"name\":\"ann\",\"age\":41,\"admin\":true,\"tags\":[],\"prefs\":{},"
                    "\"big\":99999999999,\"nil\":null,\"num\":\"7\"}", 8, &o, &err), GL_OK);
    const char *s;
    int64_t n;
    bool b;
    json_object *v;
    ASSERT_EQ(gl_json_get_string(o, "name", true, 10, &s, &err), GL_OK);
    ASSERT_STR_EQ(s, "ann");
    ASSERT_EQ(gl_json_get_string(o, "name", true, 2, &s, &err), GL_INVALID);
    ASSERT_STR_EQ(err.field, "name");
    ASSERT_EQ(gl_json_get_int(o, "age", true, 0, 150, &n, &err), GL_OK);
    ASSERT_EQ(n, 41);
    ASSERT_EQ(gl_json_get_int(o, "big", true, 0, 1000, &n, &err), GL_INVALID);
    ASSERT_CONTAINS(err.msg, "from 0 to 1000");
    ASSERT_EQ(gl_json_get_int(o, "num", true, 0, 10, &n, &err), GL_INVALID);
    ASSERT_STR_EQ(err.msg, "field 'num': expected an integer, got a string");
    ASSERT_EQ(gl_json_get_bool(o, "admin", true, &b, &err), GL_OK);
    ASSERT(b);
    ASSERT_EQ(gl_json_get_array(o, "tags", true, &v, &err), GL_OK);
    ASSERT_EQ(gl_json_get_object(o, "prefs", true, &v, &err), GL_OK);
    ASSERT_EQ(gl_json_get_object(o, "tags", true, &v, &err), GL_INVALID);
    ASSERT_EQ(gl_json_get_string(o, "missing", false, 10, &s, &err), GL_NOTFOUND);
    ASSERT_EQ(gl_json_get_string(o, "nil", false, 10, &s, &err), GL_NOTFOUND);
    ASSERT_EQ(gl_json_get_string(o, "missing", true, 10, &s, &err), GL_INVALID);
    ASSERT_STR_EQ(err.msg, "field 'missing' is required");
    static const char *const allowed[] = { "name", "age", "admin", "tags", "prefs", "big", "nil", NULL };
    ASSERT_EQ(gl_json_only_keys(o, allowed, &err), GL_INVALID);
    ASSERT_STR_EQ(err.field, "num");
    json_object_put(o);
}

TEST(arena_owns_objects)
{
    gl_arena_t *a = gl_arena_create(0);
    json_object *o = NULL;
    gl_err_t err;
    ASSERT_EQ(parse("{\"a\":[1,2,3]}", 8, &o, &err), GL_OK);
    gl_json_own(a, o);
    gl_arena_destroy(a); /* LeakSanitizer reports if the object was not released */
}

/* gl_json_write writes the very text json-c renders */
static void written_as_json_c(json_object *o)
{
    gl_buf_t b;
    gl_buf_init(&b, 1 << 20);
    ASSERT_EQ(gl_json_write(&b, o), GL_OK);
    const char *want = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    if (strcmp(b.data, want) != 0)
        FAIL_AT("wrote %s, json-c renders %s", b.data, want);
    gl_buf_free(&b);
}

/* gl_json_rendered_len counts what json-c renders, without rendering, and
 * gl_json_write writes it */
TEST(rendered_len_and_write_match_json_c)
{
    static const char *const docs[] = {
        "null", "true", "false", "0", "-1", "7", "9223372036854775807", "-9223372036854775808",
        "1.5", "-0.0", "1e300", "2.50", "\"\"", "\"a/b\\\\c\\\"d\"",
        "\"\\u0001\\b\\t\\n\\f\\r\\u001f\\u007f\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
        "[]", "{}", "[[]]", "[1,[2,{}],null]", "{\"a\":{\"b\":[1,2,{\"c\":\"d\"}]},\"e/f\":\"\\n\"}",
        "{\"k\\u0002\":[true,false,null,-12345,3.25]}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        json_object *o = NULL;
        gl_err_t err;
        if (parse(docs[i], 32, &o, &err) != GL_OK)
            FAIL_AT("rejected %s: %s", docs[i], err.msg);
        size_t want = strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        if (gl_json_rendered_len(o) != want)
            FAIL_AT("%s: counted %zu, json-c renders %zu", docs[i], gl_json_rendered_len(o), want);
        written_as_json_c(o);
        json_object_put(o);
    }
    /* values built, not parsed: computed doubles, NULL members */
    json_object *o = json_object_new_object();
    json_object_object_add(o, "d", json_object_new_double(0.1 + 0.2));
    json_object_object_add(o, "n", NULL);
    json_object_object_add(o, "i", json_object_new_int64(-42));
    json_object_object_add(o, "u", json_object_new_uint64(UINT64_MAX));
    json_object *a = json_object_new_array();
    json_object_array_put_idx(a, 2, json_object_new_double(5.0)); /* [null,null,5.0] */
    json_object_object_add(o, "a", a);
    ASSERT_EQ(gl_json_rendered_len(o), strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)));
    written_as_json_c(o);
    json_object_put(o);
    /* deeper than the walk goes: json-c counts the rest */
    json_object *deep = json_object_new_array(), *at = deep;
    for (int d = 0; d < 1100; d++) {
        json_object *n = json_object_new_array();
        json_object_array_add(at, n);
        at = n;
    }
    ASSERT_EQ(gl_json_rendered_len(deep), strlen(json_object_to_json_string_ext(deep, JSON_C_TO_STRING_PLAIN)));
    written_as_json_c(deep);
    json_object_put(deep);
    /* past its cap: refused, not cut */
    json_object *s = json_object_new_string("0123456789");
    gl_buf_t b;
    gl_buf_init(&b, 8);
    ASSERT_EQ(gl_json_write(&b, s), GL_TOO_LARGE);
    gl_buf_free(&b);
    json_object_put(s);
}

/* writing leaves nothing behind in the value, as counting does not */
TEST(write_keeps_nothing)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < 2000; i++)
        json_object_array_add(a, json_object_new_double(i + 0.5));
    gl_buf_t b;
    gl_buf_init(&b, 1 << 20);
    size_t before = mallinfo2().uordblks;
    ASSERT_EQ(gl_json_write(&b, a), GL_OK);
    gl_buf_free(&b);
    size_t after = mallinfo2().uordblks;
    if (after > before + 4096)
        FAIL_AT("writing 2,000 doubles kept %zu bytes", after - before);
    json_object_put(a);
}

/* counting leaves nothing behind in the value: json-c keeps a rendered text
 * (a printbuf) in each object it renders, until that object is freed */
TEST(rendered_len_keeps_nothing)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < 2000; i++)
        json_object_array_add(a, json_object_new_double(i + 0.5));
    size_t want = strlen(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
    size_t before = mallinfo2().uordblks;
    ASSERT_EQ(gl_json_rendered_len(a), want);
    size_t after = mallinfo2().uordblks;
    /* 2,000 printbufs would be over 100 KB (under ASan malloc is not
     * glibc's and both figures stay 0) */
    if (after > before + 4096)
        FAIL_AT("counting 2,000 doubles kept %zu bytes", after - before);
    json_object_put(a);
}

/* gl_json_member_text finds the member json-c reads, as text jsonb takes */
TEST(member_text)
{
    static const struct {
        const char *doc, *want; /* want NULL: not found */
    } cases[] = {
        { "{\"definition\":{\"a\":1}}", "{\"a\":1}" },
        { " { \"x\" : [1,{\"definition\":2}] ,\n\t\"definition\" :  {\"nodes\": [] }  } ", "{\"nodes\": [] }" },
        { "{\"definition\":1,\"definition\":[true, null]}", "[true, null]" }, /* the last, as json-c */
        { "{\"s\":\"}\\\"{\\\\\",\"definition\":\"a\\\"b}\"}", "\"a\\\"b}\"" },
        { "{\"definitions\":1,\"definitio\":2,\"definition\":-1.5e3}", "-1.5e3" },
        { "{\"definition\":\"\xc3\xa9\"}", "\"\xc3\xa9\"" },
        { "{\"d\\u0065finition\":1}", NULL },                    /* escaped names are not decoded */
        { "{\"definition\":1,\"d\\u0065finition\":2}", NULL },   /* ... nor guessed past */
        { "{\"other\":1}", NULL },
        { "{}", NULL },
        { "[{\"definition\":1}]", NULL },
        { "\"definition\"", NULL },
        { "{\"definition\":1", NULL },                          /* not valid JSON */
        { "{\"definition\":01}", NULL },
        { "{\"definition\":\"\\u0000\"}", NULL },               /* jsonb refuses \u0000 */
        { "{\"definition\":1} x", NULL },
        { "{\"definition\":[[[[1]]]]}", NULL },                 /* deeper than 4 */
        { "", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *at = NULL;
        size_t n = 0;
        bool got = gl_json_member_text(cases[i].doc, strlen(cases[i].doc), "definition", 4, &at, &n, NULL);
        if (got != (cases[i].want != NULL))
            FAIL_AT("%s: %s", cases[i].doc, got ? "found" : "not found");
        if (got && (n != strlen(cases[i].want) || memcmp(at, cases[i].want, n) != 0))
            FAIL_AT("%s: got %.*s", cases[i].doc, (int)n, at);
        if (got) { /* what json-c reads there */
            json_object *whole = NULL, *part = NULL;
            gl_err_t err;
            ASSERT_EQ(parse(cases[i].doc, 8, &whole, &err), GL_OK);
            ASSERT_EQ(gl_json_parse(at, n, 8, &part, &err), GL_OK);
            if (!json_object_equal(json_object_object_get(whole, "definition"), part))
                FAIL_AT("%s: json-c reads another value", cases[i].doc);
            json_object_put(whole);
            json_object_put(part);
        }
    }
}

TEST_MAIN()
