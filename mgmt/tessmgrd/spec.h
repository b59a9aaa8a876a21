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
	char tessd_socket[108];              /* the host vswitch's control socket; "": no vswitch */
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

struct mgr_tenant_spec {
	char name[MGR_NAME_LEN];
	char org_id[MGR_NAME_LEN];
	char datacenter[MGR_NAME_LEN]; /* a site */
	uint16_t vlan;
	char vlan_name[MGR_NAME_LEN];
};

struct mgr_model_spec {
	char name[MGR_NAME_LEN];
	uint32_t vcpus;
	uint64_t memory_mb;
	char base_image[MGR_NAME_LEN]; /* a file in each site's storage */
	uint32_t cpu_shares;
};

struct mgr_quota_spec {
	char tenant[MGR_NAME_LEN];
	char model[MGR_NAME_LEN];
	uint32_t max_cpus;
	uint64_t max_memory_mb;
};

/* A schema check: an absolute path, or "" (schemas that need one say min_len 1). */
int mgr_check_abs_path(const void *val, char *why, size_t len);

extern const struct cfg_node mgr_site_schema;
extern const struct cfg_node mgr_host_schema;
extern const struct cfg_node mgr_tenant_schema;
extern const struct cfg_node mgr_model_schema;
extern const struct cfg_node mgr_quota_schema;

#endif
