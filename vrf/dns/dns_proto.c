/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS messages: the query parser, the reply encoder, forwarder replies (dns_proto.h). */
#include "dns_proto.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A byte of a label we can name in dotted form (no dot, space or control character). */
static bool label_byte_ok(uint8_t c)
{
	return c > ' ' && c != '.' && c < 0x7f;
}

int dns_read_name(const uint8_t *msg, size_t len, size_t *off, char *out, uint8_t *wire,
		  uint8_t *wire_len)
{
	size_t pos = *off, run = *off, o = 0, w = 0;
	unsigned hops = 0;
	bool jumped = false;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return -EINVAL;
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t ptr;

			if (pos + 1 >= len)
				return -EINVAL;
			ptr = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			/*
			 * Each pointer goes before where the run it ends began: the runs
			 * start ever earlier, so no loop, and few hops.
			 */
			if (ptr >= run || ++hops > DNS_NAME_MAX)
				return -EINVAL;
			if (!jumped)
				*off = pos + 2;
			jumped = true;
			pos = run = ptr;
			continue;
		}
		if (c & 0xc0)
			return -EINVAL; /* 0x40, 0x80: label types RFC 6891 retired */
		if (c == 0) {
			if (w + 1 > DNS_NAME_MAX)
				return -EINVAL;
			if (wire)
				wire[w] = 0;
			w++;
			out[o] = '\0';
			if (wire_len)
				*wire_len = (uint8_t)w;
			if (!jumped)
				*off = pos + 1;
			return 0;
		}
		if (pos + 1 + c > len || w + 1 + c + 1 > DNS_NAME_MAX)
			return -EINVAL;
		if (wire)
			memcpy(wire + w, msg + pos, 1 + (size_t)c);
		w += 1 + (size_t)c;
		if (o)
			out[o++] = '.';
		for (unsigned i = 1; i <= c; i++) {
			if (!label_byte_ok(msg[pos + i]))
				return -EINVAL;
			out[o++] = (char)tolower(msg[pos + i]);
		}
		pos += 1 + (size_t)c;
	}
}

enum dns_parse dns_parse_query(const uint8_t *p, size_t len, struct dns_query *q)
{
	size_t off = DNS_HDR_LEN;
	uint16_t qd, an, ns, ar;
	char root[DNS_NAME_MAX];

	memset(q, 0, sizeof(*q));
	q->udp_size = DNS_UDP_MIN;
	if (len < DNS_HDR_LEN)
		return DNS_P_DROP;
	q->id = get16(p);
	q->flags = get16(p + 2);
	if (q->flags & DNS_QR)
		return DNS_P_DROP; /* a response: never answered (no reflection loops) */
	q->opcode = (uint8_t)((q->flags >> 11) & 0xf);
	if (q->opcode != 0)
		return DNS_P_NOTIMP;
	qd = get16(p + 4);
	an = get16(p + 6);
	ns = get16(p + 8);
	ar = get16(p + 10);
	if (qd != 1 || an || ns || ar > 1)
		return DNS_P_FORMERR;
	if (dns_read_name(p, len, &off, q->qname, q->qwire, &q->qwire_len) < 0 || off + 4 > len)
		return DNS_P_FORMERR;
	q->qtype = get16(p + off);
	q->qclass = get16(p + off + 2);
	off += 4;
	if (ar) {
		uint8_t rlen;
		uint16_t rdlen;

		/* Only an OPT (RFC 6891 6.1.1): owned by the root. */
		if (dns_read_name(p, len, &off, root, NULL, &rlen) < 0 || rlen != 1 ||
		    off + 10 > len || get16(p + off) != DNS_T_OPT)
			return DNS_P_FORMERR;
		q->edns = true;
		q->opt_size_off = (uint16_t)(off + 2);
		q->udp_size = get16(p + off + 2) < DNS_UDP_MIN ? DNS_UDP_MIN : get16(p + off + 2);
		rdlen = get16(p + off + 8);
		off += 10;
		if (off + rdlen > len)
			return DNS_P_FORMERR;
		off += rdlen;
	}
	return off == len ? DNS_P_OK : DNS_P_FORMERR;
}

size_t dns_name_encode(const char *s, uint8_t *buf, size_t cap)
{
	size_t w = 0;

	while (*s) {
		size_t l = strcspn(s, ".");
		if (l == 0 || l > 63 || w + 1 + l + 1 > cap || w + 1 + l + 1 > DNS_NAME_MAX)
			return 0;
		buf[w++] = (uint8_t)l;
		memcpy(buf + w, s, l);
		w += l;
		s += l;
		if (*s == '.')
			s++;
	}
	if (w + 1 > cap)
		return 0;
	buf[w++] = 0;
	return w;
}

/* A record's fixed part after its owner: type, class IN, TTL, RDLENGTH. */
static void rr_fixed(uint8_t *p, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	put16(p, type);
	put16(p + 2, DNS_CLASS_IN);
	put32(p + 4, ttl);
	put16(p + 8, rdlen);
}

