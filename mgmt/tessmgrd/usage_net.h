/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Network bytes per tenant in the usage history (issue 16): each usage pass
 * asks every PE router's tessd for stats.tenants (without mgr.lock) and
 * takes, per tenant it serves, its port group's counters there: the
 * switch's tx_bytes toward the group's ports (the trunks to the hosts) are
 * what the tenant's desktops received through the PE ("in"), its rx_bytes
 * from them what they sent through it ("out"). The bytes since the counters
 * last seen (kept in the store, usage_net_last) go into a row per tenant and
 * interval (usage_net), downsampled and kept as the desktops' rows.
 */
#ifndef TESS_MGR_USAGE_NET_H
#define TESS_MGR_USAGE_NET_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "spec.h"

/* One tenant's counters on one router's tessd, as a pass read them. */
struct usage_net_ctr {
	int64_t pid;    /* the tessd's process */
	int64_t uptime; /* its status uptime_sec (monotonic since its start) */
	uint64_t in, out;
};

/*
 * The bytes in and out between last and now. A restarted tessd (another
 * pid, or an uptime lower than last's: no wall clock involved), or a
 * counter lower than last (a stats.reset): both counters are new since
 * then, whole, and 1; else the differences, and 0.
 */
int usage_net_delta(const struct usage_net_ctr *last, const struct usage_net_ctr *now, uint64_t *in,
		    uint64_t *out);

/*
 * The tessd's process of a status answer: 0 with *pid and *uptime, or -1
 * when it lacks an integer pid or uptime_sec (the router is then taken as
 * unanswered). usage_net_same() of the statuses asked before and after
 * stats.tenants: true when no restart came in between (same pid, uptime
 * not lower), so the counters are that process's.
 */
int usage_net_proc(const json_t *status, int64_t *pid, int64_t *uptime);
bool usage_net_same(const json_t *before, const json_t *after);

/* What a pass read of one tenant on one router. */
struct usage_net_look {
	char router[MGR_NAME_LEN];
	uint32_t tenant_id;
	char tenant[MGR_NAME_LEN];
	struct usage_net_ctr ctr;
};

/* What a write did: tenants' rows added, and resets or restarts met. */
struct usage_net_written {
	uint32_t rows, resets;
};

/*
 * In one transaction on db, for routers (n_routers names: those that
 * answered) and their looks ls: for each look, the bytes since the
 * counters last seen of its router and tenant, added to the tenant's raw
 * row starting at t; a pair without a last seen is a baseline (nothing
 * billed) only on a router the store has no row of at all (first pass
 * after an upgrade, a router first seen), else its counters whole (a
 * tenant's group just made there, from 0). Then each router's rows are
 * its looks' counters alone (a pair not in the answer is forgotten: a
 * group made again starts whole) and a marker row of tenant_id 0 (the
 * router known, even with no tenant there); the tenants' names. 0, or
 * -EIO (rolled back).
 */
int usage_net_write(sqlite3 *db, const char *const *routers, uint32_t n_routers,
		    const struct usage_net_look *ls, uint32_t n, int64_t t,
		    struct usage_net_written *w);

/* A tenant's network bytes over a time (chargeback). */
struct usage_net_sum {
	int64_t tenant_id;
	int64_t period; /* the start of the rate period its rows start in; -1: none */
	char tenant[MGR_NAME_LEN];
	uint64_t bytes_in, bytes_out;
	bool billed; /* the chargeback's: its tenant is in the answer */
};
/*
 * The tenants' bytes in rows of every step starting in [from, to) on db
 * (tenant_id 0: every tenant), per tenant and rate period (rate_hist.h), by
 * name and period: 0 with a malloc()ed *out, or -EIO.
 */
int usage_net_sums(sqlite3 *db, int64_t from, int64_t to, int64_t tenant_id,
		   struct usage_net_sum **out, uint32_t *n);

/*
 * The sampler's part (usage_hist.c): asks every router's tessd for its
 * tenants' counters and writes them on db for the interval starting at t.
 * A router that does not answer is left out of this pass (counted:
 * usage_net_unanswered); what it counted meanwhile goes to the next
 * interval it answers in.
 */
void usage_net_sample(sqlite3 *db, int64_t t);

#endif
