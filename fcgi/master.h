/* master.h: the prefork master — listening socket, worker supervision. */
#ifndef GL_FCGI_MASTER_H
#define GL_FCGI_MASTER_H

#include "config.h"
#include "worker.h"

/*
 * Returns the listening socket: inherited from systemd (LISTEN_FDS, fd 3) or
 * spawn-fcgi (fd 0 is a listening socket), else a new one at cfg->fcgi_socket
 * (a path for a unix socket, or host:port for TCP). *created is set when a
 * unix socket file was made (and should be removed at exit).
 */
int gl_master_listen(const gl_config_t *cfg, bool *created, gl_err_t *err) GL_WUR;

/*
 * Supervises cfg->fcgi_workers workers on the sockets until SIGTERM/SIGINT
 * (with a webhooks socket, cfg->fcgi_api_workers of them serve only the
 * API).
 * SIGHUP re-reads config_path (NULL: the default lookup) and replaces the
 * workers. *cfg is owned by the master and replaced on reload. Returns the
 * process exit status.
 */
/* vault: the loaded keyring, which the master owns from here on (a reload
 * replaces it). */
int gl_master_run(const gl_listeners_t *l, const char *config_path, gl_config_t *cfg, gl_vault_t *vault);

#endif
