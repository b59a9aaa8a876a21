/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS messages (RFC 1035, EDNS0 RFC 6891): a query's parser that trusts
 * nothing (label lengths, compression pointers that loop or point forward,
 * truncation, counts), a reply's encoder that truncates (TC) rather than
 * overflow what the client accepts, and what a forwarder's reply must
 * match. Plain C, for unit tests and the fuzzer too.
 */
#ifndef TESS_DNS_PROTO_H
#define TESS_DNS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_PORT      53
#define DNS_HDR_LEN   12
#define DNS_NAME_MAX  255  /* wire form, root label included */
#define DNS_UDP_MIN   512  /* what every client accepts (no EDNS) */
#define DNS_EDNS_SIZE 1232 /* what we accept and offer over UDP (the DNS flag day's size) */

enum dns_type { DNS_T_A = 1, DNS_T_NS = 2, DNS_T_SOA = 6, DNS_T_PTR = 12, DNS_T_OPT = 41 };
enum dns_rcode {
	DNS_NOERROR = 0,
	DNS_FORMERR = 1,
	DNS_SERVFAIL = 2,
	DNS_NXDOMAIN = 3,
	DNS_NOTIMP = 4,
	DNS_REFUSED = 5,
};
#define DNS_CLASS_IN 1

/* Header flags (host order). */
#define DNS_QR 0x8000
#define DNS_AA 0x0400
#define DNS_TC 0x0200
#define DNS_RD 0x0100
#define DNS_RA 0x0080

struct dns_query {
	uint16_t id, flags; /* as sent */
	uint8_t opcode;
	uint8_t qwire[DNS_NAME_MAX]; /* the question's name, uncompressed, its case kept */
	uint8_t qwire_len;
	char qname[DNS_NAME_MAX]; /* dotted, lower case, no trailing dot ("" the root) */
	uint16_t qtype, qclass;
	bool edns;
	uint16_t udp_size;     /* the client's EDNS size (512 without) */
	uint16_t opt_size_off; /* where the OPT's size (its class) is in the query; 0: none */
};

enum dns_parse {
	DNS_P_OK,
	DNS_P_DROP,    /* not a query to answer: shorter than a header, or a response */
	DNS_P_FORMERR, /* a header to answer FORMERR to, the question unusable */
	DNS_P_NOTIMP,  /* an opcode other than QUERY */
};

/*
 * Parses a query of len bytes into q. DNS_P_FORMERR: bad label lengths,
 * compression loops, truncation, QDCOUNT other than 1, answers or
 * authority sent, additional records other than one OPT.
 */
enum dns_parse dns_parse_query(const uint8_t *p, size_t len, struct dns_query *q);

/*
 * The name at *off in msg (len bytes), compression followed (pointers only
 * backward, at most DNS_NAME_MAX of them): dotted, lower case, into out
 * (DNS_NAME_MAX bytes); its uncompressed wire form into wire if not NULL.
 * *off moves past it. 0, or -EINVAL.
 */
int dns_read_name(const uint8_t *msg, size_t len, size_t *off, char *out, uint8_t *wire,
		  uint8_t *wire_len);

/* The dotted name s in wire form into buf (cap bytes): its length, 0 if too long or bad. */
size_t dns_name_encode(const char *s, uint8_t *buf, size_t cap);

/* What a reply says. */
struct dns_rr {
	uint16_t type;   /* A or PTR */
	uint32_t addr;   /* A: host order */
	const char *ptr; /* PTR: dotted */
};

struct dns_soa {
	const char *zone; /* dotted: the owner, mname is it, rname hostmaster.<zone> */
	uint32_t serial, minimum;
};

struct dns_reply {
	uint8_t rcode;
	bool aa, ra;
	uint32_t ttl;
	const struct dns_rr *an; /* answers, each named as the question */
	unsigned n_an;
	const struct dns_soa *soa; /* in authority (NXDOMAIN, NODATA), or NULL */
	bool soa_answer;           /* the SOA as the answer instead (a query for it) */
};

/*
 * Builds the reply to q into buf (cap bytes), at most limit of them (512,
 * the client's EDNS size, or 65535 over TCP): answers and authority that
 * do not fit are left out with TC set. An OPT goes back when q had one.
 * Its length, or 0 if not even the header and question fit in cap.
 */
size_t dns_build_reply(uint8_t *buf, size_t cap, size_t limit, const struct dns_query *q,
		       const struct dns_reply *r);

/* A header-only error reply (FORMERR, NOTIMP) to the query of len bytes at p: 12 bytes. */
size_t dns_build_error(uint8_t *buf, const uint8_t *p, size_t len, uint8_t rcode);

/*
 * Whether the forwarder's reply of len bytes at p answers q (the question
 * we sent, its id rewritten to id): a response, same id and question
 * (case-insensitive). 0, or -EINVAL.
 */
int dns_reply_matches(const uint8_t *p, size_t len, uint16_t id, const struct dns_query *q);

/*
 * A forwarder's reply too long for the client's limit: cut to header and
 * question, TC set, counts zeroed (the client asks again over TCP). Its
 * new length.
 */
size_t dns_truncate(uint8_t *p, size_t len, size_t limit);

/* The name "d.c.b.a.in-addr.arpa" of a: -EINVAL, or 0 with *a (host order). */
int dns_ptr_addr(const char *qname, uint32_t *a);
/* The reverse zone of prefix ip/len (octet-aligned down) into buf: "b.a.in-addr.arpa". */
void dns_reverse_zone(uint32_t ip, uint8_t len, char *buf, size_t cap);

/* Whether name is zone or under it (both dotted, lower case); *sub: under, not the apex. */
bool dns_in_zone(const char *name, const char *zone, bool *apex);

/* An OPT record: root owner, type, size, TTL, RDLENGTH 0. */
#define DNS_OPT_LEN 11
/* Appends an OPT offering size to the message of len bytes (cap room): the new length. */
size_t dns_add_opt(uint8_t *p, size_t len, size_t cap, uint16_t size);
/*
 * The message of len bytes without its OPT (for a client that sent none): cut
 * where the OPT starts, ARCOUNT the records before it; the new length (len if
 * none, or the message does not parse).
 */
size_t dns_strip_opt(uint8_t *p, size_t len);

#endif
