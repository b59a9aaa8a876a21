/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every change, from the startup file or the API, goes the same way: edit a
 * candidate copy of the running config, validate it whole, do what devices
 * need (ports), then build one snapshot from it and publish it. Nothing is
 * half-applied: until the publish, workers see the old state; after it, the
 * candidate is the running config.
 */
#ifndef TESS_APPLY_H
#define TESS_APPLY_H

#include "ctl_msg.h"
#include "dp.h"
#include "tessd_config.h"

/* A private copy of the running config to edit. */
int dp_candidate(struct tessd_cfg *cand, struct ctl_error *err);
/*
 * Validates cand. Errors whose path starts with "from" (e.g. "/ports/3")
 * are reported under "to" ("/params") so API callers see their own paths.
 */
int dp_validate(const struct tessd_cfg *cand, const char *from, const char *to,
		struct ctl_error *err);
/* Rewrites an error path starting with "from" to start with "to" instead. */
void dp_error_remap(struct ctl_error *err, const char *from, const char *to);
/* Publishes a snapshot built from cand and makes it the running config (cand is consumed). */
int dp_commit(struct tessd_cfg *cand, struct ctl_error *err);
/* At start: the first snapshot from the running config. */
int dp_apply_running(struct ctl_error *err);

#endif
