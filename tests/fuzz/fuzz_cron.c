/*
 * fuzz_cron.c: cron schedules (gl_cron_parse) and their next fire times
 * (gl_cron_next) in UTC and in two zones with daylight saving. The input is
 * the spec, then optionally a NUL and 8 bytes of `after` (unix seconds).
 * Invariants: a parsed schedule has at least one bit in every field, and
 * a fire time lies strictly after `after`, within the horizon, on a
 * minute (or at the transition that ends a gap, cron.h).
 */
#include "cron.h"
#include "fuzz.h"
#include "tz.h"

static gl_tz_t *zones[3];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    gl_err_t err;
    if (gl_tz_load("Europe/Berlin", &zones[1], &err) != GL_OK ||
        gl_tz_load("Australia/Lord_Howe", &zones[2], &err) != GL_OK)
        zones[1] = zones[2] = NULL; /* no zoneinfo: UTC only */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = fuzz_cstr(data, size);
    size_t slen = strlen(spec);
    int64_t after = 1767225600; /* 2026-01-01 */
    if (size >= slen + 1 + 8) {
        uint64_t u;
        memcpy(&u, data + slen + 1, 8);
        after = (int64_t)(u % (2 * 400000000000ULL)) - 400000000000LL;
    }
    gl_cron_t c;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_cron_parse(spec, &c, &err);
    FUZZ_CHECK(rc == GL_OK || rc == GL_INVALID);
    if (rc != GL_OK) {
        FUZZ_CHECK(err.msg[0]);
        free(spec);
        return 0;
    }
    FUZZ_CHECK(c.minutes && c.hours && c.mdays && c.months && c.wdays);
    for (int z = 0; z < 3; z++) {
        int64_t next = 0;
        rc = gl_cron_next(&c, zones[z], after, &next);
        FUZZ_CHECK(rc == GL_OK || rc == GL_NOTFOUND);
        if (rc != GL_OK)
            continue;
        FUZZ_CHECK(next > after);
        FUZZ_CHECK(next - after <= (int64_t)(GL_CRON_HORIZON_DAYS + 2) * 86400);
        /* on a minute, or (a match in a gap) the transition itself, which
         * is off the minute when it ends local mean time (Berlin, 1893) */
        int32_t off = gl_tz_offset(zones[z], next, NULL);
        FUZZ_CHECK((next + off) % 60 == 0 || next % 60 == 0 || gl_tz_offset(zones[z], next - 1, NULL) != off);
    }
    free(spec);
    return 0;
}
