/* SPDX-License-Identifier: BSD-3-Clause */
/* tessd's configuration: the startup file and the running state it saves. */
#ifndef TESS_TESSD_CONFIG_H
#define TESS_TESSD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg_schema.h"

#define TESS_NAME_LEN     32  /* names of ports, groups, VRFs (31 chars + NUL) */
#define TESS_DEVARGS_LEN  256 /* DPDK devargs */
#define TESS_EAL_ARG_LEN  256
#define TESS_SOCKPATH_LEN 108 /* sizeof(sun_path) */
#define TESS_MAX_WORKERS  64
#define TESS_MAX_PORTS    32 /* Debian's DPDK is built with RTE_MAX_ETHPORTS = 32 */

struct tessd_eal_cfg {
	uint16_t main_cpu;
	uint16_t *workers; /* CPU of each worker lcore; a CPU may repeat */
	uint32_t n_workers;
	uint32_t memory_mb;
	char hugepages[8]; /* auto | on | off */
	char file_prefix[64];
	bool in_memory;
	char (*args)[TESS_EAL_ARG_LEN];
	uint32_t n_args;
};

struct tessd_ctl_cfg {
	char socket[TESS_SOCKPATH_LEN];
	char mode[8]; /* octal, e.g. "0660" */
	char group[TESS_NAME_LEN];
	uint32_t max_request;
	uint32_t max_depth;
	uint32_t max_clients;
};

struct tessd_port_cfg {
	char name[TESS_NAME_LEN];
	char devargs[TESS_DEVARGS_LEN];
	uint32_t mtu;
	uint16_t rx_queues; /* 0: one per worker, capped by the driver */
	uint16_t rx_desc;
	uint16_t tx_desc;
	bool promiscuous;
};

struct tessd_xc_cfg {
	char a[TESS_NAME_LEN];
	char b[TESS_NAME_LEN];
};

struct tessd_cfg {
	struct tessd_eal_cfg eal;
	struct tessd_ctl_cfg control;
	struct tessd_port_cfg *ports;
	uint32_t n_ports;
	struct tessd_xc_cfg *xconnects;
	uint32_t n_xconnects;
};

extern const struct cfg_node tessd_cfg_schema;
extern const struct cfg_node tessd_port_schema;
extern const struct cfg_node tessd_xc_schema;
extern const struct cfg_node tessd_name_schema;

/* The schema's rules plus cross references (names unique, xconnect ends exist...). */
int tessd_cfg_decode(const json_t *doc, struct tessd_cfg *cfg, struct cfg_errs *errs);
int tessd_cfg_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
void tessd_cfg_free(struct tessd_cfg *cfg);

const struct tessd_port_cfg *tessd_cfg_port(const struct tessd_cfg *cfg, const char *name);
/* Index of the xconnect using port "name", or -1. */
int tessd_cfg_xc_of(const struct tessd_cfg *cfg, const char *name);
/*
 * Checks a candidate xconnect against cfg's ports and xconnects (ends exist,
 * differ, are free), reporting under "path" (e.g. "/params").
 */
int tessd_cfg_xc_check(const struct tessd_cfg *cfg, const struct tessd_xc_cfg *xc, const char *path,
		       struct cfg_errs *errs);

/* The device name part of devargs ("net_tap0" of "net_tap0,iface=x"). */
void tessd_devargs_name(const char *devargs, char *name, size_t len);

#endif
