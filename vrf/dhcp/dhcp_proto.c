/* SPDX-License-Identifier: BSD-3-Clause */
#include "dhcp_proto.h"

#include <string.h>

#define OPT_PAD       0
#define OPT_MASK      1
#define OPT_ROUTER    3
#define OPT_DNS       6
#define OPT_HOSTNAME  12
#define OPT_DOMAIN    15
#define OPT_MTU       26
#define OPT_BCAST     28
#define OPT_REQUESTED 50
#define OPT_LEASE     51
#define OPT_OVERLOAD  52
#define OPT_TYPE      53
#define OPT_SERVER    54
#define OPT_PRL       55
#define OPT_MESSAGE   56
#define OPT_MAXSIZE   57
#define OPT_T1        58
#define OPT_T2        59
#define OPT_AGENT     82
#define OPT_CLASSLESS 121
#define OPT_END       255

#define OFF_SNAME 44
#define OFF_FILE  108

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

const char *dhcp_bad_name(enum dhcp_bad why)
{
	static const char *const names[] = {
		[DHCP_OK] = "ok",
		[DHCP_BAD_SHORT] = "truncated",
		[DHCP_BAD_HEADER] = "bad_header",
		[DHCP_BAD_COOKIE] = "no_magic_cookie",
		[DHCP_BAD_OPTION] = "bad_option",
		[DHCP_BAD_OVERLOAD] = "bad_overload",
		[DHCP_BAD_TYPE] = "bad_message_type",
	};
	return why <= DHCP_BAD_TYPE ? names[why] : "?";
}

static bool host_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

bool dhcp_hostname_ok(const char *s)
{
	for (; *s; s++)
		if (!host_char((uint8_t)*s))
			return false;
	return true;
}

size_t dhcp_max_len(const struct dhcp_msg *m)
{
	/* Option 57 counts the IP datagram (its minimum, 576, is IP's): less 28 bytes of headers.
	 */
	size_t n = m->max_size ? (size_t)m->max_size - 28 : DHCP_MSG_DEFAULT;

	if (n < DHCP_MSG_DEFAULT)
		n = DHCP_MSG_DEFAULT;
	return n > DHCP_REPLY_MAX ? DHCP_REPLY_MAX : n;
}

static bool wanted(const struct dhcp_reply *r, uint8_t code)
{
	return r->only == NULL || (r->only[code / 8] >> (code % 8) & 1);
}

/*
 * Options in p[0..len): each within the area, those we read of their
 * length; an end option required where "need_end" (the options field; the
 * overloaded file and sname fields may just fill up with pads).
 */
static enum dhcp_bad parse_options(const uint8_t *p, size_t len, bool need_end, bool main,
				   struct dhcp_msg *m)
{
	size_t i = 0;

	while (i < len) {
		uint8_t code = p[i], n;
		const uint8_t *v;

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return DHCP_OK;
		if (i + 2 > len || i + 2 + p[i + 1] > len)
			return DHCP_BAD_OPTION;
		n = p[i + 1];
		v = p + i + 2;
		switch (code) {
		case OPT_TYPE:
			if (n != 1)
				return DHCP_BAD_OPTION;
			m->type = v[0];
			break;
		case OPT_REQUESTED:
			if (n != 4)
				return DHCP_BAD_OPTION;
			m->requested = get32(v);
			break;
		case OPT_SERVER:
			if (n != 4)
				return DHCP_BAD_OPTION;
			m->server_id = get32(v);
			break;
		case OPT_OVERLOAD:
			/* Only in the options field itself (RFC 2131 4.1). */
			if (n != 1 || !main)
				return DHCP_BAD_OVERLOAD;
			if (v[0] < 1 || v[0] > 3)
				return DHCP_BAD_OVERLOAD;
			m->overload = v[0];
			break;
		case OPT_MAXSIZE:
			if (n != 2)
				return DHCP_BAD_OPTION;
			/* RFC 2132 9.10: at least 576; less is ignored. */
			m->max_size = (uint16_t)(v[0] << 8 | v[1]);
			if (m->max_size < 576)
				m->max_size = 0;
			break;
		case OPT_PRL:
			m->has_prl = true;
			for (unsigned j = 0; j < n; j++)
				m->prl[v[j] / 8] |= (uint8_t)(1u << (v[j] % 8));
			break;
		case OPT_AGENT:
			m->agent = true;
			break;
		case OPT_HOSTNAME: {
			unsigned k = 0;
			if (n == 0)
				return DHCP_BAD_OPTION; /* RFC 2132 3.14: at least 1 */
			/*
			 * Kept only if it is a host name (the config's characters): what
			 * the API and the leases file show is never quotes, slashes or
			 * control bytes. Longer than 63: cut.
			 */
			bool ok = true;
			for (unsigned j = 0; j < n; j++) /* a final NUL is tolerated */
				ok &= v[j] == 0 ? j + 1 == n : host_char(v[j]);
			for (unsigned j = 0; ok && j < n && v[j] && k < sizeof(m->hostname) - 1;
			     j++)
				m->hostname[k++] = (char)v[j];
			m->hostname[k] = '\0';
			break;
		}
		default:
			break;
		}
		i += 2u + n;
	}
	return need_end ? DHCP_BAD_OPTION : DHCP_OK;
}

