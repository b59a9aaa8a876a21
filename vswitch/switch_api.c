/* SPDX-License-Identifier: BSD-3-Clause */
/* Port groups and the FDB over the API. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "apply.h"
#include "ctl_server.h"
#include "log.h"
#include "switch.h"
#include "tessd.h"

static json_t *members(const struct tessd_group_cfg *g)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < tessd.cfg.n_ports; i++)
		if (tessd_port_in_group(&tessd.cfg.ports[i], g))
			json_array_append_new(a, json_string(tessd.cfg.ports[i].name));
	return a;
}

static int group_list(const void *params, json_t **result, struct ctl_error *err)
{
	json_t *a = json_array();

	(void)params;
	(void)err;
	for (uint32_t i = 0; i < tessd.cfg.sw.n_groups; i++) {
		const struct tessd_group_cfg *g = &tessd.cfg.sw.groups[i];
		json_t *o = cfg_encode(&tessd_group_schema, g);
		json_object_set_new(o, "ports", members(g));
		json_object_set_new(o, "fdb_learned", json_integer(vsw_fdb.per_vlan[g->vlan]));
		json_array_append_new(a, o);
	}
	*result = a;
	return 0;
}

static int group_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_group_cfg *g = params;
	struct tessd_group_cfg *groups;
	struct tessd_cfg cand;
	char from[40];
	int rc;

	if (tessd_cfg_group(&tessd.cfg, g->name)) {
		ctl_error_set(err, EEXIST, "/params/name", "group '%s' exists", g->name);
		return -EEXIST;
	}
	if ((rc = dp_candidate(&cand, err)) < 0)
		return rc;
	groups = realloc(cand.sw.groups, (cand.sw.n_groups + 1) * sizeof(*groups));
	if (groups == NULL) {
		tessd_cfg_free(&cand);
		return -ENOMEM;
	}
	cand.sw.groups = groups;
	if (cfg_clone(&tessd_group_schema, &groups[cand.sw.n_groups], g) < 0) {
		tessd_cfg_free(&cand);
		return -ENOMEM;
	}
	snprintf(from, sizeof(from), "/switch/groups/%u", cand.sw.n_groups);
	cand.sw.n_groups++;
	if ((rc = dp_validate(&cand, from, "/params", err)) < 0) {
		tessd_cfg_free(&cand);
		return rc;
	}
	/* A VLAN used before starts its counters from zero. */
	vsw_group_rebase(g->vlan);
	rc = dp_commit(&cand, err);
	if (rc == 0) {
		DP_LOG(INFO, "group %s (tenant %s, VLAN %u) added", g->name, g->tenant, g->vlan);
		*result = cfg_encode(&tessd_group_schema, tessd_cfg_group(&tessd.cfg, g->name));
	}
	return rc;
}

static int group_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_name_params *np = params;
	const struct tessd_group_cfg *g = tessd_cfg_group(&tessd.cfg, np->name);
	struct tessd_cfg cand;
	uint32_t idx;
	json_t *m;
	int rc;

	if (g == NULL) {
		ctl_error_set(err, ENOENT, "/params/name", "no group named '%s'", np->name);
		return -ENOENT;
	}
	/* Ports that name the group keep it; a trunk with all_groups does not. */
	m = json_array();
	for (uint32_t i = 0; i < tessd.cfg.n_ports; i++) {
		const struct tessd_port_cfg *pc = &tessd.cfg.ports[i];
		bool named =
			strcmp(pc->group, g->name) == 0 || strcmp(pc->native_group, g->name) == 0;
		for (uint32_t k = 0; k < pc->n_groups; k++)
			named |= strcmp(pc->groups[k], g->name) == 0;
		if (named)
			json_array_append_new(m, json_string(pc->name));
	}
	if (json_array_size(m)) {
		char *list = json_dumps(m, JSON_COMPACT);
		ctl_error_set(err, EBUSY, "/params/name",
			      "group '%s' has member ports %s: move them first", g->name,
			      list ? list : "");
		free(list);
		json_decref(m);
		return -EBUSY;
	}
	json_decref(m);
	idx = (uint32_t)(g - tessd.cfg.sw.groups);
	if ((rc = dp_candidate(&cand, err)) < 0)
		return rc;
	cfg_free(&tessd_group_schema, &cand.sw.groups[idx]);
	memmove(&cand.sw.groups[idx], &cand.sw.groups[idx + 1],
		(cand.sw.n_groups - idx - 1) * sizeof(cand.sw.groups[0]));
	cand.sw.n_groups--;
	if ((rc = dp_validate(&cand, NULL, NULL, err)) < 0) {
		tessd_cfg_free(&cand);
		return rc;
	}
	rc = dp_commit(&cand, err); /* its FDB entries go in vsw_sync */
	if (rc == 0) {
		DP_LOG(INFO, "group %s removed", np->name);
		*result = json_pack("{s:s}", "name", np->name);
	}
	return rc;
}

