/* SPDX-License-Identifier: BSD-3-Clause */
/* The DHCP server's parser, reply builder, lease allocator, the relay's option 82, config rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp_agent.h"
#include "dhcp_lease.h"
#include "dhcp_proto.h"
#include "tessd_config.h"
#include "unit_assert.h"

/* ---- parser ---- */

struct msg {
	uint8_t b[600];
	size_t n;
};

/* A DISCOVER from 02:00:00:00:00:01 whose options follow (the end option not added). */
static void msg_init(struct msg *m, uint8_t op)
{
	memset(m, 0, sizeof(*m));
	m->b[0] = op;
	m->b[1] = 1;
	m->b[2] = 6;
	m->b[4] = 0x12; /* xid */
	m->b[28] = 0x02;
	m->b[33] = 0x01;
	m->b[236] = 0x63;
	m->b[237] = 0x82;
	m->b[238] = 0x53;
	m->b[239] = 0x63;
	m->n = 240;
}

static void opt(struct msg *m, const uint8_t *o, size_t n)
{
	memcpy(m->b + m->n, o, n);
	m->n += n;
}

static void test_parse_discover(void **state)
{
	static const uint8_t o[] = { 53,  1,    1,   50,  4,  10, 0,  0, 7, 12, 5, 'p',
				     'c', 0x01, '-', '1', 54, 4,  10, 0, 0, 1,  0, 255 };
	struct dhcp_msg q;
	struct msg m;

	(void)state;
	msg_init(&m, 1);
	opt(&m, o, sizeof(o));
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_OK);
	assert_int_equal(q.type, DHCP_DISCOVER);
	assert_int_equal(q.requested, 0x0a000007);
	assert_int_equal(q.server_id, 0x0a000001);
	assert_string_equal(q.hostname, ""); /* a control character: not a host name */
	assert_int_equal(q.chaddr[0], 2);
	assert_int_equal(q.chaddr[5], 1);
}

static void test_parse_hostname(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
		{ "pc-1.lan", 8, "pc-1.lan" },
		{ "pc-1\0", 5, "pc-1" },
		{ "p\"c", 3, "" },
		{ "a/b", 3, "" },
		{ "a b", 3, "" },
		{ "x\0y", 3, "" },
		{ "caf\xc3\xa9", 5, "" },
	};
	struct dhcp_msg q;
	struct msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msg_init(&m, 1);
		opt(&m, (const uint8_t[]){ 53, 1, 1, 12, (uint8_t)cases[i].n }, 5);
		opt(&m, (const uint8_t *)cases[i].in, cases[i].n);
		opt(&m, (const uint8_t[]){ 255 }, 1);
		assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_OK);
		assert_string_equal(q.hostname, cases[i].out);
	}
}

static void test_parse_malformed(void **state)
{
	struct dhcp_msg q;
	struct msg m;

	(void)state;
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 1, 255 }, 4);
	assert_int_equal(dhcp_parse(m.b, 239, &q), DHCP_BAD_SHORT);
	assert_int_equal(dhcp_parse(m.b, 0, &q), DHCP_BAD_SHORT);

	msg_init(&m, 2); /* BOOTREPLY */
	opt(&m, (const uint8_t[]){ 53, 1, 1, 255 }, 4);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_HEADER);
	msg_init(&m, 1);
	m.b[2] = 16; /* hlen */
	opt(&m, (const uint8_t[]){ 53, 1, 1, 255 }, 4);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_HEADER);
	msg_init(&m, 1);
	m.b[1] = 6; /* htype IEEE 802 */
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_HEADER);

	msg_init(&m, 1);
	m.b[239] = 0;
	opt(&m, (const uint8_t[]){ 53, 1, 1, 255 }, 4);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_COOKIE);

	/* An option's length past the end; a length byte missing; no end option. */
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 1, 12, 40, 'a' }, 6);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_OPTION);
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 1, 12 }, 4);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_OPTION);
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 1 }, 3);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_OPTION);
	/* Wrong lengths of the options read. */
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 2, 1, 1, 255 }, 5);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_OPTION);
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 3, 50, 3, 1, 2, 3, 255 }, 9);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_OPTION);
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 3, 12, 0, 255 }, 6);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_OPTION);

	/* No type, a server's type, an unknown one. */
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 255 }, 1);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_TYPE);
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, DHCP_ACK, 255 }, 4);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_TYPE);
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 9, 255 }, 4);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_TYPE);
	assert_string_equal(dhcp_bad_name(DHCP_BAD_TYPE), "bad_message_type");
}

static void test_parse_overload(void **state)
{
	struct dhcp_msg q;
	struct msg m;

	(void)state;
	/* The message type in the file field (overload 1), the server id in sname (2). */
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 52, 1, 3, 255 }, 4);
	memcpy(m.b + 108, (const uint8_t[]){ 53, 1, 3, 255 }, 4);
	memcpy(m.b + 44, (const uint8_t[]){ 54, 4, 10, 0, 0, 1 }, 6); /* fills up with pads */
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_OK);
	assert_int_equal(q.type, DHCP_REQUEST);
	assert_int_equal(q.server_id, 0x0a000001);

	/* Bad values, a bad option in file, overload inside the overloaded field. */
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 1, 52, 1, 4, 255 }, 7);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_OVERLOAD);
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 1, 52, 2, 1, 1, 255 }, 8);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_OVERLOAD);
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 1, 52, 1, 1, 255 }, 7);
	memcpy(m.b + 108 + 120, (const uint8_t[]){ 12, 30, 'x' }, 3); /* past the field */
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_OVERLOAD);
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 1, 52, 1, 1, 255 }, 7);
	memcpy(m.b + 108, (const uint8_t[]){ 52, 1, 2, 255 }, 4);
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_BAD_OVERLOAD);
}

/* Every prefix and every byte value at one place: never a read out of bounds (ASan). */
static void test_parse_never_overreads(void **state)
{
	struct dhcp_msg q;
	struct msg m;

	(void)state;
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 1, 50, 4, 10, 0, 0, 7, 52, 1, 3, 255 }, 13);
	for (size_t n = 0; n <= m.n; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, m.b, n);
		(void)dhcp_parse(copy, n, &q);
		for (size_t at = 240; at < n; at++) {
			uint8_t keep = copy[at];
			for (unsigned v = 0; v < 256; v += 7) {
				copy[at] = (uint8_t)v;
				(void)dhcp_parse(copy, n, &q);
			}
			copy[at] = keep;
		}
		free(copy);
	}
}

/* ---- builder ---- */

static const uint8_t *find_opt(const uint8_t *p, size_t n, uint8_t code)
{
	for (size_t i = 240; i < n && p[i] != 255;) {
		if (p[i] == 0) {
			i++;
			continue;
		}
		if (p[i] == code)
			return p + i;
		i += 2u + p[i + 1];
	}
	return NULL;
}

