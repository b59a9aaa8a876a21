/* SPDX-License-Identifier: BSD-3-Clause */
/* tessctl: the operator CLI. Human tables by default, --json for scripts. */
#include "tessctl.h"

#include "http_client.h"
#include "schema_opts.h"

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

#define MAX_TABLES 16

static const struct tessctl_cmd help_cmds[];
/* tessd's core commands, the modules' (registered before main), tessmgrd's, help. */
const struct tessctl_cmd *tessctl_tables[MAX_TABLES + 4] = { tessd_cmds };
static unsigned n_tables = 1;

void tessctl_register(const struct tessctl_cmd *table)
{
	/* A constructor cannot fail: a build with too many modules stops at once. */
	if (n_tables == MAX_TABLES + 1)
		abort();
	tessctl_tables[n_tables++] = table;
}

/* Closes the list once every module has registered. */
static void tables_close(void)
{
	tessctl_tables[n_tables++] = mgr_cmds;
	tessctl_tables[n_tables++] = help_cmds;
	tessctl_tables[n_tables] = NULL;
}

int tessctl_run(struct tessctl *ctx, const char *method, json_t *params,
		void (*human)(const json_t *result))
{
	json_t *r;
	int rc = tessctl_call(ctx, method, params, &r);

	return rc < 0 ? rc : tessctl_show(ctx, r, human);
}

int tessctl_show(const struct tessctl *ctx, json_t *r, void (*human)(const json_t *result))
{
	if (ctx->json || human == NULL)
		tessctl_print_json(r);
	else
		human(r);
	json_decref(r);
	return 0;
}

/* tessd's description of a method: {method, summary, params, partial}. */
static int method_desc(struct tessctl *ctx, const char *method, json_t **desc)
{
	return tessctl_call(ctx, "help", json_pack("{s:s}", "method", method), desc);
}

int tessctl_run_schema(struct tessctl *ctx, const char *words, const char *method,
		       const char *const *skip, json_t *params, int argc, char **argv,
		       void (*human)(const json_t *r))
{
	json_t *desc;
	int rc = method_desc(ctx, method, &desc);

	if (rc < 0) {
		json_decref(params);
		return rc;
	}
	const json_t *schema = json_object_get(desc, "params");
	bool partial = json_is_true(json_object_get(desc, "partial"));
	if (sopts_parse(schema, skip, sopts_tessd_aliases, argc, argv, params) < 0 ||
	    (!partial && sopts_check_required(schema, params, words) < 0)) {
		json_decref(desc);
		json_decref(params);
		return TESSCTL_USAGE;
	}
	json_decref(desc);
	return tessctl_run(ctx, method, params, human);
}

int tessctl_n_pos(const struct tessctl_cmd *c)
{
	int n = 0;

	while (n < (int)(sizeof(c->pos) / sizeof(c->pos[0])) && c->pos[n])
		n++;
	return n;
}

/* A command made of a method: positional arguments, then the schema's options. */
static int run_generic(struct tessctl *ctx, const struct tessctl_cmd *c, int argc, char **argv)
{
	json_t *params = json_object();
	int n = tessctl_n_pos(c);

	for (int i = 0; i < n; i++)
		json_object_set_new(params, c->pos[i], json_string(argv[i]));
	return tessctl_run_schema(ctx, c->words, c->method, c->pos, params, argc - n, argv + n,
				  c->human);
}

/* " NAME DEVARGS": the metas of c's positional arguments, appended to buf. */
static void pos_metas(const struct tessctl_cmd *c, char *buf, size_t len)
{
	for (int i = 0; i < tessctl_n_pos(c); i++) {
		char meta[64];
		size_t used = strlen(buf);
		sopts_meta(meta, sizeof(meta), c->pos[i]);
		snprintf(buf + used, len - used, " %s", meta);
	}
}

