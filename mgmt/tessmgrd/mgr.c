/* SPDX-License-Identifier: BSD-3-Clause */
#include "mgr.h"

#include "tunnel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capacity.h"
#include "events.h"
#include "host_tessd.h"
#include "jobs.h"
#include "http.h"
#include "store.h"
#include "users.h"
#include "tessd_config.h"
#include "usage_alloc.h"
#include "virt.h"
#include "tlog.h"

struct mgr_state mgr = { .lock = PTHREAD_MUTEX_INITIALIZER };
struct mgr_cfg mgr_conf;
struct mgr_counters mgr_counters;

/* Re-pinning is serialized per host, so the latest partition always wins. */
static pthread_mutex_t repin_locks[64];
/*
 * One connect or health check of a host at a time (a PUT's reconnect, a health check), a lock
 * per host: a host whose libvirt never answers holds its own only, not others' sharing a slot.
 */
struct connect_lock {
	uint32_t host_id;
	unsigned users; /* under connect_locks_lock */
	pthread_mutex_t m;
	struct connect_lock *next;
};
static pthread_mutex_t connect_locks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct connect_lock *connect_locks;
/* Shared by all hosts only when no lock of a host's own can be allocated. */
static struct connect_lock no_memory = { .m = PTHREAD_MUTEX_INITIALIZER };

void mgr_err_set(struct mgr_err *e, unsigned status, const char *path, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	snprintf(e->path, sizeof(e->path), "%s", path ? path : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	/* A cut inside a UTF-8 character would void the JSON of the answer and events. */
	e->msg[http_utf8_prefix(e->msg, sizeof(e->msg) - 1)] = '\0';
}

uint32_t mgr_next_id_locked(enum mgr_kind kind)
{
	if (mgr.next_id[kind] == 0)
		mgr.next_id[kind] = 1;
	return mgr.next_id[kind]++;
}

int mgr_tessd_refs(struct mgr_tessd_ref **refs)
{
	struct mgr_tessd_ref *r;
	int n = 0;

	pthread_mutex_lock(&mgr.lock);
	r = calloc(mgr.n_routers + mgr.n_hosts + 1, sizeof(*r));
	for (uint32_t i = 0; r && i < mgr.n_routers; i++, n++) {
		snprintf(r[n].addr, sizeof(r[n].addr), "%s", mgr.routers[i].spec.tessd);
		snprintf(r[n].key, sizeof(r[n].key), "%s", mgr.routers[i].tessd_key);
		snprintf(r[n].name, sizeof(r[n].name), "%s", mgr.routers[i].spec.name);
		r[n].id = mgr.routers[i].id;
		r[n].router = true;
	}
	for (uint32_t i = 0; r && i < mgr.n_hosts; i++) {
		const struct mgr_host *h = mgr.hosts[i];
		if (!h->spec.tessd[0])
			continue;
		snprintf(r[n].addr, sizeof(r[n].addr), "%s", h->spec.tessd);
		snprintf(r[n].key, sizeof(r[n].key), "%s", h->tessd_key);
		snprintf(r[n].name, sizeof(r[n].name), "%s", h->spec.name);
		r[n++].id = h->id;
	}
	pthread_mutex_unlock(&mgr.lock);
	*refs = r;
	return r ? n : -ENOMEM;
}

void mgr_site_derive_locked(struct mgr_site *s)
{
	s->n_prefixes = 0;
	for (uint32_t i = 0; i < s->spec.n_client_prefixes && i < MGR_MAX_PREFIXES; i++) {
		struct cfg_prefix4 pf;
		if (cfg_parse_prefix4(s->spec.client_prefixes[i], &pf) == 0) {
			s->prefixes[s->n_prefixes].addr = pf.ip;
			s->prefixes[s->n_prefixes++].len = pf.len;
		}
	}
}

void mgr_host_derive_locked(struct mgr_host *h)
{
	const struct mgr_site *s = mgr_site_by_name(&mgr, h->spec.site);

	h->site_id = s ? s->id : 0;
	memset(h->vlans, 0, sizeof(h->vlans));
	for (uint32_t i = 0; i < h->spec.n_vlans; i++)
		h->vlans[h->spec.vlans[i] / 64] |= UINT64_C(1) << (h->spec.vlans[i] % 64);
	mgr_tessd_key_of(h->spec.tessd, h->tessd_key);
}

void mgr_router_derive_locked(struct mgr_router *r)
{
	mgr_tessd_key_of(r->spec.tessd, r->tessd_key);
}

void mgr_tenant_derive_locked(struct mgr_tenant *t)
{
	const struct mgr_site *s = mgr_site_by_name(&mgr, t->spec.datacenter);

	t->site_id = s ? s->id : 0;
}

/* ---- reservations ---- */

/* The grown array is stored in h->slices at once; gcc 12's analyzer loses it across the
 * split -O2 makes of this function (slice_for.part.0) and reports a leak. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static struct mgr_slice *slice_for(struct mgr_host *h, uint32_t tenant_id)
{
	struct mgr_slice *s = mgr_host_slice(h, tenant_id), *a;

	if (s)
		return s;
	a = realloc(h->slices, (h->n_slices + 1) * sizeof(*a));
	if (a == NULL)
		return NULL;
	h->slices = a;
	s = &a[h->n_slices++];
	memset(s, 0, sizeof(*s));
	s->tenant_id = tenant_id;
	s->since = time(NULL); /* before its first desktop's `created` */
	return s;
}
#pragma GCC diagnostic pop

