/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The baseline check (`firewall check`). The baseline's rules of a
 * direction come before every rule set attached that way, so a tenant can
 * never override them; what the check reports ("deviations") is where the
 * tenants' intent and the baseline part:
 *  - unattached: an interface with no rule set in a direction whose
 *    baseline has rules (the baseline is enforced only through a set), or a
 *    vswitch group with no set while the `in` baseline has rules (what its
 *    ports switch to each other meets neither);
 *  - overridden: a rule of a set whose every packet a baseline rule with
 *    the other verdict decides first (accept against drop or reject);
 *  - partly_overridden: the same for some of its packets.
 * For a tenant rule T, the baseline's rules are taken in order, those that
 * match none of T's packets skipped (for a set's groups, those naming an
 * interface too): the first with the other verdict is
 * reported (overridden if it matches all of T's packets), and the search
 * stops at a rule with T's verdict that matches all of T's packets (T's
 * verdict stands for all of them). Comparisons are on the rules' fields
 * (ranges and prefixes), not on traffic.
 */
#include <string.h>

#include "fw_int.h"
#include "tessd.h"

struct rule_view {
	struct tessd_fw_match m;
	const char *iface; /* "": any */
	bool accept;
};

static void view(const struct tessd_fw_rule *r, struct rule_view *v)
{
	tessd_fw_match(r, &v->m);
	v->iface = r->interface;
	v->accept = r->action == TESS_FW_ACCEPT;
}

static uint32_t mask(uint8_t len)
{
	return len ? UINT32_MAX << (32 - len) : 0;
}

/* Prefix a holds all of b; a and b share an address. */
static bool pfx_covers(uint32_t a, uint8_t al, uint32_t b, uint8_t bl)
{
	return al <= bl && ((a ^ b) & mask(al)) == 0;
}

static bool pfx_meets(uint32_t a, uint8_t al, uint32_t b, uint8_t bl)
{
	return ((a ^ b) & mask(al < bl ? al : bl)) == 0;
}

static bool rng_covers(const uint16_t *a, const uint16_t *b)
{
	return a[0] <= b[0] && b[1] <= a[1];
}

static bool rng_meets(const uint16_t *a, const uint16_t *b)
{
	return a[0] <= b[1] && b[0] <= a[1];
}

static bool proto_covers(const uint8_t *a, const uint8_t *b)
{
	return a[0] <= b[0] && b[1] <= a[1];
}

/*
 * ICMP keeps type and code where ports are: a rule of any protocol holds
 * them all, so comparing the ranges is right only between rules of one
 * protocol or against a rule with full ranges; a port rule and an ICMP rule
 * never meet (their protocols differ).
 */
static bool covers(const struct rule_view *a, const struct rule_view *b)
{
	bool any_proto = a->m.proto[0] == 0 && a->m.proto[1] == 255;
	return proto_covers(a->m.proto, b->m.proto) &&
	       pfx_covers(a->m.src, a->m.src_len, b->m.src, b->m.src_len) &&
	       pfx_covers(a->m.dst, a->m.dst_len, b->m.dst, b->m.dst_len) &&
	       (any_proto ? a->m.sport[0] == 0 && a->m.sport[1] == 65535 && a->m.dport[0] == 0 &&
				    a->m.dport[1] == 65535
			  : rng_covers(a->m.sport, b->m.sport) &&
				    rng_covers(a->m.dport, b->m.dport)) &&
	       rng_covers(a->m.vlan, b->m.vlan) &&
	       (a->iface[0] == '\0' || strcmp(a->iface, b->iface) == 0);
}

static bool meets(const struct rule_view *a, const struct rule_view *b)
{
	bool one_proto = a->m.proto[0] == a->m.proto[1] && b->m.proto[0] == b->m.proto[1];
	return a->m.proto[0] <= b->m.proto[1] && b->m.proto[0] <= a->m.proto[1] &&
	       pfx_meets(a->m.src, a->m.src_len, b->m.src, b->m.src_len) &&
	       pfx_meets(a->m.dst, a->m.dst_len, b->m.dst, b->m.dst_len) &&
	       (!one_proto ||
		(rng_meets(a->m.sport, b->m.sport) && rng_meets(a->m.dport, b->m.dport))) &&
	       rng_meets(a->m.vlan, b->m.vlan) &&
	       (a->iface[0] == '\0' || b->iface[0] == '\0' || strcmp(a->iface, b->iface) == 0);
}

/*
 * The rules of set s that the baseline of direction d overrides, into devs. For groups
 * (groups_only), rules naming an interface, the baseline's or the set's, are left out: none
 * matches a group's frame.
 */
static void check_set(const struct tessd_fw_ruleset *s, const struct tessd_fw_rule *base,
		      uint32_t nb, uint8_t d, bool groups_only, json_t *devs)
{
	static const char *const dirs[] = { "in", "out" };

	for (uint32_t i = 0; i < s->n_rules; i++) {
		struct rule_view t, b;
		view(&s->rules[i], &t);
		if (groups_only && t.iface[0])
			continue; /* never a group's frame's either */
		for (uint32_t k = 0; k < nb; k++) {
			bool all;
			view(&base[k], &b);
			if ((groups_only && b.iface[0]) || !meets(&b, &t))
				continue;
			all = covers(&b, &t);
			if (b.accept == t.accept) {
				if (all)
					break;
				continue;
			}
			json_array_append_new(
				devs,
				json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "kind",
					  all ? "overridden" : "partly_overridden", "ruleset",
					  s->name, "direction", dirs[d], "rule", (json_int_t)i,
					  "baseline_rule", (json_int_t)k, "action",
					  tess_fw_actions[s->rules[i].action], "baseline_action",
					  tess_fw_actions[base[k].action]));
			break;
		}
	}
}

