/*
 * test_filestore.c: the content-addressed store on a temporary folder:
 * finish and abort, one content written twice, the per-file limit, no
 * temporary file ever under a final name, and gc.
 */
#include "filestore.h"
#include "gl_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ORG "0a1b2c3d-0000-4000-8000-00000000000a"
#define ORG2 "0a1b2c3d-0000-4000-8000-00000000000b"

static char root[256];

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/gl-filestore-XXXXXX");
    ASSERT(mkdtemp(root) != NULL);
}

static void rm_tree(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    ASSERT_EQ(system(cmd), 0);
}

/* Files in a folder (not . and ..); -1 if it does not exist. */
static int count_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void sha_hex_of(const char *data, size_t len, char out[65])
{
    unsigned char d[32];
    crypto_hash_sha256(d, (const unsigned char *)data, len);
    sodium_bin2hex(out, 65, d, sizeof d);
}

static void final_path(const char *org, const char *sha, char *out, size_t n)
{
    char rel[GL_FILESTORE_REL_LEN + 1];
    ASSERT_EQ(gl_filestore_rel_path(org, sha, rel, sizeof rel), GL_OK);
    snprintf(out, n, "%s/%s", root, rel);
}

/* Writes data as one content of org; returns its sha in out. */
static void store(const char *org, const char *data, char out[65])
{
    gl_fs_writer_t *w = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_filestore_begin(root, org, 1 << 20, &w, &err), GL_OK);
    ASSERT_EQ(gl_filestore_write(w, data, strlen(data), &err), GL_OK);
    ASSERT_EQ(gl_filestore_seal(w, &err), GL_OK);
    snprintf(out, 65, "%s", gl_filestore_sha256(w));
    ASSERT_EQ(gl_filestore_finish(w, NULL, &err), GL_OK);
}

TEST(finish_names_by_sha256)
{
    setup();
    gl_fs_writer_t *w = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_filestore_begin(root, ORG, 1 << 20, &w, &err), GL_OK);
    ASSERT_EQ(gl_filestore_write(w, "hello, ", 7, &err), GL_OK);
    ASSERT_EQ(gl_filestore_write(w, "world", 5, &err), GL_OK);
    ASSERT_STR_EQ(gl_filestore_sha256(w), ""); /* not sealed yet */
    ASSERT_EQ(gl_filestore_size(w), 12);
    bool created = false;
    char tmpdir[300];
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", root);
    ASSERT_EQ(count_in(tmpdir), 1);
    ASSERT_EQ(gl_filestore_seal(w, &err), GL_OK);
    char want[65], got[65], path[512];
    sha_hex_of("hello, world", 12, want);
    snprintf(got, sizeof got, "%s", gl_filestore_sha256(w));
    ASSERT_STR_EQ(got, want);
    ASSERT_EQ(gl_filestore_finish(w, &created, &err), GL_OK);
    ASSERT(created);
    ASSERT_EQ(count_in(tmpdir), 0);
    final_path(ORG, want, path, sizeof path);
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_size, 12);
    ASSERT_EQ(st.st_mode & 0777, 0640);
    char buf[32] = "";
    int fd = open(path, O_RDONLY);
    ASSERT(fd >= 0);
    ASSERT_EQ(read(fd, buf, sizeof buf), 12);
    close(fd);
    ASSERT_STR_EQ(buf, "hello, world");
    rm_tree(root);
}

TEST(abort_leaves_nothing)
{
    setup();
    gl_fs_writer_t *w = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_filestore_begin(root, ORG, 1 << 20, &w, &err), GL_OK);
    ASSERT_EQ(gl_filestore_write(w, "partial", 7, &err), GL_OK);
    gl_filestore_abort(w);
    char tmpdir[300], orgdir[300];
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", root);
    snprintf(orgdir, sizeof orgdir, "%s/%s", root, ORG);
    ASSERT_EQ(count_in(tmpdir), 0);
    ASSERT_EQ(count_in(orgdir), -1);
    gl_filestore_abort(NULL);
    rm_tree(root);
}