static void test_build(void **state)
{
	struct dhcp_reply r = {
		.type = DHCP_ACK,
		.xid = 0x11223344,
		.flags = DHCP_BROADCAST,
		.yiaddr = 0x0a140064,
		.chaddr = { 2, 0, 0, 0, 0, 1 },
		.server_id = 0x0a140001,
		.lease_sec = 600,
		.mask = 0xffffff00,
		.router = 0x0a140001,
		.dns = { 0x0a140035 },
		.n_dns = 1,
		.domain = "tenant.example",
		.mtu = 1400,
		.routes = { { 0x0a630000, 16, 0x0a140001 }, { 0, 0, 0x0a140001 } },
		.n_routes = 2,
	};
	uint8_t b[DHCP_REPLY_MAX];
	const uint8_t *o;
	size_t n;

	(void)state;
	n = dhcp_build(b, sizeof(b), &r);
	assert_true(n >= 300);
	assert_int_equal(b[0], 2);
	assert_memory_equal(b + 4, &r.xid, 4);
	assert_int_equal(b[10], 0x80);
	assert_memory_equal(b + 16, ((const uint8_t[]){ 10, 20, 0, 100 }), 4);
	assert_memory_equal(b + 236, ((const uint8_t[]){ 0x63, 0x82, 0x53, 0x63 }), 4);
	o = find_opt(b, n, 53);
	assert_non_null(o);
	assert_int_equal(o[2], DHCP_ACK);
	o = find_opt(b, n, 51);
	assert_non_null(o);
	assert_memory_equal(o + 2, ((const uint8_t[]){ 0, 0, 2, 88 }), 4);
	o = find_opt(b, n, 58); /* T1: half */
	assert_non_null(o);
	assert_int_equal(o[5], 44);
	o = find_opt(b, n, 26);
	assert_non_null(o);
	assert_int_equal(o[2] << 8 | o[3], 1400);
	o = find_opt(b, n, 15);
	assert_non_null(o);
	assert_int_equal(o[1], strlen("tenant.example"));
	/* RFC 3442: 16, 10.99, via; then 0, via. */
	o = find_opt(b, n, 121);
	assert_non_null(o);
	assert_int_equal(o[1], 7 + 5);
	assert_memory_equal(o + 2, ((const uint8_t[]){ 16, 10, 99, 10, 20, 0, 1, 0, 10, 20, 0, 1 }),
			    12);

	/* A NAK: type, server id, message only. */
	r.type = DHCP_NAK;
	r.message = "address not available";
	n = dhcp_build(b, sizeof(b), &r);
	assert_non_null(find_opt(b, n, 56));
	assert_null(find_opt(b, n, 51));
	assert_null(find_opt(b, n, 3));
	/* No room: 0. */
	assert_int_equal(dhcp_build(b, 250, &r), 0);
}

/* A reply with every option at its largest: 589 bytes. */
static void big_reply(struct dhcp_reply *r, char *name63)
{
	memset(name63, 'a', 63);
	name63[63] = '\0';
	*r = (struct dhcp_reply){
		.type = DHCP_ACK,
		.yiaddr = 0x0a140064,
		.server_id = 0x0a140001,
		.lease_sec = 600,
		.mask = 0xffffff00,
		.broadcast = 0x0a1400ff,
		.router = 0x0a140001,
		.n_dns = 4,
		.domain = name63,
		.hostname = name63,
		.mtu = 1400,
		.n_routes = 17,
	};
	for (unsigned i = 0; i < 16; i++)
		r->routes[i] = (struct dhcp_route){ 0x0a630000 + i, 32, 0x0a140001 };
	r->routes[16] = (struct dhcp_route){ 0, 0, 0x0a140001 };
}

static void test_build_fit(void **state)
{
	struct dhcp_reply r;
	char name[64];
	uint8_t b[DHCP_REPLY_MAX];
	uint8_t prl[32] = { 0 };
	struct dhcp_msg q = { 0 };
	size_t n;

	(void)state;
	big_reply(&r, name);
	assert_int_equal(dhcp_max_len(&q), 548);
	q.max_size = 1500;
	assert_int_equal(dhcp_max_len(&q), 1472);
	q.max_size = 600;
	assert_int_equal(dhcp_max_len(&q), 572);
	/* Everything fits a client that accepts more (option 57). */
	n = dhcp_build(b, 1472, &r);
	assert_int_equal(n, 589);
	assert_int_equal(dhcp_build(b, 548, &r), 0);
	/* 548: the host name goes first, the routes stay. */
	n = dhcp_build_fit(b, 548, &r, NULL);
	assert_true(n > 0 && n <= 548);
	assert_null(find_opt(b, n, 12));
	assert_non_null(find_opt(b, n, 121));
	assert_non_null(find_opt(b, n, 15));
	/* Asked for (option 55): what it did not ask for goes before the host name. */
	prl[12 / 8] |= 1 << (12 % 8);
	prl[1 / 8] |= 1 << (1 % 8);
	n = dhcp_build_fit(b, 548, &r, prl);
	assert_true(n > 0 && n <= 548);
	assert_non_null(find_opt(b, n, 12));
	assert_non_null(find_opt(b, n, 1));
	assert_null(find_opt(b, n, 15));
	assert_null(find_opt(b, n, 121));
	assert_non_null(find_opt(b, n, 51)); /* mandatory ones stay */
	assert_non_null(find_opt(b, n, 54));
	/* Nothing left to drop: 0. */
	assert_int_equal(dhcp_build_fit(b, 290, &r, NULL), 0);
}

static void test_parse_size_and_prl(void **state)
{
	static const uint8_t o[] = { 53, 1, 1, 57, 2, 0x05, 0xdc, 55, 3, 1, 3, 121, 255 };
	struct dhcp_msg q;
	struct msg m;

	(void)state;
	msg_init(&m, 1);
	opt(&m, o, sizeof(o));
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_OK);
	assert_int_equal(q.max_size, 1500);
	assert_true(q.has_prl);
	assert_true(q.prl[0] & (1 << 3));
	assert_true(q.prl[121 / 8] & (1 << (121 % 8)));
	assert_false(q.prl[0] & (1 << 6));
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 1, 57, 2, 0x01, 0x00, 255 }, 8); /* 256 < 576 */
	assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_OK);
	assert_int_equal(q.max_size, 0);
	assert_int_equal(dhcp_max_len(&q), 548);
}

/* ---- leases ---- */

static const uint8_t MAC[4][6] = {
	{ 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 }, { 2, 0, 0, 0, 0, 3 }, { 2, 0, 0, 0, 0, 4 }
};
#define IP(d) (0x0a000000u | (d))

