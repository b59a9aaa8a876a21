/* SPDX-License-Identifier: BSD-3-Clause */
#include "apply.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
	size_t n = from ? strlen(from) : 0;

	cfg_errs_init(&errs);
	if (tessd_cfg_validate(cand, &errs) == 0)
		return 0;
	ctl_error_from_cfg(err, &errs);
	if (n && strncmp(err->path, from, n) == 0 && (err->path[n] == '/' || !err->path[n])) {
		char rest[CFG_PATH_MAX];
		snprintf(rest, sizeof(rest), "%s", err->path + n);
		snprintf(err->path, sizeof(err->path), "%s%s", to, rest);
	}
	return -err->code;
}

static struct dp_snapshot *build(const struct tessd_cfg *cfg)
{
	struct dp_snapshot *s = dp_snapshot_copy();

	if (s) {
		xc_build(s, cfg);
		vsw_build(s, cfg);
	}
	return s;
}

int dp_commit(struct tessd_cfg *cand, struct ctl_error *err)
{
	struct dp_snapshot *s = build(cand);
	struct tessd_cfg old;

	if (s == NULL) {
		tessd_cfg_free(cand);
		ctl_error_set(err, ENOMEM, "", "cannot allocate a dataplane snapshot");
		return -ENOMEM;
	}
	dp_snapshot_publish(s);
	old = tessd.cfg;
	tessd.cfg = *cand;
	memset(cand, 0, sizeof(*cand));
	vsw_sync(&old, &tessd.cfg);
	tessd_cfg_free(&old);
	return 0;
}

int dp_apply_running(void)
{
	struct dp_snapshot *s = build(&tessd.cfg);

	if (s == NULL)
		return -ENOMEM;
	dp_snapshot_publish(s);
	vsw_sync(NULL, &tessd.cfg);
	return 0;
}
