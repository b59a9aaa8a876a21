/* SPDX-License-Identifier: BSD-3-Clause */
/* Counters as the control thread reports them: summed over workers, minus the last reset. */
#ifndef TESS_STATS_H
#define TESS_STATS_H

#include <jansson.h>

#include "dp.h"
#include "port.h"

struct dp_hw_drops {
	uint64_t rx_missed, rx_errors, rx_nombuf, tx_errors;
};

/* Sums counters over the workers: of(w, i) is worker w's copy of item i. */
void dp_counters_sum(struct dp_counters *out,
		     const struct dp_counters *(*of)(unsigned w, unsigned i), unsigned i);
void dp_counters_sub(struct dp_counters *a, const struct dp_counters *b);

void dp_stats_port(const struct dp_port *p, struct dp_counters *out, struct dp_hw_drops *hw);
void dp_stats_worker(unsigned idx, struct dp_worker_counters *out);
/* Makes a port's counters start from zero now (at start and on reset). */
void dp_stats_port_rebase(struct dp_port *p);
void dp_stats_reset(void);
/* Seconds since the last reset. */
double dp_stats_age(void);

/* Everything, with only VRF vrf's VRF and interface counters if vrf is not NULL. */
json_t *dp_stats_json(const struct tessd_cfg *cfg, const char *vrf);

#endif
