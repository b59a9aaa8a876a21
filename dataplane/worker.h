/* SPDX-License-Identifier: BSD-3-Clause */
/* Worker lcores: their per-worker state, launch and stop (control thread). */
#ifndef TESS_WORKER_H
#define TESS_WORKER_H

#include "dp.h"

/* One worker per EAL worker lcore, in lcore order. */
int dp_workers_init(void);
unsigned dp_worker_count(void);
struct dp_worker *dp_worker_get(unsigned idx);
int dp_workers_start(void);
void dp_workers_stop(void);
void dp_workers_free(void);

int dp_worker_main(void *arg);

#endif