/* A slice leaves its size of cpus (it goes, or takes another): the time it had it is owed to
 * the usage history, and its new size counts from now. */
static void slice_sized(struct mgr_slice *s, unsigned cpus)
{
	usage_alloc_resized_locked(s->tenant_id, (struct usage_held){ .pcpus = cpus }, &s->since);
}

/* mgr_partition for real, not for a probe (mgr.h). */
int mgr_repartition_locked(struct mgr_host *h)
{
	unsigned was[MGR_MAX_SLICES];
	uint32_t n = h->n_slices < MGR_MAX_SLICES ? h->n_slices : MGR_MAX_SLICES;
	int rc;

	for (uint32_t i = 0; i < n; i++)
		was[i] = mgr_cpuset_count(&h->slices[i].cpus);
	rc = mgr_partition(h); /* the slices stay where they are: only their CPUs change */
	for (uint32_t i = 0; i < n; i++)
		if (mgr_cpuset_count(&h->slices[i].cpus) != was[i])
			slice_sized(&h->slices[i], was[i]);
	return rc;
}

/* Takes room for one desktop of m; -ENOSPC if its partition cannot grow (nothing taken). */
static int reserve(struct mgr_host *h, struct mgr_quota *q, uint32_t tenant_id,
		   const struct mgr_model *m)
{
	struct mgr_slice *s = slice_for(h, tenant_id);

	if (s == NULL)
		return -ENOMEM;
	s->vcpus += m->spec.vcpus;
	if (mgr_repartition_locked(h) < 0) {
		s->vcpus -= m->spec.vcpus;
		/* A slice made for this try goes too: left empty, it counted against the host's
		 * MGR_MAX_SLICES and blocked host_del (review 1.15). */
		if (s->vcpus == 0)
			*s = h->slices[--h->n_slices];
		return -ENOSPC; /* a failed mgr_partition changed no partition */
	}
	h->vcpus_used += m->spec.vcpus;
	h->mem_used_mb += m->spec.memory_mb;
	h->ports_used++;
	if (q) {
		q->cpus_used += m->spec.vcpus;
		q->memory_used_mb += m->spec.memory_mb;
	}
	return 0;
}

void mgr_release_host_locked(struct mgr_host *h, uint32_t tenant_id, const struct mgr_model *m)
{
	struct mgr_slice *s = mgr_host_slice(h, tenant_id);

	if (s) {
		s->vcpus -= s->vcpus < m->spec.vcpus ? s->vcpus : m->spec.vcpus;
		if (s->vcpus == 0) {
			slice_sized(s, mgr_cpuset_count(&s->cpus));
			*s = h->slices[--h->n_slices]; /* the tenant is gone from this host */
		}
	}
	h->vcpus_used -= h->vcpus_used < m->spec.vcpus ? h->vcpus_used : m->spec.vcpus;
	h->mem_used_mb -= h->mem_used_mb < m->spec.memory_mb ? h->mem_used_mb : m->spec.memory_mb;
	h->ports_used -= h->ports_used > 0;
	mgr_repartition_locked(h); /* shrinking always fits */
}

void mgr_release_locked(struct mgr_host *h, uint32_t tenant_id, const struct mgr_model *m)
{
	struct mgr_quota *q = mgr_quota_get(&mgr, tenant_id, m->id);

	mgr_release_host_locked(h, tenant_id, m);
	if (q) {
		q->cpus_used -= q->cpus_used < m->spec.vcpus ? q->cpus_used : m->spec.vcpus;
		q->memory_used_mb -= q->memory_used_mb < m->spec.memory_mb ? q->memory_used_mb
									   : m->spec.memory_mb;
	}
}

/* Tries the host for one more desktop; why says why not. */
static bool try_host(struct mgr_host *h, const struct mgr_tenant *t, const struct mgr_model *m,
		     struct mgr_quota *q, const char **why)
{
	if (mgr_host_room(h, t, m, why) == 0)
		return false;
	if (reserve(h, q, t->id, m) < 0) {
		*why = "has no free cores left for the tenant's CPU partition";
		return false;
	}
	return true;
}

bool mgr_reserve_host_locked(struct mgr_host *h, const struct mgr_tenant *t,
			     const struct mgr_model *m, const char **why)
{
	return try_host(h, t, m, NULL, why);
}

struct mgr_host *mgr_place_locked(const struct mgr_tenant *t, const struct mgr_model *m,
				  struct mgr_err *e)
{
	struct mgr_quota *q = mgr_quota_get(&mgr, t->id, m->id);
	json_t *reasons;
	const char *why;

