/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's arithmetic: capacity formulas, quota room, the FIG. 4 host
 * search, and CPU partitions (disjoint, whole cores, stable when they
 * change, never on the host's reserved CPUs), a host's tessd port limit,
 * with CPU set text round trips.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "capacity.h"
#include "mgr.h"
#include "usage_alloc.h"

/* A host of sockets x cores x threads CPUs numbered like Linux: thread siblings n apart. */
static void make_host(struct mgr_host *h, uint32_t id, unsigned sockets, unsigned cores,
		      unsigned threads, uint64_t mem_mb, double ratio, double overalloc,
		      bool shared)
{
	uint16_t socket_of[MGR_MAX_CPUS], core_of[MGR_MAX_CPUS];
	unsigned n = sockets * cores * threads;

	memset(h, 0, sizeof(*h));
	h->id = id;
	h->up = true;
	h->site_id = 1;
	h->memory_mb = mem_mb;
	h->spec.vcpu_ratio = ratio;
	h->spec.memory_overalloc = overalloc;
	h->spec.shared = shared;
	h->vlans[100 / 64] |= UINT64_C(1) << (100 % 64);
	h->vlans[200 / 64] |= UINT64_C(1) << (200 % 64);
	for (unsigned c = 0; c < n; c++) {
		unsigned core = c % (sockets * cores);
		socket_of[c] = (uint16_t)(core / cores);
		core_of[c] = (uint16_t)(core % cores);
	}
	assert_int_equal(mgr_topo_set(&h->topo, n, socket_of, core_of), 0);
	assert_int_equal(h->topo.ncores, sockets * cores);
}

/* Places a desktop's worth of vCPUs and memory for tenant on h (as the daemon does). */
static int place(struct mgr_host *h, uint32_t tenant, uint32_t vcpus, uint64_t mem)
{
	struct mgr_slice *s = mgr_host_slice(h, tenant);
	int rc;

	if (s == NULL) {
		h->slices = realloc(h->slices, (h->n_slices + 1) * sizeof(*s));
		s = &h->slices[h->n_slices++];
		memset(s, 0, sizeof(*s));
		s->tenant_id = tenant;
	}
	s->vcpus += vcpus;
	rc = mgr_partition(h);
	if (rc < 0) {
		s->vcpus -= vcpus;
		return rc;
	}
	h->vcpus_used += vcpus;
	h->mem_used_mb += mem;
	return 0;
}

static const struct mgr_tenant acme = { .id = 1, .site_id = 1, .spec = { .vlan = 100 } };
static const struct mgr_tenant bravo = { .id = 2, .site_id = 1, .spec = { .vlan = 200 } };
static const struct mgr_model small = { .id = 1, .spec = { .vcpus = 2, .memory_mb = 4096 } };

static void test_cpuset_text(void **state)
{
	mgr_cpuset s;
	char buf[256];

	(void)state;
	assert_int_equal(mgr_cpuset_parse("0-3,8,10-11", 64, &s), 0);
	assert_int_equal(mgr_cpuset_count(&s), 7);
	mgr_cpuset_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "0-3,8,10-11");
	assert_int_equal(mgr_cpuset_parse("", 64, &s), 0);
	assert_int_equal(mgr_cpuset_count(&s), 0);
	static const char *const bads[] = { "x", "1-", "3-1", "64", "1,,2", "1,", "-1", "1 2" };
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		assert_int_equal(mgr_cpuset_parse(bads[i], 64, &s), -EINVAL);
}

/* Review 1.3: every even CPU of a 1024-CPU host is 512 list items, about 2000 characters. The
 * text must come back as the same set, never as a cut list that parses to other CPUs. */
