/* rotate_key.h: `glyphic rotate-key` (see rotate_key.c). */
#ifndef GL_CLI_ROTATE_KEY_H
#define GL_CLI_ROTATE_KEY_H

#include "config.h"

/* argv[0] is "rotate-key". Returns the exit status. */
int gl_cli_rotate_key(const gl_config_t *cfg, int argc, char **argv);

#endif
