/* run_file.h: `glyphic run` (see run_file.c). */
#ifndef GL_CLI_RUN_H
#define GL_CLI_RUN_H

#include "config.h"

/* argv[0] is "run"; cfg supplies the operator's policy (http.allow_private,
 * http.respond_allow_scripts). Returns the exit status. */
int gl_cli_run(const gl_config_t *cfg, int argc, char **argv);

#endif
