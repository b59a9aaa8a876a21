/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What users give tessmgrd for each object, as the API and the store carry
 * it (JSON through the config schema engine, so every error has a path).
 */
#ifndef TESS_MGR_SPEC_H
#define TESS_MGR_SPEC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "cfg_schema.h"

#define MGR_NAME_LEN    64
#define MGR_URI_LEN     256
#define MGR_PREFIX_LEN  19  /* "255.255.255.255/32" */
#define MGR_CPULIST_LEN 256 /* a host's reserved_cpus, "0-1,32-33" */

struct mgr_site_spec {
	char name[MGR_NAME_LEN];
	double latitude, longitude;
	char (*client_prefixes)[MGR_PREFIX_LEN];
	uint32_t n_client_prefixes;
	char storage[PATH_MAX]; /* base images and overlays of this site */
};

/* A libvirt test-driver host described by its shape (tessmgrd writes the driver's XML). */
struct mgr_test_host_spec {
	uint32_t sockets, cores, threads;
	uint64_t memory_mb;
};

struct mgr_host_spec {
	char name[MGR_NAME_LEN];
	char uri[MGR_URI_LEN]; /* libvirt URI; "" with test_host: a test-driver host */
	char site[MGR_NAME_LEN];
	bool shared;
	double memory_overalloc;
	double vcpu_ratio;
	uint16_t *vlans;
	uint32_t n_vlans;
	char tessd[MGR_URI_LEN];             /* its vswitch: unix:///path or ssh://...; "": none */
	char vhost_dir[PATH_MAX];            /* where desktops' vhost-user sockets go */
	struct mgr_test_host_spec test_host; /* sockets 0: not a test host */
	/* CPUs (a list, "0-1") kept for the host's tessd and system: no tenant partition has a
	 * core with one of them. */
	char reserved_cpus[MGR_CPULIST_LEN];
	uint32_t max_ports;         /* desktop ports its tessd takes; 0: no limit */
	uint8_t virt_type;          /* enum mgr_virt_type: a real host's domain type */
	char console_dir[PATH_MAX]; /* a real host's serial console logs (desk<id>.log) */
};

/* A real host's libvirt domain type: KVM, or QEMU's TCG where KVM does not work. */
enum mgr_virt_type { MGR_VIRT_KVM, MGR_VIRT_QEMU };

/*
 * A provider-edge router: a tessd serving tenants' VRFs, reached over its
 * control socket, with trunk ports toward the hosts (vswitch trunks of every
 * group: each tenant's group there holds its gateway, an IRB interface) and,
 * for NAT, the VRF of its internet-facing interface.
 */
#define MGR_TESSD_NAME_LEN 32 /* tessd's names (TESS_NAME_LEN) */
#define MGR_MAX_TRUNKS     16
struct mgr_router_spec {
	char name[MGR_NAME_LEN];
	char site[MGR_NAME_LEN];
	char tessd[MGR_URI_LEN]; /* the PE tessd: unix:///path or ssh://... (tessd_addr.h) */
	char (*trunk_ports)[MGR_TESSD_NAME_LEN]; /* one per site or host link, unique */
	uint32_t n_trunk_ports;
	char internet_vrf[MGR_TESSD_NAME_LEN]; /* NAT's outside VRF; "": no NAT on this PE */
};

struct mgr_net_route {
	struct cfg_prefix4 prefix;
	uint32_t via; /* host order */
};

enum mgr_fw_action { MGR_FW_ACCEPT, MGR_FW_DROP, MGR_FW_REJECT };
struct mgr_net_fw_rule {
	uint8_t action; /* enum mgr_fw_action */
	char proto[8];  /* any, tcp, udp, icmp */
	struct cfg_prefix4 src, dst;
	char dport[12]; /* "N" or "N-M"; "": any */
};

/*
 * A tenant's network: what tessmgrd programs on its PE routers (a VRF, the
 * enterprise interface, the desktops' gateway on the trunk's VLAN
 * sub-interface, routes, DHCP, NAT, a firewall rule set) and its hosts (the
 * port group of its VLAN). No routers: the tenant has no network programmed.
 */
