/* SPDX-License-Identifier: BSD-3-Clause */
/* tessd's configuration: the startup file and the running state it saves. */
#ifndef TESS_TESSD_CONFIG_H
#define TESS_TESSD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg_schema.h"

#define TESS_NAME_LEN         32  /* names of ports, groups, VRFs (31 chars + NUL) */
#define TESS_DEVARGS_LEN      256 /* DPDK devargs */
#define TESS_EAL_ARG_LEN      256
#define TESS_SOCKPATH_LEN     108 /* sizeof(sun_path) */
#define TESS_MAX_WORKERS      64
#define TESS_MAX_PORTS        1056 /* 32 ethdev ports (Debian DPDK's RTE_MAX_ETHPORTS) + 1024 vhost */
#define TESS_MAC_LEN          18   /* "02:00:00:00:00:01" */
#define TESS_IP4_LEN          16   /* "192.168.100.200" */
#define TESS_TENANT_LEN       64
#define TESS_VLAN_MAX         4094
#define TESS_MAX_ALLOWED_MACS 8
#define TESS_MAX_ALLOWED_IPS  16
#define TESS_MAX_PORT_POLICY  16 /* allowed drivers, allowed directories */

enum tess_hugepages { TESS_HUGEPAGES_AUTO, TESS_HUGEPAGES_ON, TESS_HUGEPAGES_OFF };

struct tessd_eal_cfg {
	uint16_t main_cpu;
	uint16_t *workers; /* CPU of each worker lcore; a CPU may repeat */
	uint32_t n_workers;
	uint32_t memory_mb;
	uint8_t hugepages; /* enum tess_hugepages */
	char file_prefix[64];
	bool in_memory;
	char (*args)[TESS_EAL_ARG_LEN];
	uint32_t n_args;
	uint32_t mbufs;     /* per NUMA node pool; 0: sized from the startup ports plus spare */
	uint32_t mbuf_size; /* data room; 0: from the startup ports */
};

/*
 * What tessd's control server holds of a client's requests: a buffer of
 * min(max_request, this) from connecting, growing to max_request + 1 (the
 * line and its newline) for a long request (ctl_linebuf in ctl_msg.c).
 */
#define TESS_CTL_CLIENT_BUF 4096u
#define TESS_LISTEN_LEN     48 /* "[::1]:65535" and the longest 127.x.y.z:port */

struct tessd_ctl_cfg {
	char socket[TESS_SOCKPATH_LEN];
	char mode[8]; /* octal, e.g. "0660" */
	char group[TESS_NAME_LEN];
	uint32_t max_request;
	uint32_t max_depth;
	uint32_t max_clients;
	uint32_t idle_sec;     /* a client that sends nothing this long is dropped */
	uint32_t max_buffered; /* request bytes held for all clients together */
	/* What port.add may open (review 2.1): driver prefixes, and directories for paths. */
	char (*port_drivers)[TESS_NAME_LEN];
	uint32_t n_port_drivers;
	char (*port_dirs)[TESS_DEVARGS_LEN];
	uint32_t n_port_dirs;
	char (*log_dirs)[TESS_DEVARGS_LEN]; /* directories nat.logging.path must be under */
	uint32_t n_log_dirs;
	char metrics_listen[TESS_LISTEN_LEN]; /* "127.0.0.1:9480", "[::1]:9480"; "": off */
};

enum tess_port_mode { TESS_PORT_NONE, TESS_PORT_ACCESS, TESS_PORT_TRUNK };
enum tess_anti_spoof { TESS_SPOOF_AUTO, TESS_SPOOF_ON, TESS_SPOOF_OFF };
extern const char *const tess_port_modes[]; /* their names, as in the config */

/* A port of tessd's vhost backend (dataplane/vhost.c): a vhost-user socket, no ethdev. */
struct tessd_vhost_cfg {
	char path[TESS_SOCKPATH_LEN]; /* "": the port is an ethdev (devargs) */
	bool client;                  /* connect to the VM's socket instead of serving one */
};