/* "port add NAME DEVARGS": the usage line of a command, without its options. */
void tessctl_synopsis(const struct tessctl_cmd *c, char *buf, size_t len)
{
	json_t *params;

	snprintf(buf, len, "%s", c->args ? c->args : c->words);
	if (c->args == NULL)
		pos_metas(c, buf, len);
	if (c->schema == NULL)
		return;
	/* tessmgrd's add|set (or schema_verb): the schema's required keys, then tessctl's own
	 * options. */
	snprintf(buf + strlen(buf), len - strlen(buf), " | %s",
		 c->schema_verb ? c->schema_verb : "add|set");
	pos_metas(c, buf, len);
	if ((params = cfg_schema_json(c->schema)) != NULL)
		sopts_synopsis(buf, len, params, c->pos);
	json_decref(params);
	snprintf(buf + strlen(buf), len - strlen(buf), "%s%s [options]", c->schema_args ? " " : "",
		 c->schema_args ? c->schema_args : "");
}

/* A command's usage with the options of its method, as tessd's schema gives them. */
static int command_usage(struct tessctl *ctx, const struct tessctl_cmd *c, FILE *f)
{
	char line[512];
	json_t *desc;
	int rc;

	tessctl_synopsis(c, line, sizeof(line));
	if (c->method == NULL) {
		fprintf(f, "usage: tessctl %s\n  %s\n", line, c->help);
		if (c->schema && (desc = cfg_schema_json(c->schema)) != NULL) {
			if (c->schema_verb) /* rates set: today's object with these changed */
				fprintf(f,
					"options of %s (tessmgrd checks them; only those given "
					"change):\n",
					c->schema_verb);
			else
				fprintf(f, "options of add and set (tessmgrd checks them; set "
					   "replaces the whole object):\n");
			sopts_usage(f, desc, c->pos, tessctl_mgr_aliases);
			json_decref(desc);
		}
		return 0;
	}
	rc = method_desc(ctx, c->method, &desc);
	if (rc < 0)
		return rc;
	const json_t *schema = json_object_get(desc, "params");
	if (c->fn == NULL) {
		sopts_synopsis(line, sizeof(line), schema, c->pos);
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " [options]");
	}
	fprintf(f, "usage: tessctl %s\n  %s\n  tessd method %s: %s\noptions:\n", line, c->help,
		c->method, jstr(desc, "summary"));
	sopts_usage(f, schema, c->pos, sopts_tessd_aliases);
	if (json_is_true(json_object_get(desc, "partial")))
		fprintf(f, "  (only the options given change)\n");
	json_decref(desc);
	return 0;
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

