/* SPDX-License-Identifier: BSD-3-Clause */
#include "mgr_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cfg_file.h"
#include "listen.h"
#include "spec.h"
#include "tessd_config.h"
#include "tlog.h"

static const struct cfg_node path_node = {
	.type = CFG_STRING,
	.str = { .min_len = 1, .max_len = PATH_MAX - 1 },
	.check = mgr_check_abs_path,
};

static const struct cfg_field jobs_fields[] = {
	CFG_FIELD(struct mgr_jobs_cfg, workers, "workers", CFG_INT_NODE(1, 256), false, "8"),
	CFG_FIELD(struct mgr_jobs_cfg, per_host, "per_host", CFG_INT_NODE(1, 64), false, "2"),
	CFG_FIELD(struct mgr_jobs_cfg, timeout_sec, "timeout_sec", CFG_INT_NODE(1, 86400), false,
		  "600"),
	CFG_FIELD(struct mgr_jobs_cfg, stop_timeout_sec, "stop_timeout_sec", CFG_INT_NODE(0, 3600),
		  false, "60"),
	CFG_FIELD(struct mgr_jobs_cfg, history, "history", CFG_INT_NODE(10, 10000000), false,
		  "10000"),
	CFG_FIELD(struct mgr_jobs_cfg, per_tenant, "per_tenant", CFG_INT_NODE(1, 1000000), false,
		  "100"),
	CFG_FIELD(struct mgr_jobs_cfg, light_burst, "light_burst", CFG_INT_NODE(1, 1000), false,
		  "4"),
	{ 0 },
};

static const struct cfg_field audit_fields[] = {
	CFG_FIELD(struct mgr_audit_cfg, max_limit, "max_limit", CFG_INT_NODE(1, 1000000), false,
		  "10000"),
	CFG_FIELD(struct mgr_audit_cfg, unauth_interval_sec, "unauth_interval_sec",
		  CFG_INT_NODE(1, 86400), false, "60"),
	CFG_FIELD(struct mgr_audit_cfg, max_rows, "max_rows", CFG_INT_NODE(10, 1000000000), false,
		  "1000000"),
	CFG_FIELD(struct mgr_audit_cfg, max_age_days, "max_age_days", CFG_INT_NODE(0, 36500), false,
		  "0"),
	{ 0 },
};

static const struct cfg_field resources_fields[] = {
	CFG_FIELD(struct mgr_resources_cfg, sample_sec, "sample_sec", CFG_INT_NODE(1, 3600), false,
		  "5"),
	CFG_FIELD(struct mgr_resources_cfg, saturation_pct, "saturation_pct", CFG_INT_NODE(1, 100),
		  false, "90"),
	CFG_FIELD(struct mgr_resources_cfg, burst_pct, "burst_pct", CFG_INT_NODE(1, 10000), false,
		  "100"),
	CFG_FIELD(struct mgr_resources_cfg, hold_samples, "hold_samples", CFG_INT_NODE(1, 100),
		  false, "2"),
	CFG_FIELD(struct mgr_resources_cfg, period_us, "period_us", CFG_INT_NODE(1000, 1000000),
		  false, "100000"),
	{ 0 },
};

static int check_usage(const void *val, char *why, size_t len)
{
	const struct mgr_usage_cfg *u = val;

	if (u->raw_days > u->hourly_days || u->hourly_days > u->daily_days) {
		snprintf(why, len, "raw_days <= hourly_days <= daily_days: each step keeps longer");
		return EINVAL;
	}
	return 0;
}

