/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /metrics: tessmgrd's state and counters in Prometheus' text
 * exposition format 0.0.4, for provider admins (a bearer token, as
 * Prometheus' authorization setting sends). The values are those the JSON
 * API shows (hosts, usage, jobs, /v1/stats): a snapshot is copied under
 * mgr.lock, then formatted without it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "image.h"
#include "network.h"
#include "prom.h"

struct host_snap {
	char name[MGR_NAME_LEN];
	bool up, tessd_up;
	uint32_t vcpus_used, ports_used, conn_lost, reconnects, tessd_downs;
	uint64_t mem_used_mb;
};

struct quota_snap {
	char tenant[MGR_NAME_LEN], model[MGR_NAME_LEN];
	uint32_t cpus_used, max_cpus;
	uint64_t mem_used_mb, max_mem_mb;
};

struct tenant_snap {
	char name[MGR_NAME_LEN];
	uint32_t desktops[MGR_DESK_STATES];
	uint32_t jobs_queued;
};

struct snap {
	uint32_t jobs[MGR_JOB_KINDS][4];
	uint32_t n_hosts, n_quotas, n_tenants;
	struct host_snap *hosts;
	struct quota_snap *quotas;
	struct tenant_snap *tenants;
};

static void snap_free(struct snap *s)
{
	free(s->hosts);
	free(s->quotas);
	free(s->tenants);
}

/* Copies what is formatted: under mgr.lock, and nothing else done under it. */
static int snap_take(struct snap *s)
{
	int rc = 0;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&mgr.lock);
	s->hosts = calloc(mgr.n_hosts + 1, sizeof(*s->hosts));
	s->quotas = calloc(mgr.n_quotas + 1, sizeof(*s->quotas));
	s->tenants = calloc(mgr.n_tenants + 1, sizeof(*s->tenants));
	if (!s->hosts || !s->quotas || !s->tenants) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < mgr.n_jobs; i++) {
		const struct mgr_job *j = mgr.jobs[i];
		if (j->kind < MGR_JOB_KINDS && j->state < 4)
			s->jobs[j->kind][j->state]++;
	}
	for (uint32_t i = 0; i < mgr.n_hosts; i++) {
		const struct mgr_host *h = mgr.hosts[i];
		struct host_snap *o = &s->hosts[s->n_hosts++];
		memcpy(o->name, h->spec.name, sizeof(o->name));
		o->up = h->up;
		o->tessd_up = h->tessd_seen && h->tessd_up;
		o->vcpus_used = h->vcpus_used;
		o->mem_used_mb = h->mem_used_mb;
		o->ports_used = h->ports_used;
		o->conn_lost = h->conn_lost;
		o->reconnects = h->reconnects;
		o->tessd_downs = h->tessd_downs;
	}
	for (uint32_t i = 0; i < mgr.n_quotas; i++) {
		const struct mgr_quota *q = &mgr.quotas[i];
		const struct mgr_tenant *t = mgr_tenant_get(&mgr, q->tenant_id);
		const struct mgr_model *m = mgr_model_get(&mgr, q->model_id);
		struct quota_snap *o = &s->quotas[s->n_quotas++];
		snprintf(o->tenant, sizeof(o->tenant), "%s", t ? t->spec.name : "");
		snprintf(o->model, sizeof(o->model), "%s", m ? m->spec.name : "");
		o->cpus_used = q->cpus_used;
		o->max_cpus = q->spec.max_cpus;
		o->mem_used_mb = q->memory_used_mb;
		o->max_mem_mb = q->spec.max_memory_mb;
	}
	for (uint32_t i = 0; i < mgr.n_tenants; i++) {
		struct tenant_snap *o = &s->tenants[s->n_tenants++];
		memcpy(o->name, mgr.tenants[i].spec.name, sizeof(o->name));
		o->jobs_queued = mgr.tenants[i].jobs_queued;
	}
	/* Tenants are kept in id order (mgr_tenant_get bisects): find each desktop's so. */
	for (uint32_t i = 0; i < mgr.n_desktops; i++) {
		const struct mgr_desktop *d = mgr.desktops[i];
		const struct mgr_tenant *t = mgr_tenant_get(&mgr, d->tenant_id);
		if (t && d->state < MGR_DESK_STATES)
			s->tenants[t - mgr.tenants].desktops[d->state]++;
	}
