/* SPDX-License-Identifier: BSD-3-Clause */
#include "fault.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

bool dp_fault_enabled(void)
{
#ifdef TESS_FAULT_INJECTION
	return true;
#else
	return false;
#endif
}

#ifdef TESS_FAULT_INJECTION
/* The "once" entries of TESS_FAULT (by their place in it) that have failed already. */
static uint64_t fired_once;

/*
 * The action TESS_FAULT gives point: 'f' (fail), 'k' (kill) or 0. A "once"
 * entry fails the first pass that may fail (may_fail), then no more.
 */
static char fault_action(const char *point, bool may_fail)
{
	const char *spec = getenv("TESS_FAULT");
	size_t n = strlen(point);
	unsigned k = 0;

	for (const char *p = spec; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL, k++) {
		if (strncmp(p, point, n) != 0 || p[n] != ':')
			continue;
		if (strncmp(p + n + 1, "fail", 4) == 0)
			return 'f';
		if (strncmp(p + n + 1, "kill", 4) == 0)
			return 'k';
		/* The first time only: what a retry must then get through. */
		if (strncmp(p + n + 1, "once", 4) == 0 && may_fail && k < 64 &&
		    !(__atomic_fetch_or(&fired_once, 1ull << k, __ATOMIC_RELAXED) & 1ull << k))
			return 'f';
	}
	return 0;
}

int dp_fault(const char *point)
{
	switch (fault_action(point, true)) {
	case 'f':
		DP_LOG(WARNING, "fault injected at %s: fail", point);
		return -EIO;
	case 'k':
		DP_LOG(WARNING, "fault injected at %s: kill", point);
		kill(getpid(), SIGKILL);
		pause();
		return -EIO;
	default:
		return 0;
	}
}

void dp_fault_kill(const char *point)
{
	if (fault_action(point, false) == 'k')
		dp_fault(point);
}
#endif
