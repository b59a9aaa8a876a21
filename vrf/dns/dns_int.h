/* SPDX-License-Identifier: BSD-3-Clause */
/* The DNS module's control-thread state, shared by its files. */
#ifndef TESS_DNS_INT_H
#define TESS_DNS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "dns_proto.h"
#include "dns_zone.h"
#include "tessd_config.h"

#define DNS_COUNTERS(_)      \
	_(queries)           \
	_(answered)          \
	_(nxdomain)          \
	_(refused)           \
	_(forwarded)         \
	_(forward_replies)   \
	_(forward_timeouts)  \
	_(forward_full)      \
	_(forward_unmatched) \
	_(forward_no_route)  \
	_(malformed)         \
	_(notimp)            \
	_(rate_limited)      \
	_(truncated)         \
	_(name_conflicts)    \
	_(denied_names)      \
	_(records_full)      \
	_(tcp_conns)         \
	_(tcp_refused)       \
	_(tcp_evicted)       \
	_(tcp_timeouts)      \
	_(tcp_resets)        \
	_(no_mbuf)

#define DNS_CNT_FIELD(n) uint64_t n;
struct dns_counters {
	DNS_COUNTERS(DNS_CNT_FIELD)
};

/* Where a query came from, to answer it. */
struct dns_client {
	struct rte_ether_addr mac; /* its frame's source: the last hop to answer through */
	uint32_t ip, own;          /* its address, ours it asked (host order) */
	uint16_t port;
	int16_t tcp;      /* over TCP: its connection's slot, else -1 */
	uint32_t tcp_gen; /* that connection's generation (its slot reused since: dropped) */
	uint16_t limit;   /* its reply's size: 512, its EDNS size (at most ours); TCP 65535 */
};

/* A query forwarded to a resolver, waiting for the answer. */
struct dns_pending {
	bool used;
	uint16_t id, port; /* ours: the id and source port it left with */
	uint32_t fwd;      /* the resolver */
	uint16_t vrf;      /* the VRF it left through, where its reply comes in */
	uint64_t deadline; /* TSC: SERVFAIL then */
	struct dns_client c;
	struct dns_query q;
};

/* A minimal DNS-over-TCP connection (RFC 7766): one query, its answer, close. */
enum dns_tcp_state { DT_FREE, DT_SYN_RCVD, DT_OPEN, DT_WAITING, DT_CLOSING };
#define DNS_TCP_QUERY_MAX 1024 /* a longer query is refused (reset) */
struct dns_tcp {
	uint8_t state;
	bool fin_rcvd; /* the client half-closed while its answer was pending */
	uint32_t gen;
	struct rte_ether_addr mac;
	uint32_t ip, own;
	uint16_t port, mss;
	uint32_t snd_nxt, rcv_nxt; /* sequence numbers */
	uint64_t deadline;         /* TSC: reset then, whatever the state */
	uint16_t have;             /* bytes of the framed query so far */
	uint8_t buf[2 + DNS_TCP_QUERY_MAX];
};

struct dns_srv {
	bool on, kept;
	char iface[TESS_NAME_LEN];
	uint16_t ifid, vrf;
	uint32_t sc_idx, ic_idx; /* its server's and interface's index in the running config */
	char zone[DNS_NAME_MAX]; /* lower case */
	struct dns_zone z;
	uint64_t dhcp_version; /* of the leases the zone holds */
	uint32_t serial;       /* the SOA's: moves with each new zone */
	/* Name conflicts of the last build (ip, name hash): counted once each. */
	uint64_t *refused;
	uint32_t n_refused;
	struct dns_counters c, base;
	uint64_t limited_base;
	struct dp_storm qb; /* queries per second */
	struct dns_pending *pend;
	uint32_t n_pend, max_pend;
	uint32_t fwd_next;
	struct dns_tcp *tcp;
	uint32_t n_tcp, n_tcp_slots, tcp_gen; /* open, slots (tcp_conns), last generation */
};

extern struct dns_srv *dns_srvs;
extern uint32_t dns_n_srvs;
extern struct dns_srv *dns_by_if[];

/* The running config's server of s (NULL: gone). */
const struct tessd_dns_server_cfg *dns_srv_cfg(const struct dns_srv *s);
const struct tessd_iface_cfg *dns_srv_iface(const struct dns_srv *s);

/* dns_answer.c: answers the query of client c (the payload at p, len bytes, as received). */
void dns_answer(struct dns_srv *s, const struct dns_client *c, const uint8_t *p, size_t len);
/* Whether a query (a TCP connection) of s is within its qps and its VRF's vrf_qps (counted). */
bool dns_admit(struct dns_srv *s, const struct tessd_dns_server_cfg *sc);
/* A reply to q with rcode only (SERVFAIL, REFUSED). */
void dns_reply_rcode(struct dns_srv *s, const struct dns_client *c, const struct dns_query *q,
		     uint8_t rcode);
/* A datagram to port 53 of an interface with a server (l3_svc input). */
void dns_udp_input(struct dns_srv *s, struct rte_mbuf *m);
/* Sends payload (len bytes) to the client: over UDP, or on its TCP connection. */
void dns_send(struct dns_srv *s, const struct dns_client *c, const uint8_t *payload, size_t len);
/* dns_forward.c */
void dns_forward(struct dns_srv *s, const struct dns_client *c, const struct dns_query *q,
		 const uint8_t *p, size_t len);
bool dns_forward_reply(struct rte_mbuf *m, uint16_t iif, uint16_t vrf);
void dns_forward_expire(struct dns_srv *s, uint64_t now);
void dns_forward_fini(struct dns_srv *s);

/* dns_tcp.c: a segment to port 53 (consumed); an answer on connection c->tcp; timeouts. */
void dns_tcp_input(struct dns_srv *s, struct rte_mbuf *m);
void dns_tcp_send(struct dns_srv *s, const struct dns_client *c, const uint8_t *p, size_t len);
void dns_tcp_expire(struct dns_srv *s, uint64_t now);

#endif