struct tessd_port_cfg {
	char name[TESS_NAME_LEN];
	char tenant[TESS_TENANT_LEN];   /* metering label (stats.tenants); "": none */
	char devargs[TESS_DEVARGS_LEN]; /* "": a vhost port */
	struct tessd_vhost_cfg vhost;
	uint32_t mtu;
	uint16_t rx_queues; /* 0: one per worker, capped by the driver */
	uint16_t rx_desc;
	uint16_t tx_desc;
	bool promiscuous;
	/* Host vswitch */
	uint8_t mode;                  /* enum tess_port_mode */
	char group[TESS_NAME_LEN];     /* access: its group */
	char (*groups)[TESS_NAME_LEN]; /* trunk: the groups it carries */
	uint32_t n_groups;
	bool all_groups;                  /* trunk: every group */
	char native_group[TESS_NAME_LEN]; /* trunk: untagged frames belong here ("": dropped) */
	uint8_t anti_spoof;               /* enum tess_anti_spoof (see tessd_port_anti_spoof) */
	struct cfg_mac *allowed_macs;     /* none: lock to the first source MAC */
	uint32_t n_allowed_macs;
	uint32_t *allowed_ips; /* IPv4 source guard (host order), none: off */
	uint32_t n_allowed_ips;
	uint32_t mac_limit; /* FDB entries learned on this port, 0: fdb_size / 16 */
	uint32_t storm_pps; /* broadcast + unknown unicast per second, 0: no limit */
};

struct tessd_static_mac {
	struct cfg_mac mac;
	char port[TESS_NAME_LEN];
};

struct tessd_group_cfg {
	char name[TESS_NAME_LEN];
	char tenant[TESS_TENANT_LEN];
	uint16_t vlan;
	uint32_t mac_limit;
	bool flood_unknown_unicast;
	bool flood_multicast;
	struct tessd_static_mac *static_macs;
	uint32_t n_static_macs;
};

struct tessd_switch_cfg {
	uint32_t aging_sec; /* 0: never */
	uint32_t fdb_size;
	struct tessd_group_cfg *groups;
	uint32_t n_groups;
};

struct tessd_xc_cfg {
	char a[TESS_NAME_LEN];
	char b[TESS_NAME_LEN];
};

/* ---- provider-edge router ---- */

#define TESS_MAX_VRF_ID      4095
#define TESS_MAX_IFACE_ADDRS 16
#define TESS_MAX_NEXTHOPS    8
#define TESS_PREFIX_LEN      19 /* "255.255.255.255/32" */

#define TESS_IFNAME_LEN     16 /* a Linux interface name (15 chars + NUL) */
#define TESS_IFNAME_CHARSET "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

/*
 * A VRF bound to the kernel: tessd mirrors the routes of a kernel routing
 * table into it and gives each of its interfaces a TAP there. The kernel's
 * side of the VRF is a network namespace (FRR's netns VRF backend).
 */
struct tessd_kernel_cfg {
	char netns[TESS_NAME_LEN]; /* "": not bound; made if missing */
	uint32_t table;            /* the kernel routing table followed */
	uint32_t buffer_kb;        /* the notification socket's receive buffer */
	uint32_t batch;            /* notification datagrams read per event-loop turn */
};

struct tessd_vrf_cfg {
	char name[TESS_NAME_LEN];
	char tenant[TESS_TENANT_LEN]; /* metering label (stats.tenants); "": none */
	uint16_t id;
	struct tessd_kernel_cfg kernel;
	uint32_t icmp_rate;   /* ICMP errors per second, 0: none */
	uint32_t punt_pps;    /* packets to the control thread per second and worker */
	uint32_t arp_pps;     /* of which ARP, a budget of its own */
	uint32_t service_pps; /* UDP services of its interfaces (DHCP), a budget of its own */
	uint32_t max_routes;  /* routes in its FIB, connected and kernel ones included */
	uint32_t max_nexthop_groups;  /* next-hop groups its routes may make (0: a share) */
	uint32_t max_fib_nodes;       /* FIB nodes its routes may hold (0: a share) */
	uint32_t neigh_limit;         /* neighbour entries; 0: a share (tessd_vrf_limits) */
	uint32_t neigh_reachable_sec; /* reachable -> stale */
	uint32_t neigh_stale_sec;     /* unused stale entries go */
	uint32_t neigh_queue;         /* packets held per unresolved neighbour */
};

