/* SPDX-License-Identifier: BSD-3-Clause */
#include "tessd_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_pow2(const void *val, char *why, size_t len)
{
	uint16_t v = *(const uint16_t *)val;

	if (v & (v - 1)) {
		snprintf(why, len, "%u is not a power of two", v);
		return EINVAL;
	}
	return 0;
}

static int check_abs_path(const void *val, char *why, size_t len)
{
	const char *s = val;

	if (s[0] != '/') {
		snprintf(why, len, "must be an absolute path");
		return EINVAL;
	}
	return 0;
}

static int check_devargs(const void *val, char *why, size_t len)
{
	const char *s = val;

	if (strchr(s, ' ') || s[0] == ',') {
		snprintf(why, len, "devargs is 'device[,key=value...]' without spaces");
		return EINVAL;
	}
	return 0;
}

static int check_mode(const void *val, char *why, size_t len)
{
	const char *s = val;
	unsigned long m = strtoul(s, NULL, 8);

	if (m & ~0777ul) {
		snprintf(why, len, "mode must be octal permission bits, e.g. 0660");
		return EINVAL;
	}
	/* Anyone who can connect can reconfigure tessd (review 2.3). */
	if (m & 0002) {
		snprintf(why, len,
			 "%s is world-writable: any local user could reconfigure tessd; use a "
			 "group (e.g. 0660 and control.group)",
			 s);
		return EPERM;
	}
	return 0;
}

int tessd_loopback_addr(const char *s, struct sockaddr_storage *sa, unsigned *sa_len, char *why,
			size_t len)
{
	const char *colon = strrchr(s, ':');
	char host[TESS_LISTEN_LEN], *end;
	unsigned long port;
	size_t hl;

	memset(sa, 0, sizeof(*sa));
	if (colon == NULL || colon == s || colon[1] == '\0') {
		snprintf(why, len, "'%s' is not ADDRESS:PORT (e.g. 127.0.0.1:9480 or [::1]:9480)",
			 s);
		return EINVAL;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || errno || port == 0 || port > 65535 || colon[1] < '0' || colon[1] > '9') {
		snprintf(why, len, "'%s': the port must be 1 to 65535", s);
		return EINVAL;
	}
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host)) {
		snprintf(why, len, "'%s': the address is too long", s);
		return EINVAL;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			goto bad;
		if (!IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
			goto remote;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*sa_len = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		goto bad;
	if ((ntohl(a4->sin_addr.s_addr) >> 24) != 127)
		goto remote;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*sa_len = sizeof(*a4);
	return 0;
bad:
	snprintf(why, len,
		 "'%s': the address must be an IPv4 address or an IPv6 one in brackets (no "
		 "names)",
		 s);
	return EINVAL;
remote:
	snprintf(why, len,
		 "'%s' is not a loopback address: the listener has no authentication, so it "
		 "listens on 127.0.0.0/8 or [::1] only (a remote scraper goes through a proxy or "
		 "node_exporter's textfile collector)",
		 s);
	return EPERM;
}

static int check_listen(const void *val, char *why, size_t len)
{
	struct sockaddr_storage sa;
	unsigned n;

	return ((const char *)val)[0] ? tessd_loopback_addr(val, &sa, &n, why, len) : 0;
}

/* ---- scalar nodes shared by several fields ---- */

/* A station address: unicast, not all zeros. */
static int check_mac(const void *val, char *why, size_t len)
{
	const struct cfg_mac *mac = val;
	const uint8_t *m = mac->b;
	char s[CFG_MAC_STRLEN];

	if (m[0] & 1) {
		snprintf(why, len, "%s is a multicast address", cfg_fmt_mac(mac, s, sizeof(s)));
		return EINVAL;
	}
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5])) {
		snprintf(why, len, "the all-zero MAC is not a station address");
		return EINVAL;
	}
	return 0;
}

const struct cfg_node tessd_mac_schema = {
	.type = CFG_MAC,
	.str = { .min_len = 17, .max_len = 17, .charset = "0123456789abcdefABCDEF:" },
	.check = check_mac,
};