	if (q == NULL) {
		mgr_err_set(e, 409, "/model", "tenant %s has no quota for model %s", t->spec.name,
			    m->spec.name);
		mgr_count(place_no_quota, 1);
		return NULL;
	}
	if (mgr_quota_room(q, m) == 0) {
		mgr_err_set(e, 409, "/model",
			    "quota exceeded: a %s desktop needs %u CPUs and %llu MiB; tenant %s "
			    "uses %u of %u CPUs and %llu of %llu MiB",
			    m->spec.name, m->spec.vcpus, (unsigned long long)m->spec.memory_mb,
			    t->spec.name, q->cpus_used, q->spec.max_cpus,
			    (unsigned long long)q->memory_used_mb,
			    (unsigned long long)q->spec.max_memory_mb);
		e->detail =
			json_pack("{s:i, s:I, s:i, s:i, s:I, s:I}", "need_cpus", (int)m->spec.vcpus,
				  "need_memory_mb", (json_int_t)m->spec.memory_mb, "cpus_used",
				  (int)q->cpus_used, "max_cpus", (int)q->spec.max_cpus,
				  "memory_used_mb", (json_int_t)q->memory_used_mb, "max_memory_mb",
				  (json_int_t)q->spec.max_memory_mb);
		mgr_count(place_quota_full, 1);
		return NULL;
	}
	/* The hosts the quota was associated with (FIG. 4), in order. */
	for (uint32_t i = 0; i < q->n_hosts; i++) {
		struct mgr_host *h = mgr_host_get(&mgr, q->host_ids[i]);
		if (h && mgr_host_eligible(h, t) && try_host(h, t, m, q, &why)) {
			mgr_count(place_ok, 1);
			tlog(LOG_DEBUG, TLOG_F(.tenant = t->id, .host = h->id),
			     "placement: a %s desktop of tenant %s on host %s (its quota's)",
			     m->spec.name, t->spec.name, h->spec.name);
			return h;
		}
	}
	/* Then any host that can take it. */
	reasons = json_object();
	for (uint32_t i = 0; i < mgr.n_hosts; i++) {
		struct mgr_host *h = mgr.hosts[i];
		if (try_host(h, t, m, q, &why)) {
			json_decref(reasons);
			mgr_count(place_ok, 1);
			tlog(LOG_DEBUG, TLOG_F(.tenant = t->id, .host = h->id),
			     "placement: a %s desktop of tenant %s on host %s", m->spec.name,
			     t->spec.name, h->spec.name);
			return h;
		}
		json_object_set_new(reasons, h->spec.name, json_string(why));
	}
	mgr_err_set(e, 409, "",
		    "no host can take a %s desktop for tenant %s (%zu hosts; see detail for why)",
		    m->spec.name, t->spec.name, json_object_size(reasons));
	e->detail = json_pack("{s:o}", "hosts", reasons);
	mgr_count(place_no_host, 1);
	return NULL;
}

bool mgr_sync_cpus_locked(const struct mgr_host *h)
{
	bool changed = false;

	for (uint32_t i = 0; i < mgr.n_desktops; i++) {
		struct mgr_desktop *d = mgr.desktops[i];
		const struct mgr_slice *s =
			d->host_id == h->id ? mgr_host_slice(h, d->tenant_id) : NULL;
		if (s && memcmp(&d->cpus, &s->cpus, sizeof(s->cpus))) {
			d->cpus = s->cpus;
			changed = true;
			/* Memory has it; the store gets it again at the next change or re-pin. */
			if (mgr_store_put_desktop(d) < 0)
				tlog(LOG_ERR,
				     TLOG_F(.desktop = d->id, .tenant = d->tenant_id,
					    .host = d->host_id),
				     "desktop %u: cannot store its CPUs", d->id);
		}
	}
	return changed;
}

/* ---- state arrays ---- */