/* One answer named as the question (a pointer to it): its length, 0 if it does not fit. */
static size_t put_answer(uint8_t *p, size_t room, const struct dns_rr *rr, uint32_t ttl)
{
	uint8_t name[DNS_NAME_MAX];
	size_t rdlen = 4;

	if (rr->type == DNS_T_PTR && (rdlen = dns_name_encode(rr->ptr, name, sizeof(name))) == 0)
		return 0;
	if (room < 12 + rdlen)
		return 0;
	put16(p, 0xc000 | DNS_HDR_LEN);
	rr_fixed(p + 2, rr->type, ttl, (uint16_t)rdlen);
	if (rr->type == DNS_T_PTR)
		memcpy(p + 12, name, rdlen);
	else
		put32(p + 12, rr->addr);
	return 12 + rdlen;
}

/* The SOA of the zone: owned by it, or by the question (as an answer). 0: does not fit. */
static size_t put_soa(uint8_t *p, size_t room, const struct dns_soa *soa, uint32_t ttl, bool answer)
{
	uint8_t owner[DNS_NAME_MAX], mname[DNS_NAME_MAX], rname[DNS_NAME_MAX + 11];
	char host[DNS_NAME_MAX + 12];
	size_t ol = answer ? 2 : dns_name_encode(soa->zone, owner, sizeof(owner));
	size_t ml = dns_name_encode(soa->zone, mname, sizeof(mname)), rl, need;

	snprintf(host, sizeof(host), "hostmaster.%s", soa->zone);
	rl = dns_name_encode(host, rname, sizeof(rname));
	if (ol == 0 || ml == 0 || rl == 0)
		return 0;
	need = ol + 10 + ml + rl + 20;
	if (room < need)
		return 0;
	if (answer)
		put16(p, 0xc000 | DNS_HDR_LEN);
	else
		memcpy(p, owner, ol);
	rr_fixed(p + ol, DNS_T_SOA, ttl, (uint16_t)(ml + rl + 20));
	p += ol + 10;
	memcpy(p, mname, ml);
	memcpy(p + ml, rname, rl);
	p += ml + rl;
	put32(p, soa->serial);
	put32(p + 4, 3600);   /* refresh */
	put32(p + 8, 600);    /* retry */
	put32(p + 12, 86400); /* expire */
	put32(p + 16, soa->minimum);
	return need;
}

#define OPT_LEN 11

size_t dns_build_reply(uint8_t *buf, size_t cap, size_t limit, const struct dns_query *q,
		       const struct dns_reply *r)
{
	size_t end = limit < cap ? limit : cap, off, n;
	uint16_t flags = DNS_QR | (q->flags & DNS_RD) | r->rcode;
	unsigned an = 0, ns = 0;

	if (q->edns)
		end = end > OPT_LEN ? end - OPT_LEN : 0;
	off = DNS_HDR_LEN + q->qwire_len + 4u;
	if (off > end)
		return 0;
	memcpy(buf + DNS_HDR_LEN, q->qwire, q->qwire_len);
	put16(buf + DNS_HDR_LEN + q->qwire_len, q->qtype);
	put16(buf + DNS_HDR_LEN + q->qwire_len + 2, q->qclass);
	for (unsigned i = 0; i < r->n_an; i++, an++) {
		if ((n = put_answer(buf + off, end - off, &r->an[i], r->ttl)) == 0) {
			flags |= DNS_TC; /* the rest over TCP */
			break;
		}
		off += n;
	}
	if (r->soa && r->soa_answer && !(flags & DNS_TC)) {
		if ((n = put_soa(buf + off, end - off, r->soa, r->ttl, true)) == 0) {
			flags |= DNS_TC;
		} else {
			off += n;
			an++;
		}
	}
	/* A negative answer's SOA (RFC 2308): left out, not truncated, when it does not fit. */
	if (r->soa && !r->soa_answer && !(flags & DNS_TC) &&
	    (n = put_soa(buf + off, end - off, r->soa, r->soa->minimum, false)) != 0) {
		off += n;
		ns++;
	}
	if (r->aa)
		flags |= DNS_AA;
	if (r->ra)
		flags |= DNS_RA;
	put16(buf, q->id);
	put16(buf + 2, flags);
	put16(buf + 4, 1);
	put16(buf + 6, (uint16_t)an);
	put16(buf + 8, (uint16_t)ns);
	put16(buf + 10, q->edns ? 1 : 0);
	if (q->edns) {
		buf[off] = 0; /* root */
		rr_fixed(buf + off + 1, DNS_T_OPT, 0, 0);
		put16(buf + off + 3, DNS_EDNS_SIZE); /* OPT's class: our UDP size */
		off += OPT_LEN;
	}
	return off;
}

size_t dns_build_error(uint8_t *buf, const uint8_t *p, size_t len, uint8_t rcode)
{
	uint16_t flags = len >= 4 ? get16(p + 2) : 0;

	memset(buf, 0, DNS_HDR_LEN);
	if (len >= 2)
		memcpy(buf, p, 2);
	put16(buf + 2, (uint16_t)(DNS_QR | (flags & (0x7800 | DNS_RD)) | rcode));
	return DNS_HDR_LEN;
}

