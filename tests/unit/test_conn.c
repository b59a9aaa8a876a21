/* SPDX-License-Identifier: BSD-3-Clause */
/* The connection table: both directions, states and timeouts, limits, capacity, races. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_hash_crc.h>

#include "conn.h"
#include "fw_conn.h"
#include "rcu.h"
#include "unit_eal.h"

#define HZ 1000 /* timeouts in "ticks" of a millisecond: now is whatever the test says */

static int eal_setup(void **state)
{
	(void)state;
	if (unit_eal_init("conn", 256, NULL) < 0)
		return -1;
	/* Three readers, offline unless a test makes them read: then grace periods pass at once. */
	return dp_rcu_init(3);
}

static int eal_teardown(void **state)
{
	(void)state;
	dp_rcu_fini();
	return unit_eal_cleanup();
}

static struct conn_table *table(uint32_t cap, unsigned workers, conn_keep_fn keep, void *arg)
{
	struct conn_params p = { .name = "t",
				 .capacity = cap,
				 .workers = workers,
				 .owners = 16,
				 .socket = 0,
				 .tsc_hz = HZ,
				 .keep = keep,
				 .keep_arg = arg };
	struct conn_table *t = conn_create(&p);

	assert_non_null(t);
	for (unsigned o = 0; o < 16; o++)
		assert_int_equal(conn_owner_set(t, o, cap, NULL), 0);
	return t;
}

static struct conn_tuple tup(uint16_t vrf, uint8_t proto, uint32_t src, uint16_t sport,
			     uint32_t dst, uint16_t dport)
{
	return (struct conn_tuple){ .src = rte_cpu_to_be_32(src),
				    .dst = rte_cpu_to_be_32(dst),
				    .sport = rte_cpu_to_be_16(sport),
				    .dport = rte_cpu_to_be_16(dport),
				    .vrf = vrf,
				    .proto = proto };
}

static void test_both_directions(void **state)
{
	struct conn_table *t = table(1024, 1, NULL, NULL);
	/* A NAT entry: 10.0.0.5:1234 -> 8.8.8.8:53 leaves as 100.64.0.1:5000 in VRF 2. */
	struct conn_tuple o = tup(1, 17, 0x0a000005, 1234, 0x08080808, 53);
	struct conn_tuple r = tup(2, 17, 0x08080808, 53, 0x64400001, 5000);
	struct conn_tuple miss = tup(2, 17, 0x08080808, 53, 0x64400001, 5001);
	uint64_t user[2] = { 42, 43 };
	struct conn_entry *e, *f;
	int err = 0, dir = -1;

	(void)state;
	e = conn_new(t, 0, 3, 0, &o, &r, user, 0, 100, &err);
	assert_non_null(e);
	f = conn_lookup(t, &o, &dir);
	assert_ptr_equal(f, e);
	assert_int_equal(dir, CONN_ORIG);
	f = conn_lookup(t, &r, &dir);
	assert_ptr_equal(f, e);
	assert_int_equal(dir, CONN_REPLY);
	assert_int_equal(e->user[0], 42);
	assert_int_equal(e->owner, 3);
	assert_null(conn_lookup(t, &miss, &dir));
	/* Its reverse is not its reply tuple here (NAT), so not found either. */
	struct conn_tuple rev = conn_tuple_reverse(&o);
	assert_null(conn_lookup(t, &rev, &dir));
	assert_int_equal(conn_owner_count(t, 3), 1);
	/* The same original tuple again is a clash, and so is the same reply tuple. */
	assert_null(conn_new(t, 0, 3, 0, &o, &miss, NULL, 0, 100, &err));
	assert_int_equal(err, -EEXIST);
	struct conn_tuple o2 = tup(1, 17, 0x0a000006, 1234, 0x08080808, 53);
	assert_null(conn_new(t, 0, 3, 0, &o2, &r, NULL, 0, 100, &err));
	assert_int_equal(err, -EEXIST);

	/* A firewall entry: reply = reverse of original. */
	struct conn_tuple fo = tup(4, 6, 0x0a000005, 40000, 0x0a000009, 22);
	struct conn_tuple fr = conn_tuple_reverse(&fo);
	e = conn_new(t, 0, 4, 0, &fo, &fr, NULL, 0x02, 100, &err);
	assert_non_null(e);
	assert_ptr_equal(conn_lookup(t, &fr, &dir), e);
	assert_int_equal(dir, CONN_REPLY);

	struct conn_stats st;
	conn_stats_get(t, &st);
	assert_int_equal(st.created, 2);
	assert_int_equal(st.clash, 2);
	assert_int_equal(st.live, 2);
	conn_destroy(t);
}

