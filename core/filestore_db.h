/*
 * filestore_db.h: the file store's garbage collection against the files
 * table (sql/019_files.sql): `glyphic files gc` and the elected maintainer
 * call it.
 */
#ifndef GL_FILESTORE_DB_H
#define GL_FILESTORE_DB_H

#include "config.h"
#include "db.h"
#include "filestore.h"

/*
 * Collects cfg->files_dir: temporary files older than cfg->files_temp_hours
 * and the contents no row of glyphic.files names. db must see every org's
 * rows (the executor's role or the owner); each content is checked and
 * removed under the org's files lock, in a transaction of its own. What was
 * removed is added to *rep (zeroed by the caller).
 */
int gl_filestore_gc_db(gl_db_t *db, const gl_config_t *cfg, gl_filestore_gc_t *rep, gl_err_t *err) GL_WUR;

#endif
