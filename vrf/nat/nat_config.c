/* SPDX-License-Identifier: BSD-3-Clause */
/* The NAT44 part of tessd's config (the module is vrf/nat): pools and one instance per VRF. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tessd_config.h"

const char *const tess_nat_protos[] = { "all", "tcp", "udp", NULL };
const char *const tess_nat_log_modes[] = { "sessions", "port-blocks", NULL };

static const struct cfg_node pool_ref_node = {
	.type = CFG_REF,
	.str = { .max_len = TESS_NAME_LEN - 1, .charset = CFG_NAME_CHARSET },
	.ref = { .table = "/nat/pools", .key = "name", .what = "NAT pool" },
};

static const struct cfg_field pool_fields[] = {
	CFG_FIELD(struct tessd_nat_pool_cfg, name, "name", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct tessd_nat_pool_cfg, prefix, "prefix", &tessd_prefix_schema, true, NULL),
	CFG_FIELD(struct tessd_nat_pool_cfg, port_min, "port_min", CFG_INT_NODE(1, 65535), false,
		  "1024"),
	CFG_FIELD(struct tessd_nat_pool_cfg, port_max, "port_max", CFG_INT_NODE(1, 65535), false,
		  "65535"),
	CFG_FIELD(struct tessd_nat_pool_cfg, block_size, "block_size", CFG_INT_NODE(1, 65535),
		  false, "512"),
	{ 0 },
};

static const struct cfg_field static_fields[] = {
	CFG_FIELD(struct tessd_nat_static_cfg, outside, "outside", &tessd_ip4_schema, true, NULL),
	CFG_FIELD(struct tessd_nat_static_cfg, inside, "inside", &tessd_ip4_schema, true, NULL),
	CFG_FIELD(struct tessd_nat_static_cfg, proto, "proto",
		  (&(const struct cfg_node){ .type = CFG_ENUM,
					     .str = { .max_len = TESS_NAT_PROTO_LEN - 1,
						      .choices = tess_nat_protos } }),
		  false, "\"all\""),
	CFG_FIELD(struct tessd_nat_static_cfg, outside_port, "outside_port", CFG_INT_NODE(0, 65535),
		  false, "0"),
	CFG_FIELD(struct tessd_nat_static_cfg, inside_port, "inside_port", CFG_INT_NODE(0, 65535),
		  false, "0"),
	{ 0 },
};
const struct cfg_node tessd_nat_static_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = static_fields, .size = sizeof(struct tessd_nat_static_cfg) },
};

#define TIMEOUT CFG_INT_NODE(1, 604800)

static const struct cfg_field inst_fields[] = {
	CFG_FIELD(struct tessd_nat_inst_cfg, name, "name", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct tessd_nat_inst_cfg, inside_vrf, "inside_vrf", &tessd_vrf_ref_schema, true,
		  NULL),
	CFG_FIELD(struct tessd_nat_inst_cfg, outside_vrf, "outside_vrf", &tessd_vrf_ref_schema,
		  true, NULL),
	CFG_FIELD(struct tessd_nat_inst_cfg, pool, "pool", &pool_ref_node, false, "\"\""),
	CFG_FIELD(struct tessd_nat_inst_cfg, max_blocks, "max_blocks", CFG_INT_NODE(1, 1 << 24),
		  false, "64"),
	CFG_FIELD(struct tessd_nat_inst_cfg, max_sessions, "max_sessions", CFG_INT_NODE(1, 1 << 24),
		  false, "16384"),
	CFG_FIELD(struct tessd_nat_inst_cfg, tcp_established, "tcp_established", TIMEOUT, false,
		  "7440"),
	CFG_FIELD(struct tessd_nat_inst_cfg, tcp_transitory, "tcp_transitory", TIMEOUT, false,
		  "240"),
	CFG_FIELD(struct tessd_nat_inst_cfg, udp, "udp", TIMEOUT, false, "300"),
	CFG_FIELD(struct tessd_nat_inst_cfg, udp_single, "udp_single", TIMEOUT, false, "30"),
	CFG_FIELD(struct tessd_nat_inst_cfg, icmp, "icmp", TIMEOUT, false, "60"),
	CFG_ARRAY_FIELD(struct tessd_nat_inst_cfg, statics, n_statics, "statics",
			CFG_ARR_NODE(&tessd_nat_static_schema, TESS_NAT_MAX_STATICS,
				     struct tessd_nat_static_cfg),
			false, "[]"),
	CFG_FIELD(struct tessd_nat_inst_cfg, log, "log",
		  (&(const struct cfg_node){ .type = CFG_BOOL }), false, "true"),
	{ 0 },
};
const struct cfg_node tessd_nat_inst_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = inst_fields, .size = sizeof(struct tessd_nat_inst_cfg) },
};

static const struct cfg_field log_fields[] = {
	CFG_FIELD(struct tessd_nat_log_cfg, path, "path",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = TESS_PATH_LEN - 1 } }),
		  false, "\"\""),
	CFG_FIELD(struct tessd_nat_log_cfg, mode, "mode",
		  (&(const struct cfg_node){ .type = CFG_ENUM,
					     .str = { .max_len = TESS_NAT_LOG_MODE_LEN - 1,
						      .choices = tess_nat_log_modes } }),
		  false, "\"sessions\""),
	CFG_FIELD(struct tessd_nat_log_cfg, max_file_mb, "max_file_mb",
		  (&(const struct cfg_node){ .type = CFG_NUMBER, .num = { 1, 1048576 } }), false,
		  "100"),
	CFG_FIELD(struct tessd_nat_log_cfg, keep_files, "keep_files", CFG_INT_NODE(1, 1000), false,
		  "10"),
	/* Rounded up to a power of two; 48 bytes a record, per worker. */
	CFG_FIELD(struct tessd_nat_log_cfg, ring_size, "ring_size", CFG_INT_NODE(16, 1 << 22),
		  false, "65536"),
	CFG_FIELD(struct tessd_nat_log_cfg, flush_ms, "flush_ms", CFG_INT_NODE(1, 60000), false,
		  "100"),
	{ 0 },
};
const struct cfg_node tessd_nat_log_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = log_fields, .size = sizeof(struct tessd_nat_log_cfg) },
};

