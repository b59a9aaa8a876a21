/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's model (seeds 000-002, ../shared/DESIGN.md): sites, hosts,
 * tenants, desktop models, per-tenant model quotas and desktops, as the
 * daemon keeps them in memory (the store persists them). Ids are positive
 * and never reused.
 */
#ifndef TESS_MGR_MODEL_H
#define TESS_MGR_MODEL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"
#include "tessd_addr.h"

#define MGR_MAX_CPUS     1024 /* physical CPUs of a host */
#define MGR_CPU_WORDS    (MGR_MAX_CPUS / 64)
#define MGR_MAX_PREFIXES 32
#define MGR_VLANS        4096
#define MGR_MAX_SLICES   256 /* tenants with desktops on one host */
#define MGR_MAX_LINKS    32  /* sites a desktop's overlay links to */

typedef struct {
	uint64_t w[MGR_CPU_WORDS];
} mgr_cpuset;

static inline void mgr_cpuset_add(mgr_cpuset *s, unsigned cpu)
{
	s->w[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

static inline bool mgr_cpuset_has(const mgr_cpuset *s, unsigned cpu)
{
	return s->w[cpu / 64] >> (cpu % 64) & 1;
}

unsigned mgr_cpuset_count(const mgr_cpuset *s);
/* The longest text of a set: each CPU takes at most 4 digits and one separator (review 1.3:
 * every other CPU of a 1024-CPU host is about 2000 characters). */
#define MGR_CPUSET_STRLEN (5 * MGR_MAX_CPUS + 1)
/* "0-3,8,10-11" (empty string for an empty set). -ENOSPC, and an empty buf, if it does not
 * fit: a cut list would name other CPUs. */
int mgr_cpuset_format(const mgr_cpuset *s, char *buf, size_t len);
/* Parses that form; -EINVAL on anything else or a CPU >= max. */
int mgr_cpuset_parse(const char *str, unsigned max, mgr_cpuset *s);
bool mgr_cpuset_disjoint(const mgr_cpuset *a, const mgr_cpuset *b);

/* A host's CPUs as libvirt reports them: each CPU's core (socket and core id folded). */
struct mgr_job;

struct mgr_topo {
	uint16_t ncpus;
	uint16_t ncores;
	uint16_t core_of[MGR_MAX_CPUS];
};

struct mgr_site {
	uint32_t id;
	struct mgr_site_spec spec;
	uint32_t n_prefixes; /* spec.client_prefixes, parsed */
	struct {
		uint32_t addr; /* host order */
		uint8_t len;
	} prefixes[MGR_MAX_PREFIXES];
};

/* What a tenant has on a host: vCPUs allocated and its CPU partition there. */
struct mgr_slice {
	uint32_t tenant_id;
	uint32_t vcpus;
	mgr_cpuset cpus;
	int64_t since; /* the wall second from which it has its CPUs' count (usage_alloc.h) */
};

struct mgr_host {
	uint32_t id;
	struct mgr_host_spec spec;
	uint32_t site_id;
	uint64_t vlans[MGR_VLANS / 64];    /* spec.vlans as a bitmap */
	char tessd_key[MGR_TESSD_KEY_LEN]; /* spec.tessd's key (tessd_addr.h); "": none */
	/* From libvirt. */
	bool up;
	char down_reason[256];
	/* Its connection's health (runtime, mgr_host_check): next attempt while down, and counts.
	 */
	uint64_t retry_at;  /* CLOCK_MONOTONIC s */
	uint32_t retry_sec; /* the wait after the last failed attempt */
	uint32_t conn_lost, reconnects;
	/* A check in flight (it may wait on libvirt for ever), and the checks skipped meanwhile
	 * or for want of a thread (health.c). */
	bool check_running;
	uint32_t checks_skipped;
	/* Its check is past libvirt.check_timeout_sec: no longer counted against
	 * health_threads (health.c); how many times that happened. */
	bool check_hung;
	uint32_t checks_hung;
	/* PUTs/POSTs that found its connect lock held past connect_lock_wait_sec. */
	uint32_t connects_refused;
	uint64_t memory_mb;
	struct mgr_topo topo;
	/* Allocated (desktops placed, being created included). */
	uint32_t vcpus_used;
	uint64_t mem_used_mb;
	uint32_t ports_used; /* its desktops: each has a port on the host's tessd */
	/* Its tessd at the last look (runtime, host_tessd.c): answering, or why not; the vhost
	 * ports it reported (free -1: not reported) and ports_used then. */
	bool tessd_seen, tessd_up;
	char tessd_down_reason[384];
	int32_t tessd_max, tessd_used, tessd_free;
	uint32_t tessd_ports_then;
	uint32_t tessd_downs; /* times it stopped answering */
	bool repin_wanted;    /* partitions moved (a new reserved_cpus): re-pin at its connect */
	uint32_t n_slices;
	struct mgr_slice *slices;
	/*
	 * Its jobs (runtime): those ready to run (their desktop's previous job
	 * finished), light ones first, each kind oldest first; n_light of them
	 * light; those parked behind their desktop's previous job; how many run;
	 * and how many light jobs started in a row while a heavy one waited.
	 */
	struct mgr_job **queue;
	uint32_t n_queued, n_light, n_parked, jobs_running, light_streak;
};

struct mgr_tenant {
	uint32_t id;
	struct mgr_tenant_spec spec;
	uint32_t site_id;     /* spec.datacenter */
	uint32_t jobs_queued; /* runtime: its jobs not yet running (jobs.per_tenant) */
};

struct mgr_router {
	uint32_t id;
	struct mgr_router_spec spec;
	char tessd_key[MGR_TESSD_KEY_LEN]; /* spec.tessd's key (tessd_addr.h) */
};

struct mgr_model {
	uint32_t id;
	struct mgr_model_spec spec;
};

struct mgr_task {
	uint32_t id;
	struct mgr_task_spec spec;
};

/* A tenant's quota for one desktop model, with what is in use. */
struct mgr_quota {
	uint32_t tenant_id, model_id;
	struct mgr_quota_spec spec;
	uint32_t cpus_used; /* allocated, being created included */
	uint64_t memory_used_mb;
	uint32_t n_hosts; /* hosts associated with it by the last search (FIG. 4) */
	uint32_t *host_ids;
	int64_t since; /* the wall second from which it has its sizes (usage_alloc.h) */
};

/*
 * One site's copy of one version of a base image. A version is the SHA-256
 * of the image file; copies of a version at different sites are the same
 * bytes. A copy is never changed in place: an update is a new version.
 */
struct mgr_image {
	char name[MGR_NAME_LEN]; /* as desktop models name it */
	char version[65];
	uint32_t site_id;
	char path[PATH_MAX];
	int64_t size, mtime; /* the file when it was hashed: a changed file is refused */
	int64_t published;   /* when this version first appeared anywhere (µs since the epoch) */
};

static inline bool mgr_host_reaches(const struct mgr_host *h, uint16_t vlan)
{
	return h->vlans[vlan / 64] >> (vlan % 64) & 1;
}

#endif