static struct tessd_dhcp_range pools[] = { { IP(10), IP(12) } };
static struct tessd_dhcp_range excl[] = { { IP(11), 0 } };
static struct tessd_dhcp_resv resv[] = { { { { 2, 0, 0, 0, 0, 9 } }, IP(50), "printer" },
					 { { { 2, 0, 0, 0, 0, 8 } }, IP(12), "" } };

static struct tessd_dhcp_server_cfg server(uint32_t max_leases)
{
	return (struct tessd_dhcp_server_cfg){
		.pools = pools,
		.n_pools = 1,
		.exclude = excl,
		.n_exclude = 1,
		.reservations = resv,
		.n_reservations = 2,
		.max_leases = max_leases,
		.lease_sec = 100,
	};
}

static void test_lease_pools_exclusions_reservations(void **state)
{
	struct tessd_dhcp_server_cfg sc = server(16);
	const uint8_t res9[6] = { 2, 0, 0, 0, 0, 9 }, res8[6] = { 2, 0, 0, 0, 0, 8 };
	struct dhcp_leases d;
	uint32_t ip;

	(void)state;
	assert_int_equal(dhcp_leases_init(&d, &sc), 0);
	/* .11 excluded, .12 reserved: one dynamic address, .10. */
	assert_int_equal(dhcp_offer(&d, MAC[0], 0, 1000, 60, &ip), 0);
	assert_int_equal(ip, IP(10));
	/* The same client is offered the same address again. */
	assert_int_equal(dhcp_offer(&d, MAC[0], IP(11), 1001, 60, &ip), 0);
	assert_int_equal(ip, IP(10));
	assert_int_equal(dhcp_offer(&d, MAC[1], 0, 1000, 60, &ip), -ENOSPC);
	assert_int_equal(dhcp_offer(&d, MAC[1], IP(11), 1000, 60, &ip), -ENOSPC);
	/* Reservations: inside a pool (.12) and outside (.50). */
	assert_int_equal(dhcp_offer(&d, res8, 0, 1000, 60, &ip), 0);
	assert_int_equal(ip, IP(12));
	assert_int_equal(dhcp_offer(&d, res9, IP(10), 1000, 60, &ip), 0);
	assert_int_equal(ip, IP(50));
	assert_string_equal(dhcp_reservation(&d, res9)->hostname, "printer");
	/* REQUEST: its own offer ACKed; a reserved or excluded address or another's NAKed. */
	assert_int_equal(dhcp_request(&d, MAC[0], IP(10), 1000, 100, "pc"), 0);
	assert_int_equal(dhcp_lease_by_ip(&d, IP(10))->state, DL_BOUND);
	assert_string_equal(dhcp_lease_by_ip(&d, IP(10))->hostname, "pc");
	assert_int_equal(dhcp_request(&d, MAC[1], IP(10), 1000, 100, NULL), -EPERM);
	assert_int_equal(dhcp_request(&d, MAC[1], IP(12), 1000, 100, NULL), -EPERM);
	assert_int_equal(dhcp_request(&d, MAC[1], IP(11), 1000, 100, NULL), -EPERM);
	assert_int_equal(dhcp_request(&d, MAC[1], IP(99), 1000, 100, NULL), -EPERM);
	assert_int_equal(dhcp_request(&d, res9, IP(10), 1000, 100, NULL), -EPERM);
	assert_int_equal(dhcp_request(&d, res9, IP(50), 1000, 100, NULL), 0);
	/* A bound client asking for another address is NAKed (it must release first). */
	assert_int_equal(dhcp_request(&d, MAC[0], IP(12), 1000, 100, NULL), -EPERM);
	/* RELEASE: only its own. */
	assert_int_equal(dhcp_release(&d, MAC[1], IP(10)), -ENOENT);
	assert_int_equal(dhcp_release(&d, MAC[0], IP(10)), 0);
	assert_null(dhcp_lease_by_ip(&d, IP(10)));
	assert_int_equal(dhcp_offer(&d, MAC[1], 0, 1000, 60, &ip), 0);
	assert_int_equal(ip, IP(10));
	dhcp_leases_fini(&d);
}

static void test_lease_expiry_decline_limit(void **state)
{
	struct tessd_dhcp_range big[] = { { IP(100), IP(199) } };
	struct tessd_dhcp_server_cfg sc = server(2);
	struct dhcp_leases d;
	uint32_t ip, a;

	(void)state;
	sc.pools = big;
	sc.n_reservations = 0;
	assert_int_equal(dhcp_leases_init(&d, &sc), 0);
	assert_int_equal(dhcp_offer(&d, MAC[0], 0, 1000, 60, &a), 0);
	assert_int_equal(dhcp_request(&d, MAC[0], a, 1000, 100, NULL), 0);
	/* An offer not taken goes at its time; a bound lease at its own. */
	assert_int_equal(dhcp_offer(&d, MAC[1], 0, 1000, 60, &ip), 0);
	assert_int_equal(dhcp_offer(&d, MAC[2], 0, 1000, 60, &ip), -EDQUOT); /* max_leases 2 */
	assert_int_equal(dhcp_request(&d, MAC[2], IP(150), 1000, 100, NULL), -EDQUOT);
	assert_int_equal(dhcp_leases_expire(&d, 1059), 0);
	assert_int_equal(dhcp_leases_expire(&d, 1060), 1);
	assert_int_equal(d.n, 1);
	assert_int_equal(dhcp_leases_expire(&d, 1100), 1);
	assert_int_equal(d.n, 0);
	/* DECLINE: held back (no MAC), not offered until decline_sec passes. */
	assert_int_equal(dhcp_offer(&d, MAC[0], IP(120), 2000, 60, &ip), 0);
	assert_int_equal(ip, IP(120));
	assert_int_equal(dhcp_request(&d, MAC[0], IP(120), 2000, 100, NULL), 0);
	assert_int_equal(dhcp_decline(&d, MAC[1], IP(120), 2000, 600), -ENOENT);
	assert_int_equal(dhcp_decline(&d, MAC[0], IP(120), 2000, 600), 0);
	assert_int_equal(dhcp_lease_by_ip(&d, IP(120))->state, DL_DECLINED);
	assert_null(dhcp_lease_by_mac(&d, MAC[0]));
	assert_int_equal(dhcp_offer(&d, MAC[0], IP(120), 2001, 60, &ip), 0);
	assert_int_not_equal(ip, IP(120));
	assert_int_equal(dhcp_request(&d, MAC[3], IP(120), 2001, 100, NULL), -EPERM);
	assert_int_equal(dhcp_leases_expire(&d, 2600), 2); /* and the offer */
	assert_null(dhcp_lease_by_ip(&d, IP(120)));
	dhcp_leases_fini(&d);
}