out:
	pthread_mutex_unlock(&mgr.lock);
	return rc;
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{key="value"} n */
static void sample1(FILE *f, const char *name, const char *key, const char *value, uint64_t n)
{
	fprintf(f, "%s{%s=\"", name, key);
	prom_label_value(f, value);
	fprintf(f, "\"} %llu\n", (unsigned long long)n);
}

static void sample0(FILE *f, const char *name, uint64_t n)
{
	fprintf(f, "%s %llu\n", name, (unsigned long long)n);
}

static void format_jobs(FILE *f, const struct snap *s)
{
	head(f, "tessera_mgr_jobs", "gauge",
	     "Jobs kept (queued, running, and the last jobs.history finished) by kind and state.");
	for (unsigned k = 0; k < MGR_JOB_KINDS; k++)
		for (unsigned st = 0; st < 4; st++)
			fprintf(f, "tessera_mgr_jobs{kind=\"%s\",state=\"%s\"} %u\n",
				mgr_job_kind_names[k], mgr_job_state_names[st], s->jobs[k][st]);
}

static void format_hosts(FILE *f, const struct snap *s)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
		bool wide;
	} cols[] = {
#define C(n, t, h, field, w) { n, t, h, offsetof(struct host_snap, field), w }
		C("tessera_mgr_host_up", "gauge", "1 if the host's libvirt answers.", up, false),
		C("tessera_mgr_host_tessd_up", "gauge",
		  "1 if the host's tessd answered at the last look.", tessd_up, false),
		C("tessera_mgr_host_vcpus_used", "gauge", "vCPUs reserved on the host.", vcpus_used,
		  false),
		C("tessera_mgr_host_memory_used_bytes", "gauge", "Memory reserved on the host.",
		  mem_used_mb, true),
		C("tessera_mgr_host_ports_used", "gauge", "Desktop ports on the host's tessd.",
		  ports_used, false),
		C("tessera_mgr_host_connections_lost_total", "counter",
		  "Times the host's libvirt connection was found dead.", conn_lost, false),
		C("tessera_mgr_host_reconnects_total", "counter",
		  "Times the host's libvirt connection was made again.", reconnects, false),
		C("tessera_mgr_host_tessd_downs_total", "counter",
		  "Times the host's tessd stopped answering.", tessd_downs, false),
#undef C
	};

	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
		head(f, cols[c].name, cols[c].type, cols[c].help);
		for (uint32_t i = 0; i < s->n_hosts; i++) {
			const char *p = (const char *)&s->hosts[i] + cols[c].off;
			uint64_t v;
			if (cols[c].off == offsetof(struct host_snap, up) ||
			    cols[c].off == offsetof(struct host_snap, tessd_up))
				v = *(const bool *)p;
			else if (cols[c].wide)
				v = *(const uint64_t *)p * 1024 * 1024;
			else
				v = *(const uint32_t *)p;
			sample1(f, cols[c].name, "host", s->hosts[i].name, v);
		}
	}
}

static void quota_sample(FILE *f, const char *name, const struct quota_snap *q, uint64_t v)
{
	fprintf(f, "%s{tenant=\"", name);
	prom_label_value(f, q->tenant);
	fputs("\",model=\"", f);
	prom_label_value(f, q->model);
	fprintf(f, "\"} %llu\n", (unsigned long long)v);
}

