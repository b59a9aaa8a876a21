/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policers (rte_meter srTCM, RFC 2697, and trTCM, RFC 2698) on ports,
 * vswitch groups, VRFs and router interfaces, in each direction, through
 * the core's hooks (dataplane/hook.h). What the control thread and the
 * workers share: the snapshot part (each attachment's profile), each
 * worker's meters and counters, and the drop reason.
 *
 * Meters are per worker (rte_meter is not thread-safe): an attachment that
 * only one worker can meet (a port's ingress with one RX queue) meters at
 * its full rate there; any other gets rate/n and burst/n on each of the n
 * workers. See README "Policing and metering" for the error bound.
 */
#ifndef TESS_POLICER_H
#define TESS_POLICER_H

#include <rte_meter.h>

#include "dp.h"
#include "module.h"

#define POL_DROPS(_) _(POLICED, "policed") /* red: over the policer's rate */

#define POL_DROP_ENUM(id, name) POL_DROP_##id,
enum pol_drop { POL_DROP_FIRST_ = DP_DROP_CORE_MAX - 1, POL_DROPS(POL_DROP_ENUM) POL_DROP_MAX };
extern struct dp_drop_set pol_drops;

#define POL_METERS TESS_POL_MAX_METERS

/* One attachment's profile as workers use it. gen changes when the profile does. */
struct pol_profile {
	uint32_t gen;
	uint8_t type;       /* enum tess_pol_type */
	uint8_t color;      /* enum tess_pol_color */
	int8_t yellow_dscp; /* -1: yellow frames unchanged */
	union {
		struct rte_meter_srtcm_profile sr;
		struct rte_meter_trtcm_profile tr;
	};
};

/* The policer's part of a snapshot: each hooked object's attachment, and the attachments. */
struct pol_part {
	uint16_t slot[DP_HOOK_KINDS][DP_HOOK_DIRS][DP_HOOK_IDS];
	struct pol_profile prof[POL_METERS];
};

/* A worker's meter of one attachment, made afresh when its profile's gen changes. */
struct pol_meter {
	uint32_t gen;
	union {
		struct rte_meter_srtcm sr;
		struct rte_meter_trtcm tr;
	};
};

/* Per attachment and worker: frames and bytes by colour met, red dropped, yellow re-marked. */
struct pol_counters {
	uint64_t pkts[RTE_COLORS], bytes[RTE_COLORS];
	uint64_t dropped, remarked;
};

struct pol_worker {
	struct pol_meter meter[POL_METERS];
	struct pol_counters cnt[POL_METERS];
};

extern struct tess_module pol_module;

struct dp_hook;
extern struct dp_hook pol_dp_hook; /* its hook (hook.h): policer_datapath.c */
uint32_t pol_hook(struct dp_worker *w, const struct dp_snapshot *s, unsigned kind, unsigned dir,
		  uint16_t id, uint16_t port, struct rte_mbuf **pkts, uint16_t n, uint64_t now);

#endif
