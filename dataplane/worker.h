/* SPDX-License-Identifier: BSD-3-Clause */
/* Worker lcores: their per-worker state, launch and stop (control thread). */
#ifndef TESS_WORKER_H
#define TESS_WORKER_H

#include "dp.h"

/* One worker per EAL worker lcore, in lcore order, with every module's state in it. */
int dp_workers_init(void);
unsigned dp_worker_count(void);
struct dp_worker *dp_worker_get(unsigned idx);
int dp_workers_start(void);
void dp_workers_stop(void);
void dp_workers_free(void);

int dp_worker_main(void *arg);
/* Runs fn on worker 0 once per poll (dp_workers_init adds the modules' worker_poll). */
void dp_worker_poll_add(void (*fn)(struct dp_worker *w, const struct dp_snapshot *s));

#endif
