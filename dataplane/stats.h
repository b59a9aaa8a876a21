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

/*
 * Counter blocks as arrays of uint64_t words, whatever their drop reasons:
 * out = the sum over workers of of(w, i) (size bytes); a -= b; a += b.
 */
void dp_cnt_sum(void *out, size_t size, const void *(*of)(unsigned w, unsigned i), unsigned i);
void dp_cnt_sub(void *a, const void *b, size_t size);
void dp_cnt_acc(void *a, const void *b, size_t size);
/* A module block's drops (n reasons of set) as {name: count} for those not zero; adds to *total. */
json_t *dp_drops_json(const uint64_t *drop, unsigned n, const struct dp_drop_set *set,
		      uint64_t *total);

/* A port's counters and drops (drop[dp_n_drops], by global id) since the reset. */
void dp_stats_port(const struct dp_port *p, struct dp_counters *out, uint64_t *drop,
		   struct dp_hw_drops *hw);
void dp_stats_worker(unsigned idx, struct dp_worker_counters *out);
/* Makes a port's counters start from zero now (at start and on reset). */
void dp_stats_port_rebase(struct dp_port *p);
void dp_stats_reset(void);
/* Seconds since the last reset. */
double dp_stats_age(void);

/* Everything, with only VRF vrf's VRF and interface counters if vrf is not NULL. */
json_t *dp_stats_json(const struct tessd_cfg *cfg, const char *vrf);

#endif