static void test_cpuset_text_worst_case(void **state)
{
	mgr_cpuset s = { 0 }, back;
	char buf[MGR_CPUSET_STRLEN], cut[1024];

	(void)state;
	for (unsigned c = 0; c < MGR_MAX_CPUS; c += 2)
		mgr_cpuset_add(&s, c);
	assert_int_equal(mgr_cpuset_format(&s, buf, sizeof(buf)), 0);
	assert_int_equal(mgr_cpuset_parse(buf, MGR_MAX_CPUS, &back), 0);
	assert_memory_equal(&s, &back, sizeof(s));
	/* A buffer too small fails whole: no cut list. */
	assert_int_equal(mgr_cpuset_format(&s, cut, sizeof(cut)), -ENOSPC);
	assert_string_equal(cut, "");
	/* The longest text: every CPU of the top thousand a separate item still fits. */
	memset(&s, 0, sizeof(s));
	for (unsigned c = 1000; c < MGR_MAX_CPUS; c += 2)
		mgr_cpuset_add(&s, c);
	for (unsigned c = 0; c < 1000; c += 2)
		mgr_cpuset_add(&s, c);
	assert_int_equal(mgr_cpuset_format(&s, buf, sizeof(buf)), 0);
	assert_int_equal(mgr_cpuset_parse(buf, MGR_MAX_CPUS, &back), 0);
	assert_memory_equal(&s, &back, sizeof(s));
}

/* Review 1.15: a reservation that fails leaves no empty slice behind. The 257th tenant on a
 * shared host is refused with a reason, and the host's 256 tenants can still grow (an empty
 * 257th slice made every later partition fail with -E2BIG). */
static void test_failed_reserve_leaves_no_slice(void **state)
{
	struct mgr_host h;
	struct mgr_tenant t = { .site_id = 1, .spec = { .vlan = 100 } };
	const char *why = NULL;

	(void)state;
	make_host(&h, 1, 1, 1024, 1, 1 << 30, 1.0, 1.0, true);
	for (uint32_t id = 1; id <= MGR_MAX_SLICES; id++) {
		t.id = id;
		assert_true(mgr_reserve_host_locked(&h, &t, &small, &why));
	}
	assert_int_equal(h.n_slices, MGR_MAX_SLICES);
	t.id = MGR_MAX_SLICES + 1;
	assert_false(mgr_reserve_host_locked(&h, &t, &small, &why));
	assert_non_null(why);
	assert_int_equal(h.n_slices, MGR_MAX_SLICES);
	assert_null(mgr_host_slice(&h, t.id));
	t.id = 1;
	assert_true(mgr_reserve_host_locked(&h, &t, &small, &why));
	assert_int_equal(mgr_host_slice(&h, 1)->vcpus, 4);
	free(h.slices);
}

/*
 * A partition that grows, or goes, leaves the time it had its former size to the usage
 * history (each second once): a tenant's move or last desktop gone is billed to its end.
 */
static void test_a_partition_owes_each_size_it_had(void **state)
{
	struct mgr_host h, *hosts[1] = { &h };
	struct mgr_tenant t = { .id = 1, .site_id = 1, .spec = { .vlan = 100 } };
	const char *why = NULL;
	struct usage_alloc *a;
	uint32_t n;
	int64_t t0, t1;

	(void)state;
	usage_alloc_forget(); /* what the tests before owed */
	make_host(&h, 1, 1, 8, 2, 1 << 30, 1.0, 1.0, true);
	mgr.hosts = hosts;
	mgr.n_hosts = 1;
	t0 = time(NULL);
	assert_true(mgr_reserve_host_locked(&h, &t, &small, &why)); /* one core, 2 CPUs */
	assert_int_equal(mgr_cpuset_count(&h.slices[0].cpus), 2);
	assert_true(h.slices[0].since >= t0);
	h.slices[0].since -= 100;                                   /* as if made 100 s ago */
	assert_true(mgr_reserve_host_locked(&h, &t, &small, &why)); /* two cores */
	assert_int_equal(mgr_cpuset_count(&h.slices[0].cpus), 4);
	h.slices[0].since -= 50;
	mgr_release_host_locked(&h, t.id, &small); /* one core again */
	assert_int_equal(mgr_cpuset_count(&h.slices[0].cpus), 2);
	h.slices[0].since -= 30;
	mgr_release_host_locked(&h, t.id, &small);
	assert_int_equal(h.n_slices, 0);
	t1 = time(NULL);
	/* 2 CPUs for 100 s, 4 for 50 s, 2 for 30 s (give or take the seconds steps crossed). */
	a = usage_alloc_copy_locked(&n, t1 + 1, t0 - 1000);
	assert_non_null(a);
	assert_int_equal(n, 1);
	assert_in_range(a[0].pcpu_s, 2 * 100 + 4 * 50 + 2 * 30,
			2 * (100 + t1 - t0) + 4 * (50 + t1 - t0) + 2 * (30 + t1 - t0));
	free(a);
	usage_alloc_forget();
	mgr.hosts = NULL;
	mgr.n_hosts = 0;
	free(h.slices);
}

