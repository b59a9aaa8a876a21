/* SPDX-License-Identifier: BSD-3-Clause */
#include "capacity.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host_tessd.h"

/* Ratios are decimals from the config: a hair of slack so 2.0 x 3 stays 6. */
#define EPS 1e-9

/* Marks the cores of t that hold a CPU of spec's reserved_cpus; how many. */
static unsigned reserved_cores(const struct mgr_host_spec *spec, const struct mgr_topo *t,
			       bool reserved[MGR_MAX_CPUS])
{
	mgr_cpuset r;
	unsigned n = 0;

	memset(reserved, 0, MGR_MAX_CPUS * sizeof(*reserved));
	/* The schema checked the list: a stored one always parses. */
	if (!spec->reserved_cpus[0] || mgr_cpuset_parse(spec->reserved_cpus, MGR_MAX_CPUS, &r) < 0)
		return 0;
	for (unsigned c = 0; c < t->ncpus; c++) {
		if (mgr_cpuset_has(&r, c) && !reserved[t->core_of[c]]) {
			reserved[t->core_of[c]] = true;
			n++;
		}
	}
	return n;
}

uint32_t mgr_usable_cores(const struct mgr_host *h)
{
	bool reserved[MGR_MAX_CPUS];

	return h->topo.ncores - reserved_cores(&h->spec, &h->topo, reserved);
}

/* CPUs per core (the topology is uniform on the hosts libvirt describes). */
static uint32_t threads_per_core(const struct mgr_host *h)
{
	return h->topo.ncores ? h->topo.ncpus / h->topo.ncores : 1;
}

uint32_t mgr_cpu_capacity(const struct mgr_host *h)
{
	return (uint32_t)floor(mgr_usable_cores(h) * threads_per_core(h) * h->spec.vcpu_ratio +
			       EPS);
}

int mgr_check_reserved(const struct mgr_host_spec *spec, const struct mgr_topo *t, const char **why)
{
	bool reserved[MGR_MAX_CPUS];
	mgr_cpuset r;

	if (!spec->reserved_cpus[0])
		return 0;
	if (mgr_cpuset_parse(spec->reserved_cpus, t->ncpus, &r) < 0) {
		*why = "names a CPU the host does not have";
		return -EINVAL;
	}
	if (reserved_cores(spec, t, reserved) >= t->ncores) {
		*why = "leaves no CPU for desktops (a core with a reserved CPU is not a tenant's)";
		return -ENOSPC;
	}
	return 0;
}

uint64_t mgr_mem_capacity(const struct mgr_host *h)
{
	return (uint64_t)floor((double)h->memory_mb * h->spec.memory_overalloc + EPS);
}

struct mgr_slice *mgr_host_slice(const struct mgr_host *h, uint32_t tenant_id)
{
	for (uint32_t i = 0; i < h->n_slices; i++)
		if (h->slices[i].tenant_id == tenant_id)
			return &h->slices[i];
	return NULL;
}

uint32_t mgr_cores_needed(const struct mgr_host *h, uint32_t vcpus)
{
	uint32_t tpc = threads_per_core(h), pcpus;

	if (vcpus == 0)
		return 0;
	pcpus = (uint32_t)ceil(vcpus / h->spec.vcpu_ratio - EPS);
	if (pcpus == 0)
		pcpus = 1;
	return (pcpus + tpc - 1) / tpc;
}

bool mgr_host_eligible(const struct mgr_host *h, const struct mgr_tenant *t)
{
	return h->up && h->site_id == t->site_id && mgr_host_reaches(h, t->spec.vlan);
}

/* The tenant other than t that a non-shared host serves, or 0. */
static uint32_t other_owner(const struct mgr_host *h, uint32_t tenant_id)
{
	for (uint32_t i = 0; i < h->n_slices; i++)
		if (h->slices[i].vcpus && h->slices[i].tenant_id != tenant_id)
			return h->slices[i].tenant_id;
	return 0;
}

