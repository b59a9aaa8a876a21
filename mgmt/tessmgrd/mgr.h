/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's core: the state, placement and reservations, partitions and
 * re-pinning, and the connection of hosts. Functions named *_locked expect
 * mgr.lock held; the others take it themselves.
 */
#ifndef TESS_MGR_H
#define TESS_MGR_H

#include <jansson.h>

#include "domain_xml.h"
#include "mgr_config.h"
#include "state.h"

extern struct mgr_state mgr;
extern struct mgr_cfg mgr_conf;

/*
 * What limits refused or dropped (GET /v1/stats), bumped with mgr_count()
 * from any thread, with or without mgr.lock.
 */
struct mgr_counters {
	uint64_t audit_unauthenticated;  /* requests without a known token (summarised) */
	uint64_t audit_summaries;        /* summary rows written for them */
	uint64_t audit_queries_refused;  /* limit or since out of bounds */
	uint64_t audit_pruned;           /* rows the retention job removed */
	uint64_t jobs_duplicate_refused; /* a job of the same kind already queued for the desktop */
	uint64_t jobs_tenant_refused;    /* jobs.per_tenant reached (429) */
	uint64_t token_lookups;          /* bearer tokens looked up: one per request */
	uint64_t net_fdb_forgets;        /* a moved desktop's MAC forgotten on a tessd (fdb.del) */
	uint64_t net_fdb_forget_failed;  /* such fdb.del that failed (retried at each tick) */
	uint64_t usage_net_unanswered;   /* a router's tessd silent in a usage pass (usage_net.h) */
	uint64_t usage_net_resets;       /* a tenant's counters found restarted or reset there */
	uint64_t usage_active_listings;  /* GET /v1/usage's listings of the hosts' domains */
	uint64_t usage_active_shared;    /* its answers from a listing kept (usage_active.h) */
	/* mgr_place_locked's answers: placed, or refused for want of a quota, of room in the
	 * quota, or of a host that can take it. */
	uint64_t place_ok, place_no_quota, place_quota_full, place_no_host;
};
extern struct mgr_counters mgr_counters;
#define mgr_count(field, n) __atomic_fetch_add(&mgr_counters.field, (n), __ATOMIC_RELAXED)

/* An error for the API: HTTP status, message, JSON path, and details (stolen). */
struct mgr_err {
	unsigned status;
	char path[128];
	char msg[512];
	json_t *detail;
};