static void test_capacity_formulas(void **state)
{
	struct mgr_host h;

	(void)state;
	/* 2 sockets x 8 cores x 2 threads = 32 CPUs, 64 GiB, ratio 4, over-allocation 1.5. */
	make_host(&h, 1, 2, 8, 2, 65536, 4.0, 1.5, true);
	assert_int_equal(mgr_cpu_capacity(&h), 128);
	assert_int_equal(mgr_mem_capacity(&h), 98304);
	h.spec.vcpu_ratio = 1.5;
	assert_int_equal(mgr_cpu_capacity(&h), 48);
	h.spec.vcpu_ratio = 0.1 * 3; /* 0.30000000000000004: floor(32 x it) is 9, not 9.6 rounded */
	assert_int_equal(mgr_cpu_capacity(&h), 9);
	/* Whole cores: ceil(vCPUs / ratio) CPUs, rounded up to cores of 2 threads. */
	h.spec.vcpu_ratio = 4.0;
	assert_int_equal(mgr_cores_needed(&h, 0), 0);
	assert_int_equal(mgr_cores_needed(&h, 1), 1);
	assert_int_equal(mgr_cores_needed(&h, 8), 1);
	assert_int_equal(mgr_cores_needed(&h, 9), 2);
	assert_int_equal(mgr_cores_needed(&h, 16), 2);
	assert_int_equal(mgr_cores_needed(&h, 17), 3);
	free(h.slices);
}

static void test_quota_room(void **state)
{
	struct mgr_quota q = { .spec = { .max_cpus = 10, .max_memory_mb = 16384 } };

	(void)state;
	assert_int_equal(mgr_quota_room(&q, &small), 4); /* memory bounds: 4 x 4 GiB */
	q.spec.max_memory_mb = 65536;
	assert_int_equal(mgr_quota_room(&q, &small), 5); /* CPUs bound: 5 x 2 */
	q.cpus_used = 9;
	assert_int_equal(mgr_quota_room(&q, &small), 0);
	q.cpus_used = 12; /* over (the quota was lowered): nothing, no wrap-around */
	assert_int_equal(mgr_quota_room(&q, &small), 0);
	q.cpus_used = 0;
	q.memory_used_mb = 70000;
	assert_int_equal(mgr_quota_room(&q, &small), 0);
}

static void test_host_room_and_sharing(void **state)
{
	struct mgr_host h;
	const char *why;

	(void)state;
	/* 1 socket x 4 cores x 2 threads, ratio 2: 16 vCPUs, 4 cores of 4 vCPUs each. */
	make_host(&h, 1, 1, 4, 2, 32768, 2.0, 1.0, true);
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 8);
	assert_int_equal(place(&h, 1, 2, 4096), 0);
	/* Bravo: 3 cores free -> 12 vCPUs; memory 28 GiB -> 7 desktops; partition 6. */
	assert_int_equal(mgr_host_room(&h, &bravo, &small, &why), 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(place(&h, 2, 2, 4096), 0);
	/* Acme keeps its one core (2 desktops' worth: 4 vCPUs). */
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 1);
	assert_int_equal(place(&h, 1, 2, 4096), 0);
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 0);
	assert_string_equal(why, "has no vCPU capacity left");
	free(h.slices);

	/* Memory, VLAN, data center, down. */
	make_host(&h, 1, 1, 4, 2, 8192, 2.0, 1.0, true);
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 2);
	h.mem_used_mb = 5000;
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 0);
	assert_string_equal(why, "has no memory capacity left");
	struct mgr_tenant other = acme;
	other.spec.vlan = 300;
	assert_int_equal(mgr_host_room(&h, &other, &small, &why), 0);
	assert_string_equal(why, "does not reach the tenant's VLAN");
	assert_false(mgr_host_eligible(&h, &other));
	other = acme;
	other.site_id = 2;
	assert_int_equal(mgr_host_room(&h, &other, &small, &why), 0);
	assert_string_equal(why, "is not in the tenant's data center");
	h.up = false;
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 0);
	assert_string_equal(why, "is down");
	free(h.slices);

	/* Not shared: the first tenant has it. */
	make_host(&h, 1, 1, 4, 2, 32768, 2.0, 1.0, false);
	assert_int_equal(place(&h, 1, 2, 4096), 0);
	assert_int_equal(mgr_host_room(&h, &bravo, &small, &why), 0);
	assert_string_equal(why, "is not shared and serves another tenant");
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 7);
	free(h.slices);
}

