/* SPDX-License-Identifier: BSD-3-Clause */
#include "resmgr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capacity.h"
#include "mgr.h"
#include "store.h"
#include "ticker.h"
#include "virt.h"
#include "tlog.h"

static struct mgr_ticker ticker;

/* Measurement slack: a desktop at exactly its share is not bursting. */
#define SLACK 1.02

struct sample {
	uint32_t id, host_id, tenant_id;
	char uuid[37];
	uint32_t vcpus, shares;
	uint64_t prev_ns, now_ns;
	uint64_t prev_at, now_at; /* when they were read (CLOCK_MONOTONIC, ns) */
	bool have_prev, ok;
};

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* CPUs a sample used since the one before. */
static double used(const struct sample *s)
{
	/* A domain restarted meanwhile starts its CPU time again: no rate from that. */
	if (s->now_at <= s->prev_at || s->now_ns < s->prev_ns)
		return 0;
	return (double)(s->now_ns - s->prev_ns) / (double)(s->now_at - s->prev_at);
}

void mgr_resmgr_sample(void)
{
	const struct mgr_resources_cfg *p = &mgr_conf.resources;
	struct sample *s = NULL;
	uint32_t n = 0, *changed_hosts = NULL, n_changed = 0;

	pthread_mutex_lock(&mgr.lock);
	s = calloc(mgr.n_desktops + 1, sizeof(*s));
	for (uint32_t i = 0; s && i < mgr.n_desktops; i++) {
		struct mgr_desktop *d = mgr.desktops[i];
		const struct mgr_model *m = mgr_model_get(&mgr, d->model_id);
		if (d->state != MGR_DESK_RUNNING || !d->uuid[0] || m == NULL) {
			d->last_cpu_ns = 0; /* sampled afresh once it runs */
			continue;
		}
		s[n] = (struct sample){ .id = d->id,
					.host_id = d->host_id,
					.tenant_id = d->tenant_id,
					.vcpus = m->spec.vcpus,
					.shares = m->spec.cpu_shares,
					.prev_ns = d->last_cpu_ns,
					.prev_at = d->last_sample_at,
					.have_prev = d->last_cpu_ns != 0 };
		snprintf(s[n].uuid, sizeof(s[n].uuid), "%s", d->uuid);
		n++;
	}
	pthread_mutex_unlock(&mgr.lock);
	if (s == NULL)
		return;
	/* libvirt without the lock. */
	for (uint32_t i = 0; i < n; i++) {
		s[i].ok = mgr_virt_cpu_time(s[i].host_id, s[i].uuid, &s[i].now_ns) == 0;
		s[i].now_at = mono_ns();
	}

	pthread_mutex_lock(&mgr.lock);
	changed_hosts = calloc(n + 1, sizeof(*changed_hosts));
	for (uint32_t i = 0; changed_hosts && i < n; i++) {
		struct mgr_desktop *d = mgr_desktop_get(&mgr, s[i].id);
		const struct mgr_host *h = mgr_host_get(&mgr, s[i].host_id);
		const struct mgr_slice *sl = h ? mgr_host_slice(h, s[i].tenant_id) : NULL;
		double use, tenant_use = 0, part, share, shares = 0;
		bool saturated, bursting, was = d && d->quota_us;
		uint32_t before;

		if (d == NULL || !s[i].ok)
			continue;
		d->last_cpu_ns = s[i].now_ns;
		d->last_sample_at = s[i].now_at;
		if (!s[i].have_prev || sl == NULL)
			continue;
		/* CPUs used since the last sample, by it and by its tenant on this host. */
		use = used(&s[i]);
		for (uint32_t k = 0; k < n; k++) {
			if (s[k].host_id != s[i].host_id || s[k].tenant_id != s[i].tenant_id ||
			    !s[k].ok || !s[k].have_prev)
				continue;
			tenant_use += used(&s[k]);
			shares += s[k].shares;
		}
		part = mgr_cpuset_count(&sl->cpus);
		share = shares > 0 ? part * s[i].shares / shares : part;
		saturated = tenant_use * 100 >= part * p->saturation_pct;
		bursting = use * 100 > share * p->burst_pct * SLACK;
		before = d->quota_us;
		if (saturated && bursting) {
			d->under = 0;
			if (++d->over >= p->hold_samples && !was) {
				/* Capped at its share: libvirt's quota is per vCPU per period. */
				uint64_t q = (uint64_t)(share / s[i].vcpus * p->period_us);
				d->quota_us = (uint32_t)(q < 1000 ? 1000 : q);
			}
		} else {
			d->over = 0;
			if (was && ++d->under >= p->hold_samples)
				d->quota_us = 0;
		}
		if (d->quota_us != before) {
			/* Throttling is recomputed from samples: a lost write costs nothing. */
			if (mgr_store_put_desktop(d) < 0)
				tlog(LOG_ERR,
				     TLOG_F(.desktop = d->id, .tenant = d->tenant_id,
					    .host = d->host_id),
				     "desktop %u: cannot store its quota", d->id);
			changed_hosts[n_changed++] = d->host_id;
		}
	}
	pthread_mutex_unlock(&mgr.lock);
	for (uint32_t i = 0; i < n_changed; i++)
		mgr_repin_host(changed_hosts[i]); /* applies the new cputune */
	free(changed_hosts);
	free(s);
}

int mgr_resmgr_start(void)
{
	return mgr_ticker_start(&ticker, &mgr_conf.resources.sample_sec, mgr_resmgr_sample);
}

void mgr_resmgr_stop(void)
{
	mgr_ticker_stop(&ticker);
}
