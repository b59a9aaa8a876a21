/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The records of NAT44 logging (nat_log.h) as workers and the control thread make them from
 * table entries: a session's (its inside, public and remote ends) and a port block's.
 */
#ifndef TESS_NAT_LOG_DP_H
#define TESS_NAT_LOG_DP_H

#include <rte_byteorder.h>

#include "nat.h"
#include "nat_log.h"

/* Session e of n as a record of event ev at tsc. */
static inline void nat_log_session_rec(struct nat_log_rec *r, const struct nat_inst *n,
				       const struct conn_entry *e, uint8_t ev, uint64_t tsc)
{
	/* The inside key: an inbound-made (static) session's is its reply tuple. */
	int in = e->key[CONN_ORIG].vrf == n->in_vrf ? CONN_ORIG : CONN_REPLY;
	const struct conn_tuple *ik = &e->key[in], *ok = &e->key[1 - in];

	*r = (struct nat_log_rec){ .tsc = tsc,
				   .inside = ik->src,
				   .in_port = ik->sport,
				   .outside = ok->dst,
				   .out_port = ok->dport,
				   .remote = ik->dst,
				   .remote_port = ik->dport,
				   .slot = n->slot,
				   .event = ev,
				   .proto = ik->proto };
}

/* Port block b of n's pool, held by inside address inside (network order), at tsc. */
static inline void nat_log_block_rec(struct nat_log_rec *r, const struct nat_inst *n, uint32_t b,
				     uint32_t inside, uint8_t ev, uint64_t tsc)
{
	uint32_t addr;
	uint16_t port;

	nat_pool_addr(n->pool, b, 0, &addr, &port);
	*r = (struct nat_log_rec){ .tsc = tsc,
				   .inside = inside,
				   .outside = rte_cpu_to_be_32(addr),
				   .out_port = rte_cpu_to_be_16(port),
				   .out_last = (uint16_t)(port + n->pool->cfg.block_size - 1),
				   .slot = n->slot,
				   .event = ev };
}

/*
 * Worker: the record of a session it made (log: the snapshot's rings, NULL: off); false if
 * its ring was full (the instance's log_lost).
 */
static inline bool nat_log_created(const struct nat_log_rings *log, unsigned worker,
				   const struct nat_inst *n, const struct conn_entry *e,
				   uint64_t now)
{
	struct nat_log_rec r;

	if (likely(log == NULL) || __atomic_load_n(&n->log, __ATOMIC_RELAXED) != NAT_LOG_SESSIONS ||
	    worker >= log->n)
		return true;
	nat_log_session_rec(&r, n, e, NAT_LOG_CREATE, now);
	return nat_log_put(log->w[worker], &r);
}

/* Worker: the record of block b it allocated to inside address inside; false: ring full. */
static inline bool nat_log_allocated(const struct nat_log_rings *log, unsigned worker,
				     const struct nat_inst *n, uint32_t b, uint32_t inside,
				     uint64_t now)
{
	struct nat_log_rec r;

	if (likely(log == NULL) || __atomic_load_n(&n->log, __ATOMIC_RELAXED) != NAT_LOG_BLOCKS ||
	    worker >= log->n)
		return true;
	nat_log_block_rec(&r, n, b, inside, NAT_LOG_ALLOC, now);
	return nat_log_put(log->w[worker], &r);
}

/* ---- control thread (nat_log.c) ---- */

/* Session e of n is going (expiry, TCP close, removal). */
void nat_log_deleted(const struct nat_inst *n, const struct conn_entry *e);
/* Subscriber record e of n is going: its block b is freed. */
void nat_log_freed(const struct nat_inst *n, const struct conn_entry *e, uint32_t b);

#endif