static void test_partitions_disjoint_whole_cores_stable(void **state)
{
	struct mgr_host h;
	mgr_cpuset before;
	char buf[128];

	(void)state;
	/* 1 socket x 4 cores x 2 threads: core k is CPUs k and k+4. */
	make_host(&h, 1, 1, 4, 2, 65536, 1.0, 1.0, true);
	assert_int_equal(place(&h, 1, 2, 1024), 0); /* acme: 2 vCPUs -> 1 core */
	mgr_cpuset_format(&h.slices[0].cpus, buf, sizeof(buf));
	assert_string_equal(buf, "0,4");
	assert_int_equal(place(&h, 2, 3, 1024), 0); /* bravo: 3 vCPUs -> 2 cores */
	mgr_cpuset_format(&h.slices[1].cpus, buf, sizeof(buf));
	assert_string_equal(buf, "1-2,5-6");
	assert_true(mgr_cpuset_disjoint(&h.slices[0].cpus, &h.slices[1].cpus));
	/* Acme grows: it keeps its core and takes the free one; bravo is not moved. */
	before = h.slices[1].cpus;
	assert_int_equal(place(&h, 1, 2, 1024), 0);
	mgr_cpuset_format(&h.slices[0].cpus, buf, sizeof(buf));
	assert_string_equal(buf, "0,3-4,7");
	assert_memory_equal(&before, &h.slices[1].cpus, sizeof(before));
	/* Full: neither may grow now; nothing changes. */
	before = h.slices[0].cpus;
	assert_int_equal(place(&h, 2, 2, 1024), -ENOSPC);
	assert_memory_equal(&before, &h.slices[0].cpus, sizeof(before));
	/* Bravo shrinks to one core: it keeps its lowest, the other becomes free for acme. */
	h.slices[1].vcpus = 2;
	assert_int_equal(mgr_partition(&h), 0);
	mgr_cpuset_format(&h.slices[1].cpus, buf, sizeof(buf));
	assert_string_equal(buf, "1,5");
	h.slices[0].vcpus = 6;
	assert_int_equal(mgr_partition(&h), 0);
	mgr_cpuset_format(&h.slices[0].cpus, buf, sizeof(buf));
	assert_string_equal(buf, "0,2-4,6-7");
	/* Every set is whole cores, and all are disjoint. */
	for (uint32_t i = 0; i < h.n_slices; i++)
		for (unsigned c = 0; c < 4; c++)
			assert_int_equal(mgr_cpuset_has(&h.slices[i].cpus, c),
					 mgr_cpuset_has(&h.slices[i].cpus, c + 4));
	assert_true(mgr_cpuset_disjoint(&h.slices[0].cpus, &h.slices[1].cpus));
	/* A tenant gone: an empty set. */
	h.slices[1].vcpus = 0;
	assert_int_equal(mgr_partition(&h), 0);
	assert_int_equal(mgr_cpuset_count(&h.slices[1].cpus), 0);
	free(h.slices);

	/* A non-shared host gives its tenant every CPU. */
	make_host(&h, 1, 1, 4, 2, 65536, 1.0, 1.0, false);
	assert_int_equal(place(&h, 1, 1, 1024), 0);
	assert_int_equal(mgr_cpuset_count(&h.slices[0].cpus), 8);
	free(h.slices);
}

static void test_partitions_random(void **state)
{
	uint64_t rng = 7;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct mgr_host h;
		make_host(&h, 1, 2, 6, 2, 1 << 20, 2.0, 1.0, true);
		for (int step = 0; step < 60; step++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			uint32_t tenant = (uint32_t)(rng >> 33) % 6 + 1;
			uint32_t v = (uint32_t)(rng >> 40) % 5 + 1;
			const struct mgr_tenant t = { .id = tenant,
						      .site_id = 1,
						      .spec = { .vlan = 100 } };
			const struct mgr_model m = { .spec = { .vcpus = v, .memory_mb = 1 } };
			const char *why;
			uint32_t room = mgr_host_room(&h, &t, &m, &why);
			int rc = place(&h, tenant, v, 1);
			/* The room the search promises is room placement finds. */
			assert_int_equal(room > 0, rc == 0);
			if ((rng >> 20) % 4 == 0 && h.n_slices) {
				struct mgr_slice *s = &h.slices[(rng >> 24) % h.n_slices];
				uint32_t drop = s->vcpus / 2;
				s->vcpus -= drop;
				h.vcpus_used -= drop;
				assert_int_equal(mgr_partition(&h), 0);
			}
			for (uint32_t i = 0; i < h.n_slices; i++) {
				assert_true(mgr_cpuset_count(&h.slices[i].cpus) >=
					    (h.slices[i].vcpus + 1) / 2);
				for (uint32_t j = 0; j < i; j++)
					assert_true(mgr_cpuset_disjoint(&h.slices[i].cpus,
									&h.slices[j].cpus));
			}
		}
		free(h.slices);
	}
}

