/*
 * listen.c: a listening socket from a configured address (see listen.h).
 */
#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_tcp(const char *what, const char *spec, int backlog, gl_err_t *err)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    size_t hlen = (size_t)(colon - spec);
    if (hlen >= sizeof host) {
        gl_err_set(err, "%s: host too long", what);
        return -1;
    }
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int gai = getaddrinfo(hlen ? host : NULL, colon + 1, &hints, &ai);
    if (gai != 0) {
        gl_err_set(err, "%s %s: %s", what, spec, gai_strerror(gai));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
        gl_err_set(err, "cannot listen on %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int listen_unix(const char *what, const char *path, int mode, int backlog, gl_err_t *err)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        gl_err_set(err, "%s path is longer than %zu bytes: %s", what, sizeof sa.sun_path - 1, path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path));

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        gl_err_set(err, "socket: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            gl_err_set(err, "%s exists and is not a socket; not replacing it", path);
            close(fd);
            return -1;
        }
        /* a socket someone still answers on is in use; else it is stale */
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            gl_err_set(err, "%s is in use by a running server", path);
            close(fd);
            return -1;
        }
        close(fd);
        unlink(path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            gl_err_set(err, "socket: %s", strerror(errno));
            return -1;
        }
    }
    mode_t old = umask(0777 & ~(mode_t)mode);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc != 0 || chmod(path, (mode_t)mode) != 0 || listen(fd, backlog) != 0) {
        gl_err_set(err, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int gl_listen(const char *what, const char *spec, int mode, int backlog, bool *created, gl_err_t *err)
{
    *created = false;
    if (spec[0] != '/' && strchr(spec, ':'))
        return listen_tcp(what, spec, backlog, err);
    int fd = listen_unix(what, spec, mode, backlog, err);
    *created = fd >= 0;
    return fd;
}