const struct cfg_node tessd_ip4_schema = {
	.type = CFG_IP4,
	.str = { .min_len = 7, .max_len = TESS_IP4_LEN - 1, .charset = "0123456789." },
};
const struct cfg_node tessd_opt_ip4_schema = {
	.type = CFG_IP4,
	.str = { .max_len = TESS_IP4_LEN - 1, .charset = "0123456789." },
};
const struct cfg_node tessd_prefix_schema = {
	.type = CFG_PREFIX4,
	.str = { .min_len = 9, .max_len = TESS_PREFIX_LEN - 1, .charset = "0123456789./" },
};

const struct cfg_node tessd_name_schema = {
	.type = CFG_STRING,
	.str = { .min_len = 1, .max_len = TESS_NAME_LEN - 1, .charset = CFG_NAME_CHARSET },
};
static const struct cfg_field name_params_fields[] = {
	CFG_FIELD(struct tessd_name_params, name, "name", &tessd_name_schema, true, NULL),
	{ 0 },
};
const struct cfg_node tessd_name_params_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = name_params_fields, .size = sizeof(struct tessd_name_params) },
};
static const struct cfg_node cpu_node = { .type = CFG_INT, .i = { 0, TESS_MAX_WORKERS * 16 } };
static const struct cfg_node bool_node = { .type = CFG_BOOL };
static const char *const hugepage_modes[] = { "auto", "on", "off", NULL };

/* References to the named elements of the config's arrays (checked by cfg_check_refs). */
#define NAME_REF(var, table_, what_, min)                                     \
	const struct cfg_node var = {                                         \
		.type = CFG_REF,                                              \
		.str = { .min_len = (min),                                    \
			 .max_len = TESS_NAME_LEN - 1,                        \
			 .charset = CFG_NAME_CHARSET },                       \
		.ref = { .table = (table_), .key = "name", .what = (what_) }, \
	}
NAME_REF(tessd_port_ref_schema, "/ports", "port", 1);
NAME_REF(tessd_opt_port_ref_schema, "/ports", "port", 0);
NAME_REF(tessd_group_ref_schema, "/switch/groups", "group", 1);
NAME_REF(tessd_opt_group_ref_schema, "/switch/groups", "group", 0);
NAME_REF(tessd_vrf_ref_schema, "/router/vrfs", "VRF", 1);
NAME_REF(tessd_opt_vrf_ref_schema, "/router/vrfs", "VRF", 0);

const struct cfg_node tessd_tenant_schema = {
	.type = CFG_STRING,
	.str = { .max_len = TESS_TENANT_LEN - 1 },
};

/* ---- eal ---- */

static const struct cfg_node workers_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &cpu_node, .min = 1, .max = TESS_MAX_WORKERS, .item_size = 2 },
};
static const struct cfg_node eal_arg_node = {
	.type = CFG_STRING,
	.str = { .min_len = 1, .max_len = TESS_EAL_ARG_LEN - 1 },
};
static const struct cfg_node eal_args_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &eal_arg_node, .max = 64, .item_size = TESS_EAL_ARG_LEN },
};
static const struct cfg_field eal_fields[] = {
	CFG_FIELD(struct tessd_eal_cfg, main_cpu, "main_cpu", &cpu_node, false, "0"),
	CFG_ARRAY_FIELD(struct tessd_eal_cfg, workers, n_workers, "workers", &workers_node, false,
			"[1]"),
	CFG_FIELD(struct tessd_eal_cfg, memory_mb, "memory_mb",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 64, 1 << 20 } }), false,
		  "512"),
	CFG_FIELD(struct tessd_eal_cfg, hugepages, "hugepages",
		  (&(const struct cfg_node){
			  .type = CFG_ENUM,
			  .str = { .min_len = 2, .max_len = 4, .choices = hugepage_modes } }),
		  false, "\"auto\""),
	CFG_FIELD(struct tessd_eal_cfg, file_prefix, "file_prefix",
		  (&(const struct cfg_node){
			  .type = CFG_STRING,
			  .str = { .min_len = 1, .max_len = 63, .charset = CFG_NAME_CHARSET } }),
		  false, "\"tessd\""),
	CFG_FIELD(struct tessd_eal_cfg, in_memory, "in_memory", &bool_node, false, "false"),
	CFG_ARRAY_FIELD(struct tessd_eal_cfg, args, n_args, "args", &eal_args_node, false, "[]"),
	CFG_FIELD(struct tessd_eal_cfg, mbufs, "mbufs",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 1 << 26 } }), false, "0"),
	CFG_FIELD(struct tessd_eal_cfg, mbuf_size, "mbuf_size",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 16384 } }), false, "0"),
	{ 0 },
};
static const struct cfg_node eal_node = {
	.type = CFG_OBJECT,
	.obj = { .fields = eal_fields, .size = sizeof(struct tessd_eal_cfg) },
};

