/* SPDX-License-Identifier: BSD-3-Clause */
/* rte_log types of tessd: tess.dp (dataplane control), tess.ctl (API). Never per packet. */
#ifndef TESS_LOG_H
#define TESS_LOG_H

#include <rte_log.h>

extern int tess_logtype_dp;
extern int tess_logtype_ctl;

#define DP_LOG(lvl, fmt, ...) \
	rte_log(RTE_LOG_##lvl, tess_logtype_dp, "tess.dp: " fmt "\n", ##__VA_ARGS__)
#define CTL_LOG(lvl, fmt, ...) \
	rte_log(RTE_LOG_##lvl, tess_logtype_ctl, "tess.ctl: " fmt "\n", ##__VA_ARGS__)

/* rte_log to the journal when stderr is it ($JOURNAL_STREAM, tlog.h); else stderr. */
void dp_log_init(void);
/* log.get, log.set: rte_log types' levels at run time (log_api.c). */
int log_api_register(void);

#endif
