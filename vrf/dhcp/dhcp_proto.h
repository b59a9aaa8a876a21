/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DHCPv4 messages (RFC 2131, options RFC 2132, 3442): a strict parser of
 * what clients send and a builder of the server's replies. Plain C over
 * byte buffers (no DPDK), so that unit tests and the fuzzer reach it.
 */
#ifndef TESS_DHCP_PROTO_H
#define TESS_DHCP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_FIXED_LEN   236 /* op .. file, before the magic cookie */
#define DHCP_MIN_LEN     (DHCP_FIXED_LEN + 4)
/*
 * Every client accepts a 576-byte IP datagram (RFC 2131 2): a DHCP message
 * of 548 bytes after the IP and UDP headers. More only if its option 57
 * says so, up to what fits an Ethernet frame.
 */
#define DHCP_MSG_DEFAULT 548
#define DHCP_REPLY_MAX   1472 /* 1500 less the IP and UDP headers */
#define DHCP_MAGIC       0x63825363u
#define DHCP_BROADCAST   0x8000 /* flags: the client wants broadcast replies */
#define DHCP_TEXT_LEN    64

enum dhcp_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER,
	DHCP_REQUEST,
	DHCP_DECLINE,
	DHCP_ACK,
	DHCP_NAK,
	DHCP_RELEASE,
	DHCP_INFORM,
};

/* Why a message is refused (dhcp_parse's -EBADMSG cases, each a reason). */
enum dhcp_bad {
	DHCP_OK,
	DHCP_BAD_SHORT,    /* shorter than the fixed part and cookie */
	DHCP_BAD_HEADER,   /* op not BOOTREQUEST, htype not Ethernet, hlen not 6 */
	DHCP_BAD_COOKIE,   /* no magic cookie */
	DHCP_BAD_OPTION,   /* an option past the end, a wrong length, no end option */
	DHCP_BAD_OVERLOAD, /* option 52: bad value, or bad options in file/sname */
	DHCP_BAD_TYPE,     /* no message type (53), or an unknown one */
};

struct dhcp_msg {
	uint8_t htype, hlen, hops;
	uint32_t xid; /* as on the wire */
	uint16_t flags;
	uint32_t ciaddr, yiaddr, giaddr; /* host order */
	uint8_t chaddr[16];
	uint8_t type;                 /* option 53 */
	uint32_t requested;           /* option 50, 0: none */
	uint32_t server_id;           /* option 54, 0: none */
	char hostname[DHCP_TEXT_LEN]; /* option 12 if a host name (RFC 1123 characters), else "" */
	uint8_t overload;             /* option 52 */
	uint16_t max_size;            /* option 57 (an IP datagram's size), 0: none or < 576 */
	bool has_prl;                 /* option 55 came */
	bool agent;                   /* option 82 came (a relay's, RFC 3046), anywhere */
	uint8_t prl[32];              /* option 55: a bit per option code asked for */
};

/* Parses a client's message (the UDP payload): DHCP_OK, or why it is malformed. */
enum dhcp_bad dhcp_parse(const uint8_t *p, size_t len, struct dhcp_msg *m);
const char *dhcp_bad_name(enum dhcp_bad why);
/* Whether s holds only a host name's characters (RFC 1123: -.0-9A-Za-z), as the config's. */
bool dhcp_hostname_ok(const char *s);
/* The largest DHCP message the client of m accepts (option 57, at least DHCP_MSG_DEFAULT). */
size_t dhcp_max_len(const struct dhcp_msg *m);

struct dhcp_route {
	uint32_t ip; /* host order */
	uint8_t len;
	uint32_t via;
};

#define DHCP_MAX_DNS    4
#define DHCP_MAX_ROUTES 17 /* the config's, and a default route added */

/* A reply of the server, options included (0 or "" where not sent). */
struct dhcp_reply {
	uint8_t type; /* OFFER, ACK, NAK */
	uint32_t xid;
	uint16_t flags;
	uint32_t ciaddr, yiaddr, giaddr;
	uint8_t chaddr[16];
	uint32_t server_id;
	uint32_t lease_sec; /* 0: none (ACK to INFORM, NAK) */
	uint32_t mask, router, broadcast;
	uint32_t dns[DHCP_MAX_DNS];
	unsigned n_dns;
	const char *domain;
	const char *hostname;
	uint16_t mtu;
	struct dhcp_route routes[DHCP_MAX_ROUTES];
	unsigned n_routes;
	const char *message; /* option 56 (a NAK's reason) */
	/* Set: of the optional options (1, 3, 6, 12, 15, 26, 28, 121), only those asked for. */
	const uint8_t *only; /* a bit per option code, as dhcp_msg.prl */
};

/* Writes r into buf (at most cap bytes): its length (at least BOOTP's 300), 0 if too long. */
size_t dhcp_build(uint8_t *buf, size_t cap, const struct dhcp_reply *r);
/*
 * dhcp_build, and if r does not fit cap, with fewer options: those the
 * client did not ask for (prl: its option 55, or NULL) left out, then the
 * host name, then the routes (option 121; option 3 stays). 0 if it still
 * does not fit.
 */
size_t dhcp_build_fit(uint8_t *buf, size_t cap, const struct dhcp_reply *r, const uint8_t *prl);

#endif
