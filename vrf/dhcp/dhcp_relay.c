/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DHCP relay mode (RFC 2131 4.1, RFC 1542 4, RFC 3046): on an interface
 * of the config's dhcp.relays, what clients send to port 67 goes to the
 * tenant's own servers, routed in the interface's VRF (so a server may be
 * behind any interface of it), with giaddr the interface's address and
 * option 82 (circuit and remote id) added; what the servers send back to
 * that address is checked (from a server, not the client side; giaddr,
 * option 82 ours), stripped of option 82 and delivered to the client. Stateless, on the control
 * thread, from what the router punts (l3_svc.h): the VRF's service budget bounds a flood.
 */
#include "dhcp_relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dhcp_agent.h"
#include "dhcp_proto.h"
#include "l3.h"
#include "l3_svc.h"
#include "log.h"
#include "tessd.h"

#define RELAY_COUNTERS(_)     \
	_(forwarded)          \
	_(replies)            \
	_(option82_mismatch)  \
	_(bad_giaddr)         \
	_(unknown_server)     \
	_(hops_exceeded)      \
	_(untrusted_option82) \
	_(from_relay)         \
	_(option82_too_big)   \
	_(not_local)          \
	_(no_route)           \
	_(malformed)          \
	_(no_mbuf)

#define CNT_FIELD(n) uint64_t n;
struct relay_counters {
	RELAY_COUNTERS(CNT_FIELD)
};
#undef CNT_FIELD

struct dhcp_relay {
	char iface[TESS_NAME_LEN];
	char vrf_name[TESS_NAME_LEN];
	uint16_t ifid, vrf;
	uint32_t giaddr; /* the interface's first address */
	uint32_t servers[TESS_DHCP_RELAY_SERVERS];
	uint8_t n_servers;
	uint8_t max_hops;
	char circuit[TESS_DHCP_AGENT_ID_LEN];
	char remote[TESS_DHCP_AGENT_ID_LEN]; /* "": the interface's MAC */
	struct relay_counters c, base;
	uint64_t limited_base;
};

static struct dhcp_relay *relays; /* [n_relays], in the config's order */
static uint32_t n_relays;
static struct dhcp_relay *by_if[L3_MAX_IFACES];

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

long dhcp_udp_read(struct rte_mbuf *m, uint8_t *buf, size_t cap, const uint8_t **p)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u, ulen;
	const struct rte_udp_hdr *uh =
		rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, RTE_ETHER_HDR_LEN + hlen);

	ulen = rte_be_to_cpu_16(uh->dgram_len);
	/* The UDP length within the IP packet (the router checked the IP header). */
	if (ulen < sizeof(*uh) || ulen > rte_be_to_cpu_16(ip->total_length) - hlen ||
	    ulen - sizeof(*uh) > cap)
		return -EBADMSG;
	/* A UDP checksum, if sent, must hold (the kernel would drop it before a server). */
	if (uh->dgram_cksum != 0 &&
	    rte_ipv4_udptcp_cksum_mbuf_verify(m, ip, (uint16_t)(RTE_ETHER_HDR_LEN + hlen)) != 0)
		return -EBADMSG;
	*p = rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN + hlen + sizeof(*uh), ulen - sizeof(*uh), buf);
	return *p ? (long)(ulen - sizeof(*uh)) : -EBADMSG;
}

bool dhcp_relay_on(uint16_t iface)
{
	return by_if[iface] != NULL;
}

/* r's option 82 into ag: its length (0: none fits, which validation rules out). */
static size_t agent_opt(const struct dhcp_relay *r, uint8_t *ag)
{
	struct rte_ether_addr mac;

	if (r->remote[0])
		return dhcp_agent_build(ag, r->circuit, strlen(r->circuit), r->remote,
					strlen(r->remote));
	/* The interface's MAC, as six bytes (as ISC's and most switches' remote ids). */
	if (!l3_svc_iface_mac(r->ifid, &mac))
		return dhcp_agent_build(ag, r->circuit, strlen(r->circuit), NULL, 0);
	return dhcp_agent_build(ag, r->circuit, strlen(r->circuit), mac.addr_bytes,
				RTE_ETHER_ADDR_LEN);
}

/*
 * A frame of DHCP message p (len bytes) from src to dst:dport; the
 * Ethernet addresses are the caller's. NULL: out of mbufs (counted).
 */
