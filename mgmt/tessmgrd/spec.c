/* SPDX-License-Identifier: BSD-3-Clause */
/* Schemas of tessmgrd's objects: what the API accepts and the store keeps. */
#include "spec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "tessd_addr.h"
#include "tessd_config.h"

#define NAME_CHARSET CFG_NAME_CHARSET

static const struct cfg_node name_node = {
	.type = CFG_STRING,
	.str = { .min_len = 1, .max_len = MGR_NAME_LEN - 1, .charset = NAME_CHARSET },
};

int mgr_check_abs_path(const void *val, char *why, size_t len)
{
	const char *s = val;

	if (s[0] && s[0] != '/') {
		snprintf(why, len, "'%s' is not an absolute path", s);
		return EINVAL;
	}
	return 0;
}

static const struct cfg_node path_node = {
	.type = CFG_STRING,
	.str = { .max_len = PATH_MAX - 1 },
	.check = mgr_check_abs_path,
};

static int check_prefix(const void *val, char *why, size_t len)
{
	struct cfg_prefix4 pf;

	if (cfg_parse_prefix4(val, &pf) < 0) {
		snprintf(why, len, "'%s' is not an IPv4 prefix (a.b.c.d/len)", (const char *)val);
		return EINVAL;
	}
	return 0;
}

/* ---- sites ---- */

static const struct cfg_node prefixes_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &(const struct cfg_node){ .type = CFG_STRING,
						   .str = { .min_len = 9,
							    .max_len = MGR_PREFIX_LEN - 1,
							    .charset = "0123456789./" },
						   .check = check_prefix },
		 .max = 32,
		 .item_size = MGR_PREFIX_LEN },
};
static const struct cfg_field site_fields[] = {
	CFG_FIELD(struct mgr_site_spec, name, "name", &name_node, true, NULL),
	CFG_FIELD(struct mgr_site_spec, latitude, "latitude",
		  (&(const struct cfg_node){ .type = CFG_NUMBER, .num = { -90, 90 } }), true, NULL),
	CFG_FIELD(struct mgr_site_spec, longitude, "longitude",
		  (&(const struct cfg_node){ .type = CFG_NUMBER, .num = { -180, 180 } }), true,
		  NULL),
	CFG_ARRAY_FIELD(struct mgr_site_spec, client_prefixes, n_client_prefixes, "client_prefixes",
			&prefixes_node, false, "[]"),
	CFG_FIELD(struct mgr_site_spec, storage, "storage", &path_node, true, NULL),
	{ 0 },
};
const struct cfg_node mgr_site_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = site_fields, .size = sizeof(struct mgr_site_spec) },
};

/* ---- hosts ---- */

static const struct cfg_field test_host_fields[] = {
	CFG_FIELD(struct mgr_test_host_spec, sockets, "sockets",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 16 } }), false, "0"),
	CFG_FIELD(struct mgr_test_host_spec, cores, "cores",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 256 } }), false, "1"),
	CFG_FIELD(struct mgr_test_host_spec, threads, "threads",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 8 } }), false, "1"),
	CFG_FIELD(struct mgr_test_host_spec, memory_mb, "memory_mb",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, INT64_C(1) << 32 } }),
		  false, "0"),
	{ 0 },
};

static int check_host(const void *val, char *why, size_t len)
{
	const struct mgr_host_spec *h = val;
	const struct mgr_test_host_spec *t = &h->test_host;

	if (!h->uri[0] == !t->sockets) {
		snprintf(why, len,
			 "a host has a libvirt uri or a test_host shape: give one of them");
		return EINVAL;
	}
	if (t->sockets && (uint64_t)t->sockets * t->cores * t->threads > 1024) {
		snprintf(why, len, "test_host: at most 1024 CPUs");
		return ERANGE;
	}
	if (t->sockets && t->memory_mb == 0) {
		snprintf(why, len, "test_host: memory_mb is needed");
		return EINVAL;
	}
	return 0;
}