static const struct cfg_field usage_fields[] = {
	CFG_FIELD(struct mgr_usage_cfg, sample_sec, "sample_sec", CFG_INT_NODE(1, 3600), false,
		  "300"),
	CFG_FIELD(struct mgr_usage_cfg, raw_days, "raw_days", CFG_INT_NODE(1, 3650), false, "7"),
	CFG_FIELD(struct mgr_usage_cfg, hourly_days, "hourly_days", CFG_INT_NODE(1, 36500), false,
		  "90"),
	CFG_FIELD(struct mgr_usage_cfg, daily_days, "daily_days", CFG_INT_NODE(1, 36500), false,
		  "1825"),
	CFG_FIELD(struct mgr_usage_cfg, max_rows, "max_rows", CFG_INT_NODE(1, 10000000), false,
		  "100000"),
	CFG_FIELD(struct mgr_usage_cfg, active_cache_sec, "active_cache_sec", CFG_INT_NODE(0, 300),
		  false, "5"),
	{ 0 },
};

static const struct cfg_field events_fields[] = {
	CFG_ARRAY_FIELD(struct mgr_events_cfg, tessd_kinds, n_tessd_kinds, "tessd_kinds",
			CFG_ARR_NODE(&event_kind_node, EVENT_MAX_KINDS, char[EVENT_KIND_LEN]),
			false, "[\"port.link\", \"config.commit\"]"),
	{ 0 },
};

static const struct cfg_node opt_path_node = {
	.type = CFG_STRING,
	.str = { .max_len = PATH_MAX - 1 },
	.check = mgr_check_abs_path,
};

/* TLS 1.2 and 1.3 only, GnuTLS's NORMAL choice of ciphers within them. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* A certificate without its key (or the reverse) is a config error, not plain HTTP. */
static int check_http(const void *val, char *why, size_t len)
{
	const struct mgr_http_cfg *h = val;

	if (!h->tls_cert[0] != !h->tls_key[0]) {
		snprintf(why, len, "tls_cert and tls_key go together (HTTPS), or neither is set");
		return EINVAL;
	}
	return 0;
}

/*
 * An origin as a browser sends it: http or https, a host and maybe a port, nothing after
 * (no path, not even "/"), so that it can be compared with the Origin header as text.
 */
static int check_origin(const void *val, char *why, size_t len)
{
	const char *s = val, *host = strstr(s, "://");

	if ((strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) || !host[3] ||
	    strpbrk(host + 3, "/?#@ \\") != NULL) {
		snprintf(why, len,
			 "'%s' is not an origin: http:// or https://, a host and maybe :PORT, "
			 "no path (\"https://desk.example.com\")",
			 s);
		return EINVAL;
	}
	return 0;
}

static const struct cfg_node origins_node = {
	.type = CFG_ARRAY,
	.arr = { .item = (&(const struct cfg_node){
			 .type = CFG_STRING,
			 .str = { .min_len = 1, .max_len = MGR_ORIGIN_LEN - 1 },
			 .check = check_origin }),
		 .max = MGR_MAX_ORIGINS,
		 .item_size = MGR_ORIGIN_LEN },
};