struct tessd_iface_cfg {
	char name[TESS_NAME_LEN];
	char vrf[TESS_NAME_LEN];
	char port[TESS_NAME_LEN]; /* on a port (vlan 0) or its VLAN sub-interface */
	uint16_t vlan;
	char group[TESS_NAME_LEN]; /* or: the router interface of a vswitch group */
	struct cfg_mac mac;        /* zero: the port's MAC, or one derived from the name */
	uint32_t mtu;
	struct cfg_prefix4 *addresses;
	uint32_t n_addresses;
	char kernel_name[TESS_IFNAME_LEN]; /* its TAP in a bound VRF; "": the interface's name */
};

struct tessd_nexthop_cfg {
	uint32_t via;                  /* gateway (host order), 0: directly on the interface */
	char interface[TESS_NAME_LEN]; /* "": the one whose subnet holds via */
};

enum tess_route_type {
	TESS_ROUTE_UNICAST,
	TESS_ROUTE_BLACKHOLE,
	TESS_ROUTE_REJECT,
	TESS_ROUTE_VRF
};

struct tessd_route_cfg {
	char vrf[TESS_NAME_LEN];
	struct cfg_prefix4 prefix;
	uint8_t type; /* enum tess_route_type */
	struct tessd_nexthop_cfg *nexthops;
	uint32_t n_nexthops;
	char target_vrf[TESS_NAME_LEN]; /* type vrf: look up again there */
};

struct tessd_neigh_cfg {
	char vrf[TESS_NAME_LEN];
	uint32_t ip; /* host order */
	struct cfg_mac mac;
	char interface[TESS_NAME_LEN]; /* "": the one whose subnet holds ip */
};

struct tessd_router_cfg {
	struct tessd_vrf_cfg *vrfs;
	uint32_t n_vrfs;
	struct tessd_iface_cfg *interfaces;
	uint32_t n_interfaces;
	struct tessd_route_cfg *routes;
	uint32_t n_routes;
	struct tessd_neigh_cfg *neighbours;
	uint32_t n_neighbours;
	uint32_t neigh_capacity; /* neighbour entries of all VRFs together */
	uint32_t fib_nodes;      /* FIB nodes (1 KiB of hugepage memory each) of all VRFs */
};

/* ---- DHCP server (vrf/dhcp) ---- */

#define TESS_DHCP_MAX_POOLS  16
#define TESS_DHCP_MAX_DNS    4
#define TESS_DHCP_MAX_ROUTES 16
#define TESS_DHCP_TEXT_LEN   64    /* domain, host names (63 + NUL) */
#define TESS_DHCP_MAX_ADDRS  65536 /* pool addresses of one server */
#define TESS_DHCP_MAX_RESV   4096
#define TESS_PATH_LEN        256

struct tessd_dhcp_range {
	uint32_t start, end; /* host order; end 0 (exclusions): start only */
};

struct tessd_dhcp_resv {
	struct cfg_mac mac;
	uint32_t address;
	char hostname[TESS_DHCP_TEXT_LEN];
};

struct tessd_dhcp_route {
	struct cfg_prefix4 prefix;
	uint32_t via;
};

