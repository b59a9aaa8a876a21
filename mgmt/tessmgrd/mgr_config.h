/* SPDX-License-Identifier: BSD-3-Clause */
/* tessmgrd's config file and its token file. */
#ifndef TESS_MGR_CONFIG_H
#define TESS_MGR_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "cfg_schema.h"
#include "event_proto.h"

struct mgr_jobs_cfg {
	uint32_t workers;          /* job threads */
	uint32_t per_host;         /* jobs running at once on one host */
	uint32_t timeout_sec;      /* a job running longer fails (and rolls back) */
	uint32_t stop_timeout_sec; /* graceful shutdown of a desktop, then forced */
	uint32_t history;          /* finished jobs kept (memory and store), the oldest dropped */
	uint32_t per_tenant;       /* a tenant's jobs queued (not yet running); more: 429 */
	uint32_t light_burst;      /* light jobs a host starts in a row while a heavy one waits */
};

/*
 * The resource manager's policy: every sample_sec, each running desktop's
 * CPU use (from libvirt's CPU time) is compared with its fair share of its
 * tenant's partition (the partition's CPUs split by the desktops' shares).
 * When the tenant's desktops together use saturation_pct or more of the
 * partition, a desktop over burst_pct of its share for hold_samples
 * samples running is throttled to its share (vCPU period/quota); released
 * once the tenant is under saturation_pct, or the desktop under its share,
 * for hold_samples samples.
 */
struct mgr_resources_cfg {
	uint32_t sample_sec;
	uint32_t saturation_pct;
	uint32_t burst_pct;
	uint32_t hold_samples;
	uint32_t period_us;
};

/*
 * Usage history (usage_hist.h): every sample_sec, each desktop's reservation
 * and use over the interval is a raw row; raw rows older than raw_days are
 * summed into hourly rows, hourly rows older than hourly_days into daily
 * rows, and daily rows older than daily_days are deleted. A history query
 * returns at most max_rows rows.
 */
struct mgr_usage_cfg {
	uint32_t sample_sec;
	uint32_t raw_days;
	uint32_t hourly_days;
	uint32_t daily_days;
	uint32_t max_rows;
	uint32_t active_cache_sec; /* GET /v1/usage's listing of running domains kept */
};

/*
 * The tessds' events that GET /v1/events relays to the provider (tessd_events.h):
 * the kinds or prefixes each router's and host's tessd is subscribed to; none: no
 * subscription.
 */
struct mgr_events_cfg {
	char (*tessd_kinds)[EVENT_KIND_LEN]; /* as tessd's events.subscribe takes them */
	uint32_t n_tessd_kinds;
};

/*
 * The roaming desktop (seed 004): a client within same_km of its desktop's
 * site is at the same location (0: only at the same site, a point being at
 * its nearest site); a connect request waits up to connect_wait_sec for the
 * move; verify_base re-hashes the target's base copy before every move.
 */
struct mgr_roaming_cfg {
	double same_km;
	uint32_t connect_wait_sec;
	bool verify_base;
};

/*
 * The audit log (review 1.6): requests without a known token are counted and
 * written as one summary row per unauth_interval_sec, not one row each; a
 * query returns at most max_limit rows; the retention job keeps at most
 * max_rows rows and none older than max_age_days (0: no age limit).
 */
struct mgr_audit_cfg {
	uint32_t max_limit;
	uint32_t unauth_interval_sec;
	uint32_t max_rows;
	uint32_t max_age_days;
};

/*
 * The HTTP front end's limits per client (review 1.11), and its TLS: with
 * tls_cert and tls_key (PEM files) it serves HTTPS only; without them, plain
 * HTTP on a loopback address only. Browser sessions (session.h) end
 * session_idle_sec after their last use and session_max_sec after their
 * login; failed logins are limited per client address and per user, so many
 * in login_window_sec, then 429 until that window ends.
 */
#define MGR_ORIGIN_LEN  256
#define MGR_MAX_ORIGINS 16

struct mgr_http_cfg {
	uint32_t max_connections;    /* at once, a thread each */
	uint32_t per_ip_connections; /* at once from one address */
	uint32_t timeout_sec;        /* idle connections closed */
	uint32_t max_json_depth;     /* nesting of request bodies */
	char tls_cert[PATH_MAX];     /* the certificate chain, the server's first */
	char tls_key[PATH_MAX];      /* its private key: mode 0600 or stricter */
	char tls_priorities[256];    /* GnuTLS priority string */
	char portal_dir[PATH_MAX];   /* the web portal's static files ("": none, portal.c) */
	char novnc_dir[PATH_MAX];    /* noVNC's files, the console page's RFB client (portal.c) */
	/* Where browsers reach tessmgrd through a reverse proxy ("https://desk.example.com"):
	 * origins a login or console request may come from besides its own scheme and Host. */
	char (*origins)[MGR_ORIGIN_LEN];
	uint32_t n_origins;
	uint32_t session_idle_sec;
	uint32_t session_max_sec;
	uint32_t max_sessions;           /* alive at once; a login beyond: 503 */
	uint32_t sessions_per_principal; /* a login beyond ends that principal's oldest */
	uint32_t login_window_sec;
	uint32_t login_failures_per_address;
	uint32_t login_failures_per_user;
};

