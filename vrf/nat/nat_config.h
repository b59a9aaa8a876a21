/* SPDX-License-Identifier: BSD-3-Clause */
/* The NAT44 section of tessd's config (nat_config.c): pools, instances, logging. */
#ifndef TESS_NAT_CONFIG_H
#define TESS_NAT_CONFIG_H

#include "tessd_base.h"

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
/*
 * Its section of tessd's config: struct tessd_cfg's member, the JSON key, the
 * type and the schema (registered by vrf/nat/meson.build, see config/tessd_config.h).
 */
#define TESSD_NAT_SECTION(OBJ, ARR) OBJ(nat, "nat", struct tessd_nat_cfg, tessd_nat_schema)

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

#endif
