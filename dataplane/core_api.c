/* SPDX-License-Identifier: BSD-3-Clause */
/* Core API: status, ports, stats, config. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_ether.h>
#include <rte_lcore.h>

#include "apply.h"
#include "cfg_file.h"
#include "ctl_server.h"
#include "event.h"
#include "evloop.h"
#include "fault.h"
#include "kick.h"
#include "log.h"
#include "metrics_http.h"
#include "port.h"
#include "rcu.h"
#include "stats.h"
#include "tlog.h"
#include "tessd.h"
#include "vhost.h"
#include "worker.h"

#ifndef TESS_VERSION
#define TESS_VERSION "dev"
#endif

static int status(const void *params, json_t **result, struct ctl_error *err)
{
	(void)params;
	(void)err;
	*result = json_pack(
		"{s:s, s:i, s:I, s:s, s:s, s:b, s:s?, s:s?, s:i, s:i, s:i, s:i, s:I, s:i, s:I}",
		"version", TESS_VERSION, "pid", (int)getpid(), "uptime_sec",
		(json_int_t)(ev_mono_sec() - tessd.started), "config", tessd.config_path, "socket",
		tessd.cfg.control.socket, "hugepages", tessd.eal.hugepages, "no_huge_reason",
		tessd.eal.hugepages ? NULL : tessd.eal.why_no_huge, "disabled_features",
		tessd.eal.hugepages ? NULL : dp_no_huge_disables, "main_cpu",
		(int)tessd.cfg.eal.main_cpu, "workers", (int)dp_worker_count(), "ports",
		(int)dp_port_count(), "xconnects", (int)tessd.cfg.n_xconnects, "snapshot_gen",
		(json_int_t)dp_snap->gen, "rcu_pending", (int)dp_rcu_pending(), "devargs_refused",
		(json_int_t)tessd.devargs_refused);
	if (*result == NULL)
		return -ENOMEM;
	/* The control socket's limits, counted when hit (review 2.3). */
	struct ctl_server_counters cc;
	ctl_server_get_counters(&cc);
	json_object_set_new(*result, "ctl_clients", json_integer((json_int_t)cc.clients));
	json_object_set_new(*result, "ctl_buffered", json_integer((json_int_t)cc.buffered));
	json_object_set_new(*result, "ctl_idle_dropped", json_integer((json_int_t)cc.idle_dropped));
	json_object_set_new(*result, "ctl_stall_dropped",
			    json_integer((json_int_t)cc.stall_dropped));
	json_object_set_new(*result, "ctl_buffer_refused",
			    json_integer((json_int_t)cc.buffer_refused));
	/* Subscribers of events.subscribe, and what the slow ones missed. */
	struct tess_event_counters ec;
	tess_event_get_counters(&ec);
	json_object_set_new(*result, "event_subscribers", json_integer((json_int_t)ec.subscribers));
	json_object_set_new(*result, "events_emitted", json_integer((json_int_t)ec.emitted));
	json_object_set_new(*result, "events_dropped", json_integer((json_int_t)ec.dropped));
	/* tessd's own /metrics (control.metrics_listen). */
	struct dp_metrics_http_counters mc;
	dp_metrics_http_get_counters(&mc);
	json_object_set_new(*result, "metrics_scrapes", json_integer((json_int_t)mc.scrapes));
	json_object_set_new(*result, "metrics_renders", json_integer((json_int_t)mc.renders));
	json_object_set_new(*result, "metrics_errors", json_integer((json_int_t)mc.errors));
	json_object_set_new(*result, "metrics_refused", json_integer((json_int_t)mc.refused));
	json_object_set_new(*result, "metrics_timed_out", json_integer((json_int_t)mc.timed_out));
	/* Log lines the journal had no room for (tlog.h): dropped, never waited for. */
	json_object_set_new(*result, "log_dropped", json_integer((json_int_t)tlog_dropped()));
	/* Wake-ups of the control thread by workers between its ticks (kick.h). */
	json_object_set_new(*result, "control_kicks",
			    json_integer((json_int_t)__atomic_load_n(&dp_control_kick.kicks,
								     __ATOMIC_RELAXED)));
	/* Vhost ports the workers poll now: those with traffic, not the idle ones (vhost.h). */
	json_object_set_new(*result, "vhost_polled", json_integer((json_int_t)dp_vhost_polled()));
	/* What ports it can still take (port.h): tessmgrd places desktops by it. */
	struct dp_port_capacity pc;
	dp_port_capacity(&pc);
	json_object_set_new(
		*result, "port_capacity",
		json_pack("{s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}}",
			  "ethdev", "max", (int)pc.ethdev_max, "used", (int)pc.ethdev_used, "free",
			  (int)pc.ethdev_free, "vhost", "max", (int)pc.vhost_max, "used",
			  (int)pc.vhost_used, "free", (int)pc.vhost_free, "server",
			  (int)pc.vhost_server, "client", (int)pc.vhost_client, "connected",
			  (int)pc.vhost_connected, "fd_set_max", (int)pc.fd_set_max,
			  "fd_set_committed", (int)pc.fd_set_committed));
	if (dp_fault_enabled())
		json_object_set_new(*result, "fault_points", json_true());
	return 0;
}