static int check_cpu_list(const void *val, char *why, size_t len)
{
	mgr_cpuset s;

	if (mgr_cpuset_parse(val, MGR_MAX_CPUS, &s) < 0) {
		snprintf(why, len, "'%s' is not a CPU list (\"0-1,8\", CPUs below %u)",
			 (const char *)val, MGR_MAX_CPUS);
		return EINVAL;
	}
	return 0;
}

static const char *const virt_types[] = { "kvm", "qemu", NULL };

static const struct cfg_node vlans_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &(const struct cfg_node){ .type = CFG_INT, .i = { 1, 4094 } },
		 .max = 4094,
		 .item_size = sizeof(uint16_t) },
};
static const struct cfg_field host_fields[] = {
	CFG_FIELD(struct mgr_host_spec, name, "name", &name_node, true, NULL),
	CFG_FIELD(struct mgr_host_spec, uri, "uri",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = MGR_URI_LEN - 1 } }),
		  false, "\"\""),
	CFG_FIELD(struct mgr_host_spec, site, "site", &name_node, true, NULL),
	CFG_FIELD(struct mgr_host_spec, shared, "shared",
		  &(const struct cfg_node){ .type = CFG_BOOL }, false, "true"),
	CFG_FIELD(struct mgr_host_spec, memory_overalloc, "memory_overalloc",
		  (&(const struct cfg_node){ .type = CFG_NUMBER, .num = { 0.1, 10 } }), false,
		  "1.0"),
	CFG_FIELD(struct mgr_host_spec, vcpu_ratio, "vcpu_ratio",
		  (&(const struct cfg_node){ .type = CFG_NUMBER, .num = { 0.1, 64 } }), false,
		  "1.0"),
	CFG_ARRAY_FIELD(struct mgr_host_spec, vlans, n_vlans, "vlans", &vlans_node, false, "[]"),
	CFG_FIELD(struct mgr_host_spec, tessd, "tessd",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = MGR_URI_LEN - 1 },
					     .check = mgr_tessd_addr_check }),
		  false, "\"\""),
	CFG_FIELD(struct mgr_host_spec, vhost_dir, "vhost_dir", &path_node, false,
		  "\"/run/tessera/vhost\""),
	CFG_FIELD(
		struct mgr_host_spec, test_host, "test_host",
		(&(const struct cfg_node){ .type = CFG_OBJECT,
					   .obj = { .fields = test_host_fields,
						    .size = sizeof(struct mgr_test_host_spec) } }),
		false, "{}"),
	CFG_FIELD(struct mgr_host_spec, reserved_cpus, "reserved_cpus",
		  (&(const struct cfg_node){
			  .type = CFG_STRING,
			  .str = { .max_len = MGR_CPULIST_LEN - 1, .charset = "0123456789,-" },
			  .check = check_cpu_list }),
		  false, "\"\""),
	CFG_FIELD(struct mgr_host_spec, max_ports, "max_ports",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 1 << 20 } }), false, "0"),
	CFG_FIELD(struct mgr_host_spec, virt_type, "virt_type",
		  (&(const struct cfg_node){ .type = CFG_ENUM,
					     .str = { .max_len = 4, .choices = virt_types } }),
		  false, "\"kvm\""),
	CFG_FIELD(struct mgr_host_spec, console_dir, "console_dir", &path_node, false,
		  "\"/var/log/tessera/console\""),
	{ 0 },
};
const struct cfg_node mgr_host_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = host_fields, .size = sizeof(struct mgr_host_spec) },
	.check = check_host,
};

/* ---- provider-edge routers ---- */

/* tessd's names: ports, VRFs, NAT pools (31 characters). */
static const struct cfg_node tessd_name_node = {
	.type = CFG_STRING,
	.str = { .min_len = 1, .max_len = MGR_TESSD_NAME_LEN - 1, .charset = NAME_CHARSET },
};
static const struct cfg_node opt_tessd_name_node = {
	.type = CFG_STRING,
	.str = { .max_len = MGR_TESSD_NAME_LEN - 1, .charset = NAME_CHARSET },
};