/* ---- control ---- */

static const struct cfg_node port_drivers_node = {
	.type = CFG_ARRAY,
	.arr = { .item = (&(const struct cfg_node){ .type = CFG_STRING,
						    .str = { .min_len = 1,
							     .max_len = TESS_NAME_LEN - 1,
							     .charset = CFG_NAME_CHARSET ":" } }),
		 .max = TESS_MAX_PORT_POLICY,
		 .item_size = TESS_NAME_LEN },
};
static const struct cfg_node port_dirs_node = {
	.type = CFG_ARRAY,
	.arr = { .item = (&(const struct cfg_node){
			 .type = CFG_STRING,
			 .str = { .min_len = 1, .max_len = TESS_DEVARGS_LEN - 1 },
			 .check = check_abs_path }),
		 .max = TESS_MAX_PORT_POLICY,
		 .item_size = TESS_DEVARGS_LEN },
};

static const struct cfg_field ctl_fields[] = {
	CFG_FIELD(struct tessd_ctl_cfg, socket, "socket",
		  (&(const struct cfg_node){
			  .type = CFG_STRING,
			  .str = { .min_len = 2, .max_len = TESS_SOCKPATH_LEN - 1 },
			  .check = check_abs_path }),
		  false, "\"/run/tessera/tessd.sock\""),
	CFG_FIELD(struct tessd_ctl_cfg, mode, "mode",
		  (&(const struct cfg_node){
			  .type = CFG_STRING,
			  .str = { .min_len = 3, .max_len = 4, .charset = "01234567" },
			  .check = check_mode }),
		  false, "\"0660\""),
	CFG_FIELD(struct tessd_ctl_cfg, group, "group",
		  (&(const struct cfg_node){
			  .type = CFG_STRING,
			  .str = { .max_len = TESS_NAME_LEN - 1, .charset = CFG_NAME_CHARSET } }),
		  false, "\"\""),
	CFG_FIELD(struct tessd_ctl_cfg, max_request, "max_request",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1024, 64 << 20 } }), false,
		  "1048576"),
	CFG_FIELD(struct tessd_ctl_cfg, max_depth, "max_depth",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 2, 512 } }), false, "32"),
	CFG_FIELD(struct tessd_ctl_cfg, max_clients, "max_clients",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 4096 } }), false, "64"),
	CFG_FIELD(struct tessd_ctl_cfg, idle_sec, "idle_sec",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 86400 } }), false, "60"),
	CFG_FIELD(struct tessd_ctl_cfg, max_buffered, "max_buffered",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 65536, 1 << 30 } }), false,
		  "16777216"),
	CFG_ARRAY_FIELD(struct tessd_ctl_cfg, port_drivers, n_port_drivers, "port_drivers",
			&port_drivers_node, false,
			"[\"net_tap\", \"net_vhost\", \"net_memif\", \"net_null\"]"),
	CFG_ARRAY_FIELD(struct tessd_ctl_cfg, port_dirs, n_port_dirs, "port_dirs", &port_dirs_node,
			false, "[\"/run/tessera\"]"),
	/* Where nat.logging may write (the API cannot change it: operator only). */
	CFG_ARRAY_FIELD(struct tessd_ctl_cfg, log_dirs, n_log_dirs, "log_dirs", &port_dirs_node,
			false, "[\"/var/log/tessera\"]"),
	/* Prometheus' scrapes of tessd itself, without tessctl (dataplane/metrics_http.c). */
	CFG_FIELD(struct tessd_ctl_cfg, metrics_listen, "metrics_listen",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = TESS_LISTEN_LEN - 1 },
					     .check = check_listen }),
		  false, "\"\""),
	{ 0 },
};
static const struct cfg_node ctl_node = {
	.type = CFG_OBJECT,
	.obj = { .fields = ctl_fields, .size = sizeof(struct tessd_ctl_cfg) },
};

