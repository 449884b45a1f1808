/*
 * test_n8n_dates.c: n8n's dates, table-driven (issue 15, part "dates"):
 * Luxon's DateTime with real time zones, Duration, JavaScript's Date and
 * n8n's date extensions. "Now" is fixed at 2026-11-25T19:33:53.123Z (a
 * Wednesday); each table runs in one workflow zone (ctx.tz): UTC, then
 * America/New_York, then Europe/Berlin, with the DST changes of 2026
 * (US: March 8 and November 1; EU: March 29 and October 25).
 *
 * Every expected value was produced by the expression (or, for n8n's
 * extensions, the Luxon calls n8n makes for it, see
 * packages/workflow/src/extensions/date-extensions.ts) run under Node 20
 * with Luxon 3.7.2, Settings.now fixed, Settings.defaultZone and TZ set to
 * the table's zone, and JSON.stringify of the result. Localized texts of
 * DateTimes in UTC carry the narrow no-break space (U+202F, \342\200\257)
 * Luxon gets from formatToParts() before AM/PM; other zones and JS Dates
 * a plain space (V8's format()).
 * Rows expecting an error are Glyphic's documented differences or n8n's
 * own argument errors.
 */
#include "engine.h"
#include "expr_date_int.h"
#include "expr_int.h"
#include "gl_test.h"
#include "json.h"

typedef struct {
    const char *src;
    const char *want; /* JSON text of the result, or NULL when an error is expected */
    const char *err;  /* substring of err.msg */
} row_t;

#define OK(s, w) { s, w, NULL }
#define ERR(s, e) { s, NULL, e }

static const char *text(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
}

static void run(const row_t *rows, size_t n, const char *tz)
{
    gl_expr_ctx_t c;
    memset(&c, 0, sizeof c);
    c.now_ms = 1795635233123LL; /* 2026-11-25T19:33:53.123Z */
    c.tz = tz;
    json_object *item = json_tokener_parse("{\"date\":\"2026-01-31T10:00:00Z\",\"ts\":1700000000000}");
    c.json = item;
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        json_object *out = NULL, *want = NULL;
        gl_err_t err;
        gl_err_clear(&err);
        int rc = gl_expr_eval(r->src, &c, &out, &err);
        if (r->want) {
            want = json_tokener_parse(r->want);
            if (rc != GL_OK) {
                fprintf(stderr, "row %zu: %s\n  want %s\n  got error: %s\n", i, r->src, r->want,
                        err.msg);
                failures++;
            } else if (!json_object_equal(out, want)) {
                fprintf(stderr, "row %zu: %s\n  want %s\n  got  %s\n", i, r->src, r->want,
                        text(out));
                failures++;
            }
        } else if (rc != GL_INVALID || !strstr(err.msg, r->err)) {
            fprintf(stderr, "row %zu: %s\n  want error containing \"%s\"\n  got rc %d: %s %s\n",
                    i, r->src, r->err, rc, rc == GL_OK ? text(out) : "", err.msg);
            failures++;
        }
        json_object_put(want);
        json_object_put(out);
    }
    json_object_put(item);
    if (failures)
        FAIL_AT("%d of %zu rows failed (zone %s)", failures, n, tz ? tz : "UTC");
}