static const struct cfg_field router_fields[] = {
	CFG_FIELD(struct mgr_router_spec, name, "name", &name_node, true, NULL),
	CFG_FIELD(struct mgr_router_spec, site, "site", &name_node, true, NULL),
	CFG_FIELD(struct mgr_router_spec, tessd, "tessd",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .min_len = 1, .max_len = MGR_URI_LEN - 1 },
					     .check = mgr_tessd_addr_check }),
		  true, NULL),
	CFG_ARRAY_FIELD(struct mgr_router_spec, trunk_ports, n_trunk_ports, "trunk_ports",
			(&(const struct cfg_node){ .type = CFG_ARRAY,
						   .arr = { .item = &tessd_name_node,
							    .min = 1,
							    .max = MGR_MAX_TRUNKS,
							    .item_size = MGR_TESSD_NAME_LEN } }),
			true, NULL),
	CFG_FIELD(struct mgr_router_spec, internet_vrf, "internet_vrf", &opt_tessd_name_node, false,
		  "\"\""),
	{ 0 },
};
const struct cfg_node mgr_router_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = router_fields, .size = sizeof(struct mgr_router_spec) },
};

/* ---- tenants' networks ---- */

static const struct cfg_node ip4_node = {
	.type = CFG_IP4,
	.str = { .min_len = 7, .max_len = 15, .charset = "0123456789." },
};
static const struct cfg_node opt_ip4_node = {
	.type = CFG_IP4,
	.str = { .max_len = 15, .charset = "0123456789." },
};
static const struct cfg_node prefix4_node = {
	.type = CFG_PREFIX4,
	.str = { .min_len = 9, .max_len = MGR_PREFIX_LEN - 1, .charset = "0123456789./" },
};
static const struct cfg_node opt_prefix4_node = {
	.type = CFG_PREFIX4,
	.str = { .max_len = MGR_PREFIX_LEN - 1, .charset = "0123456789./" },
};
const char *const mgr_fw_actions[] = { "accept", "drop", "reject", NULL };
static const struct cfg_node fw_action_node = {
	.type = CFG_ENUM,
	.str = { .max_len = 6, .choices = mgr_fw_actions },
};
static const char *const fw_protos[] = { "any", "tcp", "udp", "icmp", NULL };

static int check_proto(const void *val, char *why, size_t len)
{
	for (unsigned i = 0; fw_protos[i]; i++)
		if (strcmp(val, fw_protos[i]) == 0)
			return 0;
	snprintf(why, len, "'%s' is not any, tcp, udp or icmp", (const char *)val);
	return EINVAL;
}

static int check_ports(const void *val, char *why, size_t len)
{
	const char *s = val;
	unsigned lo, hi;
	int n = 0;

	if (s[0] == '\0')
		return 0;
	if ((sscanf(s, "%u-%u%n", &lo, &hi, &n) == 2 && (size_t)n == strlen(s) && lo <= hi &&
	     hi <= 65535) ||
	    (sscanf(s, "%u%n", &lo, &n) == 1 && (size_t)n == strlen(s) && lo <= 65535))
		return 0;
	snprintf(why, len, "'%s' is not a port or a range N-M of ports", s);
	return EINVAL;
}

