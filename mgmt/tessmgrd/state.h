/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Everything tessmgrd knows, in memory, behind one lock: the model objects,
 * desktops and jobs. Every change is written to the store (SQLite) in the
 * same critical section, so what is in memory is what is on disk.
 */
#ifndef TESS_MGR_STATE_H
#define TESS_MGR_STATE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "model.h"

enum mgr_desktop_state {
	MGR_DESK_CREATING, /* placed; the create job has not finished */
	MGR_DESK_STOPPED,
	MGR_DESK_RUNNING,
	MGR_DESK_DELETING,
	MGR_DESK_MIGRATING,
	MGR_DESK_STATES
};
extern const char *const mgr_desktop_state_names[MGR_DESK_STATES];

struct mgr_desktop {
	uint32_t id;
	char name[MGR_NAME_LEN];
	/* Its libvirt domain: "TENANT+NAME" ('+' is in no name, so tenants cannot collide; review
	 * 1.13). Empty in desktops stored before: theirs stays "TENANT-NAME". */
	char domain[2 * MGR_NAME_LEN];
	uint32_t tenant_id, model_id, host_id;
	uint8_t state;
	char overlay[PATH_MAX];      /* its qcow2 linked clone */
	char port[MGR_NAME_LEN];     /* its vhost-user port in the host's tessd */
	char vhost_socket[PATH_MAX]; /* that port's socket (the NIC's source) */
	char mac[18];
	/* Its IPv4 address: reserved for its MAC by its tenant's PEs' DHCP, its port's only
	 * source (0: none, its tenant has no DHCP or it was made before addresses were given). */
	uint32_t address;
	char uuid[37];
	mgr_cpuset cpus;   /* where its vCPUs are pinned: its tenant's partition on its host */
	uint32_t quota_us; /* the resource manager's cap per period (0: none) */
	time_t created;
	char base[PATH_MAX];   /* its overlay's backing file: its site's copy of its base image */
	char base_version[65]; /* that image's version */
	/* Links to the copies of that version: the first is active (its site), the others passive.
	 */
	uint32_t link_sites[MGR_MAX_LINKS];
	uint8_t n_links;
	/* Runtime only. */
	/* Its address is reserved on the PEs: its create job found no other client leasing it,
	 * or it was loaded (until then a reservation would take the address from that client). */
	bool address_checked;
	mgr_cpuset applied; /* the pinning libvirt has (valid once applied) */
	uint32_t applied_quota_us;
	uint32_t applied_shares; /* its model's cpu_shares when applied */
	bool applied_valid;
	uint64_t last_cpu_ns;    /* resource manager: the previous sample */
	uint64_t last_sample_at; /* and when it was read */
	uint32_t over, under;    /* consecutive samples over / under its share */
	uint32_t last_job;       /* the latest job queued for it */
};

enum mgr_job_kind {
	MGR_JOB_CREATE,
	MGR_JOB_DELETE,
	MGR_JOB_START,
	MGR_JOB_STOP,
	MGR_JOB_REBOOT,
	MGR_JOB_MIGRATE,
	MGR_JOB_KINDS
};
extern const char *const mgr_job_kind_names[MGR_JOB_KINDS];

enum mgr_job_state { MGR_JOB_QUEUED, MGR_JOB_RUNNING, MGR_JOB_SUCCEEDED, MGR_JOB_FAILED };
/* How far a create's after_create or a delete's before_delete tasks got, stored with the job so
 * that a restart knows (tasks are never run again by the recovery); a migrate's MGR_STEP_TASKS:
 * it committed (the desktop is at its target), its after_move tasks run. */
enum mgr_job_step { MGR_STEP_NONE, MGR_STEP_TASKS, MGR_STEP_TASKS_DONE };
extern const char *const mgr_job_state_names[4];