TEST(utc)
{
    static const row_t rows[] = {
        /* Luxon: toISO of a UTC DateTime ends in Z */
        OK("$now.toISO()",
           "\"2026-11-25T19:33:53.123Z\""),
        /* zoneName */
        OK("$now.zoneName",
           "\"UTC\""),
        /* offset in minutes */
        OK("$now.offset",
           "0"),
        /* n8n $today: start of today */
        OK("$today.toISO()",
           "\"2026-11-25T00:00:00.000Z\""),
        /* fromISO: an offset is converted to the default zone */
        OK("DateTime.fromISO('2026-03-01T12:30:00+02:00').toISO()",
           "\"2026-03-01T10:30:00.000Z\""),
        /* fromISO setZone keeps the parsed offset */
        OK("DateTime.fromISO('2026-03-01T12:30:00+02:00', {setZone: true}).toISO()",
           "\"2026-03-01T12:30:00.000+02:00\""),
        /* a fixed-offset zone's name */
        OK("DateTime.fromISO('2026-03-01T12:30:00+02:00', {setZone: true}).zoneName",
           "\"UTC+2\""),
        /* fromISO zone option (EDT) */
        OK("DateTime.fromISO('2026-07-01T12:00', {zone: 'America/New_York'}).toISO()",
           "\"2026-07-01T12:00:00.000-04:00\""),
        /* fromISO zone option (EST) */
        OK("DateTime.fromISO('2026-01-01T12:00', {zone: 'America/New_York'}).toMillis()",
           "1767286800000"),
        /* ISO week date */
        OK("DateTime.fromISO('2026-W48-3').toISODate()",
           "\"2026-11-25\""),
        /* ISO ordinal date */
        OK("DateTime.fromISO('2026-329').toISODate()",
           "\"2026-11-25\""),
        /* ISO basic format */
        OK("DateTime.fromISO('20261125T193353').toISO()",
           "\"2026-11-25T19:33:53.000Z\""),
        /* fractions past ms are truncated */
        OK("DateTime.fromISO('2026-11-25T19:33:53.123456Z').millisecond",
           "123"),
        /* fromISO wants the T */
        OK("DateTime.fromISO('2026-11-25 19:33').isValid",
           "false"),
        /* invalid DateTime */
        OK("DateTime.fromISO('garbage').isValid",
           "false"),
        /* toISO of an invalid DateTime is null */
        OK("DateTime.fromISO('garbage').toISO()",
           "null"),
        /* invalidReason */
        OK("DateTime.fromISO('garbage').invalidReason",
           "\"unparsable\""),
        /* unknown zone: invalid */
        OK("DateTime.fromISO('2026-01-01', {zone: 'Mars/Base'}).isValid",
           "false"),
        /* toFormat of an invalid DateTime */
        OK("DateTime.fromISO('garbage').toFormat('yyyy')",
           "\"Invalid DateTime\""),
        /* arithmetic keeps it invalid */
        OK("DateTime.fromISO('garbage').plus({days: 1}).isValid",
           "false"),
        /* fromMillis */
        OK("DateTime.fromMillis(0).toISO()",
           "\"1970-01-01T00:00:00.000Z\""),
        /* fromMillis zone option */
        OK("DateTime.fromMillis(0, {zone: 'Asia/Tokyo'}).toISO()",
           "\"1970-01-01T09:00:00.000+09:00\""),
        /* fromSeconds */
        OK("DateTime.fromSeconds(1700000000).toISO()",
           "\"2023-11-14T22:13:20.000Z\""),
        /* fromObject */
        OK("DateTime.fromObject({year: 2024, month: 2, day: 29}).toISO()",
           "\"2024-02-29T00:00:00.000Z\""),
        /* fromObject: larger units from today */
        OK("DateTime.fromObject({hour: 9}).toISO()",
           "\"2026-11-25T09:00:00.000Z\""),
        /* fromObject in a DST gap moves forward */
        OK("DateTime.fromObject({year: 2026, month: 3, day: 8, hour: 2, minute: 30}, {zone: 'America/New_York'}).toISO()",
           "\"2026-03-08T03:30:00.000-04:00\""),
        /* fromObject: no February 30th */
        OK("DateTime.fromObject({year: 2026, month: 2, day: 30}).isValid",
           "false"),
        /* fromSQL */
        OK("DateTime.fromSQL('2017-05-15 09:24:15').toISO()",
           "\"2017-05-15T09:24:15.000Z\""),
        /* fromSQL date only */
        OK("DateTime.fromSQL('2017-05-15').toISO()",
           "\"2017-05-15T00:00:00.000Z\""),
        /* fromSQL with an offset */
        OK("DateTime.fromSQL('2017-05-15 09:24:15.123 +04:00').toISO()",
           "\"2017-05-15T05:24:15.123Z\""),
        /* fromHTTP RFC 1123 */
        OK("DateTime.fromHTTP('Sun, 06 Nov 1994 08:49:37 GMT').toISO()",
           "\"1994-11-06T08:49:37.000Z\""),
        /* fromHTTP RFC 850 */
        OK("DateTime.fromHTTP('Sunday, 06-Nov-94 08:49:37 GMT').toISO()",
           "\"1994-11-06T08:49:37.000Z\""),
        /* fromHTTP asctime */
        OK("DateTime.fromHTTP('Sun Nov  6 08:49:37 1994').toISO()",
           "\"1994-11-06T08:49:37.000Z\""),
        /* fromRFC2822 */
        OK("DateTime.fromRFC2822('Tue, 01 Nov 2016 13:23:12 +0630').toISO()",
           "\"2016-11-01T06:53:12.000Z\""),
        /* fromRFC2822 without weekday and seconds */
        OK("DateTime.fromRFC2822('01 Nov 2016 13:23 EST').toISO()",
           "\"2016-11-01T18:23:00.000Z\""),
        /* fromRFC2822 setZone */
        OK("DateTime.fromRFC2822('Tue, 01 Nov 2016 13:23:12 +0630', {setZone: true}).toISO()",
           "\"2016-11-01T13:23:12.000+06:30\""),
        /* fromFormat */
        OK("DateTime.fromFormat('25/11/2026', 'dd/MM/yyyy').toISO()",
           "\"2026-11-25T00:00:00.000Z\""),
        /* fromFormat month name */
        OK("DateTime.fromFormat('May 25, 1982', 'MMMM dd, yyyy').toISODate()",
           "\"1982-05-25\""),
        /* fromFormat 12-hour clock */
        OK("DateTime.fromFormat('Nov 5 2026 3:04 PM', 'MMM d yyyy h:mm a').toISO()",
           "\"2026-11-05T15:04:00.000Z\""),
        /* fromFormat milliseconds */
        OK("DateTime.fromFormat('2026-11-25 19:33:53.123', 'yyyy-MM-dd HH:mm:ss.SSS').toMillis()",
           "1795635233123"),
        /* fromFormat two-digit year */
        OK("DateTime.fromFormat('25.11.26', 'dd.MM.yy').toISODate()",
           "\"2026-11-25\""),
        /* two-digit years after 60 are 19xx */
        OK("DateTime.fromFormat('1/2/70', 'M/d/yy').toISODate()",
           "\"1970-01-02\""),
        /* fromFormat weekday name */
        OK("DateTime.fromFormat('Wednesday, 25 November 2026', 'EEEE, d MMMM yyyy').toISODate()",
           "\"2026-11-25\""),
        /* mismatched weekday: invalid */
        OK("DateTime.fromFormat('Tuesday, 25 November 2026', 'EEEE, d MMMM yyyy').isValid",
           "false"),
        /* fromFormat offset */
        OK("DateTime.fromFormat('2026-11-25T10:00:00+05:30', \"yyyy-MM-dd'T'HH:mm:ssZZ\").toISO()",
           "\"2026-11-25T04:30:00.000Z\""),
        /* fromFormat offset setZone */
        OK("DateTime.fromFormat('2026-11-25T10:00:00+05:30', \"yyyy-MM-dd'T'HH:mm:ssZZ\", {setZone: true}).toISO()",
           "\"2026-11-25T10:00:00.000+05:30\""),
        /* fromFormat ordinal */
        OK("DateTime.fromFormat('2026 329', 'yyyy ooo').toISODate()",
           "\"2026-11-25\""),
        /* out-of-range fields: invalid */
        OK("DateTime.fromFormat('13/45/2026', 'MM/dd/yyyy').isValid",
           "false"),
        /* missing smaller units are their minimum */
        OK("DateTime.fromFormat('2026-11', 'yyyy-MM').toISO()",
           "\"2026-11-01T00:00:00.000Z\""),
        /* unparsable: invalid */
        OK("DateTime.fromFormat('nope', 'yyyy').isValid",
           "false"),
        /* fromFormat zone option */
        OK("DateTime.fromFormat('2026-11-25', 'yyyy-MM-dd', {zone: 'Europe/Berlin'}).toISO()",
           "\"2026-11-25T00:00:00.000+01:00\""),
        /* fromFormat z token */
        OK("DateTime.fromFormat('10:00 Europe/Berlin', 'HH:mm z', {setZone: true}).toISO()",
           "\"2026-11-25T10:00:00.000+01:00\""),
        /* fromFormat time only: today */
        OK("DateTime.fromFormat('14:30', 'HH:mm').toISO()",
           "\"2026-11-25T14:30:00.000Z\""),
        /* fromFormat without year: this year */
        OK("DateTime.fromFormat('11-05', 'MM-dd').toISO()",
           "\"2026-11-05T00:00:00.000Z\""),
        /* fromFormat year only */
        OK("DateTime.fromFormat('2025', 'yyyy').toISO()",
           "\"2025-01-01T00:00:00.000Z\""),
        /* 12 pm is noon */
        OK("DateTime.fromFormat('12 pm', 'h a').hour",
           "12"),
        /* 12 AM is midnight */
        OK("DateTime.fromFormat('12 AM', 'h a').hour",
           "0"),
        /* fromFormat quarter */
        OK("DateTime.fromFormat('Q3 2026', \"'Q'q yyyy\").toISODate()",
           "\"2026-07-01\""),
        /* toFormat */
        OK("$now.toFormat('yyyy-MM-dd HH:mm:ss.SSS ZZ')",
           "\"2026-11-25 19:33:53.123 +00:00\""),
        /* toFormat offsets and zone */
        OK("$now.toFormat('ZZZ z Z')",
           "\"+0000 UTC +0\""),
        /* toFormat names */
        OK("$now.toFormat('EEE, d MMM yyyy')",
           "\"Wed, 25 Nov 2026\""),
        /* toFormat quarter, ordinal, week year, week */
        OK("$now.toFormat('q o kkkk WW')",
           "\"4 329 2026 48\""),
        /* toFormat quoted literals */
        OK("$now.toFormat(\"'Week' W 'of' kkkk\")",
           "\"Week 48 of 2026\""),
        /* toFormat epoch */
        OK("$now.toFormat('x X')",
           "\"1795635233123 1795635233\""),
        /* toFormat 12-hour */
        OK("$now.toFormat('h:mm a')",
           "\"7:33 PM\""),
        /* toFormat narrow names */
        OK("$now.toFormat('MMMMM EEEEE')",
           "\"N W\""),
        /* macro D */
        OK("$now.toFormat('D')",
           "\"11/25/2026\""),
        /* macro DD */
        OK("$now.toFormat('DD')",
           "\"Nov 25, 2026\""),
        /* macro DDD */
        OK("$now.toFormat('DDD')",
           "\"November 25, 2026\""),
        /* macro DDDD */
        OK("$now.toFormat('DDDD')",
           "\"Wednesday, November 25, 2026\""),
        /* macro t */
        OK("$now.toFormat('t')",
           "\"7:33\342\200\257PM\""),
        /* macro tt */
        OK("$now.toFormat('tt')",
           "\"7:33:53\342\200\257PM\""),
        /* macro T */
        OK("$now.toFormat('T')",
           "\"19:33\""),
        /* macro TT */
        OK("$now.toFormat('TT')",
           "\"19:33:53\""),
        /* macro f */
        OK("$now.toFormat('f')",
           "\"11/25/2026, 7:33\342\200\257PM\""),
        /* macro ff */
        OK("$now.toFormat('ff')",
           "\"Nov 25, 2026, 7:33\342\200\257PM\""),
        /* macro fff */
        OK("$now.toFormat('fff')",
           "\"November 25, 2026 at 7:33\342\200\257PM UTC\""),
        /* macro F */
        OK("$now.toFormat('F')",
           "\"11/25/2026, 7:33:53\342\200\257PM\""),
        /* toLocaleString: DATE_SHORT by default */
        OK("$now.toLocaleString()",
           "\"11/25/2026\""),
        /* DATE_MED */
        OK("$now.toLocaleString(DateTime.DATE_MED)",
           "\"Nov 25, 2026\""),
        /* DATE_MED_WITH_WEEKDAY */
        OK("$now.toLocaleString(DateTime.DATE_MED_WITH_WEEKDAY)",
           "\"Wed, Nov 25, 2026\""),
        /* DATE_FULL */
        OK("$now.toLocaleString(DateTime.DATE_FULL)",
           "\"November 25, 2026\""),
        /* DATE_HUGE */
        OK("$now.toLocaleString(DateTime.DATE_HUGE)",
           "\"Wednesday, November 25, 2026\""),
        /* TIME_SIMPLE */
        OK("$now.toLocaleString(DateTime.TIME_SIMPLE)",
           "\"7:33\342\200\257PM\""),
        /* TIME_WITH_SECONDS */
        OK("$now.toLocaleString(DateTime.TIME_WITH_SECONDS)",
           "\"7:33:53\342\200\257PM\""),
        /* TIME_WITH_SHORT_OFFSET */
        OK("$now.toLocaleString(DateTime.TIME_WITH_SHORT_OFFSET)",
           "\"7:33:53\342\200\257PM UTC\""),
        /* TIME_24_SIMPLE */
        OK("$now.toLocaleString(DateTime.TIME_24_SIMPLE)",
           "\"19:33\""),
        /* TIME_24_WITH_SECONDS */
        OK("$now.toLocaleString(DateTime.TIME_24_WITH_SECONDS)",
           "\"19:33:53\""),
        /* DATETIME_SHORT */
        OK("$now.toLocaleString(DateTime.DATETIME_SHORT)",
           "\"11/25/2026, 7:33\342\200\257PM\""),
        /* DATETIME_MED */
        OK("$now.toLocaleString(DateTime.DATETIME_MED)",
           "\"Nov 25, 2026, 7:33\342\200\257PM\""),
        /* DATETIME_MED_WITH_WEEKDAY */
        OK("$now.toLocaleString(DateTime.DATETIME_MED_WITH_WEEKDAY)",
           "\"Wed, Nov 25, 2026, 7:33\342\200\257PM\""),
        /* DATETIME_FULL */
        OK("$now.toLocaleString(DateTime.DATETIME_FULL)",
           "\"November 25, 2026 at 7:33\342\200\257PM UTC\""),
        /* DATETIME_HUGE */
        OK("$now.toLocaleString(DateTime.DATETIME_HUGE)",
           "\"Wednesday, November 25, 2026 at 7:33\342\200\257PM UTC\""),
        /* DATETIME_SHORT_WITH_SECONDS */
        OK("$now.toLocaleString(DateTime.DATETIME_SHORT_WITH_SECONDS)",
           "\"11/25/2026, 7:33:53\342\200\257PM\""),
        /* DATETIME_MED_WITH_SECONDS */
        OK("$now.toLocaleString(DateTime.DATETIME_MED_WITH_SECONDS)",
           "\"Nov 25, 2026, 7:33:53\342\200\257PM\""),
        /* Intl options */
        OK("$now.toLocaleString({month: 'long', day: 'numeric'})",
           "\"November 25\""),
        /* Intl options: weekday */
        OK("$now.toLocaleString({weekday: 'long'})",
           "\"Wednesday\""),
        /* Glyphic: en-US only */
        ERR("$now.toLocaleString(DateTime.DATE_MED, {locale: 'fr'})", "only the en-US locale"),
        /* getters */
        OK("[$now.year, $now.month, $now.day, $now.hour, $now.minute, $now.second, $now.millisecond]",
           "[2026,11,25,19,33,53,123]"),
        /* calendar getters */
        OK("[$now.weekday, $now.weekNumber, $now.ordinal, $now.daysInMonth, $now.quarter, $now.daysInYear]",
           "[3,48,329,30,4,365]"),
        /* isInLeapYear */
        OK("[$now.isInLeapYear, DateTime.fromISO('2024-06-01').isInLeapYear]",
           "[false,true]"),
        /* English names */
        OK("[$now.monthLong, $now.monthShort, $now.weekdayLong, $now.weekdayShort]",
           "[\"November\",\"Nov\",\"Wednesday\",\"Wed\"]"),
        /* zone getters */
        OK("[$now.isOffsetFixed, $now.isInDST, $now.offsetNameShort]",
           "[true,false,\"UTC\"]"),
        /* toObject */
        OK("$now.toObject()",
           "{\"year\":2026,\"month\":11,\"day\":25,\"hour\":19,\"minute\":33,\"second\":53,\"millisecond\":123}"),
        /* get */
        OK("$now.get('hour')",
           "19"),
        /* plus object */
        OK("$now.plus({days: 1, hours: 2}).toISO()",
           "\"2026-11-26T21:33:53.123Z\""),
        /* plus months and days */
        OK("$now.plus({months: 1, days: 10}).toISO()",
           "\"2027-01-04T19:33:53.123Z\""),
        /* minus years */
        OK("$now.minus({years: 1}).toISODate()",
           "\"2025-11-25\""),
        /* plus weeks */
        OK("$now.plus({weeks: 2}).toISODate()",
           "\"2026-12-09\""),
        /* plus quarters */
        OK("$now.plus({quarters: 1}).toISODate()",
           "\"2027-02-25\""),
        /* leap day plus a year */
        OK("DateTime.fromISO('2024-02-29').plus({years: 1}).toISODate()",
           "\"2025-02-28\""),
        /* month end clamps */
        OK("DateTime.fromISO('2026-01-31').plus({months: 1}).toISODate()",
           "\"2026-02-28\""),
        /* plus a number: milliseconds */
        OK("$now.plus(3600000).toISO()",
           "\"2026-11-25T20:33:53.123Z\""),
        /* fractional days */
        OK("$now.plus({days: 1.5}).toISO()",
           "\"2026-11-27T07:33:53.123Z\""),
        /* startOf week: Monday */
        OK("$now.startOf('week').toISO()",
           "\"2026-11-23T00:00:00.000Z\""),
        /* endOf week */
        OK("$now.endOf('week').toISO()",
           "\"2026-11-29T23:59:59.999Z\""),
        /* startOf quarter */
        OK("$now.startOf('quarter').toISO()",
           "\"2026-10-01T00:00:00.000Z\""),
        /* endOf year */
        OK("$now.endOf('year').toISO()",
           "\"2026-12-31T23:59:59.999Z\""),
        /* startOf minute */
        OK("$now.startOf('minute').toISO()",
           "\"2026-11-25T19:33:00.000Z\""),
        /* endOf hour */
        OK("$now.endOf('hour').toISO()",
           "\"2026-11-25T19:59:59.999Z\""),
        /* set */
        OK("$now.set({hour: 9, minute: 0}).toISO()",
           "\"2026-11-25T09:00:53.123Z\""),
        /* set clamps the day */
        OK("DateTime.fromISO('2026-01-31').set({month: 2}).toISODate()",
           "\"2026-02-28\""),
        /* set weekday */
        OK("$now.set({weekday: 1}).toISODate()",
           "\"2026-11-23\""),
        /* set day and month */
        OK("$now.set({day: 31, month: 12}).toISODate()",
           "\"2026-12-31\""),
        /* setZone */
        OK("$now.setZone('America/New_York').toISO()",
           "\"2026-11-25T14:33:53.123-05:00\""),
        /* setZone half-hour offset */
        OK("$now.setZone('Asia/Kolkata').toFormat('HH:mm ZZ')",
           "\"01:03 +05:30\""),
        /* setZone fixed offset */
        OK("$now.setZone('UTC+3').toISO()",
           "\"2026-11-25T22:33:53.123+03:00\""),
        /* setZone keepLocalTime */
        OK("$now.setZone('America/New_York', {keepLocalTime: true}).toISO()",
           "\"2026-11-25T19:33:53.123-05:00\""),
        /* setZone unknown zone: invalid */
        OK("$now.setZone('Nowhere/Land').isValid",
           "false"),
        /* toUTC */
        OK("$now.setZone('America/New_York').toUTC().toISO()",
           "\"2026-11-25T19:33:53.123Z\""),
        /* zoneName and offset */
        OK("[$now.setZone('Europe/Berlin').zoneName, $now.setZone('Europe/Berlin').offset]",
           "[\"Europe/Berlin\",60]"),
        /* toUTC with an offset */
        OK("$now.toUTC(60).toISO()",
           "\"2026-11-25T20:33:53.123+01:00\""),
        /* en-US short zone name outside the US */
        OK("$now.setZone('Europe/London').toFormat('ZZZZ')",
           "\"GMT\""),
        /* diff days */
        OK("DateTime.fromISO('2026-03-01').diff(DateTime.fromISO('2026-01-01'), 'days').days",
           "59"),
        /* diff months and days */
        OK("DateTime.fromISO('2026-03-01').diff(DateTime.fromISO('2026-01-01'), ['months', 'days']).toObject()",
           "{\"months\":2,\"days\":0}"),
        /* negative diff */
        OK("DateTime.fromISO('2026-01-01').diff(DateTime.fromISO('2026-03-15T12:00'), ['months', 'days', 'hours']).toObject()",
           "{\"months\":-2,\"days\":-14,\"hours\":-12}"),
        /* diff default: milliseconds */
        OK("DateTime.fromISO('2026-03-01').diff(DateTime.fromISO('2026-01-01')).toObject()",
           "{\"milliseconds\":5097600000}"),
        /* diff weeks with a fraction */
        OK("DateTime.fromISO('2026-03-01').diff(DateTime.fromISO('2026-01-01'), 'weeks').weeks",
           "8.428571428571429"),
        /* Duration as() */
        OK("$now.diff(DateTime.fromISO('2026-01-01'), 'months').as('days')",
           "324.8151981828704"),
        /* diff years */
        OK("$now.diff(DateTime.fromISO('2000-02-29'), 'years').years",
           "26.741959447076358"),
        /* Duration toISO */
        OK("$now.diff(DateTime.fromISO('2026-11-25T00:00:00Z'), 'hours').toISO()",
           "\"PT19.56475638888889H\""),
        /* Duration toHuman */
        OK("DateTime.fromISO('2026-11-26T02:00:00Z').diff(DateTime.fromISO('2026-11-25T00:00:00Z'), ['days', 'hours']).toHuman()",
           "\"1 day, 2 hours\""),
        /* a Duration in JSON is its ISO text */
        OK("$now.diff(DateTime.fromISO('2026-11-26T02:00:00Z'), ['days', 'hours'])",
           "\"PT-6.435243611111111H\""),
        /* diffNow */
        OK("$now.diffNow().milliseconds",
           "0"),
        /* diffNow days */
        OK("DateTime.fromISO('2026-11-20T19:33:53.123Z').diffNow('days').days",
           "-5"),
        /* as days */
        OK("$now.diff($now.minus({hours: 36}), 'hours').as('days')",
           "1.5"),
        /* shiftTo */
        OK("$now.diff($now.minus({hours: 36}), 'hours').shiftTo('days', 'hours').toObject()",
           "{\"days\":1,\"hours\":12}"),
        /* comparison via valueOf */
        OK("$now > DateTime.fromISO('2026-01-01')",
           "true"),
        /* subtraction via valueOf */
        OK("$now - DateTime.fromISO('2026-11-25T00:00:00Z')",
           "70433123"),
        /* equals needs the same zone */
        OK("[$now.equals($now), $now.equals($now.setZone('Europe/Berlin'))]",
           "[true,false]"),
        /* hasSame */
        OK("[$now.hasSame(DateTime.fromISO('2026-11-01'), 'month'), $now.hasSame(DateTime.fromISO('2026-11-01'), 'day')]",
           "[true,false]"),
        /* unary plus */
        OK("+$now",
           "1795635233123"),
        /* toRelative past */
        OK("$now.minus({days: 3}).toRelative()",
           "\"3 days ago\""),
        /* toRelative future */
        OK("$now.plus({hours: 2}).toRelative()",
           "\"in 2 hours\""),
        /* toRelative largest unit */
        OK("$now.minus({months: 14}).toRelative()",
           "\"1 year ago\""),
        /* toRelative unit */
        OK("$now.plus({days: 1}).toRelative({unit: 'hours'})",
           "\"in 24 hours\""),
        /* toISODate */
        OK("$now.toISODate()",
           "\"2026-11-25\""),
        /* toISOTime */
        OK("$now.toISOTime()",
           "\"19:33:53.123Z\""),
        /* toISOWeekDate */
        OK("$now.toISOWeekDate()",
           "\"2026-W48-3\""),
        /* toSQL */
        OK("$now.toSQL()",
           "\"2026-11-25 19:33:53.123 Z\""),
        /* toSQLDate */
        OK("$now.toSQLDate()",
           "\"2026-11-25\""),
        /* toSQLTime */
        OK("$now.toSQLTime()",
           "\"19:33:53.123 Z\""),
        /* toHTTP */
        OK("$now.toHTTP()",
           "\"Wed, 25 Nov 2026 19:33:53 GMT\""),
        /* toRFC2822 */
        OK("$now.toRFC2822()",
           "\"Wed, 25 Nov 2026 19:33:53 +0000\""),
        /* seconds */
        OK("[$now.toSeconds(), $now.toUnixInteger()]",
           "[1795635233.123,1795635233]"),
        /* toISO suppressMilliseconds */
        OK("$now.startOf('second').toISO({suppressMilliseconds: true})",
           "\"2026-11-25T19:33:53Z\""),
        /* toISO includeOffset false */
        OK("$now.toISO({includeOffset: false})",
           "\"2026-11-25T19:33:53.123\""),
        /* toJSDate */
        OK("$now.toJSDate().toISOString()",
           "\"2026-11-25T19:33:53.123Z\""),
        /* isDateTime */
        OK("[DateTime.isDateTime($now), DateTime.isDateTime(new Date(0))]",
           "[true,false]"),
        /* toString is toISO */
        OK("String($now)",
           "\"2026-11-25T19:33:53.123Z\""),
        /* local */
        OK("DateTime.local(2026, 5, 1, 12).toISO()",
           "\"2026-05-01T12:00:00.000Z\""),
        /* utc */
        OK("DateTime.utc(2026, 5, 1, 12, 30).toISO()",
           "\"2026-05-01T12:30:00.000Z\""),
        /* local() is now */
        OK("DateTime.local().toISO()",
           "\"2026-11-25T19:33:53.123Z\""),
        /* local with a zone option */
        OK("DateTime.local(2026, 5, 1, {zone: 'Asia/Tokyo'}).toISO()",
           "\"2026-05-01T00:00:00.000+09:00\""),
        /* fromJSDate */
        OK("DateTime.fromJSDate(new Date(0)).toISO()",
           "\"1970-01-01T00:00:00.000Z\""),
        /* n8n plus(n, unit) */
        OK("$now.plus(7, 'days').toISO()",
           "\"2026-12-02T19:33:53.123Z\""),
        /* n8n minus(n, unit) */
        OK("$now.minus(4, 'years').toISODate()",
           "\"2022-11-25\""),
        /* n8n unit alias min */
        OK("$now.plus(30, 'min').toISO()",
           "\"2026-11-25T20:03:53.123Z\""),
        /* n8n unit alias hrs */
        OK("$now.plus(2, 'hrs').toISO()",
           "\"2026-11-25T21:33:53.123Z\""),
        /* n8n beginningOf */
        OK("$now.beginningOf('month').toISO()",
           "\"2026-11-01T00:00:00.000Z\""),
        /* n8n beginningOf: week by default */
        OK("$now.beginningOf().toISO()",
           "\"2026-11-23T00:00:00.000Z\""),
        /* n8n endOfMonth */
        OK("$now.endOfMonth().toISO()",
           "\"2026-11-30T23:59:59.999Z\""),
        /* n8n extract */
        OK("[$now.extract('month'), $now.extract(), $now.extract('yearDayNumber'), $now.extract('hour')]",
           "[11,48,329,19]"),
        /* n8n format */
        OK("$now.format('dd/LL/yyyy')",
           "\"25/11/2026\""),
        /* n8n format with literals */
        OK("$now.format(\"HH 'hours and' mm 'minutes'\")",
           "\"19 hours and 33 minutes\""),
        /* n8n isBetween: either order */
        OK("[$now.isBetween('2026-01-01', '2027-01-01'), $now.isBetween('2027-01-01', '2026-01-01'), $now.isBetween('2020', '2025')]",
           "[true,true,false]"),
        /* n8n isBetween: undefined when a bound is not a date */
        OK("$now.isBetween('x', '2027')",
           "null"),
        /* n8n isBetween argument rule */
        ERR("$now.isBetween('2020')", "expected exactly two args"),
        /* n8n isDst, isWeekend */
        OK("[$now.isDst(), $now.isWeekend(), $now.plus(3, 'days').isWeekend()]",
           "[false,false,true]"),
        /* n8n isInLast */
        OK("[$now.minus(5, 'minutes').isInLast(10), $now.minus(2, 'hours').isInLast(1, 'hours'), $now.minus(2, 'days').isInLast(3, 'days')]",
           "[true,false,true]"),
        /* n8n diffTo */
        OK("$now.diffTo('2026-01-01', 'days')",
           "328.81519818287035"),
        /* n8n diffTo docs example */
        OK("DateTime.fromISO('2025-01-01').diffTo('2024-03-30T18:49:07.234', 'days')",
           "276.2158884953704"),
        /* n8n diffTo several units: an object */
        OK("DateTime.fromISO('2025-01-01').diffTo(DateTime.fromISO('2024-03-30T18:49:07.234'), ['months', 'days'])",
           "{\"months\":9,\"days\":1.2158884953703704}"),
        /* n8n diffTo: days by default */
        OK("$now.diffTo('2026-11-24T19:33:53.123Z')",
           "1"),
        /* n8n diffToNow */
        OK("$now.diffToNow('hours')",
           "0"),
        /* n8n diffTo unit rule */
        ERR("$now.diffTo('2026-01-01', 'fortnights')", "unknown unit"),
        /* n8n toInt, toFloat, toBoolean, isEmpty */
        OK("[$now.toInt(), $now.toFloat(), $now.toBoolean(), $now.isEmpty(), $now.isNotEmpty()]",
           "[1795635233123,1795635233123,null,false,true]"),
        /* n8n toDateTime on a DateTime */
        OK("$now.toDateTime().toISO()",
           "\"2026-11-25T19:33:53.123Z\""),
        /* JS new Date(ms) */
        OK("new Date(0).toISOString()",
           "\"1970-01-01T00:00:00.000Z\""),
        /* JS: a date-only ISO string is UTC */
        OK("new Date('2026-11-25').toISOString()",
           "\"2026-11-25T00:00:00.000Z\""),
        /* JS: a date-time without offset is local */
        OK("new Date('2026-11-25T10:00').toISOString()",
           "\"2026-11-25T10:00:00.000Z\""),
        /* JS new Date(y, m, d) */
        OK("new Date(2026, 0, 31).toISOString()",
           "\"2026-01-31T00:00:00.000Z\""),
        /* JS: fields overflow */
        OK("new Date(2026, 0, 31, 25, 61).toISOString()",
           "\"2026-02-01T02:01:00.000Z\""),
        /* JS: years 0-99 are 19xx */
        OK("new Date(99, 0).getFullYear()",
           "1999"),
        /* JS new Date() is now */
        OK("new Date().getTime()",
           "1795635233123"),
        /* JS Date.now() */
        OK("Date.now()",
           "1795635233123"),
        /* JS Date.parse */
        OK("Date.parse('2026-11-25T19:33:53.123Z')",
           "1795635233123"),
        /* JS Date.UTC */
        OK("Date.UTC(2026, 10, 25)",
           "1795564800000"),
        /* JS getters */
        OK("[new Date(1795635233123).getFullYear(), new Date(1795635233123).getMonth(), new Date(1795635233123).getDate(), new Date(1795635233123).getDay(), new Date(1795635233123).getHours(), new Date(1795635233123).getMinutes(), new Date(1795635233123).getSeconds(), new Date(1795635233123).getMilliseconds()]",
           "[2026,10,25,3,19,33,53,123]"),
        /* JS toString */
        OK("new Date(1795635233123).toString()",
           "\"Wed Nov 25 2026 19:33:53 GMT+0000 (Coordinated Universal Time)\""),
        /* JS toDateString */
        OK("new Date(1795635233123).toDateString()",
           "\"Wed Nov 25 2026\""),
        /* JS toTimeString */
        OK("new Date(1795635233123).toTimeString()",
           "\"19:33:53 GMT+0000 (Coordinated Universal Time)\""),
        /* JS toUTCString */
        OK("new Date(1795635233123).toUTCString()",
           "\"Wed, 25 Nov 2026 19:33:53 GMT\""),
        /* JS toLocaleDateString */
        OK("new Date(1795635233123).toLocaleDateString()",
           "\"11/25/2026\""),
        /* JS toLocaleTimeString */
        OK("new Date(1795635233123).toLocaleTimeString()",
           "\"7:33:53 PM\""),
        /* JS toLocaleString */
        OK("new Date(1795635233123).toLocaleString()",
           "\"11/25/2026, 7:33:53 PM\""),
        /* JS toLocaleDateString options */
        OK("new Date(1795635233123).toLocaleDateString('en-US', {month: 'long', day: 'numeric', year: 'numeric'})",
           "\"November 25, 2026\""),
        /* JS toLocaleString timeZone */
        OK("new Date(1795635233123).toLocaleString('en-US', {timeZone: 'America/New_York'})",
           "\"11/25/2026, 2:33:53 PM\""),
        /* Glyphic: en-US only */
        ERR("new Date(1795635233123).toLocaleDateString('de-DE')", "only the en-US locale"),
        /* JS Invalid Date */
        OK("[new Date('garbage').getTime(), String(new Date('garbage')), new Date('x').toJSON()]",
           "[null,\"Invalid Date\",null]"),
        /* JS RangeError */
        ERR("new Date('x').toISOString()", "Invalid time value"),
        /* JSON of a JS Date: toISOString */
        OK("new Date(1795635233123)",
           "\"2026-11-25T19:33:53.123Z\""),
        /* JSON.stringify of a Date */
        OK("JSON.stringify({d: new Date(0)})",
           "\"{\\\"d\\\":\\\"1970-01-01T00:00:00.000Z\\\"}\""),
        /* JS legacy text */
        OK("new Date('Nov 25, 2026 10:00:00').toISOString()",
           "\"2026-11-25T10:00:00.000Z\""),
        /* JS y/m/d text */
        OK("new Date('2026/11/25').toISOString()",
           "\"2026-11-25T00:00:00.000Z\""),
        /* JS RFC 1123 text */
        OK("new Date('Wed, 25 Nov 2026 19:33:53 GMT').toISOString()",
           "\"2026-11-25T19:33:53.000Z\""),
        /* JS getTimezoneOffset */
        OK("new Date(0).getTimezoneOffset()",
           "0"),
        /* JS setHours returns the time value */
        OK("new Date(1795635233123).setHours(0, 0, 0, 0)",
           "1795564800000"),
        /* JS comparisons */
        OK("[new Date(0) < new Date(1), new Date(5) - new Date(2)]",
           "[true,3]"),
        /* JS Date from a DateTime */
        OK("new Date($now).toISOString()",
           "\"2026-11-25T19:33:53.123Z\""),
        /* n8n plus on a Date */
        OK("new Date(1795635233123).plus(1, 'day').toISOString()",
           "\"2026-11-26T19:33:53.123Z\""),
        /* n8n toDateTime on a Date */
        OK("new Date(1795635233123).toDateTime().toISO()",
           "\"2026-11-25T19:33:53.123Z\""),
        /* n8n format, isWeekend, extract on a Date */
        OK("[new Date(1795635233123).format('yyyy'), new Date(1795635233123).isWeekend(), new Date(1795635233123).extract('day')]",
           "[\"2026\",false,25]"),
    };
    run(rows, GL_NELEM(rows), NULL);
}

