/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Named fault points for crash-safety tests (review 1.4, 1.5; issue 14).
 * Compiled in only with meson -Dfault_points=true (the Makefile's test
 * builds); otherwise MGR_FAULT() is 0 and costs nothing.
 *
 * TESS_FAULT=POINT:ACTION[,POINT:ACTION...] in tessmgrd's environment arms
 * points: "kill" makes tessmgrd die there at once (SIGKILL, as a crash
 * would), "fail" makes the step fail with an error, "pause" sleeps 2 s there
 * (a race window a test widens). `tessmgrd --fault-points`
 * lists every point compiled in, so tests enumerate them.
 */
#ifndef TESS_MGR_FAULT_H
#define TESS_MGR_FAULT_H

#include <stdbool.h>
#include <stddef.h>

#ifdef TESS_FAULT_POINTS
/* 0, or -EIO with err filled when the point is armed to fail (err may be NULL). */
int mgr_fault(const char *point, char *err, size_t len);
/*
 * Each use also puts the point's name in section mgr_fault_points, so that
 * the list of points is complete by construction.
 */
#define MGR_FAULT(point, err, len)                                                  \
	({                                                                          \
		static const char *const mgr_fault_name_                            \
			__attribute__((section("mgr_fault_points"), used)) = point; \
		mgr_fault(mgr_fault_name_, err, len);                               \
	})
#else
/* A call, not an expression: a point used as a statement (its result unused) compiles too. */
static inline int mgr_fault_off(const char *point, char *err, size_t len)
{
	(void)point;
	(void)err;
	(void)len;
	return 0;
}
#define MGR_FAULT(point, err, len) mgr_fault_off(point, err, len)
#endif

/* Prints the compiled-in points, one a line, sorted; false if none are compiled in. */
bool mgr_fault_list(void);

#endif