struct mgr_job {
	uint32_t id;
	uint8_t kind, state;
	uint8_t priority; /* 0: light (start, stop, reboot), 1: heavy (create, delete, migrate) */
	uint32_t desktop_id, host_id, tenant_id;
	char error[512];
	time_t created, started, finished;
	uint32_t timeout_sec;
	uint32_t target_host_id; /* migrate: where to (its room there is reserved) */
	bool live;               /* migrate: live (qemu hosts) rather than cold */
	bool start;              /* migrate: start it at the target (a connect request) */
	uint32_t after;          /* runtime: its desktop's previous job, which must finish first */
	uint32_t then;           /* runtime: the job parked behind this one (its desktop's next) */
	bool parked;             /* runtime: waits for after, not in its host's queue */
	uint8_t step;            /* enum mgr_job_step (stored) */
	/* migrate (stored): a host that did not answer when the move was rolled back, where the
	 * domain definition leftover_uuid may remain; removed when it connects, or when a move of
	 * the desktop under way then ends (0: none). */
	uint32_t leftover_host_id;
	char leftover_uuid[37];
	/* Its workflow tasks' results (an array, owned; NULL: none ran). A copy of a job does not
	 * own it: the worker's copy has the array it fills, handed over when the job finishes. */
	json_t *tasks;
};

enum mgr_kind {
	MGR_SITE,
	MGR_HOST,
	MGR_TENANT,
	MGR_MODEL,
	MGR_DESKTOP,
	MGR_JOB,
	MGR_AUDIT,
	MGR_ROUTER,
	MGR_TASK,
	MGR_KINDS
};

struct mgr_state {
	pthread_mutex_t lock;
	struct mgr_site *sites;
	uint32_t n_sites;
	/* Hosts, desktops and jobs: stable pointers, kept in id order (lookups bisect). */
	struct mgr_host **hosts;
	uint32_t n_hosts;
	struct mgr_tenant *tenants;
	uint32_t n_tenants;
	struct mgr_model *models;
	uint32_t n_models;
	struct mgr_quota *quotas;
	uint32_t n_quotas;
	struct mgr_desktop **desktops;
	uint32_t n_desktops;
	struct mgr_job **jobs;
	uint32_t n_jobs;
	struct mgr_image *images; /* base image copies, by name, site, version */
	uint32_t n_images;
	struct mgr_router *routers; /* provider-edge routers (network_*.c) */
	uint32_t n_routers;
	struct mgr_task *tasks; /* workflow tasks (tasks.h), in id order */
	uint32_t n_tasks;
	uint32_t next_id[MGR_KINDS]; /* per object kind (enum mgr_kind) */
};

struct mgr_site *mgr_site_get(const struct mgr_state *s, uint32_t id);
struct mgr_site *mgr_site_by_name(const struct mgr_state *s, const char *name);
struct mgr_host *mgr_host_get(const struct mgr_state *s, uint32_t id);
struct mgr_host *mgr_host_by_name(const struct mgr_state *s, const char *name);
struct mgr_tenant *mgr_tenant_get(const struct mgr_state *s, uint32_t id);
struct mgr_tenant *mgr_tenant_by_name(const struct mgr_state *s, const char *name);
struct mgr_router *mgr_router_get(const struct mgr_state *s, uint32_t id);
struct mgr_router *mgr_router_by_name(const struct mgr_state *s, const char *name);
struct mgr_model *mgr_model_get(const struct mgr_state *s, uint32_t id);
struct mgr_model *mgr_model_by_name(const struct mgr_state *s, const char *name);
struct mgr_task *mgr_task_by_name(const struct mgr_state *s, const char *name);
struct mgr_quota *mgr_quota_get(const struct mgr_state *s, uint32_t tenant_id, uint32_t model_id);
struct mgr_desktop *mgr_desktop_get(const struct mgr_state *s, uint32_t id);
struct mgr_job *mgr_job_get(const struct mgr_state *s, uint32_t id);

#endif