TEST(new_york)
{
    static const row_t rows[] = {
        /* n8n: $now in the workflow's zone (EST) */
        OK("$now.toISO()",
           "\"2026-11-25T14:33:53.123-05:00\""),
        /* zone getters */
        OK("[$now.zoneName, $now.offset, $now.hour]",
           "[\"America/New_York\",-300,14]"),
        /* $today: midnight in the zone */
        OK("$today.toISO()",
           "\"2026-11-25T00:00:00.000-05:00\""),
        /* DateTime.now() in the default zone */
        OK("DateTime.now().toISO()",
           "\"2026-11-25T14:33:53.123-05:00\""),
        /* local time in the spring-forward gap moves forward */
        OK("DateTime.local(2026, 3, 8, 2, 30).toISO()",
           "\"2026-03-08T03:30:00.000-04:00\""),
        /* ambiguous fall-back time */
        OK("DateTime.local(2026, 11, 1, 1, 30).toISO()",
           "\"2026-11-01T01:30:00.000-05:00\""),
        /* plus days across DST keeps the wall time */
        OK("DateTime.fromISO('2026-03-07T12:00').plus({days: 1}).toISO()",
           "\"2026-03-08T12:00:00.000-04:00\""),
        /* plus hours across DST is elapsed time */
        OK("DateTime.fromISO('2026-03-07T12:00').plus({hours: 24}).toISO()",
           "\"2026-03-08T13:00:00.000-04:00\""),
        /* plus hours through the gap */
        OK("DateTime.fromISO('2026-03-08T00:00').plus({hours: 3}).toISO()",
           "\"2026-03-08T04:00:00.000-04:00\""),
        /* a 23-hour day */
        OK("DateTime.fromISO('2026-03-08').endOf('day').diff(DateTime.fromISO('2026-03-08'), 'hours').hours",
           "22.99999972222222"),
        /* minus a day across fall-back */
        OK("DateTime.fromISO('2026-11-01T12:00').minus({days: 1}).toISO()",
           "\"2026-10-31T12:00:00.000-04:00\""),
        /* a 25-hour day */
        OK("DateTime.fromISO('2026-11-02').diff(DateTime.fromISO('2026-11-01'), 'hours').hours",
           "25"),
        /* still one day */
        OK("DateTime.fromISO('2026-11-02').diff(DateTime.fromISO('2026-11-01'), 'days').days",
           "1"),
        /* isInDST */
        OK("[DateTime.fromISO('2026-07-01T12:00').isInDST, DateTime.fromISO('2026-07-01T12:00').offset, $now.isInDST]",
           "[true,-240,false]"),
        /* n8n isDst */
        OK("DateTime.fromISO('2026-07-01T12:00').isDst()",
           "true"),
        /* zone names */
        OK("DateTime.fromISO('2026-07-01T12:00').toFormat('ZZZZ | ZZZZZ')",
           "\"EDT | Eastern Daylight Time\""),
        /* zone names in winter */
        OK("$now.toFormat('ZZZZ | ZZZZZ')",
           "\"EST | Eastern Standard Time\""),
        /* DATETIME_FULL with zone */
        OK("$now.toLocaleString(DateTime.DATETIME_FULL)",
           "\"November 25, 2026 at 2:33 PM EST\""),
        /* TIME_WITH_SHORT_OFFSET */
        OK("$now.toLocaleString(DateTime.TIME_WITH_SHORT_OFFSET)",
           "\"2:33:53 PM EST\""),
        /* DATETIME_HUGE */
        OK("$now.toLocaleString(DateTime.DATETIME_HUGE)",
           "\"Wednesday, November 25, 2026 at 2:33 PM Eastern Standard Time\""),
        /* macro fff */
        OK("$now.toFormat('fff')",
           "\"November 25, 2026 at 2:33 PM EST\""),
        /* toUTC */
        OK("$now.toUTC().toISO()",
           "\"2026-11-25T19:33:53.123Z\""),
        /* setZone */
        OK("$now.setZone('Europe/Berlin').toISO()",
           "\"2026-11-25T20:33:53.123+01:00\""),
        /* toLocal: back to the workflow's zone */
        OK("$now.setZone('UTC').toLocal().zoneName",
           "\"America/New_York\""),
        /* utc().toLocal() */
        OK("DateTime.utc(2026, 7, 1).toLocal().toISO()",
           "\"2026-06-30T20:00:00.000-04:00\""),
        /* fromISO UTC text shown in the zone */
        OK("DateTime.fromISO('2026-07-01T12:00:00Z').toISO()",
           "\"2026-07-01T08:00:00.000-04:00\""),
        /* fromMillis in the zone */
        OK("DateTime.fromMillis(0).toISO()",
           "\"1969-12-31T19:00:00.000-05:00\""),
        /* fromObject in the zone */
        OK("DateTime.fromObject({year: 2026, month: 7, day: 4}).toISO()",
           "\"2026-07-04T00:00:00.000-04:00\""),
        /* fromFormat in the zone */
        OK("DateTime.fromFormat('07/04/2026 9:00 PM', 'MM/dd/yyyy h:mm a').toISO()",
           "\"2026-07-04T21:00:00.000-04:00\""),
        /* fromSQL in the zone */
        OK("DateTime.fromSQL('2026-07-04 21:00:00').toMillis()",
           "1783213200000"),
        /* fromISO in the gap */
        OK("DateTime.fromISO('2026-03-08T02:30').toISO()",
           "\"2026-03-08T03:30:00.000-04:00\""),
        /* startOf week */
        OK("$now.startOf('week').toISO()",
           "\"2026-11-23T00:00:00.000-05:00\""),
        /* endOf month */
        OK("$now.endOf('month').toISO()",
           "\"2026-11-30T23:59:59.999-05:00\""),
        /* endOf day on the fall-back day */
        OK("DateTime.fromISO('2026-11-01T00:00').endOf('day').toISO()",
           "\"2026-11-01T23:59:59.999-05:00\""),
        /* plus a month into DST */
        OK("DateTime.fromISO('2026-03-01').plus({months: 1}).toISO()",
           "\"2026-04-01T00:00:00.000-04:00\""),
        /* hasSame in the zone */
        OK("$now.hasSame(DateTime.fromISO('2026-11-25T23:00'), 'day')",
           "true"),
        /* n8n beginningOf */
        OK("$now.beginningOf('day').toISO()",
           "\"2026-11-25T00:00:00.000-05:00\""),
        /* n8n plus across DST */
        OK("DateTime.fromISO('2026-03-07T12:00').plus(1, 'day').toISO()",
           "\"2026-03-08T12:00:00.000-04:00\""),
        /* n8n diffTo across DST */
        OK("DateTime.fromISO('2026-11-01T12:00').diffTo('2026-10-31T12:00', 'hours')",
           "25"),
        /* JS local date in the zone */
        OK("new Date(2026, 6, 4).toISOString()",
           "\"2026-07-04T04:00:00.000Z\""),
        /* JS local and UTC getters */
        OK("[new Date(1795635233123).getHours(), new Date(1795635233123).getUTCHours(), new Date(1795635233123).getTimezoneOffset()]",
           "[14,19,300]"),
        /* JS toString with zone */
        OK("new Date(1795635233123).toString()",
           "\"Wed Nov 25 2026 14:33:53 GMT-0500 (Eastern Standard Time)\""),
        /* JS local ISO text */
        OK("new Date('2026-07-04T12:00').toISOString()",
           "\"2026-07-04T16:00:00.000Z\""),
        /* JS date-only is UTC */
        OK("new Date('2026-07-04').toISOString()",
           "\"2026-07-04T00:00:00.000Z\""),
        /* JS gap */
        OK("new Date(2026, 2, 8, 2, 30).toISOString()",
           "\"2026-03-08T07:30:00.000Z\""),
        /* JS ambiguous: the earlier instant */
        OK("new Date(2026, 10, 1, 1, 30).toISOString()",
           "\"2026-11-01T05:30:00.000Z\""),
        /* JS toLocaleString in the zone */
        OK("new Date(1795635233123).toLocaleString()",
           "\"11/25/2026, 2:33:53 PM\""),
        /* JS toLocaleDateString options */
        OK("new Date(1795635233123).toLocaleDateString('en-US', {weekday: 'long', year: 'numeric', month: 'long', day: 'numeric'})",
           "\"Wednesday, November 25, 2026\""),
        /* JS getDate */
        OK("new Date(1795635233123).getDate()",
           "25"),
    };
    run(rows, GL_NELEM(rows), "America/New_York");
}

