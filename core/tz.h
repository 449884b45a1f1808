/*
 * tz.h: IANA time zones read straight from the TZif files under
 * /usr/share/zoneinfo, without touching the process's TZ variable or
 * libc's localtime state, so any thread may use any zone at any time.
 *
 * A loaded zone is immutable: share it freely between threads; free it once.
 * Times are unix seconds (UTC); an offset is what to add to get local time.
 */
#ifndef GL_TZ_H
#define GL_TZ_H

#include "gl.h"

typedef struct gl_tz gl_tz_t;

/* The longest zone name accepted ("America/Argentina/ComodRivadavia" is 32). */
#define GL_TZ_NAME_MAX 64

/*
 * Loads the zone `name` ("Europe/Berlin", "UTC", "Etc/GMT+5"). The name must
 * start with a capital letter and use only [A-Za-z0-9_+-/], with no "..",
 * "//" or trailing "/" — which also keeps out "posixrules", "right/..." and
 * anything outside the zoneinfo directory. "UTC" works without the file.
 * Returns GL_OK with *out set (the caller frees it with gl_tz_free), or
 * GL_INVALID with "unknown time zone 'X'" (no such zone) or "time zone 'X'
 * has a malformed zone file" in err.
 */
int gl_tz_load(const char *name, gl_tz_t **out, gl_err_t *err) GL_WUR;

/*
 * Builds a zone from the bytes of a TZif file (versions 1-4, slim or fat),
 * treating them as untrusted: every count and size is bounded. The data is
 * copied; the caller keeps it. Returns GL_OK with *out (freed with
 * gl_tz_free) or GL_INVALID with a message in err.
 */
int gl_tz_parse(const void *data, size_t len, gl_tz_t **out, gl_err_t *err) GL_WUR;

/* Frees a zone from gl_tz_load or gl_tz_parse; NULL is fine. */
void gl_tz_free(gl_tz_t *tz);

/* The zone's name as loaded ("UTC" for NULL; "" for gl_tz_parse zones). */
const char *gl_tz_name(const gl_tz_t *tz);

/*
 * UTC offset in seconds at unix time t (local = t + offset); *is_dst (may be
 * NULL) says whether daylight saving time is in effect. A NULL zone is UTC.
 */
int32_t gl_tz_offset(const gl_tz_t *tz, int64_t t, bool *is_dst);

/*
 * The first instant strictly after t at which the zone's offset or DST flag
 * may change, in *when; false when it never changes again. Lets callers
 * walk time in spans of constant offset instead of second by second.
 */
bool gl_tz_next_change(const gl_tz_t *tz, int64_t t, int64_t *when);

#endif