static void test_tcp_states_and_timeouts(void **state)
{
	struct conn_table *t = table(64, 1, NULL, NULL);
	struct conn_timeouts to;
	struct conn_tuple o = tup(1, 6, 0x0a000005, 40000, 0x01020304, 80);
	struct conn_tuple r = conn_tuple_reverse(&o);
	struct conn_entry *e;
	int err, dir;

	(void)state;
	conn_timeouts_default(&to);
	to.sec[CONN_TCP_SYN] = 5;
	to.sec[CONN_TCP_EST] = 100;
	to.sec[CONN_TCP_CLOSING] = 2;
	assert_int_equal(conn_owner_set(t, 1, 10, &to), 0);
	e = conn_new(t, 0, 1, 0, &o, &r, NULL, 0x02, 0, &err);
	assert_non_null(e);
	assert_int_equal(conn_state_of(e), CONN_TCP_SYN);
	assert_int_equal(conn_expires_in(t, e, 1 * HZ), 4);
	/* SYN-ACK back: established. */
	conn_hit(e, CONN_REPLY, 0x12, 1 * HZ);
	assert_int_equal(conn_state_of(e), CONN_TCP_EST);
	assert_int_equal(conn_expire(t, 50 * HZ, 64), 0); /* past SYN's, within established */
	assert_non_null(conn_lookup(t, &o, &dir));
	/* One FIN: still established; both: closing, gone after 2 s idle. */
	conn_hit(e, CONN_ORIG, 0x11, 60 * HZ);
	assert_int_equal(conn_state_of(e), CONN_TCP_EST);
	conn_hit(e, CONN_REPLY, 0x11, 60 * HZ);
	assert_int_equal(conn_state_of(e), CONN_TCP_CLOSING);
	assert_int_equal(conn_expire(t, 61 * HZ, 64), 0);
	assert_int_equal(conn_expire(t, 63 * HZ, 64), 1);
	assert_null(conn_lookup(t, &o, &dir));
	assert_null(conn_lookup(t, &r, &dir));
	assert_int_equal(conn_owner_count(t, 1), 0);

	/* An RST closes at once too; a SYN never answered expires by its own timeout. */
	e = conn_new(t, 0, 1, 0, &o, &r, NULL, 0x02, 100 * HZ, &err);
	assert_non_null(e);
	assert_int_equal(conn_expire(t, 104 * HZ, 64), 0);
	assert_int_equal(conn_expire(t, 106 * HZ, 64), 1);
	e = conn_new(t, 0, 1, 0, &o, &r, NULL, 0x02, 200 * HZ, &err);
	conn_hit(e, CONN_REPLY, 0x04, 200 * HZ);
	assert_int_equal(conn_state_of(e), CONN_TCP_CLOSING);

	/* UDP: one way, then both; ICMP. */
	struct conn_tuple u = tup(1, 17, 0x0a000005, 5353, 0x01020304, 53);
	struct conn_tuple ur = conn_tuple_reverse(&u);
	e = conn_new(t, 0, 1, 0, &u, &ur, NULL, 0, 0, &err);
	assert_int_equal(conn_state_of(e), CONN_UDP_SINGLE);
	assert_int_equal(conn_expires_in(t, e, 0), 30);
	conn_hit(e, CONN_REPLY, 0, 0);
	assert_int_equal(conn_state_of(e), CONN_UDP_BOTH);
	assert_int_equal(conn_expires_in(t, e, 0), 300);
	conn_kill(e);
	assert_int_equal(conn_expire(t, 0, 64), 1);
	assert_null(conn_lookup(t, &ur, &dir));
	struct conn_tuple i = tup(1, 1, 0x0a000005, 7, 0x01020304, 7);
	e = conn_new(t, 0, 1, CONN_F_ONEWAY, &i, NULL, NULL, 0, 0, &err);
	assert_int_equal(conn_state_of(e), CONN_ICMP);
	assert_int_equal(conn_expires_in(t, e, 0), 60);
	conn_destroy(t);
}

/* A brief entry (a NAT fragment record) expires CONN_BRIEF_SEC idle, whatever its protocol's
 * timeout under its owner: it held the owner's limit for TCP's 240 s before. */