static const struct cfg_field http_fields[] = {
	CFG_FIELD(struct mgr_http_cfg, max_connections, "max_connections", CFG_INT_NODE(1, 65536),
		  false, "1024"),
	CFG_FIELD(struct mgr_http_cfg, per_ip_connections, "per_ip_connections",
		  CFG_INT_NODE(1, 65536), false, "64"),
	CFG_FIELD(struct mgr_http_cfg, timeout_sec, "timeout_sec", CFG_INT_NODE(1, 3600), false,
		  "30"),
	CFG_FIELD(struct mgr_http_cfg, max_json_depth, "max_json_depth", CFG_INT_NODE(2, 1000),
		  false, "32"),
	CFG_FIELD(struct mgr_http_cfg, tls_cert, "tls_cert", &opt_path_node, false, "\"\""),
	CFG_FIELD(struct mgr_http_cfg, tls_key, "tls_key", &opt_path_node, false, "\"\""),
	CFG_FIELD(struct mgr_http_cfg, tls_priorities, "tls_priorities",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .min_len = 1, .max_len = 255 } }),
		  false, "\"" TLS_PRIORITIES "\""),
	CFG_FIELD(struct mgr_http_cfg, portal_dir, "portal_dir", &opt_path_node, false, "\"\""),
	CFG_FIELD(struct mgr_http_cfg, novnc_dir, "novnc_dir", &opt_path_node, false,
		  "\"/usr/share/novnc\""),
	CFG_ARRAY_FIELD(struct mgr_http_cfg, origins, n_origins, "origins", &origins_node, false,
			"[]"),
	CFG_FIELD(struct mgr_http_cfg, session_idle_sec, "session_idle_sec",
		  CFG_INT_NODE(1, 7 * 86400), false, "1800"),
	CFG_FIELD(struct mgr_http_cfg, session_max_sec, "session_max_sec",
		  CFG_INT_NODE(1, 30 * 86400), false, "43200"),
	CFG_FIELD(struct mgr_http_cfg, max_sessions, "max_sessions", CFG_INT_NODE(1, 1000000),
		  false, "10000"),
	CFG_FIELD(struct mgr_http_cfg, sessions_per_principal, "sessions_per_principal",
		  CFG_INT_NODE(1, 1000000), false, "16"),
	CFG_FIELD(struct mgr_http_cfg, login_window_sec, "login_window_sec", CFG_INT_NODE(1, 86400),
		  false, "300"),
	CFG_FIELD(struct mgr_http_cfg, login_failures_per_address, "login_failures_per_address",
		  CFG_INT_NODE(1, 1000000), false, "20"),
	CFG_FIELD(struct mgr_http_cfg, login_failures_per_user, "login_failures_per_user",
		  CFG_INT_NODE(1, 1000000), false, "5"),
	{ 0 },
};

static int check_listen(const void *val, char *why, size_t len)
{
	struct mgr_listen l;

	return mgr_listen_parse(val, &l, why, len) < 0 ? EINVAL : 0;
}

/* Plain HTTP carries the bearer tokens in clear: only on loopback. */
static int check_cfg(const void *val, char *why, size_t len)
{
	const struct mgr_cfg *c = val;
	struct mgr_listen l;

	if (mgr_listen_parse(c->listen, &l, why, len) == 0 && !mgr_listen_is_loopback(&l) &&
	    !c->http.tls_cert[0]) {
		snprintf(why, len,
			 "listen: '%s' is not a loopback address: serving there needs HTTPS "
			 "(http.tls_cert and http.tls_key), plain HTTP is only for loopback",
			 c->listen);
		return EINVAL;
	}
	return 0;
}

static const struct cfg_field roaming_fields[] = {
	CFG_FIELD(struct mgr_roaming_cfg, same_km, "same_km",
		  (&(const struct cfg_node){ .type = CFG_NUMBER, .num = { 0, 20038 } }), false,
		  "0"),
	CFG_FIELD(struct mgr_roaming_cfg, connect_wait_sec, "connect_wait_sec",
		  CFG_INT_NODE(1, 86400), false, "600"),
	CFG_FIELD(struct mgr_roaming_cfg, verify_base, "verify_base",
		  (&(const struct cfg_node){ .type = CFG_BOOL }), false, "true"),
	{ 0 },
};

static const struct cfg_field libvirt_fields[] = {
	CFG_FIELD(struct mgr_libvirt_cfg, health_sec, "health_sec", CFG_INT_NODE(1, 3600), false,
		  "10"),
	CFG_FIELD(struct mgr_libvirt_cfg, backoff_max_sec, "backoff_max_sec",
		  CFG_INT_NODE(1, 86400), false, "300"),
	CFG_FIELD(struct mgr_libvirt_cfg, health_threads, "health_threads", CFG_INT_NODE(1, 1024),
		  false, "8"),
	CFG_FIELD(struct mgr_libvirt_cfg, check_timeout_sec, "check_timeout_sec",
		  CFG_INT_NODE(0, 86400), false, "0"),
	CFG_FIELD(struct mgr_libvirt_cfg, connect_lock_wait_sec, "connect_lock_wait_sec",
		  CFG_INT_NODE(0, 3600), false, "10"),
	{ 0 },
};