struct mgr_net_enterprise {
	char port[MGR_TESSD_NAME_LEN]; /* the PE's port toward the enterprise */
	uint16_t vlan;                 /* 0: the port itself, else its VLAN sub-interface */
	struct cfg_prefix4 address;    /* the PE's address and prefix there */
	struct mgr_net_route *routes;  /* toward the enterprise's networks */
	uint32_t n_routes;
};
struct mgr_net_dhcp {
	uint32_t pool_start, pool_end; /* 0: no DHCP */
	uint32_t *dns;
	uint32_t n_dns;
	uint32_t lease_sec;
};
struct mgr_net_nat {
	uint32_t address;              /* a public address of its own; or */
	char pool[MGR_TESSD_NAME_LEN]; /* a share of the PE's NAT pool */
	uint32_t max_blocks;           /* of the pool's port blocks (0: tessd's default) */
};
/* What is neither IPv4 nor ARP between desktops: as the set's default, or on its own. */
enum mgr_lan_other { MGR_LAN_OTHER_SAME, MGR_LAN_OTHER_ACCEPT, MGR_LAN_OTHER_DROP };
/* Between a tenant's desktops: a rule set on its group at each host (accept or drop). */
struct mgr_net_lan_fw {
	uint8_t default_action;  /* when no rule matches */
	uint8_t other_protocols; /* enum mgr_lan_other */
	struct mgr_net_fw_rule *rules;
	uint32_t n_rules;
};
struct mgr_net_firewall {
	uint8_t default_action; /* toward the desktops, when no rule matches */
	struct mgr_net_fw_rule *rules;
	uint32_t n_rules;
	struct mgr_net_lan_fw between_desktops;
};
struct mgr_network_spec {
	char (*routers)[MGR_NAME_LEN];
	uint32_t n_routers;
	struct mgr_net_enterprise enterprise;
	struct cfg_prefix4 gateway; /* the desktops' gateway: address and the desktop subnet */
	struct mgr_net_dhcp dhcp;
	struct mgr_net_nat nat;
	struct mgr_net_firewall firewall;
};

struct mgr_tenant_spec {
	char name[MGR_NAME_LEN];
	char org_id[MGR_NAME_LEN];
	char datacenter[MGR_NAME_LEN]; /* a site */
	uint16_t vlan;
	char vlan_name[MGR_NAME_LEN];
	struct mgr_network_spec network;
};

#define MGR_CMDLINE_LEN 1024

struct mgr_model_spec {
	char name[MGR_NAME_LEN];
	uint32_t vcpus;
	uint64_t memory_mb;
	char base_image[MGR_NAME_LEN]; /* a file in each site's storage */
	uint32_t cpu_shares;
	/* Direct kernel boot (files on the host; "" boots the disk): tiny test desktops. */
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];
	char cmdline[MGR_CMDLINE_LEN];
};

struct mgr_quota_spec {
	char tenant[MGR_NAME_LEN];
	char model[MGR_NAME_LEN];
	uint32_t max_cpus;
	uint64_t max_memory_mb;
};

/*
 * A workflow task (seed 001): a program the provider runs from a job's thread at one point of
 * its jobs (tasks.h), for every desktop or those of one model and/or tenant.
 */
enum mgr_task_when {
	MGR_TASK_BEFORE_CREATE,
	MGR_TASK_AFTER_CREATE,
	MGR_TASK_BEFORE_DELETE,
	MGR_TASK_AFTER_MOVE,
	MGR_TASK_WHENS
};
#define MGR_TASK_MAX_ARGS 32
#define MGR_TASK_ARG_LEN  256
#define MGR_TASK_MAX_OK   16
struct mgr_task_spec {
	char name[MGR_NAME_LEN];
	uint8_t when;              /* enum mgr_task_when */
	char model[MGR_NAME_LEN];  /* "": every model */
	char tenant[MGR_NAME_LEN]; /* "": every tenant */
	char program[PATH_MAX];
	char (*args)[MGR_TASK_ARG_LEN]; /* ${desktop} ${tenant} ${host} ${address} substituted */
	uint32_t n_args;
	uint32_t timeout_sec;
	int32_t *ok_codes; /* exit codes that mean success */
	uint32_t n_ok_codes;
	bool continue_on_error;
	bool enabled;
};
extern const char *const mgr_task_whens[];

/* A schema check: an absolute path, or "" (schemas that need one say min_len 1). */
int mgr_check_abs_path(const void *val, char *why, size_t len);
/* A task argument's ${variables}, in this order (tasks.h's struct mgr_task_vars). */
enum {
	MGR_TASK_VAR_DESKTOP,
	MGR_TASK_VAR_TENANT,
	MGR_TASK_VAR_HOST,
	MGR_TASK_VAR_ADDRESS,
	MGR_TASK_VAR_IP,
	MGR_TASK_VARS
};
extern const char *const mgr_task_var_names[MGR_TASK_VARS];
/* The variable ${NAME} that s starts with: its index (its length in *len), or -1. */
int mgr_task_var_at(const char *s, size_t *len);
/* A schema check: a task argument names only known ${variables}. */
int mgr_task_check_arg(const void *val, char *why, size_t len);

extern const struct cfg_node mgr_site_schema;
extern const struct cfg_node mgr_host_schema;
extern const struct cfg_node mgr_tenant_schema;
extern const struct cfg_node mgr_router_schema;
extern const struct cfg_node mgr_network_schema;
extern const char *const mgr_fw_actions[];
extern const struct cfg_node mgr_model_schema;
extern const struct cfg_node mgr_quota_schema;
extern const struct cfg_node mgr_task_schema;

#endif