/*
 * Hosts' libvirt connections (review 1.10): every health_sec, a host whose
 * connection died is marked down and a host that is down is reconnected,
 * the wait between failed attempts doubling up to backoff_max_sec. A peer
 * that stops answering is dropped after 5 keepalives of health_sec. Each
 * host's check runs on a thread of its own, at most health_threads checks of
 * down hosts at once (a check older than check_timeout_sec, 0: 2 x
 * health_sec, no longer counts): a host whose daemon never answers a connect
 * holds up its own check only.
 */
struct mgr_libvirt_cfg {
	uint32_t health_sec;
	uint32_t backoff_max_sec;
	uint32_t health_threads;
	uint32_t check_timeout_sec;
	uint32_t connect_lock_wait_sec; /* a PUT/POST's wait for a check of the host in flight */
};

/*
 * The ssh tunnels to remote hosts' tessds (ssh:// addresses, tunnel.h):
 * command is the OpenSSH client; identity_file and known_hosts, when set,
 * are the only key offered and the only host keys trusted (otherwise ssh's
 * defaults: ~/.ssh of tessmgrd's user); host keys are always checked
 * (BatchMode, no prompt).
 */
struct mgr_ssh_cfg {
	char command[PATH_MAX];
	char identity_file[PATH_MAX];
	char known_hosts[PATH_MAX];
	uint32_t
		connect_timeout_sec; /* ssh's ConnectTimeout; a tunnel is waited for a bit longer */
	uint32_t alive_interval_sec; /* ServerAliveInterval: a dead peer is noticed in 3 of them */
	uint32_t restart_max_sec;    /* a tunnel that died is restarted, waits doubling up to it */
};

/*
 * End users (users.h): Argon2id parameters of new password hashes (a hash
 * keeps its own), at most argon2_concurrency hashes computed at once (each
 * takes argon2_memory_kib), at most max_per_tenant users a tenant.
 */
struct mgr_users_cfg {
	uint32_t argon2_memory_kib;
	uint32_t argon2_time;
	uint32_t argon2_parallelism;
	uint32_t argon2_concurrency;
	uint32_t max_per_tenant;
};

/*
 * The log (tlog.h): lines above level are dropped (PUT /v1/log changes it until the next
 * start); output auto is the journal when stderr is it (systemd), else stderr.
 */
struct mgr_log_cfg {
	uint32_t level;  /* index in tlog_level_names: priority LOG_ERR + level */
	uint32_t output; /* enum tlog_output */
};

/*
 * Desktop consoles (console.h): at most max_sessions tickets and consoles at
 * once (max_per_principal of them one principal's), a ticket used within
 * ticket_ttl_sec, a console closed after idle_sec without a byte from its
 * client.
 */
struct mgr_console_cfg {
	uint32_t max_sessions;
	uint32_t ticket_ttl_sec;
	uint32_t idle_sec;
	uint32_t max_per_principal;
};

struct mgr_cfg {
	char listen[64];
	uint16_t port;
	char store[PATH_MAX];
	char state_dir[PATH_MAX];
	char tokens[PATH_MAX];
	uint32_t max_body;
	struct mgr_http_cfg http;
	char qemu_img[PATH_MAX];
	uint32_t qemu_img_timeout_sec; /* one qemu-img run, then killed (a hung NFS base) */
	char import_dir[PATH_MAX];     /* image pushes read only regular files under it */
	struct mgr_jobs_cfg jobs;
	struct mgr_audit_cfg audit;
	struct mgr_resources_cfg resources;
	struct mgr_usage_cfg usage;
	struct mgr_events_cfg events;
	struct mgr_roaming_cfg roaming;
	struct mgr_libvirt_cfg libvirt;
	struct mgr_ssh_cfg ssh;
	struct mgr_log_cfg log;
	struct mgr_users_cfg users;
	struct mgr_console_cfg console;
};

extern const struct cfg_node mgr_cfg_schema;
/* The config's "log" object, which PUT /v1/log takes too. */
extern const struct cfg_node mgr_log_schema;

enum mgr_role { MGR_ROLE_PROVIDER, MGR_ROLE_TENANT };

struct mgr_token {
	char token[128];    /* a clear token (accepted with a warning): wiped once hashed */
	char sha256[65];    /* the token's SHA-256, hex */
	uint8_t digest[32]; /* what requests are compared with (not in the file) */
	uint32_t user_id;   /* a user's (role user, users.h; not in the file), 0 for a token's */
	uint32_t user_gen;  /* its password's generation when it logged in */
	char principal[64];
	char role[16];
	char tenant[64];
};

struct mgr_tokens {
	struct mgr_token *tokens;
	uint32_t n_tokens;
};

extern const struct cfg_node mgr_tokens_schema;

/* Loads a JSON file through a schema; errors printed with the file name. */
int mgr_load_json(const char *path, const struct cfg_node *schema, void *dst);

#endif
