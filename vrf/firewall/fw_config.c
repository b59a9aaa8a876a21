/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall part of tessd's config (the module is vrf/firewall): rule
 * sets, their attachment to router interfaces per direction, the provider's
 * baseline and the limits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessd_config.h"

const char *const tess_fw_actions[] = { "accept", "drop", "reject", NULL };

static const struct cfg_node action_node = {
	.type = CFG_ENUM,
	.str = { .max_len = 6, .choices = tess_fw_actions },
};
static const struct cfg_node prefix_node = {
	.type = CFG_PREFIX4,
	.str = { .max_len = TESS_PREFIX_LEN - 1, .charset = "0123456789./" },
};
static const struct cfg_node proto_node = {
	.type = CFG_STRING,
	.str = { .min_len = 1,
		 .max_len = TESS_FW_PROTO_LEN - 1,
		 .charset = "abcdefghijklmnopqrstuvwxyz0123456789" },
};
static const struct cfg_node range_node = {
	.type = CFG_STRING,
	.str = { .max_len = TESS_FW_RANGE_LEN - 1, .charset = "0123456789-" },
};
static const struct cfg_node icmp_node = { .type = CFG_INT, .i = { -1, 255 } };
static const struct cfg_node iface_ref_node = {
	.type = CFG_REF,
	.str = { .max_len = TESS_NAME_LEN - 1, .charset = CFG_NAME_CHARSET },
	.ref = { .table = "/router/interfaces", .key = "name", .what = "interface" },
};
static const struct cfg_node set_ref_node = {
	.type = CFG_REF,
	.str = { .max_len = TESS_NAME_LEN - 1, .charset = CFG_NAME_CHARSET },
	.ref = { .table = "/firewall/rulesets", .key = "name", .what = "rule set" },
};

/* "N" or "N-M" within lo..hi ("": lo..hi) into r; false if malformed. */
static bool parse_range(const char *s, uint32_t lo, uint32_t hi, uint16_t r[2])
{
	char *end;
	unsigned long a, b;

	if (s[0] == '\0') {
		r[0] = (uint16_t)lo;
		r[1] = (uint16_t)hi;
		return true;
	}
	a = strtoul(s, &end, 10);
	b = a;
	if (end == s)
		return false;
	if (*end == '-') {
		const char *t = end + 1;
		b = strtoul(t, &end, 10);
		if (end == t)
			return false;
	}
	if (*end != '\0' || a < lo || b > hi || a > b)
		return false;
	r[0] = (uint16_t)a;
	r[1] = (uint16_t)b;
	return true;
}

/* A protocol's number (-1: any, -2: unknown). */
static int proto_num(const char *s)
{
	static const struct {
		const char *name;
		int num;
	} names[] = { { "any", -1 }, { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 } };
	char *end;
	unsigned long n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].num;
	n = strtoul(s, &end, 10);
	return s[0] >= '0' && s[0] <= '9' && *end == '\0' && n <= 255 ? (int)n : -2;
}

static bool host_bits(const struct cfg_prefix4 *p)
{
	return p->len < 32 && (p->ip & (UINT32_MAX >> p->len)) != 0;
}

/* A rule's fields together (the schema checked each): at the rule's path. */
static int check_rule(const void *val, char *why, size_t len)
{
	const struct tessd_fw_rule *r = val;
	int proto = proto_num(r->proto);
	uint16_t x[2];
	char p[CFG_PREFIX_STRLEN];

	if (proto == -2)
		return snprintf(why, len, "proto %s: not any, tcp, udp, icmp or 0-255", r->proto),
		       EINVAL;
	if (!parse_range(r->sport, 0, 65535, x) || !parse_range(r->dport, 0, 65535, x))
		return snprintf(why, len, "sport/dport: \"N\" or \"N-M\" with N <= M <= 65535"),
		       EINVAL;
	if ((r->sport[0] || r->dport[0]) && proto != 6 && proto != 17)
		return snprintf(why, len, "sport/dport need proto tcp or udp"), EINVAL;
	if ((r->icmp_type >= 0 || r->icmp_code >= 0) && proto != 1)
		return snprintf(why, len, "icmp_type/icmp_code need proto icmp"), EINVAL;
	if (r->icmp_code >= 0 && r->icmp_type < 0)
		return snprintf(why, len, "icmp_code needs icmp_type"), EINVAL;
	if (!parse_range(r->vlan, 0, 4095, x))
		return snprintf(why, len, "vlan: \"N\" or \"N-M\" with N <= M <= 4095"), EINVAL;
	if (host_bits(&r->src) || host_bits(&r->dst))
		return snprintf(why, len, "%s has host bits",
				cfg_fmt_prefix4(host_bits(&r->src) ? &r->src : &r->dst, p,
						sizeof(p))),
		       EINVAL;
	return 0;
}