json_t *core_status_json(void)
{
	json_t *r = NULL;
	struct ctl_error err = { 0 };

	return status(NULL, &r, &err) == 0 ? r : json_object();
}

struct stats_params {
	char vrf[TESS_NAME_LEN];
};

static int stats_get(const void *params, json_t **result, struct ctl_error *err)
{
	const struct stats_params *sp = params;

	if (sp->vrf[0] && tessd_cfg_vrf(&tessd.cfg, sp->vrf) == NULL) {
		ctl_error_set(err, ENOENT, "/params/vrf", "no VRF named '%s'", sp->vrf);
		return -ENOENT;
	}
	*result = dp_stats_json(&tessd.cfg, sp->vrf[0] ? sp->vrf : NULL);
	return *result ? 0 : -ENOMEM;
}

static int stats_reset(const void *params, json_t **result, struct ctl_error *err)
{
	(void)params;
	(void)err;
	dp_stats_reset();
	*result = json_object();
	return 0;
}

static int config_get(const void *params, json_t **result, struct ctl_error *err)
{
	(void)params;
	(void)err;
	*result = cfg_encode(&tessd_cfg_schema, &tessd.cfg);
	return *result ? 0 : -ENOMEM;
}

struct save_params {
	char path[PATH_MAX];
};

/*
 * Saves go to the startup config or next to it as *.json: the socket
 * lets a client reconfigure tessd, not write files anywhere as root.
 */
/*
 * An existing target must itself be a tessd config (it decodes with tessd's schema): the
 * startup config's directory may be /etc/tessera, where tokens.json and tessmgrd.json live
 * too (review 2.2). A missing target is created; a symlink or other non-regular file is
 * refused by cfg_file_save().
 */