static const struct cfg_field route_fields[] = {
	CFG_FIELD(struct mgr_net_route, prefix, "prefix", &prefix4_node, true, NULL),
	CFG_FIELD(struct mgr_net_route, via, "via", &ip4_node, true, NULL),
	{ 0 },
};
static const struct cfg_field ent_fields[] = {
	CFG_FIELD(struct mgr_net_enterprise, port, "port", &opt_tessd_name_node, false, "\"\""),
	CFG_FIELD(struct mgr_net_enterprise, vlan, "vlan", CFG_INT_NODE(0, 4094), false, "0"),
	CFG_FIELD(struct mgr_net_enterprise, address, "address", &opt_prefix4_node, false, "\"\""),
	CFG_ARRAY_FIELD(struct mgr_net_enterprise, routes, n_routes, "routes",
			CFG_ARR_NODE(CFG_OBJ_NODE(route_fields, struct mgr_net_route), 64,
				     struct mgr_net_route),
			false, "[]"),
	{ 0 },
};
static const struct cfg_field dhcp_fields[] = {
	CFG_FIELD(struct mgr_net_dhcp, pool_start, "pool_start", &opt_ip4_node, false, "\"\""),
	CFG_FIELD(struct mgr_net_dhcp, pool_end, "pool_end", &opt_ip4_node, false, "\"\""),
	CFG_ARRAY_FIELD(struct mgr_net_dhcp, dns, n_dns, "dns",
			CFG_ARR_NODE(&ip4_node, 4, uint32_t), false, "[]"),
	CFG_FIELD(struct mgr_net_dhcp, lease_sec, "lease_sec", CFG_INT_NODE(60, 31536000), false,
		  "3600"),
	{ 0 },
};
static const struct cfg_field nat_fields[] = {
	CFG_FIELD(struct mgr_net_nat, address, "address", &opt_ip4_node, false, "\"\""),
	CFG_FIELD(struct mgr_net_nat, pool, "pool", &opt_tessd_name_node, false, "\"\""),
	CFG_FIELD(struct mgr_net_nat, max_blocks, "max_blocks", CFG_INT_NODE(0, 1 << 20), false,
		  "0"),
	{ 0 },
};
static const struct cfg_field rule_fields[] = {
	CFG_FIELD(struct mgr_net_fw_rule, action, "action", &fw_action_node, true, NULL),
	CFG_FIELD(struct mgr_net_fw_rule, proto, "proto",
		  (&(const struct cfg_node){
			  .type = CFG_STRING, .str = { .max_len = 7 }, .check = check_proto }),
		  false, "\"any\""),
	CFG_FIELD(struct mgr_net_fw_rule, src, "src", &opt_prefix4_node, false, "\"\""),
	CFG_FIELD(struct mgr_net_fw_rule, dst, "dst", &opt_prefix4_node, false, "\"\""),
	CFG_FIELD(struct mgr_net_fw_rule, dport, "dport",
		  (&(const struct cfg_node){
			  .type = CFG_STRING, .str = { .max_len = 11 }, .check = check_ports }),
		  false, "\"\""),
	{ 0 },
};
static const struct cfg_node fw_rules_node = {
	.type = CFG_ARRAY,
	.arr = { .item = CFG_OBJ_NODE(rule_fields, struct mgr_net_fw_rule),
		 .max = 256,
		 .item_size = sizeof(struct mgr_net_fw_rule) },
};
static const char *const lan_others[] = { "same", "accept", "drop", NULL };
static const struct cfg_field lan_fw_fields[] = {
	CFG_FIELD(struct mgr_net_lan_fw, default_action, "default", &fw_action_node, false,
		  "\"accept\""),
	CFG_FIELD(struct mgr_net_lan_fw, other_protocols, "other_protocols",
		  (&(const struct cfg_node){ .type = CFG_ENUM,
					     .str = { .max_len = 6, .choices = lan_others } }),
		  false, "\"same\""),
	CFG_ARRAY_FIELD(struct mgr_net_lan_fw, rules, n_rules, "rules", &fw_rules_node, false,
			"[]"),
	{ 0 },
};
static const struct cfg_field fw_fields[] = {
	CFG_FIELD(struct mgr_net_firewall, default_action, "default", &fw_action_node, false,
		  "\"accept\""),
	CFG_ARRAY_FIELD(struct mgr_net_firewall, rules, n_rules, "rules", &fw_rules_node, false,
			"[]"),
	CFG_FIELD(struct mgr_net_firewall, between_desktops, "between_desktops",
		  CFG_OBJ_NODE(lan_fw_fields, struct mgr_net_lan_fw), false, "{}"),
	{ 0 },
};
static const struct cfg_field network_fields[] = {
	CFG_ARRAY_FIELD(
		struct mgr_network_spec, routers, n_routers, "routers",
		(&(const struct cfg_node){
			.type = CFG_ARRAY,
			.arr = { .item = &name_node, .max = 8, .item_size = MGR_NAME_LEN } }),
		false, "[]"),
	CFG_FIELD(struct mgr_network_spec, enterprise, "enterprise",
		  CFG_OBJ_NODE(ent_fields, struct mgr_net_enterprise), false, "{}"),
	CFG_FIELD(struct mgr_network_spec, gateway, "gateway", &opt_prefix4_node, false, "\"\""),
	CFG_FIELD(struct mgr_network_spec, dhcp, "dhcp",
		  CFG_OBJ_NODE(dhcp_fields, struct mgr_net_dhcp), false, "{}"),
	CFG_FIELD(struct mgr_network_spec, nat, "nat", CFG_OBJ_NODE(nat_fields, struct mgr_net_nat),
		  false, "{}"),
	CFG_FIELD(struct mgr_network_spec, firewall, "firewall",
		  CFG_OBJ_NODE(fw_fields, struct mgr_net_firewall), false, "{}"),
	{ 0 },
};
const struct cfg_node mgr_network_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = network_fields, .size = sizeof(struct mgr_network_spec) },
};