static void test_brief_entries(void **state)
{
	struct conn_table *t = table(64, 1, NULL, NULL);
	struct conn_tuple tcp = tup(1, 6, 0x0a000005, 17, 0x01020304, 0);
	struct conn_tuple udp = tup(1, 17, 0x0a000005, 18, 0x01020304, 0);
	struct conn_entry *e;
	int err, dir;

	(void)state;
	tcp.pad = udp.pad = 1;
	e = conn_new(t, 0, 1, CONN_F_ONEWAY | CONN_F_BRIEF, &tcp, NULL, NULL, 0, 0, &err);
	assert_non_null(e);
	assert_int_equal(conn_state_of(e), CONN_TCP_SYN);
	assert_int_equal(conn_expires_in(t, e, 0), CONN_BRIEF_SEC);
	assert_non_null(
		conn_new(t, 0, 1, CONN_F_ONEWAY | CONN_F_BRIEF, &udp, NULL, NULL, 0, 0, &err));
	/* Each fragment refreshes it; idle past CONN_BRIEF_SEC, the scan takes both. */
	conn_hit(e, CONN_ORIG, 0, 1 * HZ);
	assert_int_equal(conn_expire(t, (CONN_BRIEF_SEC + 1) * HZ - 1, 64), 1);
	assert_non_null(conn_lookup(t, &tcp, &dir));
	assert_int_equal(conn_expire(t, (CONN_BRIEF_SEC + 1) * HZ + 1, 64), 1);
	assert_null(conn_lookup(t, &tcp, &dir));
	assert_int_equal(conn_owner_count(t, 1), 0);
	conn_destroy(t);
}

static void test_owner_limit(void **state)
{
	struct conn_table *t = table(1024, 1, NULL, NULL);
	struct conn_entry *e[3];
	int err;

	(void)state;
	assert_int_equal(conn_owner_set(t, 5, 3, NULL), 0);
	assert_int_equal(conn_owner_set(t, 99, 3, NULL), -EINVAL);
	for (int i = 0; i < 3; i++) {
		struct conn_tuple o = tup(1, 17, 0x0a000001, 1000 + i, 0x01010101, 53);
		struct conn_tuple r = conn_tuple_reverse(&o);

		e[i] = conn_new(t, 0, 5, 0, &o, &r, NULL, 0, 0, &err);
		assert_non_null(e[i]);
	}
	struct conn_tuple o = tup(1, 17, 0x0a000001, 2000, 0x01010101, 53);
	struct conn_tuple r = conn_tuple_reverse(&o);
	assert_null(conn_new(t, 0, 5, 0, &o, &r, NULL, 0, 0, &err));
	assert_int_equal(err, -EDQUOT);
	/* Another owner is not affected. */
	assert_non_null(conn_new(t, 0, 6, 0, &o, &r, NULL, 0, 0, &err));
	struct conn_stats st;
	conn_stats_get(t, &st);
	assert_int_equal(st.tenant_limit, 1);
	/* A removal makes room again; flushing an owner takes all of its entries. */
	conn_remove(t, e[0]);
	struct conn_tuple o2 = tup(1, 17, 0x0a000001, 2001, 0x01010101, 53);
	struct conn_tuple r2 = conn_tuple_reverse(&o2);
	assert_non_null(conn_new(t, 0, 5, 0, &o2, &r2, NULL, 0, 0, &err));
	assert_int_equal(conn_flush_owner(t, 5), 3);
	assert_int_equal(conn_owner_count(t, 5), 0);
	assert_int_equal(conn_owner_count(t, 6), 1);
	conn_destroy(t);
}

/* ok + 1 flows of owner (in its VRF) created by worker: ok made, the last refused (want_err). */
static void create_flows(struct conn_table *t, unsigned worker, uint16_t owner, uint32_t ok,
			 int want_err)
{
	int err;

	for (uint32_t i = 0; i <= ok; i++) {
		struct conn_tuple o =
			tup(owner, 17, 0x0a000001, (uint16_t)(1000 + i), 0x01010101, 53);
		struct conn_tuple r = conn_tuple_reverse(&o);
		struct conn_entry *e = conn_new(t, worker, owner, 0, &o, &r, NULL, 0, 0, &err);

		if (i < ok)
			assert_non_null(e);
		else
			assert_int_equal(err, want_err);
	}
}

/*
 * A tenant whose flows all land on one worker is held to its limit, not to
 * that worker's slice: the worker borrows from the others' slices (counted),
 * and the entries go back to their own slices.
 */