static int check_overwrite(const char *path, struct ctl_error *err)
{
	struct tessd_cfg old = { 0 };
	struct cfg_errs errs;
	struct stat st;
	json_t *doc;
	int rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		ctl_error_set(err, -rc, "/params/path", "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	cfg_errs_init(&errs);
	doc = cfg_file_load(path, &errs);
	rc = doc ? cfg_decode(&tessd_cfg_schema, doc, &old, NULL, &errs) : -EINVAL;
	json_decref(doc);
	if (rc < 0) {
		ctl_error_set(err, EPERM, "/params/path",
			      "%s exists and is not a tessd config (%s: %s); tessd overwrites only "
			      "its own configs",
			      path, errs.n ? errs.e[0].path : "/", errs.n ? errs.e[0].msg : "?");
		return -EPERM;
	}
	cfg_free(&tessd_cfg_schema, &old);
	return 0;
}

static int check_save_target(const char *path, struct ctl_error *err)
{
	char cfg_dir[PATH_MAX], want[PATH_MAX], real[PATH_MAX];
	size_t n = strlen(path);

	snprintf(cfg_dir, sizeof(cfg_dir), "%s", tessd.config_path);
	snprintf(want, sizeof(want), "%s", path);
	if (path[0] != '/' || n < 6 || strcmp(path + n - 5, ".json") != 0) {
		ctl_error_set(err, EINVAL, "/params/path",
			      "must be an absolute path to a .json file");
		return -EINVAL;
	}
	if (realpath(dirname(want), real) == NULL) {
		ctl_error_set(err, errno, "/params/path", "directory of %s: %s", path,
			      strerror(errno));
		return -ENOENT;
	}
	if (strcmp(real, dirname(cfg_dir)) != 0) {
		ctl_error_set(err, EPERM, "/params/path",
			      "configs are saved in the directory of the startup config (%s)",
			      cfg_dir);
		return -EPERM;
	}
	return check_overwrite(path, err);
}

static int config_save(const void *params, json_t **result, struct ctl_error *err)
{
	const struct save_params *p = params;
	const char *path = p->path[0] ? p->path : tessd.config_path;
	char why[CFG_MSG_MAX];
	json_t *doc;
	int rc;

	if (tessd.config_path[0] == '\0') {
		ctl_error_set(err, ENOENT, "/params/path",
			      "tessd was started without -c: there is no config to save");
		return -ENOENT;
	}
	if (p->path[0] && (rc = check_save_target(p->path, err)) < 0)
		return rc;
	doc = cfg_encode(&tessd_cfg_schema, &tessd.cfg);
	if (doc == NULL)
		return -ENOMEM;
	rc = cfg_file_save(path, doc, why, sizeof(why));
	json_decref(doc);
	if (rc < 0) {
		ctl_error_set(err, -rc, "/params/path", "%s", why);
		return rc;
	}
	if (why[0])
		DP_LOG(WARNING, "config save: %s", why);
	DP_LOG(INFO, "running config saved to %s", path);
	*result = json_pack("{s:s}", "path", path);
	return 0;
}

/* Several config edits as one commit (apply.h: dp_batch). */
static int config_batch(const void *params, json_t **result, struct ctl_error *err)
{
	return dp_batch(json_object_get((const json_t *)params, "edits"), result, err);
}

struct help_params {
	char method[CTL_METHOD_MAX];
};

/* The methods and what they do; with a method name, its params schema too. */
static int help(const void *params, json_t **result, struct ctl_error *err)
{
	const struct help_params *hp = params;

	if (hp->method[0] == '\0') {
		*result = ctl_methods_json();
		return *result ? 0 : -ENOMEM;
	}
	*result = ctl_method_json(hp->method);
	if (*result == NULL && errno == ENOENT) {
		ctl_error_set(err, ENOENT, "/params/method", "unknown method '%s'", hp->method);
		return -ENOENT;
	}
	return *result ? 0 : -ENOMEM;
}

json_t *core_schema_json(void)
{
	json_t *config = cfg_schema_json(&tessd_cfg_schema), *methods = ctl_methods_schema_json();

	if (config == NULL || methods == NULL) {
		json_decref(config);
		json_decref(methods);
		return NULL;
	}
	return json_pack("{s:o, s:o}", "config", config, "methods", methods);
}

/* The config schema and every method's params schema: what clients generate from. */
static int schema(const void *params, json_t **result, struct ctl_error *err)
{
	(void)params;
	(void)err;
	*result = core_schema_json();
	return *result ? 0 : -ENOMEM;
}

static const struct cfg_field help_fields[] = {
	CFG_FIELD(struct help_params, method, "method",
		  (&(const struct cfg_node){
			  .type = CFG_STRING,
			  .str = { .max_len = CTL_METHOD_MAX - 1, .charset = CFG_NAME_CHARSET } }),
		  false, "\"\""),
	{ 0 },
};
static const struct cfg_node help_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = help_fields, .size = sizeof(struct help_params) },
};

static const struct cfg_field save_fields[] = {
	CFG_FIELD(struct save_params, path, "path",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = PATH_MAX - 1 } }),
		  false, "\"\""),
	{ 0 },
};
static const struct cfg_node save_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = save_fields, .size = sizeof(struct save_params) },
};

static const struct cfg_field stats_fields[] = {
	CFG_FIELD(struct stats_params, vrf, "vrf",
		  (&(const struct cfg_node){
			  .type = CFG_STRING,
			  .str = { .max_len = TESS_NAME_LEN - 1, .charset = CFG_NAME_CHARSET } }),
		  false, "\"\""),
	{ 0 },
};
static const struct cfg_node stats_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = stats_fields, .size = sizeof(struct stats_params) },
};

static const struct ctl_method core_methods[] = {
	{ "status", NULL, status, "version, uptime, workers, memory mode, port capacity" },
	{ "stats.get", &stats_schema, stats_get,
	  "counters of ports, workers, groups, VRFs and interfaces (of one VRF)" },
	{ "stats.reset", NULL, stats_reset, "zero all counters" },
	{ "config.get", NULL, config_get, "the running config" },
	{ "config.save", &save_schema, config_save,
	  "write the running config atomically (to -c FILE, or params.path)" },
	{ .name = "config.batch",
	  .fn = config_batch,
	  .summary = "edits of config collections (add, set, del) as one commit: all or none",
	  .raw = true },
	{ "help", &help_schema, help, "list methods, or give one's params schema" },
	{ "schema", NULL, schema, "the config schema and every method's params schema" },
	{ 0 },
};

int core_api_register(void)
{
	int rc = ctl_register(core_methods);

	return rc < 0 ? rc : tess_event_api_register();
}