/* ---- ports ---- */

static const struct cfg_node desc_node = {
	.type = CFG_INT,
	.i = { 64, 16384 },
	.check = check_pow2,
};
const char *const tess_port_modes[] = { "none", "access", "trunk", NULL };
static const char *const spoof_modes[] = { "auto", "on", "off", NULL };
const struct cfg_node tessd_opt_name_schema = {
	.type = CFG_STRING,
	.str = { .max_len = TESS_NAME_LEN - 1, .charset = CFG_NAME_CHARSET },
};
static const struct cfg_node group_names_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &tessd_group_ref_schema,
		 .max = TESS_VLAN_MAX,
		 .item_size = TESS_NAME_LEN },
};
static const struct cfg_node macs_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &tessd_mac_schema,
		 .max = TESS_MAX_ALLOWED_MACS,
		 .item_size = sizeof(struct cfg_mac) },
};
static const struct cfg_node ips_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &tessd_ip4_schema,
		 .max = TESS_MAX_ALLOWED_IPS,
		 .item_size = sizeof(uint32_t) },
};
static const struct cfg_node count_node = { .type = CFG_INT, .i = { 0, 1 << 24 } };
static int check_opt_abs_path(const void *val, char *why, size_t len)
{
	return ((const char *)val)[0] ? check_abs_path(val, why, len) : 0;
}
static const struct cfg_field vhost_fields[] = {
	CFG_FIELD(struct tessd_vhost_cfg, path, "path",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = TESS_SOCKPATH_LEN - 1 },
					     .check = check_opt_abs_path }),
		  false, "\"\""),
	CFG_FIELD(struct tessd_vhost_cfg, client, "client", &bool_node, false, "false"),
	{ 0 },
};
static const struct cfg_node vhost_node = {
	.type = CFG_OBJECT,
	.obj = { .fields = vhost_fields, .size = sizeof(struct tessd_vhost_cfg) },
};
static const struct cfg_field port_fields[] = {
	CFG_FIELD(struct tessd_port_cfg, name, "name", &tessd_name_schema, true, NULL),
	CFG_FIELD(
		struct tessd_port_cfg, devargs, "devargs",
		(&(const struct cfg_node){ .type = CFG_STRING,
					   .str = { .min_len = 0, .max_len = TESS_DEVARGS_LEN - 1 },
					   .check = check_devargs }),
		false, "\"\""),
	CFG_FIELD(struct tessd_port_cfg, vhost, "vhost", &vhost_node, false, "{}"),
	CFG_FIELD(struct tessd_port_cfg, mtu, "mtu",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 68, 16110 } }), false, "1500"),
	CFG_FIELD(struct tessd_port_cfg, rx_queues, "rx_queues",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 64 } }), false, "0"),
	CFG_FIELD(struct tessd_port_cfg, rx_desc, "rx_desc", &desc_node, false, "1024"),
	CFG_FIELD(struct tessd_port_cfg, tx_desc, "tx_desc", &desc_node, false, "1024"),
	CFG_FIELD(struct tessd_port_cfg, promiscuous, "promiscuous", &bool_node, false, "true"),
	CFG_FIELD(struct tessd_port_cfg, mode, "mode",
		  (&(const struct cfg_node){ .type = CFG_ENUM,
					     .str = { .max_len = 6, .choices = tess_port_modes } }),
		  false, "\"none\""),
	CFG_FIELD(struct tessd_port_cfg, group, "group", &tessd_opt_group_ref_schema, false,
		  "\"\""),
	CFG_ARRAY_FIELD(struct tessd_port_cfg, groups, n_groups, "groups", &group_names_node, false,
			"[]"),
	CFG_FIELD(struct tessd_port_cfg, all_groups, "all_groups", &bool_node, false, "false"),
	CFG_FIELD(struct tessd_port_cfg, native_group, "native_group", &tessd_opt_group_ref_schema,
		  false, "\"\""),
	CFG_FIELD(struct tessd_port_cfg, anti_spoof, "anti_spoof",
		  (&(const struct cfg_node){ .type = CFG_ENUM,
					     .str = { .max_len = 4, .choices = spoof_modes } }),
		  false, "\"auto\""),
	CFG_ARRAY_FIELD(struct tessd_port_cfg, allowed_macs, n_allowed_macs, "allowed_macs",
			&macs_node, false, "[]"),
	CFG_ARRAY_FIELD(struct tessd_port_cfg, allowed_ips, n_allowed_ips, "allowed_ips", &ips_node,
			false, "[]"),
	CFG_FIELD(struct tessd_port_cfg, mac_limit, "mac_limit", &count_node, false, "0"),
	CFG_FIELD(struct tessd_port_cfg, storm_pps, "storm_pps", &count_node, false, "0"),
	CFG_FIELD(struct tessd_port_cfg, tenant, "tenant", &tessd_tenant_schema, false, "\"\""),
	{ 0 },
};
const struct cfg_node tessd_port_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = port_fields, .size = sizeof(struct tessd_port_cfg) },
};
static const struct cfg_node ports_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &tessd_port_schema,
		 .max = TESS_MAX_PORTS,
		 .item_size = sizeof(struct tessd_port_cfg) },
};

