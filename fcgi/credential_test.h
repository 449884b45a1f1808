/* credential_test.h: POST /api/credentials/{id}/test (see credential_test.c). */
#ifndef GL_FCGI_CREDENTIAL_TEST_H
#define GL_FCGI_CREDENTIAL_TEST_H

#include "router.h"

extern const gl_resource_t gl_resource_credential_test;

#endif