enum dhcp_bad dhcp_parse(const uint8_t *p, size_t len, struct dhcp_msg *m)
{
	enum dhcp_bad why;

	memset(m, 0, sizeof(*m));
	if (len < DHCP_MIN_LEN)
		return DHCP_BAD_SHORT;
	if (p[0] != 1 /* BOOTREQUEST */ || p[1] != 1 /* Ethernet */ || p[2] != 6)
		return DHCP_BAD_HEADER;
	if (get32(p + DHCP_FIXED_LEN) != DHCP_MAGIC)
		return DHCP_BAD_COOKIE;
	m->htype = p[1];
	m->hlen = p[2];
	m->hops = p[3];
	memcpy(&m->xid, p + 4, 4);
	m->flags = (uint16_t)(p[10] << 8 | p[11]);
	m->ciaddr = get32(p + 12);
	m->yiaddr = get32(p + 16);
	m->giaddr = get32(p + 24);
	memcpy(m->chaddr, p + 28, sizeof(m->chaddr));
	why = parse_options(p + DHCP_MIN_LEN, len - DHCP_MIN_LEN, true, true, m);
	if (why != DHCP_OK)
		return why;
	/* Option overload: the file field, then sname, hold more options (RFC 2131 4.1). */
	if (m->overload & 1) {
		why = parse_options(p + OFF_FILE, 128, false, false, m);
		if (why != DHCP_OK)
			return why == DHCP_BAD_OPTION ? DHCP_BAD_OVERLOAD : why;
	}
	if (m->overload & 2) {
		why = parse_options(p + OFF_SNAME, 64, false, false, m);
		if (why != DHCP_OK)
			return why == DHCP_BAD_OPTION ? DHCP_BAD_OVERLOAD : why;
	}
	if (m->type < DHCP_DISCOVER || m->type > DHCP_INFORM || m->type == DHCP_OFFER ||
	    m->type == DHCP_ACK || m->type == DHCP_NAK)
		return DHCP_BAD_TYPE;
	return DHCP_OK;
}

/* ---- building ---- */

struct wbuf {
	uint8_t *p;
	size_t cap, n;
	bool full;
};

static void put(struct wbuf *w, const void *v, size_t n)
{
	if (w->full || w->n + n > w->cap) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->n, v, n);
	w->n += n;
}

static void put8(struct wbuf *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put(w, b, 4);
}

static void opt32(struct wbuf *w, uint8_t code, uint32_t v)
{
	put8(w, code);
	put8(w, 4);
	put32(w, v);
}

static void opt_text(struct wbuf *w, uint8_t code, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0)
		return;
	if (n > 255)
		n = 255;
	put8(w, code);
	put8(w, (uint8_t)n);
	put(w, s, n);
}

