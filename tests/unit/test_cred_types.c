/*
 * test_cred_types.c: the credential-type catalogue is well formed (names,
 * at least one secret per type but generic, system fields secret and not
 * required), serves as JSON, and gl_engine_cred_check keeps, refuses and
 * requires what the API promises.
 */
#include "gl_test.h"
#include "buf.h"
#include "engine.h"

#include <string.h>

static const char *const all_types[] = { "http.header", "http.bearer", "http.basic", "http.query",
                                         "webhook.hmac", "oauth2.code", "oauth2.client", "generic", NULL };

static int check(const char *type, const char *fields, const char *secrets, bool creating, const char *const *set,
                 gl_err_t *err)
{
    json_object *f = fields ? json_tokener_parse(fields) : NULL, *s = secrets ? json_tokener_parse(secrets) : NULL;
    gl_err_clear(err);
    int rc = gl_engine_cred_check(gl_engine_cred_type_find(type), f, s, creating, set, err);
    json_object_put(f);
    json_object_put(s);
    return rc;
}

TEST(catalogue_is_well_formed)
{
    for (int i = 0; all_types[i]; i++) {
        const gl_cred_type_t *t = gl_engine_cred_type_find(all_types[i]);
        ASSERT(t != NULL);
        ASSERT(t->display_name && t->description);
        int secrets = 0;
        for (int f = 0; f < GL_CRED_MAX_FIELDS && t->fields[f].name; f++) {
            const gl_cred_field_def_t *d = &t->fields[f];
            secrets += d->secret;
            if (d->system && (!d->secret || d->required))
                FAIL_AT("%s.%s: a system field is secret and not required", t->type, d->name);
        }
        if (!t->any_fields && secrets == 0)
            FAIL_AT("%s has no secret field", t->type);
    }
    ASSERT(gl_engine_cred_type_find("nope") == NULL);
    ASSERT(gl_engine_cred_type_find(NULL) == NULL);
    gl_buf_t b;
    gl_buf_init(&b, 1 << 20);
    ASSERT(gl_engine_cred_types_json(&b) == GL_OK);
    json_object *j = json_tokener_parse(b.data);
    ASSERT(j && json_object_is_type(j, json_type_array));
    ASSERT_EQ(json_object_array_length(j), 8);
    json_object_put(j);
    gl_buf_free(&b);
}

TEST(create_requires_and_refuses)
{
    gl_err_t err;
    ASSERT(check("http.bearer", NULL, "{\"token\":\"t\"}", true, NULL, &err) == GL_OK);
    ASSERT(check("http.bearer", NULL, NULL, true, NULL, &err) == GL_INVALID);
    ASSERT_STR_EQ(err.field, "secrets.token");
    ASSERT(check("http.bearer", NULL, "{\"token\":null}", true, NULL, &err) == GL_INVALID);
    ASSERT(check("http.bearer", "{\"token\":\"t\"}", NULL, true, NULL, &err) == GL_INVALID);
    ASSERT_STR_EQ(err.field, "fields.token");
    ASSERT(check("oauth2.code", "{\"auth_url\":\"https://a\",\"token_url\":\"https://t\",\"client_id\":\"c\"}",
                 "{\"refresh_token\":\"r\"}", true, NULL, &err) == GL_INVALID);
    ASSERT_STR_EQ(err.field, "secrets.refresh_token");
    ASSERT(check("oauth2.code", "{\"auth_url\":\"https://a\",\"token_url\":\"https://t\",\"client_id\":\"c\"}", NULL,
                 true, NULL, &err) == GL_OK);
    ASSERT(check("http.header", "{\"header_name\":\"X-Key\\r\\nX-Evil\"}", "{\"value\":\"v\"}", true, NULL, &err) ==
           GL_INVALID);
    ASSERT(check("http.query", "{\"param_name\":\"api_key\"}", "{\"value\":\"v\"}", true, NULL, &err) == GL_OK);
    ASSERT(check("generic", "{\"region\":\"eu\"}", "{\"any_name\":\"v\"}", true, NULL, &err) == GL_OK);
    ASSERT(check("generic", "{\"a\":\"eu\"}", "{\"a\":\"v\"}", true, NULL, &err) == GL_INVALID);
    ASSERT(check("generic", NULL, "{\"Not OK\":\"v\"}", true, NULL, &err) == GL_INVALID);
}

TEST(update_keeps_what_is_left_out)
{
    gl_err_t err;
    const char *const set[] = { "token", NULL }, *const none[] = { NULL };
    ASSERT(check("http.bearer", NULL, NULL, false, set, &err) == GL_OK);
    ASSERT(check("http.bearer", NULL, "{\"token\":null}", false, set, &err) == GL_INVALID);
    /* a required secret that was never set must come now */
    ASSERT(check("http.bearer", NULL, "{}", false, none, &err) == GL_INVALID);
    /* fields given replace the stored ones: required ones must be there */
    ASSERT(check("http.header", "{}", NULL, false, (const char *const[]){ "value", NULL }, &err) == GL_INVALID);
    ASSERT_STR_EQ(err.field, "fields.header_name");
    ASSERT(check("http.basic", NULL, "{\"password\":null}", false, (const char *const[]){ "password", NULL }, &err) ==
           GL_OK);
}

TEST_MAIN()
