/* execution_files.h: the files an execution stored (see execution_files.c). */
#ifndef GL_FCGI_EXECUTION_FILES_H
#define GL_FCGI_EXECUTION_FILES_H

#include "router.h"

extern const gl_resource_t gl_resource_execution_files;

#endif