static void format_tenants(FILE *f, const struct snap *s)
{
	head(f, "tessera_mgr_tenant_desktops", "gauge", "A tenant's desktops by state.");
	for (uint32_t i = 0; i < s->n_tenants; i++)
		for (unsigned st = 0; st < MGR_DESK_STATES; st++) {
			fputs("tessera_mgr_tenant_desktops{tenant=\"", f);
			prom_label_value(f, s->tenants[i].name);
			fprintf(f, "\",state=\"%s\"} %u\n", mgr_desktop_state_names[st],
				s->tenants[i].desktops[st]);
		}
	head(f, "tessera_mgr_tenant_jobs_queued", "gauge",
	     "A tenant's jobs not yet running (jobs.per_tenant bounds them).");
	for (uint32_t i = 0; i < s->n_tenants; i++)
		sample1(f, "tessera_mgr_tenant_jobs_queued", "tenant", s->tenants[i].name,
			s->tenants[i].jobs_queued);
	head(f, "tessera_mgr_quota_vcpus_used", "gauge",
	     "vCPUs a tenant's desktops of a model reserve.");
	for (uint32_t i = 0; i < s->n_quotas; i++)
		quota_sample(f, "tessera_mgr_quota_vcpus_used", &s->quotas[i],
			     s->quotas[i].cpus_used);
	head(f, "tessera_mgr_quota_vcpus_max", "gauge", "The quota's max_cpus.");
	for (uint32_t i = 0; i < s->n_quotas; i++)
		quota_sample(f, "tessera_mgr_quota_vcpus_max", &s->quotas[i],
			     s->quotas[i].max_cpus);
	head(f, "tessera_mgr_quota_memory_used_bytes", "gauge",
	     "Memory a tenant's desktops of a model reserve.");
	for (uint32_t i = 0; i < s->n_quotas; i++)
		quota_sample(f, "tessera_mgr_quota_memory_used_bytes", &s->quotas[i],
			     s->quotas[i].mem_used_mb * 1024 * 1024);
	head(f, "tessera_mgr_quota_memory_max_bytes", "gauge", "The quota's max_memory_mb.");
	for (uint32_t i = 0; i < s->n_quotas; i++)
		quota_sample(f, "tessera_mgr_quota_memory_max_bytes", &s->quotas[i],
			     s->quotas[i].max_mem_mb * 1024 * 1024);
}

#define K(field) __atomic_load_n(&mgr_counters.field, __ATOMIC_RELAXED)

