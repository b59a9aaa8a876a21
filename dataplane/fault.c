/* SPDX-License-Identifier: BSD-3-Clause */
#include "fault.h"

#include <errno.h>
#include <signal.h>
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
/* The action TESS_FAULT gives point: 'f' (fail), 'k' (kill) or 0. */
static char fault_action(const char *point)
{
	const char *spec = getenv("TESS_FAULT");
	size_t n = strlen(point);

	for (const char *p = spec; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (strncmp(p, point, n) != 0 || p[n] != ':')
			continue;
		if (strncmp(p + n + 1, "fail", 4) == 0)
			return 'f';
		if (strncmp(p + n + 1, "kill", 4) == 0)
			return 'k';
	}
	return 0;
}

int dp_fault(const char *point)
{
	switch (fault_action(point)) {
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
	if (fault_action(point) == 'k')
		dp_fault(point);
}
#endif
