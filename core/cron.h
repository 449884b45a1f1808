/*
 * cron.h: five-field cron schedules evaluated in an IANA time zone.
 *
 * Syntax: "minute hour day-of-month month day-of-week", fields separated by
 * spaces or tabs. Each field is a comma-separated list of
 *     *   n   a-b   * /s   a-b/s   n/s     (n/s means n-max/s)
 * Months may be JAN-DEC, days of week SUN-SAT (any case; in a range's end
 * SUN means 7, so FRI-SUN works); day-of-week takes 0-7, 0 and 7 both
 * Sunday. Macros standing alone: @yearly = @annually = "0 0 1 1 *",
 * @monthly = "0 0 1 * *", @weekly = "0 0 * * 0", @daily = @midnight =
 * "0 0 * * *", @hourly = "0 * * * *". At most GL_CRON_SPEC_MAX bytes.
 *
 * Day rule (Vixie cron's): a day-of-month or day-of-week field whose text
 * starts with '*' ("*", "* /2") is unrestricting. When neither starts with
 * '*', a day matches if EITHER field matches ("0 0 13 * 5": every 13th and
 * every Friday); otherwise both must.
 *
 * Daylight saving. A schedule names local wall-clock minutes; a minute M on
 * a given local date fires at an instant t with t + offset(t) = M, except:
 *
 *   Wall-clock schedules — the hour field does not cover all 24 hours
 *   ("30 2 * * *", "0 9-17 * * 1-5", "0 * /2 * * *"):
 *     - a local time that occurs twice (fall back) fires once, at its
 *       first occurrence (the daylight-time one);
 *     - a local time that does not exist (spring-forward gap) fires once at
 *       the first instant after the gap, i.e. at the transition itself
 *       (02:30 on 2026-03-29 in Europe/Berlin fires at 03:00 CEST, 01:00
 *       UTC); all the skipped times of one gap collapse into that firing.
 *     So each matching local date-and-time fires exactly once.
 *
 *   Elapsed-time schedules — the hour field covers all 24 hours ("*",
 *   "0-23", "* /1"; e.g. "* /15 * * * *", "5 * * * *"):
 *     - they fire at every real instant whose local time matches, so in the
 *       repeated hour of a fall back they fire in both passes;
 *     - minutes inside a gap do not exist and do not fire; the first
 *       matching minute after the gap fires normally.
 *
 * (Spaces in "* /2" above only keep this comment open.)
 */
#ifndef GL_CRON_H
#define GL_CRON_H

#include "gl.h"
#include "tz.h"

#define GL_CRON_SPEC_MAX 256

typedef struct {
    uint64_t minutes; /* bit m: minute m, 0-59 */
    uint32_t hours;   /* bit h: hour h, 0-23 */
    uint32_t mdays;   /* bit d: day of month d, 1-31 */
    uint16_t months;  /* bit m: month m, 1-12 */
    uint8_t wdays;    /* bit d: day of week d, 0-6, Sunday 0 */
    bool mday_any, wday_any; /* the field's text starts with '*' */
} gl_cron_t;

/*
 * Parses spec into *out (a plain value: nothing to free). Returns GL_OK, or
 * GL_INVALID with a message naming the field and the bad part in err
 * ("minute: 61 is out of range 0-59"); *out is untouched then.
 */
int gl_cron_parse(const char *spec, gl_cron_t *out, gl_err_t *err) GL_WUR;

/*
 * The first fire time strictly after `after` (unix seconds) in zone tz
 * (NULL means UTC), following the rules above, in *next. Returns GL_OK, or
 * GL_NOTFOUND when the schedule never fires within GL_CRON_HORIZON_DAYS
 * ("0 0 31 2 *") or `after` lies outside years 1-9000. The horizon is
 * nine years so that Feb 29 is found even across 2100, which is no leap
 * year. Work is bounded: the search jumps by month, day, hour and between
 * the zone's offset changes, never minute by minute.
 */
#define GL_CRON_HORIZON_DAYS (9 * 366)
int gl_cron_next(const gl_cron_t *c, const gl_tz_t *tz, int64_t after, int64_t *next) GL_WUR;

#endif
