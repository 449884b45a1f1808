/*
 * fuzz_json.c: the strict JSON checker (gl_json_check) and the parser
 * over it (gl_json_parse). Invariants: both agree; whatever the checker
 * accepts json-c builds; what json-c writes back is accepted again and is
 * as long as gl_json_rendered_len counts; a member's text found by
 * gl_json_member_text (on any input) reads as the member json-c built.
 */
#include "fuzz.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    gl_err_t err;
    gl_err_clear(&err);
    int checked = gl_json_check(text, size, 64, &err);
    FUZZ_CHECK(checked == GL_OK || checked == GL_INVALID || checked == GL_TOO_LARGE);
    FUZZ_CHECK(checked == GL_OK || err.msg[0]);

    /* any input: found only in valid JSON */
    const char *at = NULL;
    size_t n = 0, members = 0;
    bool found = gl_json_member_text(text, size, "a", 64, &at, &n, &members);
    FUZZ_CHECK(!found || checked == GL_OK);

    json_object *obj = NULL;
    gl_err_clear(&err);
    int parsed = gl_json_parse(text, size, 64, &obj, &err);
    FUZZ_CHECK(parsed == checked);
    if (parsed != GL_OK)
        return 0;
    size_t len = 0;
    const char *again = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
    gl_err_clear(&err);
    /* json-c writes no deeper than it read, so one spare level suffices */
    FUZZ_CHECK(gl_json_check(again, len, 65, &err) == GL_OK);
    FUZZ_CHECK(gl_json_rendered_len(obj) == len);
    if (found) {
        json_object *part = NULL;
        FUZZ_CHECK(at >= text && at + n <= text + size);
        FUZZ_CHECK(gl_json_parse(at, n, 64, &part, &err) == GL_OK);
        FUZZ_CHECK(json_object_equal(json_object_object_get(obj, "a"), part));
        FUZZ_CHECK(members >= gl_json_members(part)); /* more only when a name repeats */
        json_object_put(part);
    }
    json_object_put(obj);
    return 0;
}