struct tessd_dhcp_server_cfg {
	char interface[TESS_NAME_LEN];
	struct tessd_dhcp_range *pools;
	uint32_t n_pools;
	struct tessd_dhcp_range *exclude;
	uint32_t n_exclude;
	struct tessd_dhcp_resv *reservations;
	uint32_t n_reservations;
	uint32_t lease_sec;
	uint32_t router; /* option 3; 0: the interface's address */
	uint32_t *dns;
	uint32_t n_dns;
	char domain[TESS_DHCP_TEXT_LEN];
	uint32_t mtu;                    /* option 26; 0: not sent */
	struct tessd_dhcp_route *routes; /* option 121 */
	uint32_t n_routes;
	uint32_t max_leases;
};

#define TESS_DHCP_RELAY_SERVERS 8
#define TESS_DHCP_AGENT_ID_LEN  64 /* option 82's circuit and remote ids (63 + NUL) */

/* A DHCP relay on an interface (instead of a server): to the tenant's own servers. */
struct tessd_dhcp_relay_cfg {
	char interface[TESS_NAME_LEN];
	uint32_t *servers; /* host order; each gets every request */
	uint32_t n_servers;
	char circuit_id[TESS_DHCP_AGENT_ID_LEN]; /* "": port/VLAN, or the interface's name */
	char remote_id[TESS_DHCP_AGENT_ID_LEN];  /* "": the interface's MAC */
	uint32_t max_hops;                       /* requests with more hops are dropped */
};

struct tessd_dhcp_cfg {
	char leases_file[TESS_PATH_LEN]; /* "": next to the startup config */
	uint32_t save_ms;                /* lease changes written at most this often */
	uint32_t decline_sec;            /* a declined address is not offered this long */
	uint32_t offer_sec;              /* an offer holds its address this long */
	uint32_t lease_capacity;         /* the servers' max_leases together, at most */
	uint32_t pool_capacity;          /* the servers' pool addresses together, at most */
	uint32_t probe_ms;               /* ARP probe of a new address before its offer; 0: none */
	struct tessd_dhcp_server_cfg *servers;
	uint32_t n_servers;
	struct tessd_dhcp_relay_cfg *relays;
	uint32_t n_relays;
};

struct tessd_cfg;
extern const struct cfg_node tessd_dhcp_schema;
/* The DHCP section's rules past the schema's (pools in the interface's subnet...). */
int tessd_dhcp_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
/* cfg's router interfaces' indexes sorted by name (free it); NULL: none, or -ENOMEM in *rc. */
uint32_t *tessd_cfg_iface_order(const struct tessd_cfg *cfg, int *rc);
/* The index of router interface name, found in that order; -1: none. */
int64_t tessd_cfg_iface_find(const struct tessd_cfg *cfg, const uint32_t *order, const char *name);
/* Sets bit in on[i] for each router interface i with a server or a relay; -ENOMEM. */
int tessd_dhcp_mark(const struct tessd_cfg *cfg, uint8_t *on, uint8_t bit);
const struct tessd_dhcp_server_cfg *tessd_cfg_dhcp_server(const struct tessd_cfg *cfg,
							  const char *iface);
const struct tessd_dhcp_relay_cfg *tessd_cfg_dhcp_relay(const struct tessd_cfg *cfg,
							const char *iface);
/* The circuit id relay rc sends (configured, else port/VLAN or the interface's name) into buf. */
const char *tessd_dhcp_circuit(const struct tessd_dhcp_relay_cfg *rc,
			       const struct tessd_iface_cfg *ic, char *buf, size_t len);

/* ---- DNS responder (vrf/dns) ---- */

#define TESS_DNS_MAX_FWD    4
#define TESS_DNS_MAX_STATIC 1024 /* configured records of one server */
#define TESS_DNS_NAME_LEN   256  /* a domain name, dotted (255 + NUL) */
#define TESS_DNS_LABEL_LEN  64   /* a label (63 + NUL) */
#define TESS_DNS_MAX_DENY   16   /* deny_names of one server */

struct tessd_dns_record {
	char name[TESS_DNS_NAME_LEN]; /* relative to the zone */
	uint32_t address;
};

