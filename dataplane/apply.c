/* SPDX-License-Identifier: BSD-3-Clause */
#include "apply.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cfg_array.h"
#include "event.h"
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
	for (unsigned id = 0; id < DP_MAX_PORTS; id++)
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
	tess_event_emit("config.commit",
			json_pack("{s:I}", "generation", (json_int_t)dp_snap->gen));
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

/* The element of a whose encoding has every key of match at the same value; -1: none. */
static int64_t batch_find(const struct cfg_array *a, const json_t *match)
{
	for (uint32_t i = 0; i < *a->n; i++) {
		json_t *o = cfg_encode(a->node->arr.item, cfg_array_at(a, i)), *v;
		const char *k;
		bool same = o != NULL;
		json_object_foreach ((json_t *)match, k, v)
			same = same && json_equal(json_object_get(o, k), v);
		json_decref(o);
		if (same)
			return i;
	}
	return -1;
}

/*
 * Whether a batch may edit the collection at ptr. Not the core's own sections: /ports need
 * device work (probe, drain) that only their own methods do, and /control and /eal are the
 * operator's (the config file's alone: no method edits them, and config.save would keep
 * the change). Nor arrays of plain values (a collection's elements are objects with keys).
 */
static bool batch_may_edit(const char *ptr, const struct cfg_array *a)
{
	static const char *const core[] = { "ports", "control", "eal" };
	size_t len = strcspn(ptr + 1, "/");

	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++)
		if (strlen(core[i]) == len && strncmp(ptr + 1, core[i], len) == 0)
			return false;
	return a->node->arr.item->type == CFG_OBJECT;
}