uint32_t mgr_host_room(const struct mgr_host *h, const struct mgr_tenant *t,
		       const struct mgr_model *m, const char **why)
{
	uint32_t cpu_cap = mgr_cpu_capacity(h), by_cpu, by_mem, room;
	uint64_t mem_cap = mgr_mem_capacity(h);
	const char *reason = NULL;

	if (!h->up)
		reason = "is down";
	else if (h->site_id != t->site_id)
		reason = "is not in the tenant's data center";
	else if (!mgr_host_reaches(h, t->spec.vlan))
		reason = "does not reach the tenant's VLAN";
	else if (!h->spec.shared && other_owner(h, t->id))
		reason = "is not shared and serves another tenant";
	else if (h->spec.tessd[0] && h->tessd_seen && !h->tessd_up)
		reason = "has a tessd that does not answer (see its tessd.down_reason)";
	else if (h->spec.max_ports && h->ports_used >= h->spec.max_ports)
		reason = "has no free port on its tessd (max_ports)";
	else if (mgr_host_tessd_room(h) == 0)
		reason = "has no free port on its tessd (as the tessd reports)";
	if (reason) {
		*why = reason;
		return 0;
	}
	by_cpu = h->vcpus_used < cpu_cap ? (cpu_cap - h->vcpus_used) / m->spec.vcpus : 0;
	by_mem = h->mem_used_mb < mem_cap
			 ? (uint32_t)((mem_cap - h->mem_used_mb) / m->spec.memory_mb)
			 : 0;
	room = by_cpu < by_mem ? by_cpu : by_mem;
	if (h->spec.max_ports && h->spec.max_ports - h->ports_used < room)
		room = h->spec.max_ports - h->ports_used;
	if (mgr_host_tessd_room(h) < room)
		room = mgr_host_tessd_room(h);
	if (room == 0) {
		*why = by_cpu == 0 ? "has no vCPU capacity left" : "has no memory capacity left";
		return 0;
	}
	if (h->spec.shared && mgr_host_slice(h, t->id) == NULL && h->n_slices >= MGR_MAX_SLICES) {
		*why = "has the most tenants a shared host can have";
		return 0;
	}
	if (h->spec.shared) {
		/* The tenant's partition grows into cores no other tenant needs. */
		const struct mgr_slice *mine = mgr_host_slice(h, t->id);
		uint32_t others = 0, v = mine ? mine->vcpus : 0, by_part, max_v,
			 cores = mgr_usable_cores(h);
		for (uint32_t i = 0; i < h->n_slices; i++)
			if (h->slices[i].tenant_id != t->id)
				others += mgr_cores_needed(h, h->slices[i].vcpus);
		max_v = others < cores ? (uint32_t)floor((cores - others) * threads_per_core(h) *
								 h->spec.vcpu_ratio +
							 EPS)
				       : 0;
		by_part = max_v > v ? (max_v - v) / m->spec.vcpus : 0;
		if (by_part < room)
			room = by_part;
		if (room == 0) {
			*why = "has no free cores left for the tenant's CPU partition";
			return 0;
		}
	}
	*why = NULL;
	return room;
}

uint32_t mgr_quota_room(const struct mgr_quota *q, const struct mgr_model *m)
{
	uint32_t by_cpu = q->cpus_used < q->spec.max_cpus
				  ? (q->spec.max_cpus - q->cpus_used) / m->spec.vcpus
				  : 0;
	uint64_t by_mem = q->memory_used_mb < q->spec.max_memory_mb
				  ? (q->spec.max_memory_mb - q->memory_used_mb) / m->spec.memory_mb
				  : 0;

	return by_mem < by_cpu ? (uint32_t)by_mem : by_cpu;
}

size_t mgr_available_hosts(struct mgr_host *const *hosts, size_t n_hosts,
			   const struct mgr_tenant *t, const struct mgr_model *m,
			   const struct mgr_quota *q, struct mgr_avail *out, size_t max,
			   uint32_t *covered)
{
	uint32_t want = mgr_quota_room(q, m), got = 0;
	size_t n = 0;

	for (size_t i = 0; i < n_hosts && got < want && n < max; i++) {
		const char *why;
		uint32_t room;

		if (!mgr_host_eligible(hosts[i], t))
			continue;
		room = mgr_host_room(hosts[i], t, m, &why);
		if (room == 0)
			continue;
		out[n++] = (struct mgr_avail){ hosts[i]->id, room };
		got += room;
	}
	*covered = got < want ? got : want;
	return n;
}

int mgr_topo_set(struct mgr_topo *t, unsigned ncpus, const uint16_t *socket_of,
		 const uint16_t *core_id_of)
{
	uint32_t keys[MGR_MAX_CPUS];

	if (ncpus == 0 || ncpus > MGR_MAX_CPUS)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->ncpus = (uint16_t)ncpus;
	/* Cores numbered in order of first appearance: (socket, core id) pairs. */
	for (unsigned c = 0; c < ncpus; c++) {
		uint32_t key = (uint32_t)socket_of[c] << 16 | core_id_of[c];
		unsigned k;
		for (k = 0; k < t->ncores && keys[k] != key; k++)
			;
		if (k == t->ncores)
			keys[t->ncores++] = key;
		t->core_of[c] = (uint16_t)k;
	}
	/* Cores of unequal sizes would make whole-core partitions unequal: refuse. */
	for (unsigned k = 0; k < t->ncores; k++) {
		unsigned n = 0;
		for (unsigned c = 0; c < ncpus; c++)
			n += t->core_of[c] == k;
		if (n != ncpus / t->ncores)
			return -EINVAL;
	}
	return 0;
}