struct tessd_dns_server_cfg {
	char interface[TESS_NAME_LEN];
	char domain[TESS_DNS_NAME_LEN]; /* the zone; "": the DHCP server's domain */
	uint32_t *forwarders;
	uint32_t n_forwarders;
	struct tessd_dns_record *records;
	uint32_t n_records;
	uint32_t ttl;
	uint32_t max_records; /* static and dynamic together */
	uint32_t qps;         /* queries answered per second */
	uint32_t max_pending; /* forwarded queries waiting for an answer */
	uint32_t forward_timeout_ms;
	uint32_t tcp_conns; /* TCP connections open at once; 0: no TCP */
	uint32_t tcp_timeout_ms;
	char (*deny_names)[TESS_DNS_LABEL_LEN]; /* host labels never published from leases */
	uint32_t n_deny_names;
};

struct tessd_dns_cfg {
	uint32_t record_capacity; /* the servers' max_records together, at most */
	uint32_t vrf_qps;         /* queries answered per second by a VRF's servers together */
	struct tessd_dns_server_cfg *servers;
	uint32_t n_servers;
};

extern const struct cfg_node tessd_dns_schema;
/* The DNS section's rules past the schema's. */
int tessd_dns_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
/* Sets bit in on[i] for each router interface i with a DNS server; -ENOMEM. */
int tessd_dns_mark(const struct tessd_cfg *cfg, uint8_t *on, uint8_t bit);
const struct tessd_dns_server_cfg *tessd_cfg_dns_server(const struct tessd_cfg *cfg,
							const char *iface);
/* The zone of sc: its domain, else the DHCP server's of its interface ("": none). */
const char *tessd_dns_zone(const struct tessd_cfg *cfg, const struct tessd_dns_server_cfg *sc);
/* ---- policers (vswitch/policer) ---- */

#define TESS_POL_MAX           256       /* policers */
#define TESS_POL_MAX_ATTACH    64        /* objects of one kind a policer names */
#define TESS_POL_MAX_METERS    1024      /* (object, direction) attachments of all policers */
#define TESS_POL_TENANT_METERS 256       /* of those, on one tenant's objects (tenant labels) */
#define TESS_POL_MAX_KBPS      100000000 /* 100 Gbit/s */
#define TESS_POL_MAX_BURST     (64u << 20)
#define TESS_POL_MIN_BURST     1518u /* a full frame */

enum tess_pol_type { TESS_POL_SRTCM, TESS_POL_TRTCM };
enum tess_pol_color { TESS_POL_BLIND, TESS_POL_DSCP, TESS_POL_PCP };
enum tess_pol_dir { TESS_POL_IN, TESS_POL_OUT, TESS_POL_BOTH };
extern const char *const tess_pol_types[], *const tess_pol_colors[], *const tess_pol_dirs[];

struct tessd_policer_cfg {
	char name[TESS_NAME_LEN];
	uint8_t type;        /* enum tess_pol_type */
	uint32_t cir_kbps;   /* committed rate, kbit/s (1000 bit/s) */
	uint32_t cbs;        /* committed burst, bytes; 0: 100 ms of cir (tessd_policer_burst) */
	uint32_t ebs;        /* srtcm: excess burst, bytes (0: no yellow) */
	uint32_t pir_kbps;   /* trtcm: peak rate */
	uint32_t pbs;        /* trtcm: peak burst; 0: 100 ms of pir */
	uint8_t color;       /* enum tess_pol_color: colour-blind, or the colour a frame carries */
	int32_t yellow_dscp; /* IPv4 yellow frames get this DSCP; -1: unchanged */
	uint8_t direction;   /* enum tess_pol_dir */
	char (*ports)[TESS_NAME_LEN];
	uint32_t n_ports;
	char (*groups)[TESS_NAME_LEN];
	uint32_t n_groups;
	char (*vrfs)[TESS_NAME_LEN];
	uint32_t n_vrfs;
	char (*interfaces)[TESS_NAME_LEN];
	uint32_t n_interfaces;
};

