/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET/PUT /v1/log (provider admins): tessmgrd's log level and output, changed at run time
 * (until the next start: the config's "log" is the starting point). PUT is audited as
 * every change is.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "tlog.h"

static json_t *log_json(void)
{
	return json_pack("{s:s, s:s}", "level", tlog_level_name(tlog_get_level()), "output",
			 tlog_output_names[tlog_get_output()]);
}

/* The body over the running values (a field left out stays), through the config's schema. */
static bool decode(struct api_ctx *c, struct mgr_log_cfg *out)
{
	json_t *cur = log_json(), *body = c->r->body;
	struct cfg_errs errs;
	int rc;

	if (json_is_object(body)) {
		json_object_update(cur, body);
		body = cur;
	} else if (body == NULL) {
		body = cur;
	}
	cfg_errs_init(&errs);
	rc = cfg_decode(&mgr_log_schema, body, out, "", &errs);
	json_decref(cur);
	if (rc == 0)
		return true;
	http_error(c->out, 400, errs.n ? errs.e[0].path : "", "%s",
		   errs.n ? errs.e[0].msg : "invalid request");
	return false;
}

void api_log(struct api_ctx *c)
{
	struct mgr_log_cfg want;
	int was = tlog_get_level();

	if (c->n_seg != 1) {
		http_error(c->out, 404, "", "no such resource: %s", c->r->path);
		return;
	}
	if (!c->provider) {
		http_error(c->out, 403, "", "only provider admins read or change the log level");
		return;
	}
	if (strcmp(c->r->method, "GET") == 0) {
		api_ok(c, 200, log_json());
		return;
	}
	if (strcmp(c->r->method, "PUT") != 0) {
		http_error(c->out, 405, "", "%s is not allowed on %s", c->r->method, c->r->path);
		return;
	}
	if (!decode(c, &want))
		return;
	snprintf(c->target, sizeof(c->target), "log level %s output %s",
		 tlog_level_names[want.level], tlog_output_names[want.output]);
	tlog_configure((enum tlog_output)want.output, want.level);
	/* Said at notice: seen at any level but err and warning, which asked for quiet. */
	tlog(LOG_NOTICE, NULL, "log level %s (was %s), output %s (by %s)",
	     tlog_level_names[want.level], tlog_level_name(was),
	     tlog_output_names[tlog_get_output()], c->who->principal);
	api_ok(c, 200, log_json());
}
