/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port cross-connect (L2 patch): every frame received on a port leaves on
 * its peer. The smallest module: a snapshot part (each port's peer), one
 * stage, an API; README "Writing a module" walks through it.
 */
#ifndef TESS_XCONNECT_H
#define TESS_XCONNECT_H

#include "module.h"
#include "stage.h"

/* Its part of a snapshot. */
struct xc_part {
	uint16_t peer[DP_MAX_PORTS]; /* DP_PORT_NONE: not cross-connected */
};

extern struct tess_module xc_module;

/* The xconnects section's rules (the module's validate). */
int xc_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);
extern struct dp_stage xc_stage;

#endif
