/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the firewall shares between the control thread and the workers: a
 * context per rule set and direction (the baseline's rules of that
 * direction, then the set's, in one rte_acl context; immutable once
 * published, shared by snapshots with a control-side reference count),
 * per-rule counters in it (a row per worker, written by that worker alone),
 * and its part of a snapshot: the context of each interface and direction.
 */
#ifndef TESS_FW_H
#define TESS_FW_H

#include <stdint.h>

#include <rte_acl.h>

#include "fib.h"
#include "hook.h"
#include "l3.h"
#include "module.h"
#include "tessd_config.h"

#define FW_DROPS(_)                                                                             \
	_(DROP, "fw_drop")        /* a rule or the default policy said drop */                  \
	_(REJECT, "fw_reject")    /* ... reject (answered with a TCP reset or an ICMP error) */ \
	_(GROUP, "fw_group_drop") /* a group's set refused a frame its ports sent */            \
	_(GROUP_BAD, "fw_group_malformed") /* ... an IPv4 frame it cannot classify */

#define FW_DROP_ENUM(id, name) FW_DROP_##id,
enum fw_drop {
	FW_DROP_NONE_ = DP_DROP_NONE,
	FW_DROP_FIRST_ = DP_DROP_CORE_MAX - 1,
	FW_DROPS(FW_DROP_ENUM) FW_DROP_MAX
};
extern struct dp_drop_set fw_drops;

enum fw_dir { FW_IN, FW_OUT, FW_DIRS };

struct fw_cnt {
	uint64_t pkts, bytes;
};

/* A context's counters past its rules'. */
enum { FW_CNT_DEFAULT, FW_CNT_ESTABLISHED, FW_CNT_RELATED, FW_CNT_EXTRA };

struct fw_ctx {
	struct rte_acl_ctx *acl; /* NULL: no rules (the default for all) */
	uint32_t n_rules;        /* the baseline's, then the set's */
	uint32_t n_base;         /* of them, the baseline's */
	uint8_t dflt;            /* enum tess_fw_action */
	uint32_t stride;         /* counters per worker: a rule each, then FW_CNT_* */
	uint8_t *action;         /* [n_rules] */
	struct fw_cnt *cnt;      /* [workers][stride] */
	/* Control thread only. */
	uint32_t refs;
	uint8_t dir;
	uint64_t sig;
	char set[TESS_NAME_LEN];
	struct fw_cnt *base; /* [stride]: the sums at the last stats reset */
	uint64_t build_us;   /* how long rte_acl_build took */
	size_t mem;          /* the ACL's memory (rte_acl_dump's) */
	struct fw_ctx *next; /* in the list of live contexts */
};

/*
 * A group's connections live in a domain of ids of their own past the VRFs'
 * (conn_tuple.vrf and the owner), so that a tenant's switched flows never
 * meet a VRF's, nor another group's.
 */
#define FW_GROUP_DOM(vlan) ((uint16_t)(FIB_MAX_VRFS + (vlan)))
#define FW_CONN_OWNERS     (FIB_MAX_VRFS + 4096)

/* A group's frames, per worker (fw_worker), in rows of their own. */
struct fw_gcnt {
	uint64_t ipv4;    /* IPv4 frames its set classified */
	uint64_t dropped; /* refused by it, or malformed IPv4 */
	uint64_t passed;  /* not IPv4, or DHCP: not filtered */
};

struct fw_worker {
	struct fw_gcnt grp[4096]; /* by VLAN */
};

struct fw_tables {
	uint32_t refs;                        /* snapshots holding it (control thread) */
	uint16_t ctx[FW_DIRS][L3_MAX_IFACES]; /* interface -> index in ctxs + 1; 0: none */
	uint16_t gctx[4096];                  /* group (VLAN) -> index in ctxs + 1; 0: none */
	uint32_t n_ctx;
	struct fw_ctx **ctxs;
};

extern struct tess_module fw_module;
extern struct l3_hook fw_hook;
extern struct dp_hook fw_group_hook; /* on groups (dataplane/hook.h): "in", IRB "out" */

static inline const struct fw_tables *fw_tables_of(const struct dp_snapshot *s)
{
	return dp_snap_part(s, &fw_module);
}

#endif
