/* SPDX-License-Identifier: BSD-3-Clause */
/* The FIB against a linear-scan reference: random routes, every prefix boundary, many VRFs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>

#include "fib.h"
#include "rcu.h"
#include "unit_eal.h"

#define TEST_RAND_SEED 0x9e3779b97f4a7c15ull /* this file's own sequence */
#include "test_rand.h"

static int eal_setup(void **state)
{
	(void)state;
	if (unit_eal_init("fib", 512, NULL) < 0)
		return -1;
	/* No readers: every deferred free is due at the next reclaim. */
	return dp_rcu_init(1);
}

static int eal_teardown(void **state)
{
	(void)state;
	dp_rcu_fini();
	return unit_eal_cleanup();
}

struct route {
	uint32_t ip;
	uint8_t len;
	uint32_t value;
	bool live;
};

#define MAX_ROUTES 4096

struct ref {
	struct route r[MAX_ROUTES];
	unsigned n;
};

static uint32_t mask(uint8_t len)
{
	return len ? UINT32_MAX << (32 - len) : 0;
}

static uint32_t ref_lookup(const struct ref *ref, uint32_t ip)
{
	int best = -1;
	uint32_t v = FIB_NO_ROUTE;

	for (unsigned i = 0; i < ref->n; i++) {
		const struct route *r = &ref->r[i];
		if (r->live && (ip & mask(r->len)) == r->ip && r->len > best) {
			best = r->len;
			v = r->value;
		}
	}
	return v;
}

/* A length with extra weight on the stride boundaries and their neighbours. */
static uint8_t rnd_len(void)
{
	static const uint8_t hot[] = { 0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32 };

	return rnd() % 2 ? hot[rnd() % sizeof(hot)] : (uint8_t)(rnd() % 33);
}

static void ref_set(struct ref *ref, uint32_t ip, uint8_t len, uint32_t value)
{
	ip &= mask(len);
	for (unsigned i = 0; i < ref->n; i++) {
		if (ref->r[i].live && ref->r[i].ip == ip && ref->r[i].len == len) {
			ref->r[i].value = value;
			return;
		}
	}
	assert_true(ref->n < MAX_ROUTES);
	ref->r[ref->n++] = (struct route){ ip, len, value, true };
}

static void check(const struct fib *f, uint16_t vrf, const struct ref *ref, unsigned randoms)
{
	/* Zeroed: gcc 12 (-O2 with ASan or -fanalyzer) sees the last call's n as maybe 0. */
	uint32_t ips[64] = { 0 }, out[64];
	uint16_t vrfs[64] = { 0 };
	unsigned n = 0;

	for (unsigned i = 0; i < ref->n + randoms; i++) {
		uint32_t probes[4];
		unsigned np;

		if (i < ref->n) {
			const struct route *r = &ref->r[i];
			uint32_t last = r->ip | ~mask(r->len);
			probes[0] = r->ip;
			probes[1] = last;
			probes[2] = r->ip - 1; /* just outside, on both sides */
			probes[3] = last + 1;
			np = 4;
		} else {
			probes[0] = rnd() << 16 ^ rnd();
			np = 1;
		}
		for (unsigned k = 0; k < np; k++) {
			uint32_t want = ref_lookup(ref, probes[k]);
			uint32_t got = fib_lookup(f, vrf, probes[k]);
			if (got != want)
				fail_msg("vrf %u ip %08x: fib %u, reference %u", vrf, probes[k],
					 got, want);
			vrfs[n] = vrf;
			ips[n++] = probes[k];
			if (n == 64) {
				fib_lookup_bulk(f, vrfs, ips, out, n);
				for (unsigned j = 0; j < n; j++)
					assert_int_equal(out[j], ref_lookup(ref, ips[j]));
				n = 0;
			}
		}
	}
	fib_lookup_bulk(f, vrfs, ips, out, n);
	for (unsigned j = 0; j < n; j++)
		assert_int_equal(out[j], ref_lookup(ref, ips[j]));
}

/*
 * The nodes a trie of ref's live routes holds: its root and one below each
 * /8, /16 and /24 that a longer route lies in (per-VRF shares count so).
 */
