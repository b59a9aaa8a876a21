/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault points for tests (meson -Dfault_points=true, on in the Makefile's test builds):
 * TESS_FAULT="point:fail|once|kill[,...]" makes dp_fault(point) return -EIO (fail; once:
 * the first time only) or kill the process with SIGKILL (kill). Compiled out otherwise:
 * dp_fault() is 0.
 * The points are listed in README ("Reliability").
 */
#ifndef TESS_FAULT_H
#define TESS_FAULT_H

#include <stdbool.h>

#ifdef TESS_FAULT_INJECTION
int dp_fault(const char *point);
/* A point past which nothing can fail (the change is published): kill only. */
void dp_fault_kill(const char *point);
#else
static inline int dp_fault(const char *point)
{
	(void)point;
	return 0;
}
static inline void dp_fault_kill(const char *point)
{
	(void)point;
}
#endif
/* Whether the fault points are compiled in (status shows it). */
bool dp_fault_enabled(void);

#endif