static struct rte_mbuf *frame(struct dhcp_relay *r, const uint8_t *p, size_t len, uint32_t src,
			      uint32_t dst, uint16_t dport)
{
	struct rte_mbuf *m = l3_svc_alloc();
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *uh;

	if (m == NULL ||
	    (eh = (struct rte_ether_hdr *)rte_pktmbuf_append(
		     m, (uint16_t)(RTE_ETHER_HDR_LEN + sizeof(*ip) + sizeof(*uh) + len))) == NULL) {
		rte_pktmbuf_free(m);
		r->c.no_mbuf++;
		return NULL;
	}
	memset(eh, 0, sizeof(*eh));
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	uh = (struct rte_udp_hdr *)(ip + 1);
	memcpy(uh + 1, p, len);
	l3_svc_udp4_hdr(ip, src, dst, DHCP_SERVER_PORT, dport, len);
	return m;
}

/* As the first relay (giaddr 0): giaddr ours, option 82 appended; -1: malformed (counted). */
static int relay_first(struct dhcp_relay *r, uint8_t *p, size_t *len)
{
	uint8_t ag[DHCP_AGENT_OPT_MAX];
	size_t agn;
	long n;

	p[24] = (uint8_t)(r->giaddr >> 24);
	p[25] = (uint8_t)(r->giaddr >> 16);
	p[26] = (uint8_t)(r->giaddr >> 8);
	p[27] = (uint8_t)r->giaddr;
	agn = agent_opt(r, ag);
	n = agn ? dhcp_agent_add(p, *len, DHCP_REPLY_MAX, ag, agn) : 0;
	if (n < 0) {
		r->c.malformed++;
		return -1;
	}
	if (n == 0)
		r->c.option82_too_big++; /* RFC 3046 2.1: forwarded without it */
	else
		*len = (size_t)n;
	return 0;
}

/* A client's message (RFC 1542 4.1.1, RFC 3046 2.1): to each server, from giaddr. */
static void from_client(struct dhcp_relay *r, uint8_t *p, size_t len, bool local)
{
	enum dhcp_agent_req v;
	struct dhcp_msg q;

	if (!local) {
		r->c.not_local++; /* a request routed to us: only the interface's clients are
				     relayed */
		return;
	}
	if (dhcp_parse(p, len, &q) != DHCP_OK) {
		r->c.malformed++;
		return;
	}
	v = dhcp_agent_request(q.hops, q.giaddr, q.agent, r->max_hops);
	if (v == DHCP_AGENT_HOPS) {
		r->c.hops_exceeded++;
		return;
	}
	if (v == DHCP_AGENT_UNTRUSTED) {
		r->c.untrusted_option82++; /* the client side is untrusted (RFC 3046 2.1) */
		return;
	}
	p[3] = (uint8_t)(q.hops + 1);
	if (v == DHCP_AGENT_PASS)
		r->c.from_relay++; /* its giaddr (and option 82) get the reply: as it is */
	else if (relay_first(r, p, &len) < 0)
		return;
	for (uint8_t i = 0; i < r->n_servers; i++) {
		struct rte_mbuf *m = frame(r, p, len, r->giaddr, r->servers[i], DHCP_SERVER_PORT);
		if (m == NULL)
			return;
		if (l3_svc_route(m, r->vrf) < 0)
			r->c.no_route++;
		else
			r->c.forwarded++;
	}
}

/*
 * Whether a reply from src that came in on the relay's interface (local)
 * is its servers': giaddr is anyone's to set and option 82 a server may
 * not echo, so only the source tells a server from a host of the VRF.
 */
static bool from_a_server(const struct dhcp_relay *r, uint32_t src, bool local)
{
	if (local)
		return false; /* the clients' side: their forgeries, whatever the source */
	for (uint8_t i = 0; i < r->n_servers; i++)
		if (r->servers[i] == src)
			return true;
	return false;
}