/* ---- tenants ---- */

static const struct cfg_field tenant_fields[] = {
	CFG_FIELD(struct mgr_tenant_spec, name, "name", &name_node, true, NULL),
	CFG_FIELD(struct mgr_tenant_spec, org_id, "org_id", &name_node, true, NULL),
	CFG_FIELD(struct mgr_tenant_spec, datacenter, "datacenter", &name_node, true, NULL),
	CFG_FIELD(struct mgr_tenant_spec, vlan, "vlan",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 4094 } }), true, NULL),
	CFG_FIELD(struct mgr_tenant_spec, vlan_name, "vlan_name", &name_node, true, NULL),
	CFG_FIELD(struct mgr_tenant_spec, network, "network", &mgr_network_schema, false, "{}"),
	{ 0 },
};
const struct cfg_node mgr_tenant_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = tenant_fields, .size = sizeof(struct mgr_tenant_spec) },
};

/* ---- desktop models ---- */

static const struct cfg_field model_fields[] = {
	CFG_FIELD(struct mgr_model_spec, name, "name", &name_node, true, NULL),
	CFG_FIELD(struct mgr_model_spec, vcpus, "vcpus",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 256 } }), true, NULL),
	CFG_FIELD(struct mgr_model_spec, memory_mb, "memory_mb",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 64, INT64_C(1) << 24 } }),
		  true, NULL),
	CFG_FIELD(struct mgr_model_spec, base_image, "base_image", &name_node, true, NULL),
	CFG_FIELD(struct mgr_model_spec, cpu_shares, "cpu_shares",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 2, 262144 } }), false, "1024"),
	CFG_FIELD(struct mgr_model_spec, kernel, "kernel", &path_node, false, "\"\""),
	CFG_FIELD(struct mgr_model_spec, initrd, "initrd", &path_node, false, "\"\""),
	CFG_FIELD(struct mgr_model_spec, cmdline, "cmdline",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = MGR_CMDLINE_LEN - 1 } }),
		  false, "\"\""),
	{ 0 },
};
const struct cfg_node mgr_model_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = model_fields, .size = sizeof(struct mgr_model_spec) },
};

/* ---- quotas ---- */

static const struct cfg_field quota_fields[] = {
	CFG_FIELD(struct mgr_quota_spec, tenant, "tenant", &name_node, true, NULL),
	CFG_FIELD(struct mgr_quota_spec, model, "model", &name_node, true, NULL),
	CFG_FIELD(struct mgr_quota_spec, max_cpus, "max_cpus",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, 1 << 24 } }), true, NULL),
	CFG_FIELD(struct mgr_quota_spec, max_memory_mb, "max_memory_mb",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 0, INT64_C(1) << 40 } }), true,
		  NULL),
	{ 0 },
};
const struct cfg_node mgr_quota_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = quota_fields, .size = sizeof(struct mgr_quota_spec) },
};

/* ---- workflow tasks ---- */

const char *const mgr_task_whens[] = { "before_create", "after_create", "before_delete",
				       "after_move", NULL };