static uint32_t ref_nodes(const struct ref *ref)
{
	uint32_t n = 1;

	for (unsigned level = 1; level <= 3; level++) {
		for (unsigned i = 0; i < ref->n; i++) {
			const struct route *r = &ref->r[i];
			uint32_t m = mask((uint8_t)(8 * level));
			bool seen = false;
			if (!r->live || r->len <= 8 * level)
				continue;
			for (unsigned j = 0; j < i && !seen; j++)
				seen = ref->r[j].live && ref->r[j].len > 8 * level &&
				       ((ref->r[j].ip ^ r->ip) & m) == 0;
			n += !seen;
		}
	}
	return n;
}

#define VRFS 20

static void test_random_routes_against_reference(void **state)
{
	static struct ref refs[VRFS + 1];
	struct fib *f = malloc(sizeof(*f));
	struct fib_mem m;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fib_init(f, 0), 0);
	for (uint16_t v = 1; v <= VRFS; v++) {
		memset(&refs[v], 0, sizeof(refs[v]));
		assert_int_equal(fib_vrf_add(f, v), 0);
	}
	/* Add: in every VRF, some of the same prefixes as others with other values. */
	for (uint16_t v = 1; v <= VRFS; v++) {
		for (unsigned i = 0; i < 400; i++) {
			uint32_t ip = i < 50 && v > 1 ? refs[1].r[i].ip : rnd() << 16 ^ rnd();
			uint8_t len = i < 50 && v > 1 ? refs[1].r[i].len : rnd_len();
			uint32_t value = 1 + rnd() % FIB_VALUE_MAX;
			uint32_t had = fib_nodes(f, v), need = fib_nodes_needed(f, v, ip, len);
			assert_int_equal(fib_add(f, v, ip, len, value), 0);
			assert_int_equal(fib_nodes(f, v), had + need); /* foretold exactly */
			assert_int_equal(fib_nodes_needed(f, v, ip, len), 0);
			ref_set(&refs[v], ip, len, value);
		}
		assert_int_equal(fib_nodes(f, v), ref_nodes(&refs[v]));
	}
	for (uint16_t v = 1; v <= VRFS; v++) {
		assert_true(fib_home(f, v) >= 0); /* lookups start at homes too */
		check(f, v, &refs[v], 2000);
	}
	/* Replace and delete, checking as we go. */
	for (uint16_t v = 1; v <= VRFS; v++) {
		struct ref *ref = &refs[v];
		for (unsigned i = 0; i < ref->n; i++) {
			struct route *r = &ref->r[i];
			uint32_t old;
			if (!r->live)
				continue;
			if (rnd() % 3 == 0) {
				r->value = 1 + rnd() % FIB_VALUE_MAX;
				assert_int_equal(fib_add(f, v, r->ip, r->len, r->value), 0);
			} else if (rnd() % 2) {
				assert_int_equal(fib_del(f, v, r->ip, r->len, &old), 0);
				assert_int_equal(old, r->value);
				r->live = false;
				assert_int_equal(fib_del(f, v, r->ip, r->len, NULL), -ENOENT);
			}
			if (i % 50 == 0) {
				check(f, v, ref, 200);
				assert_int_equal(fib_nodes(f, v), ref_nodes(ref));
			}
		}
		check(f, v, ref, 2000);
		assert_int_equal(fib_nodes(f, v), ref_nodes(ref));
	}
	/* Everything goes: the tries fold back to their roots. */
	for (uint16_t v = 1; v <= VRFS; v++) {
		for (unsigned i = 0; i < refs[v].n; i++) {
			struct route *r = &refs[v].r[i];
			if (r->live)
				assert_int_equal(fib_del(f, v, r->ip, r->len, NULL), 0);
			r->live = false;
		}
		check(f, v, &refs[v], 500);
		assert_int_equal(fib_count(f, v), 0);
		assert_int_equal(fib_nodes(f, v), 1);
	}
	dp_rcu_reclaim();
	fib_memory(f, &m);
	assert_int_equal(m.nodes, VRFS);
	for (uint16_t v = 1; v <= VRFS; v++) {
		fib_vrf_del(f, v);
		assert_int_equal(fib_nodes(f, v), 0);
	}
	fib_memory(f, &m);
	assert_int_equal(m.nodes, 0);
	fib_fini(f);
	free(f);
}

/*
 * Bursts whose every lookup is in another VRF (a provider edge's traffic):
 * fib_lookup_bulk gives what fib_lookup gives one by one, on random tables
 * of many VRFs (nodes of all of them interleaved in the pool), absent VRFs too.
 */
