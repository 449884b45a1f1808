/*
 * fuzz_tzif.c: TZif files (gl_tz_parse) as untrusted bytes, then every
 * question the scheduler asks a zone: offsets at many instants, a walk
 * over its changes (strictly increasing), and a cron schedule's next fire
 * times in it.
 */
#include "cron.h"
#include "fuzz.h"
#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gl_tz_t *tz = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_tz_parse(data, size, &tz, &err);
    FUZZ_CHECK(rc == GL_OK || rc == GL_INVALID);
    if (rc != GL_OK) {
        FUZZ_CHECK(err.msg[0] && tz == NULL);
        return 0;
    }
    static const int64_t probes[] = { INT64_MIN / 4, -62135596800, -2208988800, 0, 1711846800, 1767225600,
                                      2147483647, 4102444800, 253402300799, INT64_MAX / 4 };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        bool dst;
        int32_t off = gl_tz_offset(tz, probes[i], &dst);
        FUZZ_CHECK(off >= -168 * 3600 && off <= 168 * 3600); /* TZif v3 footers reach 167 h */
    }
    int64_t t = -2208988800, when;
    for (int i = 0; i < 500 && gl_tz_next_change(tz, t, &when); i++) {
        FUZZ_CHECK(when > t);
        t = when;
    }
    static const char *const specs[] = { "30 2 * * *", "*/15 * * * *", "0 0 29 2 *" };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        gl_cron_t c;
        FUZZ_CHECK(gl_cron_parse(specs[i], &c, &err) == GL_OK);
        int64_t next;
        rc = gl_cron_next(&c, tz, 1767225600, &next);
        FUZZ_CHECK(rc == GL_NOTFOUND || (rc == GL_OK && next > 1767225600));
    }
    gl_tz_free(tz);
    return 0;
}
