/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT44 logging (nat.logging): a record per session created and deleted, or per port block
 * allocated and freed. Workers put fixed-size binary records in a ring of their own (single
 * producer, single consumer: no lock, no allocation, no formatting, no syscall; a full ring
 * is a counted loss, never a wait); the control thread (nat_poll) drains the rings in
 * batches, formats a text line per record and appends each batch to the file with one
 * write(), rotating it by size. Deletions and frees happen on the control thread (expiry,
 * removal): they go through a ring of its own, drained after the workers' rings.
 */
#ifndef TESS_NAT_LOG_H
#define TESS_NAT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What an instance logs (nat_inst.log). */
#define NAT_LOG_OFF      0
#define NAT_LOG_SESSIONS 1
#define NAT_LOG_BLOCKS   2

/* Events, as the line shows them. */
#define NAT_LOG_CREATE 'C'
#define NAT_LOG_DELETE 'D'
#define NAT_LOG_ALLOC  'A'
#define NAT_LOG_FREE   'F'
#define NAT_LOG_END    'E' /* logging stops or changes mode: every open binding ends here */

/* One record: 40 bytes, written whole by its producer before it publishes it. */
struct nat_log_rec {
	uint64_t tsc;                            /* when (TSC) */
	uint64_t dur;                            /* a deletion: the session's life, TSC ticks */
	uint32_t inside, outside, remote;        /* network order (a block: no remote) */
	uint16_t in_port, out_port, remote_port; /* network order */
	uint16_t out_last;                       /* a block: its last port, host order */
	uint16_t slot;                           /* the instance */
	uint8_t event, proto;
};
_Static_assert(sizeof(struct nat_log_rec) == 40, "a record is 40 bytes");

/* A ring: head written by its producer only, tail by its consumer only (own cache lines). */
struct nat_log_ring {
	uint32_t head;      /* producer: next to write */
	uint32_t tail_seen; /* producer: its last read of tail (reads the consumer's line less) */
	uint64_t lost;      /* producer: records that found the ring full */
	uint8_t pad0[48];
	uint32_t tail; /* consumer: next to read */
	uint32_t mask; /* size - 1 */
	uint8_t pad1[56];
	struct nat_log_rec r[];
};

/* Producer: puts rec in q; false (counted in lost) if q is full. */
static inline bool nat_log_put(struct nat_log_ring *q, const struct nat_log_rec *rec)
{
	uint32_t h = q->head;

	if (h - q->tail_seen > q->mask) {
		q->tail_seen = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
		if (h - q->tail_seen > q->mask) {
			__atomic_store_n(&q->lost, q->lost + 1, __ATOMIC_RELAXED);
			return false;
		}
	}
	q->r[h & q->mask] = *rec;
	__atomic_store_n(&q->head, h + 1, __ATOMIC_RELEASE);
	return true;
}

/* Consumer: up to max records of q into out; returns how many. */
static inline uint32_t nat_log_take(struct nat_log_ring *q, struct nat_log_rec *out, uint32_t max)
{
	uint32_t t = q->tail, n = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) - t;

	if (n > max)
		n = max;
	for (uint32_t i = 0; i < n; i++)
		out[i] = q->r[(t + i) & q->mask];
	__atomic_store_n(&q->tail, t + n, __ATOMIC_RELEASE);
	return n;
}

/* Records waiting in q (any thread). */
static inline uint32_t nat_log_backlog(const struct nat_log_ring *q)
{
	return __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
}

/* Bytes of a ring of size records (a power of two); its memory is zeroed, then mask set. */
static inline size_t nat_log_ring_bytes(uint32_t size)
{
	return sizeof(struct nat_log_ring) + (size_t)size * sizeof(struct nat_log_rec);
}

static inline void nat_log_ring_init(struct nat_log_ring *q, uint32_t size)
{
	q->mask = size - 1;
}

/* The workers' rings of a snapshot (shared by snapshots of the same ring size; counted). */
struct nat_log_rings {
	uint32_t refs; /* control thread */
	uint32_t size;
	unsigned n; /* workers */
	struct nat_log_ring *w[];
};

/* What a line names besides the record: times resolved, instance and inside VRF named. */
struct nat_log_names {
	uint64_t unix_ms; /* the record's time */
	uint64_t dur_ms;  /* a deletion's duration */
	const char *inst, *vrf;
};

/* The longest line, newline included. */
#define NAT_LOG_LINE_MAX 192

/*
 * One line for rec, newline-terminated, in buf (at least NAT_LOG_LINE_MAX bytes); returns
 * its length. Sessions: "TIME C|D PROTO INSTANCE VRF INSIDE:PORT PUBLIC:PORT REMOTE:PORT"
 * and a deletion's duration in seconds; blocks: "TIME A|F - INSTANCE VRF INSIDE
 * PUBLIC:FIRST-LAST"; the end of logging: "TIME E - - - stopped". TIME is UTC, ISO 8601 with
 * milliseconds.
 */
size_t nat_log_format(char *buf, const struct nat_log_rec *rec, const struct nat_log_names *nm);

#endif