extern const struct cfg_node tessd_policer_schema, tessd_policers_schema;
/* The policers' rules past the schema's (names, bursts, one policer per object and direction). */
int tessd_policers_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
/* A burst as configured, or (set 0) 100 ms of kbps, at least a full frame. */
uint32_t tessd_policer_burst(uint32_t set, uint32_t kbps);
/* ---- firewall (vrf/firewall) ---- */

#define TESS_FW_MAX_RULES 65536 /* rules of one set, at most (the schema's bound) */
#define TESS_FW_RANGE_LEN 12    /* "65535-65535" */
#define TESS_FW_PROTO_LEN 8     /* "any", "tcp", "udp", "icmp", or "0".."255" */

enum tess_fw_action { TESS_FW_ACCEPT, TESS_FW_DROP, TESS_FW_REJECT };
extern const char *const tess_fw_actions[]; /* names of enum tess_fw_action */

struct tessd_fw_rule {
	uint8_t action; /* enum tess_fw_action */
	char proto[TESS_FW_PROTO_LEN];
	struct cfg_prefix4 src, dst;                             /* 0.0.0.0/0 (""): any */
	char sport[TESS_FW_RANGE_LEN], dport[TESS_FW_RANGE_LEN]; /* "N" or "N-M"; "": any */
	int16_t icmp_type, icmp_code;                            /* -1: any */
	char interface[TESS_NAME_LEN];                           /* ingress interface; "": any */
	char vlan[TESS_FW_RANGE_LEN]; /* VLAN of the ingress interface, "N" or "N-M"; "": any */
};

struct tessd_fw_ruleset {
	char name[TESS_NAME_LEN];
	uint8_t default_in, default_out; /* enum tess_fw_action, when no rule matches */
	struct tessd_fw_rule *rules;
	uint32_t n_rules;
};

struct tessd_fw_attach {
	char interface[TESS_NAME_LEN];
	char in[TESS_NAME_LEN], out[TESS_NAME_LEN]; /* rule sets; "": none that way */
};

/* A set on the IPv4 frames a vswitch group receives from its ports (vrf/firewall). */
struct tessd_fw_group {
	char group[TESS_NAME_LEN];
	char set[TESS_NAME_LEN];
};

struct tessd_fw_baseline {
	struct tessd_fw_rule *in, *out;
	uint32_t n_in, n_out;
};

struct tessd_fw_cfg {
	uint32_t max_rules;      /* of one set */
	uint32_t max_vrf_rules;  /* of the sets attached to one VRF's interfaces together */
	uint32_t rule_capacity;  /* of all sets together */
	uint32_t conn_capacity;  /* connections tracked, all VRFs; 0: no tracking */
	uint32_t conn_vrf_limit; /* of them, one VRF's */
	struct tessd_fw_baseline baseline;
	struct tessd_fw_ruleset *rulesets;
	uint32_t n_rulesets;
	struct tessd_fw_attach *attach;
	uint32_t n_attach;
	struct tessd_fw_group *groups;
	uint32_t n_groups;
};

/*
 * A rule's match in ranges, host order: what the firewall classifies on and
 * its baseline check compares. ICMP's type and code are in sport and dport.
 */
struct tessd_fw_match {
	uint8_t proto[2]; /* lo, hi: 0-255 is any */
	uint32_t src, dst;
	uint8_t src_len, dst_len;
	uint16_t sport[2], dport[2], vlan[2];
};
extern const struct cfg_node tessd_fw_schema;
extern const struct cfg_node tessd_fw_ruleset_schema;
extern const struct cfg_node tessd_fw_group_schema; /* firewall.groups[] */
/* A decoded (schema-checked) rule's match. */
void tessd_fw_match(const struct tessd_fw_rule *r, struct tessd_fw_match *m);
/* The firewall section's rules past the schema's (names, attachments, limits). */
int tessd_fw_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
const struct tessd_fw_ruleset *tessd_cfg_fw_ruleset(const struct tessd_cfg *cfg, const char *name);

/* ---- NAT44 (vrf/nat) ---- */

