/* SPDX-License-Identifier: BSD-3-Clause */
/* Port cross-connects: the module, its snapshot part and its API (control thread). */
#include <errno.h>
#include <string.h>

#include "apply.h"
#include "ctl_server.h"
#include "port.h"
#include "tessd.h"
#include "xconnect.h"

static int xc_build(struct dp_snapshot *s, const struct tessd_cfg *cfg, struct ctl_error *err)
{
	struct xc_part *xp = s->part[xc_module.id];

	(void)err;
	for (unsigned i = 0; i < DP_MAX_PORTS; i++)
		xp->peer[i] = DP_PORT_NONE;
	for (uint32_t i = 0; i < cfg->n_xconnects; i++) {
		struct dp_port *a = dp_port_by_name(cfg->xconnects[i].a);
		struct dp_port *b = dp_port_by_name(cfg->xconnects[i].b);

		/* Validation guarantees both; a port being removed is left out. */
		if (a == NULL || b == NULL || a->draining || b->draining)
			continue;
		s->port[a->id].stage = xc_stage.id;
		xp->peer[a->id] = b->id;
		s->port[b->id].stage = xc_stage.id;
		xp->peer[b->id] = a->id;
	}
	return 0;
}

static int xc_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_xc_cfg *xc = params;
	/* The whole candidate, as every change: this one is checked against all the others. */
	const struct dp_edit e = { .op = DP_EDIT_ADD, .array = "/xconnects", .item = xc };

	return dp_edit(&e, result, err, "xconnect %s <-> %s added", xc->a, xc->b);
}

struct xc_del_params {
	char port[TESS_NAME_LEN];
};

static int xc_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct xc_del_params *p = params;
	int idx = tessd_cfg_xc_of(&tessd.cfg, p->port);

	if (tessd_cfg_port(&tessd.cfg, p->port) == NULL) {
		ctl_error_set(err, ENOENT, "/params/port", "no port named '%s'", p->port);
		return -ENOENT;
	}
	if (idx < 0) {
		ctl_error_set(err, ENOENT, "/params/port", "port '%s' is not cross-connected",
			      p->port);
		return -ENOENT;
	}
	const struct dp_edit e = {
		.op = DP_EDIT_DEL,
		.array = "/xconnects",
		.index = (uint32_t)idx,
	};
	const struct tessd_xc_cfg *gone = &tessd.cfg.xconnects[idx];
	return dp_edit(&e, result, err, "xconnect %s <-> %s removed", gone->a, gone->b);
}

static int xc_list(const void *params, json_t **result, struct ctl_error *err)
{
	json_t *a = json_array();

	(void)params;
	(void)err;
	for (uint32_t i = 0; i < tessd.cfg.n_xconnects; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "a", tessd.cfg.xconnects[i].a, "b",
						   tessd.cfg.xconnects[i].b));
	*result = a;
	return 0;
}

static const struct cfg_field xc_del_fields[] = {
	CFG_FIELD(struct xc_del_params, port, "port", &tessd_name_schema, true, NULL),
	{ 0 },
};
static const struct cfg_node xc_del_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = xc_del_fields, .size = sizeof(struct xc_del_params) },
};

static const struct ctl_method xc_methods[] = {
	{ "xconnect.add", &tessd_xc_schema, xc_add, "cross-connect ports a and b (both ways)" },
	{ "xconnect.del", &xc_del_schema, xc_del, "remove the cross-connect of a port" },
	{ "xconnect.list", NULL, xc_list, "list cross-connects" },
	{ 0 },
};

static const char *peer_of(const struct tessd_cfg *cfg, const char *port)
{
	int xc = tessd_cfg_xc_of(cfg, port);

	if (xc < 0)
		return NULL;
	return strcmp(cfg->xconnects[xc].a, port) == 0 ? cfg->xconnects[xc].b
						       : cfg->xconnects[xc].a;
}

static void xc_port_json(const struct dp_port *p, const struct tessd_cfg *cfg, json_t *o)
{
	const char *peer = peer_of(cfg, p->cfg.name);

	json_object_set_new(o, "xconnect", peer ? json_string(peer) : json_null());
}

static int xc_port_in_use(const struct tessd_cfg *cfg, const char *name, struct ctl_error *err)
{
	int xc = tessd_cfg_xc_of(cfg, name);

	if (xc < 0)
		return 0;
	ctl_error_set(err, EBUSY, "/params/name",
		      "port '%s' is cross-connected (%s <-> %s): remove the xconnect first", name,
		      cfg->xconnects[xc].a, cfg->xconnects[xc].b);
	return -EBUSY;
}

struct tess_module xc_module = {
	.name = "xconnect",
	.validate = xc_validate,
	.part_size = sizeof(struct xc_part),
	.build = xc_build,
	.port_json = xc_port_json,
	.port_in_use = xc_port_in_use,
	.methods = xc_methods,
};
TESS_MODULE_REGISTER(xc_module)
