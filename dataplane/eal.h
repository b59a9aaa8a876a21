/* SPDX-License-Identifier: BSD-3-Clause */
/* EAL set-up from the config: lcores, memory, hugepages or --no-huge. */
#ifndef TESS_EAL_H
#define TESS_EAL_H

#include <stdbool.h>
#include <stddef.h>

#include "tessd_config.h"

struct dp_eal_info {
	bool hugepages;
	char why_no_huge[160]; /* when !hugepages */
};

/* Decides hugepages vs --no-huge and checks ports and CPUs against it, without EAL. */
int dp_eal_check(const struct tessd_cfg *cfg, struct dp_eal_info *info, char *err, size_t len);
int dp_eal_init(const struct tessd_cfg *cfg, const char *prog, const struct dp_eal_info *info,
		char *err, size_t len);

/* What tessd cannot do without hugepages, for logs and `status`. */
extern const char dp_no_huge_disables[];

#endif
