/*
 * files_gc.c: `glyphic files gc` — the file store's garbage collection by
 * hand (the elected maintainer of glyphic-executor runs the same one every
 * hour): removes the temporary files of uploads that never finished, once
 * older than files.temp_hours, and the contents of files.dir no row of
 * glyphic.files names any more (deleted files, pruned executions), and says
 * what it freed. Connects as db.admin_url, which sees every org's rows.
 */
#include "files_gc.h"

#include "filestore_db.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: glyphic files gc\n"
                 "  remove unfinished uploads older than files.temp_hours and the stored contents\n"
                 "  no file names any more, from files.dir; print what was freed\n");
}

int gl_cli_files(const gl_config_t *cfg, int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc != 2 || strcmp(argv[1], "gc") != 0) {
        usage(stderr);
        return 2;
    }
    gl_db_opts_t opts = { .conninfo = cfg->db_admin_url, .trusted = true, .appname = "glyphic-files-gc",
                          .connect_timeout_s = cfg->db_connect_timeout };
    gl_db_t *db = gl_db_new(&opts);
    gl_err_t err;
    gl_err_clear(&err);
    gl_filestore_gc_t rep;
    memset(&rep, 0, sizeof rep);
    int rc = gl_db_connect_now(db, &err);
    if (rc == GL_OK)
        rc = gl_filestore_gc_db(db, cfg, &rep, &err);
    gl_db_free(db);
    /* what was removed before a failure was removed: say so either way */
    printf("removed %lld unreferenced file(s), %lld bytes\n", (long long)rep.content_files,
           (long long)rep.content_bytes);
    printf("removed %lld unfinished upload(s), %lld bytes\n", (long long)rep.temp_files, (long long)rep.temp_bytes);
    printf("kept %lld stored file(s)\n", (long long)rep.kept_files);
    if (rc != GL_OK) {
        fprintf(stderr, "glyphic files gc: %s\n", err.msg);
        return 1;
    }
    return 0;
}