/* A server's reply to giaddr (RFC 2131 4.1, RFC 3046 2.2): to the client, option 82 gone. */
static void from_server(struct dhcp_relay *r, uint8_t *p, size_t len, uint32_t src, bool local)
{
	uint8_t ag[DHCP_AGENT_OPT_MAX];
	size_t end, at, agn;
	struct rte_ether_hdr *eh;
	struct rte_mbuf *m;
	uint32_t ciaddr, yiaddr, dst;
	bool bcast;
	long n;

	if (!from_a_server(r, src, local)) {
		r->c.unknown_server++; /* a rogue server's offer (router, DNS) to a client */
		return;
	}
	if (dhcp_agent_scan(p, len, 2, &end, &at) != DHCP_OK) {
		r->c.malformed++;
		return;
	}
	if (get32(p + 24) != r->giaddr) {
		r->c.bad_giaddr++; /* not a reply to what this interface relayed */
		return;
	}
	agn = agent_opt(r, ag);
	n = dhcp_agent_strip(p, len, ag, agn);
	if (n == -EPERM) {
		r->c.option82_mismatch++;
		return;
	}
	if (n < 0) {
		r->c.malformed++;
		return;
	}
	len = (size_t)n;
	/* RFC 2131 4.1: broadcast if the client asked, else to its address at its MAC. */
	ciaddr = get32(p + 12);
	yiaddr = get32(p + 16);
	bcast = (p[10] & 0x80) || (ciaddr == 0 && yiaddr == 0);
	dst = bcast ? UINT32_MAX : ciaddr ? ciaddr : yiaddr;
	m = frame(r, p, len, r->giaddr, dst, DHCP_CLIENT_PORT);
	if (m == NULL)
		return;
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (bcast)
		memset(&eh->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	else
		memcpy(&eh->dst_addr, p + 28, RTE_ETHER_ADDR_LEN);
	if (!l3_svc_iface_mac(r->ifid, &eh->src_addr)) {
		rte_pktmbuf_free(m);
		return;
	}
	r->c.replies++;
	l3_svc_send(m, r->ifid);
}

void dhcp_relay_input(struct rte_mbuf *m, uint16_t iface)
{
	struct dhcp_relay *r = by_if[iface];
	uint8_t buf[DHCP_REPLY_MAX];
	const uint8_t *p;
	bool local = l3_meta(m)->iface == iface;
	uint32_t src;
	long len;

	if (r == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	src = rte_be_to_cpu_32(
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN)
			->src_addr);
	len = dhcp_udp_read(m, buf, sizeof(buf), &p);
	if (len > 0 && p != buf)
		memcpy(buf, p, (size_t)len); /* in one segment: a copy to change */
	rte_pktmbuf_free(m);
	if (len < 1)
		r->c.malformed++;
	else if (buf[0] == 2) /* BOOTREPLY */
		from_server(r, buf, (size_t)len, src, local);
	else
		from_client(r, buf, (size_t)len, local);
}

/* ---- config ---- */

void dhcp_relay_sync(const struct tessd_cfg *cur, unsigned svc)
{
	uint32_t n = cur->dhcp.n_relays;
	struct dhcp_relay *nr = calloc(n ? n : 1, sizeof(*nr));
	int rc_order;
	uint32_t *order = tessd_cfg_iface_order(cur, &rc_order);

	if (nr == NULL || rc_order < 0) {
		free(nr);
		free(order);
		/* Off rather than stale: an old relay's interface id may be another's now. */
		DP_LOG(ERR,
		       "dhcp: no memory to apply the config: relays off until the next change");
		dhcp_relay_fini();
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct tessd_dhcp_relay_cfg *rc = &cur->dhcp.relays[i];
		int64_t at = tessd_cfg_iface_find(cur, order, rc->interface);
		const struct tessd_iface_cfg *ic = at >= 0 ? &cur->router.interfaces[at] : NULL;
		struct dhcp_relay *r = &nr[i], *o;

		snprintf(r->iface, sizeof(r->iface), "%s", rc->interface);
		snprintf(r->vrf_name, sizeof(r->vrf_name), "%s", ic ? ic->vrf : "");
		r->ifid = l3_svc_iface(rc->interface);
		r->vrf = r->ifid ? l3_svc_iface_vrf(r->ifid) : 0;
		r->giaddr = ic && ic->n_addresses ? ic->addresses[0].ip : 0;
		for (uint32_t k = 0; k < rc->n_servers && k < TESS_DHCP_RELAY_SERVERS; k++)
			r->servers[r->n_servers++] = rc->servers[k];
		r->max_hops = (uint8_t)rc->max_hops;
		tessd_dhcp_circuit(rc, ic, r->circuit, sizeof(r->circuit));
		snprintf(r->remote, sizeof(r->remote), "%s", rc->remote_id);
		/* The same interface's relay before: its counters stay. */
		o = r->ifid ? by_if[r->ifid] : NULL;
		if (o && strcmp(o->iface, r->iface) == 0) {
			r->c = o->c;
			r->base = o->base;
			r->limited_base = o->limited_base;
		} else {
			r->limited_base = r->ifid ? l3_svc_limited(r->ifid, svc) : 0;
		}
	}
	free(order);
	free(relays);
	relays = nr;
	n_relays = n;
	memset(by_if, 0, sizeof(by_if));
	for (uint32_t i = 0; i < n; i++)
		if (nr[i].ifid && nr[i].giaddr)
			by_if[nr[i].ifid] = &nr[i];
}

void dhcp_relay_fini(void)
{
	free(relays);
	relays = NULL;
	n_relays = 0;
	memset(by_if, 0, sizeof(by_if));
}

/* ---- counters and API ---- */

void dhcp_relay_stats_reset(unsigned svc)
{
	for (uint32_t i = 0; i < n_relays; i++) {
		relays[i].base = relays[i].c;
		relays[i].limited_base = relays[i].ifid ? l3_svc_limited(relays[i].ifid, svc) : 0;
	}
}

static json_t *relay_json(const struct dhcp_relay *r, const char *vrf, unsigned svc, bool full)
{
	json_t *o = json_object();
	char a[TESS_IP4_LEN];

	json_object_set_new(o, "interface", json_string(r->iface));
	json_object_set_new(o, "vrf", json_string(vrf));
#define CNT_JSON(n) json_object_set_new(o, #n, json_integer((json_int_t)(r->c.n - r->base.n)));
	RELAY_COUNTERS(CNT_JSON)
#undef CNT_JSON
	json_object_set_new(o, "rate_limited",
			    json_integer((json_int_t)((r->ifid ? l3_svc_limited(r->ifid, svc) : 0) -
						      r->limited_base)));
	if (full) {
		json_t *s = json_array();
		struct rte_ether_addr mac;
		char m[RTE_ETHER_ADDR_FMT_SIZE] = "";

		for (uint8_t i = 0; i < r->n_servers; i++)
			json_array_append_new(
				s, json_string(cfg_fmt_ip4(r->servers[i], a, sizeof(a))));
		json_object_set_new(o, "servers", s);
		json_object_set_new(o, "giaddr", json_string(cfg_fmt_ip4(r->giaddr, a, sizeof(a))));
		json_object_set_new(o, "circuit_id", json_string(r->circuit));
		if (!r->remote[0] && l3_svc_iface_mac(r->ifid, &mac))
			rte_ether_format_addr(m, sizeof(m), &mac);
		json_object_set_new(o, "remote_id", json_string(r->remote[0] ? r->remote : m));
		json_object_set_new(o, "max_hops", json_integer(r->max_hops));
	}
	return o;
}

static const char *relay_vrf(const struct dhcp_relay *r)
{
	return r->vrf_name[0] ? r->vrf_name : NULL;
}

json_t *dhcp_relay_stats(const char *vrf, unsigned svc)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < n_relays; i++) {
		const char *v = relay_vrf(&relays[i]);
		if (v && (vrf == NULL || strcmp(vrf, v) == 0))
			json_array_append_new(a, relay_json(&relays[i], v, svc, false));
	}
	return a;
}

int dhcp_relay_api(const struct dhcp_filter *f, unsigned svc, json_t **result,
		   struct ctl_error *err)
{
	json_t *a;

	if (f->vrf[0] && tessd_cfg_vrf(&tessd.cfg, f->vrf) == NULL) {
		ctl_error_set(err, ENOENT, "/params/vrf", "no VRF %s", f->vrf);
		return -ENOENT;
	}
	if (f->interface[0] && tessd_cfg_dhcp_relay(&tessd.cfg, f->interface) == NULL) {
		ctl_error_set(err, ENOENT, "/params/interface", "no DHCP relay on interface %s",
			      f->interface);
		return -ENOENT;
	}
	a = json_array();
	for (uint32_t i = 0; i < n_relays; i++) {
		const struct dhcp_relay *r = &relays[i];
		const char *v = relay_vrf(r);
		if (v == NULL || (f->vrf[0] && strcmp(f->vrf, v) != 0) ||
		    (f->interface[0] && strcmp(f->interface, r->iface) != 0))
			continue;
		json_array_append_new(a, relay_json(r, v, svc, true));
	}
	*result = a;
	return 0;
}
