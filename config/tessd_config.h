/* SPDX-License-Identifier: BSD-3-Clause */
/* tessd's configuration: the startup file and the running state it saves. */
#ifndef TESS_TESSD_CONFIG_H
#define TESS_TESSD_CONFIG_H

#include "tessd_base.h"

/*
 * Each feature's section (its structs, schemas and rules) is in its own folder,
 * registered by its meson.build: this generated header includes them and lists
 * them in TESSD_CFG_SECTIONS, from which struct tessd_cfg and its schema are made.
 */
#include "sections/tessd_sections.h"

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

struct tessd_cfg {
	struct tessd_eal_cfg eal;
	struct tessd_ctl_cfg control;
	struct tessd_port_cfg *ports;
	uint32_t n_ports;
	/* Then the modules' sections: cfg->router, cfg->xconnects and cfg->n_xconnects, ... */
#define TESSD_OBJ_MEMBER(member, key, type, schema) type member;
#define TESSD_ARR_MEMBER(member, n, key, type, schema) \
	type *member;                                  \
	uint32_t n;
	TESSD_CFG_SECTIONS(TESSD_OBJ_MEMBER, TESSD_ARR_MEMBER)
#undef TESSD_OBJ_MEMBER
#undef TESSD_ARR_MEMBER
};

extern const struct cfg_node tessd_cfg_schema;
extern const struct cfg_node tessd_port_schema;

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

/* Whether anti-spoofing is on for p ("auto": on for vhost-user ports or with allowed lists). */
bool tessd_port_anti_spoof(const struct tessd_port_cfg *p);

/* The device name part of devargs ("net_tap0" of "net_tap0,iface=x"). */
void tessd_devargs_name(const char *devargs, char *name, size_t len);
struct sockaddr_storage;
/*
 * A loopback listen address, "127.a.b.c:PORT" or "[::1]:PORT", into sa; 0, or
 * an errno with why filled in (anything not loopback is refused: what listens
 * there has no authentication).
 */
int tessd_loopback_addr(const char *s, struct sockaddr_storage *sa, unsigned *sa_len, char *why,
			size_t len);

#endif
