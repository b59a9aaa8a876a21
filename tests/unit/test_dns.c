/* SPDX-License-Identifier: BSD-3-Clause */
/* The DNS responder's message parser and encoder, forwarder replies, and its zone. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns_proto.h"
#include "dns_zone.h"
#include "tessd_config.h"
#include "unit_assert.h"

struct msg {
	uint8_t b[2048];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(m, b, 2);
}

/* A header: id 0x1234, RD, the given counts. */
static void hdr(struct msg *m, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

static void query(struct msg *m, const char *name, uint16_t type, bool edns, uint16_t size)
{
	uint8_t w[DNS_NAME_MAX];
	size_t n = dns_name_encode(name, w, sizeof(w));

	hdr(m, DNS_RD, 1, 0, 0, edns);
	put(m, w, n);
	put16(m, type);
	put16(m, DNS_CLASS_IN);
	if (edns) {
		put(m, "\0", 1);
		put16(m, DNS_T_OPT);
		put16(m, size);
		put(m, "\0\0\0\0\0\0", 6); /* TTL, RDLENGTH 0 */
	}
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- parser ---- */

static void test_parse_query(void **st)
{
	struct msg m;
	struct dns_query q;

	(void)st;
	query(&m, "Desk1.Acme.TEST", DNS_T_A, false, 0);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_OK);
	assert_string_equal(q.qname, "desk1.acme.test");
	assert_int_equal(q.qtype, DNS_T_A);
	assert_int_equal(q.id, 0x1234);
	assert_false(q.edns);
	assert_int_equal(q.udp_size, DNS_UDP_MIN);
	/* The wire form keeps its case (0x20 randomization is echoed). */
	assert_memory_equal(q.qwire,
			    "\x05"
			    "Desk1\x04"
			    "Acme\x04"
			    "TEST",
			    16);
	query(&m, "a.b", DNS_T_A, true, 4096);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_OK);
	assert_true(q.edns);
	assert_int_equal(q.udp_size, 4096);
	assert_int_equal(get16(m.b + q.opt_size_off), 4096);
	/* A small EDNS size is 512 at least. */
	query(&m, "a.b", DNS_T_A, true, 100);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_OK);
	assert_int_equal(q.udp_size, DNS_UDP_MIN);
	/* The root. */
	query(&m, "", DNS_T_SOA, false, 0);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_OK);
	assert_string_equal(q.qname, "");
}

static void test_parse_rejects(void **st)
{
	struct msg m;
	struct dns_query q;

	(void)st;
	/* Shorter than a header; a response: dropped. */
	query(&m, "a.b", DNS_T_A, false, 0);
	assert_int_equal(dns_parse_query(m.b, 11, &q), DNS_P_DROP);
	m.b[2] |= 0x80;
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_DROP);
	/* Another opcode: NOTIMP. */
	query(&m, "a.b", DNS_T_A, false, 0);
	m.b[2] |= 2 << 3; /* STATUS */
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_NOTIMP);
	/* Counts: QDCOUNT 0 or 2, answers or authority sent, two additional. */
	for (int k = 0; k < 5; k++) {
		query(&m, "a.b", DNS_T_A, false, 0);
		if (k == 0)
			m.b[5] = 0;
		else if (k == 1)
			m.b[5] = 2;
		else if (k == 2)
			m.b[7] = 1;
		else if (k == 3)
			m.b[9] = 1;
		else
			m.b[11] = 2;
		assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);
	}
	/* Truncated anywhere in the question. */
	query(&m, "abc.de", DNS_T_A, false, 0);
	for (size_t n = DNS_HDR_LEN; n < m.n; n++)
		assert_int_equal(dns_parse_query(m.b, n, &q), DNS_P_FORMERR);
	/* Trailing garbage. */
	m.b[m.n++] = 0;
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);
	/* An additional record that is not an OPT, or an OPT not at the root. */
	query(&m, "a.b", DNS_T_A, true, 1232);
	m.b[m.n - 10] = 0; /* the type: TSIG (250) */
	m.b[m.n - 9] = 250;
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);
	query(&m, "a.b", DNS_T_A, false, 0);
	m.b[11] = 1; /* ARCOUNT */
	put(&m, "\001x\0", 3);
	put16(&m, DNS_T_OPT);
	put16(&m, 1232);
	put(&m, "\0\0\0\0\0\0", 6);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);
	/* An OPT whose RDLENGTH runs past the end. */
	query(&m, "a.b", DNS_T_A, true, 1232);
	m.b[m.n - 1] = 4;
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);
}

