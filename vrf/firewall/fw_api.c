/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's API: rule sets (list, replace one at runtime), attaching
 * them to interfaces, per-rule counters and the baseline check. Every
 * change goes through the one apply path (dp_edit): a set replaced is
 * validated with the whole config, its context built, and swapped in with
 * the next snapshot, all or nothing.
 */
#include <errno.h>
#include <string.h>

#include "apply.h"
#include "fw_conn.h"
#include "fw_int.h"
#include "tessd.h"
#include "worker.h"

uint64_t fw_resets_sent, fw_resets_base;
static struct fw_gcnt gbase[4096]; /* each group's sums at the last stats reset */

/* A group's counters (by VLAN), all workers, since the last reset. */
static struct fw_gcnt group_count(uint16_t vlan)
{
	struct fw_gcnt s = { 0, 0, 0 };

	for (unsigned w = 0; w < dp_worker_count(); w++) {
		const struct fw_worker *fw = dp_worker_get(w)->mod[fw_module.id];
		if (fw == NULL)
			continue;
		s.ipv4 += __atomic_load_n(&fw->grp[vlan].ipv4, __ATOMIC_RELAXED);
		s.dropped += __atomic_load_n(&fw->grp[vlan].dropped, __ATOMIC_RELAXED);
		s.passed += __atomic_load_n(&fw->grp[vlan].passed, __ATOMIC_RELAXED);
	}
	s.ipv4 -= gbase[vlan].ipv4;
	s.dropped -= gbase[vlan].dropped;
	s.passed -= gbase[vlan].passed;
	return s;
}

struct fw_cnt fw_ctx_count(const struct fw_ctx *c, uint32_t r)
{
	struct fw_cnt s = { 0, 0 };

	for (unsigned w = 0; w < dp_worker_count(); w++) {
		const struct fw_cnt *x = &c->cnt[(size_t)w * c->stride + r];
		s.pkts += __atomic_load_n(&x->pkts, __ATOMIC_RELAXED);
		s.bytes += __atomic_load_n(&x->bytes, __ATOMIC_RELAXED);
	}
	s.pkts -= c->base[r].pkts;
	s.bytes -= c->base[r].bytes;
	return s;
}

static const struct fw_tables *cur_tables(void)
{
	return dp_snap ? fw_tables_of(dp_snap) : NULL;
}

void fw_stats_reset(void)
{
	const struct fw_tables *t = cur_tables();

	/* A baseline, never a write to workers' rows. */
	for (uint32_t i = 0; t && i < t->n_ctx; i++) {
		struct fw_ctx *c = t->ctxs[i];
		for (uint32_t r = 0; r < c->n_rules + FW_CNT_EXTRA; r++) {
			struct fw_cnt x = fw_ctx_count(c, r);
			c->base[r].pkts += x.pkts;
			c->base[r].bytes += x.bytes;
		}
	}
	for (uint16_t v = 1; v < 4095; v++) {
		struct fw_gcnt x = group_count(v);
		gbase[v].ipv4 += x.ipv4;
		gbase[v].dropped += x.dropped;
		gbase[v].passed += x.passed;
	}
	fw_resets_base = fw_resets_sent;
}

static const char *const dir_names[FW_DIRS] = { "in", "out" };

/* The interfaces (and their VRFs) set s is attached to in direction d, by the config. */
static json_t *attached(const struct tessd_cfg *cfg, const char *set, uint8_t d, const char *vrf)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < cfg->firewall.n_attach; i++) {
		const struct tessd_fw_attach *at = &cfg->firewall.attach[i];
		const struct tessd_iface_cfg *ic = tessd_cfg_iface(cfg, at->interface);
		if (strcmp(d == FW_IN ? at->in : at->out, set) != 0 || ic == NULL ||
		    (vrf && strcmp(vrf, ic->vrf) != 0))
			continue;
		json_array_append_new(
			a, json_pack("{s:s, s:s}", "interface", at->interface, "vrf", ic->vrf));
	}
	return a;
}

/* The groups set s is attached to ("in" only: a group's set is its "in" context), by the config. */
static json_t *attached_groups(const struct tessd_cfg *cfg, const char *set, uint8_t d)
{
	json_t *a = json_array();

	for (uint32_t i = 0; d == FW_IN && i < cfg->firewall.n_groups; i++)
		if (strcmp(cfg->firewall.groups[i].set, set) == 0)
			json_array_append_new(a, json_string(cfg->firewall.groups[i].group));
	return a;
}

static json_t *cnt_json(struct fw_cnt x)
{
	return json_pack("{s:I, s:I}", "packets", (json_int_t)x.pkts, "bytes", (json_int_t)x.bytes);
}

