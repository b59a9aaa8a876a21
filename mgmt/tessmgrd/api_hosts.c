/* SPDX-License-Identifier: BSD-3-Clause */
/* /v1/hosts: the provider's hosts (a libvirt and a tessd each), provider admins only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_crud.h"
#include "capacity.h"
#include "network.h"
#include "tessd_addr.h"
#include "tunnel.h"
#include "virt.h"

API_KIND_OPS(host)

static void *host_at(uint32_t i)
{
	return i < mgr.n_hosts ? mgr.hosts[i] : NULL;
}
static json_t *host_json(const void *o)
{
	return mgr_host_json_locked(o);
}
static bool host_check(const void *spec, const void *old, struct mgr_err *e)
{
	const struct mgr_host_spec *h = spec;
	const struct mgr_host *o = old;

	if (!api_site_named(h->site, "/site", e))
		return false;
	if (!mgr_net_host_check_locked(h, o, e))
		return false;
	/* The reservation against the topology where it is known: a test host's shape, or the
	 * one a connected host has (a new URI's is checked once connected: down with why). */
	struct mgr_topo *rt = malloc(sizeof(*rt));
	bool known = false;
	const char *rwhy = NULL;
	if (rt == NULL) {
		mgr_err_set(e, 500, "", "out of memory");
		return false;
	}
	if (h->test_host.sockets)
		known = mgr_topo_shape(rt, h->test_host.sockets, h->test_host.cores,
				       h->test_host.threads) == 0;
	else if (o && o->topo.ncpus && strcmp(o->spec.uri, h->uri) == 0)
		known = (*rt = o->topo, true);
	if (known && mgr_check_reserved(h, rt, &rwhy) < 0) {
		mgr_err_set(e, 400, "/reserved_cpus", "'%s' %s (the host has %u CPUs in %u cores)",
			    h->reserved_cpus, rwhy, rt->ncpus, rt->ncores);
		free(rt);
		return false;
	}
	free(rt);
	if (o && h->max_ports && h->max_ports < o->ports_used) {
		mgr_err_set(e, 409, "/max_ports",
			    "host %s has %u desktops, each a port of its tessd", o->spec.name,
			    o->ports_used);
		return false;
	}
	if (o == NULL)
		return true;
	/* What desktops have there stays possible. */
	if (o->n_slices && strcmp(o->spec.site, h->site) != 0) {
		mgr_err_set(e, 409, "/site", "host %s has desktops: its site cannot change",
			    o->spec.name);
		return false;
	}
	/* Their ports are on that tessd, their sockets in that directory: not moved along. */
	char key[MGR_TESSD_KEY_LEN];
	mgr_tessd_key_of(h->tessd, key);
	if (o->ports_used && strcmp(o->tessd_key, key) != 0) {
		mgr_err_set(e, 409, "/tessd",
			    "host %s has %u desktops, each a port of its tessd: its tessd cannot "
			    "change",
			    o->spec.name, o->ports_used);
		return false;
	}
	if (o->ports_used && strcmp(o->spec.vhost_dir, h->vhost_dir) != 0) {
		mgr_err_set(e, 409, "/vhost_dir",
			    "host %s has %u desktops, their vhost sockets in %s: it cannot change",
			    o->spec.name, o->ports_used, o->spec.vhost_dir);
		return false;
	}
	if (!h->shared && o->n_slices > 1) {
		mgr_err_set(e, 409, "/shared", "host %s serves %u tenants: it must stay shared",
			    o->spec.name, o->n_slices);
		return false;
	}
	for (uint32_t i = 0; i < o->n_slices; i++) {
		const struct mgr_tenant *t = mgr_tenant_get(&mgr, o->slices[i].tenant_id);
		bool reach = false;
		for (uint32_t k = 0; t && k < h->n_vlans; k++)
			reach |= h->vlans[k] == t->spec.vlan;
		if (t && !reach) {
			mgr_err_set(e, 409, "/vlans",
				    "tenant %s has desktops on %s: VLAN %u must stay reachable",
				    t->spec.name, o->spec.name, t->spec.vlan);
			return false;
		}
	}
	/* Checked against the new shape where the spec gives it (a test host; review 1.15): the
	 * old topology let a smaller shape through. A new URI's is known only once connected,
	 * where mgr_host_connect makes the same check. */
	struct mgr_topo topo = o->topo;
	uint64_t memory_mb = o->memory_mb;
	const char *why = NULL;
	if (h->test_host.sockets) {
		const struct mgr_test_host_spec *s = &h->test_host;
		memory_mb = s->memory_mb;
		if (mgr_topo_shape(&topo, s->sockets, s->cores, s->threads) < 0) {
			mgr_err_set(e, 400, "/test_host", "not a CPU topology tessmgrd can use");
			return false;
		}
	}
	if (mgr_host_fits(o, &topo, memory_mb, h, &why) < 0) {
		mgr_err_set(e, 409, "", "host %s has %u vCPUs and %llu MiB allocated: %s",
			    o->spec.name, o->vcpus_used, (unsigned long long)o->mem_used_mb, why);
		return false;
	}
	return true;
}
static void host_derive(void *o)
{
	mgr_host_derive_locked(o);
}