static void test_bulk_across_vrfs(void **state)
{
	enum { N_VRFS = 300 };
	struct fib *f = malloc(sizeof(*f));
	uint32_t ips[64] = { 0 }, out[64], seen[2] = { 0, 0 };
	uint16_t vrfs[64] = { 0 };

	(void)state;
	assert_non_null(f);
	assert_int_equal(fib_init(f, 0), 0);
	for (uint16_t v = 1; v <= N_VRFS; v++)
		assert_int_equal(fib_vrf_add(f, v), 0);
	for (unsigned i = 0; i < N_VRFS * 40; i++) {
		uint16_t v = (uint16_t)(1 + rnd() % N_VRFS);
		/* Half in 10.0.0.0/16, shared by all VRFs' plans; the rest anywhere. */
		uint32_t ip = rnd() % 2 ? 0x0a000000 | (rnd() & 0xffff) : rnd() << 16 ^ rnd();
		assert_int_equal(fib_add(f, v, ip, rnd_len(), 1 + rnd() % FIB_VALUE_MAX), 0);
	}
	for (unsigned r = 0; r < 20000; r++) {
		unsigned n = 1 + rnd() % 64;
		for (unsigned i = 0; i < n; i++) {
			vrfs[i] = (uint16_t)(rnd() % (N_VRFS + 10)); /* some with no FIB */
			ips[i] = rnd() % 2 ? 0x0a000000 | (rnd() & 0xffff) : rnd() << 16 ^ rnd();
		}
		fib_lookup_bulk(f, vrfs, ips, out, n);
		for (unsigned i = 0; i < n; i++) {
			uint32_t want = fib_lookup(f, vrfs[i], ips[i]);
			if (out[i] != want)
				fail_msg("vrf %u ip %08x: bulk %u, one by one %u", vrfs[i], ips[i],
					 out[i], want);
			seen[want != FIB_NO_ROUTE]++;
		}
	}
	assert_true(seen[0] > 10000 && seen[1] > 10000);
	fib_fini(f);
	free(f);
}

static void test_nested_and_default(void **state)
{
	struct fib f;

	(void)state;
	fib_init(&f, 0);
	assert_int_equal(fib_vrf_add(&f, 7), 0);
	assert_int_equal(fib_lookup(&f, 7, 0x0a000001), FIB_NO_ROUTE);
	fib_add(&f, 7, 0, 0, 1);           /* 0.0.0.0/0 */
	fib_add(&f, 7, 0x0a000000, 8, 2);  /* 10.0.0.0/8 */
	fib_add(&f, 7, 0x0a010000, 16, 3); /* 10.1.0.0/16 */
	fib_add(&f, 7, 0x0a010100, 24, 4); /* 10.1.1.0/24 */
	fib_add(&f, 7, 0x0a010101, 32, 5); /* 10.1.1.1/32 */
	fib_add(&f, 7, 0x0a010180, 25, 6); /* 10.1.1.128/25 */
	assert_int_equal(fib_lookup(&f, 7, 0x0a010101), 5);
	assert_int_equal(fib_lookup(&f, 7, 0x0a010102), 4);
	assert_int_equal(fib_lookup(&f, 7, 0x0a0101ff), 6);
	assert_int_equal(fib_lookup(&f, 7, 0x0a01ff00), 3);
	assert_int_equal(fib_lookup(&f, 7, 0x0aff0000), 2);
	assert_int_equal(fib_lookup(&f, 7, 0x0b000000), 1);
	/* Deleting the middle of the chain hands its space to the next one out. */
	assert_int_equal(fib_del(&f, 7, 0x0a010100, 24, NULL), 0);
	assert_int_equal(fib_lookup(&f, 7, 0x0a010102), 3);
	assert_int_equal(fib_lookup(&f, 7, 0x0a010101), 5);
	assert_int_equal(fib_lookup(&f, 7, 0x0a0101ff), 6);
	assert_int_equal(fib_del(&f, 7, 0, 0, NULL), 0);
	assert_int_equal(fib_lookup(&f, 7, 0x0b000000), FIB_NO_ROUTE);
	/* Host bits of the prefix are ignored. */
	assert_int_equal(fib_get(&f, 7, 0x0a01ffff, 16), 3);
	/* Bad input. */
	assert_int_equal(fib_add(&f, 7, 0, 33, 1), -EINVAL);
	assert_int_equal(fib_add(&f, 7, 0, 8, 0), -EINVAL);
	assert_int_equal(fib_add(&f, 7, 0, 8, FIB_VALUE_MAX + 1), -EINVAL);
	assert_int_equal(fib_add(&f, 8, 0, 8, 1), -ENOENT);
	assert_int_equal(fib_vrf_add(&f, 7), -EEXIST);
	assert_int_equal(fib_vrf_add(&f, 0), -EINVAL);
	assert_int_equal(fib_vrf_add(&f, FIB_MAX_VRFS), -EINVAL);
	/* The same prefix in another VRF is another route. */
	fib_vrf_add(&f, 8);
	fib_add(&f, 8, 0x0a010101, 32, 99);
	assert_int_equal(fib_lookup(&f, 8, 0x0a010101), 99);
	assert_int_equal(fib_lookup(&f, 7, 0x0a010101), 5);
	assert_int_equal(fib_lookup(&f, 8, 0x0a010102), FIB_NO_ROUTE);
	fib_vrf_del(&f, 7);
	assert_int_equal(fib_lookup(&f, 7, 0x0a010101), FIB_NO_ROUTE);
	fib_fini(&f);
}