/* Offers are not in the leases file: making or dropping one is no change to save. */
static void test_lease_changes(void **state)
{
	struct tessd_dhcp_server_cfg sc = server(4);
	struct dhcp_leases d;
	uint32_t ip, c;

	(void)state;
	assert_int_equal(dhcp_leases_init(&d, &sc), 0);
	c = d.changes;
	assert_int_equal(dhcp_offer(&d, MAC[0], 0, 10, 60, &ip), 0);
	assert_int_equal(dhcp_offer(&d, MAC[0], 0, 11, 60, &ip), 0);
	assert_int_equal(d.changes, c);
	dhcp_lease_remove(&d, dhcp_lease_by_mac(&d, MAC[0]));
	assert_int_equal(d.changes, c);
	assert_int_equal(dhcp_offer(&d, MAC[0], 0, 12, 60, &ip), 0);
	assert_int_equal(dhcp_request(&d, MAC[0], ip, 12, 100, NULL), 0);
	assert_int_not_equal(d.changes, c);
	c = d.changes;
	assert_int_equal(dhcp_release(&d, MAC[0], ip), 0);
	assert_int_not_equal(d.changes, c);
	dhcp_leases_fini(&d);
}

static void test_lease_cfg_same(void **state)
{
	struct tessd_dhcp_server_cfg a = server(4), b = server(4);
	struct tessd_dhcp_range p2[] = { { IP(10), IP(13) } };
	struct tessd_dhcp_resv r2[2];

	(void)state;
	snprintf(a.interface, sizeof(a.interface), "lan");
	snprintf(b.interface, sizeof(b.interface), "lan");
	b.lease_sec = 999; /* options and times need no new table */
	assert_true(dhcp_leases_cfg_same(&a, &b));
	b.max_leases = 5;
	assert_false(dhcp_leases_cfg_same(&a, &b));
	b = server(4);
	snprintf(b.interface, sizeof(b.interface), "lan");
	b.pools = p2;
	assert_false(dhcp_leases_cfg_same(&a, &b));
	b = server(4);
	snprintf(b.interface, sizeof(b.interface), "lan");
	memcpy(r2, resv, sizeof(r2));
	r2[1].address = IP(13);
	b.reservations = r2;
	assert_false(dhcp_leases_cfg_same(&a, &b));
	b.n_reservations = 0;
	assert_false(dhcp_leases_cfg_same(&a, &b));
	b = server(4);
	b.n_exclude = 0;
	snprintf(b.interface, sizeof(b.interface), "lan");
	assert_false(dhcp_leases_cfg_same(&a, &b));
}