static void format_counters(FILE *f)
{
	struct http_stats h;

	head(f, "tessera_mgr_placements_total", "counter", "Desktops placed on a host.");
	sample0(f, "tessera_mgr_placements_total", K(place_ok));
	head(f, "tessera_mgr_placement_refusals_total", "counter",
	     "Placements refused, by reason (no quota for the model, quota full, no host).");
	sample1(f, "tessera_mgr_placement_refusals_total", "reason", "no_quota", K(place_no_quota));
	sample1(f, "tessera_mgr_placement_refusals_total", "reason", "quota_full",
		K(place_quota_full));
	sample1(f, "tessera_mgr_placement_refusals_total", "reason", "no_host", K(place_no_host));
	head(f, "tessera_mgr_job_refusals_total", "counter",
	     "Jobs refused: one of the kind already queued (duplicate), jobs.per_tenant (tenant).");
	sample1(f, "tessera_mgr_job_refusals_total", "reason", "duplicate",
		K(jobs_duplicate_refused));
	sample1(f, "tessera_mgr_job_refusals_total", "reason", "tenant", K(jobs_tenant_refused));
	head(f, "tessera_mgr_qemu_img_timeouts_total", "counter", "qemu-img runs stopped.");
	sample0(f, "tessera_mgr_qemu_img_timeouts_total", mgr_image_timeouts());
	head(f, "tessera_mgr_fdb_forgets_total", "counter",
	     "A moved desktop's MAC forgotten on a tessd (fdb.del), and those that failed.");
	sample1(f, "tessera_mgr_fdb_forgets_total", "result", "ok", K(net_fdb_forgets));
	sample1(f, "tessera_mgr_fdb_forgets_total", "result", "failed", K(net_fdb_forget_failed));
	head(f, "tessera_mgr_fdb_forgets_pending", "gauge", "fdb.del still to retry.");
	sample0(f, "tessera_mgr_fdb_forgets_pending", mgr_net_forgets_pending());
	head(f, "tessera_mgr_reservations_pending", "gauge",
	     "Tenants whose PEs' DHCP reservations are still to retry.");
	sample0(f, "tessera_mgr_reservations_pending", mgr_net_reservations_pending());
	head(f, "tessera_mgr_usage_listings_total", "counter",
	     "GET /v1/usage's running domains: hosts listed, or a listing kept served.");
	sample1(f, "tessera_mgr_usage_listings_total", "result", "listed",
		K(usage_active_listings));
	sample1(f, "tessera_mgr_usage_listings_total", "result", "shared", K(usage_active_shared));
	head(f, "tessera_mgr_usage_net_unanswered_total", "counter",
	     "A PE router's tessd that did not answer a usage pass (its interval uncounted).");
	sample0(f, "tessera_mgr_usage_net_unanswered_total", K(usage_net_unanswered));
	head(f, "tessera_mgr_usage_net_resets_total", "counter",
	     "A tenant's counters found restarted or reset on a PE tessd (counted from zero).");
	sample0(f, "tessera_mgr_usage_net_resets_total", K(usage_net_resets));
	head(f, "tessera_mgr_audit_unauthenticated_total", "counter",
	     "Requests without a known token.");
	sample0(f, "tessera_mgr_audit_unauthenticated_total", K(audit_unauthenticated));

	http_get_stats(&h);
	head(f, "tessera_mgr_http_requests_total", "counter", "HTTP requests.");
	sample0(f, "tessera_mgr_http_requests_total", h.requests);
	head(f, "tessera_mgr_http_refusals_total", "counter",
	     "HTTP requests or connections refused, by reason.");
	sample1(f, "tessera_mgr_http_refusals_total", "reason", "unauthenticated",
		h.unauthenticated);
	sample1(f, "tessera_mgr_http_refusals_total", "reason", "body_too_large", h.body_too_large);
	sample1(f, "tessera_mgr_http_refusals_total", "reason", "json_too_deep", h.json_too_deep);
	sample1(f, "tessera_mgr_http_refusals_total", "reason", "connections",
		h.connections_refused);
	sample1(f, "tessera_mgr_http_refusals_total", "reason", "timed_out", h.timed_out);
	sample1(f, "tessera_mgr_http_refusals_total", "reason", "tls_failed", h.tls_failed);
	head(f, "tessera_mgr_http_active_requests", "gauge", "HTTP requests in flight.");
	sample0(f, "tessera_mgr_http_active_requests", h.active);
}

#undef K

void api_metrics(struct api_ctx *c)
{
	struct snap s;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (strcmp(c->r->method, "GET") != 0) {
		http_error(c->out, 405, "", "%s is not allowed on %s", c->r->method, c->r->path);
		return;
	}
	if (!c->provider) {
		http_error(c->out, 403, "", "only provider admins read the metrics");
		return;
	}
	if (snap_take(&s) < 0 || (f = open_memstream(&text, &len)) == NULL) {
		snap_free(&s);
		http_error(c->out, 500, "", "out of memory");
		return;
	}
	format_jobs(f, &s);
	format_hosts(f, &s);
	format_tenants(f, &s);
	format_counters(f);
	snap_free(&s);
	if (fclose(f) != 0 || text == NULL) {
		free(text);
		http_error(c->out, 500, "", "out of memory");
		return;
	}
	c->out->status = 200;
	c->out->text = text;
	c->out->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
