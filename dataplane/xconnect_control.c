/* SPDX-License-Identifier: BSD-3-Clause */
/* Port cross-connects: config, dataplane programming and API. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_server.h"
#include "log.h"
#include "port.h"
#include "apply.h"
#include "tessd.h"

void xc_build(struct dp_snapshot *s, const struct tessd_cfg *cfg)
{
	for (unsigned i = 0; i < RTE_MAX_ETHPORTS; i++) {
		if (s->port[i].mode == DP_FWD_XCONNECT) {
			s->port[i].mode = DP_FWD_NONE;
			s->port[i].peer = DP_PORT_NONE;
		}
	}
	for (uint32_t i = 0; i < cfg->n_xconnects; i++) {
		struct dp_port *a = dp_port_by_name(cfg->xconnects[i].a);
		struct dp_port *b = dp_port_by_name(cfg->xconnects[i].b);

		/* Validation guarantees both; a port being removed is left out. */
		if (a == NULL || b == NULL || a->draining || b->draining)
			continue;
		s->port[a->id].mode = DP_FWD_XCONNECT;
		s->port[a->id].peer = b->id;
		s->port[b->id].mode = DP_FWD_XCONNECT;
		s->port[b->id].peer = a->id;
	}
}

static int xc_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_xc_cfg *xc = params;
	struct tessd_cfg cand;
	struct cfg_errs errs;
	int rc;

	cfg_errs_init(&errs);
	if (tessd_cfg_xc_check(&tessd.cfg, xc, "/params", &errs) < 0) {
		ctl_error_from_cfg(err, &errs);
		return -err->code;
	}
	if ((rc = dp_candidate(&cand, err)) < 0)
		return rc;
	struct tessd_xc_cfg *xcs = realloc(cand.xconnects, (cand.n_xconnects + 1) * sizeof(*xcs));
	if (xcs == NULL) {
		tessd_cfg_free(&cand);
		return -ENOMEM;
	}
	xcs[cand.n_xconnects++] = *xc;
	cand.xconnects = xcs;
	rc = dp_commit(&cand, err);
	if (rc == 0) {
		DP_LOG(INFO, "xconnect %s <-> %s added", xc->a, xc->b);
		*result = json_pack("{s:s, s:s}", "a", xc->a, "b", xc->b);
	}
	return rc;
}

struct xc_del_params {
	char port[TESS_NAME_LEN];
};

static int xc_del(const void *params, json_t **result, struct ctl_error *err)
{
	const struct xc_del_params *p = params;
	int idx = tessd_cfg_xc_of(&tessd.cfg, p->port);
	struct tessd_xc_cfg gone;
	struct tessd_cfg cand;
	int rc;

	if (tessd_cfg_port(&tessd.cfg, p->port) == NULL) {
		ctl_error_set(err, ENOENT, "/params/port", "no port named '%s'", p->port);
		return -ENOENT;
	}
	if (idx < 0) {
		ctl_error_set(err, ENOENT, "/params/port", "port '%s' is not cross-connected",
			      p->port);
		return -ENOENT;
	}
	gone = tessd.cfg.xconnects[idx];
	if ((rc = dp_candidate(&cand, err)) < 0)
		return rc;
	memmove(&cand.xconnects[idx], &cand.xconnects[idx + 1],
		(cand.n_xconnects - (uint32_t)idx - 1) * sizeof(gone));
	cand.n_xconnects--;
	rc = dp_commit(&cand, err);
	if (rc == 0) {
		DP_LOG(INFO, "xconnect %s <-> %s removed", gone.a, gone.b);
		*result = json_pack("{s:s, s:s}", "a", gone.a, "b", gone.b);
	}
	return rc;
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

int xc_api_register(void)
{
	return ctl_register(xc_methods);
}
