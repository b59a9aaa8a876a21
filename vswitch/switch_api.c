/* SPDX-License-Identifier: BSD-3-Clause */
/* Port groups and the FDB over the API. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "apply.h"
#include "ctl_server.h"
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

/* A VLAN used before starts its counters from zero (once the group is known valid). */
static int group_rebase(const struct tessd_cfg *cand, void *arg, struct ctl_error *err)
{
	const struct tessd_group_cfg *g = arg;

	(void)cand;
	(void)err;
	vsw_group_rebase(g->vlan);
	return 0;
}

static int group_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_group_cfg *g = params;
	const struct dp_edit e = {
		.op = DP_EDIT_ADD,
		.array = "/switch/groups",
		.item = g,
		.arg = (void *)g,
		.prepare = group_rebase,
	};

	if (tessd_cfg_group(&tessd.cfg, g->name)) {
		ctl_error_set(err, EEXIST, "/params/name", "group '%s' exists", g->name);
		return -EEXIST;
	}
	return dp_edit(&e, result, err, "group %s (tenant %s, VLAN %u) added", g->name, g->tenant,
		       g->vlan);
}

static int group_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_name_params *np = params;
	const struct tessd_group_cfg *g = tessd_cfg_group(&tessd.cfg, np->name);
	json_t *m;

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
	const struct dp_edit e = {
		.op = DP_EDIT_DEL,
		.array = "/switch/groups",
		.index = (uint32_t)(g - tessd.cfg.sw.groups),
		.answer = dp_answer_name,
	};
	/* Its FDB entries go in vsw_sync. */
	return dp_edit(&e, result, err, "group %s removed", np->name);
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
	const uint16_t vlan = fdb_entry_vlan(e);
	const struct rte_ether_addr a = fdb_entry_mac(e);
	const char *group = vsw_group_name(vlan);
	const struct dp_port *p = dp_port_by_id(e->port);
	uint64_t seen = __atomic_load_n(&e->seen, __ATOMIC_RELAXED);

	rte_ether_format_addr(mac, sizeof(mac), &a);
	json_array_append_new(
		c->a, json_pack("{s:s, s:s, s:i, s:s, s:s, s:I}", "mac", mac, "group", group,
				"vlan", vlan, "port", p ? p->cfg.name : "?", "type",
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

/* fdb.add's answer: the request's static MAC. */
static json_t *static_added(const struct cfg_node *schema, const void *elem, void *arg)
{
	const struct fdb_params *fp = arg;

	char mac[CFG_MAC_STRLEN];

	(void)schema;
	(void)elem;
	return json_pack("{s:s, s:s, s:s}", "group", fp->group, "mac",
			 cfg_fmt_mac(&fp->mac, mac, sizeof(mac)), "port", fp->port);
}

static json_t *static_removed(const struct cfg_node *schema, const void *elem, void *arg)
{
	const struct fdb_params *fp = arg;

	char mac[CFG_MAC_STRLEN];

	(void)schema;
	(void)elem;
	return json_pack("{s:s, s:s}", "group", fp->group, "mac",
			 cfg_fmt_mac(&fp->mac, mac, sizeof(mac)));
}

/* Adds (mac -> port) to group's static MACs, or removes mac (add false). */
static int edit_static(const struct fdb_params *fp, bool add, json_t **result,
		       struct ctl_error *err)
{
	const struct tessd_group_cfg *g = tessd_cfg_group(&tessd.cfg, fp->group);
	char array[48], mac[CFG_MAC_STRLEN];
	int found = -1;

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
	/* A static MAC added again is moved to the new port. */
	struct tessd_static_mac sm = { .mac = fp->mac };
	snprintf(sm.port, TESS_NAME_LEN, "%s", fp->port);
	snprintf(array, sizeof(array), "/switch/groups/%u/static_macs",
		 (uint32_t)(g - tessd.cfg.sw.groups));
	const struct dp_edit e = {
		.op = !add         ? DP_EDIT_DEL
		      : found >= 0 ? DP_EDIT_SET
				   : DP_EDIT_ADD,
		.array = array,
		.index = found >= 0 ? (uint32_t)found : 0,
		.item = &sm,
		.arg = (void *)fp,
		.answer = add ? static_added : static_removed,
	};
	if (add)
		return dp_edit(&e, result, err, "group %s: static MAC %s on port %s", fp->group,
			       mac, fp->port);
	return dp_edit(&e, result, err, "group %s: static MAC %s removed", fp->group, mac);
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
