/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessctl metrics: tessd's counters (stats.get) in Prometheus' text
 * exposition format 0.0.4, for node_exporter's textfile collector; the
 * walk is prom_stats_format (dataplane/prom_stats.c), which tessd's own
 * /metrics listener serves too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prom.h"
#include "tessctl.h"

/* tessctl metrics [--output FILE]: FILE.tmp written, then renamed, as the collector wants. */
static int cmd_metrics(struct tessctl *ctx, int argc, char **argv)
{
	const char *path = NULL;
	char tmp[4096];
	json_t *r;
	FILE *f = stdout;
	int rc;

	if (argc == 2 && strcmp(argv[0], "--output") == 0) {
		path = argv[1];
	} else if (argc) {
		fprintf(stderr, "tessctl: metrics takes --output FILE, not '%s'\n", argv[0]);
		return TESSCTL_USAGE;
	}
	rc = tessctl_call(ctx, "stats.get", NULL, &r);
	if (rc < 0)
		return rc;
	if (path) {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
			json_decref(r);
			fprintf(stderr, "tessctl: %s: path too long\n", path);
			return -ENAMETOOLONG;
		}
		f = fopen(tmp, "w");
		if (f == NULL) {
			rc = -errno;
			json_decref(r);
			fprintf(stderr, "tessctl: %s: %s\n", tmp, strerror(-rc));
			return rc;
		}
	}
	rc = prom_stats_format(r, f);
	json_decref(r);
	if (path) {
		if (fflush(f) != 0 || fsync(fileno(f)) != 0)
			rc = rc ? rc : -errno;
		if (fclose(f) != 0)
			rc = rc ? rc : -errno;
		if (rc == 0 && rename(tmp, path) != 0)
			rc = -errno;
		if (rc < 0) {
			fprintf(stderr, "tessctl: %s: %s\n", path, strerror(-rc));
			unlink(tmp);
		}
	} else if (fflush(stdout) != 0) {
		rc = -errno;
	}
	return rc;
}

static const struct tessctl_cmd metrics_cmds[] = {
	{ "metrics", "metrics [--output FILE]", 0, 2, cmd_metrics,
	  "tessd's counters in Prometheus' text format (FILE: written atomically)" },
	{ 0 },
};
TESSCTL_COMMANDS(metrics_cmds)