TEST(berlin)
{
    static const row_t rows[] = {
        /* n8n: $now in Europe/Berlin (CET) */
        OK("$now.toISO()",
           "\"2026-11-25T20:33:53.123+01:00\""),
        /* offset */
        OK("[$now.offset, $now.zoneName]",
           "[60,\"Europe/Berlin\"]"),
        /* $today */
        OK("$today.toISO()",
           "\"2026-11-25T00:00:00.000+01:00\""),
        /* spring-forward gap */
        OK("DateTime.fromISO('2026-03-29T02:30').toISO()",
           "\"2026-03-29T03:30:00.000+02:00\""),
        /* ambiguous fall-back time */
        OK("DateTime.fromISO('2026-10-25T02:30').toISO()",
           "\"2026-10-25T02:30:00.000+01:00\""),
        /* plus a day across DST */
        OK("DateTime.fromISO('2026-03-28T12:00').plus({days: 1}).toISO()",
           "\"2026-03-29T12:00:00.000+02:00\""),
        /* plus 24 hours across DST */
        OK("DateTime.fromISO('2026-03-28T12:00').plus({hours: 24}).toISO()",
           "\"2026-03-29T13:00:00.000+02:00\""),
        /* a 23-hour day */
        OK("DateTime.fromISO('2026-03-29').diff(DateTime.fromISO('2026-03-30'), 'hours').hours",
           "-23"),
        /* endOf day on the fall-back day */
        OK("DateTime.fromISO('2026-10-25').endOf('day').toISO()",
           "\"2026-10-25T23:59:59.999+01:00\""),
        /* hours through the repeated hour */
        OK("DateTime.fromISO('2026-10-25').startOf('day').plus({hours: 3}).toISO()",
           "\"2026-10-25T02:00:00.000+01:00\""),
        /* zone names outside the US */
        OK("DateTime.fromISO('2026-07-01T12:00').toFormat('ZZZZ | ZZZZZ')",
           "\"GMT+2 | Central European Summer Time\""),
        /* DATETIME_FULL */
        OK("$now.toLocaleString(DateTime.DATETIME_FULL)",
           "\"November 25, 2026 at 8:33 PM GMT+1\""),
        /* DATETIME_HUGE */
        OK("$now.toLocaleString(DateTime.DATETIME_HUGE)",
           "\"Wednesday, November 25, 2026 at 8:33 PM Central European Standard Time\""),
        /* setZone */
        OK("$now.setZone('America/New_York').hour",
           "14"),
        /* n8n isDst */
        OK("[$now.isDst(), DateTime.fromISO('2026-07-01').isDst()]",
           "[false,true]"),
        /* UTC text read into the zone */
        OK("DateTime.fromISO('2026-11-25T19:33:53.123Z').hour",
           "20"),
        /* toFormat offset */
        OK("$now.toFormat('HH:mm ZZZ')",
           "\"20:33 +0100\""),
        /* diff across fall-back */
        OK("DateTime.fromISO('2026-10-24T12:00').diff(DateTime.fromISO('2026-10-26T12:00'), ['days', 'hours']).toObject()",
           "{\"days\":-2,\"hours\":0}"),
        /* JS toString */
        OK("new Date(1795635233123).toString()",
           "\"Wed Nov 25 2026 20:33:53 GMT+0100 (Central European Standard Time)\""),
        /* JS ambiguous: the earlier instant */
        OK("new Date(2026, 9, 25, 2, 30).toISOString()",
           "\"2026-10-25T00:30:00.000Z\""),
        /* JS gap */
        OK("new Date(2026, 2, 29, 2, 30).toISOString()",
           "\"2026-03-29T01:30:00.000Z\""),
        /* JS getTimezoneOffset */
        OK("new Date(1795635233123).getTimezoneOffset()",
           "-60"),
        /* JS toLocaleTimeString */
        OK("new Date(1795635233123).toLocaleTimeString()",
           "\"8:33:53 PM\""),
        /* toJSDate local hours */
        OK("$now.toJSDate().getHours()",
           "20"),
    };
    run(rows, GL_NELEM(rows), "Europe/Berlin");
}
/* Glyphic's own rules: bounds on hostile input, and where it differs from
 * Luxon on purpose (see the README's "Dates and times"). */
