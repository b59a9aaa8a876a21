/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fib-scale: 4094 VRFs of 100 routes and one of 1,000,000 in Tessera's FIB,
 * within 2 GiB of hugepages (EAL's --socket-limit enforces it). Reports
 * memory, build time and bulk lookups per second on random addresses.
 *
 * Small VRFs look like enterprises: prefixes /16 to /30 inside RFC 1918
 * space. The big one looks like an Internet table: mostly /24, then /16-/23,
 * a few shorter and longer ones.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "fib.h"

#define TEST_RAND_SEED 88172645463325252ull /* this file's own sequence */
#include "test_rand.h"

#define SMALL_VRFS   4094
#define SMALL_ROUTES 100
#define BIG_VRF      4095
#define BIG_ROUTES   1000000
#define BULK         32

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void small_route(uint32_t *ip, uint8_t *len)
{
	static const uint32_t base[] = { 0x0a000000, 0xac100000, 0xc0a80000 };
	static const uint8_t blen[] = { 8, 12, 16 };
	unsigned b = rnd() % 3;

	*len = (uint8_t)(16 + rnd() % 15);
	if (*len < blen[b])
		*len = blen[b];
	*ip = base[b] | (rnd() & ~(UINT32_MAX << (32 - blen[b])));
}

static void big_route(uint32_t *ip, uint8_t *len)
{
	unsigned p = rnd() % 100;

	*len = p < 55   ? 24
	       : p < 90 ? (uint8_t)(16 + rnd() % 8)
	       : p < 92 ? (uint8_t)(8 + rnd() % 8)
			: (uint8_t)(25 + rnd() % 8);
	*ip = rnd() << 3 ^ rnd();
}

/* Millions of bulk lookups per second: vrf(i) picks each lookup's VRF. */
static double lookups(const struct fib *f, uint16_t (*vrf)(void), unsigned total, uint64_t *sink)
{
	uint16_t v[BULK];
	uint32_t ip[BULK], out[BULK];
	uint64_t cycles = 0;

	for (unsigned done = 0; done < total; done += BULK) {
		for (unsigned i = 0; i < BULK; i++) {
			v[i] = vrf();
			ip[i] = rnd() << 3 ^ rnd();
		}
		uint64_t t0 = rte_rdtsc();
		fib_lookup_bulk(f, v, ip, out, BULK);
		cycles += rte_rdtsc() - t0;
		for (unsigned i = 0; i < BULK; i++)
			*sink += out[i];
	}
	return (double)total / ((double)cycles / (double)rte_get_tsc_hz()) / 1e6;
}

static uint16_t big_vrf(void)
{
	return BIG_VRF;
}

static uint16_t any_vrf(void)
{
	return (uint16_t)(1 + rnd() % BIG_VRF);
}

int main(int argc, char **argv)
{
	struct rte_malloc_socket_stats st;
	struct fib *f = malloc(sizeof(*f));
	struct fib_mem m;
	uint64_t sink = 0;
	double t0, t_small, t_big;
	unsigned failed = 0;

	if (f == NULL || rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "fib-scale: EAL initialisation failed\n");
		return 1;
	}
	fib_init(f, (int)rte_socket_id());
	t0 = now();
	for (uint16_t v = 1; v <= SMALL_VRFS; v++) {
		fib_vrf_add(f, v);
		while (fib_count(f, v) < SMALL_ROUTES) { /* distinct prefixes */
			uint32_t ip;
			uint8_t len;
			small_route(&ip, &len);
			failed += fib_add(f, v, ip, len, 1 + rnd() % 1000) < 0;
		}
	}
	t_small = now() - t0;
	t0 = now();
	fib_vrf_add(f, BIG_VRF);
	while (fib_count(f, BIG_VRF) < BIG_ROUTES) {
		uint32_t ip;
		uint8_t len;
		big_route(&ip, &len);
		failed += fib_add(f, BIG_VRF, ip, len, 1 + rnd() % 100000) < 0;
	}
	t_big = now() - t0;
	fib_memory(f, &m);
	rte_malloc_get_socket_stats((int)rte_socket_id(), &st);

	/* Warm, then measure. */
	lookups(f, big_vrf, 1 << 20, &sink);
	double big = lookups(f, big_vrf, 32u << 20, &sink);
	double mixed = lookups(f, any_vrf, 32u << 20, &sink);

	printf("vrfs                 %u (+1 with %u routes)\n", SMALL_VRFS, BIG_ROUTES);
	printf("routes               %" PRIu64 " distinct (%u add failures)\n", m.routes, failed);
	printf("build                %.2f s small VRFs, %.2f s big VRF (%.0f routes/s)\n", t_small,
	       t_big, BIG_ROUTES / t_big);
	printf("trie nodes           %" PRIu64 " (%.1f MiB in use, %.1f MiB reserved in chunks)\n",
	       m.nodes, (double)m.node_bytes / 1048576, (double)m.chunk_bytes / 1048576);
	printf("hugepage heap        %.1f MiB allocated of %.1f MiB (EAL socket limit)\n",
	       (double)st.heap_allocsz_bytes / 1048576, (double)st.heap_totalsz_bytes / 1048576);
	printf("control memory       %.1f MiB (route hashes, depth shadow)\n",
	       (double)m.control_bytes / 1048576);
	printf("lookups, 1M VRF      %.1f M/s per core (bulk of %u, random addresses)\n", big,
	       BULK);
	printf("lookups, all VRFs    %.1f M/s per core (random VRF and address) [%" PRIu64 "]\n",
	       mixed, sink & 1);
	printf("scenario=fib-scale vrfs=%u routes=%" PRIu64 " memory_mib=%.1f build_sec=%.2f "
	       "lookups_mps=%.1f lookups_mixed_mps=%.1f\n",
	       SMALL_VRFS + 1, m.routes, (double)st.heap_allocsz_bytes / 1048576, t_small + t_big,
	       big, mixed);
	fib_fini(f);
	free(f);
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