static void test_names_labels_and_compression(void **st)
{
	struct msg m;
	struct dns_query q;
	char out[DNS_NAME_MAX];
	size_t off;

	(void)st;
	/* A label longer than 63 (0x40 and 0x80 are label types, refused). */
	hdr(&m, 0, 1, 0, 0, 0);
	put(&m, "\x40", 1);
	for (int i = 0; i < 64; i++)
		put(&m, "a", 1);
	put(&m, "\0\0\1\0\1", 5);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);
	/* A label running past the message. */
	hdr(&m, 0, 1, 0, 0, 0);
	put(&m,
	    "\x3f"
	    "ab\0\0\1\0\1",
	    8);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);
	/* A name longer than 255 in wire form: five labels of 63. */
	hdr(&m, 0, 1, 0, 0, 0);
	for (int l = 0; l < 5; l++) {
		put(&m, "\x3f", 1);
		for (int i = 0; i < 63; i++)
			put(&m, "a", 1);
	}
	put(&m, "\0\0\1\0\1", 5);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);
	/* A dot or a control byte inside a label. */
	hdr(&m, 0, 1, 0, 0, 0);
	put(&m,
	    "\x03"
	    "a.b\0\0\1\0\1",
	    9);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);

	/* Compression: a pointer to itself, to a later offset, and a loop through a label. */
	hdr(&m, 0, 1, 0, 0, 0);
	put(&m, "\xc0\x0c\0\1\0\1", 6);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);
	hdr(&m, 0, 1, 0, 0, 0);
	put(&m, "\xc0\x0e\0\1\0\1", 6); /* to the root right after it: well formed but for that */
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);
	hdr(&m, 0, 1, 0, 0, 0);
	put(&m,
	    "\x01"
	    "a\xc0\x0c\0\1\0\1",
	    8);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);
	/* A pointer cut after its first byte. */
	hdr(&m, 0, 1, 0, 0, 0);
	put(&m, "\xc0", 1);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_FORMERR);

	/* Good compression (as in answers): backward, chained, case folded. */
	m.n = 0;
	put(&m,
	    "\x04"
	    "ACME\x04"
	    "test\0",
	    11); /* 0: acme.test */
	put(&m,
	    "\x05"
	    "desk1\xc0\x00",
	    8); /* 11: desk1.acme.test */
	put(&m,
	    "\x02"
	    "db\xc0\x0b",
	    5); /* 19: db.desk1.acme.test */
	off = 19;
	assert_int_equal(dns_read_name(m.b, m.n, &off, out, NULL, NULL), 0);
	assert_string_equal(out, "db.desk1.acme.test");
	assert_int_equal(off, 24);
	/* A loop of pointers between two later runs: each must go before its run. */
	m.n = 0;
	put(&m,
	    "\x01"
	    "a\xc0\x04"
	    "\x01"
	    "b\xc0\x00",
	    8); /* a -> 4: b -> 0: a -> ... */
	off = 4;
	assert_int_equal(dns_read_name(m.b, m.n, &off, out, NULL, NULL), -EINVAL);
	off = 0;
	assert_int_equal(dns_read_name(m.b, m.n, &off, out, NULL, NULL), -EINVAL);
}

/* ---- encoder ---- */

static const char *zone = "acme.test";