static const struct cfg_field ssh_fields[] = {
	CFG_FIELD(struct mgr_ssh_cfg, command, "command",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .min_len = 1, .max_len = PATH_MAX - 1 } }),
		  false, "\"ssh\""),
	CFG_FIELD(struct mgr_ssh_cfg, identity_file, "identity_file", &opt_path_node, false,
		  "\"\""),
	CFG_FIELD(struct mgr_ssh_cfg, known_hosts, "known_hosts", &opt_path_node, false, "\"\""),
	CFG_FIELD(struct mgr_ssh_cfg, connect_timeout_sec, "connect_timeout_sec",
		  CFG_INT_NODE(1, 600), false, "10"),
	CFG_FIELD(struct mgr_ssh_cfg, alive_interval_sec, "alive_interval_sec",
		  CFG_INT_NODE(1, 3600), false, "15"),
	CFG_FIELD(struct mgr_ssh_cfg, restart_max_sec, "restart_max_sec", CFG_INT_NODE(1, 3600),
		  false, "30"),
	{ 0 },
};

static const struct cfg_field log_fields[] = {
	CFG_FIELD(struct mgr_log_cfg, level, "level",
		  (&(const struct cfg_node){
			  .type = CFG_ENUM, .str = { .max_len = 7, .choices = tlog_level_names } }),
		  false, "\"info\""),
	CFG_FIELD(
		struct mgr_log_cfg, output, "output",
		(&(const struct cfg_node){ .type = CFG_ENUM,
					   .str = { .max_len = 7, .choices = tlog_output_names } }),
		false, "\"auto\""),
	{ 0 },
};

static const struct cfg_field users_fields[] = {
	CFG_FIELD(struct mgr_users_cfg, argon2_memory_kib, "argon2_memory_kib",
		  CFG_INT_NODE(1024, 4 << 20), false, "19456"),
	CFG_FIELD(struct mgr_users_cfg, argon2_time, "argon2_time", CFG_INT_NODE(1, 100), false,
		  "2"),
	CFG_FIELD(struct mgr_users_cfg, argon2_parallelism, "argon2_parallelism",
		  CFG_INT_NODE(1, 16), false, "1"),
	CFG_FIELD(struct mgr_users_cfg, argon2_concurrency, "argon2_concurrency",
		  CFG_INT_NODE(1, 256), false, "4"),
	CFG_FIELD(struct mgr_users_cfg, max_per_tenant, "max_per_tenant", CFG_INT_NODE(1, 1000000),
		  false, "10000"),
	{ 0 },
};

static const struct cfg_field console_fields[] = {
	CFG_FIELD(struct mgr_console_cfg, max_sessions, "max_sessions", CFG_INT_NODE(1, 4096),
		  false, "64"),
	CFG_FIELD(struct mgr_console_cfg, ticket_ttl_sec, "ticket_ttl_sec", CFG_INT_NODE(1, 3600),
		  false, "30"),
	CFG_FIELD(struct mgr_console_cfg, idle_sec, "idle_sec", CFG_INT_NODE(1, 604800), false,
		  "1800"),
	CFG_FIELD(struct mgr_console_cfg, max_per_principal, "max_per_principal",
		  CFG_INT_NODE(1, 4096), false, "4"),
	{ 0 },
};

const struct cfg_node mgr_log_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = log_fields, .size = sizeof(struct mgr_log_cfg) },
};

