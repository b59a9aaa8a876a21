/* SPDX-License-Identifier: BSD-3-Clause */
/* Port cross-connects: config, dataplane programming and API. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_server.h"
#include "log.h"
#include "port.h"
#include "snapshot.h"
#include "tessd.h"

int xc_apply(const struct tessd_cfg *cfg)
{
	struct dp_snapshot *s = dp_snapshot_copy();

	if (s == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < RTE_MAX_ETHPORTS; i++) {
		if (s->port[i].mode == DP_FWD_XCONNECT) {
			s->port[i].mode = DP_FWD_NONE;
			s->port[i].peer = DP_PORT_NONE;
		}
	}
	for (uint32_t i = 0; i < cfg->n_xconnects; i++) {
		struct dp_port *a = dp_port_by_name(cfg->xconnects[i].a);
		struct dp_port *b = dp_port_by_name(cfg->xconnects[i].b);

		if (a == NULL || b == NULL) {
			/* Validation makes this unreachable; never publish half a change. */
			dp_snapshot_discard(s);
			return -ENOENT;
		}
		s->port[a->id] = (struct dp_port_fwd){ .mode = DP_FWD_XCONNECT, .peer = b->id };
		s->port[b->id] = (struct dp_port_fwd){ .mode = DP_FWD_XCONNECT, .peer = a->id };
	}
	dp_snapshot_publish(s);
	return 0;
}

/* Makes "xcs" (n entries, owned) the running list if the dataplane takes it. */
static int commit(struct tessd_xc_cfg *xcs, uint32_t n, struct ctl_error *err)
{
	struct tessd_cfg cand = tessd.cfg;
	int rc;

	cand.xconnects = xcs;
	cand.n_xconnects = n;
	rc = xc_apply(&cand);
	if (rc < 0) {
		free(xcs);
		ctl_error_set(err, -rc, "", "cannot update the dataplane: %s", strerror(-rc));
		return rc;
	}
	free(tessd.cfg.xconnects);
	tessd.cfg.xconnects = xcs;
	tessd.cfg.n_xconnects = n;
	return 0;
}

static int xc_add(const void *params, json_t **result, struct ctl_error *err)
{
	const struct tessd_xc_cfg *xc = params;
	uint32_t n = tessd.cfg.n_xconnects;
	struct tessd_xc_cfg *xcs;
	struct cfg_errs errs;
	int rc;

	cfg_errs_init(&errs);
	if (tessd_cfg_xc_check(&tessd.cfg, xc, "/params", &errs) < 0) {
		ctl_error_from_cfg(err, &errs);
		return -err->code;
	}
	xcs = malloc((n + 1) * sizeof(*xcs));
	if (xcs == NULL)
		return -ENOMEM;
	if (n)
		memcpy(xcs, tessd.cfg.xconnects, n * sizeof(*xcs));
	xcs[n] = *xc;
	rc = commit(xcs, n + 1, err);
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
	uint32_t n = tessd.cfg.n_xconnects, k = 0;
	struct tessd_xc_cfg *xcs, gone;
	int idx = tessd_cfg_xc_of(&tessd.cfg, p->port);
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
	xcs = n > 1 ? malloc((n - 1) * sizeof(*xcs)) : NULL;
	if (n > 1 && xcs == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		if ((int)i != idx)
			xcs[k++] = tessd.cfg.xconnects[i];
	rc = commit(xcs, k, err);
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