/* ---- top ---- */

/* The modules' sections (tessd_config.h): each is optional, absent its schema's defaults. */
#define OBJ_FIELD(member, key, type, schema) \
	CFG_FIELD(struct tessd_cfg, member, key, &schema, false, "{}"),
#define ARR_FIELD(member, n, key, type, schema) \
	CFG_ARRAY_FIELD(struct tessd_cfg, member, n, key, &schema, false, "[]"),
static const struct cfg_field top_fields[] = {
	CFG_FIELD(struct tessd_cfg, eal, "eal", &eal_node, false, "{}"),
	CFG_FIELD(struct tessd_cfg, control, "control", &ctl_node, false, "{}"),
	CFG_ARRAY_FIELD(struct tessd_cfg, ports, n_ports, "ports", &ports_node, false, "[]"),
	/* A list of entries, not a call: */
	/* clang-format off */
	TESSD_CFG_SECTIONS(OBJ_FIELD, ARR_FIELD)
	{ 0 },
	/* clang-format on */
};
const struct cfg_node tessd_cfg_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = top_fields, .size = sizeof(struct tessd_cfg) },
};

void tessd_devargs_name(const char *devargs, char *name, size_t len)
{
	size_t n = strcspn(devargs, ",");

	if (n >= len)
		n = len - 1;
	memcpy(name, devargs, n);
	name[n] = '\0';
}

const struct tessd_port_cfg *tessd_cfg_port(const struct tessd_cfg *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->n_ports; i++)
		if (strcmp(cfg->ports[i].name, name) == 0)
			return &cfg->ports[i];
	return NULL;
}

