/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT44's record references (review of c5de64f, finding 1): the expiry's keep callback
 * (nat_keep) against a worker taking a reference (nat_ref_take), on a real table.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <rte_byteorder.h>

#include "conn.h"
#include "nat.h"
#include "rcu.h"
#include "unit_eal.h"

#define HZ 1000

static uint64_t block_used[1], port_used[4];
static uint16_t block_slot[4];
static struct nat_pool pool;
static struct nat_inst inst;

static int setup(void **state)
{
	struct conn_params p = { .name = "nat_refs",
				 .capacity = 1024,
				 .workers = 1,
				 .owners = 4,
				 .socket = 0,
				 .tsc_hz = HZ,
				 .keep = nat_keep };

	(void)state;
	if (unit_eal_init("nat_refs", 256, NULL) < 0 || dp_rcu_init(1) < 0)
		return -1;
	nat_conn = conn_create(&p);
	if (nat_conn == NULL)
		return -1;
	for (unsigned o = 0; o < 4; o++)
		conn_owner_set(nat_conn, o, 1024, NULL);
	pool = (struct nat_pool){ .base = 0xcb007101,
				  .n_addrs = 1,
				  .blocks_per_addr = 4,
				  .n_blocks = 4,
				  .block_words = 1,
				  .block_used = block_used,
				  .port_used = port_used,
				  .block_slot = block_slot };
	pool.cfg.port_min = 2000;
	pool.cfg.port_max = 2015;
	pool.cfg.block_size = 4;
	inst = (struct nat_inst){ .slot = 0, .pool = &pool, .max_blocks = 4, .live = true };
	nat_slots[0] = &inst;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nat_slots[0] = NULL;
	conn_destroy(nat_conn);
	nat_conn = NULL;
	dp_rcu_fini();
	return unit_eal_cleanup();
}

static const struct conn_tuple sub_k = { .src = 0x0a00000a, .vrf = 1 };
static const struct conn_tuple map_k = {
	.src = 0x0a00000a, .sport = 0x1234, .vrf = 1, .proto = IPPROTO_UDP
};

static struct conn_entry *rec(const struct conn_tuple *k, uint64_t u0, uint64_t u1, uint64_t now)
{
	uint64_t user[2] = { u0, u1 };
	int err;
	struct conn_entry *e = conn_new(nat_conn, 0, nat_owner_records(0), CONN_F_ONEWAY, k, NULL,
					user, 0, now, &err);

	assert_non_null(e);
	return e;
}

/* Subscriber on block 1 (one mapping), mapping on its port 2 (2006): as a worker makes them. */
static struct conn_entry *sub_and_map(uint64_t now, struct conn_entry **map, uint64_t sessions)
{
	struct conn_entry *s = rec(&sub_k, NAT_SUBSCRIBER | 1ull << 8, 1, now);

	block_used[0] |= 1u << 1;
	port_used[1] |= 1u << 2;
	inst.blocks++;
	*map = rec(&map_k, NAT_MAPPING | 2006ull << 8 | (uint64_t)pool.base << 24,
		   nat_entry_ref(nat_conn, s) << 32 | sessions, now);
	return s;
}

static struct conn_entry *session(struct conn_entry *map, uint16_t dport, uint64_t now)
{
	struct conn_tuple o = map_k,
			  r = { .src = 0x08080808, .dst = 0, .vrf = 2, .proto = IPPROTO_UDP };
	uint64_t user[2] = { NAT_SESSION_PAT, nat_entry_ref(nat_conn, map) };
	struct conn_entry *e;
	int err;

	o.dst = 0x08080808;
	o.dport = dport;
	r.sport = dport;
	r.dst = rte_cpu_to_be_32(pool.base);
	r.dport = rte_cpu_to_be_16(2006);
	e = conn_new(nat_conn, 0, nat_owner_sessions(0), 0, &o, &r, user, 0, now, &err);
	assert_non_null(e);
	return e;
}

/* Expires everything idle at now (a whole scan, twice: records after their sessions). */
static void expire(uint64_t now)
{
	conn_expire(nat_conn, now, nat_conn->capacity);
	conn_expire(nat_conn, now, nat_conn->capacity);
}

