/* SPDX-License-Identifier: BSD-3-Clause */
/* What the firewall's control-thread files share. */
#ifndef TESS_FW_INT_H
#define TESS_FW_INT_H

#include <jansson.h>

#include "ctl_server.h"
#include "fw.h"

extern uint64_t fw_resets_sent; /* TCP resets answering rejected segments */

/* Its hook's ops (fw_control.c). */
void fw_punted(struct rte_mbuf *m, uint16_t iface, uint16_t vrf);
int fw_mark_egress(const struct tessd_cfg *cfg, uint8_t *on, uint8_t bit);

/* Counters (fw_api.c): a context's rule r (n_rules + FW_CNT_*: the others), all workers. */
struct fw_cnt fw_ctx_count(const struct fw_ctx *c, uint32_t r);
void fw_stats_reset(void);
void fw_stats_json(json_t *stats, const struct tessd_cfg *cfg, const char *vrf);
extern const struct ctl_method fw_methods[];

/*
 * The baseline check (fw_check.c): how cfg's interfaces, vswitch groups and
 * rule sets deviate from its baseline, {"compliant", "deviations": [...], "tenants"}.
 */
json_t *fw_check(const struct tessd_cfg *cfg);

#endif
