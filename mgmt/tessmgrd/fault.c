/* SPDX-License-Identifier: BSD-3-Clause */
#include "fault.h"
#include "tlog.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef TESS_FAULT_POINTS
/* The linker's bounds of the section; weak: a program without points has no section. */
extern const char *const __start_mgr_fault_points[] __attribute__((weak));
extern const char *const __stop_mgr_fault_points[] __attribute__((weak));

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool mgr_fault_list(void)
{
	size_t n = (size_t)(__stop_mgr_fault_points - __start_mgr_fault_points);
	const char **v = calloc(n + 1, sizeof(*v));

	if (v == NULL)
		return false;
	memcpy(v, __start_mgr_fault_points, n * sizeof(*v));
	qsort(v, n, sizeof(*v), by_name);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			printf("%s\n", v[i]);
	free(v);
	return true;
}

/* The action TESS_FAULT gives point ("kill", "fail", "pause"), or NULL. */
static const char *armed(const char *point, char *action, size_t len)
{
	const char *s = getenv("TESS_FAULT");
	size_t n = strlen(point);

	while (s && *s) {
		const char *end = strchr(s, ','), *colon;
		size_t item = end ? (size_t)(end - s) : strlen(s);
		colon = memchr(s, ':', item);
		if (colon && (size_t)(colon - s) == n && strncmp(s, point, n) == 0) {
			snprintf(action, len, "%.*s", (int)(item - n - 1), colon + 1);
			return action;
		}
		s = end ? end + 1 : NULL;
	}
	return NULL;
}

int mgr_fault(const char *point, char *err, size_t len)
{
	char action[16];

	if (armed(point, action, sizeof(action)) == NULL)
		return 0;
	/* Said first, unbuffered: tests check that the point they armed was reached. */
	tlog(LOG_NOTICE, NULL, "fault point %s: %s", point, action);
	if (strcmp(action, "kill") == 0) {
		raise(SIGKILL);
		_exit(137); /* not reached */
	}
	/* Widens a race window for a test: what happens meanwhile (a reload, a delete). */
	if (strcmp(action, "pause") == 0) {
		sleep(2);
		return 0;
	}
	if (err && len)
		snprintf(err, len, "fault injected at %s", point);
	return -EIO;
}
#else
bool mgr_fault_list(void)
{
	return false;
}
#endif
