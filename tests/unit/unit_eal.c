/* SPDX-License-Identifier: BSD-3-Clause */
#include "unit_eal.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>

static char prefix[64];

int unit_eal_init(const char *name, unsigned memory_mb, const char *const *extra)
{
	char mem[16], prefix_arg[96];
	char *argv[32] = { (char *)name, "--no-huge", "-m",
			   mem,          "--no-pci",  prefix_arg,
			   "-l",         "0",         "--log-level=lib.eal:error" };
	int argc = 9;

	/* A private prefix: test runs never share EAL runtime files. */
	snprintf(prefix, sizeof(prefix), "tess_unit_%s_%d", name, (int)getpid());
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", prefix);
	snprintf(mem, sizeof(mem), "%u", memory_mb);
	for (; extra && *extra && argc < 31; extra++)
		argv[argc++] = (char *)*extra;
	argv[argc] = NULL;
	return rte_eal_init(argc, argv) < 0 ? -1 : 0;
}

int unit_eal_cleanup(void)
{
	char cmd[160];

	rte_eal_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", prefix);
	return system(cmd) == 0 ? 0 : -1;
}
