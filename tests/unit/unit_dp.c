/* SPDX-License-Identifier: BSD-3-Clause */
#include "unit_dp.h"

#include <errno.h>

#include <rte_cycles.h>

#include "dp.h"
#include "rcu.h"
#include "unit_eal.h"

int unit_dp_setup(void **state)
{
	(void)state;
	if (unit_eal_init(program_invocation_short_name, 512, NULL) < 0 || dp_rcu_init(1) != 0)
		return -1;
	dp_tsc_hz = rte_get_tsc_hz();
	return 0;
}

int unit_dp_teardown(void **state)
{
	(void)state;
	dp_rcu_fini();
	return unit_eal_cleanup();
}
