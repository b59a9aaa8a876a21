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

/*
 * A config's rules past the schema: the core's (tessd_cfg_validate) and
 * every module's section, in module order; -EINVAL with errs if any.
 */
int dp_cfg_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs);

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

enum dp_edit_op {
	DP_EDIT_ADD, /* append a copy of item */
	DP_EDIT_SET, /* replace element index by a copy of item */
	DP_EDIT_DEL, /* remove element index */
};

/*
 * One change of one element of a config collection, as API handlers make
 * it. The collection is named by its JSON pointer in the config
 * ("/switch/groups", "/switch/groups/2/static_macs") and found through the
 * config's schema. Only op, array, index and item are required.
 */
struct dp_edit {
	enum dp_edit_op op;
	const char *array;
	uint32_t index;   /* set, del */
	const void *item; /* add, set: copied deep, through the schema */
	void *arg;        /* given to the steps below */
	/* More edits of the same change (vrf.del: the VRF's routes go too). */
	int (*also)(struct tessd_cfg *cand, void *arg, struct ctl_error *err);
	/* Once the candidate is valid, before the commit: what devices need (probe a port). */
	int (*prepare)(const struct tessd_cfg *cand, void *arg, struct ctl_error *err);
	/* The commit failed: undo prepare. */
	void (*unprepare)(void *arg);
	/*
	 * The answer, from the element as it is in the running config: the new
	 * one (add, set) or the one going (del). NULL: the element encoded.
	 */
	json_t *(*answer)(const struct cfg_node *schema, const void *elem, void *arg);
};

/*
 * The one edit path of API handlers: a candidate copy, the edit, the whole
 * candidate validated (errors under an added or replaced element reported
 * under /params), prepare, the commit, fmt logged at INFO level, and
 * *result. 0 or -errno with err set; nothing changes on error.
 */
int dp_edit(const struct dp_edit *e, json_t **result, struct ctl_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * Several edits as one change (config.batch): params.edits is a list of
 * {"op": "add"|"set"|"del", "array": "/router/vrfs", "match": {key: value...}
 * (set, del: the element whose encoding has these values), "item": {...}
 * (add, set)}, applied in order to one candidate, validated whole and
 * committed once: all of them or none. Collections of objects only, and not
 * /ports (their devices need their own methods) nor the operator's /control
 * and /eal; match has one key or more, each a key of the elements. 0 with
 * {"edits": n}, or -errno with err.
 */
#define DP_BATCH_MAX 1024
int dp_batch(const json_t *edits, json_t **result, struct ctl_error *err);
/* An answer of the element's name alone ({"name": ...}), as removals give. */
json_t *dp_answer_name(const struct cfg_node *schema, const void *elem, void *arg);

#endif