int mgr_add_desktop_locked(struct mgr_desktop *d)
{
	struct mgr_desktop **a = realloc(mgr.desktops, (mgr.n_desktops + 1) * sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	mgr.desktops = a;
	a[mgr.n_desktops++] = d;
	return 0;
}

void mgr_remove_desktop_locked(uint32_t id)
{
	for (uint32_t i = 0; i < mgr.n_desktops; i++) {
		if (mgr.desktops[i]->id == id) {
			free(mgr.desktops[i]);
			memmove(&mgr.desktops[i], &mgr.desktops[i + 1],
				(--mgr.n_desktops - i) * sizeof(*mgr.desktops));
			return;
		}
	}
}

int mgr_add_job_locked(struct mgr_job *j)
{
	struct mgr_job **a = realloc(mgr.jobs, (mgr.n_jobs + 1) * sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	mgr.jobs = a;
	a[mgr.n_jobs++] = j;
	return 0;
}

static bool mac_taken(const char *mac)
{
	for (uint32_t i = 0; i < mgr.n_desktops; i++)
		if (strcmp(mgr.desktops[i]->mac, mac) == 0)
			return true;
	return false;
}

/* 52:54:00 is QEMU's prefix; 02 is ours. The id's low 16 bits alone are unique only for the
 * first 65535 ids: past that, draws are checked against every desktop (review 1.13). */
int mgr_new_mac_locked(char mac[18], uint32_t id)
{
	char next[18]; /* not in mac: that may be a listed desktop's own */

	for (unsigned tries = 0; tries < 64; tries++) {
		unsigned r = (unsigned)random();
		snprintf(next, sizeof(next), "02:7e:%02x:%02x:%02x:%02x", (id >> 8) & 0xff,
			 id & 0xff, (r >> 8) & 0xff, r & 0xff);
		if (!mac_taken(next)) {
			memcpy(mac, next, sizeof(next));
			return 0;
		}
	}
	return -EEXIST;
}

int mgr_desktop_paths(const char *storage, const char *tenant, const char *name, uint32_t id,
		      const char *vhost_dir, char overlay[PATH_MAX], char vhost[PATH_MAX])
{
	if (snprintf(overlay, PATH_MAX, "%s/overlays/%s/%s-%u.qcow2", storage, tenant, name, id) >=
		    PATH_MAX ||
	    snprintf(vhost, PATH_MAX, "%s/desk%u.sock", vhost_dir, id) >= 108 /* sun_path */)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- domains and pinning ---- */

void mgr_domain_def_locked(const struct mgr_desktop *d, struct mgr_domain_def *def)
{
	const struct mgr_tenant *t = mgr_tenant_get(&mgr, d->tenant_id);
	const struct mgr_model *m = mgr_model_get(&mgr, d->model_id);
	const struct mgr_host *h = mgr_host_get(&mgr, d->host_id);

	memset(def, 0, sizeof(*def));
	if (d->domain[0])
		snprintf(def->name, sizeof(def->name), "%s", d->domain);
	else
		snprintf(def->name, sizeof(def->name), "%s-%s", t ? t->spec.name : "?", d->name);
	snprintf(def->uuid, sizeof(def->uuid), "%s", d->uuid);
	def->test = h && h->spec.test_host.sockets > 0;
	def->virt_type = h ? h->spec.virt_type : MGR_VIRT_KVM;
	if (h && !def->test && h->spec.console_dir[0] &&
	    snprintf(def->console_log, sizeof(def->console_log), "%s/desk%u.log",
		     h->spec.console_dir, d->id) >= (int)sizeof(def->console_log))
		def->console_log[0] = '\0'; /* no log rather than another file's name */
	def->vcpus = m ? m->spec.vcpus : 1;
	def->memory_mb = m ? m->spec.memory_mb : 1024;
	def->cpus = d->cpus;
	def->shares = m ? m->spec.cpu_shares : 1024;
	def->period_us = mgr_conf.resources.period_us;
	def->quota_us = d->quota_us;
	snprintf(def->disk, sizeof(def->disk), "%s", d->overlay);
	if (m) {
		snprintf(def->kernel, sizeof(def->kernel), "%s", m->spec.kernel);
		snprintf(def->initrd, sizeof(def->initrd), "%s", m->spec.initrd);
		snprintf(def->cmdline, sizeof(def->cmdline), "%s", m->spec.cmdline);
	}
	snprintf(def->vhost_socket, sizeof(def->vhost_socket), "%s", d->vhost_socket);
	snprintf(def->mac, sizeof(def->mac), "%s", d->mac);
	snprintf(def->vlan_name, sizeof(def->vlan_name), "%s", t ? t->spec.vlan_name : "");
	snprintf(def->tenant, sizeof(def->tenant), "%s", t ? t->spec.name : "");
	snprintf(def->model, sizeof(def->model), "%s", m ? m->spec.name : "");
	def->desktop_id = d->id;
	snprintf(def->base, sizeof(def->base), "%s", d->base);
	snprintf(def->base_version, sizeof(def->base_version), "%s", d->base_version);
	for (uint8_t i = 0; i < d->n_links; i++) {
		const struct mgr_site *s = mgr_site_get(&mgr, d->link_sites[i]);
		snprintf(def->link_sites[def->n_links++], MGR_NAME_LEN, "%s",
			 s ? s->spec.name : "?");
	}
}

struct pending_pin {
	uint32_t desktop_id;
	struct mgr_domain_def def;
};

void mgr_repin_host(uint32_t host_id)
{
	pthread_mutex_t *lk = &repin_locks[host_id % 64];
	struct pending_pin *todo = NULL;
	uint32_t n = 0;
	char err[512], uuid[37];

	pthread_mutex_lock(lk);
	pthread_mutex_lock(&mgr.lock);
	todo = calloc(mgr.n_desktops + 1, sizeof(*todo));
	for (uint32_t i = 0; todo && i < mgr.n_desktops; i++) {
		struct mgr_desktop *d = mgr.desktops[i];
		/* A desktop being created, deleted or moved: its domain belongs to its job. The
		 * job sets that state before it undefines (mgr_domain_undefine waits for lk), so
		 * nothing read here is undefined before the loop below redefines it. A creating
		 * one has its UUID before its domain exists. */
		if (d->host_id != host_id || !d->uuid[0] || d->state == MGR_DESK_CREATING ||
		    d->state == MGR_DESK_DELETING || d->state == MGR_DESK_MIGRATING)
			continue;
		const struct mgr_model *m = mgr_model_get(&mgr, d->model_id);
		if (d->applied_valid && !memcmp(&d->applied, &d->cpus, sizeof(d->cpus)) &&
		    d->applied_quota_us == d->quota_us &&
		    (m == NULL || d->applied_shares == m->spec.cpu_shares))
			continue;
		todo[n].desktop_id = d->id;
		mgr_domain_def_locked(d, &todo[n].def);
		n++;
	}
	pthread_mutex_unlock(&mgr.lock);
	for (uint32_t i = 0; i < n; i++) {
		const struct mgr_domain_def *def = &todo[i].def;
		/* The saved config (redefined), then the running domain. */
		int rc = mgr_virt_define(host_id, def, uuid, err, sizeof(err));
		if (rc == 0)
			rc = mgr_virt_pin_live(host_id, def->uuid, def->vcpus, &def->cpus, err,
					       sizeof(err));
		/* The test driver has no live bandwidth (the saved config has it): a real
		 * driver's refusal (no cgroup cpu controller) is said, and tried again. */
		if (rc == 0 &&
		    mgr_virt_bandwidth_live(host_id, def->uuid, def->shares, def->period_us,
					    def->quota_us, err, sizeof(err)) < 0 &&
		    !def->test)
			rc = -EOPNOTSUPP;
		pthread_mutex_lock(&mgr.lock);
		struct mgr_desktop *d = mgr_desktop_get(&mgr, todo[i].desktop_id);
		if (d && rc == 0) {
			d->applied = def->cpus;
			d->applied_quota_us = def->quota_us;
			d->applied_shares = def->shares;
			d->applied_valid = true;
		}
		pthread_mutex_unlock(&mgr.lock);
		if (rc < 0)
			tlog(LOG_WARNING, TLOG_F(.desktop = todo[i].desktop_id),
			     "re-pinning desktop %u: %s", todo[i].desktop_id, err);
	}
	free(todo);
	pthread_mutex_unlock(lk);
}

int mgr_domain_undefine(uint32_t host_id, const char *uuid, char *err, size_t len)
{
	pthread_mutex_t *lk = &repin_locks[host_id % 64];

	pthread_mutex_lock(lk);
	int rc = mgr_virt_undefine(host_id, uuid, err, len);
	pthread_mutex_unlock(lk);
	return rc;
}

void mgr_repin_barrier(uint32_t host_id)
{
	pthread_mutex_lock(&repin_locks[host_id % 64]);
	pthread_mutex_unlock(&repin_locks[host_id % 64]);
}

/* ---- hosts ---- */

uint64_t mgr_mono_sec(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec;
}

static void connect_unref(struct connect_lock *l)
{
	pthread_mutex_lock(&connect_locks_lock);
	if (--l->users == 0 && l != &no_memory) {
		struct connect_lock **p = &connect_locks;
		while (*p != l)
			p = &(*p)->next;
		*p = l->next;
		pthread_mutex_destroy(&l->m);
		free(l);
	}
	pthread_mutex_unlock(&connect_locks_lock);
}

/* Host_id's connect lock, waited for wait_sec at most (< 0: for ever); NULL if not had. */
static struct connect_lock *connect_lock_wait(uint32_t host_id, int wait_sec)
{
	struct connect_lock *l;
	struct timespec until;

	pthread_mutex_lock(&connect_locks_lock);
	for (l = connect_locks; l && l->host_id != host_id; l = l->next)
		;
	if (l == NULL && (l = calloc(1, sizeof(*l))) != NULL) {
		l->host_id = host_id;
		pthread_mutex_init(&l->m, NULL);
		l->next = connect_locks;
		connect_locks = l;
	}
	if (l == NULL)
		l = &no_memory;
	l->users++;
	pthread_mutex_unlock(&connect_locks_lock);
	if (wait_sec < 0) {
		pthread_mutex_lock(&l->m);
		return l;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_sec;
	if (pthread_mutex_clocklock(&l->m, CLOCK_MONOTONIC, &until) != 0) {
		connect_unref(l);
		return NULL;
	}
	return l;
}

static struct connect_lock *connect_lock(uint32_t host_id)
{
	return connect_lock_wait(host_id, -1);
}

static void connect_unlock(struct connect_lock *l)
{
	pthread_mutex_unlock(&l->m);
	connect_unref(l);
}

/* Under the host's connect lock. */
static int connect_locked(uint32_t host_id)
{
	const struct mgr_libvirt_cfg *p = &mgr_conf.libvirt;
	struct mgr_host copy, *h;
	char err[512] = "";
	bool repin = false;
	int rc;

	pthread_mutex_lock(&mgr.lock);
	h = mgr_host_get(&mgr, host_id);
	if (h == NULL) {
		pthread_mutex_unlock(&mgr.lock);
		return -ENOENT;
	}
	copy = *h; /* libvirt may be slow: not under the lock */
	pthread_mutex_unlock(&mgr.lock);
	rc = mgr_virt_open(&copy, err, sizeof(err));
	pthread_mutex_lock(&mgr.lock);
	h = mgr_host_get(&mgr, host_id);
	if (h) {
		const char *why = NULL;
		/* A host found smaller than what its desktops have (a new URI, a shrunk machine)
		 * stays down on its old topology rather than over capacity with partitions on CPUs
		 * it lacks (review 1.15). */
		if (rc == 0 && mgr_check_reserved(&h->spec, &copy.topo, &why) < 0) {
			snprintf(err, sizeof(err),
				 "has %u CPUs in %u cores: its reserved_cpus %s %s",
				 copy.topo.ncpus, copy.topo.ncores, h->spec.reserved_cpus, why);
			rc = -EINVAL;
		} else if (rc == 0 && h->n_slices &&
			   mgr_host_fits(h, &copy.topo, copy.memory_mb, &h->spec, &why) < 0) {
			snprintf(err, sizeof(err),
				 "has %u CPUs and %llu MiB: its desktops' %u vCPUs and %llu MiB "
				 "are %s",
				 copy.topo.ncpus, (unsigned long long)copy.memory_mb, h->vcpus_used,
				 (unsigned long long)h->mem_used_mb, why);
			rc = -ENOSPC;
		}
		bool was = h->up;
		h->up = rc == 0;
		snprintf(h->down_reason, sizeof(h->down_reason), "%s", rc == 0 ? "" : err);
		mgr_event_host_locked(h, was);
		if (rc == 0) {
			/* Another topology (a new shape or URI, a changed machine) moves the
			 * partitions: the desktops' CPUs follow, in memory, the store and their
			 * pins (review 1.15). The first connect has no old topology to differ. */
			repin = (h->topo.ncpus && h->n_slices &&
				 memcmp(&h->topo, &copy.topo, sizeof(copy.topo)) != 0) ||
				h->repin_wanted;
			h->repin_wanted = false;
			h->memory_mb = copy.memory_mb;
			h->topo = copy.topo;
			h->retry_sec = 0;
			mgr_repartition_locked(h);
			if (repin)
				mgr_sync_cpus_locked(h);
		} else {
			/* The next attempt: after health_sec, then twice as long each time. */
			h->retry_sec = h->retry_sec ? h->retry_sec * 2 : p->health_sec;
			if (h->retry_sec > p->backoff_max_sec)
				h->retry_sec = p->backoff_max_sec;
			h->retry_at = mgr_mono_sec() + h->retry_sec;
		}
	} else if (rc == 0) {
		mgr_virt_close(host_id); /* deleted meanwhile */
	}
	pthread_mutex_unlock(&mgr.lock);
	if (repin)
		mgr_repin_host(host_id);
	if (rc < 0)
		tlog(LOG_WARNING, TLOG_F(.host = host_id), "host %u is down: %s", host_id, err);
	else {
		/* What restarts and roll-backs left while it was down. */
		mgr_jobs_finish_creates(host_id);
		mgr_jobs_finish_moves(host_id);
	}
	return rc;
}

void mgr_host_connect(uint32_t host_id)
{
	struct connect_lock *lk = connect_lock(host_id);

	connect_locked(host_id);
	connect_unlock(lk);
}

struct connect_lock *mgr_host_connect_begin(uint32_t host_id)
{
	struct connect_lock *lk =
		connect_lock_wait(host_id, (int)mgr_conf.libvirt.connect_lock_wait_sec);
	struct mgr_host *h;

	if (lk == NULL) {
		pthread_mutex_lock(&mgr.lock);
		h = mgr_host_get(&mgr, host_id);
		if (h)
			h->connects_refused++;
		pthread_mutex_unlock(&mgr.lock);
	}
	return lk;
}

void mgr_host_connect_end(uint32_t host_id, struct connect_lock *lk, bool connect)
{
	if (connect)
		connect_locked(host_id);
	connect_unlock(lk);
	if (connect)
		mgr_host_tessd_check(host_id); /* its address may be new */
}

void mgr_host_check(uint32_t host_id)
{
	struct connect_lock *lk = connect_lock(host_id);
	struct mgr_host *h;
	bool up, due;

	pthread_mutex_lock(&mgr.lock);
	h = mgr_host_get(&mgr, host_id);
	up = h && h->up;
	due = h && !h->up && mgr_mono_sec() >= h->retry_at;
	pthread_mutex_unlock(&mgr.lock);
	if (up && mgr_virt_alive(host_id) != 1) {
		/* Down until reconnected: no placement on it, its jobs fail rather than hang. */
		mgr_virt_close(host_id);
		pthread_mutex_lock(&mgr.lock);
		h = mgr_host_get(&mgr, host_id);
		if (h) {
			/* The health checker may have marked it down since: one host.down. */
			bool was = h->up;
			h->up = false;
			snprintf(h->down_reason, sizeof(h->down_reason), "libvirt connection lost");
			mgr_event_host_locked(h, was);
			h->conn_lost++;
			h->retry_sec = 0;
		}
		pthread_mutex_unlock(&mgr.lock);
		tlog(LOG_WARNING, TLOG_F(.host = host_id), "host %u: libvirt connection lost",
		     host_id);
		due = true; /* a daemon restarted is back at once */
	}
	if (due && connect_locked(host_id) == 0) {
		pthread_mutex_lock(&mgr.lock);
		h = mgr_host_get(&mgr, host_id);
		if (h)
			h->reconnects++;
		pthread_mutex_unlock(&mgr.lock);
		tlog(LOG_NOTICE, TLOG_F(.host = host_id), "host %u: reconnected", host_id);
	}
	connect_unlock(lk);
}

/* ---- views ---- */

json_t *mgr_host_json_locked(const struct mgr_host *h)
{
	json_t *o = cfg_encode(&mgr_host_schema, &h->spec), *parts = json_array();
	char buf[MGR_CPUSET_STRLEN];

	for (uint32_t i = 0; i < h->n_slices; i++) {
		const struct mgr_tenant *t = mgr_tenant_get(&mgr, h->slices[i].tenant_id);
		if (mgr_cpuset_format(&h->slices[i].cpus, buf, sizeof(buf)) < 0)
			snprintf(buf, sizeof(buf), "?"); /* cannot happen: buf has the worst case */
		json_array_append_new(parts,
				      json_pack("{s:s, s:i, s:s}", "tenant", t ? t->spec.name : "?",
						"vcpus", (int)h->slices[i].vcpus, "cpus", buf));
	}
	json_object_set_new(o, "id", json_integer(h->id));
	json_object_set_new(o, "up", json_boolean(h->up));
	json_t *tunnel = mgr_tunnel_json(h->spec.tessd);
	if (tunnel)
		json_object_set_new(o, "tessd_tunnel", tunnel);
	if (!h->up)
		json_object_set_new(o, "down_reason", json_string(h->down_reason));
	json_object_set_new(o, "connection_lost", json_integer(h->conn_lost));
	json_object_set_new(o, "reconnects", json_integer(h->reconnects));
	json_object_set_new(o, "check_running", json_boolean(h->check_running));
	json_object_set_new(o, "checks_skipped", json_integer(h->checks_skipped));
	json_object_set_new(o, "check_hung", json_boolean(h->check_hung));
	json_object_set_new(o, "checks_hung", json_integer(h->checks_hung));
	json_object_set_new(o, "connects_refused", json_integer(h->connects_refused));
	json_object_set_new(o, "cpus", json_integer(h->topo.ncpus));
	json_object_set_new(o, "cores", json_integer(h->topo.ncores));
	json_object_set_new(o, "memory_mb", json_integer((json_int_t)h->memory_mb));
	json_object_set_new(o, "cpu_capacity", json_integer(mgr_cpu_capacity(h)));
	json_object_set_new(o, "memory_capacity_mb", json_integer((json_int_t)mgr_mem_capacity(h)));
	json_object_set_new(o, "vcpus_used", json_integer(h->vcpus_used));
	json_object_set_new(o, "memory_used_mb", json_integer((json_int_t)h->mem_used_mb));
	json_object_set_new(o, "ports_used", json_integer(h->ports_used));
	json_t *tessd = mgr_host_tessd_json(h);
	if (tessd)
		json_object_set_new(o, "tessd_status", tessd);
	json_object_set_new(o, "partitions", parts);
	return o;
}

json_t *mgr_quota_json_locked(const struct mgr_quota *q)
{
	json_t *o = cfg_encode(&mgr_quota_schema, &q->spec), *hosts = json_array();

	for (uint32_t i = 0; i < q->n_hosts; i++) {
		const struct mgr_host *h = mgr_host_get(&mgr, q->host_ids[i]);
		if (h)
			json_array_append_new(hosts, json_string(h->spec.name));
	}
	json_object_set_new(o, "cpus_used", json_integer(q->cpus_used));
	json_object_set_new(o, "memory_used_mb", json_integer((json_int_t)q->memory_used_mb));
	json_object_set_new(o, "hosts", hosts);
	return o;
}

json_t *mgr_usage_locked(uint32_t tenant_id)
{
	json_t *hosts = json_array(), *tenants = json_array();

	for (uint32_t i = 0; tenant_id == 0 && i < mgr.n_hosts; i++) {
		const struct mgr_host *h = mgr.hosts[i];
		json_array_append_new(
			hosts,
			json_pack("{s:s, s:b, s:i, s:i, s:I, s:I, s:i}", "host", h->spec.name, "up",
				  h->up, "vcpus_used", (int)h->vcpus_used, "cpu_capacity",
				  (int)mgr_cpu_capacity(h), "memory_used_mb",
				  (json_int_t)h->mem_used_mb, "memory_capacity_mb",
				  (json_int_t)mgr_mem_capacity(h), "tenants", (int)h->n_slices));
	}
	for (uint32_t i = 0; i < mgr.n_tenants; i++) {
		const struct mgr_tenant *t = &mgr.tenants[i];
		json_t *quotas;
		uint32_t desktops = 0, running = 0;
		if (tenant_id && t->id != tenant_id)
			continue;
		quotas = json_array();
		for (uint32_t k = 0; k < mgr.n_quotas; k++) {
			const struct mgr_quota *q = &mgr.quotas[k];
			if (q->tenant_id == t->id)
				json_array_append_new(quotas, mgr_quota_json_locked(q));
		}
		for (uint32_t k = 0; k < mgr.n_desktops; k++) {
			desktops += mgr.desktops[k]->tenant_id == t->id;
			running += mgr.desktops[k]->tenant_id == t->id &&
				   mgr.desktops[k]->state == MGR_DESK_RUNNING;
		}
		json_array_append_new(tenants, json_pack("{s:s, s:i, s:i, s:i, s:o}", "tenant",
							 t->spec.name, "vlan", (int)t->spec.vlan,
							 "desktops", (int)desktops, "running",
							 (int)running, "quotas", quotas));
	}
	if (tenant_id) {
		json_decref(hosts); /* a tenant sees no hosts */
		return json_pack("{s:o}", "tenants", tenants);
	}
	return json_pack("{s:o, s:o}", "hosts", hosts, "tenants", tenants);
}

/* ---- start and stop ---- */

/* What is derived from the desktops: hosts' usage and slices, quotas' usage. */
static void derive_usage_locked(void)
{
	for (uint32_t i = 0; i < mgr.n_desktops; i++) {
		struct mgr_desktop *d = mgr.desktops[i];
		struct mgr_host *h = mgr_host_get(&mgr, d->host_id);
		const struct mgr_model *m = mgr_model_get(&mgr, d->model_id);
		struct mgr_slice *s;
		if (h == NULL || m == NULL)
			continue;
		s = slice_for(h, d->tenant_id);
		if (s == NULL)
			continue;
		s->vcpus += m->spec.vcpus;
		s->cpus = d->cpus; /* the partition it had: kept where it still fits */
		s->since = 0;      /* billed from the first pass's start */
		h->vcpus_used += m->spec.vcpus;
		h->mem_used_mb += m->spec.memory_mb;
		h->ports_used++;
		struct mgr_quota *q = mgr_quota_get(&mgr, d->tenant_id, d->model_id);
		if (q) {
			q->cpus_used += m->spec.vcpus;
			q->memory_used_mb += m->spec.memory_mb;
		}
	}
}

int mgr_init(char *err, size_t len)
{
	int rc;

	for (unsigned i = 0; i < 64; i++)
		pthread_mutex_init(&repin_locks[i], NULL);
	mgr_virt_set_state_dir(mgr_conf.state_dir);
	rc = mgr_virt_init(mgr_conf.libvirt.health_sec);
	if (rc < 0) {
		snprintf(err, len, "cannot start libvirt's event loop");
		return rc;
	}
	rc = mgr_store_open(mgr_conf.store, err, len);
	if (rc == 0)
		rc = mgr_store_load(&mgr, err, len);
	if (rc == 0)
		rc = mgr_users_init(err, len);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < mgr.n_sites; i++)
		mgr_site_derive_locked(&mgr.sites[i]);
	for (uint32_t i = 0; i < mgr.n_hosts; i++)
		mgr_host_derive_locked(mgr.hosts[i]);
	for (uint32_t i = 0; i < mgr.n_routers; i++)
		mgr_router_derive_locked(&mgr.routers[i]);
	for (uint32_t i = 0; i < mgr.n_tenants; i++)
		mgr_tenant_derive_locked(&mgr.tenants[i]);
	derive_usage_locked();
	for (uint32_t i = 0; i < mgr.n_hosts; i++)
		mgr_host_connect(mgr.hosts[i]->id);
	return 0;
}

void mgr_fini(void)
{
	mgr_virt_close_all();
	mgr_store_close();
	for (uint32_t i = 0; i < mgr.n_sites; i++)
		cfg_free(&mgr_site_schema, &mgr.sites[i].spec);
	for (uint32_t i = 0; i < mgr.n_hosts; i++) {
		cfg_free(&mgr_host_schema, &mgr.hosts[i]->spec);
		free(mgr.hosts[i]->slices);
		free(mgr.hosts[i]->queue);
		free(mgr.hosts[i]);
	}
	for (uint32_t i = 0; i < mgr.n_quotas; i++)
		free(mgr.quotas[i].host_ids);
	for (uint32_t i = 0; i < mgr.n_desktops; i++)
		free(mgr.desktops[i]);
	for (uint32_t i = 0; i < mgr.n_jobs; i++) {
		json_decref(mgr.jobs[i]->tasks);
		free(mgr.jobs[i]);
	}
	for (uint32_t i = 0; i < mgr.n_tasks; i++)
		cfg_free(&mgr_task_schema, &mgr.tasks[i].spec);
	free(mgr.tasks);
	mgr.tasks = NULL;
	mgr.n_tasks = 0;
	free(mgr.sites);
	free(mgr.hosts);
	free(mgr.models);
	for (uint32_t i = 0; i < mgr.n_tenants; i++)
		cfg_free(&mgr_tenant_schema, &mgr.tenants[i].spec);
	free(mgr.tenants);
	mgr.tenants = NULL;
	for (uint32_t i = 0; i < mgr.n_routers; i++)
		cfg_free(&mgr_router_schema, &mgr.routers[i].spec);
	free(mgr.routers);
	free(mgr.quotas);
	free(mgr.desktops);
	free(mgr.jobs);
}