static void test_a_worker_borrows_when_its_slice_is_empty(void **state)
{
	struct conn_table *t = table(64, 4, NULL, NULL); /* slices of 16 */
	struct conn_stats st;
	int err;

	(void)state;
	assert_int_equal(conn_owner_set(t, 5, 40, NULL), 0);
	create_flows(t, 2, 5, 40, -EDQUOT); /* the tenant's limit, not the slice's */
	conn_stats_get(t, &st);
	assert_int_equal(st.borrowed, 24);
	/* 24 entries left, in the other slices: another tenant takes them from worker 2. */
	create_flows(t, 2, 6, 24, -ENOSPC);
	/* All back, each in its own slice: every worker fills exactly its slice, then none. */
	conn_flush_owner(t, 5);
	conn_flush_owner(t, 6);
	conn_expire(t, 0, 0);
	conn_stats_get(t, &st);
	uint64_t borrowed = st.borrowed;
	for (unsigned w = 0; w < 4; w++)
		for (uint32_t i = 0; i < 16; i++) {
			struct conn_tuple o = tup(3, 17, 0x0c000001, (uint16_t)(1000 + 16 * w + i),
						  0x01010101, 53);
			assert_non_null(
				conn_new(t, w, 7, CONN_F_ONEWAY, &o, NULL, NULL, 0, 0, &err));
		}
	conn_stats_get(t, &st);
	assert_int_equal(st.borrowed, borrowed);
	conn_destroy(t);
}

/*
 * A tenant one below its limit hammering a clashing tuple: each withdrawn
 * creation stays charged to it until the next conn_expire, which gives it
 * back at once (not when the cursor comes round), so the worker's slice
 * stays for the others.
 */
static void test_withdrawals_stay_charged(void **state)
{
	struct conn_table *t = table(1024, 1, NULL, NULL);
	struct conn_tuple x = tup(1, 17, 0x0a000001, 1000, 0x01010101, 53);
	struct conn_tuple xr = conn_tuple_reverse(&x);
	struct conn_stats st;
	int err, dir;

	(void)state;
	assert_int_equal(conn_owner_set(t, 1, 2, NULL), 0);
	assert_non_null(conn_new(t, 0, 1, 0, &x, &xr, NULL, 0, 0, &err));
	for (int i = 0; i < 5000; i++) {
		assert_null(conn_new(t, 0, 1, 0, &x, &xr, NULL, 0, 0, &err));
		assert_int_equal(err, i == 0 ? -EEXIST : -EDQUOT);
	}
	conn_stats_get(t, &st);
	assert_int_equal(st.clash, 1);
	assert_int_equal(st.live, 1);
	assert_int_equal(conn_owner_count(t, 1), 2);
	/* Another tenant on the same worker has the rest of the slice. */
	for (uint32_t i = 0; i < 1022; i++) {
		struct conn_tuple o = tup(2, 17, 0x0a100000 + i, 1000, 0x01010101, 53);
		struct conn_tuple r = conn_tuple_reverse(&o);

		assert_non_null(conn_new(t, 0, 2, 0, &o, &r, NULL, 0, 0, &err));
	}
	/* One expiry call over one entry takes the withdrawn one; the next gives it back. */
	conn_expire(t, 0, 1);
	assert_int_equal(conn_owner_count(t, 1), 1);
	conn_expire(t, 0, 1);
	struct conn_tuple last = tup(2, 17, 0x0a200000, 1000, 0x01010101, 53);
	struct conn_tuple lr = conn_tuple_reverse(&last);
	assert_non_null(conn_new(t, 0, 2, 0, &last, &lr, NULL, 0, 0, &err));
	assert_non_null(conn_lookup(t, &x, &dir));
	conn_destroy(t);
}

/* splitmix64: the i-th random number of a stream, so a test can make a tuple again. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The i-th random connection: a NAT-like original and reply tuple (random hashes). */
static void rnd_conn(uint32_t i, struct conn_tuple *o, struct conn_tuple *r)
{
	uint64_t a = mix(2 * (uint64_t)i), b = mix(2 * (uint64_t)i + 1);

	*o = tup(1, 6, (uint32_t)a, (uint16_t)(a >> 32), (uint32_t)b, (uint16_t)(b >> 32));
	*r = tup(2, 6, (uint32_t)b, (uint16_t)(b >> 32), (uint32_t)(a >> 16) ^ 0x64000000,
		 (uint16_t)(b >> 48));
}

/* Fills a table of cap random connections over 2 workers: every entry must be usable. */
static struct conn_table *fill(uint32_t cap)
{
	struct conn_table *t = table(cap, 2, NULL, NULL);
	struct conn_tuple o, r;
	uint32_t made = 0, i;
	int err = 0, dir;

