/* doctor.h: `glyphic doctor` (see doctor.c). */
#ifndef GL_CLI_DOCTOR_H
#define GL_CLI_DOCTOR_H

#include "config.h"

/* argv[0] is "doctor". Exit status: 0 every check passed (warnings
 * allowed), 1 a check failed, 2 usage. */
int gl_cli_doctor(const gl_config_t *cfg, int argc, char **argv);

#endif
