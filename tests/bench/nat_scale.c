/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat-scale: the memory of a NAT44 session table holding 1,000,000 sessions.
 *
 * tessd's config rule sizes the table at three entries per session
 * (nat.session_capacity >= 3 x an instance's max_sessions: a session, its
 * mapping record and room for subscriber records), so the table made here is
 * the one tessd makes for 1M sessions. It is filled the way the NAT fills it
 * in the worst case for memory: 1,000 subscribers of 1,000 flows, each flow
 * with its own inside port (a mapping record, indexed one way) and its
 * session (indexed both ways), plus one subscriber record each. Reports the
 * hugepage memory the table takes (DPDK's heap, before and after), creations
 * and lookups per second on one core.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>

#include "conn.h"

#define SUBSCRIBERS 1000
#define FLOWS       1000 /* per subscriber: 1M sessions */
#define SESSIONS    ((uint32_t)SUBSCRIBERS * FLOWS)
#define CAPACITY    (3 * SESSIONS) /* what nat.session_capacity must be for them */
#define INSIDE      10
#define OUTSIDE     20

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap_used(void)
{
	struct rte_malloc_socket_stats st;

	rte_malloc_get_socket_stats(0, &st);
	return st.heap_allocsz_bytes;
}

static struct conn_tuple tup(uint16_t vrf, uint32_t src, uint16_t sport, uint32_t dst,
			     uint16_t dport)
{
	return (struct conn_tuple){ .src = rte_cpu_to_be_32(src),
				    .dst = rte_cpu_to_be_32(dst),
				    .sport = rte_cpu_to_be_16(sport),
				    .dport = rte_cpu_to_be_16(dport),
				    .vrf = vrf,
				    .proto = 17 };
}

/* Subscriber s's flow f: inside 10.s/16 port 1024+f to a server, out from 198.18.x.y. */
static struct conn_tuple flow(uint32_t s, uint32_t f, int reply)
{
	uint32_t in = 0x0a000000 | s, out = 0xc6120000 | (s >> 6);
	uint16_t port = (uint16_t)(1024 + (s & 63) * FLOWS + f % FLOWS);

	if (reply)
		return tup(OUTSIDE, 0x08080808, 53, out, port);
	return tup(INSIDE, in, (uint16_t)(1024 + f), 0x08080808, 53);
}

static int fill(struct conn_table *t, uint64_t *cycles)
{
	uint64_t user[2] = { 0, 0 }, ts = rte_rdtsc();
	int err = 0;

	for (uint32_t s = 0; s < SUBSCRIBERS; s++) {
		struct conn_tuple sub = tup(INSIDE, 0x0a000000 | s, 0, 0, 0);

		if (conn_new(t, 0, 1, CONN_F_ONEWAY, &sub, NULL, user, 0, ts, &err) == NULL)
			return err;
		for (uint32_t f = 0; f < FLOWS; f++) {
			struct conn_tuple o = flow(s, f, 0), r = flow(s, f, 1);
			struct conn_tuple map = tup(INSIDE, 0x0a000000 | s, o.sport, 0, 0);
			uint64_t t0 = rte_rdtsc();

			if (conn_new(t, 0, 1, CONN_F_ONEWAY, &map, NULL, user, 0, ts, &err) ==
				    NULL ||
			    conn_new(t, 0, 0, 0, &o, &r, user, 0, ts, &err) == NULL)
				return err;
			*cycles += rte_rdtsc() - t0;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct conn_params p = {
		.name = "nat_scale", .capacity = CAPACITY, .workers = 1, .owners = 2, .socket = 0
	};
	uint64_t fill_cycles = 0, look_cycles = 0;
	uint32_t missed = 0;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "nat-scale: EAL init failed\n");
		return 1;
	}
	size_t before = heap_used();
	double t0 = now();
	struct conn_table *t = conn_create(&p);

	if (t == NULL || conn_owner_set(t, 0, SESSIONS, NULL) ||
	    conn_owner_set(t, 1, 2 * SESSIONS, NULL)) {
		fprintf(stderr, "nat-scale: no table of %u entries\n", CAPACITY);
		return 1;
	}
	size_t bytes = heap_used() - before;
	int err = fill(t, &fill_cycles);

	if (err) {
		fprintf(stderr, "nat-scale: fill failed (%d) at %" PRIu64 " entries\n", err,
			(uint64_t)conn_owner_count(t, 0));
		return 1;
	}
	double build = now() - t0;
	uint32_t live = conn_owner_count(t, 0);

	srand(1);
	for (uint32_t i = 0; i < SESSIONS; i++) {
		struct conn_tuple k =
			flow((uint32_t)rand() % SUBSCRIBERS, (uint32_t)rand() % FLOWS, i & 1);
		int dir;
		uint64_t c0 = rte_rdtsc();
		const struct conn_entry *e = conn_lookup(t, &k, &dir);

		look_cycles += rte_rdtsc() - c0;
		missed += e == NULL;
	}
	double hz = (double)rte_get_tsc_hz();

	if (missed)
		fprintf(stderr, "nat-scale: %u lookups of live sessions missed\n", missed);
	printf("scenario=nat-scale sessions=%u capacity=%u memory_mib=%.1f bytes_per_session=%.0f "
	       "build_sec=%.2f creates_per_sec=%.0f lookups_per_sec=%.0f\n",
	       live, t->capacity, bytes / 1048576.0, (double)bytes / live, build,
	       live / (fill_cycles / hz), SESSIONS / (look_cycles / hz));
	conn_destroy(t);
	rte_eal_cleanup();
	return live == SESSIONS && missed == 0 ? 0 : 1;
}