TEST(bounds_and_differences)
{
    static const row_t rows[] = {
        /* ISO basic form with Z: Glyphic reads it (Luxon 3.7 refuses) */
        OK("DateTime.fromISO('20261125T193353Z').toISO()", "\"2026-11-25T19:33:53.000Z\""),
        /* X and x parse epoch text (Luxon 3.7 cannot) */
        OK("DateTime.fromFormat('1700000000', 'X').toMillis()", "1700000000000"),
        OK("DateTime.fromFormat('1700000000123', 'x').toMillis()", "1700000000123"),
        /* out of the years 0000-9999: a clear error */
        ERR("$now.plus({days: 1e300})", "date out of range"),
        ERR("$now.plus({years: 10000})", "date out of range"),
        ERR("DateTime.fromMillis(1e20)", "date out of range"),
        ERR("$now.plus(1, 'fortnight')", "unknown unit 'fortnight'"),
        ERR("$now.plus({fortnights: 1})", "unknown unit 'fortnights'"),
        ERR("$now.plus({days: 'x'})", "a number is expected"),
        ERR("$now.plus('x')", "expects a number and a unit"),
        ERR("$now.set({hour: 'x'})", "a number is expected"),
        ERR("$now.startOf('eon')", "unknown unit 'eon'"),
        ERR("$now.toFormat(5)", "expects a format string"),
        ERR("$now.setZone(5 > 3)", "expects a zone name"),
        ERR("DateTime.fromISO(5)", "expects a string"),
        ERR("DateTime.fromFormat('2026')", "expects a string and a format string"),
        ERR("$now.diff('yesterday')", "expects a DateTime or an ISO date string"),
        ERR("$now.toLocaleString('de-DE')", "only the en-US locale"),
        ERR("$now.setLocale('fr')", "only the en-US locale"),
        ERR("DateTime.fromISO('2026-01-01', {zone: 5})", "zone must be a string"),
        /* an unknown or malformed zone name is an invalid DateTime, never a file outside zoneinfo */
        OK("$now.setZone('../../etc/passwd').isValid", "false"),
        OK("$now.setZone('europe/berlin').isValid", "false"),
        OK("$now.setZone('UTC+19').isValid", "false"),
        /* huge inputs end within the bounds */
        ERR("$now.toFormat('yyyy'.repeat(300000))", "exceeds"),
        OK("DateTime.fromFormat('1'.repeat(20000), 'yyyy').isValid", "false"),
        OK("DateTime.fromISO('2'.repeat(20000)).isValid", "false"),
        OK("DateTime.fromSQL('2'.repeat(20000)).isValid", "false"),
        OK("DateTime.fromHTTP('2'.repeat(20000)).isValid", "false"),
        OK("Date.parse('2'.repeat(20000))", "null"),
        /* a Duration's fields default to 0; its JSON is ISO text */
        OK("$now.diff($now.minus({days: 2}), 'days').hours", "0"),
        OK("$now.diff($now.minus({days: 2}), 'days')", "\"P2D\""),
        OK("$now.diff($now).toISO()", "\"PT0S\""),
        /* == compares instants */
        OK("$now == $now.setZone('Asia/Tokyo')", "true"),
        /* the JS Date side without `new`: toJSDate() */
        OK("$now.toJSDate().getDay()", "3"),
        OK("$now.toJSDate().toUTCString()", "\"Wed, 25 Nov 2026 19:33:53 GMT\""),
        OK("$now.toJSDate().year", "null"),
        ERR("$now.toJSDate().toFormat('yyyy')", "a Date has no method 'toFormat'"),
        OK("typeof Date.now()", "\"number\""),
        OK("Date.UTC(2026, 13, 1)", "1801440000000"),
        OK("Date.parse('nonsense')", "null"),
    };
    run(rows, GL_NELEM(rows), NULL);
}