static void test_fig4_available_hosts(void **state)
{
	struct mgr_host hs[4], *hp[4];
	struct mgr_quota q = { .tenant_id = 1,
			       .model_id = 1,
			       .spec = { .max_cpus = 20, .max_memory_mb = 1 << 20 } };
	struct mgr_avail out[4];
	uint32_t covered;
	size_t n;

	(void)state;
	for (int i = 0; i < 4; i++) {
		make_host(&hs[i], (uint32_t)i + 1, 1, 2, 2, 16384, 2.0, 1.0, true);
		hp[i] = &hs[i];
	}
	hs[1].vlans[100 / 64] = 0; /* does not reach acme */
	/* Each host: 8 vCPUs, 16 GiB -> 4 desktops of 2 vCPUs / 4 GiB. Quota: 10 desktops. */
	n = mgr_available_hosts(hp, 4, &acme, &small, &q, out, 4, &covered);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].host_id, 1);
	assert_int_equal(out[1].host_id, 3);
	assert_int_equal(out[2].host_id, 4);
	assert_int_equal(out[0].desktops, 4);
	assert_int_equal(covered, 10);
	/* The search stops once the quota is covered. */
	q.spec.max_cpus = 8;
	n = mgr_available_hosts(hp, 4, &acme, &small, &q, out, 4, &covered);
	assert_int_equal(n, 1);
	assert_int_equal(covered, 4);
	/* Not enough anywhere: what there is. */
	q.spec.max_cpus = 100;
	n = mgr_available_hosts(hp, 4, &acme, &small, &q, out, 4, &covered);
	assert_int_equal(n, 3);
	assert_int_equal(covered, 12);
	for (int i = 0; i < 4; i++)
		free(hs[i].slices);
}

/* Reserved CPUs (the host tessd's and the system's): their cores are no tenant's and count in
 * no capacity; a reservation naming a CPU the host lacks or leaving no core is refused. */
