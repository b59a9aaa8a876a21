/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cross-connects' config rules, past what the schema says: both ends
 * are free ports (not switch ports, not in another cross-connect) and
 * differ. That the ports exist is the schema's reference check.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xconnect.h"

/* Checks xc against the ports and the first n xconnects of cfg. */
static void xc_check(const struct tessd_cfg *cfg, uint32_t n, const struct tessd_xc_cfg *xc,
		     const char *path, struct cfg_errs *errs)
{
	const char *ends[2] = { xc->a, xc->b };
	const char *keys[2] = { "a", "b" };
	unsigned before = errs->n;
	char p[CFG_PATH_MAX];
	bool missing = false;

	for (int e = 0; e < 2; e++) {
		const struct tessd_port_cfg *port = tessd_cfg_port(cfg, ends[e]);
		int other;

		snprintf(p, sizeof(p), "%s/%s", path, keys[e]);
		if (port == NULL) {
			missing = true; /* a reference error */
		} else if (port->mode != TESS_PORT_NONE) {
			cfg_err_add(errs, EBUSY, p, "port '%s' is a switch %s port", ends[e],
				    tess_port_modes[port->mode]);
		} else if ((other = tessd_cfg_xc_among(cfg, n, ends[e])) >= 0) {
			cfg_err_add(errs, EBUSY, p,
				    "port '%s' is already cross-connected (%s <-> %s)", ends[e],
				    cfg->xconnects[other].a, cfg->xconnects[other].b);
		}
	}
	if (errs->n == before && !missing && strcmp(xc->a, xc->b) == 0) {
		snprintf(p, sizeof(p), "%s/b", path);
		cfg_err_add(errs, EINVAL, p, "a port cannot be cross-connected to itself");
	}
}

int xc_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	unsigned before = errs->n;
	char p[32];

	/* Each xconnect against the ones before it, so a clash is reported once. */
	for (uint32_t i = 0; i < cfg->n_xconnects; i++) {
		snprintf(p, sizeof(p), "/xconnects/%u", i);
		xc_check(cfg, i, &cfg->xconnects[i], p, errs);
	}
	cfg_check_refs_in(&tessd_cfg_schema, cfg, "xconnects", errs);
	return errs->n == before ? 0 : -EINVAL;
}