/* A big table: restored, found by address and MAC, thinned out, still found (the indexes). */
static void test_lease_restore_many(void **state)
{
	enum { N = 60000 };
	struct tessd_dhcp_range big[] = { { IP(1), IP(N + 100) } };
	struct tessd_dhcp_server_cfg sc = { .pools = big, .n_pools = 1, .max_leases = N };
	struct dhcp_leases d;
	struct dhcp_lease l = { .state = DL_BOUND, .expires = 5000 };

	(void)state;
	assert_int_equal(dhcp_leases_init(&d, &sc), 0);
	for (uint32_t i = 0; i < N; i++) {
		l.ip = IP(1 + i);
		l.mac[0] = 2;
		l.mac[3] = (uint8_t)(i >> 16);
		l.mac[4] = (uint8_t)(i >> 8);
		l.mac[5] = (uint8_t)i;
		l.state = i % 7 == 0 ? DL_DECLINED : DL_BOUND;
		assert_int_equal(dhcp_lease_restore(&d, &l, 1000), 0);
	}
	assert_int_equal(d.n, N);
	l.ip = IP(N + 50); /* a MAC already there */
	l.state = DL_BOUND;
	assert_int_equal(dhcp_lease_restore(&d, &l, 1000), -EEXIST);
	assert_int_equal(dhcp_lease_restore(&d, &(struct dhcp_lease){ .ip = IP(N + 50) }, 1000),
			 -EINVAL);
	assert_int_equal(dhcp_lease_restore(&d, &l, 1000), -EEXIST);
	l.mac[2] = 1;
	assert_int_equal(dhcp_lease_restore(&d, &l, 1000), -EDQUOT); /* at max_leases */
	/* Every third goes; the others are still found, the removed ones not. */
	for (uint32_t i = 0; i < N; i += 3)
		dhcp_lease_remove(&d, dhcp_lease_by_ip(&d, IP(1 + i)));
	for (uint32_t i = 0; i < N; i++) {
		uint8_t mac[6] = { 2, 0, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		struct dhcp_lease *a = dhcp_lease_by_ip(&d, IP(1 + i)),
				  *b = dhcp_lease_by_mac(&d, mac);
		if (i % 3 == 0) {
			assert_null(a);
			assert_null(b);
			continue;
		}
		assert_non_null(a);
		assert_int_equal(a->ip, IP(1 + i));
		if (i % 7 == 0) {
			assert_null(b); /* declined: no owner */
		} else {
			assert_ptr_equal(a, b);
		}
	}
	assert_int_equal(d.n, N - (N + 2) / 3);
	dhcp_leases_fini(&d);
}

static void test_request_ours(void **state)
{
	struct tessd_dhcp_server_cfg sc = server(4);
	const uint8_t res9[6] = { 2, 0, 0, 0, 0, 9 };
	struct dhcp_leases d;
	uint32_t ip;

	(void)state;
	assert_int_equal(dhcp_leases_init(&d, &sc), 0);
	/* INIT-REBOOT from a client with no record: silent (RFC 2131 4.3.2). */
	assert_int_equal(dhcp_request_ours(&d, MAC[0], IP(10), DR_INIT_REBOOT), 0);
	/* SELECTING us without our offer: NAK. */
	assert_int_equal(dhcp_request_ours(&d, MAC[0], IP(10), DR_SELECTING), -EPERM);
	assert_int_equal(dhcp_request_ours(&d, MAC[0], IP(10), DR_RENEWING), 1);
	/* A reservation is a record. */
	assert_int_equal(dhcp_request_ours(&d, res9, IP(50), DR_INIT_REBOOT), 1);
	assert_int_equal(dhcp_offer(&d, MAC[0], 0, 10, 60, &ip), 0);
	assert_int_equal(dhcp_request_ours(&d, MAC[0], ip, DR_SELECTING), 1);
	assert_int_equal(dhcp_request_ours(&d, MAC[0], ip + 1, DR_SELECTING), -EPERM);
	assert_int_equal(dhcp_request_ours(&d, MAC[0], ip + 1, DR_INIT_REBOOT), 1); /* NAKed */
	dhcp_leases_fini(&d);
}

static void test_lease_sanitize(void **state)
{
	struct dhcp_lease l = { .expires = UINT64_MAX - 5 }; /* "expires": -6 in the file */

	(void)state;
	snprintf(l.hostname, sizeof(l.hostname), "ok-name.lan");
	dhcp_lease_sanitize(&l, 1000, 600);
	assert_int_equal(l.expires, 1600);
	assert_string_equal(l.hostname, "ok-name.lan");
	l.expires = 1200;
	snprintf(l.hostname, sizeof(l.hostname), "<script>");
	dhcp_lease_sanitize(&l, 1000, 600);
	assert_int_equal(l.expires, 1200); /* within: kept */
	assert_string_equal(l.hostname, "");
}

static void test_save_backoff(void **state)
{
	uint32_t w = 0;

	(void)state;
	w = dhcp_save_backoff(w, 1000);
	assert_int_equal(w, 2000);
	w = dhcp_save_backoff(w, 1000);
	assert_int_equal(w, 4000);
	for (int i = 0; i < 20; i++)
		w = dhcp_save_backoff(w, 1000);
	assert_int_equal(w, DHCP_SAVE_BACKOFF_MAX_MS);
	assert_int_equal(dhcp_save_backoff(0, 600000), 600000); /* never sooner than save_ms */
	assert_int_equal(dhcp_save_backoff(0, 10), 20);
}

static void test_lease_restore(void **state)
{
	struct tessd_dhcp_server_cfg sc = server(4);
	struct dhcp_lease l = { .ip = IP(10), .state = DL_BOUND, .expires = 5000 };
	struct dhcp_leases d;

	(void)state;
	assert_int_equal(dhcp_leases_init(&d, &sc), 0);
	memcpy(l.mac, MAC[0], 6);
	assert_int_equal(dhcp_lease_restore(&d, &l, 6000), -EINVAL); /* expired */
	assert_int_equal(dhcp_lease_restore(&d, &l, 1000), 0);
	assert_int_equal(dhcp_lease_restore(&d, &l, 1000), -EEXIST);
	l.ip = IP(11); /* excluded now */
	memcpy(l.mac, MAC[1], 6);
	assert_int_equal(dhcp_lease_restore(&d, &l, 1000), -EINVAL);
	l.ip = IP(77); /* outside the pools */
	assert_int_equal(dhcp_lease_restore(&d, &l, 1000), -EINVAL);
	l.ip = IP(12); /* reserved for another MAC */
	assert_int_equal(dhcp_lease_restore(&d, &l, 1000), -EINVAL);
	l.ip = IP(50); /* its own reservation */
	memcpy(l.mac, resv[0].mac.b, 6);
	assert_int_equal(dhcp_lease_restore(&d, &l, 1000), 0);
	l.state = 0;
	assert_int_equal(dhcp_lease_restore(&d, &l, 1000), -EINVAL);
	assert_int_equal(d.n, 2);
	dhcp_leases_fini(&d);
}

/* ---- the relay's option 82 (RFC 3046) ---- */

static void test_agent_build(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
	static const uint8_t want[] = { 82, 14, 1, 4, 'p', '/', '1', '0', 2, 6, 2, 0, 0, 0, 0, 9 };
	uint8_t ag[DHCP_AGENT_OPT_MAX];
	char big[300];

	(void)state;
	assert_int_equal(dhcp_agent_build(ag, "p/10", 4, mac, 6), sizeof(want));
	assert_memory_equal(ag, want, sizeof(want));
	/* No remote id: circuit only. */
	assert_int_equal(dhcp_agent_build(ag, "lan", 3, NULL, 0), 7);
	assert_int_equal(ag[1], 5);
	/* An empty circuit, or more than an option holds: none. */
	memset(big, 'x', sizeof(big));
	assert_int_equal(dhcp_agent_build(ag, "", 0, mac, 6), 0);
	assert_int_equal(dhcp_agent_build(ag, big, 250, mac, 6), 0);
	assert_int_equal(dhcp_agent_build(ag, big, 253, NULL, 0), 257);
	assert_int_equal(dhcp_agent_build(ag, big, 254, NULL, 0), 0);
	assert_int_equal(dhcp_agent_build(ag, big, 256, NULL, 0), 0);
}

static void test_agent_add_strip(void **state)
{
	static const uint8_t o[] = { 53, 1, 1, 12, 2, 'p', 'c', 255, 0, 0, 0 };
	uint8_t ag[DHCP_AGENT_OPT_MAX], other[DHCP_AGENT_OPT_MAX];
	size_t agn = dhcp_agent_build(ag, "p/10", 4, "r1", 2);
	size_t on = dhcp_agent_build(other, "p/11", 4, "r1", 2);
	size_t end, at;
	struct dhcp_msg q;
	struct msg m;
	long n;

	(void)state;
	msg_init(&m, 1);
	opt(&m, o, sizeof(o));
	/* Added last, before the end option; the padding after the end goes. */
	n = dhcp_agent_add(m.b, m.n, sizeof(m.b), ag, agn);
	assert_int_equal(n, 240 + 7 + agn + 1);
	assert_memory_equal(m.b + 247, ag, agn);
	assert_int_equal(m.b[247 + agn], 255);
	assert_int_equal(dhcp_parse(m.b, (size_t)n, &q), DHCP_OK);
	assert_true(q.agent);
	assert_int_equal(dhcp_agent_scan(m.b, (size_t)n, 1, &end, &at), DHCP_OK);
	assert_int_equal(at, 247);
	/* Not twice, and only if it fits the largest message. */
	assert_int_equal(dhcp_agent_add(m.b, (size_t)n, sizeof(m.b), ag, agn), -EBADMSG);
	msg_init(&m, 1);
	opt(&m, o, sizeof(o));
	assert_int_equal(dhcp_agent_add(m.b, m.n, 240 + 7 + agn, ag, agn), 0);
	assert_int_equal(dhcp_agent_add(m.b, m.n, 240 + 7 + agn + 1, ag, agn), 240 + 7 + agn + 1);

	/* The server's reply echoes it: stripped, the rest as it was. */
	msg_init(&m, 2);
	opt(&m, (const uint8_t[]){ 53, 1, 2 }, 3);
	opt(&m, ag, agn);
	opt(&m, (const uint8_t[]){ 51, 4, 0, 0, 1, 0, 255 }, 7);
	n = dhcp_agent_strip(m.b, m.n, ag, agn);
	assert_int_equal(n, 240 + 3 + 7);
	assert_memory_equal(m.b + 243, ((const uint8_t[]){ 51, 4, 0, 0, 1, 0, 255 }), 7);
	assert_int_equal(dhcp_agent_scan(m.b, (size_t)n, 2, &end, &at), DHCP_OK);
	assert_int_equal(at, 0);
	/* None: unchanged (a server that does not know option 82). */
	assert_int_equal(dhcp_agent_strip(m.b, (size_t)n, ag, agn), n);
	/* Another relay's, or ours with more in it: not ours. */
	msg_init(&m, 2);
	opt(&m, other, on);
	opt(&m, (const uint8_t[]){ 255 }, 1);
	assert_int_equal(dhcp_agent_strip(m.b, m.n, ag, agn), -EPERM);
	msg_init(&m, 2);
	opt(&m, ag, agn);
	m.b[241]++; /* one byte longer than ours */
	opt(&m, (const uint8_t[]){ 0, 255 }, 2);
	assert_int_equal(dhcp_agent_strip(m.b, m.n, ag, agn), -EPERM);
}

/* Option 82 is a client's forgery only at the first hop (RFC 3046 2.1, 2.1.1). */
static void test_agent_request(void **state)
{
	(void)state;
	assert_int_equal(dhcp_agent_request(0, 0, false, 16), DHCP_AGENT_RELAY);
	assert_int_equal(dhcp_agent_request(0, 0, true, 16), DHCP_AGENT_UNTRUSTED);
	/* A relay nearer the client set giaddr and its own option 82: forwarded as is. */
	assert_int_equal(dhcp_agent_request(1, 0x0a4d0001, true, 16), DHCP_AGENT_PASS);
	assert_int_equal(dhcp_agent_request(1, 0x0a4d0001, false, 16), DHCP_AGENT_PASS);
	/* RFC 1542 4.1.1: discarded when hops exceed the limit, at it still relayed. */
	assert_int_equal(dhcp_agent_request(4, 0, false, 4), DHCP_AGENT_RELAY);
	assert_int_equal(dhcp_agent_request(5, 0, false, 4), DHCP_AGENT_HOPS);
	assert_int_equal(dhcp_agent_request(16, 0x0a4d0001, true, 16), DHCP_AGENT_PASS);
	assert_int_equal(dhcp_agent_request(17, 0x0a4d0001, true, 16), DHCP_AGENT_HOPS);
	assert_int_equal(dhcp_agent_request(255, 0, false, 16), DHCP_AGENT_HOPS);
}

static void test_agent_malformed(void **state)
{
	uint8_t ag[DHCP_AGENT_OPT_MAX];
	size_t agn = dhcp_agent_build(ag, "c", 1, NULL, 0);
	size_t end, at;
	struct msg m;

	(void)state;
	/* Truncated, a request where a reply belongs, no cookie, an option past the end. */
	msg_init(&m, 2);
	assert_int_equal(dhcp_agent_strip(m.b, 239, ag, agn), -EBADMSG);
	assert_int_equal(dhcp_agent_scan(m.b, 239, 2, &end, &at), DHCP_BAD_SHORT);
	opt(&m, (const uint8_t[]){ 255 }, 1);
	assert_int_equal(dhcp_agent_scan(m.b, m.n, 1, &end, &at), DHCP_BAD_HEADER);
	m.b[237] = 0;
	assert_int_equal(dhcp_agent_scan(m.b, m.n, 2, &end, &at), DHCP_BAD_COOKIE);
	msg_init(&m, 2);
	opt(&m, (const uint8_t[]){ 53, 1, 2, 82, 9, 1, 1 }, 7);
	assert_int_equal(dhcp_agent_strip(m.b, m.n, ag, agn), -EBADMSG);
	/* No end option; two option 82s. */
	msg_init(&m, 2);
	opt(&m, (const uint8_t[]){ 53, 1, 2 }, 3);
	assert_int_equal(dhcp_agent_scan(m.b, m.n, 2, &end, &at), DHCP_BAD_OPTION);
	opt(&m, ag, agn);
	opt(&m, ag, agn);
	opt(&m, (const uint8_t[]){ 255 }, 1);
	assert_int_equal(dhcp_agent_strip(m.b, m.n, ag, agn), -EBADMSG);
	/* Option 82 in an overloaded file field is seen too. */
	msg_init(&m, 1);
	opt(&m, (const uint8_t[]){ 53, 1, 1, 52, 1, 1, 255 }, 7);
	memcpy(m.b + 108, ag, agn);
	m.b[108 + agn] = 255;
	{
		struct dhcp_msg q;
		assert_int_equal(dhcp_parse(m.b, m.n, &q), DHCP_OK);
		assert_true(q.agent);
	}
}

/* ---- config rules ---- */

static int decode(const char *dhcp, struct cfg_errs *errs)
{
	char doc[4096];
	struct tessd_cfg cfg;
	json_t *j;
	int rc;

	snprintf(doc, sizeof(doc),
		 "{\"ports\": [{\"name\": \"p\", \"devargs\": \"net_tap0\"}],"
		 " \"router\": {\"vrfs\": [{\"name\": \"v\", \"id\": 1}],"
		 "  \"interfaces\": [{\"name\": \"lan\", \"vrf\": \"v\", \"port\": \"p\","
		 "   \"addresses\": [\"10.0.0.1/24\"]},"
		 "   {\"name\": \"other\", \"vrf\": \"v\", \"port\": \"p\", \"vlan\": 6,"
		 "    \"addresses\": [\"10.1.0.1/24\"]},"
		 "   {\"name\": \"third\", \"vrf\": \"v\", \"port\": \"p\", \"vlan\": 7,"
		 "    \"addresses\": [\"10.2.0.1/24\"]},"
		 "   {\"name\": \"bare\", \"vrf\": \"v\", \"port\": \"p\", \"vlan\": 5}]},"
		 " \"dhcp\": %s}",
		 dhcp);
	j = json_loads(doc, 0, NULL);
	assert_non_null(j);
	cfg_errs_init(errs);
	rc = tessd_cfg_decode(j, &cfg, errs, tessd_dhcp_validate);
	json_decref(j);
	if (rc == 0)
		tessd_cfg_free(&cfg);
	return rc;
}

static void expect_err(const char *dhcp, const char *path, const char *text)
{
	struct cfg_errs errs;

	assert_int_not_equal(decode(dhcp, &errs), 0);
	for (unsigned i = 0; i < errs.n; i++)
		if (strcmp(errs.e[i].path, path) == 0 && strstr(errs.e[i].msg, text))
			return;
	for (unsigned i = 0; i < errs.n; i++)
		fprintf(stderr, "  %s: %s\n", errs.e[i].path, errs.e[i].msg);
	fail_msg("no error at %s with '%s'", path, text);
}

#define SRV(x) "{\"servers\": [{\"interface\": \"lan\", " x "}]}"
#define POOL   "\"pools\": [{\"start\": \"10.0.0.100\", \"end\": \"10.0.0.200\"}]"

#define RELAY(x) "{\"relays\": [{\"interface\": \"lan\", " x "}]}"

static void test_config_relays(void **state)
{
	struct cfg_errs errs;

	(void)state;
	assert_int_equal(decode(RELAY("\"servers\": [\"10.1.0.5\", \"192.0.2.1\"], "
				      "\"circuit_id\": \"p/10\", \"max_hops\": 4"),
				&errs),
			 0);
	assert_int_equal(decode("{\"servers\": [{\"interface\": \"other\"}], \"relays\": "
				"[{\"interface\": \"lan\", \"servers\": [\"10.1.0.5\"]}]}",
				&errs),
			 0);
	expect_err(RELAY("\"circuit_id\": \"x\""), "/dhcp/relays/0/servers", "");
	expect_err(RELAY("\"servers\": []"), "/dhcp/relays/0/servers", "");
	expect_err(RELAY("\"servers\": [\"10.0.0.1\"]"), "/dhcp/relays/0/servers/0", "own address");
	expect_err(RELAY("\"servers\": [\"10.0.0.255\"]"), "/dhcp/relays/0/servers/0", "broadcast");
	expect_err(RELAY("\"servers\": [\"224.0.0.9\"]"), "/dhcp/relays/0/servers/0", "multicast");
	expect_err(RELAY("\"servers\": [\"127.0.0.1\"]"), "/dhcp/relays/0/servers/0", "loopback");
	expect_err(RELAY("\"servers\": [\"10.1.0.5\", \"10.1.0.5\"]"), "/dhcp/relays/0/servers/1",
		   "already server 0");
	expect_err(RELAY("\"servers\": [\"10.1.0.5\"], \"max_hops\": 17"),
		   "/dhcp/relays/0/max_hops", "");
	expect_err(RELAY("\"servers\": [\"10.1.0.5\"], \"circuit_id\": \"a b\""),
		   "/dhcp/relays/0/circuit_id", "");
	expect_err("{\"relays\": [{\"interface\": \"bare\", \"servers\": [\"10.1.0.5\"]}]}",
		   "/dhcp/relays/0/interface", "no address");
	expect_err("{\"relays\": [{\"interface\": \"nope\", \"servers\": [\"10.1.0.5\"]}]}",
		   "/dhcp/relays/0/interface", "");
	expect_err("{\"servers\": [{\"interface\": \"lan\"}], \"relays\": [{\"interface\": "
		   "\"lan\", \"servers\": [\"10.1.0.5\"]}]}",
		   "/dhcp/relays/0/interface", "not both");
	expect_err("{\"relays\": [{\"interface\": \"lan\", \"servers\": [\"10.1.0.5\"]}, "
		   "{\"interface\": \"lan\", \"servers\": [\"10.1.0.6\"]}]}",
		   "/dhcp/relays/1/interface", "already has a DHCP relay (/dhcp/relays/0)");
}

static void test_config_circuit(void **state)
{
	struct tessd_dhcp_relay_cfg rc = { .interface = "acme-lan" };
	struct tessd_iface_cfg ic = { .name = "acme-lan", .port = "p1", .vlan = 10 };
	char b[TESS_DHCP_AGENT_ID_LEN];

	(void)state;
	assert_string_equal(tessd_dhcp_circuit(&rc, &ic, b, sizeof(b)), "p1/10");
	ic.vlan = 0;
	assert_string_equal(tessd_dhcp_circuit(&rc, &ic, b, sizeof(b)), "p1");
	ic.port[0] = '\0'; /* a group's interface */
	assert_string_equal(tessd_dhcp_circuit(&rc, &ic, b, sizeof(b)), "acme-lan");
	snprintf(rc.circuit_id, sizeof(rc.circuit_id), "rack4");
	assert_string_equal(tessd_dhcp_circuit(&rc, &ic, b, sizeof(b)), "rack4");
}

static void test_config_rules(void **state)
{
	struct cfg_errs errs;

	(void)state;
	assert_int_equal(decode(SRV(POOL ", \"reservations\": [{\"mac\": \"02:00:00:00:00:01\","
					 " \"address\": \"10.0.0.5\", \"hostname\": \"pc\"}],"
					 " \"routes\": [{\"prefix\": \"10.9.0.0/16\", \"via\":"
					 " \"10.0.0.1\"}], \"dns\": [\"10.0.0.53\"]"),
				&errs),
			 0);
	expect_err(SRV("\"pools\": [{\"start\": \"10.0.1.100\", \"end\": \"10.0.1.200\"}]"),
		   "/dhcp/servers/0/pools/0/start", "not on a subnet");
	expect_err(SRV("\"pools\": [{\"start\": \"10.0.0.0\", \"end\": \"10.0.0.20\"}]"),
		   "/dhcp/servers/0/pools/0/start", "network address");
	expect_err(SRV("\"pools\": [{\"start\": \"10.0.0.100\", \"end\": \"10.0.0.255\"}]"),
		   "/dhcp/servers/0/pools/0/end", "broadcast");
	expect_err(SRV("\"pools\": [{\"start\": \"10.0.0.1\", \"end\": \"10.0.0.20\"}]"),
		   "/dhcp/servers/0/pools/0/start", "own address");
	expect_err(SRV("\"pools\": [{\"start\": \"10.0.0.0\", \"end\": \"10.0.0.20\"}]"),
		   "/dhcp/servers/0/pools/0/start", "network");
	expect_err(SRV("\"pools\": [{\"start\": \"10.0.0.2\", \"end\": \"10.0.0.254\"}, "
		       "{\"start\": \"10.0.0.100\", \"end\": \"10.0.0.110\"}]"),
		   "/dhcp/servers/0/pools/1", "overlaps pool 0");
	expect_err(SRV("\"pools\": [{\"start\": \"10.0.0.20\", \"end\": \"10.0.0.10\"}]"),
		   "/dhcp/servers/0/pools/0", "end is before start");
	expect_err(SRV(POOL ", \"reservations\": [{\"mac\": \"02:00:00:00:00:01\", \"address\": "
			    "\"10.0.0.5\"}, {\"mac\": \"02:00:00:00:00:01\", \"address\": "
			    "\"10.0.0.6\"}]"),
		   "/dhcp/servers/0/reservations/1/mac", "already reserved");
	expect_err(SRV(POOL ", \"reservations\": [{\"mac\": \"02:00:00:00:00:01\", \"address\": "
			    "\"10.0.0.5\"}, {\"mac\": \"02:00:00:00:00:02\", \"address\": "
			    "\"10.0.0.5\"}]"),
		   "/dhcp/servers/0/reservations/1/address", "already reserved");
	expect_err(SRV(POOL ", \"reservations\": [{\"mac\": \"02:00:00:00:00:01\", \"address\": "
			    "\"192.168.0.5\"}]"),
		   "/dhcp/servers/0/reservations/0/address", "not on a subnet");
	expect_err(SRV(POOL ", \"reservations\": [{\"mac\": \"03:00:00:00:00:01\", \"address\": "
			    "\"10.0.0.5\"}]"),
		   "/dhcp/servers/0/reservations/0/mac", "multicast");
	expect_err(SRV(POOL ", \"routes\": [{\"prefix\": \"10.9.0.1/16\", \"via\": \"10.0.0.1\"}]"),
		   "/dhcp/servers/0/routes/0/prefix", "host bits");
	expect_err(SRV(POOL ", \"mtu\": 40"), "/dhcp/servers/0/mtu", "at least 68");
	/* Replies that may not fit 548 bytes (589 here); one route fewer (580) still too big. */
	{
		char cfgs[2][3000];
		for (int v = 0; v < 2; v++) {
			char *p = cfgs[v];
			p += sprintf(
				p,
				"\"domain\": \"%.63s\", \"dns\": [\"10.0.0.53\", \"10.0.0.54\", "
				"\"10.0.0.55\", \"10.0.0.56\"], \"mtu\": 1400, "
				"\"reservations\": [{\"mac\": \"02:00:00:00:00:01\", \"address\": "
				"\"10.0.0.5\", \"hostname\": \"%.63s\"}], \"routes\": [",
				"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
				"d",
				"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
				"h");
			for (int k = 0; k < 16 - v; k++)
				p += sprintf(
					p,
					"%s{\"prefix\": \"10.9.0.%d/32\", \"via\": \"10.0.0.1\"}",
					k ? ", " : "", k);
			sprintf(p, "]");
		}
		char doc[3200];
		snprintf(doc, sizeof(doc), SRV(POOL ", %s"), cfgs[0]);
		expect_err(doc, "/dhcp/servers/0", "largest reply is 589 bytes");
		snprintf(doc, sizeof(doc), SRV(POOL ", %s"), cfgs[1]);
		expect_err(doc, "/dhcp/servers/0", "trim routes");
	}
	expect_err(SRV(POOL ", \"max_leases\": 0"), "/dhcp/servers/0/max_leases", "");
	expect_err(SRV(POOL ", \"domain\": \"a b\""), "/dhcp/servers/0/domain", "");
	expect_err("{\"lease_capacity\": 1500, \"servers\": [{\"interface\": \"lan\"}, "
		   "{\"interface\": \"other\", \"max_leases\": 500}, {\"interface\": \"third\", "
		   "\"max_leases\": 100}]}",
		   "/dhcp/servers/1/max_leases", "lease_capacity (1500)");
	expect_err("{\"offer_sec\": 2, \"probe_ms\": 2000, \"servers\": []}", "/dhcp/probe_ms",
		   "not shorter than offer_sec");
	expect_err("{\"pool_capacity\": 150, \"servers\": [{\"interface\": \"lan\", " POOL
		   "}, {\"interface\": \"other\", \"pools\": [{\"start\": \"10.1.0.100\", "
		   "\"end\": \"10.1.0.200\"}]}]}",
		   "/dhcp/servers/1/pools", "dhcp.pool_capacity (150)");
	assert_int_equal(decode("{\"offer_sec\": 2, \"probe_ms\": 1999, \"pool_capacity\": 101, "
				"\"servers\": [{\"interface\": \"lan\", " POOL "}]}",
				&errs),
			 0);
	expect_err("{\"servers\": [{\"interface\": \"nope\"}]}", "/dhcp/servers/0/interface",
		   "nope");
	expect_err("{\"servers\": [{\"interface\": \"bare\"}]}", "/dhcp/servers/0/interface",
		   "no address");
	expect_err("{\"servers\": [{\"interface\": \"lan\"}, {\"interface\": \"lan\"}]}",
		   "/dhcp/servers/1/interface", "already has a DHCP server");
	expect_err("{\"servers\": [{\"interface\": \"lan\", \"pools\": [{\"start\": \"10.0.0.2\", "
		   "\"end\": \"10.0.0.254\"}]}], \"leases_file\": \"rel/x.json\"}",
		   "/dhcp/leases_file", "absolute");
}

static void test_config_pool_size(void **state)
{
	struct cfg_errs errs;
	char doc[8192];
	json_t *j;
	struct tessd_cfg cfg;

	(void)state;
	/* A /8: more addresses than a server may hold. */
	snprintf(doc, sizeof(doc),
		 "{\"ports\": [{\"name\": \"p\", \"devargs\": \"net_tap0\"}],"
		 " \"router\": {\"vrfs\": [{\"name\": \"v\", \"id\": 1}],"
		 "  \"interfaces\": [{\"name\": \"lan\", \"vrf\": \"v\", \"port\": \"p\","
		 "   \"addresses\": [\"10.0.0.1/8\"]}]},"
		 " \"dhcp\": {\"servers\": [{\"interface\": \"lan\", \"pools\": [{\"start\":"
		 " \"10.0.0.2\", \"end\": \"10.255.255.254\"}]}]}}");
	j = json_loads(doc, 0, NULL);
	assert_non_null(j);
	cfg_errs_init(&errs);
	assert_int_not_equal(tessd_cfg_decode(j, &cfg, &errs, tessd_dhcp_validate), 0);
	json_decref(j);
	assert_true(errs.n >= 1);
	assert_string_equal(errs.e[0].path, "/dhcp/servers/0/pools");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_discover),
		cmocka_unit_test(test_parse_hostname),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_overload),
		cmocka_unit_test(test_parse_never_overreads),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_fit),
		cmocka_unit_test(test_parse_size_and_prl),
		cmocka_unit_test(test_lease_pools_exclusions_reservations),
		cmocka_unit_test(test_lease_expiry_decline_limit),
		cmocka_unit_test(test_lease_changes),
		cmocka_unit_test(test_lease_cfg_same),
		cmocka_unit_test(test_lease_restore_many),
		cmocka_unit_test(test_request_ours),
		cmocka_unit_test(test_lease_sanitize),
		cmocka_unit_test(test_save_backoff),
		cmocka_unit_test(test_lease_restore),
		cmocka_unit_test(test_agent_build),
		cmocka_unit_test(test_agent_add_strip),
		cmocka_unit_test(test_agent_request),
		cmocka_unit_test(test_agent_malformed),
		cmocka_unit_test(test_config_relays),
		cmocka_unit_test(test_config_circuit),
		cmocka_unit_test(test_config_rules),
		cmocka_unit_test(test_config_pool_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