static const struct cfg_node opt_name_node = {
	.type = CFG_STRING,
	.str = { .max_len = MGR_NAME_LEN - 1, .charset = NAME_CHARSET },
};
const char *const mgr_task_var_names[MGR_TASK_VARS] = {
	[MGR_TASK_VAR_DESKTOP] = "desktop", [MGR_TASK_VAR_TENANT] = "tenant",
	[MGR_TASK_VAR_HOST] = "host",       [MGR_TASK_VAR_ADDRESS] = "address",
	[MGR_TASK_VAR_IP] = "ip",
};

int mgr_task_var_at(const char *s, size_t *len)
{
	for (int i = 0; s[0] == '$' && s[1] == '{' && i < MGR_TASK_VARS; i++) {
		size_t n = strlen(mgr_task_var_names[i]);
		if (strncmp(s + 2, mgr_task_var_names[i], n) == 0 && s[2 + n] == '}') {
			*len = n + 3;
			return i;
		}
	}
	return -1;
}

/* Only the known variables: a typo would otherwise reach the program as is. */
int mgr_task_check_arg(const void *val, char *why, size_t len)
{
	for (const char *s = strstr(val, "${"); s; s = strstr(s + 2, "${")) {
		size_t skip;
		if (mgr_task_var_at(s, &skip) >= 0)
			continue;
		int n = snprintf(why, len, "unknown variable at '%.40s': known are", s);
		for (unsigned i = 0; i < MGR_TASK_VARS && n > 0 && (size_t)n < len; i++)
			n += snprintf(why + n, len - (size_t)n, " ${%s}", mgr_task_var_names[i]);
		return EINVAL;
	}
	return 0;
}
static const struct cfg_field task_fields[] = {
	CFG_FIELD(struct mgr_task_spec, name, "name", &name_node, true, NULL),
	CFG_FIELD(struct mgr_task_spec, when, "when",
		  (&(const struct cfg_node){ .type = CFG_ENUM,
					     .str = { .max_len = 13, .choices = mgr_task_whens } }),
		  true, NULL),
	CFG_FIELD(struct mgr_task_spec, model, "model", &opt_name_node, false, "\"\""),
	CFG_FIELD(struct mgr_task_spec, tenant, "tenant", &opt_name_node, false, "\"\""),
	CFG_FIELD(struct mgr_task_spec, program, "program",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .min_len = 1, .max_len = PATH_MAX - 1 },
					     .check = mgr_check_abs_path }),
		  true, NULL),
	CFG_ARRAY_FIELD(struct mgr_task_spec, args, n_args, "args",
			(&(const struct cfg_node){
				.type = CFG_ARRAY,
				.arr = { .item =
						 &(const struct cfg_node){
							 .type = CFG_STRING,
							 .str = { .max_len = MGR_TASK_ARG_LEN - 1 },
							 .check = mgr_task_check_arg },
					 .max = MGR_TASK_MAX_ARGS,
					 .item_size = MGR_TASK_ARG_LEN } }),
			false, "[]"),
	CFG_FIELD(struct mgr_task_spec, timeout_sec, "timeout_sec",
		  (&(const struct cfg_node){ .type = CFG_INT, .i = { 1, 3600 } }), false, "60"),
	CFG_ARRAY_FIELD(struct mgr_task_spec, ok_codes, n_ok_codes, "ok_codes",
			(&(const struct cfg_node){
				.type = CFG_ARRAY,
				.arr = { .item = &(const struct cfg_node){ .type = CFG_INT,
									   .i = { 0, 255 } },
					 .min = 1,
					 .max = MGR_TASK_MAX_OK,
					 .item_size = sizeof(int32_t) } }),
			false, "[0]"),
	CFG_FIELD(struct mgr_task_spec, continue_on_error, "continue_on_error",
		  (&(const struct cfg_node){ .type = CFG_BOOL }), false, "false"),
	CFG_FIELD(struct mgr_task_spec, enabled, "enabled",
		  (&(const struct cfg_node){ .type = CFG_BOOL }), false, "true"),
	{ 0 },
};
const struct cfg_node mgr_task_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = task_fields, .size = sizeof(struct mgr_task_spec) },
};