/* ---- FDB ---- */

struct fdb_params {
	char group[TESS_NAME_LEN];
	char port[TESS_NAME_LEN];
	struct cfg_mac mac;
};

/* Turns optional group/port names into a filter; the error names what is unknown. */
static int make_filter(const struct fdb_params *fp, struct fdb_filter *f, struct ctl_error *err)
{
	f->port = -1;
	f->vlan = -1;
	if (fp->group[0]) {
		const struct tessd_group_cfg *g = tessd_cfg_group(&tessd.cfg, fp->group);
		if (g == NULL) {
			ctl_error_set(err, ENOENT, "/params/group", "no group named '%s'",
				      fp->group);
			return -ENOENT;
		}
		f->vlan = g->vlan;
	}
	if (fp->port[0]) {
		const struct dp_port *p = dp_port_by_name(fp->port);
		if (p == NULL) {
			ctl_error_set(err, ENOENT, "/params/port", "no port named '%s'", fp->port);
			return -ENOENT;
		}
		f->port = p->id;
	}
	return 0;
}

struct show_ctx {
	json_t *a;
	uint64_t now;
};

static void show_one(const struct fdb_entry *e, void *arg)
{
	struct show_ctx *c = arg;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	const char *group = "?";
	const struct dp_port *p = dp_port_by_id(e->port);
	uint64_t seen = __atomic_load_n(&e->seen, __ATOMIC_RELAXED);

	for (uint32_t i = 0; i < tessd.cfg.sw.n_groups; i++)
		if (tessd.cfg.sw.groups[i].vlan == e->vlan)
			group = tessd.cfg.sw.groups[i].name;
	rte_ether_format_addr(mac, sizeof(mac), &e->mac);
	json_array_append_new(
		c->a, json_pack("{s:s, s:s, s:i, s:s, s:s, s:I}", "mac", mac, "group", group,
				"vlan", e->vlan, "port", p ? p->cfg.name : "?", "type",
				e->flags & FDB_F_STATIC ? "static" : "learned", "age_sec",
				(json_int_t)(c->now > seen ? (c->now - seen) / dp_tsc_hz : 0)));
}

static int fdb_show(const void *params, json_t **result, struct ctl_error *err)
{
	struct fdb_filter f = { .statics = true, .dynamics = true };
	struct show_ctx c = { .a = json_array(), .now = rte_rdtsc() };
	int rc = make_filter(params, &f, err);

	if (rc < 0) {
		json_decref(c.a);
		return rc;
	}
	fdb_walk(&vsw_fdb, &f, show_one, &c);
	*result = c.a;
	return 0;
}

static int fdb_flush_m(const void *params, json_t **result, struct ctl_error *err)
{
	struct fdb_filter f = { .dynamics = true };
	int rc = make_filter(params, &f, err);

	if (rc < 0)
		return rc;
	*result = json_pack("{s:i}", "flushed", (int)fdb_flush(&vsw_fdb, &f));
	return 0;
}

/* Adds (mac -> port) to group's static MACs, or removes it (port NULL). */
static int edit_static(const struct fdb_params *fp, bool add, json_t **result,
		       struct ctl_error *err)
{
	const struct tessd_group_cfg *g = tessd_cfg_group(&tessd.cfg, fp->group);
	struct tessd_group_cfg *cg;
	struct tessd_cfg cand;
	char from[48], mac[CFG_MAC_STRLEN];
	int found = -1, rc;

