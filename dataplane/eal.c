/* SPDX-License-Identifier: BSD-3-Clause */
#include "eal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "log.h"

#define HUGEPAGE_SYSFS "/sys/kernel/mm/hugepages"
#define EAL_MAX_ARGS   (TESS_MAX_WORKERS + 80)

const char dp_no_huge_disables[] =
	"net_virtio_user ports (their backend must map tessd's memory) and secondary "
	"processes such as dpdk-pdump";

static uint64_t free_hugepage_bytes(void)
{
	DIR *d = opendir(HUGEPAGE_SYSFS);
	struct dirent *e;
	uint64_t total = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		unsigned long kb, n;
		char path[512];
		FILE *f;

		if (sscanf(e->d_name, "hugepages-%lukB", &kb) != 1)
			continue;
		snprintf(path, sizeof(path), HUGEPAGE_SYSFS "/%s/free_hugepages", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fscanf(f, "%lu", &n) == 1)
			total += (uint64_t)n * kb * 1024;
		fclose(f);
	}
	closedir(d);
	return total;
}

static bool hugetlbfs_mounted(void)
{
	FILE *f = fopen("/proc/mounts", "r");
	char line[1024];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " hugetlbfs ") != NULL;
	fclose(f);
	return found;
}

static int check_cpu(const cpu_set_t *set, unsigned cpu, const char *path, char *err, size_t len)
{
	if (cpu < CPU_SETSIZE && CPU_ISSET(cpu, set))
		return 0;
	snprintf(err, len,
		 "%s: CPU %u is not available to tessd (it may use %d CPUs: see taskset/cpuset)",
		 path, cpu, CPU_COUNT(set));
	return -EINVAL;
}

int dp_eal_check(const struct tessd_cfg *cfg, struct dp_eal_info *info, char *err, size_t len)
{
	const struct tessd_eal_cfg *e = &cfg->eal;
	uint64_t need = (uint64_t)e->memory_mb << 20, have;
	cpu_set_t set;
	char path[64];
	bool mounted;
	int rc;

	memset(info, 0, sizeof(*info));
	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		snprintf(err, len, "cannot read CPU affinity: %s", strerror(errno));
		return -errno;
	}
	rc = check_cpu(&set, e->main_cpu, "/eal/main_cpu", err, len);
	for (uint32_t i = 0; rc == 0 && i < e->n_workers; i++) {
		snprintf(path, sizeof(path), "/eal/workers/%u", i);
		rc = check_cpu(&set, e->workers[i], path, err, len);
	}
	if (rc < 0)
		return rc;

	have = free_hugepage_bytes();
	mounted = e->in_memory || hugetlbfs_mounted();
	info->hugepages = e->hugepages != TESS_HUGEPAGES_OFF && have >= need && mounted;
	if (!info->hugepages) {
		if (e->hugepages == TESS_HUGEPAGES_OFF)
			snprintf(info->why_no_huge, sizeof(info->why_no_huge),
				 "eal.hugepages is \"off\"");
		else if (!mounted)
			snprintf(info->why_no_huge, sizeof(info->why_no_huge),
				 "no hugetlbfs is mounted");
		else
			snprintf(info->why_no_huge, sizeof(info->why_no_huge),
				 "%" PRIu64 " MiB of hugepages free, eal.memory_mb needs %u",
				 have >> 20, e->memory_mb);
		if (e->hugepages == TESS_HUGEPAGES_ON) {
			snprintf(err, len, "/eal/hugepages: \"on\" but %s", info->why_no_huge);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < cfg->n_ports; i++) {
			if (strncmp(cfg->ports[i].devargs, "net_virtio_user", 15) == 0) {
				snprintf(err, len,
					 "/ports/%u/devargs: net_virtio_user needs hugepages (its "
					 "backend maps tessd's memory), and tessd would run "
					 "without them: %s",
					 i, info->why_no_huge);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Whether the operator's own EAL arguments already choose which PCI devices to probe. */
static bool args_choose_pci(const struct tessd_eal_cfg *e)
{
	static const char *const opts[] = { "-a", "-b", "--allow", "--block", "--no-pci", NULL };

	for (uint32_t i = 0; i < e->n_args; i++)
		for (const char *const *o = opts; *o; o++)
			if (strncmp(e->args[i], *o, strlen(*o)) == 0)
				return true;
	return false;
}

int dp_eal_init(const struct tessd_cfg *cfg, const char *prog, const struct dp_eal_info *info,
		char *err, size_t len)
{
	const struct tessd_eal_cfg *e = &cfg->eal;
	char lcores[TESS_MAX_WORKERS * 12 + 16], mem[16];
	char *argv[EAL_MAX_ARGS];
	int argc = 0, rc;
	size_t used;

	used = (size_t)snprintf(lcores, sizeof(lcores), "0@%u", e->main_cpu);
	for (uint32_t i = 0; i < e->n_workers && used < sizeof(lcores); i++)
		used += (size_t)snprintf(lcores + used, sizeof(lcores) - used, ",%u@%u", i + 1,
					 e->workers[i]);
	snprintf(mem, sizeof(mem), "%u", e->memory_mb);

	argv[argc++] = (char *)prog;
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	argv[argc++] = "-m";
	argv[argc++] = mem;
	argv[argc++] = "--file-prefix";
	argv[argc++] = (char *)e->file_prefix;
	/* --no-huge implies legacy memory, which EAL refuses together with --in-memory. */
	if (e->in_memory && info->hugepages)
		argv[argc++] = "--in-memory";
	if (!info->hugepages)
		argv[argc++] = "--no-huge";
	if (!args_choose_pci(e)) {
		/*
		 * Probe no PCI device at start: ports are hot-plugged from their
		 * devargs, so tessd never grabs a NIC the config does not name.
		 */
		argv[argc++] = "-a";
		argv[argc++] = "0000:00:00.0";
	}
	for (uint32_t i = 0; i < e->n_args; i++)
		argv[argc++] = (char *)e->args[i];
	argv[argc] = NULL;

	if (!info->hugepages)
		DP_LOG(NOTICE, "running with --no-huge (%s); disabled: %s", info->why_no_huge,
		       dp_no_huge_disables);
	for (uint32_t i = 0; i < e->n_workers; i++) {
		bool shared = e->workers[i] == e->main_cpu;
		for (uint32_t j = 0; j < i; j++)
			shared |= e->workers[i] == e->workers[j];
		if (shared)
			DP_LOG(NOTICE,
			       "worker %u shares CPU %u with another lcore: they split its time", i,
			       e->workers[i]);
	}

	/*
	 * systemd's RuntimeDirectory= (the unit's "tessera dpdk") puts every directory in
	 * RUNTIME_DIRECTORY, ':'-joined, and EAL takes that variable as the one parent of its
	 * runtime directory: "/run/tessera:/run/dpdk/dpdk" cannot be made and EAL stops.
	 * Without it EAL uses /var/run/dpdk, which the unit's RuntimeDirectory=dpdk is and
	 * where dpdk-dumpcap and dpdk-telemetry.py look.
	 */
	unsetenv("RUNTIME_DIRECTORY");
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		snprintf(err, len, "DPDK EAL initialisation failed: %s (EAL's own messages above)",
			 rte_strerror(rte_errno));
		return -rte_errno;
	}
	if (rte_lcore_count() != e->n_workers + 1) {
		snprintf(err, len, "/eal/args: EAL runs %u lcores, the config asks for %u workers",
			 rte_lcore_count(), e->n_workers);
		rte_eal_cleanup();
		return -EINVAL;
	}
	return 0;
}