	assert_int_equal(conn_owner_set(t, 1, cap + 1, NULL), 0);
	uint64_t t0 = rte_rdtsc();
	for (i = 0; i < cap; i++) {
		rnd_conn(i, &o, &r);
		if (conn_new(t, i & 1, 1, 0, &o, &r, NULL, 0, 0, &err) == NULL)
			break;
		made++;
	}
	uint64_t t1 = rte_rdtsc();
	if (made != cap)
		printf("# table of %u: creation %u failed (%d)\n", cap, made, err);
	assert_int_equal(made, cap); /* no index overflow at full load */
	/* Every one is found both ways. */
	for (i = 0; i < cap; i++) {
		rnd_conn(i, &o, &r);
		assert_non_null(conn_lookup(t, &r, &dir));
		assert_int_equal(dir, CONN_REPLY);
	}
	uint64_t t2 = rte_rdtsc();
	for (i = 0; i < cap; i++) {
		rnd_conn(i, &o, &r);
		assert_non_null(conn_lookup(t, &o, &dir));
	}
	printf("# full table of %u: %.0f cycles a create, %.0f a lookup\n", cap,
	       (double)(t1 - t0) / cap, (double)(t2 - t1) / cap);
	return t;
}

/*
 * Full tables of random tuples (sequential ones would spread evenly): at
 * 100,000 and at 2^17, where the index is 50% full.
 */
static void test_capacity(void **state)
{
	const uint32_t cap = 100000;
	struct conn_table *t = fill(cap);
	struct conn_stats st;
	int err;

	(void)state;
	struct conn_tuple o = tup(1, 6, 0x0b000000, 1000, 0x01010101, 80);
	struct conn_tuple r = conn_tuple_reverse(&o);
	assert_null(conn_new(t, 0, 1, 0, &o, &r, NULL, 0, 0, &err));
	assert_int_equal(err, -ENOSPC);
	conn_stats_get(t, &st);
	assert_int_equal(st.table_full, 1);
	/* Expiry in slices: a full pass takes capacity / slice calls, then entries come back. */
	uint32_t gone = 0;
	for (int k = 0; k < 10; k++)
		gone += conn_expire(t, 1000000 * (uint64_t)HZ, cap / 10);
	assert_int_equal(gone, cap);
	conn_expire(t, 1000000 * (uint64_t)HZ, 0); /* reclaim: the grace period has passed */
	assert_non_null(conn_new(t, 0, 1, 0, &o, &r, NULL, 0, 0, &err));
	conn_destroy(t);
	conn_destroy(fill(1u << 17));
}

/* The hash before review finding 5: CRC32C with a fixed seed, affine in the tuple's bits. */
static uint32_t crc_hash(const struct conn_tuple *k)
{
	const uint64_t *w = (const uint64_t *)k;

	return rte_hash_crc_8byte(w[1], rte_hash_crc_8byte(w[0], 0x7e55e4a));
}

/* The tuple base with the bits of d (64: dst address, then ports) flipped. */
static struct conn_tuple flip(struct conn_tuple base, uint64_t d)
{
	uint64_t *w = (uint64_t *)&base;

	w[0] ^= (d & 0xffffffffull) << 32; /* dst */
	w[1] ^= d >> 32;                   /* sport, dport */
	return base;
}

/*
 * 64 tuples a tenant can choose (destination address and ports) that all
 * had one CRC hash, so one bucket pair (16 slots), found by solving the
 * CRC's linear map: the keyed hash spreads them, all are created.
 */
static void test_chosen_collisions(void **state)
{
	struct conn_tuple base = tup(1, 17, 0x0a000005, 0, 0, 0);
	uint64_t piv_v[32] = { 0 }, piv_c[32] = { 0 }, kernel[6];
	uint32_t c0 = crc_hash(&base);
	int nk = 0, err, dir;

	(void)state;
	/* Gaussian elimination over GF(2): combinations of flips with no effect on the CRC. */
	for (int i = 0; i < 64 && nk < 6; i++) {
		struct conn_tuple x = flip(base, 1ull << i);
		uint64_t v = crc_hash(&x) ^ c0, c = 1ull << i;

		for (int b = 31; b >= 0; b--)
			if (v >> b & 1) {
				if (piv_v[b] == 0) {
					piv_v[b] = v;
					piv_c[b] = c;
					break;
				}
				v ^= piv_v[b];
				c ^= piv_c[b];
			}
		if (v == 0)
			kernel[nk++] = c;
	}
	assert_int_equal(nk, 6);
	struct conn_table *t = table(1024, 1, NULL, NULL);
	for (uint32_t m = 0; m < 64; m++) {
		uint64_t d = 0;

		for (int j = 0; j < 6; j++)
			if (m >> j & 1)
				d ^= kernel[j];
		struct conn_tuple k = flip(base, d);
		assert_int_equal(crc_hash(&k), c0); /* all one CRC hash */
		assert_non_null(conn_new(t, 0, 1, CONN_F_ONEWAY, &k, NULL, NULL, 0, 0, &err));
		assert_non_null(conn_lookup(t, &k, &dir));
	}
	/* Each table has its own key. */
	struct conn_table *t2 = table(1024, 1, NULL, NULL);
	assert_true(conn_hash(t, &base) != conn_hash(t2, &base));
	conn_destroy(t2);
	conn_destroy(t);
}

