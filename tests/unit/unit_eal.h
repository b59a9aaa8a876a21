/* SPDX-License-Identifier: BSD-3-Clause */
/* EAL for unit tests: no hugepages, no PCI, one lcore, a private runtime directory. */
#ifndef TESS_UNIT_EAL_H
#define TESS_UNIT_EAL_H

/* Starts EAL with memory_mb of plain memory and extra arguments (NULL-terminated, or NULL). */
int unit_eal_init(const char *name, unsigned memory_mb, const char *const *extra);
/* Stops EAL and removes its runtime directory; 0 or -1. */
int unit_eal_cleanup(void);

#endif