static void test_reserved_cpus(void **state)
{
	struct mgr_host h;
	mgr_cpuset cores01 = { 0 };
	const char *why = NULL;
	char buf[64];

	(void)state;
	/* 1 socket x 4 cores x 2 threads (siblings 4 apart), ratio 1: core k = CPUs k, k+4. */
	make_host(&h, 1, 1, 4, 2, 65536, 1.0, 1.0, true);
	snprintf(h.spec.reserved_cpus, sizeof(h.spec.reserved_cpus), "0-1");
	assert_int_equal(mgr_usable_cores(&h), 2);
	assert_int_equal(mgr_cpu_capacity(&h), 4);
	assert_int_equal(mgr_check_reserved(&h.spec, &h.topo, &why), 0);
	/* Two tenants of 2 vCPUs: cores 2 and 3, never 0 or 1 (the lowest free ones before). */
	assert_int_equal(place(&h, 1, 2, 4096), 0);
	assert_int_equal(place(&h, 2, 2, 4096), 0);
	mgr_cpuset_add(&cores01, 0);
	mgr_cpuset_add(&cores01, 1);
	mgr_cpuset_add(&cores01, 4);
	mgr_cpuset_add(&cores01, 5);
	for (uint32_t i = 0; i < h.n_slices; i++)
		assert_true(mgr_cpuset_disjoint(&h.slices[i].cpus, &cores01));
	assert_int_equal(mgr_cpuset_format(&h.slices[0].cpus, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2,6");
	assert_int_equal(mgr_cpuset_format(&h.slices[1].cpus, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "3,7");
	/* Full: no room, and a third tenant does not fit the two cores left. */
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 0);
	assert_int_equal(place(&h, 3, 2, 4096), -ENOSPC);
	free(h.slices);

	/* One thread reserved takes its whole core: partitions are whole cores. */
	make_host(&h, 1, 1, 4, 2, 65536, 1.0, 1.0, true);
	snprintf(h.spec.reserved_cpus, sizeof(h.spec.reserved_cpus), "5");
	assert_int_equal(mgr_usable_cores(&h), 3);
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 3);
	free(h.slices);

	/* Not shared: the tenant has every CPU but the reserved cores'. */
	make_host(&h, 1, 1, 4, 2, 65536, 1.0, 1.0, false);
	snprintf(h.spec.reserved_cpus, sizeof(h.spec.reserved_cpus), "0");
	assert_int_equal(place(&h, 1, 2, 4096), 0);
	assert_int_equal(mgr_cpuset_format(&h.slices[0].cpus, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1-3,5-7");
	assert_int_equal(mgr_cpu_capacity(&h), 6);
	free(h.slices);

	/* Refused: every core, or a CPU the host does not have. */
	make_host(&h, 1, 1, 4, 2, 65536, 1.0, 1.0, true);
	snprintf(h.spec.reserved_cpus, sizeof(h.spec.reserved_cpus), "0-3");
	assert_int_equal(mgr_check_reserved(&h.spec, &h.topo, &why), -ENOSPC);
	assert_non_null(strstr(why, "leaves no CPU"));
	assert_int_equal(mgr_cpu_capacity(&h), 0);
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 0);
	snprintf(h.spec.reserved_cpus, sizeof(h.spec.reserved_cpus), "0,8");
	assert_int_equal(mgr_check_reserved(&h.spec, &h.topo, &why), -EINVAL);
	assert_non_null(strstr(why, "does not have"));
	/* A host's new reservation must leave its tenants' partitions room. */
	snprintf(h.spec.reserved_cpus, sizeof(h.spec.reserved_cpus), "%s", "");
	for (int i = 0; i < 3; i++)
		assert_int_equal(place(&h, (uint32_t)i + 1, 2, 4096), 0);
	struct mgr_host_spec spec = h.spec;
	snprintf(spec.reserved_cpus, sizeof(spec.reserved_cpus), "0-1");
	assert_int_equal(mgr_host_fits(&h, &h.topo, h.memory_mb, &spec, &why), -ENOSPC);
	snprintf(spec.reserved_cpus, sizeof(spec.reserved_cpus), "0");
	assert_int_equal(mgr_host_fits(&h, &h.topo, h.memory_mb, &spec, &why), 0);
	free(h.slices);
}

/* A host's tessd takes max_ports desktop ports: placement stops there, with its reason. */
static void test_max_ports(void **state)
{
	struct mgr_host h;
	const char *why = NULL;

	(void)state;
	make_host(&h, 1, 1, 4, 2, 65536, 4.0, 1.0, true);
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 16);
	h.spec.max_ports = 3;
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 3);
	h.ports_used = 2;
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 1);
	h.ports_used = 3;
	assert_int_equal(mgr_host_room(&h, &acme, &small, &why), 0);
	assert_string_equal(why, "has no free port on its tessd (max_ports)");
	/* Lowering it below the ports in use does not fit. */
	struct mgr_host_spec spec = h.spec;
	spec.max_ports = 2;
	assert_int_equal(mgr_host_fits(&h, &h.topo, h.memory_mb, &spec, &why), -ENOSPC);
	spec.max_ports = 0;
	assert_int_equal(mgr_host_fits(&h, &h.topo, h.memory_mb, &spec, &why), 0);
	free(h.slices);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuset_text),
		cmocka_unit_test(test_cpuset_text_worst_case),
		cmocka_unit_test(test_capacity_formulas),
		cmocka_unit_test(test_failed_reserve_leaves_no_slice),
		cmocka_unit_test(test_a_partition_owes_each_size_it_had),
		cmocka_unit_test(test_quota_room),
		cmocka_unit_test(test_host_room_and_sharing),
		cmocka_unit_test(test_partitions_disjoint_whole_cores_stable),
		cmocka_unit_test(test_partitions_random),
		cmocka_unit_test(test_fig4_available_hosts),
		cmocka_unit_test(test_reserved_cpus),
		cmocka_unit_test(test_max_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