static const struct cfg_field nat_fields[] = {
	/* Entries of 64 bytes in hugepages, allocated whole at start (sessions and their records).
	 */
	CFG_FIELD(struct tessd_nat_cfg, session_capacity, "session_capacity",
		  CFG_INT_NODE(1024, 1 << 26), false, "262144"),
	CFG_ARRAY_FIELD(struct tessd_nat_cfg, pools, n_pools, "pools",
			CFG_ARR_NODE(CFG_OBJ_NODE(pool_fields, struct tessd_nat_pool_cfg), 1024,
				     struct tessd_nat_pool_cfg),
			false, "[]"),
	CFG_ARRAY_FIELD(struct tessd_nat_cfg, instances, n_instances, "instances",
			CFG_ARR_NODE(&tessd_nat_inst_schema, 4095, struct tessd_nat_inst_cfg),
			false, "[]"),
	CFG_FIELD(struct tessd_nat_cfg, logging, "logging", &tessd_nat_log_schema, false, "{}"),
	{ 0 },
};
const struct cfg_node tessd_nat_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = nat_fields, .size = sizeof(struct tessd_nat_cfg) },
};

const struct tessd_nat_pool_cfg *tessd_cfg_nat_pool(const struct tessd_cfg *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->nat.n_pools; i++)
		if (strcmp(cfg->nat.pools[i].name, name) == 0)
			return &cfg->nat.pools[i];
	return NULL;
}

static bool in_prefix(const struct cfg_prefix4 *p, uint32_t a)
{
	return ((a ^ p->ip) & cfg_prefix4_mask(p->len)) == 0;
}

