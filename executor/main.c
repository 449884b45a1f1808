/*
 * main.c: glyphic-executor — drains the job queue.
 *
 *   --drain   for cron: work until the queue has been empty for --linger
 *             seconds (never longer than --max-seconds), then exit 0. Safe
 *             to overlap with a previous run: claims use SKIP LOCKED.
 *   --daemon  for systemd: run until SIGTERM; a worker that dies is
 *             replaced.
 *
 * Workers are processes (fork), not threads: each has its own connections
 * and its own memory, a handler that crashes takes only its own process
 * (its jobs come back soon after: see rescue_jobs), and libpq and libcurl
 * need no locking. Beside them runs one maintenance process
 * (maintainer.c), which never runs jobs. The parent only supervises: in
 * --daemon mode it replaces a process that dies; in --drain mode it stops
 * the maintainer once the workers are done, and exits 1 if a worker did
 * (the database unreachable, outcomes unrecorded).
 */
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "maintainer.h"
#include "migrate.h"
#include "workflow_job.h"
#include "job_loop.h"

#include <curl/curl.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GL_EXEC_MAX_WORKERS 256

static void usage(FILE *out)
{
    fprintf(out,
            "usage: glyphic-executor (--drain | --daemon) [options]\n"
            "\n"
            "Runs the jobs of Glyphic's PostgreSQL job queue.\n"
            "\n"
            "  --drain            work until the queue is idle for --linger seconds, then exit\n"
            "                     (for cron; overlapping runs share the work safely); exit 1 when\n"
            "                     the database was unreachable for 30 s or at the end of the run\n"
            "  --daemon           run until SIGTERM (for systemd); dead workers are replaced\n"
            "  --workers N        worker processes (default: executor.workers, 0 = CPUs)\n"
            "  --linger S         drain: idle seconds before exiting (default 2)\n"
            "  --max-seconds S    drain: stop after S seconds however busy (default 300)\n"
            "  --queue NAME       the queue to work on (default: executor.queue)\n"
            "  -c, --config FILE  read FILE (default: $GLYPHIC_CONFIG, else %s if present)\n"
            "  -h, --help         this text\n"
            "\n"
            "SIGTERM: running jobs finish, claimed but unstarted jobs are released, then exit.\n"
            "SIGKILL loses nothing: the elected maintainer requeues a dead worker's jobs when their\n"
            "lease expires, and its unstarted workflow runs as soon as its connections are gone.\n"
            "Exit status: 0 success, 1 failure, 2 usage or configuration error.\n"
            "\n"
            "Configuration keys (file `key = value`, or the environment variable):\n",
            GL_CONFIG_DEFAULT_PATH);
    gl_config_help(out);
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static pid_t spawn(const gl_exec_opts_t *o, int (*run)(const gl_exec_opts_t *))
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(run(o));
    if (pid < 0)
        gl_log(GL_LOG_ERROR, "fork failed: %s", strerror(errno));
    return pid;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "drain", no_argument, NULL, 'd' },       { "daemon", no_argument, NULL, 'D' },
        { "workers", required_argument, NULL, 'w' }, { "linger", required_argument, NULL, 'l' },
        { "max-seconds", required_argument, NULL, 'm' }, { "queue", required_argument, NULL, 'q' },
        { "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *config_path = NULL, *queue = NULL;
    int mode = 0;
    int64_t workers = -1, linger = 2, max_seconds = 300;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'd': mode = mode ? -1 : 'd'; break;
        case 'D': mode = mode ? -1 : 'D'; break;
        case 'w':
            if (gl_parse_i64(optarg, 1, GL_EXEC_MAX_WORKERS, &workers) != GL_OK) {
                fprintf(stderr, "glyphic-executor: --workers must be 1-%d\n", GL_EXEC_MAX_WORKERS);
                return 2;
            }
            break;
        case 'l':
            if (gl_parse_i64(optarg, 0, 86400, &linger) != GL_OK) {
                fprintf(stderr, "glyphic-executor: --linger must be 0-86400 seconds\n");
                return 2;
            }
            break;
        case 'm':
            if (gl_parse_i64(optarg, 1, 86400 * 7, &max_seconds) != GL_OK) {
                fprintf(stderr, "glyphic-executor: --max-seconds must be 1-604800\n");
                return 2;
            }
            break;
        case 'q': queue = optarg; break;
        case 'c': config_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (mode <= 0 || optind < argc) {
        fprintf(stderr, "glyphic-executor: give exactly one of --drain or --daemon (see --help)\n");
        return 2;
    }
    gl_config_t cfg;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_config_load(config_path, &cfg, &err) != GL_OK) {
        fprintf(stderr, "glyphic-executor: %s\n", err.msg);
        return 2;
    }
    if (gl_log_init("glyphic-executor", cfg.log_level, cfg.log_file) != GL_OK)
        fprintf(stderr, "glyphic-executor: logging to standard error\n");

    gl_db_opts_t dbo = { .conninfo = cfg.db_executor_url, .appname = "glyphic-executor",
                         .connect_timeout_s = cfg.db_connect_timeout };
    if (gl_db_startup_check(&dbo, "glyphic-executor", "workers keep trying") != GL_OK) {
        gl_config_free(&cfg);
        return 1;
    }

    gl_exec_opts_t o = {
        .cfg = &cfg,
        .queue = queue ? queue : cfg.executor_queue,
        .drain = mode == 'd',
        .linger_ms = linger * 1000,
        .deadline_ms = mode == 'd' ? gl_now_ms() + max_seconds * 1000 : 0,
    };
    curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before the workers fork */
    if (gl_crypto_init() != GL_OK) { /* workers draw random owner names */
        fprintf(stderr, "glyphic-executor: libsodium cannot start\n");
        gl_config_free(&cfg);
        return 1;
    }
    gl_run_env_allow = cfg.executor_env_allow;
    gl_run_limits.max_items = cfg.executor_max_items;
    gl_run_limits.max_bytes = (size_t)cfg.executor_max_execution_bytes;
    gl_run_limits.allow_private = &cfg.http_allow_private; /* cfg outlives the workers' runs */
    gl_run_limits.allow_scripts = cfg.http_respond_allow_scripts;
    int n = workers > 0 ? (int)workers : cfg.executor_workers;
    if (n > GL_EXEC_MAX_WORKERS)
        n = GL_EXEC_MAX_WORKERS;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    pid_t pids[GL_EXEC_MAX_WORKERS];
    for (int i = 0; i < n; i++)
        pids[i] = spawn(&o, gl_exec_worker_run);
    pid_t maint = spawn(&o, gl_maintainer_run);
    gl_log(GL_LOG_INFO, "%s on queue '%s' with %d worker(s)", o.drain ? "draining" : "running", o.queue, n);

    int live = n, status = 0;
    bool forwarded = false, maint_stopped = false;
    int64_t last_crash = 0;
    while (live > 0 || maint > 0) {
        if ((stop_signal || live == 0) && !forwarded) {
            if (stop_signal)
                gl_log(GL_LOG_INFO, "stopping: running jobs finish first");
            for (int i = 0; i < n; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGTERM);
            forwarded = stop_signal != 0;
        }
        if ((stop_signal || live == 0) && maint > 0 && !maint_stopped) {
            kill(maint, SIGTERM);
            maint_stopped = true;
        }
        int ws;
        pid_t pid = waitpid(-1, &ws, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        bool clean = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
        if (!clean)
            gl_log(GL_LOG_WARN, "%s %ld %s %d", pid == maint ? "maintainer" : "worker", (long)pid,
                   WIFSIGNALED(ws) ? "killed by signal" : "exited with", WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
        /* replace what died (a worker only in --daemon mode; the
         * maintainer until the run ends), more slowly if it keeps dying */
        bool replace = !clean && !stop_signal && (pid == maint ? !maint_stopped : !o.drain);
        if (replace && gl_now_ms() - last_crash < 1000)
            sleep(1);
        if (replace)
            last_crash = gl_now_ms();
        if (pid == maint) {
            maint = replace ? spawn(&o, gl_maintainer_run) : -1;
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (pids[i] != pid)
                continue;
            if (replace) {
                pids[i] = spawn(&o, gl_exec_worker_run);
                break;
            }
            if (!clean)
                status = 1;
            pids[i] = -1;
            live--;
            break;
        }
    }
    gl_log(GL_LOG_INFO, "stopped");
    gl_config_free(&cfg);
    return status;
}