/*
 * A worker found an idle mapping with no session just as the expiry let it go: its
 * reference is refused (it looks again and makes a new one), where it used to land on the
 * dead entry; the port, subscriber and block all went back.
 */
static void test_no_reference_on_a_going_record(void **state)
{
	struct conn_entry *map, *sub;

	(void)state;
	sub = sub_and_map(1, &map, 0);
	expire(100 * HZ); /* idle past the UDP and record timeouts */
	assert_false(nat_ref_take(map));
	assert_true(map->user[1] & NAT_REF_DEAD);
	assert_int_equal(port_used[1], 0);
	expire(1000 * HZ); /* the subscriber, its last mapping gone */
	assert_false(nat_ref_take(sub));
	assert_int_equal(block_used[0], 0);
	assert_int_equal(inst.blocks, 0);
	assert_int_equal(conn_owner_count(nat_conn, nat_owner_records(0)), 0);
}

/* A record in use stays; a reference is refused on a rival's entry still being published. */
static void test_reference_on_live_records_only(void **state)
{
	struct conn_entry *map, *sub;
	uint8_t live;

	(void)state;
	sub = sub_and_map(2000 * HZ, &map, 0);
	assert_true(nat_ref_take(map));
	expire(2100 * HZ);
	assert_int_equal(map->live, CONN_LIVE); /* kept: a session is coming on it */
	live = map->live;
	map->live = CONN_NEW;
	assert_false(nat_ref_take(map));
	map->live = live;
	nat_ref_drop(map);
	expire(2200 * HZ);
	expire(3000 * HZ);
	assert_int_not_equal(sub->live, CONN_LIVE);
	assert_int_equal(conn_owner_count(nat_conn, nat_owner_records(0)), 0);
}

/*
 * A session gives its reference back to the mapping it took it on, by entry number: two
 * sessions on a mapping, the first expiring leaves the mapping with one (never a wrap
 * below 0), the second leaves it at 0 and it goes, its subscriber after it.
 */
static void test_session_unrefs_its_own_mapping(void **state)
{
	struct conn_entry *map, *s1, *s2;
	uint64_t t0 = 4000 * HZ;

	(void)state;
	sub_and_map(t0, &map, 2);
	s1 = session(map, 53, t0);
	s2 = session(map, 54, t0 + 20 * HZ);
	expire(t0 + 40 * HZ); /* s1 idle past 30 s (UDP one way); s2 and the mapping not */
	assert_int_not_equal(s1->live, CONN_LIVE);
	assert_int_equal(s2->live, CONN_LIVE);
	assert_int_equal(map->user[1] & NAT_REF_COUNT, 1);
	expire(t0 + 100 * HZ);
	expire(t0 + 200 * HZ);
	assert_int_not_equal(map->live, CONN_LIVE);
	expire(t0 + 1000 * HZ);
	assert_int_equal(conn_owner_count(nat_conn, nat_owner_records(0)), 0);
	assert_int_equal(port_used[1], 0);
	assert_int_equal(block_used[0], 0);
	assert_int_equal(inst.blocks, 0);
}

/*
 * The window between the keep callback letting a mapping go and the expiry taking it out of
 * the index: a worker finding it there gets no reference (it used to count one on it).
 */
static void test_no_reference_between_keep_and_removal(void **state)
{
	struct conn_entry *map =
		rec(&map_k, NAT_MAPPING | 2006ull << 8 | (uint64_t)pool.base << 24, 0, 5000 * HZ);

	(void)state;
	port_used[1] |= 1u << 2;
	assert_false(nat_keep(NULL, map, false));
	assert_int_equal(map->live, CONN_LIVE); /* still in the index: what a worker finds */
	assert_false(nat_ref_take(map));
	assert_int_equal(map->user[1] & NAT_REF_COUNT, 0);
	assert_int_equal(port_used[1], 0);
	assert_int_equal(conn_flush_owner(nat_conn, nat_owner_records(0)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_reference_on_a_going_record),
		cmocka_unit_test(test_reference_on_live_records_only),
		cmocka_unit_test(test_session_unrefs_its_own_mapping),
		cmocka_unit_test(test_no_reference_between_keep_and_removal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