/* A context's counters: in all, or per rule too. */
static json_t *ctx_json(const struct tessd_cfg *cfg, const struct fw_ctx *c, json_t *ifs,
			bool rules)
{
	struct fw_cnt acc = { 0, 0 }, ref = { 0, 0 }, x;
	json_t *o = json_object(), *a = rules ? json_array() : NULL;

	for (uint32_t r = 0; r <= c->n_rules; r++) {
		uint8_t act = r < c->n_rules ? c->action[r] : c->dflt;
		struct fw_cnt *sum = act == TESS_FW_ACCEPT ? &acc : &ref;
		x = fw_ctx_count(c, r);
		sum->pkts += x.pkts;
		sum->bytes += x.bytes;
		if (a && r < c->n_rules) {
			json_t *e = cnt_json(x);
			bool base = r < c->n_base;
			json_object_set_new(e, "rule", json_integer(base ? r : r - c->n_base));
			json_object_set_new(e, "baseline", json_boolean(base));
			json_object_set_new(e, "action", json_string(tess_fw_actions[act]));
			json_array_append_new(a, e);
		}
	}
	json_object_set_new(o, "ruleset", json_string(c->set));
	json_object_set_new(o, "direction", json_string(dir_names[c->dir]));
	json_object_set_new(o, "interfaces", ifs);
	json_object_set_new(o, "groups", attached_groups(cfg, c->set, c->dir));
	json_object_set_new(o, "rules", json_integer(c->n_rules - c->n_base));
	json_object_set_new(o, "baseline_rules", json_integer(c->n_base));
	json_object_set_new(o, "accepted", cnt_json(acc));
	json_object_set_new(o, "refused", cnt_json(ref));
	x = fw_ctx_count(c, c->n_rules);
	json_object_set_new(o, "default",
			    json_pack("{s:s, s:I, s:I}", "action", tess_fw_actions[c->dflt],
				      "packets", (json_int_t)x.pkts, "bytes", (json_int_t)x.bytes));
	json_object_set_new(o, "established",
			    cnt_json(fw_ctx_count(c, c->n_rules + FW_CNT_ESTABLISHED)));
	json_object_set_new(o, "related", cnt_json(fw_ctx_count(c, c->n_rules + FW_CNT_RELATED)));
	json_object_set_new(o, "build_us", json_integer((json_int_t)c->build_us));
	json_object_set_new(o, "acl_bytes", json_integer((json_int_t)c->mem));
	if (a)
		json_object_set_new(o, "counters", a);
	return o;
}

/* Every context in force, filtered by VRF (its interfaces) and set name. */
static json_t *ctxs_json(const struct tessd_cfg *cfg, const char *vrf, const char *set, bool rules)
{
	const struct fw_tables *t = cur_tables();
	json_t *a = json_array();

	for (uint32_t i = 0; t && i < t->n_ctx; i++) {
		const struct fw_ctx *c = t->ctxs[i];
		json_t *ifs = attached(cfg, c->set, c->dir, vrf);
		if ((set && strcmp(set, c->set) != 0) || (vrf && json_array_size(ifs) == 0)) {
			json_decref(ifs);
			continue;
		}
		json_array_append_new(a, ctx_json(cfg, c, ifs, rules));
	}
	return a;
}

/* The connection table's counters, and each VRF's entries. */
static json_t *conn_json(const struct tessd_cfg *cfg, const char *vrf)
{
	struct conn_stats cs;
	json_t *o, *v = json_object();

	for (uint32_t i = 0; i < cfg->router.n_vrfs; i++)
		if (vrf == NULL || strcmp(vrf, cfg->router.vrfs[i].name) == 0)
			json_object_set_new(
				v, cfg->router.vrfs[i].name,
				json_integer(conn_owner_count(fw_conn, cfg->router.vrfs[i].id)));
	conn_stats_get(fw_conn, &cs);
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "capacity",
		      (json_int_t)fw_conn->capacity, "vrf_limit",
		      (json_int_t)cfg->firewall.conn_vrf_limit, "live", (json_int_t)cs.live,
		      "created", (json_int_t)cs.created, "expired", (json_int_t)cs.expired,
		      "removed", (json_int_t)cs.removed, "table_full", (json_int_t)cs.table_full,
		      "tenant_limit", (json_int_t)cs.tenant_limit, "clash", (json_int_t)cs.clash,
		      "borrowed", (json_int_t)cs.borrowed);
	json_object_set_new(o, "vrfs", v);
	if (vrf == NULL) {
		json_t *g = json_object();
		for (uint32_t i = 0; i < cfg->firewall.n_groups; i++) {
			const struct tessd_group_cfg *gc =
				tessd_cfg_group(cfg, cfg->firewall.groups[i].group);
			if (gc)
				json_object_set_new(g, gc->name,
						    json_integer(conn_owner_count(
							    fw_conn, FW_GROUP_DOM(gc->vlan))));
		}
		json_object_set_new(o, "groups", g);
	}
	return o;
}