size_t dhcp_build(uint8_t *buf, size_t cap, const struct dhcp_reply *r)
{
	struct wbuf w = { .p = buf, .cap = cap };
	uint8_t fixed[DHCP_FIXED_LEN] = { 0 };

	fixed[0] = 2; /* BOOTREPLY */
	fixed[1] = 1;
	fixed[2] = 6;
	memcpy(fixed + 4, &r->xid, 4);
	fixed[10] = (uint8_t)(r->flags >> 8);
	fixed[11] = (uint8_t)r->flags;
	for (int b = 0; b < 4; b++) {
		fixed[12 + b] = (uint8_t)(r->ciaddr >> (24 - 8 * b));
		fixed[16 + b] = (uint8_t)(r->yiaddr >> (24 - 8 * b));
		fixed[24 + b] = (uint8_t)(r->giaddr >> (24 - 8 * b));
	}
	memcpy(fixed + 28, r->chaddr, 16);
	put(&w, fixed, sizeof(fixed));
	put32(&w, DHCP_MAGIC);
	put8(&w, OPT_TYPE);
	put8(&w, 1);
	put8(&w, r->type);
	opt32(&w, OPT_SERVER, r->server_id);
	if (r->type == DHCP_NAK) {
		opt_text(&w, OPT_MESSAGE, r->message);
		goto end;
	}
	if (r->lease_sec) {
		opt32(&w, OPT_LEASE, r->lease_sec);
		opt32(&w, OPT_T1, r->lease_sec / 2);
		opt32(&w, OPT_T2, (uint32_t)((uint64_t)r->lease_sec * 7 / 8));
	}
	if (r->mask && wanted(r, OPT_MASK))
		opt32(&w, OPT_MASK, r->mask);
	if (r->broadcast && wanted(r, OPT_BCAST))
		opt32(&w, OPT_BCAST, r->broadcast);
	if (r->router && wanted(r, OPT_ROUTER))
		opt32(&w, OPT_ROUTER, r->router);
	if (r->n_dns && wanted(r, OPT_DNS)) {
		put8(&w, OPT_DNS);
		put8(&w, (uint8_t)(4 * r->n_dns));
		for (unsigned i = 0; i < r->n_dns; i++)
			put32(&w, r->dns[i]);
	}
	if (wanted(r, OPT_DOMAIN))
		opt_text(&w, OPT_DOMAIN, r->domain);
	if (wanted(r, OPT_HOSTNAME))
		opt_text(&w, OPT_HOSTNAME, r->hostname);
	if (r->mtu && wanted(r, OPT_MTU)) {
		put8(&w, OPT_MTU);
		put8(&w, 2);
		put8(&w, (uint8_t)(r->mtu >> 8));
		put8(&w, (uint8_t)r->mtu);
	}
	if (r->n_routes && wanted(r, OPT_CLASSLESS)) {
		/* RFC 3442: width, the prefix's significant octets, the router. */
		size_t len = 0;
		for (unsigned i = 0; i < r->n_routes; i++)
			len += 1 + (r->routes[i].len + 7u) / 8 + 4;
		if (len > 255) {
			w.full = true;
		} else {
			put8(&w, OPT_CLASSLESS);
			put8(&w, (uint8_t)len);
			for (unsigned i = 0; i < r->n_routes; i++) {
				const struct dhcp_route *rt = &r->routes[i];
				put8(&w, rt->len);
				for (unsigned b = 0; b < (rt->len + 7u) / 8; b++)
					put8(&w, (uint8_t)(rt->ip >> (24 - 8 * b)));
				put32(&w, rt->via);
			}
		}
	}
end:
	put8(&w, OPT_END);
	/* BOOTP relays and old clients expect at least 300 bytes. */
	while (!w.full && w.n < 300)
		put8(&w, OPT_PAD);
	return w.full ? 0 : w.n;
}

size_t dhcp_build_fit(uint8_t *buf, size_t cap, const struct dhcp_reply *r, const uint8_t *prl)
{
	struct dhcp_reply t = *r;
	size_t len = dhcp_build(buf, cap, &t);

	if (len == 0 && prl) {
		t.only = prl;
		len = dhcp_build(buf, cap, &t);
	}
	if (len == 0 && t.hostname) {
		t.hostname = NULL;
		len = dhcp_build(buf, cap, &t);
	}
	if (len == 0 && t.n_routes) {
		t.n_routes = 0;
		len = dhcp_build(buf, cap, &t);
	}
	return len;
}