void tessd_fw_match(const struct tessd_fw_rule *r, struct tessd_fw_match *m)
{
	int proto = proto_num(r->proto);

	memset(m, 0, sizeof(*m));
	m->proto[0] = proto < 0 ? 0 : (uint8_t)proto;
	m->proto[1] = proto < 0 ? 255 : (uint8_t)proto;
	m->src = r->src.ip;
	m->src_len = r->src.len;
	m->dst = r->dst.ip;
	m->dst_len = r->dst.len;
	if (proto == 1) {
		m->sport[0] = r->icmp_type < 0 ? 0 : (uint16_t)r->icmp_type;
		m->sport[1] = r->icmp_type < 0 ? 255 : (uint16_t)r->icmp_type;
		m->dport[0] = r->icmp_code < 0 ? 0 : (uint16_t)r->icmp_code;
		m->dport[1] = r->icmp_code < 0 ? 255 : (uint16_t)r->icmp_code;
	} else {
		parse_range(r->sport, 0, 65535, m->sport);
		parse_range(r->dport, 0, 65535, m->dport);
	}
	parse_range(r->vlan, 0, 4095, m->vlan);
}

static const struct cfg_field rule_fields[] = {
	CFG_FIELD(struct tessd_fw_rule, action, "action", &action_node, true, NULL),
	CFG_FIELD(struct tessd_fw_rule, proto, "proto", &proto_node, false, "\"any\""),
	CFG_FIELD(struct tessd_fw_rule, src, "src", &prefix_node, false, "\"\""),
	CFG_FIELD(struct tessd_fw_rule, dst, "dst", &prefix_node, false, "\"\""),
	CFG_FIELD(struct tessd_fw_rule, sport, "sport", &range_node, false, "\"\""),
	CFG_FIELD(struct tessd_fw_rule, dport, "dport", &range_node, false, "\"\""),
	CFG_FIELD(struct tessd_fw_rule, icmp_type, "icmp_type", &icmp_node, false, "-1"),
	CFG_FIELD(struct tessd_fw_rule, icmp_code, "icmp_code", &icmp_node, false, "-1"),
	CFG_FIELD(struct tessd_fw_rule, interface, "interface", &iface_ref_node, false, "\"\""),
	CFG_FIELD(struct tessd_fw_rule, vlan, "vlan", &range_node, false, "\"\""),
	{ 0 },
};
static const struct cfg_node rule_node = {
	.type = CFG_OBJECT,
	.obj = { .fields = rule_fields, .size = sizeof(struct tessd_fw_rule) },
	.check = check_rule,
};
static const struct cfg_node rules_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &rule_node,
		 .max = TESS_FW_MAX_RULES,
		 .item_size = sizeof(struct tessd_fw_rule) },
};
static const struct cfg_node baseline_rules_node = {
	.type = CFG_ARRAY,
	.arr = { .item = &rule_node, .max = 4096, .item_size = sizeof(struct tessd_fw_rule) },
};

static const struct cfg_field ruleset_fields[] = {
	CFG_FIELD(struct tessd_fw_ruleset, name, "name", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct tessd_fw_ruleset, default_in, "default_in", &action_node, false,
		  "\"drop\""),
	CFG_FIELD(struct tessd_fw_ruleset, default_out, "default_out", &action_node, false,
		  "\"drop\""),
	CFG_ARRAY_FIELD(struct tessd_fw_ruleset, rules, n_rules, "rules", &rules_node, false, "[]"),
	{ 0 },
};
const struct cfg_node tessd_fw_ruleset_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = ruleset_fields, .size = sizeof(struct tessd_fw_ruleset) },
};

static const struct cfg_field attach_fields[] = {
	CFG_FIELD(struct tessd_fw_attach, interface, "interface", &iface_ref_node, true, NULL),
	CFG_FIELD(struct tessd_fw_attach, in, "in", &set_ref_node, false, "\"\""),
	CFG_FIELD(struct tessd_fw_attach, out, "out", &set_ref_node, false, "\"\""),
	{ 0 },
};
static const struct cfg_field group_fields[] = {
	CFG_FIELD(struct tessd_fw_group, group, "group", &tessd_group_ref_schema, true, NULL),
	CFG_FIELD(struct tessd_fw_group, set, "set", &set_ref_node, true, NULL),
	{ 0 },
};
const struct cfg_node tessd_fw_group_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = group_fields, .size = sizeof(struct tessd_fw_group) },
};
static const struct cfg_field baseline_fields[] = {
	CFG_ARRAY_FIELD(struct tessd_fw_baseline, in, n_in, "in", &baseline_rules_node, false,
			"[]"),
	CFG_ARRAY_FIELD(struct tessd_fw_baseline, out, n_out, "out", &baseline_rules_node, false,
			"[]"),
	{ 0 },
};