/*
 * Each group with a set: the set and its frames (not per VRF: a group has
 * none). A list of objects, as "groups" is: /metrics labels them so.
 */
static json_t *groups_json(const struct tessd_cfg *cfg)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < cfg->firewall.n_groups; i++) {
		const struct tessd_fw_group *fg = &cfg->firewall.groups[i];
		const struct tessd_group_cfg *g = tessd_cfg_group(cfg, fg->group);
		struct fw_gcnt x;
		if (g == NULL)
			continue;
		x = group_count(g->vlan);
		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:I, s:I, s:I}", "group",
						   fg->group, "ruleset", fg->set, "vlan",
						   (int)g->vlan, "ipv4", (json_int_t)x.ipv4,
						   "dropped", (json_int_t)x.dropped, "passed",
						   (json_int_t)x.passed));
	}
	return a;
}

void fw_stats_json(json_t *stats, const struct tessd_cfg *cfg, const char *vrf)
{
	json_object_set_new(stats, "firewall", ctxs_json(cfg, vrf, NULL, false));
	if (fw_conn)
		json_object_set_new(stats, "firewall_conn", conn_json(cfg, vrf));
	if (vrf == NULL)
		json_object_set_new(stats, "firewall_groups", groups_json(cfg));
	if (vrf == NULL)
		json_object_set_new(stats, "firewall_resets_sent",
				    json_integer((json_int_t)(fw_resets_sent - fw_resets_base)));
}

/* ---- methods ---- */

struct set_filter {
	char name[TESS_NAME_LEN];
	char vrf[TESS_NAME_LEN];
};

static int check_filter(const struct set_filter *f, struct ctl_error *err)
{
	if (f->name[0] && tessd_cfg_fw_ruleset(&tessd.cfg, f->name) == NULL) {
		ctl_error_set(err, ENOENT, "/params/name", "no rule set %s", f->name);
		return -ENOENT;
	}
	if (f->vrf[0] && tessd_cfg_vrf(&tessd.cfg, f->vrf) == NULL) {
		ctl_error_set(err, ENOENT, "/params/vrf", "no VRF %s", f->vrf);
		return -ENOENT;
	}
	return 0;
}

static int fw_rulesets_api(const void *params, json_t **result, struct ctl_error *err)
{
	const struct set_filter *f = params;
	const struct tessd_cfg *cfg = &tessd.cfg;
	json_t *a;
	int rc = check_filter(f, err);

	if (rc < 0)
		return rc;
	a = json_array();
	for (uint32_t i = 0; i < cfg->firewall.n_rulesets; i++) {
		const struct tessd_fw_ruleset *s = &cfg->firewall.rulesets[i];
		json_t *o, *in, *out;
		if (f->name[0] && strcmp(f->name, s->name) != 0)
			continue;
		in = attached(cfg, s->name, FW_IN, f->vrf[0] ? f->vrf : NULL);
		out = attached(cfg, s->name, FW_OUT, f->vrf[0] ? f->vrf : NULL);
		if (f->vrf[0] && json_array_size(in) + json_array_size(out) == 0) {
			json_decref(in);
			json_decref(out);
			continue;
		}
		o = cfg_encode(&tessd_fw_ruleset_schema, s);
		json_object_set_new(o, "attached_in", in);
		json_object_set_new(o, "attached_out", out);
		json_object_set_new(o, "attached_groups", attached_groups(cfg, s->name, FW_IN));
		json_array_append_new(a, o);
	}
	*result = a;
	return 0;
}

static int fw_stats_api(const void *params, json_t **result, struct ctl_error *err)
{
	const struct set_filter *f = params;
	int rc = check_filter(f, err);

	if (rc < 0)
		return rc;
	*result =
		ctxs_json(&tessd.cfg, f->vrf[0] ? f->vrf : NULL, f->name[0] ? f->name : NULL, true);
	return 0;
}

static int fw_set_api(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_fw_ruleset *s = params;
	const struct tessd_fw_ruleset *old = tessd_cfg_fw_ruleset(&tessd.cfg, s->name);
	struct dp_edit e = { .op = old ? DP_EDIT_SET : DP_EDIT_ADD,
			     .array = "/firewall/rulesets",
			     .index = old ? (uint32_t)(old - tessd.cfg.firewall.rulesets) : 0,
			     .item = s,
			     .answer = dp_answer_name };

	return dp_edit(&e, result, err, "firewall: rule set %s %s (%u rules)", s->name,
		       old ? "replaced" : "added", s->n_rules);
}