/* The options before the command: getopt's table, usage, the man page and completion. */
const struct tessctl_opt tessctl_opts[] = {
	{ "socket", 's', true, "PATH",
	  "tessd control socket (default $TESSD_SOCKET or " CTL_DEFAULT_SOCKET ")" },
	{ "mgr", 'm', true, "URL",
	  "tessmgrd, http:// or https:// (default $TESSMGR_URL or http://127.0.0.1:8470; IPv6: "
	  "https://[::1]:8470)" },
	{ "token", 'T', true, "TOKEN", "tessmgrd bearer token (default $TESSMGR_TOKEN)" },
	{ "token-file", 'F', false, "F",
	  "the token from the first line of file F (unlike -T, not in the command line other "
	  "users can read)" },
	{ "cacert", 'C', false, "FILE",
	  "trust the CA certificates of FILE (PEM) for https:// (default $TESSMGR_CACERT, else the "
	  "system's)" },
	{ "json", 'j', true, NULL, "print results as JSON" },
	{ "timeout", 't', true, "SEC", "wait this long for an answer (default 10)" },
	{ "version", 'V', true, NULL, "print tessctl's version and exit" },
	{ "help", 'h', true, NULL, "this help" },
	{ 0 },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tessctl [-s SOCKET] [-m URL -T TOKEN] [--json] [-t SECONDS] COMMAND "
		   "[ARGS]\n");
	for (const struct tessctl_opt *o = tessctl_opts; o->name; o++) {
		char flags[64];
		snprintf(flags, sizeof(flags), "%c%c%s --%s %s", o->has_short ? '-' : ' ',
			 o->has_short ? o->key : ' ', o->has_short ? "," : " ", o->name,
			 o->arg ? o->arg : "");
		fprintf(f, "  %-20s", flags);
		/* The help wrapped at 80 columns, under itself. */
		for (const char *h = o->help, *end; *h; h = end + (*end == ' ')) {
			end = h + strlen(h);
			if (end - h > 58)
				for (end = h + 58; end > h && *end != ' '; end--)
					;
			if (end == h)
				end = h + strlen(h);
			fprintf(f, "%s%.*s\n", h == o->help ? "" : "                      ",
				(int)(end - h), h);
		}
	}
	fprintf(f, "commands:\n");
	for (const struct tessctl_cmd *const *t = tessctl_tables; *t; t++) {
		for (const struct tessctl_cmd *c = *t; c->words; c++) {
			char u[512];
			tessctl_synopsis(c, u, sizeof(u));
			if (strlen(u) > 32)
				fprintf(f, "  %s\n  %-32s %s\n", u, "", c->help);
			else
				fprintf(f, "  %-32s %s\n", u, c->help);
		}
	}
	fputs("The options of a tessd command come from tessd's schema:\n"
	      "  tessctl COMMAND --help, tessctl help METHOD\n",
	      f);
}

/* The first line of path, without its line end: 0, or -1 with the error printed. */
static int read_token(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "tessctl: --token-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0 || n == len - 1) {
		fprintf(stderr, "tessctl: --token-file %s: %s\n", path,
			n ? "the first line is too long for a token"
			  : "no token on the first line");
		return -1;
	}
	return 0;
}

static void method_human(const json_t *d)
{
	const json_t *fields = json_object_get(json_object_get(d, "params"), "fields"), *f;
	size_t i;

	printf("%s: %s\n", jstr(d, "method"), jstr(d, "summary"));
	if (json_array_size(fields) == 0)
		printf("params: none\n");
	else
		printf("params%s:\n", json_is_true(json_object_get(d, "partial"))
					      ? " (any of them: only those given change)"
					      : "");
	json_array_foreach (fields, i, f) {
		char type[512], def[128] = "required";
		if (!json_is_true(json_object_get(f, "required"))) {
			char *s = json_dumps(json_object_get(f, "default"), JSON_ENCODE_ANY);
			snprintf(def, sizeof(def), "default %s", s ? s : "?");
			free(s);
		}
		sopts_type_text(type, sizeof(type), f);
		printf("  %-22s %s, %s\n", jstr(f, "key"), type, def);
	}
	for (const struct tessctl_cmd *const *t = tessctl_tables; *t; t++)
		for (const struct tessctl_cmd *c = *t; c->words; c++)
			if (c->method && strcmp(c->method, jstr(d, "method")) == 0)
				printf("tessctl %s --help: its command line\n", c->words);
}

/* help: tessctl's usage; help COMMAND: the command's; help METHOD: the method's params. */
static int cmd_help(struct tessctl *ctx, int argc, char **argv)
{
	const struct tessctl_cmd *c;
	int used;

	if (argc == 0) {
		usage(stdout);
		return 0;
	}
	c = tessctl_match(argc, argv, &used);
	if (c && used == argc)
		return command_usage(ctx, c, stdout);
	if (argc == 1 && strchr(argv[0], '.')) {
		json_t *d;
		int rc = method_desc(ctx, argv[0], &d);
		if (rc == 0) {
			if (ctx->json)
				tessctl_print_json(d);
			else
				method_human(d);
			json_decref(d);
		}
		return rc;
	}
	fprintf(stderr, "tessctl: help: no command or method '%s'\n", argv[0]);
	return TESSCTL_USAGE;
}