static const struct cfg_field cfg_fields[] = {
	CFG_FIELD(struct mgr_cfg, listen, "listen",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .min_len = 2,
						      .max_len = 63,
						      .charset = "0123456789abcdefABCDEF.:[]" },
					     .check = check_listen }),
		  false, "\"127.0.0.1\""),
	CFG_FIELD(struct mgr_cfg, port, "port", CFG_INT_NODE(0, 65535), false, "8470"),
	CFG_FIELD(struct mgr_cfg, store, "store", &path_node, false,
		  "\"/var/lib/tessera/tessmgrd.db\""),
	CFG_FIELD(struct mgr_cfg, state_dir, "state_dir", &path_node, false,
		  "\"/var/lib/tessera\""),
	CFG_FIELD(struct mgr_cfg, tokens, "tokens", &path_node, false,
		  "\"/etc/tessera/tokens.json\""),
	CFG_FIELD(struct mgr_cfg, max_body, "max_body", CFG_INT_NODE(1024, 16 << 20), false,
		  "65536"),
	CFG_FIELD(struct mgr_cfg, http, "http",
		  (&(const struct cfg_node){
			  .type = CFG_OBJECT,
			  .obj = { .fields = http_fields, .size = sizeof(struct mgr_http_cfg) },
			  .check = check_http }),
		  false, "{}"),
	CFG_FIELD(struct mgr_cfg, qemu_img, "qemu_img",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .min_len = 1, .max_len = PATH_MAX - 1 } }),
		  false, "\"qemu-img\""),
	CFG_FIELD(struct mgr_cfg, qemu_img_timeout_sec, "qemu_img_timeout_sec",
		  CFG_INT_NODE(1, 86400), false, "300"),
	CFG_FIELD(struct mgr_cfg, import_dir, "import_dir", &path_node, false,
		  "\"/var/lib/tessera/import\""),
	CFG_FIELD(struct mgr_cfg, jobs, "jobs",
		  (&(const struct cfg_node){
			  .type = CFG_OBJECT,
			  .obj = { .fields = jobs_fields, .size = sizeof(struct mgr_jobs_cfg) } }),
		  false, "{}"),
	CFG_FIELD(struct mgr_cfg, audit, "audit",
		  (&(const struct cfg_node){ .type = CFG_OBJECT,
					     .obj = { .fields = audit_fields,
						      .size = sizeof(struct mgr_audit_cfg) } }),
		  false, "{}"),
	CFG_FIELD(struct mgr_cfg, resources, "resources",
		  (&(const struct cfg_node){ .type = CFG_OBJECT,
					     .obj = { .fields = resources_fields,
						      .size = sizeof(struct mgr_resources_cfg) } }),
		  false, "{}"),
	CFG_FIELD(struct mgr_cfg, usage, "usage",
		  (&(const struct cfg_node){
			  .type = CFG_OBJECT,
			  .obj = { .fields = usage_fields, .size = sizeof(struct mgr_usage_cfg) },
			  .check = check_usage }),
		  false, "{}"),
	CFG_FIELD(struct mgr_cfg, events, "events",
		  CFG_OBJ_NODE(events_fields, struct mgr_events_cfg), false, "{}"),
	CFG_FIELD(struct mgr_cfg, roaming, "roaming",
		  (&(const struct cfg_node){ .type = CFG_OBJECT,
					     .obj = { .fields = roaming_fields,
						      .size = sizeof(struct mgr_roaming_cfg) } }),
		  false, "{}"),
	CFG_FIELD(struct mgr_cfg, libvirt, "libvirt",
		  (&(const struct cfg_node){ .type = CFG_OBJECT,
					     .obj = { .fields = libvirt_fields,
						      .size = sizeof(struct mgr_libvirt_cfg) } }),
		  false, "{}"),
	CFG_FIELD(struct mgr_cfg, ssh, "ssh", CFG_OBJ_NODE(ssh_fields, struct mgr_ssh_cfg), false,
		  "{}"),
	CFG_FIELD(struct mgr_cfg, log, "log", &mgr_log_schema, false, "{}"),
	CFG_FIELD(struct mgr_cfg, users, "users", CFG_OBJ_NODE(users_fields, struct mgr_users_cfg),
		  false, "{}"),
	CFG_FIELD(struct mgr_cfg, console, "console",
		  CFG_OBJ_NODE(console_fields, struct mgr_console_cfg), false, "{}"),
	{ 0 },
};
const struct cfg_node mgr_cfg_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = cfg_fields, .size = sizeof(struct mgr_cfg) },
	.check = check_cfg,
};