static const struct cfg_field fw_fields[] = {
	CFG_FIELD(struct tessd_fw_cfg, max_rules, "max_rules", CFG_INT_NODE(1, TESS_FW_MAX_RULES),
		  false, "16384"),
	/* A tenant's share of rule memory: one VRF's sets cannot take it all. */
	CFG_FIELD(struct tessd_fw_cfg, max_vrf_rules, "max_vrf_rules", CFG_INT_NODE(1, 1 << 22),
		  false, "65536"),
	CFG_FIELD(struct tessd_fw_cfg, rule_capacity, "rule_capacity", CFG_INT_NODE(1, 1 << 22),
		  false, "262144"),
	/* Allocated whole at the first start with rule sets (64 bytes an entry, and its index). */
	CFG_FIELD(struct tessd_fw_cfg, conn_capacity, "conn_capacity", CFG_INT_NODE(0, 1 << 24),
		  false, "65536"),
	/* A tenant's share: one VRF's flows cannot fill the table for the others. */
	CFG_FIELD(struct tessd_fw_cfg, conn_vrf_limit, "conn_vrf_limit", CFG_INT_NODE(0, 1 << 24),
		  false, "16384"),
	CFG_FIELD(struct tessd_fw_cfg, baseline, "baseline",
		  (&(const struct cfg_node){ .type = CFG_OBJECT,
					     .obj = { .fields = baseline_fields,
						      .size = sizeof(struct tessd_fw_baseline) } }),
		  false, "{}"),
	CFG_ARRAY_FIELD(struct tessd_fw_cfg, rulesets, n_rulesets, "rulesets",
			(&(const struct cfg_node){
				.type = CFG_ARRAY,
				.arr = { .item = &tessd_fw_ruleset_schema,
					 .max = 4096,
					 .item_size = sizeof(struct tessd_fw_ruleset) } }),
			false, "[]"),
	CFG_ARRAY_FIELD(
		struct tessd_fw_cfg, attach, n_attach, "attach",
		(&(const struct cfg_node){
			.type = CFG_ARRAY,
			.arr = { .item =
					 &(const struct cfg_node){
						 .type = CFG_OBJECT,
						 .obj = { .fields = attach_fields,
							  .size = sizeof(
								  struct tessd_fw_attach) } },
				 .max = 8192,
				 .item_size = sizeof(struct tessd_fw_attach) } }),
		false, "[]"),
	CFG_ARRAY_FIELD(
		struct tessd_fw_cfg, groups, n_groups, "groups",
		(&(const struct cfg_node){ .type = CFG_ARRAY,
					   .arr = { .item = &tessd_fw_group_schema,
						    .max = 4094,
						    .item_size = sizeof(struct tessd_fw_group) } }),
		false, "[]"),
	{ 0 },
};
const struct cfg_node tessd_fw_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = fw_fields, .size = sizeof(struct tessd_fw_cfg) },
};

const struct tessd_fw_ruleset *tessd_cfg_fw_ruleset(const struct tessd_cfg *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->firewall.n_rulesets; i++)
		if (strcmp(cfg->firewall.rulesets[i].name, name) == 0)
			return &cfg->firewall.rulesets[i];
	return NULL;
}

/* ---- the section's rules ---- */

/* Indexes sorted by a name at a fixed offset of fixed-size elements (for duplicates, finds). */
struct by_name {
	const char *base;
	size_t size;
};

static int cmp_name(const void *a, const void *b, void *arg)
{
	const struct by_name *n = arg;

	return strcmp(n->base + *(const uint32_t *)a * n->size,
		      n->base + *(const uint32_t *)b * n->size);
}

static uint32_t *sorted(const void *base, size_t size, uint32_t n)
{
	struct by_name bn = { base, size };
	uint32_t *o = malloc((n ? n : 1) * sizeof(*o));

	if (o == NULL)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		o[i] = i;
	qsort_r(o, n, sizeof(*o), cmp_name, &bn);
	return o;
}