static int fw_attach_api(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_fw_attach *a = params;
	const struct tessd_fw_cfg *f = &tessd.cfg.firewall;
	uint32_t i = 0;
	struct dp_edit e = { .array = "/firewall/attach", .item = a };

	while (i < f->n_attach && strcmp(f->attach[i].interface, a->interface) != 0)
		i++;
	e.index = i;
	if (a->in[0] == '\0' && a->out[0] == '\0') {
		if (i == f->n_attach) {
			ctl_error_set(err, ENOENT, "/params/interface",
				      "interface %s has no rule set attached", a->interface);
			return -ENOENT;
		}
		e.op = DP_EDIT_DEL;
		return dp_edit(&e, result, err, "firewall: %s detached", a->interface);
	}
	e.op = i < f->n_attach ? DP_EDIT_SET : DP_EDIT_ADD;
	return dp_edit(&e, result, err, "firewall: %s attached (in %s, out %s)", a->interface,
		       a->in[0] ? a->in : "-", a->out[0] ? a->out : "-");
}

/* A group's set: attached, replaced (atomically, with the next snapshot) or, set "", detached. */
static int fw_group_api(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_fw_group *g = params;
	const struct tessd_fw_cfg *f = &tessd.cfg.firewall;
	uint32_t i = 0;
	struct dp_edit e = { .array = "/firewall/groups", .item = g };

	while (i < f->n_groups && strcmp(f->groups[i].group, g->group) != 0)
		i++;
	e.index = i;
	if (g->set[0] == '\0') {
		if (i == f->n_groups) {
			ctl_error_set(err, ENOENT, "/params/group",
				      "group %s has no rule set attached", g->group);
			return -ENOENT;
		}
		e.op = DP_EDIT_DEL;
		return dp_edit(&e, result, err, "firewall: group %s detached", g->group);
	}
	e.op = i < f->n_groups ? DP_EDIT_SET : DP_EDIT_ADD;
	return dp_edit(&e, result, err, "firewall: group %s attached (%s)", g->group, g->set);
}

static int fw_check_api(const void *params, json_t **result, struct ctl_error *err)
{
	(void)params;
	*result = fw_check(&tessd.cfg);
	if (*result == NULL) {
		ctl_error_set(err, ENOMEM, "", "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static const struct cfg_field filter_fields[] = {
	CFG_FIELD(struct set_filter, name, "name", &tessd_opt_name_schema, false, "\"\""),
	CFG_FIELD(struct set_filter, vrf, "vrf", &tessd_opt_name_schema, false, "\"\""),
	{ 0 },
};
static const struct cfg_node filter_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = filter_fields, .size = sizeof(struct set_filter) },
};

static const struct cfg_field attach_fields[] = {
	CFG_FIELD(struct tessd_fw_attach, interface, "interface", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct tessd_fw_attach, in, "in", &tessd_opt_name_schema, false, "\"\""),
	CFG_FIELD(struct tessd_fw_attach, out, "out", &tessd_opt_name_schema, false, "\"\""),
	{ 0 },
};
static const struct cfg_field group_fields[] = {
	CFG_FIELD(struct tessd_fw_group, group, "group", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct tessd_fw_group, set, "set", &tessd_opt_name_schema, false, "\"\""),
	{ 0 },
};
static const struct cfg_node group_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = group_fields, .size = sizeof(struct tessd_fw_group) },
};

static const struct cfg_node attach_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = attach_fields, .size = sizeof(struct tessd_fw_attach) },
};

const struct ctl_method fw_methods[] = {
	{ "firewall.rulesets", &filter_schema, fw_rulesets_api,
	  "firewall rule sets (by name, or those of a VRF's interfaces) and where attached" },
	{ "firewall.set", &tessd_fw_ruleset_schema, fw_set_api,
	  "add or replace one firewall rule set, atomically" },
	{ "firewall.attach", &attach_schema, fw_attach_api,
	  "attach rule sets to an interface (in, out; both empty: detach)" },
	{ "firewall.group", &group_schema, fw_group_api,
	  "attach a rule set to a vswitch group's frames from its ports (set \"\": detach)" },
	{ "firewall.stats", &filter_schema, fw_stats_api,
	  "firewall counters per rule set and direction, per rule" },
	{ "firewall.check", NULL, fw_check_api,
	  "how interfaces and rule sets deviate from the firewall baseline" },
	{ 0 },
};
