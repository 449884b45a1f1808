/*
 * nodetypes.h: the catalogue of node types — one registry that says, for
 * every type, its ports and parameters. The validator checks definitions
 * against it, GET /api/node-types serves it to the editor, and the engine
 * (executor/) maps the same ids to implementations. Adding a node type is
 * adding a row to catalogue.c (and its implementation in executor/engine/nodes/).
 */
#ifndef GL_NODETYPES_H
#define GL_NODETYPES_H

#include "buf.h"
#include "gl.h"

typedef enum {
    GL_PARAM_STRING,
    GL_PARAM_NUMBER,
    GL_PARAM_BOOLEAN,
    GL_PARAM_SELECT,
    GL_PARAM_JSON,
    GL_PARAM_CODE,
    GL_PARAM_CREDENTIAL,
} gl_param_type_t;

typedef struct {
    const char *name;
    gl_param_type_t type;
    const char *def;          /* default as JSON text, NULL: none */
    bool required;
    bool expressions;         /* may hold {{ … }} expressions */
    const char *const *options; /* GL_PARAM_SELECT: NULL-terminated choices */
    const char *description;
} gl_param_def_t;

#define GL_NODE_MAX_PORTS 10
#define GL_NODE_MAX_PARAMS 16

typedef struct {
    const char *id;           /* "http.request" */
    const char *name;         /* "HTTP Request" */
    const char *category;     /* "trigger", "action", "data", "flow" */
    const char *description;
    bool trigger;             /* starts executions; has no inputs */
    const char *inputs[GL_NODE_MAX_PORTS];  /* NULL-terminated */
    const char *outputs[GL_NODE_MAX_PORTS]; /* NULL-terminated */
    gl_param_def_t params[GL_NODE_MAX_PARAMS]; /* ends with a row whose name is NULL */
} gl_node_type_t;

/* Every non-trigger node also has this output: with continue_on_fail set,
 * a failure becomes an item here instead of failing the execution. */
#define GL_NODE_ERROR_PORT "error"

extern const gl_node_type_t gl_node_types[];
extern const size_t gl_node_types_count;

/* The type with this id, or NULL. */
const gl_node_type_t *gl_node_type_find(const char *id);
/* The parameter of t with this name, or NULL. */
const gl_param_def_t *gl_node_param_find(const gl_node_type_t *t, const char *name);
bool gl_node_has_input(const gl_node_type_t *t, const char *port);
bool gl_node_has_output(const gl_node_type_t *t, const char *port);
const char *gl_param_type_name(gl_param_type_t t);


#endif
