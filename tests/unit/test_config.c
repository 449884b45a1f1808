#include "config.h"
#include "gl_test.h"

#include <stdlib.h>
#include <unistd.h>

static char path[] = "/tmp/gl-config-test-XXXXXX";

static const char *write_conf(const char *text)
{
    snprintf(path, sizeof path, "%s", "/tmp/gl-config-test-XXXXXX");
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

TEST(defaults_without_file)
{
    unsetenv("GLYPHIC_CONFIG");
    gl_config_t c;
    gl_err_t err;
    gl_err_clear(&err);
    /* an explicitly named missing file is an error */
    ASSERT_EQ(gl_config_load("/nonexistent/glyphic.conf", &c, &err), GL_INVALID);
    ASSERT_CONTAINS(err.msg, "/nonexistent/glyphic.conf");
    const char *p = write_conf("# only a comment\n\n");
    ASSERT_EQ(gl_config_load(p, &c, &err), GL_OK);
    ASSERT_EQ(c.http_max_body, 1048576);
    ASSERT_EQ(c.fcgi_socket_mode, 0660);
    ASSERT(c.fcgi_workers >= 8 && c.fcgi_workers <= 32); /* 0 means eight per CPU, at most 32 */
    ASSERT_STR_EQ(c.db_url, "dbname=glyphic user=glyphic_app");
    gl_config_free(&c);
    unlink(p);
}

TEST(file_then_environment)
{
    const char *p = write_conf("fcgi.workers = 3\n  log.level=warn  \ndb.url = \"host=/x dbname=y\"\n"
                               "fcgi.socket_mode = 0600\n");
    setenv("GLYPHIC_FCGI_WORKERS", "5", 1);
    gl_config_t c;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_config_load(p, &c, &err), GL_OK);
    ASSERT_EQ(c.fcgi_workers, 5);
    ASSERT_EQ(c.log_level, 2);
    ASSERT_EQ(c.fcgi_socket_mode, 0600);
    ASSERT_STR_EQ(c.db_url, "host=/x dbname=y");
    ASSERT_STR_EQ(gl_config_source(), p);
    gl_config_free(&c);
    unsetenv("GLYPHIC_FCGI_WORKERS");
    unlink(p);
}

TEST(errors_name_the_key_and_line)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        { "bogus.key = 1\n", ":1: unknown key 'bogus.key'" },
        { "\n\nfcgi.workers = many\n", ":3: fcgi.workers: expected an integer" },
        { "fcgi.workers = 100000\n", "fcgi.workers: expected an integer from 0 to 256" },
        { "log.level = loud\n", "log.level" },
        { "fcgi.socket_mode = 999\n", "octal" },
        { "just words\n", "expected `key = value`" },
        { "http.max_body = 12abc\n", "http.max_body" },
        { "\nhttp.allow_private = 10.1.2.0/24, 10.1.2.5/24\n", ":2: http.allow_private: '10.1.2.5/24' has bits set" },
        { "http.allow_private = 127.1\n", "http.allow_private: '127.1' is not an IP address" },
        { "http.respond_allow_scripts = maybe\n", "http.respond_allow_scripts: expected true or false" },
        { "oauth2.redirect_url = ftp://x.example/cb\n", "oauth2.redirect_url: expected an absolute http" },
        { "oauth2.redirect_url = https://x.example/cb#top\n", "oauth2.redirect_url: expected" },
        { "oauth2.redirect_url = \"https://x.example/a b\"\n", "oauth2.redirect_url: expected" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *p = write_conf(cases[i].text);
        gl_config_t c;
        gl_err_t err;
        gl_err_clear(&err);
        ASSERT_EQ(gl_config_load(p, &c, &err), GL_INVALID);
        ASSERT_CONTAINS(err.msg, cases[i].want);
        unlink(p);
    }
    setenv("GLYPHIC_HTTP_MAX_JSON_DEPTH", "-1", 1);
    gl_config_t c;
    gl_err_t err;
    gl_err_clear(&err);
    const char *p = write_conf("");
    ASSERT_EQ(gl_config_load(p, &c, &err), GL_INVALID);
    ASSERT_CONTAINS(err.msg, "GLYPHIC_HTTP_MAX_JSON_DEPTH");
    unsetenv("GLYPHIC_HTTP_MAX_JSON_DEPTH");
    unlink(p);
}

