/*
 * bare_fcgi.c: the calibration peer of tests/bench/api — the smallest prefork
 * libfcgi responder, optionally with one prepared `SELECT 1` per request.
 * usage: bench_bare_fcgi SOCKET WORKERS [CONNINFO]
 */
#include <fcgiapp.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SOCKET WORKERS [CONNINFO]\n", argv[0]);
        return 2;
    }
    FCGX_Init();
    int fd = FCGX_OpenSocket(argv[1], 1024);
    if (fd < 0)
        return 1;
    long n = strtol(argv[2], NULL, 10);
    for (long i = 0; i < n; i++) {
        if (fork() != 0)
            continue;
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        PGconn *c = NULL;
        if (argc > 3) {
            c = PQconnectdb(argv[3]);
            PQclear(PQprepare(c, "one", "SELECT 1", 0, NULL));
        }
        FCGX_Request r;
        FCGX_InitRequest(&r, fd, 0);
        while (FCGX_Accept_r(&r) >= 0) {
            if (c)
                PQclear(PQexecPrepared(c, "one", 0, NULL, NULL, NULL, 0));
            FCGX_FPrintF(r.out, "Content-Type: application/json\r\n\r\n{\"ok\":true}");
            FCGX_Finish_r(&r);
        }
        _exit(0);
    }
    for (;;)
        pause();
}