/* A pool's addresses at most: its port bitmaps are allocated whole. */
#define TESS_NAT_POOL_MAX_ADDRS 1024
#define TESS_NAT_MAX_STATICS    4096 /* static mappings of one instance */
#define TESS_NAT_PROTO_LEN      8

struct tessd_nat_pool_cfg {
	char name[TESS_NAME_LEN];
	struct cfg_prefix4 prefix; /* its outside addresses */
	uint32_t port_min, port_max;
	uint32_t block_size; /* ports a subscriber (inside address) gets at once */
};

enum tessd_nat_proto { TESS_NAT_ALL, TESS_NAT_TCP, TESS_NAT_UDP };

struct tessd_nat_static_cfg {
	uint32_t outside; /* host order */
	uint32_t inside;
	uint32_t proto; /* enum tessd_nat_proto: all (1:1) or a port forward */
	uint32_t outside_port, inside_port;
};

struct tessd_nat_inst_cfg {
	char name[TESS_NAME_LEN];
	char inside_vrf[TESS_NAME_LEN];
	char outside_vrf[TESS_NAME_LEN];
	char pool[TESS_NAME_LEN]; /* "": static mappings only */
	uint32_t max_blocks;      /* of the pool's port blocks, at most */
	uint32_t max_sessions;
	uint32_t tcp_established, tcp_transitory, udp, udp_single, icmp; /* seconds */
	struct tessd_nat_static_cfg *statics;
	uint32_t n_statics;
	bool log; /* its sessions or port blocks logged (when nat.logging has a path) */
};

/* What nat.logging records (tess_nat_log_modes). */
enum tessd_nat_log_mode { TESS_NAT_LOG_SESSIONS, TESS_NAT_LOG_PORT_BLOCKS };
#define TESS_NAT_LOG_MODE_LEN 16

/* Session or port-block logging (vrf/nat/nat_log.c); path "": off. */
struct tessd_nat_log_cfg {
	char path[TESS_PATH_LEN];
	uint32_t mode;       /* enum tessd_nat_log_mode */
	double max_file_mb;  /* the file is rotated past this size */
	uint32_t keep_files; /* rotated files kept: path.1 .. path.N */
	uint32_t ring_size;  /* records per worker's ring */
	uint32_t flush_ms;   /* records wait at most this long to be written */
};

struct tessd_nat_cfg {
	uint32_t session_capacity; /* the session table's entries (start-up only) */
	struct tessd_nat_pool_cfg *pools;
	uint32_t n_pools;
	struct tessd_nat_inst_cfg *instances;
	uint32_t n_instances;
	struct tessd_nat_log_cfg logging;
};

extern const struct cfg_node tessd_nat_schema;
extern const struct cfg_node tessd_nat_inst_schema;
extern const struct cfg_node tessd_nat_static_schema;
extern const char *const tess_nat_protos[];
extern const char *const tess_nat_log_modes[];
extern const struct cfg_node tessd_nat_log_schema;
int tessd_nat_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
/* The directory of control.log_dirs path is under (the longest); NULL: none. */
const char *tessd_nat_log_root(const struct tessd_cfg *cfg, const char *path);
/* The pool of that name, or NULL. */
const struct tessd_nat_pool_cfg *tessd_cfg_nat_pool(const struct tessd_cfg *cfg, const char *name);

struct tessd_cfg {
	struct tessd_eal_cfg eal;
	struct tessd_ctl_cfg control;
	struct tessd_port_cfg *ports;
	uint32_t n_ports;
	struct tessd_xc_cfg *xconnects;
	uint32_t n_xconnects;
	struct tessd_switch_cfg sw;
	struct tessd_router_cfg router;
	struct tessd_dhcp_cfg dhcp;
	struct tessd_dns_cfg dns;
	struct tessd_policer_cfg *policers;
	uint32_t n_policers;
	struct tessd_nat_cfg nat;
	struct tessd_fw_cfg firewall;
};