/* A zone the process does not know: the workflow runs in UTC. */
TEST(unknown_workflow_zone_is_utc)
{
    static const row_t rows[] = {
        OK("$now.toISO()", "\"2026-11-25T19:33:53.123Z\""),
        OK("$now.zoneName", "\"UTC\""),
    };
    run(rows, GL_NELEM(rows), "Not/A_Zone");
}

/* n8n's string.toDateTime() (type-validation.ts tryToParseDateTime) and
 * number.toDateTime(): the entry points the string and number parts of
 * issue 15 call; run in Europe/Berlin, expected values from Luxon. */
static void conv_row(const char *s, const char *fmt, double num, bool is_num, const char *want)
{
    gl_expr_ctx_t c;
    memset(&c, 0, sizeof c);
    c.now_ms = 1795635233123LL;
    c.tz = "Europe/Berlin";
    gl_err_t err;
    gl_err_clear(&err);
    ev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.ctx = &c;
    ev.err = &err;
    ev.max_steps = 100000;
    ev.max_out = 1 << 20;
    ev.max_depth = 64;
    val_t f = fmt ? vstr_n(fmt, strlen(fmt)) : vmk(V_UNDEF), out = vmk(V_UNDEF);
    int rc = is_num ? gl__expr_date_from_number(&ev, num, &f, &out)
                    : gl__expr_date_from_string(&ev, s, strlen(s), &f, &out);
    vfree(&f);
    if (want[0] == '!') {
        if (rc == GL_OK || !strstr(err.msg, want + 1))
            FAIL_AT("%s: want error %s, got rc %d %s", s ? s : "(number)", want + 1, rc, err.msg);
        return;
    }
    if (rc != GL_OK)
        FAIL_AT("%s: %s", s ? s : "(number)", err.msg);
    json_object *j = gl__expr_vto_json(&out);
    const char *got = j ? json_object_get_string(j) : "null";
    if (strcmp(got, want) != 0)
        FAIL_AT("%s: want %s, got %s", s ? s : "(number)", want, got);
    json_object_put(j);
    vfree(&out);
}