int mgr_topo_shape(struct mgr_topo *t, unsigned sockets, unsigned cores, unsigned threads)
{
	uint16_t socket_of[MGR_MAX_CPUS], core_of[MGR_MAX_CPUS];
	unsigned n = sockets * cores * threads;

	if (n == 0 || n > MGR_MAX_CPUS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		unsigned core = i % (sockets * cores);
		socket_of[i] = (uint16_t)(core / cores);
		core_of[i] = (uint16_t)(core % cores);
	}
	return mgr_topo_set(t, n, socket_of, core_of);
}

int mgr_host_fits(const struct mgr_host *h, const struct mgr_topo *topo, uint64_t memory_mb,
		  const struct mgr_host_spec *spec, const char **why)
{
	struct mgr_host *probe = malloc(sizeof(*probe));
	int rc = 0;

	if (probe == NULL) {
		*why = "out of memory";
		return -ENOMEM;
	}
	*probe = *h;
	probe->topo = *topo;
	probe->memory_mb = memory_mb;
	probe->spec = *spec;
	/* Partitioned on a copy: mgr_partition writes the slices' CPU sets. */
	probe->slices = h->n_slices ? malloc(h->n_slices * sizeof(*h->slices)) : NULL;
	if (h->n_slices && probe->slices == NULL) {
		free(probe);
		*why = "out of memory";
		return -ENOMEM;
	}
	if (h->n_slices)
		memcpy(probe->slices, h->slices, h->n_slices * sizeof(*h->slices));
	/* A topology not known yet (never connected) is checked at the connect. */
	if (topo->ncpus && mgr_check_reserved(spec, topo, why) < 0) {
		rc = -EINVAL;
	} else if (spec->max_ports && spec->max_ports < h->ports_used) {
		*why = "more desktop ports than its new max_ports";
		rc = -ENOSPC;
	} else if (mgr_cpu_capacity(probe) < h->vcpus_used ||
		   mgr_mem_capacity(probe) < h->mem_used_mb) {
		*why = "more than the new capacity";
		rc = -ENOSPC;
	} else if (mgr_partition(probe) < 0) {
		*why = "more than the new cores hold as the tenants' CPU partitions";
		rc = -ENOSPC;
	}
	free(probe->slices);
	free(probe);
	return rc;
}

static void add_core(const struct mgr_topo *t, unsigned core, mgr_cpuset *s)
{
	for (unsigned c = 0; c < t->ncpus; c++)
		if (t->core_of[c] == core)
			mgr_cpuset_add(s, c);
}

int mgr_partition(struct mgr_host *h)
{
	const struct mgr_topo *t = &h->topo;
	uint32_t need[MGR_MAX_SLICES], total = 0;
	/* Cores of the reserved CPUs are taken from the start: never a tenant's. */
	bool taken[MGR_MAX_CPUS];
	unsigned n_reserved = reserved_cores(&h->spec, t, taken);
	mgr_cpuset next[MGR_MAX_SLICES];

	if (h->n_slices > MGR_MAX_SLICES)
		return -E2BIG;
	if (!h->spec.shared) {
		/* One tenant: the whole host but its reserved cores is its partition. */
		for (uint32_t i = 0; i < h->n_slices; i++) {
			memset(&h->slices[i].cpus, 0, sizeof(h->slices[i].cpus));
			for (unsigned c = 0; h->slices[i].vcpus && c < t->ncpus; c++)
				if (!taken[t->core_of[c]])
					mgr_cpuset_add(&h->slices[i].cpus, c);
		}
		return 0;
	}
	for (uint32_t i = 0; i < h->n_slices; i++) {
		need[i] = mgr_cores_needed(h, h->slices[i].vcpus);
		total += need[i];
	}
	if (total + n_reserved > t->ncores)
		return -ENOSPC;
	/* Keep the cores each tenant has, as many as it still needs. */
	for (uint32_t i = 0; i < h->n_slices; i++) {
		uint32_t have = 0;
		memset(&next[i], 0, sizeof(next[i]));
		for (unsigned c = 0; c < t->ncpus && have < need[i]; c++) {
			unsigned core = t->core_of[c];
			if (!mgr_cpuset_has(&h->slices[i].cpus, c) || taken[core])
				continue;
			taken[core] = true;
			add_core(t, core, &next[i]);
			have++;
		}
		need[i] -= have;
	}
	/* Then free cores, lowest first. */
	for (uint32_t i = 0; i < h->n_slices; i++) {
		for (unsigned core = 0; core < t->ncores && need[i]; core++) {
			if (taken[core])
				continue;
			taken[core] = true;
			add_core(t, core, &next[i]);
			need[i]--;
		}
	}
	for (uint32_t i = 0; i < h->n_slices; i++)
		h->slices[i].cpus = next[i];
	return 0;
}