extern const struct cfg_node tessd_cfg_schema;
extern const struct cfg_node tessd_port_schema;
extern const struct cfg_node tessd_xc_schema;
extern const struct cfg_node tessd_name_schema;
extern const struct cfg_node tessd_tenant_schema;   /* a tenant label, or "" */
extern const struct cfg_node tessd_opt_name_schema; /* a name, or "" */

/* The params of API requests that name one object. */
struct tessd_name_params {
	char name[TESS_NAME_LEN];
};
extern const struct cfg_node tessd_name_params_schema;
extern const struct cfg_node tessd_switch_schema;
extern const struct cfg_node tessd_group_schema;
extern const struct cfg_node tessd_static_mac_schema;
extern const struct cfg_node tessd_mac_schema;
extern const struct cfg_node tessd_ip4_schema;    /* "a.b.c.d" */
extern const struct cfg_node tessd_prefix_schema; /* "a.b.c.d/len" */
extern const struct cfg_node tessd_router_schema;
/* References to named elements (cfg_check_refs), required or optional (""). */
extern const struct cfg_node tessd_port_ref_schema, tessd_opt_port_ref_schema;
extern const struct cfg_node tessd_group_ref_schema, tessd_opt_group_ref_schema;
extern const struct cfg_node tessd_vrf_ref_schema, tessd_opt_vrf_ref_schema;
extern const char *const tess_route_types[]; /* names of enum tess_route_type */
extern const struct cfg_node tessd_vrf_schema;
extern const struct cfg_node tessd_iface_schema;
extern const struct cfg_node tessd_route_schema;
extern const struct cfg_node tessd_neigh_schema;

/*
 * The schema's rules plus the core's (port names and devices unique). Each
 * section's own rules (groups, xconnects, the router) are its module's:
 * tessd validates a config with dp_cfg_validate, which runs them all.
 */
typedef int (*tessd_cfg_validator)(const struct tessd_cfg *cfg, struct cfg_errs *errs);
int tessd_cfg_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
/* Decodes doc and validates it (validate, or NULL: tessd_cfg_validate); cfg empty on error. */
int tessd_cfg_decode(const json_t *doc, struct tessd_cfg *cfg, struct cfg_errs *errs,
		     tessd_cfg_validator validate);
void tessd_cfg_free(struct tessd_cfg *cfg);

const struct tessd_port_cfg *tessd_cfg_port(const struct tessd_cfg *cfg, const char *name);
/* Index of the xconnect using port "name", or -1. */
int tessd_cfg_xc_of(const struct tessd_cfg *cfg, const char *name);
/* The same among the first n xconnects only. */
int tessd_cfg_xc_among(const struct tessd_cfg *cfg, uint32_t n, const char *name);

const struct tessd_group_cfg *tessd_cfg_group(const struct tessd_cfg *cfg, const char *name);
/* Whether port p is an access port of group g or a trunk carrying it. */
bool tessd_port_in_group(const struct tessd_port_cfg *p, const struct tessd_group_cfg *g);
/* Whether anti-spoofing is on for p ("auto": on for vhost-user ports or with allowed lists). */
bool tessd_port_anti_spoof(const struct tessd_port_cfg *p);

const struct tessd_vrf_cfg *tessd_cfg_vrf(const struct tessd_cfg *cfg, const char *name);
const struct tessd_iface_cfg *tessd_cfg_iface(const struct tessd_cfg *cfg, const char *name);

/* The device name part of devargs ("net_tap0" of "net_tap0,iface=x"). */
struct sockaddr_storage;
/*
 * A loopback listen address, "127.a.b.c:PORT" or "[::1]:PORT", into sa; 0, or
 * an errno with why filled in (anything not loopback is refused: what listens
 * there has no authentication).
 */
int tessd_loopback_addr(const char *s, struct sockaddr_storage *sa, unsigned *sa_len, char *why,
			size_t len);
void tessd_devargs_name(const char *devargs, char *name, size_t len);

#endif