/*
 * A VRF's home /16: lookups there start at its node of /24s, and give what
 * the walk from the root gives; the home moves when its node folds away.
 */
static void test_home(void **state)
{
	struct fib f;

	(void)state;
	fib_init(&f, 0);
	assert_int_equal(fib_vrf_add(&f, 3), 0);
	assert_int_equal(fib_home(&f, 3), -1);
	fib_add(&f, 3, 0, 0, 1);           /* 0.0.0.0/0 */
	fib_add(&f, 3, 0x0a000000, 8, 2);  /* 10.0.0.0/8 */
	fib_add(&f, 3, 0x0a010000, 16, 3); /* 10.1.0.0/16: no node of /24s yet */
	assert_int_equal(fib_home(&f, 3), -1);
	fib_add(&f, 3, 0x0a010500, 24, 4); /* 10.1.5.0/24 */
	fib_add(&f, 3, 0xc0a80000, 24, 5); /* 192.168.0.0/24: another /16 */
	fib_add(&f, 3, 0x0a010580, 25, 6); /* 10.1.5.128/25 */
	assert_int_equal(fib_home(&f, 3), 0x0a01);
	assert_int_equal(fib_lookup(&f, 3, 0x0a010501), 4);
	assert_int_equal(fib_lookup(&f, 3, 0x0a0105ff), 6);
	assert_int_equal(fib_lookup(&f, 3, 0x0a010601), 3); /* home, pushed down from the /16 */
	assert_int_equal(fib_lookup(&f, 3, 0x0a020501), 2); /* same /8, not home */
	assert_int_equal(fib_lookup(&f, 3, 0xc0a80001), 5);
	/* A shorter route's change reaches the home's entries it covers. */
	fib_del(&f, 3, 0x0a010000, 16, NULL);
	assert_int_equal(fib_lookup(&f, 3, 0x0a010601), 2);
	assert_int_equal(fib_home(&f, 3), 0x0a01);
	/* Its last longer route gone, the home's node folds: the next /16 with one is home. */
	fib_del(&f, 3, 0x0a010500, 24, NULL);
	assert_int_equal(fib_home(&f, 3), 0x0a01);
	fib_del(&f, 3, 0x0a010580, 25, NULL);
	assert_int_equal(fib_home(&f, 3), 0xc0a8);
	assert_int_equal(fib_lookup(&f, 3, 0x0a010501), 2);
	assert_int_equal(fib_lookup(&f, 3, 0xc0a80001), 5);
	assert_int_equal(fib_lookup(&f, 3, 0xc0a80101), 1);
	fib_del(&f, 3, 0xc0a80000, 24, NULL);
	assert_int_equal(fib_home(&f, 3), -1);
	assert_int_equal(fib_lookup(&f, 3, 0xc0a80001), 1);
	dp_rcu_reclaim();
	fib_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_and_default),
		cmocka_unit_test(test_home),
		cmocka_unit_test(test_random_routes_against_reference),
		cmocka_unit_test(test_bulk_across_vrfs),
	};
	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