static void validate_pool(const struct tessd_cfg *cfg, uint32_t i, struct cfg_errs *errs)
{
	const struct tessd_nat_pool_cfg *p = &cfg->nat.pools[i];
	char path[CFG_PATH_MAX];

	snprintf(path, sizeof(path), "/nat/pools/%u/prefix", i);
	if (p->prefix.len < 22)
		cfg_err_add(errs, EINVAL, path, "at most %u addresses (a /22)",
			    TESS_NAT_POOL_MAX_ADDRS);
	else if (p->prefix.ip & ~cfg_prefix4_mask(p->prefix.len))
		cfg_err_add(errs, EINVAL, path, "has host bits set");
	for (uint32_t k = 0; k < i; k++) {
		const struct cfg_prefix4 *q = &cfg->nat.pools[k].prefix;

		if (in_prefix(q, p->prefix.ip) || in_prefix(&p->prefix, q->ip))
			cfg_err_add(errs, EEXIST, path, "overlaps pool %s (/nat/pools/%u)",
				    cfg->nat.pools[k].name, k);
		if (strcmp(cfg->nat.pools[k].name, p->name) == 0) {
			snprintf(path, sizeof(path), "/nat/pools/%u/name", i);
			cfg_err_add(errs, EEXIST, path, "pool %s is already /nat/pools/%u", p->name,
				    k);
		}
	}
	if (p->port_max < p->port_min) {
		snprintf(path, sizeof(path), "/nat/pools/%u/port_max", i);
		cfg_err_add(errs, EINVAL, path, "below port_min (%u)", p->port_min);
	} else if ((p->port_max - p->port_min + 1) % p->block_size) {
		snprintf(path, sizeof(path), "/nat/pools/%u/block_size", i);
		cfg_err_add(errs, EINVAL, path,
			    "%u does not divide the %u ports from port_min to port_max",
			    p->block_size, p->port_max - p->port_min + 1);
	}
}

/* Whether outside address a of VRF vrf is in a pool some instance on that VRF uses. */
static int pool_holding(const struct tessd_cfg *cfg, const char *vrf, uint32_t a)
{
	for (uint32_t i = 0; i < cfg->nat.n_instances; i++) {
		const struct tessd_nat_inst_cfg *n = &cfg->nat.instances[i];
		const struct tessd_nat_pool_cfg *p =
			n->pool[0] ? tessd_cfg_nat_pool(cfg, n->pool) : NULL;

		if (p && strcmp(n->outside_vrf, vrf) == 0 && in_prefix(&p->prefix, a))
			return (int)(p - cfg->nat.pools);
	}
	return -1;
}

static void validate_static(const struct tessd_cfg *cfg, uint32_t i, uint32_t s,
			    struct cfg_errs *errs)
{
	const struct tessd_nat_inst_cfg *n = &cfg->nat.instances[i];
	const struct tessd_nat_static_cfg *st = &n->statics[s];
	char path[CFG_PATH_MAX];
	int pool;

