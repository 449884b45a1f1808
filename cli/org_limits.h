/* org_limits.h: `glyphic org limits` (see org_limits.c). */
#ifndef GL_CLI_ORG_LIMITS_H
#define GL_CLI_ORG_LIMITS_H

#include "config.h"

/* argv[0] is "org"; connects as cfg's db.admin_url. Returns the exit
 * status: 0, 1 (no such org, database error) or 2 (usage). */
int gl_cli_org(const gl_config_t *cfg, int argc, char **argv);

#endif
