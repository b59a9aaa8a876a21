/* SPDX-License-Identifier: BSD-3-Clause */
/* The policer API: policer.set, policer.del, policer.list (control thread). */
#include <errno.h>
#include <string.h>

#include "apply.h"
#include "policer_int.h"
#include "stats.h"
#include "tessd.h"

static int find(const char *name)
{
	for (uint32_t i = 0; i < tessd.cfg.n_policers; i++)
		if (strcmp(tessd.cfg.policers[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Adds a policer, or replaces the one of that name (profile and attachments) whole. */
static int pol_set(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_policer_cfg *p = params;
	int i = find(p->name);
	const struct dp_edit e = {
		.op = i >= 0 ? DP_EDIT_SET : DP_EDIT_ADD,
		.array = "/policers",
		.index = i >= 0 ? (uint32_t)i : 0,
		.item = p,
	};

	return dp_edit(&e, result, err, "policer %s %s: %s %u kbit/s", p->name,
		       i >= 0 ? "changed" : "added", tess_pol_types[p->type], p->cir_kbps);
}

static int pol_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_name_params *p = params;
	int i = find(p->name);

	if (i < 0) {
		ctl_error_set(err, ENOENT, "/params/name", "no policer named '%s'", p->name);
		return -ENOENT;
	}
	const struct dp_edit e = {
		.op = DP_EDIT_DEL,
		.array = "/policers",
		.index = (uint32_t)i,
		.answer = dp_answer_name,
	};
	return dp_edit(&e, result, err, "policer %s removed", p->name);
}

static int pol_list(const void *params, json_t **result, struct ctl_error *err)
{
	(void)params;
	(void)err;
	*result = pol_list_json(&tessd.cfg);
	return 0;
}

/* The counters of one object of a stats section ({"name": ...} objects), or NULL. */
static const json_t *named(const json_t *section, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach (section, i, o) {
		if (strcmp(json_string_value(json_object_get(o, "name")) ?: "", name) == 0)
			return o;
	}
	return NULL;
}

/* Adds {kind: {name: counters}} under tenant t of out, if the tenant is wanted. */
static void add_tenant_obj(json_t *out, const char *want, const char *tenant, const char *kind,
			   const char *name, const json_t *section)
{
	static const char *const keys[] = { "rx_packets", "rx_bytes", "tx_packets", "tx_bytes" };
	/* A VRF sends what it forwards (routed out of its interfaces). */
	static const char *const vrf_keys[] = { "rx_packets", "rx_bytes", "forwarded",
						"forwarded_bytes" };
	const char *const *from = strcmp(kind, "vrfs") == 0 ? vrf_keys : keys;
	const json_t *o = named(section, name);
	json_t *t, *k, *c;

	if (tenant[0] == '\0' || (want[0] && strcmp(want, tenant) != 0) || o == NULL)
		return;
	t = json_object_get(out, tenant);
	if (t == NULL) {
		t = json_pack("{s:{}, s:{}, s:{}}", "ports", "groups", "vrfs");
		json_object_set_new(out, tenant, t);
	}
	k = json_object_get(t, kind);
	c = json_object();
	for (unsigned i = 0; i < RTE_DIM(keys); i++)
		json_object_set(c, keys[i], json_object_get(o, from[i]));
	json_object_set_new(k, name, c);
}

struct tenants_params {
	char tenant[TESS_TENANT_LEN];
};

/* Only the tenant-labelled ports', groups' and VRFs' traffic counters, by tenant. */
static int stats_tenants(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tenants_params *p = params;
	const struct tessd_cfg *cfg = &tessd.cfg;
	json_t *st = dp_stats_json(cfg, NULL), *out = json_object();

	(void)err;
	for (uint32_t i = 0; i < cfg->n_ports; i++)
		add_tenant_obj(out, p->tenant, cfg->ports[i].tenant, "ports", cfg->ports[i].name,
			       json_object_get(st, "ports"));
	for (uint32_t i = 0; i < cfg->sw.n_groups; i++)
		add_tenant_obj(out, p->tenant, cfg->sw.groups[i].tenant, "groups",
			       cfg->sw.groups[i].name, json_object_get(st, "groups"));
	for (uint32_t i = 0; i < cfg->router.n_vrfs; i++)
		add_tenant_obj(out, p->tenant, cfg->router.vrfs[i].tenant, "vrfs",
			       cfg->router.vrfs[i].name, json_object_get(st, "vrfs"));
	*result =
		json_pack("{s:O, s:o}", "seconds", json_object_get(st, "seconds"), "tenants", out);
	json_decref(st);
	return 0;
}

static const struct cfg_field tenants_fields[] = {
	CFG_FIELD(struct tenants_params, tenant, "tenant", &tessd_tenant_schema, false, "\"\""),
	{ 0 },
};
static const struct cfg_node tenants_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = tenants_fields, .size = sizeof(struct tenants_params) },
};

const struct ctl_method pol_methods[] = {
	{ "policer.set", &tessd_policer_schema, pol_set,
	  "add or replace a policer (srtcm/trtcm profile and the objects it polices)" },
	{ "policer.del", &tessd_name_params_schema, pol_del, "remove a policer" },
	{ "policer.list", NULL, pol_list, "policers, their attachments and colour counters" },
	{ "stats.tenants", &tenants_schema, stats_tenants,
	  "traffic of tenant-labelled ports, groups and VRFs, by tenant" },
	{ 0 },
};
