/* SPDX-License-Identifier: BSD-3-Clause */
/* The cross-connect section of tessd's config (xconnect_config.c). */
#ifndef TESS_XCONNECT_CONFIG_H
#define TESS_XCONNECT_CONFIG_H

#include "tessd_base.h"

struct tessd_xc_cfg {
	char a[TESS_NAME_LEN];
	char b[TESS_NAME_LEN];
};

extern const struct cfg_node tessd_xc_schema, tessd_xconnects_schema;
/*
 * Its section of tessd's config: struct tessd_cfg's member, the JSON key, the
 * type and the schema (registered by dataplane/xconnect/meson.build, see config/tessd_config.h).
 */
#define TESSD_XCONNECT_SECTION(OBJ, ARR) \
	ARR(xconnects, n_xconnects, "xconnects", struct tessd_xc_cfg, tessd_xconnects_schema)

/* Index of the xconnect using port "name", or -1. */
int tessd_cfg_xc_of(const struct tessd_cfg *cfg, const char *name);
/* The same among the first n xconnects only. */
int tessd_cfg_xc_among(const struct tessd_cfg *cfg, uint32_t n, const char *name);

#endif