struct kept {
	unsigned asked, forced;
	bool keep;
};

static bool keep_cb(void *arg, struct conn_entry *e, bool forced)
{
	struct kept *k = arg;

	(void)e;
	if (forced)
		k->forced++;
	else
		k->asked++;
	return !forced && k->keep;
}

static void test_keep_callback(void **state)
{
	struct kept k = { .keep = true };
	struct conn_table *t = table(64, 1, keep_cb, &k);
	struct conn_tuple o = tup(1, 17, 0x0a000005, 1234, 0, 0);
	struct conn_entry *e;
	int err, dir;

	(void)state;
	e = conn_new(t, 0, 1, CONN_F_ONEWAY, &o, NULL, NULL, 0, 0, &err);
	assert_non_null(e);
	assert_int_equal(conn_expire(t, 1000 * HZ, 64), 0);
	assert_int_equal(k.asked, 1);
	assert_non_null(conn_lookup(t, &o, &dir)); /* kept and refreshed */
	assert_int_equal(conn_expire(t, 1010 * HZ, 64), 0);
	assert_int_equal(k.asked, 1);
	k.keep = false;
	assert_int_equal(conn_expire(t, 2000 * HZ, 64), 1);
	assert_null(conn_lookup(t, &o, &dir));
	e = conn_new(t, 0, 1, CONN_F_ONEWAY, &o, NULL, NULL, 0, 0, &err);
	conn_remove(t, e);
	assert_int_equal(k.forced, 1);
	conn_destroy(t);
}

/* A worker's conn_kill landing while keep decides (forced false): keep is asked once only. */
static bool keep_then_killed(void *arg, struct conn_entry *e, bool forced)
{
	struct kept *k = arg;

	if (forced) {
		k->forced++;
		return false;
	}
	k->asked++;
	conn_kill(e); /* what another worker may do at this very moment */
	return false; /* not kept: the service freed what e held (a NAT port) */
}

static void test_kill_during_keep(void **state)
{
	struct kept k = { 0 };
	struct conn_table *t = table(64, 1, keep_then_killed, &k);
	struct conn_tuple o = tup(1, 17, 0x0a000005, 1234, 0, 0);
	int err, dir;

	(void)state;
	assert_non_null(conn_new(t, 0, 1, CONN_F_ONEWAY, &o, NULL, NULL, 0, 0, &err));
	assert_int_equal(conn_expire(t, 1000 * HZ, 64), 1);
	assert_null(conn_lookup(t, &o, &dir));
	assert_int_equal(k.asked, 1);
	assert_int_equal(k.forced, 0); /* a second call would free the port twice */
	conn_destroy(t);
}

/* Readers racing creation and expiry: a looked-up entry never changes under them. */
#define STABLE 512
#define CHURN  4096

static struct conn_table *rt;
static volatile bool stop;
static volatile unsigned long bad, misses, reads, churn_hits;

static void *reader(void *arg)
{
	unsigned tid = (unsigned)(uintptr_t)arg;

	dp_rcu_online(tid);
	while (!stop) {
		for (uint32_t i = 0; i < STABLE; i++) {
			struct conn_tuple k = tup(1, 17, 0x0a000000 + i, 7, 0x01010101, 53);
			int dir;
			struct conn_entry *e = conn_lookup(rt, &k, &dir);

			if (e == NULL)
				misses++;
			else if (!conn_tuple_eq(&e->key[dir], &k))
				bad++;
		}
		for (uint32_t i = 0; i < 64; i++) {
			struct conn_tuple k =
				tup(3, 6, 0x0c000000 + (rand() % CHURN), 9, 0x02020202, 80);
			int dir;
			struct conn_entry *e = conn_lookup(rt, &k, &dir);

			if (e == NULL)
				continue;
			churn_hits++;
			for (int s = 0; s < 200; s++) /* hold it a while, as a burst does */
				if (!conn_tuple_eq(&e->key[dir], &k))
					bad++;
		}
		reads++;
		dp_rcu_quiescent(tid);
	}
	dp_rcu_offline(tid);
	return NULL;
}