static int64_t find(const void *base, size_t size, const uint32_t *o, uint32_t n, const char *name)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp((const char *)base + o[mid] * size, name);
		if (c == 0)
			return o[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Duplicate names of sets, interfaces attached twice: the second one's path. */
static void check_dups(const void *base, size_t size, uint32_t n, const uint32_t *o,
		       const char *fmt, const char *what, struct cfg_errs *errs)
{
	for (uint32_t i = 1; i < n; i++) {
		const char *a = (const char *)base + o[i - 1] * size;
		const char *b = (const char *)base + o[i] * size;
		char path[CFG_PATH_MAX];
		if (strcmp(a, b) != 0)
			continue;
		snprintf(path, sizeof(path), fmt, o[i] > o[i - 1] ? o[i] : o[i - 1]);
		cfg_err_add(errs, EEXIST, path, "%s %s appears twice", what, a);
	}
}

/* (VRF, set, attachment) of each set attached, to count each set once per VRF. */
struct use {
	uint32_t vrf, set, at;
};

static int cmp_use(const void *a, const void *b)
{
	const struct use *x = a, *y = b;

	if (x->vrf != y->vrf)
		return x->vrf < y->vrf ? -1 : 1;
	if (x->set != y->set)
		return x->set < y->set ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

static int cmp_use_at(const void *a, const void *b)
{
	const struct use *x = a, *y = b;

	if (x->vrf != y->vrf)
		return x->vrf < y->vrf ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* The rules of the distinct sets attached to each VRF's interfaces, within max_vrf_rules. */
static int check_vrf_rules(const struct tessd_cfg *cfg, const uint32_t *sets, struct cfg_errs *errs)
{
	const struct tessd_fw_cfg *f = &cfg->firewall;
	struct use *u = malloc((2 * f->n_attach + 1) * sizeof(*u));
	uint32_t *ifo = NULL, *vrfo = NULL, n = 0, k = 0;
	int rc = 0;

	ifo = sorted(cfg->router.interfaces, sizeof(struct tessd_iface_cfg),
		     cfg->router.n_interfaces);
	vrfo = sorted(cfg->router.vrfs, sizeof(struct tessd_vrf_cfg), cfg->router.n_vrfs);
	if (u == NULL || ifo == NULL || vrfo == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < f->n_attach; i++) {
		const struct tessd_fw_attach *a = &f->attach[i];
		int64_t ifc = find(cfg->router.interfaces, sizeof(struct tessd_iface_cfg), ifo,
				   cfg->router.n_interfaces, a->interface);
		int64_t vrf = ifc < 0 ? -1
				      : find(cfg->router.vrfs, sizeof(struct tessd_vrf_cfg), vrfo,
					     cfg->router.n_vrfs, cfg->router.interfaces[ifc].vrf);
		const char *names[2] = { a->in, a->out };
		for (int d = 0; d < 2 && vrf >= 0; d++) {
			int64_t s = names[d][0] ? find(f->rulesets, sizeof(*f->rulesets), sets,
						       f->n_rulesets, names[d])
						: -1;
			if (s >= 0)
				u[n++] = (struct use){ (uint32_t)vrf, (uint32_t)s, i };
		}
	}
	qsort(u, n, sizeof(*u), cmp_use);
	for (uint32_t i = 0; i < n; i++) /* each set once per VRF: its first attachment */
		if (i == 0 || u[i].vrf != u[i - 1].vrf || u[i].set != u[i - 1].set)
			u[k++] = u[i];
	qsort(u, k, sizeof(*u), cmp_use_at);
	for (uint32_t i = 0; i < k;) {
		uint64_t sum = 0;
		uint32_t v = u[i].vrf;
		bool said = false;
		for (; i < k && u[i].vrf == v; i++) {
			char path[CFG_PATH_MAX];
			sum += f->rulesets[u[i].set].n_rules;
			if (sum <= f->max_vrf_rules || said)
				continue;
			said = true;
			snprintf(path, sizeof(path), "/firewall/attach/%u", u[i].at);
			cfg_err_add(
				errs, ENOSPC, path,
				"the rule sets of VRF %s's interfaces add up to %llu rules, past "
				"firewall.max_vrf_rules (%u)",
				cfg->router.vrfs[v].name, (unsigned long long)sum,
				f->max_vrf_rules);
		}
	}
out:
	free(u);
	free(ifo);
	free(vrfo);
	return rc;
}

static void check_sizes(const struct tessd_fw_cfg *f, struct cfg_errs *errs)
{
	uint64_t sum = 0;
	char path[CFG_PATH_MAX];

	if (f->baseline.n_in > f->max_rules || f->baseline.n_out > f->max_rules)
		cfg_err_add(errs, ENOSPC,
			    f->baseline.n_in > f->max_rules ? "/firewall/baseline/in"
							    : "/firewall/baseline/out",
			    "more rules than firewall.max_rules (%u)", f->max_rules);
	for (uint32_t i = 0; i < f->n_rulesets; i++) {
		const struct tessd_fw_ruleset *s = &f->rulesets[i];
		snprintf(path, sizeof(path), "/firewall/rulesets/%u/rules", i);
		if (s->n_rules > f->max_rules)
			cfg_err_add(errs, ENOSPC, path, "%u rules, past firewall.max_rules (%u)",
				    s->n_rules, f->max_rules);
		sum += s->n_rules;
		if (sum > f->rule_capacity && sum - s->n_rules <= f->rule_capacity)
			cfg_err_add(errs, ENOSPC, path,
				    "the rule sets add up to %llu rules, past "
				    "firewall.rule_capacity (%u)",
				    (unsigned long long)sum, f->rule_capacity);
	}
}

/* The first rule of n that rejects, or -1. */
static int64_t first_reject(const struct tessd_fw_rule *r, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (r[i].action == TESS_FW_REJECT)
			return i;
	return -1;
}

/*
 * A group's set may accept or drop, not reject: a switched frame has no
 * router whose address could answer it (a reset or ICMP error would need a
 * source the group's desktops know). The baseline's "in" rules, which come
 * first in a group's context, likewise.
 */
static void check_groups(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	const struct tessd_fw_cfg *f = &cfg->firewall;
	int64_t b = first_reject(f->baseline.in, f->baseline.n_in);

	for (uint32_t i = 0; i < f->n_groups; i++) {
		const struct tessd_fw_group *g = &f->groups[i];
		const struct tessd_fw_ruleset *s = tessd_cfg_fw_ruleset(cfg, g->set);
		char path[CFG_PATH_MAX];
		int64_t r;

		snprintf(path, sizeof(path), "/firewall/groups/%u/set", i);
		if (b >= 0)
			cfg_err_add(errs, EINVAL, path,
				    "baseline.in rule %lld rejects: a group's frames can be "
				    "accepted or dropped only (no router to answer from)",
				    (long long)b);
		if (s == NULL)
			continue; /* the reference check says so */
		r = first_reject(s->rules, s->n_rules);
		if (r >= 0)
			cfg_err_add(errs, EINVAL, path,
				    "rule set %s: rule %lld rejects: a group's frames can be "
				    "accepted or dropped only (no router to answer from)",
				    s->name, (long long)r);
		else if (s->default_in == TESS_FW_REJECT)
			cfg_err_add(errs, EINVAL, path,
				    "rule set %s: default_in reject: a group's frames can be "
				    "accepted or dropped only (no router to answer from)",
				    s->name);
	}
}

int tessd_fw_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	const struct tessd_fw_cfg *f = &cfg->firewall;
	unsigned before = errs->n;
	uint32_t *sets = sorted(f->rulesets, sizeof(*f->rulesets), f->n_rulesets);
	uint32_t *ats = sorted(f->attach, sizeof(*f->attach), f->n_attach);
	uint32_t *grs = sorted(f->groups, sizeof(*f->groups), f->n_groups);
	int rc = 0;

	if (sets == NULL || ats == NULL || grs == NULL) {
		cfg_err_add(errs, ENOMEM, "/firewall", "no memory to check the firewall config");
		rc = -ENOMEM;
		goto out;
	}
	check_dups(f->rulesets, sizeof(*f->rulesets), f->n_rulesets, sets,
		   "/firewall/rulesets/%u/name", "rule set", errs);
	check_dups(f->attach, sizeof(*f->attach), f->n_attach, ats, "/firewall/attach/%u/interface",
		   "interface", errs);
	/* One set a group: a second would be a second context to run on each frame. */
	check_dups(f->groups, sizeof(*f->groups), f->n_groups, grs, "/firewall/groups/%u/group",
		   "group", errs);
	check_groups(cfg, errs);
	for (uint32_t i = 0; i < f->n_attach; i++) {
		char path[CFG_PATH_MAX];
		if (f->attach[i].in[0] || f->attach[i].out[0])
			continue;
		snprintf(path, sizeof(path), "/firewall/attach/%u", i);
		cfg_err_add(errs, EINVAL, path, "attaches no rule set (in or out)");
	}
	check_sizes(f, errs);
	if (check_vrf_rules(cfg, sets, errs) < 0) {
		cfg_err_add(errs, ENOMEM, "/firewall", "no memory to check the firewall config");
		rc = -ENOMEM;
	}
	cfg_check_refs_in(&tessd_cfg_schema, cfg, "firewall", errs);
out:
	free(sets);
	free(ats);
	free(grs);
	if (rc == 0 && errs->n > before)
		rc = -EINVAL;
	return rc;
}
