/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every section of tessd's config shares: name and address lengths, the
 * leaf schemas of names, tenants and addresses, references to named elements.
 */
#ifndef TESS_TESSD_BASE_H
#define TESS_TESSD_BASE_H

#include <stdbool.h>
#include <stddef.h>
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
#define TESS_PROTECTED_IPS    4  /* a group's protected_ips */
#define TESS_MAX_PORT_POLICY  16 /* allowed drivers, allowed directories */
#define TESS_PREFIX_LEN       19 /* "255.255.255.255/32" */
#define TESS_PATH_LEN         256

struct tessd_cfg; /* tessd_config.h: the whole config, each section a member */

extern const struct cfg_node tessd_name_schema;
extern const struct cfg_node tessd_tenant_schema;   /* a tenant label, or "" */
extern const struct cfg_node tessd_opt_name_schema; /* a name, or "" */
extern const struct cfg_node tessd_mac_schema;
extern const struct cfg_node tessd_ip4_schema;     /* "a.b.c.d" */
extern const struct cfg_node tessd_opt_ip4_schema; /* "a.b.c.d", or "" (0) */
extern const struct cfg_node tessd_prefix_schema;  /* "a.b.c.d/len" */
/* References to named elements (cfg_check_refs), required or optional (""). */
extern const struct cfg_node tessd_port_ref_schema, tessd_opt_port_ref_schema;
extern const struct cfg_node tessd_group_ref_schema, tessd_opt_group_ref_schema;
extern const struct cfg_node tessd_vrf_ref_schema, tessd_opt_vrf_ref_schema;

/* The params of API requests that name one object. */
struct tessd_name_params {
	char name[TESS_NAME_LEN];
};
extern const struct cfg_node tessd_name_params_schema;

#endif
