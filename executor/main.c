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
 * (maintainer.c), which never runs jobs. The parent only supervises
 * (core/supervisor.c): in --daemon mode it replaces a process that fails;
 * in --drain mode it stops the maintainer once the workers are done, and
 * exits 1 if a worker failed (the database unreachable, outcomes
 * unrecorded).
 */
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "maintainer.h"
#include "migrate.h"
#include "supervisor.h"
#include "workflow_job.h"
#include "job_loop.h"

#include <curl/curl.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            "  --workers N        worker processes (default: executor.workers, 0 = CPUs), each\n"
            "                     running executor.concurrency jobs at once on threads\n"
            "  --linger S         drain: idle seconds before exiting (default 2)\n"
            "  --max-seconds S    drain: stop after S seconds however busy (default 300)\n"
            "  --queue NAME       the queue to work on (default: executor.queue)\n"
            "  -c, --config FILE  read FILE (default: $GLYPHIC_CONFIG, else %s if present)\n"
            "  -h, --help         this text\n"
            "      --version      print the program and schema versions\n"
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

enum { ROLE_WORKER, ROLE_MAINTAINER };

static int run_child(void *arg, int role)
{
    const gl_exec_opts_t *o = arg;
    return role == ROLE_MAINTAINER ? gl_maintainer_run(o) : gl_exec_worker_run(o);
}

/* --daemon replaces a worker that fails; --drain never does, and stops the
 * maintainer once the workers are done. The maintainer is replaced when it
 * fails, until the run ends. */
static int supervise(gl_exec_opts_t *o, int n)
{
    gl_sup_t sup = {
        .roles = { [ROLE_WORKER] = { "worker", n, o->drain ? GL_SUP_ONCE : GL_SUP_KEEP_FAILED, true },
                   [ROLE_MAINTAINER] = { "maintainer", 1, GL_SUP_KEEP_FAILED, false } },
        .n_roles = 2,
        .child = run_child,
        .arg = o,
    };
    gl_log(GL_LOG_INFO, "%s on queue '%s' with %d worker(s)", o->drain ? "draining" : "running", o->queue, n);
    int status = gl_sup_run(&sup);
    gl_log(GL_LOG_INFO, "stopped");
    return status;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "drain", no_argument, NULL, 'd' },       { "daemon", no_argument, NULL, 'D' },
        { "workers", required_argument, NULL, 'w' }, { "linger", required_argument, NULL, 'l' },
        { "max-seconds", required_argument, NULL, 'm' }, { "queue", required_argument, NULL, 'q' },
        { "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },      { NULL, 0, NULL, 0 },
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
        case 'V': printf("glyphic-executor %s (schema %d)\n", GL_VERSION, gl_migrate_latest()); return 0;
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
    gl_log_set_json(cfg.log_json);
    if (gl_log_init("glyphic-executor", cfg.log_level, cfg.log_file) != GL_OK)
        fprintf(stderr, "glyphic-executor: logging to standard error\n");

    gl_db_opts_t dbo = { .conninfo = cfg.db_executor_url, .trusted = true, .appname = "glyphic-executor",
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
    gl_vault_t *vault = NULL;
    if (gl_vault_load(cfg.secrets_key_file, cfg.secrets_old_key_files, &vault, &err) != GL_OK) {
        fprintf(stderr, "glyphic-executor: %s\n", err.msg);
        gl_log(GL_LOG_ERROR, "%s", err.msg);
        gl_config_free(&cfg);
        return 2;
    }
    gl_workflow_job_vault = vault;
    gl_workflow_job_env_allow = cfg.executor_env_allow;
    gl_workflow_job_limits.max_items = cfg.executor_max_items;
    gl_workflow_job_limits.max_bytes = (size_t)cfg.executor_max_execution_bytes;
    gl_workflow_job_limits.allow_private = &cfg.http_allow_private; /* cfg outlives the workers' runs */
    gl_workflow_job_limits.allow_scripts = cfg.http_respond_allow_scripts;
    gl_workflow_job_files.dir = cfg.files_dir; /* cfg outlives the workers' runs */
    gl_workflow_job_files.max_file_bytes = cfg.files_max_file_bytes;
    gl_workflow_job_files.max_bytes_per_org = cfg.files_max_bytes_per_org;
    int n = workers > 0 ? (int)workers : cfg.executor_workers;
    if (n > GL_EXEC_MAX_WORKERS)
        n = GL_EXEC_MAX_WORKERS;

    int status = supervise(&o, n);
    gl_vault_free(vault);
    gl_config_free(&cfg);
    return status;
}
