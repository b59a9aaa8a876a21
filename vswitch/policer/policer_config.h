/* SPDX-License-Identifier: BSD-3-Clause */
/* The policers section of tessd's config (policer_config.c). */
#ifndef TESS_POLICER_CONFIG_H
#define TESS_POLICER_CONFIG_H

#include "tessd_base.h"

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
/*
 * Its section of tessd's config: struct tessd_cfg's member, the JSON key, the
 * type and the schema (registered by vswitch/policer/meson.build, see config/tessd_config.h).
 */
#define TESSD_POLICER_SECTION(OBJ, ARR) \
	ARR(policers, n_policers, "policers", struct tessd_policer_cfg, tessd_policers_schema)

/* The policers' rules past the schema's (names, bursts, one policer per object and direction). */
int tessd_policers_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
/* A burst as configured, or (set 0) 100 ms of kbps, at least a full frame. */
uint32_t tessd_policer_burst(uint32_t set, uint32_t kbps);

#endif