/* Whether set name is attached to an interface in direction d. */
static bool set_used(const struct tessd_cfg *cfg, const char *name, uint8_t d)
{
	for (uint32_t i = 0; i < cfg->firewall.n_attach; i++)
		if (strcmp(d == FW_IN ? cfg->firewall.attach[i].in : cfg->firewall.attach[i].out,
			   name) == 0)
			return true;
	return false;
}

/* The set group is attached to ("": none). */
static const char *group_set(const struct tessd_cfg *cfg, const char *group)
{
	for (uint32_t i = 0; i < cfg->firewall.n_groups; i++)
		if (strcmp(cfg->firewall.groups[i].group, group) == 0)
			return cfg->firewall.groups[i].set;
	return "";
}

static const struct tessd_fw_attach *attach_of(const struct tessd_cfg *cfg, const char *iface)
{
	for (uint32_t i = 0; i < cfg->firewall.n_attach; i++)
		if (strcmp(cfg->firewall.attach[i].interface, iface) == 0)
			return &cfg->firewall.attach[i];
	return NULL;
}

/* A group's tenant, or its name where it names none. */
static const char *group_tenant(const struct tessd_group_cfg *g)
{
	return g->tenant[0] ? g->tenant : g->name;
}

/* The VRFs (tenants) of the interfaces set s is attached to in direction d. */
static void add_iface_tenants(const struct tessd_cfg *cfg, const char *set, int d, json_t *tenants)
{
	for (uint32_t i = 0; i < cfg->firewall.n_attach; i++) {
		const struct tessd_fw_attach *a = &cfg->firewall.attach[i];
		const struct tessd_iface_cfg *ic = tessd_cfg_iface(cfg, a->interface);
		if (ic && strcmp(d == FW_IN ? a->in : a->out, set) == 0)
			json_object_set_new(tenants, ic->vrf, json_true());
	}
}

/* Whether a group has set s. */
static bool group_uses(const struct tessd_cfg *cfg, const char *set)
{
	for (uint32_t i = 0; i < cfg->firewall.n_groups; i++)
		if (strcmp(cfg->firewall.groups[i].set, set) == 0)
			return true;
	return false;
}