	if (g == NULL) {
		ctl_error_set(err, ENOENT, "/params/group", "no group named '%s'", fp->group);
		return -ENOENT;
	}
	cfg_fmt_mac(&fp->mac, mac, sizeof(mac));
	for (uint32_t k = 0; k < g->n_static_macs; k++)
		if (!memcmp(&fp->mac, &g->static_macs[k].mac, sizeof(fp->mac)))
			found = (int)k;
	if (!add && found < 0) {
		/* Not static: a learned entry may be removed at once. */
		struct rte_ether_addr a;
		memcpy(a.addr_bytes, fp->mac.b, RTE_ETHER_ADDR_LEN);
		if (fdb_del(&vsw_fdb, fdb_key(g->vlan, &a)) == 0) {
			*result = json_pack("{s:s, s:s}", "group", g->name, "mac", mac);
			return 0;
		}
		ctl_error_set(err, ENOENT, "/params/mac", "%s is not in group %s's FDB", mac,
			      g->name);
		return -ENOENT;
	}
	if ((rc = dp_candidate(&cand, err)) < 0)
		return rc;
	cg = (struct tessd_group_cfg *)tessd_cfg_group(&cand, fp->group);
	if (add && found < 0) {
		struct tessd_static_mac *sm =
			realloc(cg->static_macs, (cg->n_static_macs + 1) * sizeof(*sm));
		if (sm == NULL) {
			tessd_cfg_free(&cand);
			return -ENOMEM;
		}
		cg->static_macs = sm;
		found = (int)cg->n_static_macs++;
	} else if (!add) {
		memmove(&cg->static_macs[found], &cg->static_macs[found + 1],
			(cg->n_static_macs - (uint32_t)found - 1) * sizeof(cg->static_macs[0]));
		cg->n_static_macs--;
	}
	if (add) {
		cg->static_macs[found].mac = fp->mac;
		snprintf(cg->static_macs[found].port, TESS_NAME_LEN, "%s", fp->port);
	}
	snprintf(from, sizeof(from), "/switch/groups/%u/static_macs/%d",
		 (uint32_t)(cg - cand.sw.groups), found);
	if ((rc = dp_validate(&cand, from, "/params", err)) < 0) {
		tessd_cfg_free(&cand);
		return rc;
	}
	rc = dp_commit(&cand, err);
	if (rc == 0)
		*result = add ? json_pack("{s:s, s:s, s:s}", "group", fp->group, "mac", mac, "port",
					  fp->port)
			      : json_pack("{s:s, s:s}", "group", fp->group, "mac", mac);
	return rc;
}

static int fdb_add(const void *params, json_t **result, struct ctl_error *err)
{
	return edit_static(params, true, result, err);
}

static int fdb_del_m(const void *params, json_t **result, struct ctl_error *err)
{
	return edit_static(params, false, result, err);
}

static const struct cfg_field filter_fields[] = {
	CFG_FIELD(struct fdb_params, group, "group", &tessd_opt_name_schema, false, "\"\""),
	CFG_FIELD(struct fdb_params, port, "port", &tessd_opt_name_schema, false, "\"\""),
	{ 0 },
};
static const struct cfg_node filter_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = filter_fields, .size = sizeof(struct fdb_params) },
};
static const struct cfg_field static_fields[] = {
	CFG_FIELD(struct fdb_params, group, "group", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct fdb_params, mac, "mac", &tessd_mac_schema, true, NULL),
	CFG_FIELD(struct fdb_params, port, "port", &tessd_name_schema, true, NULL),
	{ 0 },
};
static const struct cfg_node static_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = static_fields, .size = sizeof(struct fdb_params) },
};
static const struct cfg_field del_fields[] = {
	CFG_FIELD(struct fdb_params, group, "group", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct fdb_params, mac, "mac", &tessd_mac_schema, true, NULL),
	{ 0 },
};
static const struct cfg_node del_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = del_fields, .size = sizeof(struct fdb_params) },
};

const struct ctl_method vsw_methods[] = {
	{ "group.list", NULL, group_list, "port groups, their members and FDB size" },
	{ "group.add", &tessd_group_schema, group_add, "add a port group (tenant, VLAN, limits)" },
	{ "group.del", &tessd_name_params_schema, group_del,
	  "remove a port group without member ports" },
	{ "fdb.show", &filter_schema, fdb_show, "FDB entries, by group and/or port" },
	{ "fdb.flush", &filter_schema, fdb_flush_m,
	  "forget learned entries, by group and/or port" },
	{ "fdb.add", &static_schema, fdb_add, "add a static MAC to a group" },
	{ "fdb.del", &del_schema, fdb_del_m, "remove a static MAC, or forget a learned one" },
	{ 0 },
};