int tessd_cfg_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	unsigned before = errs->n;
	char p[CFG_PATH_MAX];

	for (uint32_t i = 0; i < cfg->n_ports; i++) {
		char dev_i[TESS_DEVARGS_LEN], dev_j[TESS_DEVARGS_LEN];

		const struct tessd_port_cfg *pi = &cfg->ports[i];

		if (pi->devargs[0] == '\0' && pi->vhost.path[0] == '\0') {
			snprintf(p, sizeof(p), "/ports/%u/devargs", i);
			cfg_err_add(errs, EINVAL, p,
				    "missing: a port needs devargs (a DPDK device) or vhost.path "
				    "(a vhost-user socket of the vhost backend)");
		} else if (pi->devargs[0] && pi->vhost.path[0]) {
			snprintf(p, sizeof(p), "/ports/%u/vhost/path", i);
			cfg_err_add(errs, EINVAL, p,
				    "a port is a DPDK device (devargs) or a vhost-user socket "
				    "(vhost.path), not both");
		}
		tessd_devargs_name(cfg->ports[i].devargs, dev_i, sizeof(dev_i));
		for (uint32_t j = 0; j < i; j++) {
			if (pi->vhost.path[0] &&
			    strcmp(pi->vhost.path, cfg->ports[j].vhost.path) == 0) {
				snprintf(p, sizeof(p), "/ports/%u/vhost/path", i);
				cfg_err_add(errs, EEXIST, p, "socket '%s' is already port '%s'",
					    pi->vhost.path, cfg->ports[j].name);
			}
			tessd_devargs_name(cfg->ports[j].devargs, dev_j, sizeof(dev_j));
			if (strcmp(cfg->ports[i].name, cfg->ports[j].name) == 0) {
				snprintf(p, sizeof(p), "/ports/%u/name", i);
				cfg_err_add(errs, EEXIST, p,
					    "duplicate port name '%s' (also /ports/%u)",
					    cfg->ports[i].name, j);
			}
			if (dev_i[0] && strcmp(dev_i, dev_j) == 0) {
				snprintf(p, sizeof(p), "/ports/%u/devargs", i);
				cfg_err_add(errs, EEXIST, p, "device '%s' is already port '%s'",
					    dev_i, cfg->ports[j].name);
			}
		}
	}
	/*
	 * Each client holds a small request buffer from connecting, one that reads the
	 * longest request holds max_request + 1 (its newline): that must fit while every
	 * other client is connected, or a legitimate request is refused (ENOBUFS). Answers
	 * are held apart, not counted here.
	 */
	const struct tessd_ctl_cfg *cc = &cfg->control;
	uint64_t base =
		cc->max_request < TESS_CTL_CLIENT_BUF ? cc->max_request : TESS_CTL_CLIENT_BUF;
	uint64_t need = (uint64_t)cc->max_request + 1 + (uint64_t)(cc->max_clients - 1) * base;
	if (cc->max_buffered < need)
		cfg_err_add(errs, EINVAL, "/control/max_buffered",
			    "%u cannot hold one request of control.max_request (%u bytes and its "
			    "newline) while the %u other clients control.max_clients allows hold "
			    "%" PRIu64 " bytes each: at least %" PRIu64,
			    cc->max_buffered, cc->max_request, cc->max_clients - 1, base, need);
	return errs->n == before ? 0 : -EINVAL;
}

int tessd_cfg_decode(const json_t *doc, struct tessd_cfg *cfg, struct cfg_errs *errs,
		     tessd_cfg_validator validate)
{
	struct cfg_errs local;
	int rc;

	if (errs == NULL) {
		errs = &local;
		cfg_errs_init(errs);
	}
	rc = cfg_decode(&tessd_cfg_schema, doc, cfg, NULL, errs);
	if (rc < 0)
		return rc;
	rc = (validate ? validate : tessd_cfg_validate)(cfg, errs);
	if (rc < 0)
		tessd_cfg_free(cfg);
	return rc;
}

void tessd_cfg_free(struct tessd_cfg *cfg)
{
	cfg_free(&tessd_cfg_schema, cfg);
}

bool tessd_port_anti_spoof(const struct tessd_port_cfg *p)
{
	if (p->mode != TESS_PORT_ACCESS || p->anti_spoof == TESS_SPOOF_OFF)
		return false;
	return p->anti_spoof == TESS_SPOOF_ON || strncmp(p->devargs, "net_vhost", 9) == 0 ||
	       p->vhost.path[0] || p->n_allowed_macs || p->n_allowed_ips;
}
