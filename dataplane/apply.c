/* SPDX-License-Identifier: BSD-3-Clause */
#include "apply.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "module.h"
#include "snapshot.h"
#include "stage.h"
#include "tessd.h"

struct tessd tessd;

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

/* A snapshot of cfg from every module, or NULL with err set. */
static struct dp_snapshot *build(const struct tessd_cfg *cfg, int *rc, struct ctl_error *err)
{
	struct dp_snapshot *s = dp_snapshot_copy();

	*rc = -ENOMEM;
	if (s == NULL) {
		ctl_error_set(err, ENOMEM, "", "cannot allocate a dataplane snapshot");
		return NULL;
	}
	/* Every port is claimed afresh: by its module's build, else nothing forwards from it. */
	for (unsigned id = 0; id < RTE_MAX_ETHPORTS; id++)
		s->port[id].stage = DP_STAGE_DROP;
	*rc = 0;
	TESS_MODULE_FOREACH(m)
	{
		if (m->build && (*rc = m->build(s, cfg, err)) < 0) {
			if (err->message[0] == '\0')
				ctl_error_set(err, -*rc, "", "%s: cannot build its tables: %s",
					      m->name, strerror(-*rc));
			dp_snapshot_discard(s);
			return NULL;
		}
	}
	return s;
}

static void sync_modules(const struct tessd_cfg *old, const struct tessd_cfg *cur)
{
	TESS_MODULE_FOREACH(m)
	{
		if (m->sync)
			m->sync(old, cur);
	}
}

int dp_commit(struct tessd_cfg *cand, struct ctl_error *err)
{
	struct tessd_cfg old;
	int rc;
	struct dp_snapshot *s;

	err->message[0] = '\0';
	s = build(cand, &rc, err);
	if (s == NULL) {
		tessd_cfg_free(cand);
		return rc;
	}
	dp_snapshot_publish(s);
	old = tessd.cfg;
	tessd.cfg = *cand;
	memset(cand, 0, sizeof(*cand));
	sync_modules(&old, &tessd.cfg);
	tessd_cfg_free(&old);
	return 0;
}

int dp_apply_running(struct ctl_error *err)
{
	int rc;
	struct dp_snapshot *s;

	err->message[0] = '\0';
	s = build(&tessd.cfg, &rc, err);
	if (s == NULL)
		return rc;
	dp_snapshot_publish(s);
	sync_modules(NULL, &tessd.cfg);
	return 0;
}
