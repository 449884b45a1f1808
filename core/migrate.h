/*
 * migrate.h: schema migrations. The files sql/NNN_name.sql are compiled into
 * the binaries (cmake/embed_sql.cmake); each is applied once, in order, in a
 * transaction of its own, and recorded in glyphic.schema_migrations with a
 * checksum of its text. Released files are never edited: a checksum that no
 * longer matches is reported.
 */
#ifndef GL_MIGRATE_H
#define GL_MIGRATE_H

#include "gl.h"

#include <stdio.h>

typedef struct {
    int version;
    const char *name;
    const char *sql;
} gl_migration_t;

extern const gl_migration_t gl_migrations[];
extern const int gl_migrations_count;

struct gl_db;

/* The newest schema version this binary knows. */
int gl_migrate_latest(void);

/*
 * Applies every pending migration, writing one line per migration to out.
 * Holds an advisory lock so two migrators never interleave. A database newer
 * than the binary is GL_SCHEMA; a failed migration is rolled back whole and
 * reported in err (later ones are not attempted).
 *
 * single_role installs a new schema with the single-role layout: the
 * connected role owns everything and is also the app and the executor (see
 * migrate.c). An existing schema keeps the layout it has; asking for one
 * role on a three-role schema is an error.
 *
 * Then the request context (sql/035): context_module, the path of
 * glyphic_context.so as the server will load it (NULL or "": none), is
 * installed when the role is a superuser and the server loads it; else the
 * plpgsql context stays, or comes back. One line on out says which.
 */
int gl_migrate_run(struct gl_db *db, bool single_role, const char *context_module, FILE *out,
                   gl_err_t *err) GL_WUR;

/*
 * Creates the roles the programs connect as, if missing: the first
 * statement of migration 001 (its DO block), run on its own. For a restore,
 * which needs the roles before the schema it puts back can name them. Needs
 * the rights 001 needs (a superuser, or CREATEROLE).
 */
int gl_migrate_create_roles(struct gl_db *db, gl_err_t *err) GL_WUR;

/* Writes the applied and pending migrations to out; GL_ERR if a recorded
 * checksum differs from the compiled-in file. */
int gl_migrate_status(struct gl_db *db, FILE *out, gl_err_t *err) GL_WUR;

#endif