static void test_build_answers_and_flags(void **st)
{
	struct msg m;
	struct dns_query q;
	struct dns_rr rr = { .type = DNS_T_A, .addr = 0x0a140064 };
	struct dns_reply r = { .aa = true, .ra = false, .ttl = 60, .an = &rr, .n_an = 1 };
	uint8_t b[1500];
	size_t n;

	(void)st;
	query(&m, "Desk1.acme.test", DNS_T_A, true, 4096);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_OK);
	n = dns_build_reply(b, sizeof(b), 512, &q, &r);
	/* Header, question (its case kept), answer (a pointer to it), OPT. */
	assert_int_equal(n, 12 + 17 + 4 + 16 + 11);
	assert_int_equal(get16(b), 0x1234);
	assert_int_equal(get16(b + 2), DNS_QR | DNS_AA | DNS_RD);
	assert_int_equal(get16(b + 4), 1);
	assert_int_equal(get16(b + 6), 1);
	assert_int_equal(get16(b + 10), 1);
	assert_memory_equal(b + 12,
			    "\x05"
			    "Desk1",
			    6);
	assert_int_equal(get16(b + 33), 0xc00c);
	assert_memory_equal(b + 33 + 12, "\x0a\x14\x00\x64", 4);
	assert_int_equal(get16(b + n - 11 + 3), DNS_EDNS_SIZE); /* our size in OPT's class */
	/* PTR, and RA when forwarding. */
	rr = (struct dns_rr){ .type = DNS_T_PTR, .ptr = "desk1.acme.test" };
	r.ra = true;
	query(&m, "100.0.20.10.in-addr.arpa", DNS_T_PTR, false, 0);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_OK);
	n = dns_build_reply(b, sizeof(b), 512, &q, &r);
	assert_int_equal(get16(b + 2), DNS_QR | DNS_AA | DNS_RD | DNS_RA);
	assert_memory_equal(b + n - 17,
			    "\x05"
			    "desk1\x04"
			    "acme\x04"
			    "test",
			    16);
	assert_int_equal(get16(b + 10), 0); /* no OPT without one asked */
}

static void test_build_negative_with_soa(void **st)
{
	struct msg m;
	struct dns_query q;
	struct dns_soa soa = { .zone = zone, .serial = 7, .minimum = 30 };
	struct dns_reply r = { .rcode = DNS_NXDOMAIN, .aa = true, .ttl = 60, .soa = &soa };
	uint8_t b[1500];
	size_t n;

	(void)st;
	query(&m, "nobody.acme.test", DNS_T_A, false, 0);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_OK);
	n = dns_build_reply(b, sizeof(b), 512, &q, &r);
	assert_int_equal(get16(b + 2) & 0xf, DNS_NXDOMAIN);
	assert_int_equal(get16(b + 6), 0);
	assert_int_equal(get16(b + 8), 1);
	/* owner acme.test, SOA, IN, TTL = minimum (RFC 2308) */
	size_t a = 12 + 18 + 4;
	assert_memory_equal(b + a,
			    "\x04"
			    "acme\x04"
			    "test\0",
			    11);
	assert_int_equal(get16(b + a + 11), DNS_T_SOA);
	assert_int_equal(get16(b + a + 17), 30);
	assert_int_equal(b[n - 1], 30);
	assert_int_equal(b[n - 17], 7); /* serial */
	/* The SOA asked for, at the apex: an answer. */
	r = (struct dns_reply){ .aa = true, .ttl = 60, .soa = &soa, .soa_answer = true };
	query(&m, "acme.test", DNS_T_SOA, false, 0);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_OK);
	n = dns_build_reply(b, sizeof(b), 512, &q, &r);
	assert_int_equal(get16(b + 6), 1);
	assert_int_equal(get16(b + 8), 0);
	assert_int_equal(get16(b + 12 + 11 + 4), 0xc00c);
}

static void test_build_truncates(void **st)
{
	struct msg m;
	struct dns_query q;
	struct dns_rr rr[40];
	struct dns_reply r = { .ttl = 60, .an = rr, .n_an = 40 };
	uint8_t b[1500];
	size_t n;

	(void)st;
	for (int i = 0; i < 40; i++)
		rr[i] = (struct dns_rr){ .type = DNS_T_A, .addr = 0x0a000000u + (uint32_t)i };
	query(&m, "many.acme.test", DNS_T_A, false, 0);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_OK);
	/* 12 + 20 + 16 a record: 30 fit 512, the rest left out with TC. */
	n = dns_build_reply(b, sizeof(b), 512, &q, &r);
	assert_true(n <= 512);
	assert_true(get16(b + 2) & DNS_TC);
	assert_int_equal(get16(b + 6), (512 - 32) / 16);
	/* An EDNS client that takes more gets them all. */
	query(&m, "many.acme.test", DNS_T_A, true, 1232);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_OK);
	n = dns_build_reply(b, sizeof(b), q.udp_size, &q, &r);
	assert_false(get16(b + 2) & DNS_TC);
	assert_int_equal(get16(b + 6), 40);
	assert_int_equal(n, 32 + 40 * 16 + 11);
	/* Not even the question fits: nothing. */
	assert_int_equal(dns_build_reply(b, 20, 512, &q, &r), 0);
}