static const char *const roles[] = { "provider", "tenant", NULL }; /* a token's; users log in */

static int check_token(const void *val, char *why, size_t len)
{
	const struct mgr_token *t = val;

	/* One of them: a digest, or (the old form, still read) the token itself. */
	if (!t->token[0] == !t->sha256[0]) {
		snprintf(why, len,
			 "an entry has either \"sha256\" (tessctl token new) or \"token\"");
		return EINVAL;
	}
	if (t->sha256[0] && strlen(t->sha256) != 64) {
		snprintf(why, len, "\"sha256\" is 64 hex digits");
		return EINVAL;
	}
	if (t->token[0] && strlen(t->token) < 16) {
		snprintf(why, len, "a token has 16 characters or more");
		return EINVAL;
	}
	if (strcmp(t->role, "tenant") == 0 && !t->tenant[0]) {
		snprintf(why, len, "a tenant token names its tenant");
		return EINVAL;
	}
	if (strcmp(t->role, "provider") == 0 && t->tenant[0]) {
		snprintf(why, len, "a provider token has no tenant");
		return EINVAL;
	}
	return 0;
}

static const struct cfg_field token_fields[] = {
	CFG_FIELD(struct mgr_token, token, "token",
		  (&(const struct cfg_node){
			  .type = CFG_STRING,
			  .str = { .max_len = 127,
				   .charset = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "0123456789-._~+/=" } }),
		  false, "\"\""),
	CFG_FIELD(struct mgr_token, sha256, "sha256",
		  (&(const struct cfg_node){
			  .type = CFG_STRING,
			  .str = { .max_len = 64, .charset = "0123456789abcdefABCDEF" } }),
		  false, "\"\""),
	CFG_FIELD(struct mgr_token, principal, "principal", &tessd_name_schema, true, NULL),
	CFG_FIELD(struct mgr_token, role, "role",
		  (&(const struct cfg_node){ .type = CFG_STRING,
					     .str = { .max_len = 15, .choices = roles } }),
		  true, NULL),
	CFG_FIELD(struct mgr_token, tenant, "tenant", &tessd_opt_name_schema, false, "\"\""),
	{ 0 },
};
static const struct cfg_field tokens_fields[] = {
	CFG_ARRAY_FIELD(
		struct mgr_tokens, tokens, n_tokens, "tokens",
		(&(const struct cfg_node){
			.type = CFG_ARRAY,
			.arr = { .item =
					 &(const struct cfg_node){
						 .type = CFG_OBJECT,
						 .obj = { .fields = token_fields,
							  .size = sizeof(struct mgr_token) },
						 .check = check_token },
				 .max = 100000,
				 .item_size = sizeof(struct mgr_token) } }),
		true, NULL),
	{ 0 },
};
const struct cfg_node mgr_tokens_schema = {
	.type = CFG_OBJECT,
	.obj = { .fields = tokens_fields, .size = sizeof(struct mgr_tokens) },
};

int mgr_load_json(const char *path, const struct cfg_node *schema, void *dst)
{
	struct cfg_errs errs;
	json_t *doc;
	int rc;

	cfg_errs_init(&errs);
	doc = cfg_file_load(path, &errs);
	rc = doc ? cfg_decode(schema, doc, dst, "", &errs) : -EINVAL;
	json_decref(doc);
	if (rc < 0) {
		char prefix[PATH_MAX + 32];
		snprintf(prefix, sizeof(prefix), "tessmgrd: %s: ", path);
		cfg_errs_print(&errs, prefix, stderr);
	}
	return rc;
}
