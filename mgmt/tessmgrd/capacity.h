/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capacity, quota and placement arithmetic (pure: no I/O, no locks):
 *   CPU capacity    = CPUs x vCPU ratio      (vCPUs a host may allocate)
 *   memory capacity = memory x over-allocation rate
 * A non-shared host serves one tenant; on a shared host every tenant owns
 * a disjoint set of physical CPUs, whole cores, of ceil(vCPUs / ratio).
 * Cores holding a CPU of the host's reserved_cpus (its tessd's, the system's)
 * are no tenant's and count in no capacity; a host with max_ports takes that
 * many desktops at most (each is a port of its tessd).
 */
#ifndef TESS_MGR_CAPACITY_H
#define TESS_MGR_CAPACITY_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

uint32_t mgr_cpu_capacity(const struct mgr_host *h);
/* Cores of h that tenants may have: those with no CPU of its spec's reserved_cpus. */
uint32_t mgr_usable_cores(const struct mgr_host *h);
/* Whether spec's reserved_cpus fit topology t and leave a core for tenants: 0, or -EINVAL
 * (a CPU t lacks) or -ENOSPC (no core left) with why. */
int mgr_check_reserved(const struct mgr_host_spec *spec, const struct mgr_topo *t,
		       const char **why);
uint64_t mgr_mem_capacity(const struct mgr_host *h);

/* The slice of tenant on h, or NULL. */
struct mgr_slice *mgr_host_slice(const struct mgr_host *h, uint32_t tenant_id);
/* Whole cores a tenant with vcpus allocated on h needs for its partition. */
uint32_t mgr_cores_needed(const struct mgr_host *h, uint32_t vcpus);

/*
 * How many more desktops of model m host h can take for tenant t: its
 * capacity, its sharing, and room for t's partition to grow. 0 with *why
 * (a sentence) when none.
 */
uint32_t mgr_host_room(const struct mgr_host *h, const struct mgr_tenant *t,
		       const struct mgr_model *m, const char **why);

/* Whether h can host tenant t at all: up, in t's data center, reaching t's VLAN. */
bool mgr_host_eligible(const struct mgr_host *h, const struct mgr_tenant *t);

/* How many more desktops of m quota q allows. */
uint32_t mgr_quota_room(const struct mgr_quota *q, const struct mgr_model *m);

struct mgr_avail {
	uint32_t host_id;
	uint32_t desktops; /* more desktops of the model it can take */
};

/*
 * Seed 000 FIG. 4: through hosts[] (in order), those eligible for t, how
 * many desktops of m each can still take, until q's remaining room is
 * covered. Fills out[] (at most max), returns how many, and *covered: the
 * desktops they add up to (capped at the quota's room).
 */
size_t mgr_available_hosts(struct mgr_host *const *hosts, size_t n_hosts,
			   const struct mgr_tenant *t, const struct mgr_model *m,
			   const struct mgr_quota *q, struct mgr_avail *out, size_t max,
			   uint32_t *covered);

/*
 * Repartitions h's CPUs among its tenants after their vCPUs changed:
 * every tenant keeps what it has as far as it still needs it, then takes
 * free whole cores (lowest first), never a reserved one. A non-shared host's
 * tenant gets every CPU of the cores not reserved. -ENOSPC if the needs do not fit (nothing changed
 * then).
 */
int mgr_partition(struct mgr_host *h);

/* The topology of a sockets x cores x threads shape in Linux numbering (thread siblings
 * ncores apart), as libvirt's test driver gives it (virt.c read_topology). */
int mgr_topo_shape(struct mgr_topo *t, unsigned sockets, unsigned cores, unsigned threads);
/* Whether h's tenants, as allocated now, fit a new topology and memory: 0, or -ENOSPC with
 * why (capacity or partitions). */
int mgr_host_fits(const struct mgr_host *h, const struct mgr_topo *topo, uint64_t memory_mb,
		  const struct mgr_host_spec *spec, const char **why);
/* Parses libvirt's topology (cpu id -> socket/core ids) into t; -EINVAL if inconsistent. */
int mgr_topo_set(struct mgr_topo *t, unsigned ncpus, const uint16_t *socket_of,
		 const uint16_t *core_id_of);

#endif
