/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessd's own Prometheus endpoint (control.metrics_listen): GET /metrics on a
 * loopback TCP listener, served from the control thread's loop without ever
 * blocking it. The body is tessctl metrics' exposition (prom_stats_format).
 */
#ifndef TESS_METRICS_HTTP_H
#define TESS_METRICS_HTTP_H

#include <stdint.h>

#include "evloop.h"
#include "tessd_config.h"

/* Listens if cfg->metrics_listen is set; 0, or -errno with err filled in. */
int dp_metrics_http_open(const struct tessd_ctl_cfg *cfg, struct evloop *l, char *err, size_t len);
/* Once a second: drops connections older than their deadline. */
void dp_metrics_http_tick(void);
void dp_metrics_http_close(void);

struct dp_metrics_http_counters {
	uint64_t scrapes;   /* GET /metrics answered */
	uint64_t renders;   /* bodies built from stats.get (the others from the cache) */
	uint64_t errors;    /* requests answered 4xx */
	uint64_t refused;   /* connections over the limit, closed at once */
	uint64_t timed_out; /* connections dropped at their deadline (slow clients) */
};
void dp_metrics_http_get_counters(struct dp_metrics_http_counters *c);

#endif
