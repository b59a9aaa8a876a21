/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policers part of tessd's config (the module is vswitch/policer): each
 * policer is a profile (srTCM or trTCM, rates, bursts, colour mode) and the
 * objects it is attached to (ports, groups, VRFs, router interfaces), in a
 * direction. Every (object, direction) it names meters on its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessd_config.h"

const char *const tess_pol_types[] = { "srtcm", "trtcm", NULL };
const char *const tess_pol_colors[] = { "blind", "dscp", "pcp", NULL };
const char *const tess_pol_dirs[] = { "in", "out", "both", NULL };

static const struct cfg_node iface_ref_node = {
	.type = CFG_REF,
	.str = { .min_len = 1, .max_len = TESS_NAME_LEN - 1, .charset = CFG_NAME_CHARSET },
	.ref = { .table = "/router/interfaces", .key = "name", .what = "interface" },
};

#define REFS(ref_)                                                      \
	(&(const struct cfg_node){ .type = CFG_ARRAY,                   \
				   .arr = { .item = (ref_),             \
					    .max = TESS_POL_MAX_ATTACH, \
					    .item_size = sizeof(char[TESS_NAME_LEN]) } })
#define ENUM(choices_, len_)                         \
	(&(const struct cfg_node){ .type = CFG_ENUM, \
				   .str = { .max_len = (len_), .choices = (choices_) } })

static const struct cfg_field policer_fields[] = {
	CFG_FIELD(struct tessd_policer_cfg, name, "name", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct tessd_policer_cfg, type, "type", ENUM(tess_pol_types, 5), false,
		  "\"srtcm\""),
	CFG_FIELD(struct tessd_policer_cfg, cir_kbps, "cir_kbps",
		  CFG_INT_NODE(8, TESS_POL_MAX_KBPS), true, NULL),
	CFG_FIELD(struct tessd_policer_cfg, cbs, "cbs", CFG_INT_NODE(0, TESS_POL_MAX_BURST), false,
		  "0"),
	CFG_FIELD(struct tessd_policer_cfg, ebs, "ebs", CFG_INT_NODE(0, TESS_POL_MAX_BURST), false,
		  "0"),
	CFG_FIELD(struct tessd_policer_cfg, pir_kbps, "pir_kbps",
		  CFG_INT_NODE(0, TESS_POL_MAX_KBPS), false, "0"),
	CFG_FIELD(struct tessd_policer_cfg, pbs, "pbs", CFG_INT_NODE(0, TESS_POL_MAX_BURST), false,
		  "0"),
	CFG_FIELD(struct tessd_policer_cfg, color, "color", ENUM(tess_pol_colors, 5), false,
		  "\"blind\""),
	CFG_FIELD(struct tessd_policer_cfg, yellow_dscp, "yellow_dscp", CFG_INT_NODE(-1, 63), false,
		  "-1"),
	CFG_FIELD(struct tessd_policer_cfg, direction, "direction", ENUM(tess_pol_dirs, 4), false,
		  "\"in\""),
	CFG_ARRAY_FIELD(struct tessd_policer_cfg, ports, n_ports, "ports",
			REFS(&tessd_port_ref_schema), false, "[]"),
	CFG_ARRAY_FIELD(struct tessd_policer_cfg, groups, n_groups, "groups",
			REFS(&tessd_group_ref_schema), false, "[]"),
	CFG_ARRAY_FIELD(struct tessd_policer_cfg, vrfs, n_vrfs, "vrfs", REFS(&tessd_vrf_ref_schema),
			false, "[]"),
	CFG_ARRAY_FIELD(struct tessd_policer_cfg, interfaces, n_interfaces, "interfaces",
			REFS(&iface_ref_node), false, "[]"),
	{ 0 },
};
const struct cfg_node tessd_policer_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = policer_fields, .size = sizeof(struct tessd_policer_cfg) },
};
const struct cfg_node tessd_policers_schema = {
	.type = CFG_ARRAY,
	.arr = { .item = &tessd_policer_schema,
		 .max = TESS_POL_MAX,
		 .item_size = sizeof(struct tessd_policer_cfg) },
};

uint32_t tessd_policer_burst(uint32_t set, uint32_t kbps)
{
	uint64_t b = (uint64_t)kbps * 1000 / 8 / 10; /* 100 ms of the rate */

	if (set)
		return set;
	return b < TESS_POL_MIN_BURST ? TESS_POL_MIN_BURST : (uint32_t)b;
}

/* The profile's own rules: which keys its type takes, bursts that hold a frame. */
static void check_profile(const struct tessd_policer_cfg *p, uint32_t i, struct cfg_errs *errs)
{
	char path[CFG_PATH_MAX];

	if (p->cbs && p->cbs < TESS_POL_MIN_BURST) {
		snprintf(path, sizeof(path), "/policers/%u/cbs", i);
		cfg_err_add(
			errs, EINVAL, path,
			"%u bytes cannot hold a full frame: at least %u (0: 100 ms of cir_kbps)",
			p->cbs, TESS_POL_MIN_BURST);
	}
	if (p->type == TESS_POL_SRTCM) {
		if (p->pir_kbps || p->pbs) {
			snprintf(path, sizeof(path), "/policers/%u/%s", i,
				 p->pir_kbps ? "pir_kbps" : "pbs");
			cfg_err_add(errs, EINVAL, path,
				    "an srtcm policer has no peak rate (pir_kbps, pbs: trtcm)");
		}
		return;
	}
	if (p->ebs) {
		snprintf(path, sizeof(path), "/policers/%u/ebs", i);
		cfg_err_add(errs, EINVAL, path, "a trtcm policer has no excess burst (ebs: srtcm)");
	}
	snprintf(path, sizeof(path), "/policers/%u/pir_kbps", i);
	if (p->pir_kbps < p->cir_kbps)
		cfg_err_add(errs, EINVAL, path,
			    "a trtcm policer's pir_kbps %u is below cir_kbps %u", p->pir_kbps,
			    p->cir_kbps);
	if (p->pbs && p->pbs < TESS_POL_MIN_BURST) {
		snprintf(path, sizeof(path), "/policers/%u/pbs", i);
		cfg_err_add(
			errs, EINVAL, path,
			"%u bytes cannot hold a full frame: at least %u (0: 100 ms of pir_kbps)",
			p->pbs, TESS_POL_MIN_BURST);
	}
}