static const struct tessctl_cmd help_cmds[] = {
	{ "help", "help [COMMAND | METHOD]", 0, 8, cmd_help,
	  "a command's options, or a tessd method's params (from tessd's schema)" },
	{ 0 },
};

/* Finds the longest command whose words start argv. */
const struct tessctl_cmd *tessctl_match(int argc, char **argv, int *used)
{
	const struct tessctl_cmd *best = NULL;
	int best_n = 0;

	for (const struct tessctl_cmd *const *t = tessctl_tables; *t; t++)
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
	/* "+": options end at the command, so its own flags (stats --reset) pass through. */
	char shorts[2 * TESSCTL_MAX_OPTS + 2] = "+";
	struct option opts[TESSCTL_MAX_OPTS + 1] = { 0 };
	struct tessctl ctx = { .timeout_ms = 10000 };
	static char token_buf[1024];
	const struct tessctl_cmd *cmd;
	int opt, used, rc;
	char *end;

	tables_close();
	for (int i = 0; tessctl_opts[i].name; i++) {
		const struct tessctl_opt *o = &tessctl_opts[i];
		opts[i] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
					   o->key };
		if (o->has_short)
			snprintf(shorts + strlen(shorts), sizeof(shorts) - strlen(shorts), "%c%s",
				 o->key, o->arg ? ":" : "");
	}
	/* Hidden: what the man page and bash completion are made of (complete.c). */
	if (argc >= 2 && strcmp(argv[1], "__commands") == 0)
		return tessctl_dump_commands();
	ctx.socket = getenv("TESSD_SOCKET");
	if (ctx.socket == NULL || ctx.socket[0] == '\0')
		ctx.socket = CTL_DEFAULT_SOCKET;
	ctx.mgr_url = getenv("TESSMGR_URL");
	if (ctx.mgr_url == NULL || ctx.mgr_url[0] == '\0')
		ctx.mgr_url = "http://127.0.0.1:8470";
	ctx.token = getenv("TESSMGR_TOKEN");
	if (getenv("TESSMGR_CACERT") && getenv("TESSMGR_CACERT")[0])
		http_client_set_cacert(getenv("TESSMGR_CACERT"));
	if (argc >= 2 && strcmp(argv[1], "__complete") == 0)
		return tessctl_complete(&ctx, argc - 2, argv + 2);
	while ((opt = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			ctx.mgr_url = optarg;
			break;
		case 'T':
			ctx.token = optarg;
			break;
		case 'F':
			if (read_token(optarg, token_buf, sizeof(token_buf)) < 0)
				return 2;
			ctx.token = token_buf;
			break;
		case 'C':
			http_client_set_cacert(optarg);
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
		case 'V':
			printf("tessctl %s\n", TESS_VERSION);
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
	cmd = tessctl_match(argc, argv, &used);
	if (cmd == NULL) {
		fprintf(stderr, "tessctl: unknown command '%s'\n", argv[0]);
		usage(stderr);
		return 2;
	}
	argc -= used;
	argv += used;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0) {
			rc = command_usage(&ctx, cmd, stdout);
			goto out;
		}
	int min = cmd->fn ? cmd->min_args : tessctl_n_pos(cmd);
	int max = cmd->fn ? cmd->max_args : TESSCTL_ANY_ARGS;
	if (argc < min || argc > max) {
		char u[512];
		tessctl_synopsis(cmd, u, sizeof(u));
		fprintf(stderr, "tessctl: usage: tessctl %s (options: tessctl %s --help)\n", u,
			cmd->words);
		return 2;
	}
	rc = cmd->fn ? cmd->fn(&ctx, argc, argv) : run_generic(&ctx, cmd, argc, argv);
out:
	if (ctx.connected)
		ctl_client_close(&ctx.client);
	return rc == 0 ? 0 : rc > 0 ? rc : 1;
}
