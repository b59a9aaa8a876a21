/* SPDX-License-Identifier: BSD-3-Clause */
/* rte_log types of tessd: tess.dp (dataplane control), tess.ctl (API). Never per packet. */
#ifndef TESS_LOG_H
#define TESS_LOG_H

#include <rte_log.h>

#include "tlog.h"

extern int tess_logtype_dp;
extern int tess_logtype_ctl;

#define DP_LOG(lvl, fmt, ...) \
	rte_log(RTE_LOG_##lvl, tess_logtype_dp, "tess.dp: " fmt "\n", ##__VA_ARGS__)
#define CTL_LOG(lvl, fmt, ...) \
	rte_log(RTE_LOG_##lvl, tess_logtype_ctl, "tess.ctl: " fmt "\n", ##__VA_ARGS__)

/*
 * A line with structured fields (tlog.h): TESS_PORT, TESS_TENANT in the journal; on stderr
 * the line as DP_LOG's. The fields ride in a thread-local for the stream's write.
 */
extern __thread const struct tlog_fields *dp_log_fields;
#define DP_LOG_F(lvl, f, fmt, ...)               \
	do {                                     \
		dp_log_fields = (f);             \
		DP_LOG(lvl, fmt, ##__VA_ARGS__); \
		dp_log_fields = NULL;            \
	} while (0)
/* A port's fields: its name, and its tenant label if it has one (a VRF's: DP_VRF_FIELDS). */
#define DP_PORT_FIELDS(cfg) \
	TLOG_F(.port = (cfg)->name, .tenant_name = (cfg)->tenant[0] ? (cfg)->tenant : NULL)
/* A VRF's (anything with name and tenant): TESS_VRF, and TESS_TENANT if labelled. */
#define DP_VRF_FIELDS(v) \
	TLOG_F(.vrf = (v)->name, .tenant_name = (v)->tenant[0] ? (v)->tenant : NULL)

/* rte_log to the journal when stderr is it ($JOURNAL_STREAM, tlog.h); else stderr.
 * -1 (said) when $TESS_JOURNAL_SOCKET is too long a path. */
int dp_log_init(void);
/* log.get, log.set: rte_log types' levels at run time (log_api.c). */
int log_api_register(void);

#endif