/* The end of the question of the message at p (one question), or 0. */
static size_t question_end(const uint8_t *p, size_t len, char *name, uint16_t *type, uint16_t *cls)
{
	size_t off = DNS_HDR_LEN;

	if (len < DNS_HDR_LEN || get16(p + 4) != 1 ||
	    dns_read_name(p, len, &off, name, NULL, NULL) < 0 || off + 4 > len)
		return 0;
	*type = get16(p + off);
	*cls = get16(p + off + 2);
	return off + 4;
}

int dns_reply_matches(const uint8_t *p, size_t len, uint16_t id, const struct dns_query *q)
{
	char name[DNS_NAME_MAX];
	uint16_t type, cls;

	if (len < DNS_HDR_LEN || get16(p) != id || !(get16(p + 2) & DNS_QR) ||
	    question_end(p, len, name, &type, &cls) == 0)
		return -EINVAL;
	return strcmp(name, q->qname) == 0 && type == q->qtype && cls == q->qclass ? 0 : -EINVAL;
}

size_t dns_truncate(uint8_t *p, size_t len, size_t limit)
{
	char name[DNS_NAME_MAX];
	uint16_t type, cls;
	size_t end;

	if (len <= limit)
		return len;
	end = question_end(p, len, name, &type, &cls);
	if (end == 0 || end > limit) {
		end = DNS_HDR_LEN;
		put16(p + 4, 0);
	}
	put16(p + 2, get16(p + 2) | DNS_TC);
	memset(p + 6, 0, 6);
	return end;
}

int dns_ptr_addr(const char *qname, uint32_t *a)
{
	static const char suffix[] = ".in-addr.arpa";
	size_t n = strlen(qname), sl = sizeof(suffix) - 1;
	unsigned o[4], used = 0;
	char tail;

	if (n <= sl || strcmp(qname + n - sl, suffix) != 0)
		return -EINVAL;
	if (sscanf(qname, "%3u.%3u.%3u.%3u%n%c", &o[0], &o[1], &o[2], &o[3], &used, &tail) != 5 ||
	    used != n - sl || o[0] > 255 || o[1] > 255 || o[2] > 255 || o[3] > 255)
		return -EINVAL;
	/* No leading zeros or signs: the name of an address is one spelling only. */
	for (size_t i = 0; i < used; i++)
		if (!(qname[i] == '.' || (qname[i] >= '0' && qname[i] <= '9')) ||
		    (qname[i] == '0' && (i == 0 || qname[i - 1] == '.') && qname[i + 1] != '.'))
			return -EINVAL;
	*a = o[3] << 24 | o[2] << 16 | o[1] << 8 | o[0];
	return 0;
}

void dns_reverse_zone(uint32_t ip, uint8_t len, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int k = len / 8 - 1; k >= 0; k--)
		o += (size_t)snprintf(buf + o, cap > o ? cap - o : 0, "%u.",
				      (ip >> (24 - 8 * k)) & 0xff);
	snprintf(buf + o, cap > o ? cap - o : 0, "in-addr.arpa");
}

bool dns_in_zone(const char *name, const char *zone, bool *apex)
{
	size_t n = strlen(name), z = strlen(zone);

	*apex = false;
	if (n == z)
		return (*apex = strcmp(name, zone) == 0);
	return n > z && name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

size_t dns_add_opt(uint8_t *p, size_t len, size_t cap, uint16_t size)
{
	uint8_t *o = p + len;

	if (len < DNS_HDR_LEN || len + DNS_OPT_LEN > cap)
		return len;
	memset(o, 0, DNS_OPT_LEN); /* root owner, TTL (extended rcode, version, flags) 0 */
	put16(o + 1, DNS_T_OPT);
	put16(o + 3, size);
	put16(p + 10, (uint16_t)(get16(p + 10) + 1));
	return len + DNS_OPT_LEN;
}

/* Past the name at off (labels, or a pointer ending it), not read: 0 if cut. */
static size_t skip_name(const uint8_t *p, size_t len, size_t off)
{
	while (off < len) {
		uint8_t b = p[off];
		if ((b & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (b & 0xc0)
			return 0;
		off += 1u + b;
		if (b == 0)
			return off;
	}
	return 0;
}

size_t dns_strip_opt(uint8_t *p, size_t len)
{
	size_t off = DNS_HDR_LEN;
	uint32_t qd, before, ar;

	if (len < DNS_HDR_LEN)
		return len;
	qd = get16(p + 4);
	before = (uint32_t)get16(p + 6) + get16(p + 8);
	ar = get16(p + 10);
	for (uint32_t i = 0; i < qd; i++)
		if ((off = skip_name(p, len, off)) == 0 || (off += 4) > len)
			return len;
	for (uint32_t i = 0; i < before + ar; i++) {
		size_t rr = off;
		if ((off = skip_name(p, len, off)) == 0 || off + 10 > len ||
		    off + 10 + get16(p + off + 8) > len)
			return len;
		if (i >= before && get16(p + off) == DNS_T_OPT) {
			/* Cut there: additional records after it are optional (RFC 2181 9). */
			put16(p + 10, (uint16_t)(i - before));
			return rr;
		}
		off += 10u + get16(p + off + 8);
	}
	return len;
}
