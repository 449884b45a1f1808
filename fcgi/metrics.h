/*
 * metrics.h: GET /metrics (Prometheus text format) and the counters of
 * glyphic-fcgi behind it, shared by every worker of the pool.
 */
#ifndef GL_FCGI_METRICS_H
#define GL_FCGI_METRICS_H

#include "router.h"

/* Maps the pool's counters: one shared anonymous region, made by the
 * master before it forks, so every worker — of every generation: it
 * survives worker restarts and SIGHUP reloads — counts into it. Counting
 * is off (and GET /metrics answers 503) when the mapping fails. Call
 * once. */
void gl_metrics_init(void);

/*
 * Counts one finished request of `usec` microseconds that waited for the
 * database `round_trips` times: route is the router's route (its pattern
 * is the label, never the raw path), NULL for a webhook (hook) or a path
 * no route took ("other", by method). Atomic adds only: no lock, no
 * database.
 */
void gl_metrics_request(const gl_route_t *route, bool hook, const char *method, int status, int64_t usec,
                        uint64_t round_trips);

/* Adds what the worker's connection counted (errors, reconnects) since
 * the last call. */
void gl_metrics_db(const gl_db_t *db);

extern const gl_resource_t gl_resource_metrics;

#endif