/* A second worker creating the same churn tuples: at most one live entry per tuple. */
static volatile unsigned long w1_made;

static void *creator(void *arg)
{
	(void)arg;
	/* A worker: an RCU reader like the others, quiescent between its "bursts". */
	dp_rcu_online(2);
	while (!stop) {
		for (uint32_t i = 0; i < CHURN; i++) {
			struct conn_tuple o = tup(3, 6, 0x0c000000 + i, 9, 0x02020202, 80);
			struct conn_tuple r = conn_tuple_reverse(&o);
			int err;

			if (conn_new(rt, 1, 2, 0, &o, &r, NULL, 0, 0, &err))
				w1_made++;
			if (i % 32 == 31)
				dp_rcu_quiescent(2);
		}
	}
	dp_rcu_offline(2);
	return NULL;
}

static int count_dups(void *arg, struct conn_entry *e)
{
	unsigned *seen = arg;
	uint32_t a = rte_be_to_cpu_32(e->key[CONN_ORIG].src);

	if (e->owner == 2 && a >= 0x0c000000 && a < 0x0c000000 + CHURN)
		seen[a - 0x0c000000]++;
	return 0;
}

/*
 * After everything is removed and reclaimed: no owner holds an entry, and
 * each worker's ring gives exactly its slice back, every entry once (an
 * entry given back twice would serve two tuples: the first is then lost).
 */
static void check_all_free(struct conn_table *t)
{
	struct conn_stats st;
	int err, dir;

	for (unsigned o = 0; o < 16; o++)
		assert_int_equal(conn_owner_count(t, o), 0);
	conn_stats_get(t, &st);
	assert_int_equal(st.live, 0);
	/* The index is empty: no slot left behind pointing at a reused entry. */
	for (size_t i = 0; i < ((size_t)t->bmask + 1) * CONN_BUCKET; i++)
		assert_int_equal(t->slot[i], 0);
	assert_int_equal(conn_owner_set(t, 9, t->capacity + t->workers, NULL), 0);
	uint64_t borrowed = st.borrowed;
	for (unsigned w = 0; w < t->workers; w++) {
		for (uint32_t i = 0; i < t->slice; i++) {
			struct conn_tuple o =
				tup(9, 17, 0x0d000000 + i, (uint16_t)w, 0x03030303, 53);

			assert_non_null(
				conn_new(t, w, 9, CONN_F_ONEWAY, &o, NULL, NULL, 0, 0, &err));
		}
	}
	conn_stats_get(t, &st);
	assert_int_equal(st.borrowed, borrowed); /* each from its own slice */
	for (unsigned w = 0; w < t->workers; w++) {
		struct conn_tuple extra = tup(9, 17, 0x0e000000, (uint16_t)w, 0x03030303, 53);
		assert_null(conn_new(t, w, 9, CONN_F_ONEWAY, &extra, NULL, NULL, 0, 0, &err));
		assert_int_equal(err, -ENOSPC);
		for (uint32_t i = 0; i < t->slice; i++) {
			struct conn_tuple o =
				tup(9, 17, 0x0d000000 + i, (uint16_t)w, 0x03030303, 53);

			assert_non_null(conn_lookup(t, &o, &dir));
		}
	}
	assert_int_equal(conn_owner_count(t, 9), t->capacity);
}