void mgr_err_set(struct mgr_err *e, unsigned status, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Seconds on the monotonic clock (a clock step moves no deadline). */
uint64_t mgr_mono_sec(void);

/* Loads the store into mgr, derives what is derived, connects hosts. */
int mgr_init(char *err, size_t len);
void mgr_fini(void);

uint32_t mgr_next_id_locked(enum mgr_kind kind);

/* A router's or a host's tessd, as copied under mgr.lock. */
struct mgr_tessd_ref {
	char addr[MGR_URI_LEN];
	char key[MGR_TESSD_KEY_LEN];
	char name[MGR_NAME_LEN];
	uint32_t id;
	bool router;
};
/*
 * Every router's tessd, then every host's that has one, copied under mgr.lock. The count,
 * *refs to free; or -ENOMEM.
 */
int mgr_tessd_refs(struct mgr_tessd_ref **refs);

/* Site id, VLAN bitmap of a host; site of a tenant; prefixes of a site (from their specs). */
void mgr_host_derive_locked(struct mgr_host *h);
void mgr_tenant_derive_locked(struct mgr_tenant *t);
void mgr_site_derive_locked(struct mgr_site *s);
void mgr_router_derive_locked(struct mgr_router *r);

/* Connects (again) to a host's libvirt and reads its facts; marks it up or down. */
void mgr_host_connect(uint32_t host_id);
struct connect_lock;
/*
 * For a request (a host PUT or POST): host_id's connect lock, waited for
 * libvirt.connect_lock_wait_sec at most. NULL if a health check still holds it
 * (hung on a daemon that does not answer: libvirt has no connect timeout),
 * counted in the host's connects_refused; an HTTP thread must not wait for ever.
 */
struct connect_lock *mgr_host_connect_begin(uint32_t host_id);
/* Reconnects host_id if connect (under lk, from mgr_host_connect_begin), and releases lk. */
void mgr_host_connect_end(uint32_t host_id, struct connect_lock *lk, bool connect);
/*
 * The health check of a host's libvirt connection (every libvirt.health_sec):
 * up with a dead connection: marked down and reconnected; down: reconnected
 * once its wait (doubling, up to libvirt.backoff_max_sec) is over.
 */
void mgr_host_check(uint32_t host_id);

/*
 * Places a desktop of model m for tenant t: checks the quota, picks a host
 * (the quota's associated hosts first, then any eligible one, first fit)
 * and reserves its vCPUs, memory and partition room. NULL with e set (409
 * with the numbers or the reasons) when it cannot.
 */
struct mgr_host *mgr_place_locked(const struct mgr_tenant *t, const struct mgr_model *m,
				  struct mgr_err *e);
/* Gives back what a desktop of m reserved for t on h (and repartitions h), and its quota use. */
void mgr_release_locked(struct mgr_host *h, uint32_t tenant_id, const struct mgr_model *m);
/*
 * A migration's room on its target host: the host's share of a placement
 * only (the quota is in use already and stays so). false with why.
 */
bool mgr_reserve_host_locked(struct mgr_host *h, const struct mgr_tenant *t,
			     const struct mgr_model *m, const char **why);
void mgr_release_host_locked(struct mgr_host *h, uint32_t tenant_id, const struct mgr_model *m);
/* Partitions h (mgr_partition) for real, not for a probe: each partition that changes size
 * owes its old one for the time it had it (usage_alloc.h). */
int mgr_repartition_locked(struct mgr_host *h);

/* Each desktop of h takes its tenant's partition there (in memory and the store); whether
 * one's CPUs changed. */
bool mgr_sync_cpus_locked(const struct mgr_host *h);
/* Makes libvirt pin every desktop of h as its tenant's partition says (serialized per host). */
void mgr_repin_host(uint32_t host_id);
/* Undefines a domain of a host, never while the host is re-pinned: a re-pin redefines the
 * domains it read, and must not bring back one that a job has just undefined. */
int mgr_domain_undefine(uint32_t host_id, const char *uuid, char *err, size_t len);
/* Waits for a re-pin of the host in progress: one that read a desktop before its job set
 * MIGRATING would define its domain again after a live migration took it away. */
void mgr_repin_barrier(uint32_t host_id);

/* Usage per host and per tenant (only tenant_id's if not 0). */
json_t *mgr_usage_locked(uint32_t tenant_id);
json_t *mgr_host_json_locked(const struct mgr_host *h);
json_t *mgr_quota_json_locked(const struct mgr_quota *q);

/* Adds a desktop/job to the state (the arrays own them). */
int mgr_add_desktop_locked(struct mgr_desktop *d);
/* A locally administered unicast MAC, 02:7e:<id low 16 bits>:<16 random bits>, that no
 * desktop has; -EEXIST if none was found in a few draws. */
int mgr_new_mac_locked(char mac[18], uint32_t id);
void mgr_remove_desktop_locked(uint32_t id);
int mgr_add_job_locked(struct mgr_job *j);

/* Where a desktop's overlay (in a site's storage) and vhost-user socket (on a host) go. */
int mgr_desktop_paths(const char *storage, const char *tenant, const char *name, uint32_t id,
		      const char *vhost_dir, char overlay[PATH_MAX], char vhost[PATH_MAX]);

/* The domain definition of a desktop as its model, tenant and partition say. */
void mgr_domain_def_locked(const struct mgr_desktop *d, struct mgr_domain_def *def);

#endif