TEST(n8n_to_date_time_entry_points)
{
    conv_row("2026-11-25T10:00:00+05:30", NULL, 0, false, "2026-11-25T10:00:00.000+05:30");
    conv_row("Wed, 25 Nov 2026 19:33:53 GMT", NULL, 0, false, "2026-11-25T19:33:53.000Z");
    conv_row("Tue, 01 Nov 2016 13:23:12 +0630", NULL, 0, false, "2016-11-01T13:23:12.000+06:30");
    conv_row("2017-05-15 09:24:15", NULL, 0, false, "2017-05-15T09:24:15.000+02:00");
    conv_row("  2026-11-25  ", NULL, 0, false, "2026-11-25T00:00:00.000+01:00");
    conv_row("Nov 25, 2026", NULL, 0, false, "2026-11-25T00:00:00.000+01:00");
    conv_row("2026-11-25T10:00", NULL, 0, false, "2026-11-25T10:00:00.000+01:00");
    conv_row("nonsense", NULL, 0, false, "!cannot convert to Luxon DateTime");
    conv_row("25/11/2026", "dd/MM/yyyy", 0, false, "2026-11-25T00:00:00.000+01:00");
    conv_row("1708695471", "s", 0, false, "2024-02-23T14:37:51.000+01:00");
    conv_row(NULL, "s", 1708695471, true, "2024-02-23T14:37:51.000+01:00");
    conv_row(NULL, NULL, 1708695471000, true, "2024-02-23T14:37:51.000+01:00");
    conv_row(NULL, "us", 1708695471000000, true, "2024-02-23T14:37:51.000+01:00");
    conv_row(NULL, "excel", 45345, true, "2024-02-23T01:00:00.000+01:00");
    conv_row(NULL, "days", 1, true, "!Unsupported format 'days'");
}