/* Who already holds an (object, direction): "policers/i/key/j" of the first, for errors. */
struct pol_claim {
	char obj[TESS_NAME_LEN + 2]; /* kind letter, ':', name */
	uint8_t dir;
	uint32_t pol, idx;
	const char *tenant; /* of the object ("": none, the provider's) */
};

/* The tenant label of an object (an interface's is its VRF's); "" if none or unknown. */
static const char *tenant_of(const struct tessd_cfg *cfg, char kind, const char *name)
{
	const struct tessd_port_cfg *p;
	const struct tessd_group_cfg *g;
	const struct tessd_vrf_cfg *v;
	const struct tessd_iface_cfg *ic;

	switch (kind) {
	case 'p':
		p = tessd_cfg_port(cfg, name);
		return p ? p->tenant : "";
	case 'g':
		g = tessd_cfg_group(cfg, name);
		return g ? g->tenant : "";
	case 'v':
		v = tessd_cfg_vrf(cfg, name);
		return v ? v->tenant : "";
	default:
		ic = tessd_cfg_iface(cfg, name);
		v = ic ? tessd_cfg_vrf(cfg, ic->vrf) : NULL;
		return v ? v->tenant : "";
	}
}

/* Whether c's tenant already has its share of the attachments (among the n before it). */
static bool over_share(const struct pol_claim *cl, uint32_t n, const struct pol_claim *c)
{
	uint32_t k = 0;

	if (c->tenant[0] == '\0')
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(cl[i].tenant, c->tenant) == 0)
			k++;
	return k >= TESS_POL_TENANT_METERS;
}

static void claim(struct pol_claim *cl, uint32_t *n, const struct tessd_cfg *cfg, uint32_t pi,
		  const char *key, char kind, const char (*names)[TESS_NAME_LEN], uint32_t count,
		  struct cfg_errs *errs)
{
	const struct tessd_policer_cfg *p = &cfg->policers[pi];
	char path[CFG_PATH_MAX];

	for (uint32_t j = 0; j < count; j++) {
		for (uint8_t d = 0; d < 2; d++) {
			if (p->direction != TESS_POL_BOTH && p->direction != d)
				continue;
			snprintf(path, sizeof(path), "/policers/%u/%s/%u", pi, key, j);
			if (*n >= TESS_POL_MAX_METERS) {
				cfg_err_add(
					errs, ENOSPC, path,
					"more than %u attachments (object and direction) of all "
					"policers together",
					TESS_POL_MAX_METERS);
				return;
			}
			struct pol_claim *c = &cl[*n];
			snprintf(c->obj, sizeof(c->obj), "%c:%s", kind, names[j]);
			c->dir = d;
			c->pol = pi;
			c->idx = j;
			c->tenant = tenant_of(cfg, kind, names[j]);
			if (over_share(cl, *n, c)) {
				cfg_err_add(errs, ENOSPC, path,
					    "tenant '%s' has %u attachments (object and direction) "
					    "already, its share of the %u of all policers",
					    c->tenant, TESS_POL_TENANT_METERS, TESS_POL_MAX_METERS);
				return;
			}
			for (uint32_t k = 0; k < *n; k++)
				if (cl[k].dir == d && strcmp(cl[k].obj, c->obj) == 0) {
					cfg_err_add(errs, EEXIST, path,
						    "%s '%s' already has policer '%s' %s", key,
						    names[j], cfg->policers[cl[k].pol].name,
						    tess_pol_dirs[d]);
					return;
				}
			(*n)++;
		}
	}
}

int tessd_policers_validate(const struct tessd_cfg *cfg, struct cfg_errs *errs)
{
	unsigned before = errs->n;
	struct pol_claim *cl;
	uint32_t n = 0;
	char at[CFG_PATH_MAX];

	cl = calloc(TESS_POL_MAX_METERS, sizeof(*cl));
	if (cl == NULL) {
		cfg_err_add(errs, ENOMEM, "/policers", "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cfg->n_policers; i++) {
		const struct tessd_policer_cfg *p = &cfg->policers[i];

		for (uint32_t j = 0; j < i; j++)
			if (strcmp(cfg->policers[j].name, p->name) == 0) {
				snprintf(at, sizeof(at), "/policers/%u/name", i);
				cfg_err_add(errs, EEXIST, at, "duplicate policer name '%s'",
					    p->name);
			}
		check_profile(p, i, errs);
		claim(cl, &n, cfg, i, "ports", 'p', p->ports, p->n_ports, errs);
		claim(cl, &n, cfg, i, "groups", 'g', p->groups, p->n_groups, errs);
		claim(cl, &n, cfg, i, "vrfs", 'v', p->vrfs, p->n_vrfs, errs);
		claim(cl, &n, cfg, i, "interfaces", 'i', p->interfaces, p->n_interfaces, errs);
	}
	free(cl);
	return errs->n == before ? 0 : -EINVAL;
}
