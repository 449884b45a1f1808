/* files_gc.h: `glyphic files gc` (see files_gc.c). */
#ifndef GL_CLI_FILES_GC_H
#define GL_CLI_FILES_GC_H

#include "config.h"

/* argv[0] is "files"; connects as cfg's db.admin_url. Returns the exit
 * status: 0, 1 (database or disk error) or 2 (usage). */
int gl_cli_files(const gl_config_t *cfg, int argc, char **argv);

#endif
