/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessctl log level [LEVEL]: tessmgrd's log level (GET/PUT /v1/log, provider admins), or with
 * --tessd a tessd's rte_log levels (log.get, log.set) of the types matching --type.
 */
#include <stdio.h>
#include <string.h>

#include "tessctl.h"

static void mgr_human(const json_t *r)
{
	printf("level %s, output %s\n", jstr(r, "level"), jstr(r, "output"));
}

static void tessd_human(const json_t *r)
{
	const json_t *t;
	size_t i;

	json_array_foreach (json_object_get(r, "types"), i, t)
		printf("%-24s %s\n", jstr(t, "type"), jstr(t, "level"));
}

static int mgr_log(struct tessctl *ctx, const char *level, const char *output)
{
	json_t *body = NULL;

	if (level || output) {
		body = json_object();
		if (level)
			json_object_set_new(body, "level", json_string(level));
		if (output)
			json_object_set_new(body, "output", json_string(output));
	}
	return tessctl_mgr_run(ctx, body ? "PUT" : "GET", "log", body, mgr_human);
}

static int cmd_log(struct tessctl *ctx, int argc, char **argv)
{
	const char *level = NULL, *output = NULL, *type = NULL;
	bool tessd = false;

	if (strcmp(argv[0], "level") != 0)
		goto usage;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tessd") == 0)
			tessd = true;
		else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc)
			type = argv[++i];
		else if (strcmp(argv[i], "--output") == 0 && i + 1 < argc)
			output = argv[++i];
		else if (argv[i][0] != '-' && level == NULL)
			level = argv[i];
		else
			goto usage;
	}
	if (tessd && output) {
		fprintf(stderr, "tessctl: a tessd's log output is not changed at run time\n");
		return TESSCTL_USAGE;
	}
	if (!tessd && type) {
		fprintf(stderr, "tessctl: --type goes with --tessd (tessmgrd has one level)\n");
		return TESSCTL_USAGE;
	}
	if (!tessd)
		return mgr_log(ctx, level, output);
	if (level == NULL)
		return tessctl_run(ctx, "log.get",
				   type ? json_pack("{s:s}", "type", type) : json_object(),
				   tessd_human);
	return tessctl_run(ctx, "log.set",
			   json_pack("{s:s, s:s}", "level", level, "type", type ? type : "tess.*"),
			   tessd_human);
usage:
	fprintf(stderr, "tessctl: log level [LEVEL] [--output O] | log level [LEVEL] --tessd "
			"[--type PATTERN]\n");
	return TESSCTL_USAGE;
}

static const struct tessctl_cmd log_cmds[] = {
	{ "log", "log level [LEVEL] [--output O] | log level [LEVEL] --tessd [--type PATTERN]", 1,
	  6, cmd_log,
	  "log level (err, warning, notice, info, debug) of tessmgrd, or with --tessd of a "
	  "tessd's rte_log types (default tess.*)" },
	{ 0 },
};
TESSCTL_COMMANDS(log_cmds)