TEST(same_content_twice_is_stored_once)
{
    setup();
    char a[65], b[65], c[65], path[512];
    store(ORG, "same bytes", a);
    gl_fs_writer_t *w = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_filestore_begin(root, ORG, 1 << 20, &w, &err), GL_OK);
    ASSERT_EQ(gl_filestore_write(w, "same bytes", 10, &err), GL_OK);
    bool created = true;
    ASSERT_EQ(gl_filestore_finish(w, &created, &err), GL_OK);
    ASSERT(!created); /* the temporary file was dropped */
    store(ORG, "same bytes", b);
    ASSERT_STR_EQ(a, b);
    char tmpdir[300], sub[400];
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", root);
    snprintf(sub, sizeof sub, "%s/%s/%.2s", root, ORG, a);
    ASSERT_EQ(count_in(tmpdir), 0);
    ASSERT_EQ(count_in(sub), 1);
    /* another org gets its own copy */
    store(ORG2, "same bytes", c);
    final_path(ORG2, c, path, sizeof path);
    ASSERT_EQ(access(path, R_OK), 0);
    rm_tree(root);
}

TEST(per_file_limit)
{
    setup();
    gl_fs_writer_t *w = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_filestore_begin(root, ORG, 10, &w, &err), GL_OK);
    ASSERT_EQ(gl_filestore_write(w, "0123456789", 10, &err), GL_OK); /* exactly the limit */
    ASSERT_EQ(gl_filestore_write(w, "x", 1, &err), GL_TOO_LARGE);
    ASSERT_CONTAINS(err.msg, "limit of 10 bytes");
    ASSERT_EQ(gl_filestore_size(w), 10);
    ASSERT_EQ(gl_filestore_write(w, "", 0, &err), GL_ERR); /* only abort is left */
    ASSERT(gl_filestore_seal(w, &err) != GL_OK);
    gl_filestore_abort(w);
    char tmpdir[300];
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", root);
    ASSERT_EQ(count_in(tmpdir), 0);
    ASSERT_EQ(gl_filestore_begin(root, "not-a-uuid", 10, &w, &err), GL_INVALID);
    ASSERT_EQ(gl_filestore_begin(root, ORG, 0, &w, &err), GL_INVALID);
    rm_tree(root);
}

/* While a content is written, its final name does not exist: a process
 * killed at any point leaves a temporary file at most. */
TEST(no_temp_under_final_name)
{
    setup();
    static char big[1 << 16];
    memset(big, 'z', sizeof big);
    char want[65], path[512];
    unsigned char d[32];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (int i = 0; i < 16; i++)
        crypto_hash_sha256_update(&st, (unsigned char *)big, sizeof big);
    crypto_hash_sha256_final(&st, d);
    sodium_bin2hex(want, sizeof want, d, sizeof d);
    final_path(ORG, want, path, sizeof path);
    gl_fs_writer_t *w = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_filestore_begin(root, ORG, 1 << 24, &w, &err), GL_OK);
    for (int i = 0; i < 16; i++) {
        ASSERT_EQ(gl_filestore_write(w, big, sizeof big, &err), GL_OK);
        ASSERT(access(path, F_OK) != 0);
    }
    ASSERT_EQ(gl_filestore_seal(w, &err), GL_OK);
    ASSERT(access(path, F_OK) != 0);
    ASSERT_STR_EQ(gl_filestore_sha256(w), want);
    ASSERT_EQ(gl_filestore_finish(w, NULL, &err), GL_OK);
    struct stat s;
    ASSERT_EQ(stat(path, &s), 0);
    ASSERT_EQ(s.st_size, 16 << 16);
    rm_tree(root);
}

TEST(rel_path_checks)
{
    char rel[GL_FILESTORE_REL_LEN + 1];
    const char *sha = "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";
    ASSERT_EQ(gl_filestore_rel_path(ORG, sha, rel, sizeof rel), GL_OK);
    ASSERT_STR_EQ(rel, ORG "/ab/ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd");
    ASSERT_EQ(gl_filestore_rel_path(ORG, "AB0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd", rel,
                                    sizeof rel), GL_INVALID);
    ASSERT_EQ(gl_filestore_rel_path(ORG, "../../etc/passwd", rel, sizeof rel), GL_INVALID);
    ASSERT_EQ(gl_filestore_rel_path("../x", sha, rel, sizeof rel), GL_INVALID);
    ASSERT_EQ(gl_filestore_rel_path(ORG, sha, rel, 10), GL_INVALID);
}

