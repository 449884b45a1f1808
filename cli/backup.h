/* backup.h: `glyphic backup DIR` and `glyphic restore DIR` (see backup.c). */
#ifndef GL_CLI_BACKUP_H
#define GL_CLI_BACKUP_H

#include "config.h"

/* argv[0] is "backup". Returns the exit status. */
int gl_cli_backup(const gl_config_t *cfg, int argc, char **argv);

/* argv[0] is "restore". Returns the exit status; on 0 the caller runs the
 * pending migrations (main.c), so an older backup comes back upgraded. */
int gl_cli_restore(const gl_config_t *cfg, int argc, char **argv);

#endif
