/* SPDX-License-Identifier: BSD-3-Clause */
#include "apply.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cfg_array.h"
#include "fault.h"
#include "log.h"
#include "module.h"
#include "snapshot.h"
#include "stage.h"
#include "tessd.h"

struct tessd tessd;

/* A test build's fault point of a commit (fault.h): -EIO with err set when it fails. */
static int fault_at(const char *point, struct ctl_error *err)
{
	int rc = dp_fault(point);

	if (rc < 0)
		ctl_error_set(err, -rc, "", "fault injected at %s", point);
	return rc;
}

int dp_cfg_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	unsigned before = errs->n;

	tessd_cfg_validate(cfg, errs);
	TESS_MODULE_FOREACH (m) {
		if (m->validate)
			m->validate(cfg, errs);
	}
	return errs->n == before ? 0 : -EINVAL;
}

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
	if (dp_cfg_validate(cand, &errs) == 0)
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
	memset(&s->hooks, 0, sizeof(s->hooks));
	*rc = 0;
	TESS_MODULE_FOREACH (m) {
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
	TESS_MODULE_FOREACH (m) {
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
	if ((rc = fault_at("commit.build", err)) < 0) {
		dp_snapshot_discard(s);
		tessd_cfg_free(cand);
		return rc;
	}
	dp_snapshot_publish(s);
	dp_fault_kill("commit.publish");
	old = tessd.cfg;
	tessd.cfg = *cand;
	memset(cand, 0, sizeof(*cand));
	sync_modules(&old, &tessd.cfg);
	dp_fault_kill("commit.sync");
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

/* The collection e names in cfg; an error is the handler's mistake, not the request's. */
static int find_array(const struct dp_edit *e, struct tessd_cfg *cfg, struct cfg_array *a,
		      struct ctl_error *err)
{
	int rc = cfg_array_find(&tessd_cfg_schema, cfg, e->array, a);

	if (rc < 0) {
		ctl_error_set(err, -rc, "", "no collection %s in the config", e->array);
	} else if (e->op != DP_EDIT_ADD && e->index >= *a->n) {
		ctl_error_set(err, ERANGE, "", "%s has no element %u", e->array, e->index);
		rc = -ERANGE;
	}
	return rc;
}

/* The edit itself, on the candidate; index is where the element ends up (add, set). */
static int edit_cand(const struct dp_edit *e, struct tessd_cfg *cand, uint32_t *index,
		     struct ctl_error *err)
{
	struct cfg_array a;
	int rc = find_array(e, cand, &a, err);

	if (rc < 0)
		return rc;
	*index = e->op == DP_EDIT_ADD ? *a.n : e->index;
	switch (e->op) {
	case DP_EDIT_ADD:
		rc = cfg_array_add(&a, e->item);
		break;
	case DP_EDIT_SET:
		rc = cfg_array_set(&a, e->index, e->item);
		break;
	case DP_EDIT_DEL:
		rc = cfg_array_del(&a, e->index);
		break;
	}
	if (rc == -ERANGE)
		ctl_error_set(err, ERANGE, "/params", "%s holds at most %u items", e->array,
			      a.node->arr.max);
	else if (rc < 0)
		ctl_error_set(err, -rc, "", "cannot edit %s: %s", e->array, strerror(-rc));
	if (rc == 0 && e->also)
		rc = e->also(cand, e->arg, err);
	return rc;
}

/* The answer from element index of e's collection in the running config. */
static json_t *answer(const struct dp_edit *e, uint32_t index, struct ctl_error *err)
{
	struct cfg_array a;

	if (find_array(e, &tessd.cfg, &a, err) < 0 || index >= *a.n)
		return NULL;
	if (e->answer)
		return e->answer(a.node->arr.item, cfg_array_at(&a, index), e->arg);
	return cfg_encode(a.node->arr.item, cfg_array_at(&a, index));
}

int dp_edit(const struct dp_edit *e, json_t **result, struct ctl_error *err, const char *fmt, ...)
{
	char what[CFG_MSG_MAX], from[CFG_PATH_MAX];
	struct tessd_cfg cand;
	json_t *gone = NULL;
	uint32_t index = 0;
	va_list ap;
	int rc;

	/* Now: what fmt's arguments point to may go with the old running config. */
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if ((rc = dp_candidate(&cand, err)) < 0)
		return rc;
	if ((rc = fault_at("commit.candidate", err)) < 0 ||
	    (rc = edit_cand(e, &cand, &index, err)) < 0 ||
	    (rc = fault_at("commit.edit", err)) < 0) {
		tessd_cfg_free(&cand);
		return rc;
	}
	/* An added or replaced element is the request's: its errors are under /params. */
	snprintf(from, sizeof(from), "%s/%u", e->array, index);
	rc = dp_validate(&cand, e->op == DP_EDIT_DEL ? NULL : from, "/params", err);
	if (rc == 0)
		rc = fault_at("commit.validate", err);
	if (rc == 0 && e->prepare)
		rc = e->prepare(&cand, e->arg, err);
	if (rc < 0) {
		tessd_cfg_free(&cand);
		return rc;
	}
	if ((rc = fault_at("commit.prepare", err)) < 0) {
		if (e->unprepare)
			e->unprepare(e->arg);
		tessd_cfg_free(&cand);
		return rc;
	}
	/* What goes is answered for before the commit frees it. */
	if (e->op == DP_EDIT_DEL && (gone = answer(e, e->index, err)) == NULL) {
		if (e->unprepare)
			e->unprepare(e->arg);
		tessd_cfg_free(&cand);
		if (err->message[0] == '\0')
			ctl_error_set(err, ENOMEM, "", "out of memory");
		return -err->code;
	}
	if ((rc = dp_commit(&cand, err)) < 0) {
		if (e->unprepare)
			e->unprepare(e->arg);
		json_decref(gone);
		return rc;
	}
	DP_LOG(INFO, "%s", what);
	dp_fault_kill("commit.done");
	*result = gone ? gone : answer(e, index, err);
	return 0;
}

json_t *dp_answer_name(const struct cfg_node *schema, const void *elem, void *arg)
{
	json_t *o = cfg_encode(schema, elem);
	json_t *name = json_incref(json_object_get(o, "name"));

	(void)arg;
	json_decref(o);
	return name ? json_pack("{s:o}", "name", name) : NULL;
}
