/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl commands of the cross-connect (linked into tessctl, not tessd). */
#include <stdio.h>

#include "table.h"
#include "tessctl.h"

static void xc_human(const json_t *r)
{
	printf("%s <-> %s\n", jstr(r, "a"), jstr(r, "b"));
}

static void xc_list_human(const json_t *r)
{
	static const char *const h[] = { "A", "B", NULL };
	struct table *t = table_new(h);
	size_t i;
	json_t *x;

	json_array_foreach (r, i, x) {
		table_cell(t, "%s", jstr(x, "a"));
		table_cell(t, "%s", jstr(x, "b"));
	}
	table_print(t, stdout);
	table_free(t);
}

static int cmd_xc_list(struct tessctl *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tessctl_run(ctx, "xconnect.list", NULL, xc_list_human);
}

static const struct tessctl_cmd xc_cmds[] = {
	{ .words = "xconnect add",
	  .method = "xconnect.add",
	  .pos = { "a", "b" },
	  .human = xc_human,
	  .help = "patch two ports together" },
	{ .words = "xconnect del",
	  .method = "xconnect.del",
	  .pos = { "port" },
	  .human = xc_human,
	  .help = "remove a port's cross-connect" },
	{ "xconnect list", NULL, 0, 0, cmd_xc_list, "list cross-connects" },
	{ 0 },
};
TESSCTL_COMMANDS(xc_cmds)
