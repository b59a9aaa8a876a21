/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl: the operator CLI. Human tables by default, --json for scripts. */
#include "tessctl.h"

#include "opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_int_t jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

void tessctl_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);

	if (s) {
		puts(s);
		free(s);
	}
}

int tessctl_call(struct tessctl *ctx, const char *method, json_t *params, json_t **result)
{
	struct ctl_error err = { 0 };
	int rc;

	if (!ctx->connected) {
		rc = ctl_client_open(&ctx->client, ctx->socket, ctx->timeout_ms, &err);
		if (rc < 0) {
			json_decref(params);
			fprintf(stderr, "tessctl: %s\n", err.message);
			return rc;
		}
		ctx->connected = true;
	}
	rc = ctl_client_call(&ctx->client, method, params, result, &err);
	if (rc < 0) {
		if (ctx->json) {
			json_t *e = json_pack("{s:{s:i, s:s, s:s}}", "error", "code", err.code,
					      "message", err.message, "path", err.path);
			tessctl_print_json(e);
			json_decref(e);
		}
		fprintf(stderr, "tessctl: error: %s%s%s%s\n", err.message,
			err.path[0] ? " (at " : "", err.path, err.path[0] ? ")" : "");
	}
	return rc;
}

static const struct tessctl_cmd *const tables[] = { tessd_cmds, switch_cmds, router_cmds, mgr_cmds,
						    NULL };

int tessctl_run(struct tessctl *ctx, const char *method, json_t *params,
		void (*human)(const json_t *result))
{
	json_t *r;
	int rc = tessctl_call(ctx, method, params, &r);

	if (rc < 0)
		return rc;
	if (ctx->json || human == NULL)
		tessctl_print_json(r);
	else
		human(r);
	json_decref(r);
	return 0;
}

int tessctl_run_opts(struct tessctl *ctx, const char *method, json_t *params, int argc, char **argv,
		     const struct opt_map *map, void (*human)(const json_t *r))
{
	if (opts_parse(argc, argv, map, params) < 0) {
		json_decref(params);
		return TESSCTL_USAGE;
	}
	return tessctl_run(ctx, method, params, human);
}

void tessctl_done(const json_t *r)
{
	(void)r;
	printf("ok\n");
}

void tessctl_flushed(const json_t *r)
{
	printf("%" JSON_INTEGER_FORMAT " entries flushed\n", jint(r, "flushed"));
}

const char *tessctl_join(const json_t *list, const char *sep, char *buf, size_t len)
{
	size_t used = 0, i;
	const json_t *v;

	buf[0] = '\0';
	json_array_foreach ((json_t *)list, i, v) {
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? sep : "",
						 json_string_value(v));
	}
	return used ? buf : "-";
}

const char *tessctl_join_counts(const json_t *obj, char *buf, size_t len)
{
	size_t used = 0;
	const char *k;
	json_t *v;

	buf[0] = '\0';
	json_object_foreach ((json_t *)obj, k, v) {
		if (json_integer_value(v) && used < len)
			used += (size_t)snprintf(buf + used, len - used,
						 "%s%s=%" JSON_INTEGER_FORMAT, used ? " " : "", k,
						 json_integer_value(v));
	}
	return used ? buf : "-";
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tessctl [-s SOCKET] [-m URL -T TOKEN] [--json] [-t SECONDS] COMMAND "
		"[ARGS]\n"
		"  -s, --socket PATH   tessd control socket (default $TESSD_SOCKET or %s)\n"
		"  -m, --mgr URL       tessmgrd (default $TESSMGR_URL or http://127.0.0.1:8470)\n"
		"  -T, --token TOKEN   tessmgrd bearer token (default $TESSMGR_TOKEN)\n"
		"  -j, --json          print results as JSON\n"
		"  -t, --timeout SEC   wait this long for an answer (default 10)\n"
		"commands:\n",
		CTL_DEFAULT_SOCKET);
	for (const struct tessctl_cmd *const *t = tables; *t; t++) {
		for (const struct tessctl_cmd *c = *t; c->words; c++) {
			const char *u = c->args ? c->args : c->words;
			if (strlen(u) > 32)
				fprintf(f, "  %s\n  %-32s %s\n", u, "", c->help);
			else
				fprintf(f, "  %-32s %s\n", u, c->help);
		}
	}
	fputs(tessctl_port_options, f);
}

/* Finds the longest command whose words start argv. */
static const struct tessctl_cmd *match(int argc, char **argv, int *used)
{
	const struct tessctl_cmd *best = NULL;
	int best_n = 0;

	for (const struct tessctl_cmd *const *t = tables; *t; t++)
		for (const struct tessctl_cmd *c = *t; c->words; c++) {
			char words[128];
			int n = 0;
			bool ok = true;

			snprintf(words, sizeof(words), "%s", c->words);
			for (char *save, *w = strtok_r(words, " ", &save); w;
			     w = strtok_r(NULL, " ", &save)) {
				if (n >= argc || strcmp(argv[n], w) != 0) {
					ok = false;
					break;
				}
				n++;
			}
			if (ok && n > best_n) {
				best = c;
				best_n = n;
			}
		}
	*used = best_n;
	return best;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "mgr", required_argument, NULL, 'm' },
		{ "token", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct tessctl ctx = { .timeout_ms = 10000 };
	const struct tessctl_cmd *cmd;
	int opt, used, rc;
	char *end;

	ctx.socket = getenv("TESSD_SOCKET");
	if (ctx.socket == NULL || ctx.socket[0] == '\0')
		ctx.socket = CTL_DEFAULT_SOCKET;
	ctx.mgr_url = getenv("TESSMGR_URL");
	if (ctx.mgr_url == NULL || ctx.mgr_url[0] == '\0')
		ctx.mgr_url = "http://127.0.0.1:8470";
	ctx.token = getenv("TESSMGR_TOKEN");
	/* "+": options end at the command, so its own flags (stats --reset) pass through. */
	while ((opt = getopt_long(argc, argv, "+s:jt:m:T:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			ctx.mgr_url = optarg;
			break;
		case 'T':
			ctx.token = optarg;
			break;
		case 's':
			ctx.socket = optarg;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 't': {
			double t = strtod(optarg, &end);
			if (*end || !(t > 0 && t <= 3600)) {
				fprintf(stderr,
					"tessctl: --timeout takes seconds (0 to 3600), not '%s'\n",
					optarg);
				return 2;
			}
			ctx.timeout_ms = (int)(t * 1000);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return 2;
	}
	cmd = match(argc, argv, &used);
	if (cmd == NULL) {
		fprintf(stderr, "tessctl: unknown command '%s'\n", argv[0]);
		usage(stderr);
		return 2;
	}
	argc -= used;
	argv += used;
	if (argc < cmd->min_args || argc > cmd->max_args) {
		fprintf(stderr, "tessctl: usage: tessctl %s\n", cmd->args ? cmd->args : cmd->words);
		return 2;
	}
	rc = cmd->fn(&ctx, argc, argv);
	if (ctx.connected)
		ctl_client_close(&ctx.client);
	return rc == 0 ? 0 : rc > 0 ? rc : 1;
}
