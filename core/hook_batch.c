/*
 * hook_batch.c: the worker's side of the batch recorder (see hook_batch.h).
 */
#include "hook_batch.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define RETRY_MS 1000 /* after a failed connect, record alone this long */

static const char *const words[] = {
    [GL_HB_RECORDED] = "recorded",
    [GL_HB_CHANGED] = "changed",
    [GL_HB_LIMITED] = "limited",
    [GL_HB_ALONE] = "alone",
};

const char *gl_hb_word(gl_hb_outcome_t o)
{
    return (size_t)o < GL_NELEM(words) && words[o] ? words[o] : "unknown";
}

gl_hb_outcome_t gl_hb_parse(const char *word, size_t n)
{
    for (size_t i = 0; i < GL_NELEM(words); i++)
        if (words[i] && strlen(words[i]) == n && memcmp(words[i], word, n) == 0)
            return (gl_hb_outcome_t)i;
    return GL_HB_UNKNOWN;
}

static int sock = -1;
static int64_t retry_at; /* monotonic ms before which no connect is tried */

static void drop(void)
{
    if (sock >= 0)
        close(sock);
    sock = -1;
}

static bool connect_to(const char *path)
{
    int64_t now = gl_now_ms();
    if (now < retry_at)
        return false;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        return false;
    memcpy(sa.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        retry_at = now + RETRY_MS;
        return false;
    }
    sock = fd;
    return true;
}

/* Waits for the socket to be ready for what (POLLIN/POLLOUT) until the
 * monotonic deadline. */
static bool ready(short what, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - gl_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = { .fd = sock, .events = what };
        int r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (r > 0)
            return (p.revents & what) != 0 || (p.revents & (POLLHUP | POLLERR)) == 0;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

/* Sends the frame (its length, then run) in as few calls as the socket
 * takes, before the deadline; *moved is set once any byte went. False on
 * an error or the deadline. */
static bool send_frame(const unsigned char head[4], const char *run, size_t len, int64_t deadline, bool *moved)
{
    /* (iovec's base is not const; sendmsg only reads it) */
    struct iovec iov[2] = { { .iov_base = (void *)(uintptr_t)head, .iov_len = 4 },
                            { .iov_base = (void *)(uintptr_t)run, .iov_len = len } };
    struct iovec *v = iov;
    int nv = 2;
    while (nv > 0) {
        struct msghdr m = { .msg_iov = v, .msg_iovlen = (size_t)nv };
        ssize_t r = sendmsg(sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r > 0) {
            *moved = true;
            size_t k = (size_t)r;
            while (nv > 0 && k >= v->iov_len) {
                k -= v->iov_len;
                v++;
                nv--;
            }
            if (nv > 0) {
                v->iov_base = (char *)v->iov_base + k;
                v->iov_len -= k;
            }
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && ready(POLLOUT, deadline))
            continue;
        return false;
    }
    return true;
}

/* Receives the answer's frame (its length, then at most max bytes of
 * word) before the deadline: it comes after the batch's commit, so the
 * wait comes first, and the frame usually in one read. Returns the word's
 * length, or 0 on an error, end of file, an oversized frame or the
 * deadline. */
static size_t recv_answer(char *word, size_t max, int64_t deadline)
{
    unsigned char buf[4 + 32];
    size_t have = 0, want = 0; /* want: the frame's size, once its length is in */
    if (max > sizeof buf - 4)
        max = sizeof buf - 4;
    while (want == 0 || have < want) {
        if (!ready(POLLIN, deadline))
            return 0;
        /* no more than one frame is ever owed: more bytes than it holds are
         * a broken peer, and end the connection like any other error */
        ssize_t r = recv(sock, buf + have, sizeof buf - have, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            return 0;
        if (r < 0)
            continue;
        have += (size_t)r;
        if (want == 0 && have >= 4) {
            uint32_t n = gl_hb_get_len(buf);
            if (n == 0 || n > max)
                return 0;
            want = 4 + n;
        }
        if (want && have > want)
            return 0;
    }
    memcpy(word, buf + 4, want - 4);
    return want - 4;
}

/* One attempt on the connection there is (opened if needed). *stale: the
 * connection was closed under us before anything went out. */
static gl_hb_outcome_t attempt(const char *path, const char *run, size_t len, int timeout_ms, bool *stale)
{
    *stale = false;
    bool fresh = false;
    if (sock < 0) {
        if (!connect_to(path))
            return GL_HB_UNSENT;
        fresh = true;
    }
    int64_t deadline = gl_now_ms() + timeout_ms;
    unsigned char head[4];
    gl_hb_put_len(head, (uint32_t)len);
    bool sent = false;
    if (!send_frame(head, run, len, deadline, &sent)) {
        drop();
        *stale = !sent && !fresh;
        return sent ? GL_HB_UNKNOWN : GL_HB_UNSENT;
    }
    char word[31];
    size_t n = recv_answer(word, sizeof word, deadline);
    if (n == 0) {
        drop();
        return GL_HB_UNKNOWN;
    }
    gl_hb_outcome_t o = gl_hb_parse(word, n);
    if (o == GL_HB_UNKNOWN)
        drop();
    return o;
}

gl_hb_outcome_t gl_hb_record(const char *path, const char *run, size_t len, int timeout_ms)
{
    if (len == 0 || len > GL_HOOK_BATCH_MAX_RUN)
        return GL_HB_UNSENT;
    bool stale;
    gl_hb_outcome_t o = attempt(path, run, len, timeout_ms, &stale);
    if (stale) /* glyphic-events closed the kept connection (a restart): once more on a new one */
        o = attempt(path, run, len, timeout_ms, &stale);
    return o;
}