TEST(allow_private_parsed)
{
    unsetenv("GLYPHIC_HTTP_ALLOW_PRIVATE");
    const char *p = write_conf("http.allow_private = \"10.1.2.0/24, fd00::/8, 127.0.0.1/32\"\n");
    gl_config_t c;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_config_load(p, &c, &err), GL_OK);
    ASSERT_EQ(c.http_allow_private.n, 3);
    ASSERT_EQ(c.http_allow_private.nets[0].bits, 96 + 24);
    ASSERT_EQ(c.http_respond_allow_scripts, false);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    gl_config_dump(&c, f);
    fclose(f);
    ASSERT_CONTAINS(buf, "http.allow_private = 10.1.2.0/24, fd00::/8, 127.0.0.1/32\n");
    free(buf);
    gl_config_free(&c);
    unlink(p);
    /* the default: nothing internal */
    p = write_conf("");
    ASSERT_EQ(gl_config_load(p, &c, &err), GL_OK);
    ASSERT_EQ(c.http_allow_private.n, 0);
    gl_config_free(&c);
    unlink(p);
}

TEST(oauth2_redirect_url)
{
    gl_config_t c;
    gl_err_t err;
    gl_err_clear(&err);
    const char *p = write_conf("");
    ASSERT_EQ(gl_config_load(p, &c, &err), GL_OK);
    ASSERT_STR_EQ(c.oauth2_redirect_url, ""); /* built from each request */
    gl_config_free(&c);
    unlink(p);
    p = write_conf("oauth2.redirect_url = https://glyphic.example.com/api/oauth2/callback\n");
    ASSERT_EQ(gl_config_load(p, &c, &err), GL_OK);
    ASSERT_STR_EQ(c.oauth2_redirect_url, "https://glyphic.example.com/api/oauth2/callback");
    gl_config_free(&c);
    unlink(p);
}

TEST(record_socket)
{
    static const struct {
        const char *conf, *want; /* want NULL: none */
    } cases[] = {
        { "events.socket = /run/glyphic/events.sock\n", "/run/glyphic/record.sock" },
        { "events.socket = /var/lib/g/run/ev.sock\nevents.record_socket = /tmp/r.sock\n", "/tmp/r.sock" },
        { "events.socket = /run/glyphic/events.sock\nevents.record_socket = off\n", NULL },
        { "events.socket = 127.0.0.1:8090\n", NULL },
        { "events.socket = 127.0.0.1:8090\nevents.record_socket = /run/r.sock\n", "/run/r.sock" },
    };
    for (size_t i = 0; i < GL_NELEM(cases); i++) {
        const char *p = write_conf(cases[i].conf);
        gl_config_t c;
        gl_err_t err;
        gl_err_clear(&err);
        ASSERT_EQ(gl_config_load(p, &c, &err), GL_OK);
        char buf[256];
        bool got = gl_config_record_socket(&c, buf, sizeof buf);
        ASSERT_EQ(got, cases[i].want != NULL);
        if (got)
            ASSERT_STR_EQ(buf, cases[i].want);
        /* a path that does not fit is none, never a cut one */
        char small[8];
        ASSERT(!gl_config_record_socket(&c, small, sizeof small));
        gl_config_free(&c);
        unlink(p);
    }
}

TEST(dump_masks_passwords)
{
    const char *p = write_conf("db.url = host=a password=topsecret dbname=g\n"
                               "db.admin_url = postgresql://u:pw123@h/db\n"
                               "db.executor_url = host=b password='quoted secret' user=e\n");
    gl_config_t c;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_config_load(p, &c, &err), GL_OK);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    gl_config_dump(&c, f);
    fclose(f);
    ASSERT(strstr(out, "topsecret") == NULL);
    ASSERT(strstr(out, "pw123") == NULL);
    ASSERT(strstr(out, "quoted secret") == NULL);
    ASSERT_CONTAINS(out, "db.url = host=a password=*** dbname=g");
    ASSERT_CONTAINS(out, "db.admin_url = postgresql://u:***@h/db");
    ASSERT_CONTAINS(out, "user=e");
    free(out);
    gl_config_free(&c);
    unlink(p);
}

TEST_MAIN()