/* flow.wait's `until`: an instant through the one ISO 8601 reader
 * (gl__date_iso_instant over gl__date_parse_iso): a full date, a time only
 * with an offset, a space for the T. */
static int64_t instant(const char *s)
{
    int64_t ms = INT64_MIN;
    return gl__date_iso_instant(s, strlen(s), &ms) ? ms : INT64_MIN;
}

TEST(iso_instant_for_flow_wait)
{
    ASSERT_EQ(instant("2026-11-25T19:33:53.123Z"), 1795635233123);
    ASSERT_EQ(instant("2026-11-25T20:33:53,123+01:00"), 1795635233123);
    ASSERT_EQ(instant("2026-11-25T20:33:53.123+0100"), 1795635233123);
    ASSERT_EQ(instant("2026-11-25T19:33:53.123z"), 1795635233123);
    ASSERT_EQ(instant("2026-11"), INT64_MIN);           /* not a full date */
    ASSERT_EQ(instant("2026-W48-3T10:00Z"), INT64_MIN); /* nor a week date */
    ASSERT_EQ(instant("19:33Z"), INT64_MIN);            /* a time alone */
    ASSERT_EQ(instant("2026-11-25T19:33"), INT64_MIN);  /* a time without an offset */
    ASSERT_EQ(instant("2026-11-25T19:33+05:"), INT64_MIN); /* a colon with no minutes */
    ASSERT_EQ(instant("2026-11-25"), 1795564800000);    /* midnight UTC */
    ASSERT_EQ(instant("2026-11-25 19:33Z"), 1795635180000);
    ASSERT_EQ(instant("2026-02-29T00:00Z"), INT64_MIN);
    ASSERT_EQ(instant("2026-11-25T24:00Z"), INT64_MIN);
    ASSERT_EQ(instant("2026-11-25T19:33Zjunk"), INT64_MIN);
}

TEST_MAIN()
