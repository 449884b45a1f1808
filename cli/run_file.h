/* run_file.h: `glyphic run` (see run_file.c). */
#ifndef GL_CLI_RUN_H
#define GL_CLI_RUN_H

#include "config.h"

/* argv[0] is "run"; cfg supplies the operator's policy (http.allow_private,
 * http.respond_allow_scripts). Returns the exit status. */
int gl_cli_run(const gl_config_t *cfg, int argc, char **argv);

/* `glyphic import FILE [--partial] [--name NAME]`: argv[0] is "import".
 * Converts an n8n workflow export into a Glyphic export document on
 * standard output (no database); the problems go to standard error.
 * Exit 0 converted, 1 unmappable nodes (without --partial), 2 usage or
 * unreadable file. */
int gl_cli_import(int argc, char **argv);

#endif