/* The tenants of the groups set s is attached to. */
static void add_group_tenants(const struct tessd_cfg *cfg, const char *set, json_t *tenants)
{
	for (uint32_t i = 0; i < cfg->sw.n_groups; i++)
		if (strcmp(group_set(cfg, cfg->sw.groups[i].name), set) == 0)
			json_object_set_new(tenants, group_tenant(&cfg->sw.groups[i]), json_true());
}

/* Appends to devs those of more that devs has not from index from on (the same deviation
 * found for interfaces and for groups is one). */
static void append_new(json_t *devs, size_t from, json_t *more)
{
	size_t n = json_array_size(devs), i, k;
	json_t *m;

	json_array_foreach (more, i, m) {
		for (k = from; k < n && !json_equal(json_array_get(devs, k), m); k++)
			;
		if (k == n)
			json_array_append(devs, m);
	}
}

json_t *fw_check(const struct tessd_cfg *cfg)
{
	const struct tessd_fw_baseline *bl = &cfg->firewall.baseline;
	const struct tessd_fw_rule *base[FW_DIRS] = { bl->in, bl->out };
	uint32_t nb[FW_DIRS] = { bl->n_in, bl->n_out };
	json_t *devs = json_array(), *tenants = json_object(), *o, *list, *v;
	const char *k;

	for (uint32_t i = 0; i < cfg->router.n_interfaces; i++) {
		const struct tessd_iface_cfg *ic = &cfg->router.interfaces[i];
		const struct tessd_fw_attach *a = attach_of(cfg, ic->name);
		for (int d = 0; d < FW_DIRS; d++) {
			if (nb[d] == 0 || (a && (d == FW_IN ? a->in : a->out)[0]))
				continue;
			json_array_append_new(devs, json_pack("{s:s, s:s, s:s, s:s}", "kind",
							      "unattached", "interface", ic->name,
							      "vrf", ic->vrf, "direction",
							      d == FW_IN ? "in" : "out"));
			json_object_set_new(tenants, ic->vrf, json_true());
		}
	}
	/* A group's frames meet the baseline's `in` rules only through its set. */
	for (uint32_t i = 0; nb[FW_IN] && i < cfg->sw.n_groups; i++) {
		const struct tessd_group_cfg *g = &cfg->sw.groups[i];
		if (group_set(cfg, g->name)[0])
			continue;
		json_array_append_new(devs,
				      json_pack("{s:s, s:s, s:i, s:s, s:s}", "kind", "unattached",
						"group", g->name, "vlan", (int)g->vlan, "tenant",
						g->tenant, "direction", "in"));
		json_object_set_new(tenants, group_tenant(g), json_true());
	}
	for (uint32_t i = 0; i < cfg->firewall.n_rulesets; i++) {
		const struct tessd_fw_ruleset *s = &cfg->firewall.rulesets[i];
		for (uint8_t d = 0; d < FW_DIRS; d++) {
			json_t *on_groups = json_array();
			size_t before = json_array_size(devs);
			if (set_used(cfg, s->name, d)) {
				check_set(s, base[d], nb[d], d, false, devs);
				if (json_array_size(devs) > before)
					add_iface_tenants(cfg, s->name, d, tenants);
			}
			/* Groups apart: the baseline's interface rules are not theirs. */
			if (d == FW_IN && group_uses(cfg, s->name)) {
				check_set(s, base[d], nb[d], d, true, on_groups);
				if (json_array_size(on_groups))
					add_group_tenants(cfg, s->name, tenants);
				append_new(devs, before, on_groups);
			}
			json_decref(on_groups);
		}
	}
	list = json_array();
	json_object_foreach (tenants, k, v)
		json_array_append_new(list, json_string(k));
	json_decref(tenants);
	o = json_pack("{s:b, s:o, s:o, s:{s:I, s:I}}", "compliant", json_array_size(devs) == 0,
		      "deviations", devs, "tenants", list, "baseline_rules", "in",
		      (json_int_t)nb[FW_IN], "out", (json_int_t)nb[FW_OUT]);
	return o;
}