static void test_readers_race_writers(void **state)
{
	pthread_t r[2], c;
	int err;

	(void)state;
	rt = table(CHURN * 4, 2, NULL, NULL);
	for (uint32_t i = 0; i < STABLE; i++) {
		struct conn_tuple o = tup(1, 17, 0x0a000000 + i, 7, 0x01010101, 53);
		struct conn_tuple rr = conn_tuple_reverse(&o);

		assert_non_null(conn_new(rt, 0, 1, 0, &o, &rr, NULL, 0, 0, &err));
	}
	stop = false;
	for (uintptr_t i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&r[i], NULL, reader, (void *)i), 0);
	assert_int_equal(pthread_create(&c, NULL, creator, NULL), 0);
	/* The control thread (and worker 0 from it): create, kill, expire, reclaim, again; 300
	 * rounds, and on a loaded machine more, until the readers and the other worker have
	 * met the churn (the checks below need the race to have happened), 30 s at most. */
	time_t until = time(NULL) + 30;
	for (int round = 0; round < 300 || ((churn_hits == 0 || w1_made == 0 || reads <= 10) &&
					    time(NULL) < until);
	     round++) {
		for (uint32_t i = 0; i < CHURN; i += 1 + (round & 3)) {
			struct conn_tuple o = tup(3, 6, 0x0c000000 + i, 9, 0x02020202, 80);
			struct conn_tuple rr = conn_tuple_reverse(&o);
			struct conn_entry *e = conn_new(rt, 0, 2, 0, &o, &rr, NULL, 0, 0, &err);

			if (e && (i & 1))
				conn_kill(e);
		}
		conn_expire(rt, 0, CHURN * 4);
		/* Remove everything of the churn owner, again and again, racing worker 1's
		 * creations. */
		for (int f = 0; f < 20; f++)
			conn_flush_owner(rt, 2);
	}
	stop = true;
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	pthread_join(c, NULL);
	unsigned *seen = calloc(CHURN, sizeof(*seen));
	conn_foreach(rt, count_dups, seen);
	for (uint32_t i = 0; i < CHURN; i++)
		assert_true(seen[i] <= 1);
	free(seen);
	assert_int_equal(bad, 0);
	assert_int_equal(misses, 0);
	assert_true(reads > 10);
	assert_true(churn_hits > 0);
	assert_true(w1_made > 0);
	/* Counts and rings intact: nothing removed twice, uncounted twice or freed twice. */
	conn_flush_owner(rt, 1);
	conn_flush_owner(rt, 2);
	conn_expire(rt, 0, rt->capacity);
	conn_expire(rt, 0, 0); /* the grace period has passed: all back in the rings */
	check_all_free(rt);
	conn_destroy(rt);
}

static void test_bad_params(void **state)
{
	struct conn_params p = { .capacity = 10, .workers = 0, .owners = 1 };

	(void)state;
	assert_null(conn_create(&p));
	p.workers = 20;
	assert_null(conn_create(&p));
	p.workers = 1;
	p.owners = 0;
	assert_null(conn_create(&p));
}

/*
 * The firewall's tuple of a TCP segment: its flags only from a whole 20-byte header (a
 * shorter one is not tracked: byte 13 was read past the packet, steering the connection's
 * state); a quoted segment (an ICMP error's 8 bytes) still has its ports.
 */
static void test_fw_tuple_of_a_short_tcp_segment(void **state)
{
	uint8_t pkt[60] = { 0 };
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	struct conn_tuple t;
	uint8_t flags = 0xff;

	(void)state;
	ip->version_ihl = 0x45;
	ip->next_proto_id = IPPROTO_TCP;
	pkt[20] = 0x04; /* sport 1025 */
	pkt[21] = 0x01;
	pkt[23] = 80;
	pkt[33] = 0x02; /* SYN */
	pkt[40] = 0x14; /* past the header: RST|ACK, were it read as flags */
	assert_true(fw_tuple_at(ip, 40, 7, &t, &flags));
	assert_int_equal(flags, 0x02);
	assert_int_equal(rte_be_to_cpu_16(t.sport), 1025);
	assert_int_equal(rte_be_to_cpu_16(t.dport), 80);
	assert_int_equal(t.vrf, 7);
	for (uint32_t avail = 28; avail < 40; avail++) {
		flags = 0xff;
		assert_false(fw_tuple_at(ip, avail, 7, &t, &flags));
		assert_int_equal(flags, 0);
	}
	memset(&t, 0, sizeof(t));
	assert_true(fw_tuple_at(ip, 28, 7, &t, NULL));
	assert_int_equal(rte_be_to_cpu_16(t.sport), 1025);
	assert_int_equal(rte_be_to_cpu_16(t.dport), 80);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions),
		cmocka_unit_test(test_tcp_states_and_timeouts),
		cmocka_unit_test(test_brief_entries),
		cmocka_unit_test(test_owner_limit),
		cmocka_unit_test(test_a_worker_borrows_when_its_slice_is_empty),
		cmocka_unit_test(test_withdrawals_stay_charged),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_chosen_collisions),
		cmocka_unit_test(test_keep_callback),
		cmocka_unit_test(test_kill_during_keep),
		cmocka_unit_test(test_readers_race_writers),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_fw_tuple_of_a_short_tcp_segment),
	};
	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