/* match names an element: at least one key, each a key of the collection's elements. */
static int batch_match_check(const struct cfg_array *a, const json_t *match, unsigned k,
			     struct ctl_error *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(match) || json_object_size(match) == 0) {
		ctl_error_set(err, EINVAL, "",
			      "set and del need a match object of one key or more");
		snprintf(err->path, sizeof(err->path), "/params/edits/%u/match", k);
		return -EINVAL;
	}
	json_object_foreach ((json_t *)match, key, v) {
		const struct cfg_field *f = a->node->arr.item->obj.fields;
		while (f->key && strcmp(f->key, key) != 0)
			f++;
		if (f->key == NULL) {
			ctl_error_set(err, EINVAL, "",
				      "'%s' is not a key of this collection's elements", key);
			snprintf(err->path, sizeof(err->path), "/params/edits/%u/match", k);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Where the elements a batch added or replaced are, by edit: a validation
 * error at one of them is reported at its edit. A later del moves them.
 */
struct batch_place {
	char path[CFG_PATH_MAX]; /* "" once deleted or replaced */
	unsigned k;
};

/*
 * The element at array/at was deleted (shift: the ones after it move down
 * one) or replaced: the places in it are gone, and those after it (and in
 * them, nested collections) follow.
 */
static void batch_places_moved(struct batch_place *p, unsigned n, const char *array, uint32_t at,
			       bool shift)
{
	size_t len = strlen(array);

	for (unsigned i = 0; i < n; i++) {
		char *end;
		unsigned long j;

		if (strncmp(p[i].path, array, len) != 0 || p[i].path[len] != '/')
			continue;
		j = strtoul(p[i].path + len + 1, &end, 10);
		if (j == at) {
			p[i].path[0] = '\0';
		} else if (shift && j > at) {
			/* j - 1 in j's place: never more digits, the rest moved up behind it. */
			char num[24];
			int w = snprintf(num, sizeof(num), "%lu", j - 1);
			memcpy(p[i].path + len + 1, num, (size_t)w);
			memmove(p[i].path + len + 1 + w, end, strlen(end) + 1);
		}
	}
}

/* The places of the batch's added and replaced elements so far (one per edit at most). */
struct batch_places {
	struct batch_place *p;
	unsigned n;
};

/* The element edit k added or replaced is at array/at. */
static void batch_place_add(struct batch_places *w, const char *array, uint32_t at, unsigned k)
{
	snprintf(w->p[w->n].path, sizeof(w->p[w->n].path), "%s/%u", array, at);
	w->p[w->n++].k = k;
}

/* One edit of a batch on the candidate; the places it moves, ends or makes in w. */
static int batch_one(struct tessd_cfg *cand, const json_t *ed, unsigned k, struct batch_places *w,
		     struct ctl_error *err)
{
	const char *op = json_string_value(json_object_get(ed, "op"));
	const char *array = json_string_value(json_object_get(ed, "array"));
	const json_t *match = json_object_get(ed, "match"), *item = json_object_get(ed, "item");
	bool add = op && strcmp(op, "add") == 0, set = op && strcmp(op, "set") == 0;
	bool del = op && strcmp(op, "del") == 0;
	char base[CFG_PATH_MAX];
	struct cfg_array a;
	int64_t at = -1;
	int rc;

	if (!add && !set && !del) {
		ctl_error_set(err, EINVAL, "", "op is add, set or del");
		snprintf(err->path, sizeof(err->path), "/params/edits/%u/op", k);
		return -EINVAL;
	}
	if (array == NULL || cfg_array_find(&tessd_cfg_schema, cand, array, &a) < 0 ||
	    !batch_may_edit(array, &a)) {
		ctl_error_set(err, EINVAL, "", "'%s' is not a config collection a batch edits",
			      array ? array : "");
		snprintf(err->path, sizeof(err->path), "/params/edits/%u/array", k);
		return -EINVAL;
	}
	if (!add) {
		if ((rc = batch_match_check(&a, match, k, err)) < 0)
			return rc;
		if ((at = batch_find(&a, match)) < 0) {
			ctl_error_set(err, ENOENT, "", "%s has no such element", array);
			snprintf(err->path, sizeof(err->path), "/params/edits/%u/match", k);
			return -ENOENT;
		}
	}
	if (del) {
		rc = cfg_array_del(&a, (uint32_t)at);
		if (rc == 0) /* the elements after it move down one */
			batch_places_moved(w->p, w->n, array, (uint32_t)at, true);
		return rc;
	}
	if (!json_is_object(item)) {
		ctl_error_set(err, EINVAL, "", "an add or set needs an item object");
		snprintf(err->path, sizeof(err->path), "/params/edits/%u/item", k);
		return -EINVAL;
	}
	void *elem = calloc(1, a.node->arr.item_size);
	struct cfg_errs errs;
	if (elem == NULL)
		return -ENOMEM;
	cfg_errs_init(&errs);
	snprintf(base, sizeof(base), "/params/edits/%u/item", k);
	rc = cfg_decode(a.node->arr.item, item, elem, base, &errs);
	if (rc < 0) {
		ctl_error_from_cfg(err, &errs);
		free(elem);
		return rc;
	}
	rc = add ? cfg_array_add(&a, elem) : cfg_array_set(&a, (uint32_t)at, elem);
	cfg_free(a.node->arr.item, elem);
	free(elem);
	if (rc == -ERANGE)
		ctl_error_set(err, ERANGE, base, "%s holds at most %u items", array,
			      a.node->arr.max);
	else if (rc < 0)
		ctl_error_set(err, -rc, "", "cannot edit %s: %s", array, strerror(-rc));
	else if (add)
		batch_place_add(w, array, *a.n - 1, k);
	else {
		/* What was at its place (an earlier edit's element) is replaced. */
		batch_places_moved(w->p, w->n, array, (uint32_t)at, false);
		batch_place_add(w, array, (uint32_t)at, k);
	}
	return rc;
}

int dp_batch(const json_t *edits, json_t **result, struct ctl_error *err)
{
	struct tessd_cfg cand;
	struct batch_places where = { NULL, 0 };
	const json_t *ed;
	size_t k;
	int rc;

	if (!json_is_array(edits) || json_array_size(edits) == 0 ||
	    json_array_size(edits) > DP_BATCH_MAX) {
		ctl_error_set(err, EINVAL, "/params/edits", "edits is a list of 1 to %u edits",
			      DP_BATCH_MAX);
		return -EINVAL;
	}
	if ((rc = dp_candidate(&cand, err)) < 0)
		return rc;
	if ((rc = fault_at("commit.candidate", err)) < 0) {
		tessd_cfg_free(&cand);
		return rc;
	}
	/* Where each added or replaced element is: its errors are reported at its edit. */
	where.p = calloc(json_array_size(edits), sizeof(*where.p));
	if (where.p == NULL) {
		ctl_error_set(err, ENOMEM, "", "no memory for the batch");
		tessd_cfg_free(&cand);
		return -ENOMEM;
	}
	json_array_foreach (edits, k, ed) {
		if (!json_is_object(ed)) {
			ctl_error_set(err, EINVAL, "", "an edit is an object");
			snprintf(err->path, sizeof(err->path), "/params/edits/%zu", k);
			free(where.p);
			tessd_cfg_free(&cand);
			return -EINVAL;
		}
		if ((rc = batch_one(&cand, ed, (unsigned)k, &where, err)) < 0) {
			if (err->message[0] == '\0')
				ctl_error_set(err, -rc, "", "edit %zu: %s", k, strerror(-rc));
			free(where.p);
			tessd_cfg_free(&cand);
			return rc;
		}
	}
	rc = dp_validate(&cand, NULL, NULL, err);
	if (rc < 0) {
		/* The edit whose element holds the error (the innermost: nested collections). */
		const struct batch_place *best = NULL;
		for (unsigned i = 0; i < where.n; i++) {
			size_t len = strlen(where.p[i].path);
			if (len && strncmp(err->path, where.p[i].path, len) == 0 &&
			    (err->path[len] == '/' || err->path[len] == '\0') &&
			    (best == NULL || len > strlen(best->path)))
				best = &where.p[i];
		}
		if (best) {
			char to[CFG_PATH_MAX];
			snprintf(to, sizeof(to), "/params/edits/%u/item", best->k);
			dp_error_remap(err, best->path, to);
		}
	}
	free(where.p);
	if (rc == 0)
		rc = fault_at("commit.validate", err);
	if (rc < 0) {
		tessd_cfg_free(&cand);
		return rc;
	}
	if ((rc = dp_commit(&cand, err)) < 0)
		return rc;
	DP_LOG(INFO, "config batch of %zu edits committed", json_array_size(edits));
	dp_fault_kill("commit.done");
	*result = json_pack("{s:I}", "edits", (json_int_t)json_array_size(edits));
	return 0;
}