/* gc's callbacks: the contents named in keep[] are referenced. */
typedef struct {
    const char *keep[4];
    int checks, releases;
} refs_t;

static int check(void *ctx, const char *org, const char *sha, bool *referenced, gl_err_t *err)
{
    (void)org;
    (void)err;
    refs_t *r = ctx;
    r->checks++;
    *referenced = false;
    for (int i = 0; i < 4; i++)
        if (r->keep[i] && strcmp(r->keep[i], sha) == 0)
            *referenced = true;
    return GL_OK;
}

static void release(void *ctx)
{
    ((refs_t *)ctx)->releases++;
}

TEST(gc_removes_orphans_and_old_temps)
{
    setup();
    char kept[65], orphan[65], path_kept[512], path_orphan[512];
    store(ORG, "kept content", kept);
    store(ORG2, "orphan content", orphan);
    final_path(ORG, kept, path_kept, sizeof path_kept);
    final_path(ORG2, orphan, path_orphan, sizeof path_orphan);
    /* an old temporary file (a crashed upload), a fresh one (an upload in
     * progress), and a stranger gc must leave alone */
    gl_fs_writer_t *old = NULL, *fresh = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_filestore_begin(root, ORG, 100, &old, &err), GL_OK);
    ASSERT_EQ(gl_filestore_write(old, "12345", 5, &err), GL_OK);
    ASSERT_EQ(gl_filestore_begin(root, ORG, 100, &fresh, &err), GL_OK);
    char tmpdir[300], stranger[400];
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", root);
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char old_path[700] = "";
    while ((e = readdir(d))) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        struct stat st;
        if (e->d_name[0] != '.' && stat(p, &st) == 0 && st.st_size == 5)
            snprintf(old_path, sizeof old_path, "%s", p);
    }
    closedir(d);
    ASSERT(old_path[0]);
    struct timespec ts[2] = { { time(NULL) - 3 * 3600, 0 }, { time(NULL) - 3 * 3600, 0 } };
    ASSERT_EQ(utimensat(AT_FDCWD, old_path, ts, 0), 0);
    snprintf(stranger, sizeof stranger, "%s/%s/README", root, ORG);
    FILE *f = fopen(stranger, "w");
    ASSERT(f != NULL);
    fclose(f);

    refs_t r = { .keep = { kept } };
    gl_filestore_refs_t refs = { check, release, &r };
    gl_filestore_gc_t rep;
    memset(&rep, 0, sizeof rep);
    ASSERT_EQ(gl_filestore_gc(root, 2, &refs, &rep, &err), GL_OK);
    ASSERT_EQ(rep.temp_files, 1);
    ASSERT_EQ(rep.temp_bytes, 5);
    ASSERT_EQ(rep.content_files, 1);
    ASSERT_EQ(rep.content_bytes, 14);
    ASSERT_EQ(rep.kept_files, 1);
    ASSERT_EQ(r.checks, 2);
    ASSERT_EQ(r.releases, 2);
    ASSERT_EQ(access(path_kept, F_OK), 0);
    ASSERT(access(path_orphan, F_OK) != 0);
    ASSERT(access(old_path, F_OK) != 0);
    ASSERT_EQ(access(stranger, F_OK), 0);
    ASSERT_EQ(count_in(tmpdir), 1); /* the fresh one */
    /* the upload in progress still finishes */
    ASSERT_EQ(gl_filestore_write(fresh, "late", 4, &err), GL_OK);
    ASSERT_EQ(gl_filestore_finish(fresh, NULL, &err), GL_OK);
    gl_filestore_abort(old); /* its file is gone already: only freed */
    /* a store that was never written is empty */
    memset(&rep, 0, sizeof rep);
    ASSERT_EQ(gl_filestore_gc("/tmp/gl-filestore-does-not-exist", 2, &refs, &rep, &err), GL_OK);
    ASSERT_EQ(rep.content_files + rep.temp_files, 0);
    rm_tree(root);
}

TEST_MAIN()