static void test_build_error(void **st)
{
	struct msg m;
	uint8_t b[DNS_HDR_LEN];

	(void)st;
	query(&m, "a.b", DNS_T_A, false, 0);
	m.b[2] |= 2 << 3;
	assert_int_equal(dns_build_error(b, m.b, m.n, DNS_NOTIMP), DNS_HDR_LEN);
	assert_int_equal(get16(b), 0x1234);
	assert_int_equal(get16(b + 2), DNS_QR | (2 << 11) | DNS_RD | DNS_NOTIMP);
	assert_int_equal(get16(b + 4), 0);
}

/* ---- forwarder replies ---- */

static void test_reply_matching_and_truncation(void **st)
{
	struct msg m, rep;
	struct dns_query q;
	size_t n;

	(void)st;
	query(&m, "www.example.com", DNS_T_A, false, 0);
	assert_int_equal(dns_parse_query(m.b, m.n, &q), DNS_P_OK);
	/* The forwarder's reply to our id 0x9999, its case changed. */
	query(&rep, "WWW.example.COM", DNS_T_A, false, 0);
	rep.b[0] = 0x99;
	rep.b[1] = 0x99;
	rep.b[2] |= 0x80;
	rep.b[7] = 1;
	put(&rep, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\1\2\3\4", 16);
	assert_int_equal(dns_reply_matches(rep.b, rep.n, 0x9999, &q), 0);
	assert_int_equal(dns_reply_matches(rep.b, rep.n, 0x9998, &q), -EINVAL);
	rep.b[rep.n - 19] = 28; /* AAAA: another question */
	assert_int_equal(dns_reply_matches(rep.b, rep.n, 0x9999, &q), -EINVAL);
	rep.b[rep.n - 19] = 1;
	rep.b[2] &= 0x7f; /* not a response */
	assert_int_equal(dns_reply_matches(rep.b, rep.n, 0x9999, &q), -EINVAL);
	rep.b[2] |= 0x80;
	/* Too long for the client: header and question, TC, no records. */
	n = dns_truncate(rep.b, rep.n, 40);
	assert_int_equal(n, 12 + 17 + 4);
	assert_true(get16(rep.b + 2) & DNS_TC);
	assert_int_equal(get16(rep.b + 6), 0);
	assert_int_equal(dns_truncate(rep.b, n, 512), n);
}

/* An A record owned by the question's name (a pointer to it). */
static void put_a(struct msg *m)
{
	put(m, "\xc0\x0c", 2);
	put16(m, DNS_T_A);
	put16(m, DNS_CLASS_IN);
	put(m, "\0\0\0\x3c\0\4\x0a\0\0\1", 10); /* TTL 60, RDLENGTH 4, 10.0.0.1 */
}

static void put_opt(struct msg *m)
{
	put(m, "\0", 1);
	put16(m, DNS_T_OPT);
	put16(m, 1232);
	put(m, "\0\0\0\0\0\0", 6);
}

static void test_forward_opt_added_and_stripped(void **st)
{
	struct msg m;
	struct dns_query q;
	size_t n, end;

	(void)st;
	/* A query without EDNS leaves with ours: still one the parser takes. */
	query(&m, "big.ext.test", DNS_T_A, false, 0);
	n = dns_add_opt(m.b, m.n, sizeof(m.b), DNS_EDNS_SIZE);
	assert_int_equal(n, m.n + DNS_OPT_LEN);
	assert_int_equal(dns_parse_query(m.b, n, &q), DNS_P_OK);
	assert_true(q.edns);
	assert_int_equal(q.udp_size, DNS_EDNS_SIZE);
	assert_int_equal(dns_add_opt(m.b, m.n, m.n + DNS_OPT_LEN - 1, DNS_EDNS_SIZE), m.n);
	/* Its reply: an answer, in additional an A, the OPT, another A: cut at the OPT. */
	query(&m, "big.ext.test", DNS_T_A, false, 0);
	m.b[2] |= 0x80;
	m.b[7] = 1; /* ANCOUNT */
	m.b[11] = 3;
	put_a(&m);
	put_a(&m);
	end = m.n;
	put_opt(&m);
	put_a(&m);
	assert_int_equal(dns_strip_opt(m.b, m.n), end);
	assert_int_equal(m.b[11], 1);
	assert_int_equal(m.b[7], 1);
	/* The OPT last, as resolvers send it. */
	query(&m, "big.ext.test", DNS_T_A, false, 0);
	m.b[2] |= 0x80;
	m.b[7] = 1;
	m.b[11] = 1;
	put_a(&m);
	end = m.n;
	put_opt(&m);
	assert_int_equal(dns_strip_opt(m.b, m.n), end);
	assert_int_equal(m.b[11], 0);
	/* None, or a message cut short: as it was. */
	m.b[11] = 0;
	assert_int_equal(dns_strip_opt(m.b, end), end);
	m.b[11] = 1;
	assert_int_equal(dns_strip_opt(m.b, end + 5), end + 5);
	/* An A whose type is OPT in the answer section is not the OPT. */
	query(&m, "big.ext.test", DNS_T_A, false, 0);
	m.b[7] = 1;
	put_opt(&m);
	assert_int_equal(dns_strip_opt(m.b, m.n), m.n);
}

static void test_ptr_names(void **st)
{
	uint32_t a;
	char buf[64];

	(void)st;
	assert_int_equal(dns_ptr_addr("100.0.20.10.in-addr.arpa", &a), 0);
	assert_int_equal(a, 0x0a140064);
	assert_int_equal(dns_ptr_addr("0.0.20.10.in-addr.arpa", &a), 0);
	assert_int_equal(dns_ptr_addr("0.20.10.in-addr.arpa", &a), -EINVAL);
	assert_int_equal(dns_ptr_addr("256.0.20.10.in-addr.arpa", &a), -EINVAL);
	assert_int_equal(dns_ptr_addr("010.0.20.10.in-addr.arpa", &a), -EINVAL);
	assert_int_equal(dns_ptr_addr("+1.0.20.10.in-addr.arpa", &a), -EINVAL);
	assert_int_equal(dns_ptr_addr("1.0.20.10.in-addr.arpa.x", &a), -EINVAL);
	assert_int_equal(dns_ptr_addr("in-addr.arpa", &a), -EINVAL);
	dns_reverse_zone(0x0a140000, 24, buf, sizeof(buf));
	assert_string_equal(buf, "0.20.10.in-addr.arpa");
	dns_reverse_zone(0x0a140000, 20, buf, sizeof(buf));
	assert_string_equal(buf, "20.10.in-addr.arpa");
	bool apex;
	assert_true(dns_in_zone("acme.test", "acme.test", &apex) && apex);
	assert_true(dns_in_zone("a.acme.test", "acme.test", &apex) && !apex);
	assert_false(dns_in_zone("xacme.test", "acme.test", &apex));
	assert_false(dns_in_zone("test", "acme.test", &apex));
}

/* ---- zone ---- */

static void test_zone(void **st)
{
	struct dns_zone z;
	char label[64];

	(void)st;
	assert_int_equal(dns_zone_init(&z, 3, 3), 0);
	assert_int_equal(dns_zone_add(&z, "Desk1.acme.test", 0x0a140064, DNS_REC_DHCP), 0);
	/* Names are case-insensitive: the first keeps it. */
	assert_int_equal(dns_zone_add(&z, "DESK1.ACME.TEST", 0x0a140065, DNS_REC_DHCP), -EEXIST);
	assert_int_equal(dns_zone_add(&z, "www.acme.test", 0x0a140064, DNS_REC_STATIC), 0);
	assert_int_equal(dns_zone_add(&z, "c.acme.test", 3, DNS_REC_STATIC), 0);
	assert_int_equal(dns_zone_add(&z, "d.acme.test", 4, DNS_REC_STATIC), -EDQUOT);
	assert_non_null(dns_zone_by_name(&z, "desk1.acme.test"));
	assert_int_equal(dns_zone_by_name(&z, "desk1.acme.test")->ip, 0x0a140064);
	assert_null(dns_zone_by_name(&z, "desk2.acme.test"));
	/* PTR: the first name at the address. */
	assert_string_equal(dns_zone_by_ip(&z, 0x0a140064)->name, "desk1.acme.test");
	assert_null(dns_zone_by_ip(&z, 0x0a140066));
	dns_zone_fini(&z);
	/* Empty non-terminals: a configured name's parents below the zone (RFC 8020). */
	assert_int_equal(dns_zone_init(&z, 2, 2), 0);
	assert_int_equal(dns_zone_add(&z, "a.b.acme.test", 1, DNS_REC_STATIC), 0);
	assert_int_equal(dns_zone_add(&z, "desk1.acme.test", 2, DNS_REC_DHCP), 0);
	assert_true(dns_zone_has_below(&z, "b.acme.test"));
	assert_false(dns_zone_has_below(&z, "a.b.acme.test"));
	assert_false(dns_zone_has_below(&z, "xb.acme.test"));
	assert_false(dns_zone_has_below(&z, "c.acme.test"));
	assert_false(dns_zone_has_below(&z, "b.acme"));
	dns_zone_fini(&z);
	/* Room below cap: past it, refused rather than overflowed. */
	assert_int_equal(dns_zone_init(&z, 1, 100), 0);
	assert_int_equal(dns_zone_add(&z, "a", 1, DNS_REC_STATIC), 0);
	assert_int_equal(dns_zone_add(&z, "b", 2, DNS_REC_STATIC), -ENOSPC);
	dns_zone_fini(&z);
	dns_host_label("laptop.corp.example", label, sizeof(label));
	assert_string_equal(label, "laptop");
}

/* What has_below answers, found the long way: a configured name ending in "." name. */
static bool below_scan(const struct dns_zone *z, const char *name)
{
	size_t n = strlen(name);

	for (uint32_t i = 0; i < z->n; i++) {
		size_t rn = strlen(z->r[i].name);
		if (z->r[i].kind == DNS_REC_STATIC && rn > n + 1 &&
		    z->r[i].name[rn - n - 1] == '.' && strcmp(z->r[i].name + rn - n, name) == 0)
			return true;
	}
	return false;
}

/* The parents' index through its growth: every name's parents and non-parents as a scan
 * of the records says, shared parents once. */
static void test_zone_below_index(void **st)
{
	static const char *const labels[] = { "a", "b", "lab", "x-1", "nas" };
	struct dns_zone z;
	char name[128], q[128];

	(void)st;
	assert_int_equal(dns_zone_init(&z, 600, 600), 0);
	for (uint32_t i = 0; i < 500; i++) {
		/* 1 to 4 labels below the zone: many share their parents. */
		snprintf(name, sizeof(name), "h%u.%s.%s.acme.test", i, labels[i % 5],
			 labels[(i / 5) % 5]);
		const char *n = i % 3 ? name : strchr(name, '.') + 1;
		int rc = dns_zone_add(&z, n, i, i % 7 ? DNS_REC_STATIC : DNS_REC_DHCP);
		assert_true(rc == 0 || rc == -EEXIST);
	}
	assert_true(z.n_below > 16 && 2 * z.n_below <= z.below_mask + 1);
	for (uint32_t i = 0; i < 5; i++)
		for (uint32_t k = 0; k < 5; k++)
			for (uint32_t h = 0; h < 40; h += 13) {
				snprintf(q, sizeof(q), "%s.%s.acme.test", labels[i], labels[k]);
				assert_int_equal(dns_zone_has_below(&z, q), below_scan(&z, q));
				snprintf(q, sizeof(q), "h%u.%s.%s.acme.test", h, labels[i],
					 labels[k]);
				assert_int_equal(dns_zone_has_below(&z, q), below_scan(&z, q));
				snprintf(q, sizeof(q), "%s.acme.test", labels[k]);
				assert_int_equal(dns_zone_has_below(&z, q), below_scan(&z, q));
			}
	/* Parents only after a dot; a DHCP record's are none (only configured names count). */
	assert_int_equal(dns_zone_add(&z, "d.only.acme.test", 9, DNS_REC_DHCP), 0);
	const char *qs[] = { "acme.test",
			     "test",
			     "acme",
			     "lab.acme.test",
			     "",
			     "cme.test",
			     "ab.acme.test",
			     "1.lab.acme.test",
			     "only.acme.test",
			     "h1.a.a.acme.test" };
	for (uint32_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		assert_int_equal(dns_zone_has_below(&z, qs[i]), below_scan(&z, qs[i]));
	assert_true(dns_zone_has_below(&z, "lab.a.acme.test"));
	assert_false(dns_zone_has_below(&z, "only.acme.test"));
	assert_false(dns_zone_has_below(&z, "cme.test"));
	assert_false(dns_zone_has_below(&z, "h0.a.a.acme.test"));
	dns_zone_fini(&z);
}

/* ---- config rules ---- */

static int decode(const char *dns, const char *dhcp, struct cfg_errs *errs)
{
	char doc[8192];
	struct tessd_cfg cfg;
	json_t *j;
	int rc;

	snprintf(doc, sizeof(doc),
		 "{\"ports\": [{\"name\": \"p\", \"devargs\": \"net_tap0\"}],"
		 " \"router\": {\"vrfs\": [{\"name\": \"v\", \"id\": 1}],"
		 "  \"interfaces\": [{\"name\": \"lan\", \"vrf\": \"v\", \"port\": \"p\","
		 "   \"addresses\": [\"10.0.0.1/24\"]},"
		 "   {\"name\": \"bare\", \"vrf\": \"v\", \"port\": \"p\", \"vlan\": 5}]},"
		 " \"dhcp\": %s, \"dns\": %s}",
		 dhcp, dns);
	j = json_loads(doc, 0, NULL);
	assert_non_null(j);
	cfg_errs_init(errs);
	rc = tessd_cfg_decode(j, &cfg, errs, tessd_dns_validate);
	json_decref(j);
	if (rc == 0)
		tessd_cfg_free(&cfg);
	return rc;
}

static void expect_err_dhcp(const char *dns, const char *dhcp, const char *path, const char *text)
{
	struct cfg_errs errs;

	assert_int_not_equal(decode(dns, dhcp, &errs), 0);
	for (unsigned i = 0; i < errs.n; i++)
		if (strcmp(errs.e[i].path, path) == 0 && strstr(errs.e[i].msg, text))
			return;
	for (unsigned i = 0; i < errs.n; i++)
		fprintf(stderr, "  %s: %s\n", errs.e[i].path, errs.e[i].msg);
	fail_msg("no error at %s with '%s'", path, text);
}

static void expect_err(const char *dns, const char *path, const char *text)
{
	expect_err_dhcp(dns, "{}", path, text);
}

#define SRV(x) "{\"servers\": [{\"interface\": \"lan\", " x "}]}"

static void test_config_rules(void **st)
{
	struct cfg_errs errs;

	(void)st;
	assert_int_equal(
		decode(SRV("\"domain\": \"acme.test\", \"forwarders\": [\"10.9.0.1\"],"
			   "\"records\": [{\"name\": \"www\", \"address\": \"10.0.0.80\"}]"),
		       "{}", &errs),
		0);
	/* The zone may come from the interface's DHCP server. */
	assert_int_equal(decode(SRV("\"ttl\": 5"),
				"{\"servers\": [{\"interface\": \"lan\", \"domain\": \"d.test\"}]}",
				&errs),
			 0);
	expect_err(SRV("\"ttl\": 5"), "/dns/servers/0/domain", "no zone");
	/* A zone from the DHCP domain meets the same rules, at the DHCP key. */
	static const char *bad_dhcp[] = { "a.b.", "a..b", ".corp" };
	char dhcp[512];
	for (unsigned k = 0; k < sizeof(bad_dhcp) / sizeof(bad_dhcp[0]); k++) {
		snprintf(dhcp, sizeof(dhcp),
			 "{\"servers\": [{\"interface\": \"lan\", \"domain\": \"%s\"}]}",
			 bad_dhcp[k]);
		expect_err_dhcp(SRV("\"ttl\": 5"), dhcp, "/dhcp/servers/0/domain", "labels");
	}
	/* 243 characters: hostmaster.<zone> would not be a name (a DHCP domain is <= 63). */
	char long_zone[244], dns[512];
	for (unsigned k = 0; k < 243; k++)
		long_zone[k] = k % 50 == 49 ? '.' : 'a';
	long_zone[243] = '\0';
	snprintf(dns, sizeof(dns), SRV("\"domain\": \"%s\""), long_zone);
	expect_err(dns, "/dns/servers/0/domain", "");
	long_zone[242] = '\0'; /* 242: taken */
	snprintf(dns, sizeof(dns), SRV("\"domain\": \"%s\""), long_zone);
	assert_int_equal(decode(dns, "{}", &errs), 0);
	expect_err(SRV("\"domain\": \"a..b\""), "/dns/servers/0/domain", "labels");
	expect_err(SRV("\"domain\": \"a.b.\""), "/dns/servers/0/domain", "labels");
	expect_err("{\"servers\": [{\"interface\": \"bare\", \"domain\": \"a.b\"}]}",
		   "/dns/servers/0/interface", "no address");
	expect_err("{\"servers\": [{\"interface\": \"nope\", \"domain\": \"a.b\"}]}",
		   "/dns/servers/0/interface", "nope");
	expect_err("{\"servers\": [{\"interface\": \"lan\", \"domain\": \"a.b\"},"
		   " {\"interface\": \"lan\", \"domain\": \"c.d\"}]}",
		   "/dns/servers/1/interface", "already has a DNS server");
	expect_err(SRV("\"domain\": \"a.b\", \"forwarders\": [\"10.0.0.1\"]"),
		   "/dns/servers/0/forwarders/0", "own address");
	expect_err(SRV("\"domain\": \"a.b\", \"forwarders\": [\"224.0.0.1\"]"),
		   "/dns/servers/0/forwarders/0", "unicast");
	expect_err(SRV("\"domain\": \"a.b\", \"records\": [{\"name\": \"WWW\", \"address\": "
		       "\"10.0.0.8\"}, {\"name\": \"www\", \"address\": \"10.0.0.9\"}]"),
		   "/dns/servers/0/records/1/name", "already has a record");
	expect_err(
		SRV("\"domain\": \"a.b\", \"max_records\": 1, \"records\": [{\"name\": \"x\","
		    " \"address\": \"10.0.0.8\"}, {\"name\": \"y\", \"address\": \"10.0.0.9\"}]"),
		"/dns/servers/0/records", "max_records");
	expect_err(SRV("\"domain\": \"a.b\", \"records\": [{\"name\": \"a_b\", \"address\": "
		       "\"10.0.0.8\"}]"),
		   "/dns/servers/0/records/0/name", "");
	expect_err("{\"record_capacity\": 10, \"servers\": [{\"interface\": \"lan\", \"domain\": "
		   "\"a.b\", \"max_records\": 11}]}",
		   "/dns/servers/0/max_records", "record_capacity");
	expect_err(SRV("\"domain\": \"a.b\", \"tcp_conns\": 65"), "/dns/servers/0/tcp_conns", "");
	/* deny_names are labels: a dotted name would never match a client's. */
	expect_err(SRV("\"domain\": \"a.b\", \"deny_names\": [\"wpad.corp\"]"),
		   "/dns/servers/0/deny_names/0", "");
	assert_int_equal(decode(SRV("\"domain\": \"a.b\", \"deny_names\": []"), "{}", &errs), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_query),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_names_labels_and_compression),
		cmocka_unit_test(test_build_answers_and_flags),
		cmocka_unit_test(test_build_negative_with_soa),
		cmocka_unit_test(test_build_truncates),
		cmocka_unit_test(test_build_error),
		cmocka_unit_test(test_reply_matching_and_truncation),
		cmocka_unit_test(test_forward_opt_added_and_stripped),
		cmocka_unit_test(test_ptr_names),
		cmocka_unit_test(test_zone),
		cmocka_unit_test(test_zone_below_index),
		cmocka_unit_test(test_config_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