	snprintf(path, sizeof(path), "/nat/instances/%u/statics/%u", i, s);
	if (st->proto == TESS_NAT_ALL && (st->outside_port || st->inside_port))
		cfg_err_add(errs, EINVAL, path, "a 1:1 mapping (proto all) has no ports");
	if (st->proto != TESS_NAT_ALL && st->outside_port == 0)
		cfg_err_add(errs, EINVAL, path, "a port forward needs outside_port");
	pool = pool_holding(cfg, n->outside_vrf, st->outside);
	if (pool >= 0)
		cfg_err_add(errs, EEXIST, path, "outside address is in pool %s",
			    cfg->nat.pools[pool].name);
	/* Against every earlier mapping on the same outside VRF and address. */
	for (uint32_t j = 0; j <= i; j++) {
		const struct tessd_nat_inst_cfg *m = &cfg->nat.instances[j];

		if (strcmp(m->outside_vrf, n->outside_vrf) != 0 && j != i)
			continue;
		for (uint32_t t = 0; t < (j == i ? s : m->n_statics); t++) {
			const struct tessd_nat_static_cfg *o = &m->statics[t];

			if (o->outside == st->outside &&
			    (o->proto == TESS_NAT_ALL || st->proto == TESS_NAT_ALL ||
			     (o->proto == st->proto && o->outside_port == st->outside_port)))
				cfg_err_add(errs, EEXIST, path,
					    "its outside address and port are already mapped "
					    "(/nat/instances/%u/statics/%u)",
					    j, t);
			else if (j == i && o->proto == TESS_NAT_ALL && st->proto == TESS_NAT_ALL &&
				 o->inside == st->inside)
				cfg_err_add(errs, EEXIST, path,
					    "inside address already mapped 1:1 (statics/%u)", t);
		}
	}
}

static void validate_inst(const struct tessd_cfg *cfg, uint32_t i, struct cfg_errs *errs)
{
	const struct tessd_nat_inst_cfg *n = &cfg->nat.instances[i];
	const struct tessd_nat_pool_cfg *p = n->pool[0] ? tessd_cfg_nat_pool(cfg, n->pool) : NULL;
	char path[CFG_PATH_MAX];

	if (strcmp(n->inside_vrf, n->outside_vrf) == 0) {
		snprintf(path, sizeof(path), "/nat/instances/%u/outside_vrf", i);
		cfg_err_add(errs, EINVAL, path, "is the inside VRF");
	}
	for (uint32_t k = 0; k < i; k++) {
		const struct tessd_nat_inst_cfg *o = &cfg->nat.instances[k];

		if (strcmp(o->name, n->name) == 0) {
			snprintf(path, sizeof(path), "/nat/instances/%u/name", i);
			cfg_err_add(errs, EEXIST, path, "instance %s is already /nat/instances/%u",
				    n->name, k);
		}
		if (strcmp(o->inside_vrf, n->inside_vrf) == 0) {
			snprintf(path, sizeof(path), "/nat/instances/%u/inside_vrf", i);
			cfg_err_add(errs, EEXIST, path,
				    "VRF %s already has a NAT instance (/nat/instances/%u)",
				    n->inside_vrf, k);
		}
		if (p && strcmp(o->pool, n->pool) == 0 &&
		    strcmp(o->outside_vrf, n->outside_vrf) != 0) {
			snprintf(path, sizeof(path), "/nat/instances/%u/pool", i);
			cfg_err_add(errs, EINVAL, path,
				    "pool %s is used on outside VRF %s by /nat/instances/%u",
				    n->pool, o->outside_vrf, k);
		}
	}
	for (uint32_t s = 0; s < n->n_statics; s++)
		validate_static(cfg, i, s, errs);
}

/*
 * The instances sharing a pool hold at most its blocks between them, so a tenant that takes
 * all of its max_blocks leaves the others theirs (no overcommit).
 */
static void validate_pool_shares(const struct tessd_cfg *cfg, uint32_t i, struct cfg_errs *errs)
{
	const struct tessd_nat_inst_cfg *n = &cfg->nat.instances[i];
	const struct tessd_nat_pool_cfg *p = n->pool[0] ? tessd_cfg_nat_pool(cfg, n->pool) : NULL;
	uint64_t sum = 0, blocks;
	char path[CFG_PATH_MAX];

	if (p == NULL || p->block_size == 0 || p->port_max < p->port_min || p->prefix.len > 32)
		return; /* no pool, or a bad one (its own error) */
	blocks = ((uint64_t)1 << (32 - p->prefix.len)) *
		 ((p->port_max - p->port_min + 1u) / p->block_size);
	for (uint32_t k = 0; k <= i; k++)
		if (strcmp(cfg->nat.instances[k].pool, n->pool) == 0)
			sum += cfg->nat.instances[k].max_blocks;
	if (sum <= blocks || sum - n->max_blocks > blocks)
		return; /* fits, or said at an earlier instance */
	snprintf(path, sizeof(path), "/nat/instances/%u/max_blocks", i);
	cfg_err_add(errs, ENOSPC, path,
		    "the max_blocks of pool %s's instances add up past its %llu blocks", n->pool,
		    (unsigned long long)blocks);
}

