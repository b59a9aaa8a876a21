/* SPDX-License-Identifier: BSD-3-Clause */
/* The cross-connect section of tessd's config: pairs of ports. */
#include <string.h>

#include "tessd_config.h"

static const struct cfg_field xc_fields[] = {
	CFG_FIELD(struct tessd_xc_cfg, a, "a", &tessd_port_ref_schema, true, NULL),
	CFG_FIELD(struct tessd_xc_cfg, b, "b", &tessd_port_ref_schema, true, NULL),
	{ 0 },
};
const struct cfg_node tessd_xc_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = xc_fields, .size = sizeof(struct tessd_xc_cfg) },
};
const struct cfg_node tessd_xconnects_schema = {
	.type = CFG_ARRAY,
	.arr = { .item = &tessd_xc_schema,
		 .max = TESS_MAX_PORTS / 2,
		 .item_size = sizeof(struct tessd_xc_cfg) },
};

int tessd_cfg_xc_among(const struct tessd_cfg *cfg, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(cfg->xconnects[i].a, name) == 0 ||
		    strcmp(cfg->xconnects[i].b, name) == 0)
			return (int)i;
	return -1;
}

int tessd_cfg_xc_of(const struct tessd_cfg *cfg, const char *name)
{
	return tessd_cfg_xc_among(cfg, cfg->n_xconnects, name);
}
