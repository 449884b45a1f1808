/* run.h: `glyphic run` (see run.c). */
#ifndef GL_CLI_RUN_H
#define GL_CLI_RUN_H

/* argv[0] is "run"; returns the exit status. */
int gl_cli_run(int argc, char **argv);

#endif