/* Length of dir without trailing slashes ("/" stays 1). */
static size_t dir_len(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return n;
}

const char *tessd_nat_log_root(const struct tessd_cfg *cfg, const char *path)
{
	const char *best = NULL;
	size_t best_n = 0;

	for (uint32_t i = 0; i < cfg->control.n_log_dirs; i++) {
		const char *d = cfg->control.log_dirs[i];
		size_t n = dir_len(d);

		if (strncmp(path, d, n) == 0 && (path[n] == '/' || n == 1) && n >= best_n) {
			best = d;
			best_n = n;
		}
	}
	return best;
}

/*
 * The log file: an absolute, normalised path under one of control.log_dirs (the operator's,
 * out of the API's reach: tessd is root). Lexical only: the filesystem is checked when the
 * API sets nat.logging and by each open, never on an unrelated commit.
 */
static void validate_log_path(const struct tessd_cfg *cfg, const char *path, struct cfg_errs *errs)
{
	static const char *const at = "/nat/logging/path";
	const char *base = strrchr(path, '/');

	if (path[0] != '/') {
		cfg_err_add(errs, EINVAL, at, "must be an absolute path");
		return;
	}
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			cfg_err_add(errs, EINVAL, at, "has a control character");
			return;
		}
	if (strstr(path, "//") || strstr(path, "/./") || strstr(path, "/../") ||
	    strcmp(base, "/") == 0 || strcmp(base, "/.") == 0 || strcmp(base, "/..") == 0) {
		cfg_err_add(errs, EINVAL, at, "%s is not a plain path of a file (no //, ., ..)",
			    path);
		return;
	}
	if (tessd_nat_log_root(cfg, path) == NULL)
		cfg_err_add(errs, EPERM, at,
			    "%s is not under a directory of control.log_dirs (set by the operator "
			    "in the startup config)",
			    path);
}

int tessd_nat_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	unsigned before = errs->n;
	/*
	 * A worker whose slice of the table is empty borrows from the others' (conn.h), so
	 * one worker may hold the whole table: the instances must fit the table, no more.
	 */
	uint32_t workers = cfg->eal.n_workers ? cfg->eal.n_workers : 1;
	uint64_t cap = cfg->nat.session_capacity / workers * workers, sum = 0; /* whole slices */

	for (uint32_t i = 0; i < cfg->nat.n_pools; i++)
		validate_pool(cfg, i, errs);
	for (uint32_t i = 0; i < cfg->nat.n_instances; i++) {
		validate_inst(cfg, i, errs);
		validate_pool_shares(cfg, i, errs);
		/* Sessions and as many records (mappings, subscribers): the table holds them all.
		 */
		sum += 3 * (uint64_t)cfg->nat.instances[i].max_sessions;
		if (sum > cap && sum - 3 * (uint64_t)cfg->nat.instances[i].max_sessions <= cap) {
			char path[CFG_PATH_MAX];

			snprintf(path, sizeof(path), "/nat/instances/%u/max_sessions", i);
			cfg_err_add(errs, ENOSPC, path,
				    "three times the instances' max_sessions add up past "
				    "nat.session_capacity (%u, %" PRIu64 " in %u workers' slices)",
				    cfg->nat.session_capacity, cap, workers);
		}
	}
	if (cfg->nat.logging.path[0])
		validate_log_path(cfg, cfg->nat.logging.path, errs);
	cfg_check_refs_in(&tessd_cfg_schema, cfg, "nat", errs);
	return errs->n == before ? 0 : -EINVAL;
}