static const struct api_kind hosts;

/*
 * A host is its own allocation in an array of pointers, kept in id order (mgr_host_get
 * searches it), with its desktops' slices and queue: added and deleted here, not as the
 * kinds kept as arrays of objects.
 */
static int host_add(void *spec, uint32_t *id, struct mgr_err *e)
{
	struct mgr_host **a = realloc(mgr.hosts, (mgr.n_hosts + 1) * sizeof(*a));
	struct mgr_host *h = calloc(1, sizeof(*h));

	if (a)
		mgr.hosts = a;
	if (a == NULL || h == NULL) {
		free(h);
		mgr_err_set(e, 500, "", "out of memory");
		return -ENOMEM;
	}
	snprintf(h->down_reason, sizeof(h->down_reason), "not connected yet");
	if (api_obj_init(&hosts, h, spec, id, e) < 0) {
		free(h);
		return -EIO;
	}
	mgr.hosts[mgr.n_hosts++] = h;
	mgr_tunnel_adopt(h->spec.tessd);
	return 0;
}
/* Partitions moved off newly reserved CPUs: the reconnect after a PUT re-pins. */
static void host_changed(void *o)
{
	struct mgr_host *h = o;

	mgr_repartition_locked(h);
	if (mgr_sync_cpus_locked(h))
		h->repin_wanted = true;
}
static int host_del(void *obj, struct mgr_err *e)
{
	struct mgr_host *h = obj;

	if (h->n_slices || h->vcpus_used || h->n_queued || h->n_parked || h->jobs_running) {
		mgr_err_set(e, 409, "", "host %s has desktops or jobs: delete or move them first",
			    h->spec.name);
		return -EBUSY;
	}
	if (api_obj_unstore(&hosts, h, e) < 0)
		return -EIO;
	mgr_virt_close(h->id);
	for (uint32_t i = 0; i < mgr.n_quotas; i++) {
		/* Forget it in the quotas' host lists. */
		struct mgr_quota *q = &mgr.quotas[i];
		for (uint32_t k = 0; k < q->n_hosts; k++)
			if (q->host_ids[k] == h->id)
				q->host_ids[k--] = q->host_ids[--q->n_hosts];
	}
	for (uint32_t i = 0; i < mgr.n_hosts; i++)
		if (mgr.hosts[i] == h)
			memmove(&mgr.hosts[i], &mgr.hosts[i + 1],
				(--mgr.n_hosts - i) * sizeof(*mgr.hosts));
	api_forget_tessd_locked(h->spec.tessd);
	cfg_free(&mgr_host_schema, &h->spec);
	free(h->slices);
	free(h->queue);
	free(h);
	return 0;
}

static const struct api_kind hosts = {
	API_KIND_FIELDS(host, MGR_HOST),
	.tessd_at = offsetof(struct mgr_host, spec.tessd),
	.json = host_json,
	.check = host_check,
	.derive = host_derive,
	.add = host_add,
	.del = host_del,
	.changed = host_changed,
	.lock = mgr_host_connect_begin,
	.unlock = mgr_host_connect_end,
};

void api_hosts(struct api_ctx *c)
{
	api_crud(c, &hosts);
}
