/*
 * filestore.h: the content-addressed file store on local disk.
 *
 *   DIR/tmp/<random>.part              a file being written (mode 0600)
 *   DIR/<org_id>/<aa>/<sha256 hex>     a finished content (mode 0640), aa =
 *                                      the first two hex digits of its sha256
 *
 * A content is written once per org however many files name it. A writer
 * streams into a temporary file, hashing as it goes; finish renames it to
 * its final name (or drops it when that content is already there), so a
 * crash never leaves a half file under a final name. nginx serves the final
 * names (an `internal` location aliased to DIR, X-Accel-Redirect).
 *
 * The store knows nothing of the database. The protocol that keeps gc from
 * removing a content an upload is about to name (sql/019_files.sql): the
 * writer takes the org's files lock, inserts its row, then finishes (renames)
 * before its transaction commits; gc asks, under the same lock, whether any
 * row names a content before it unlinks it (gl_filestore_refs_t).
 */
#ifndef GL_FILESTORE_H
#define GL_FILESTORE_H

#include "crypto.h"
#include "gl.h"

#define GL_SHA256_HEX_LEN 64
/* "<org uuid>/<aa>/<64 hex>" */
#define GL_FILESTORE_REL_LEN (36 + 1 + 2 + 1 + GL_SHA256_HEX_LEN)

typedef struct gl_fs_writer gl_fs_writer_t;

/* Loads what the writers' SHA-256 needs (OpenSSL's default provider) now:
 * a prefork master calls it once, so its workers share it. Optional. */
void gl_filestore_preload(void);

/*
 * Starts writing a content of org_id (a UUID) under dir: creates
 * dir/tmp/ if needed and a new temporary file in it (O_EXCL, O_CLOEXEC,
 * 0600). max_bytes (> 0) is the most the content may hold. On GL_OK *out is
 * the writer, which the caller ends with gl_filestore_finish or
 * gl_filestore_abort (either frees it).
 */
int gl_filestore_begin(const char *dir, const char *org_id, int64_t max_bytes, gl_fs_writer_t **out,
                       gl_err_t *err) GL_WUR;

/* Appends buf[0..len) and hashes it. GL_TOO_LARGE (nothing written) when
 * the content would pass max_bytes; GL_ERR on a write error. After an error
 * the writer can only be aborted. */
int gl_filestore_write(gl_fs_writer_t *w, const void *buf, size_t len, gl_err_t *err) GL_WUR;

/* Ends the writing: flushes the temporary file to disk (fsync) and fixes
 * the digest. No more writes after it. */
int gl_filestore_seal(gl_fs_writer_t *w, gl_err_t *err) GL_WUR;

/* The bytes written so far. */
int64_t gl_filestore_size(const gl_fs_writer_t *w);
/* The lowercase hex SHA-256 of the content (NUL-terminated, owned by w);
 * "" before gl_filestore_seal. */
const char *gl_filestore_sha256(const gl_fs_writer_t *w);

/*
 * Seals the content if not yet sealed, then gives it its final name
 * dir/<org>/<aa>/<sha256> (directories made as needed, 0750) by rename;
 * when that name exists already the temporary file is removed instead.
 * The directory is fsynced. *created (may be NULL) tells whether this call
 * made the content. Frees w whatever the outcome; on failure the temporary
 * file is gone too.
 */
int gl_filestore_finish(gl_fs_writer_t *w, bool *created, gl_err_t *err) GL_WUR;

/* Removes the temporary file and frees w (NULL: nothing). */
void gl_filestore_abort(gl_fs_writer_t *w);

/* What the files table takes (sql/019_files.sql), so a caller refuses a bad
 * value with its own message before it stores anything:
 * gl_filestore_name_ok: a file name, not a path — 1 to GL_FILE_NAME_MAX
 * bytes of UTF-8 without control characters, '/' or '\', not "." or "..";
 * gl_filestore_type_ok: a media type `type/subtype[; parameters]` of
 * printable ASCII, at most GL_MIME_TYPE_MAX bytes. */
#define GL_FILE_NAME_MAX 255
#define GL_MIME_TYPE_MAX 255
bool gl_filestore_name_ok(const char *name);
bool gl_filestore_type_ok(const char *type);

/* A file name the table takes, made of a name a sender chose (a multipart
 * part's filename, a Content-Disposition's): what follows its last '/' or
 * '\\', control characters (C0, DEL, C1, U+2028, U+2029) and bytes that are
 * not UTF-8 as '_', cut at a character to GL_FILE_NAME_MAX bytes; fallback
 * when nothing is left (or "." or ".."). Into out[GL_FILE_NAME_MAX + 1];
 * passes gl_filestore_name_ok when fallback does. */
void gl_filestore_name_clean(const char *raw, const char *fallback, char out[GL_FILE_NAME_MAX + 1]);

/* A Content-Disposition value for a file called name (a file name
 * gl_filestore_name_ok takes): type ("attachment" or "inline"), an ASCII
 * filename= for old clients (anything else '_') and the RFC 8187
 * filename*=UTF-8'' form (every byte outside attr-char percent-encoded),
 * into out[GL_DISPOSITION_MAX]. */
#define GL_DISPOSITION_MAX (GL_FILE_NAME_MAX * 4 + 64)
void gl_filestore_disposition(const char *type, const char *name, char out[GL_DISPOSITION_MAX]);

/* The path of a content relative to the store's dir, "<org>/<aa>/<sha>",
 * into out (at least GL_FILESTORE_REL_LEN + 1 bytes). GL_INVALID when org_id
 * is not a UUID or sha_hex not 64 lowercase hex digits. */
int gl_filestore_rel_path(const char *org_id, const char *sha_hex, char *out, size_t out_len) GL_WUR;

/* The garbage collector's question to its caller: does a row name the
 * content (org_id, sha_hex)? check may take a lock that release gives back;
 * gc unlinks an unreferenced content between the two. A check that fails
 * (not GL_OK) stops the collection with its error; release is still called. */
typedef struct {
    int (*check)(void *ctx, const char *org_id, const char *sha_hex, bool *referenced, gl_err_t *err);
    void (*release)(void *ctx);
    void *ctx;
} gl_filestore_refs_t;

typedef struct {
    int64_t temp_files, temp_bytes;       /* temporary files removed */
    int64_t content_files, content_bytes; /* unreferenced contents removed */
    int64_t kept_files;                   /* contents still named */
} gl_filestore_gc_t;

/*
 * Removes the temporary files last modified more than temp_hours ago and
 * every content refs says no row names; what it removed is added to *rep
 * (zeroed by the caller). Names that are not the store's are left alone.
 * A store that does not exist yet is empty: GL_OK.
 */
int gl_filestore_gc(const char *dir, int temp_hours, const gl_filestore_refs_t *refs, gl_filestore_gc_t *rep,
                    gl_err_t *err) GL_WUR;

#endif
