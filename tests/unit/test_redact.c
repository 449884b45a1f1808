/* test_redact.c: core/redact.c — strings, keys, nesting, short values, URL-encoded forms, text. */
#include "gl_test.h"

#include "redact.h"

#include <json-c/json.h>

static json_object *parse(const char *text)
{
    json_object *o = json_tokener_parse(text);
    ASSERT(o != NULL);
    return o;
}

/* gl_redact_json of text, as JSON text (caller frees) */
static char *redacted(const gl_redact_t *r, const char *text)
{
    json_object *in = parse(text);
    json_object *out = gl_redact_json(r, in);
    char *s = gl_xstrdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    /* the input is never changed */
    json_object *again = parse(text);
    ASSERT(json_object_equal(in, again));
    json_object_put(again);
    json_object_put(in);
    json_object_put(out);
    return s;
}

static void expect(const gl_redact_t *r, const char *in, const char *want)
{
    char *got = redacted(r, in);
    ASSERT_STR_EQ(got, want);
    free(got);
}

TEST(empty_list_shares_the_value)
{
    gl_redact_t *r = gl_redact_new();
    json_object *v = parse("{\"a\": [\"s3cret-value\"]}");
    json_object *out = gl_redact_json(r, v);
    ASSERT(out == v);
    json_object_put(out);
    gl_redact_add(r, "", 0); /* never a secret */
    ASSERT_EQ(gl_redact_count(r), 0);
    out = gl_redact_json(NULL, v);
    ASSERT(out == v);
    json_object_put(out);
    json_object_put(v);
    ASSERT(gl_redact_json(r, NULL) == NULL);
    gl_redact_free(r);
}

TEST(strings_and_keys_at_any_depth)
{
    gl_redact_t *r = gl_redact_new();
    gl_redact_add(r, "s3cret", 6);
    expect(r, "\"s3cret\"", "\"[redacted]\"");
    expect(r, "{\"h\": \"Bearer s3cret\", \"n\": 5, \"ok\": true, \"z\": null}",
           "{\"h\":\"Bearer [redacted]\",\"n\":5,\"ok\":true,\"z\":null}");
    expect(r, "[1, [\"x\", {\"deep\": [\"as3crets3cret!\"]}], \"plain\"]",
           "[1,[\"x\",{\"deep\":[\"a[redacted][redacted]!\"]}],\"plain\"]");
    /* keys, keeping the order of the others */
    expect(r, "{\"a\": 1, \"key-s3cret\": 2, \"b\": 3}", "{\"a\":1,\"key-[redacted]\":2,\"b\":3}");
    /* an untouched part is shared, not copied */
    json_object *v = parse("{\"keep\": {\"x\": [1, 2]}, \"hit\": \"s3cret\"}");
    json_object *out = gl_redact_json(r, v), *k1, *k2;
    ASSERT(out != v);
    ASSERT(json_object_object_get_ex(v, "keep", &k1) && json_object_object_get_ex(out, "keep", &k2));
    ASSERT(k1 == k2);
    json_object_put(out);
    json_object_put(v);
    gl_redact_free(r);
}

TEST(longest_first_and_overlaps)
{
    gl_redact_t *r = gl_redact_new();
    gl_redact_add(r, "abcd", 4);
    gl_redact_add(r, "abcdefgh", 8);
    gl_redact_add(r, "abcd", 4); /* listed once */
    ASSERT_EQ(gl_redact_count(r), 2);
    expect(r, "\"xabcdefghy abcdz\"", "\"x[redacted]y [redacted]z\"");
    gl_redact_free(r);
}

TEST(short_values_only_whole)
{
    gl_redact_t *r = gl_redact_new();
    gl_redact_add(r, "ab1", 3);
    expect(r, "[\"ab1\", \"xab1y\", \"ab1ab1\"]", "[\"[redacted]\",\"xab1y\",\"ab1ab1\"]");
    expect(r, "{\"ab1\": \"v\", \"ab1x\": \"w\"}", "{\"[redacted]\":\"v\",\"ab1x\":\"w\"}");
    char text[64] = "ab1";
    ASSERT(gl_redact_text(r, text, sizeof text));
    ASSERT_STR_EQ(text, "[redacted]");
    char text2[64] = "xab1";
    ASSERT(!gl_redact_text(r, text2, sizeof text2));
    gl_redact_free(r);
}

TEST(url_encoded_form_too)
{
    gl_redact_t *r = gl_redact_new();
    gl_redact_add(r, "p@ss word/1", 11);
    ASSERT_EQ(gl_redact_count(r), 2);
    expect(r, "\"GET /x?key=p%40ss%20word%2F1&a=1\"", "\"GET /x?key=[redacted]&a=1\"");
    expect(r, "\"p@ss word/1\"", "\"[redacted]\"");
    gl_redact_free(r);
}

TEST(text_in_place_cut_whole)
{
    gl_redact_t *r = gl_redact_new();
    gl_redact_add(r, "tok", 3);
    gl_redact_add(r, "secret-token", 12);
    char msg[128] = "HTTP 401: secret-token refused (tok)";
    ASSERT(gl_redact_text(r, msg, sizeof msg));
    ASSERT_STR_EQ(msg, "HTTP 401: [redacted] refused (tok)");
    /* a result longer than the buffer is cut at a whole character */
    gl_redact_add(r, "abcd", 4);
    char small[12] = "abcd\xc3\xa9";
    ASSERT(gl_redact_text(r, small, sizeof small));
    ASSERT_STR_EQ(small, "[redacted]");
    char fits[13] = "abcd\xc3\xa9";
    ASSERT(gl_redact_text(r, fits, sizeof fits));
    ASSERT_STR_EQ(fits, "[redacted]\xc3\xa9");
    gl_redact_free(r);
}

TEST_MAIN()
