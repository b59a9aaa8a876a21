/* SPDX-License-Identifier: BSD-3-Clause */
#include "apply.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "router.h"
#include "snapshot.h"
#include "switch.h"
#include "tessd.h"

int dp_candidate(struct tessd_cfg *cand, struct ctl_error *err)
{
	int rc = cfg_clone(&tessd_cfg_schema, cand, &tessd.cfg);

	if (rc < 0)
		ctl_error_set(err, ENOMEM, "", "cannot copy the running config");
	return rc;
}

int dp_validate(const struct tessd_cfg *cand, const char *from, const char *to,
		struct ctl_error *err)
{
	struct cfg_errs errs;

	cfg_errs_init(&errs);
	if (tessd_cfg_validate(cand, &errs) == 0)
		return 0;
	ctl_error_from_cfg(err, &errs);
	dp_error_remap(err, from, to);
	return -err->code;
}

void dp_error_remap(struct ctl_error *err, const char *from, const char *to)
{
	size_t n = from ? strlen(from) : 0;

	if (n && strncmp(err->path, from, n) == 0 && (err->path[n] == '/' || !err->path[n])) {
		char rest[CFG_PATH_MAX];
		snprintf(rest, sizeof(rest), "%s", err->path + n);
		snprintf(err->path, sizeof(err->path), "%s%s", to, rest);
	}
}

static struct dp_snapshot *build(const struct tessd_cfg *cfg, int *rc)
{
	struct dp_snapshot *s = dp_snapshot_copy();

	*rc = -ENOMEM;
	if (s == NULL)
		return NULL;
	xc_build(s, cfg);
	vsw_build(s, cfg);
	/* After the switch: ports with router interfaces become routed ports. */
	*rc = router_build(s, cfg);
	if (*rc < 0) {
		dp_snapshot_discard(s);
		return NULL;
	}
	return s;
}

int dp_commit(struct tessd_cfg *cand, struct ctl_error *err)
{
	struct tessd_cfg old;
	int rc;
	struct dp_snapshot *s = build(cand, &rc);

	if (s == NULL) {
		tessd_cfg_free(cand);
		ctl_error_set(err, -rc, "",
			      rc == -ENOSPC ? "out of router interface ids"
					    : "cannot allocate a dataplane snapshot");
		return rc;
	}
	dp_snapshot_publish(s);
	old = tessd.cfg;
	tessd.cfg = *cand;
	memset(cand, 0, sizeof(*cand));
	vsw_sync(&old, &tessd.cfg);
	router_sync(&old, &tessd.cfg);
	tessd_cfg_free(&old);
	return 0;
}

int dp_apply_running(void)
{
	int rc;
	struct dp_snapshot *s = build(&tessd.cfg, &rc);

	if (s == NULL)
		return rc;
	dp_snapshot_publish(s);
	vsw_sync(NULL, &tessd.cfg);
	router_sync(NULL, &tessd.cfg);
	return 0;
}
