/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What tessctl's man page and bash completion are made of, from the command
 * tables themselves (so that nothing is listed twice): "__commands" prints
 * them as JSON for the build's man page generator; "__complete WORDS..."
 * prints the candidates for the last word, asking the live daemons for
 * names (ports, groups, VRFs from tessd's config; tenants, hosts, desktops
 * from tessmgrd) with a short timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "tessctl.h"

/* A dead or hung daemon must not hang the shell. */
#define COMPLETE_TIMEOUT_MS 1000
#define MAX_WORDS           16

extern const struct tessctl_cmd mgr_cmds[];

static bool is_mgr(const struct tessctl_cmd *c)
{
	for (const struct tessctl_cmd *m = mgr_cmds; m->words; m++)
		if (m == c)
			return true;
	return false;
}

int tessctl_dump_commands(void)
{
	json_t *cmds = json_array(), *opts = json_array();

	for (const struct tessctl_opt *o = tessctl_opts; o->name; o++) {
		char s[2] = { (char)o->key, 0 };
		json_array_append_new(opts, json_pack("{s:s, s:s?, s:s?, s:s}", "name", o->name,
						      "short", o->has_short ? s : NULL, "arg",
						      o->arg, "help", o->help));
	}
	for (const struct tessctl_cmd *const *t = tessctl_tables; *t; t++)
		for (const struct tessctl_cmd *c = *t; c->words; c++) {
			char syn[512];
			json_t *pos = json_array();

			tessctl_synopsis(c, syn, sizeof(syn));
			for (int i = 0; i < tessctl_n_pos(c); i++)
				json_array_append_new(pos, json_string(c->pos[i]));
			json_array_append_new(cmds,
					      json_pack("{s:s, s:s, s:s, s:s?, s:o, s:s}", "words",
							c->words, "synopsis", syn, "help", c->help,
							"method", c->method, "pos", pos, "daemon",
							is_mgr(c) ? "tessmgrd" : "tessd"));
		}
	json_t *all = json_pack("{s:o, s:o}", "options", opts, "commands", cmds);
	json_dumpf(all, stdout, JSON_INDENT(1));
	putchar('\n');
	json_decref(all);
	return 0;
}

/* Prints a candidate once, when it starts with cur. */
static void offer(const char *cand, const char *cur)
{
	static char seen[16384] = "\n"; /* "\na\nb\n" */
	char key[256];

	if (strncmp(cand, cur, strlen(cur)) != 0)
		return;
	snprintf(key, sizeof(key), "\n%s\n", cand);
	if (strstr(seen, key))
		return;
	if (strlen(seen) + strlen(key) < sizeof(seen))
		strcat(seen, key + 1);
	puts(cand);
}

static const struct tessctl_opt *global_opt(const char *w)
{
	for (const struct tessctl_opt *o = tessctl_opts; o->name; o++)
		if ((w[0] == '-' && w[1] == '-' && strcmp(w + 2, o->name) == 0) ||
		    (o->has_short && w[0] == '-' && w[1] == o->key && w[2] == '\0'))
			return o;
	return NULL;
}

/* The options before the command point completion at the daemons the command would use. */
static void apply_global(struct tessctl *ctx, const struct tessctl_opt *o, const char *v)
{
	static char token[1024];
	FILE *f;

	if (o->key == 's')
		ctx->socket = v;
	else if (o->key == 'm')
		ctx->mgr_url = v;
	else if (o->key == 'T')
		ctx->token = v;
	else if (o->key == 'C')
		http_client_set_cacert(v);
	else if (o->key == 'F' && (f = fopen(v, "r"))) {
		if (fgets(token, sizeof(token), f)) {
			token[strcspn(token, "\r\n")] = '\0';
			ctx->token = token;
		}
		fclose(f);
	}
}

/* "--vrf V | --tenants [T]": each --option of a usage text. */
static void offer_usage_opts(const char *args, const char *cur)
{
	for (const char *p = args ? strstr(args, "--") : NULL; p; p = strstr(p + 2, "--")) {
		char opt[64];
		size_t n = strspn(p, "-abcdefghijklmnopqrstuvwxyz0123456789");
		if (n > 2 && n < sizeof(opt)) {
			snprintf(opt, sizeof(opt), "%.*s", (int)n, p);
			offer(opt, cur);
		}
		p += n - 2;
	}
}

/* The names in every list called "key" of objects with a name, at any depth. */
static void offer_names_in(const json_t *node, const char *key, const char *cur)
{
	const char *k;
	json_t *v, *item;
	size_t i;

	if (json_is_array(node)) {
		json_array_foreach ((json_t *)node, i, item)
			offer_names_in(item, key, cur);
		return;
	}
	json_object_foreach ((json_t *)node, k, v) {
		if (strcmp(k, key) == 0 && json_is_array(v))
			json_array_foreach (v, i, item)
				if (json_is_string(json_object_get(item, "name")))
					offer(jstr(item, "name"), cur);
		if (json_is_object(v) || json_is_array(v))
			offer_names_in(v, key, cur);
	}
}

/*
 * Names of tessd's config collection "table": a schema reference's
 * ("/switch/groups") or a plural ("vrfs"), found wherever it is.
 */
static void offer_tessd_names(struct tessctl *ctx, const char *table, const char *cur)
{
	const char *key = strrchr(table, '/') ? strrchr(table, '/') + 1 : table;
	json_t *cfg;

	if (tessctl_call(ctx, "config.get", NULL, &cfg) < 0)
		return;
	offer_names_in(cfg, key, cur);
	json_decref(cfg);
}

/* Names (or ids) of tessmgrd's collection "what" (tenants, hosts, desktops...). */
static void offer_mgr_names(struct tessctl *ctx, const char *what, const char *key, const char *cur)
{
	char path[128], why[256], num[32];
	json_t *r = NULL, *item;
	size_t i;

	snprintf(path, sizeof(path), "/v1/%s", what);
	if (http_call(ctx->mgr_url, ctx->token, "GET", path, NULL, ctx->timeout_ms, &r, why,
		      sizeof(why)) != 200) {
		json_decref(r);
		return;
	}
	json_array_foreach (r, i, item) {
		const json_t *v = json_object_get(item, key);
		if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			offer(num, cur);
		} else if (json_is_string(v)) {
			offer(json_string_value(v), cur);
		}
	}
	json_decref(r);
}

/* "key" of an option or argument ("--vhost-dir", "name") to a collection: "vrf" -> "vrfs". */
static void plural(char *buf, size_t len, const char *key)
{
	size_t n;

	while (*key == '-')
		key++;
	snprintf(buf, len, "%ss", key);
	for (n = 0; buf[n]; n++)
		if (buf[n] == '-')
			buf[n] = '_';
}

/* A tessd schema command's --options, from the method's params schema. */
static const json_t *method_field(json_t *desc, const char *key)
{
	const json_t *f;
	size_t i;

	json_array_foreach (json_object_get(json_object_get(desc, "params"), "fields"), i, f)
		if (strcmp(jstr(f, "key"), key) == 0)
			return f;
	return NULL;
}

static bool skipped(const struct tessctl_cmd *c, const char *key)
{
	for (int i = 0; i < tessctl_n_pos(c); i++)
		if (strcmp(c->pos[i], key) == 0)
			return true;
	return false;
}

/* The --options of an object description (a method's params, a tessmgrd object). */
static void offer_fields(const json_t *params, const struct tessctl_cmd *c, const char *cur)
{
	const json_t *f;
	size_t i;

	json_array_foreach (json_object_get(params, "fields"), i, f) {
		char opt[80];
		if (skipped(c, jstr(f, "key")) || !sopts_offered(f, NULL))
			continue;
		snprintf(opt, sizeof(opt), "--%s", jstr(f, "key"));
		for (char *p = opt + 2; *p; p++)
			if (*p == '_')
				*p = '-';
		offer(opt, cur);
		if (strcmp(jstr(f, "type"), "boolean") == 0) {
			snprintf(opt, sizeof(opt), "--no-%s", jstr(f, "key"));
			for (char *p = opt + 5; *p; p++)
				if (*p == '_')
					*p = '-';
			offer(opt, cur);
		}
	}
}

static void complete_tessd(struct tessctl *ctx, const struct tessctl_cmd *c, int argc, char **argv,
			   const char *cur)
{
	char key[64], table[80];
	json_t *desc = NULL;
	int npos = 0;

	if (c->method &&
	    tessctl_call(ctx, "help", json_pack("{s:s}", "method", c->method), &desc) < 0)
		desc = NULL;
	/* The value of an option: names when it is a reference (or names a collection). */
	if (argc > 0 && strncmp(argv[argc - 1], "--", 2) == 0) {
		snprintf(key, sizeof(key), "%s", argv[argc - 1] + 2);
		for (char *p = key; *p; p++)
			if (*p == '-')
				*p = '_';
		const json_t *f = desc ? method_field(desc, key) : NULL;
		if (f && strcmp(jstr(f, "type"), "boolean") != 0) {
			const json_t *item = json_object_get(f, "items");
			const char *ref = strcmp(jstr(f, "type"), "reference") == 0
						  ? jstr(f, "table")
					  : item ? jstr(item, "table")
						 : "";
			if (ref[0])
				snprintf(table, sizeof(table), "%s", ref);
			else
				plural(table, sizeof(table), key);
			offer_tessd_names(ctx, table, cur);
			json_decref(desc);
			return;
		}
		if (f == NULL && desc == NULL && strstr(c->args ? c->args : "", argv[argc - 1])) {
			plural(table, sizeof(table), key);
			offer_tessd_names(ctx, table, cur);
			return;
		}
	}
	if (cur[0] == '-') {
		offer_fields(json_object_get(desc, "params"), c, cur);
		offer_usage_opts(c->args, cur);
		offer("--help", cur);
		json_decref(desc);
		return;
	}
	/* A positional argument: "name" is of the command's own collection (port del NAME). */
	for (int i = 0; i < argc; i++)
		if (argv[i][0] != '-' && (i == 0 || argv[i - 1][0] != '-'))
			npos++;
	if (npos < tessctl_n_pos(c)) {
		const char *k = c->pos[npos];
		if (strcmp(k, "name") == 0) {
			snprintf(key, sizeof(key), "%.*s", (int)strcspn(c->words, " "), c->words);
			k = key;
		}
		plural(table, sizeof(table), k);
		offer_tessd_names(ctx, table, cur);
	}
	json_decref(desc);
}

/* The first " | " of s outside brackets and parentheses ("(--uri U | --test-host H)"). */
static const char *top_bar(const char *s)
{
	int depth = 0;

	for (; *s; s++) {
		depth += (*s == '[' || *s == '(') - (*s == ']' || *s == ')');
		if (depth == 0 && strncmp(s, " | ", 3) == 0)
			return s;
	}
	return NULL;
}

/*
 * tessmgrd's commands parse their own subcommands: "list | show NAME |
 * add|set NAME --site S ... | del NAME" (the usage text is the table).
 * Returns the alternative that starts with sub, or NULL.
 */
static const char *mgr_alternative(const struct tessctl_cmd *c, const char *sub, const char *cur,
				   char *buf, size_t len)
{
	char syn[1024];
	const char *alt = syn, *found = NULL;

	tessctl_synopsis(c, syn, sizeof(syn));
	alt += strlen(c->words);

	while (*alt) {
		const char *bar = top_bar(alt);
		size_t n = bar ? (size_t)(bar - alt) : strlen(alt);
		char one[512], verbs[128];
		snprintf(one, sizeof(one), "%.*s", (int)n, alt);
		char *o = one + strspn(one, " ");
		snprintf(verbs, sizeof(verbs), "%.*s", (int)strcspn(o, " "), o);
		/* "add|set": each verb; "[--tenant T]" (no verb): the options. */
		if (verbs[0] != '[' && verbs[0] != '-')
			for (char *save, *v = strtok_r(verbs, "|", &save); v;
			     v = strtok_r(NULL, "|", &save)) {
				if (sub == NULL)
					offer(v, cur);
				else if (strcmp(v, sub) == 0 && found == NULL) {
					snprintf(buf, len, "%s", o);
					found = buf;
				}
			}
		alt += n + (bar ? 3 : 0);
	}
	return found;
}

static void complete_mgr(struct tessctl *ctx, const struct tessctl_cmd *c, int argc, char **argv,
			 const char *cur)
{
	char alt[512], what[64], key[64], syn[1024];
	const char *a;

	tessctl_synopsis(c, syn, sizeof(syn));
	if (cur[0] == '-' || strstr(syn, " | ") == NULL) {
		/* Options (of the subcommand's alternative, or of the whole usage). */
		a = argc > 0 ? mgr_alternative(c, argv[0], "", alt, sizeof(alt)) : NULL;
		if (cur[0] == '-')
			offer_usage_opts(a ? a : syn, cur);
		/* add|set (or the verb the schema is for): every option of its schema too. */
		if (cur[0] == '-' && c->schema && argc > 0 &&
		    (c->schema_verb ? strcmp(argv[0], c->schema_verb) == 0
				    : strcmp(argv[0], "add") == 0 || strcmp(argv[0], "set") == 0)) {
			json_t *params = cfg_schema_json(c->schema);
			offer_fields(params, c, cur);
			json_decref(params);
		}
		if (argc > 0 && strncmp(argv[argc - 1], "--", 2) == 0 && cur[0] != '-') {
			plural(what, sizeof(what), argv[argc - 1]);
			offer_mgr_names(ctx, what, "name", cur);
		}
		return;
	}
	if (argc == 0) {
		mgr_alternative(c, NULL, cur, alt, sizeof(alt));
		return;
	}
	/* An option's value: --site S, --tenant T, --model M name a collection; --to a host. */
	if (strncmp(argv[argc - 1], "--", 2) == 0) {
		plural(what, sizeof(what),
		       strcmp(argv[argc - 1], "--to") == 0           ? "host"
		       : strcmp(argv[argc - 1], "--datacenter") == 0 ? "site"
								     : argv[argc - 1]);
		offer_mgr_names(ctx, what, "name", cur);
		return;
	}
	a = mgr_alternative(c, argv[0], "", alt, sizeof(alt));
	if (a == NULL || argc != 1)
		return;
	/* "show NAME", "start ID", "show TENANT MODEL": the first argument names an object. */
	const char *meta = a + strcspn(a, " ");
	meta += strspn(meta, " ");
	snprintf(key, sizeof(key), "%.*s", (int)strcspn(meta, " "), meta);
	if (strcmp(key, "ID") == 0) {
		plural(what, sizeof(what), c->words);
		offer_mgr_names(ctx, what, "id", cur);
	} else if (strcmp(key, "NAME") == 0 && strcmp(argv[0], "add") != 0 &&
		   strcmp(argv[0], "create") != 0) {
		plural(what, sizeof(what), c->words);
		offer_mgr_names(ctx, what, "name", cur);
	} else if (strcmp(key, "TENANT") == 0) {
		offer_mgr_names(ctx, "tenants", "name", cur);
	}
}

int tessctl_complete(struct tessctl *ctx, int argc, char **argv)
{
	char *words[MAX_WORDS];
	const char *cur;
	int i = 0, n = 0, used;

	/* Nothing but candidates on the terminal: errors of dead daemons go nowhere. */
	if (freopen("/dev/null", "w", stderr) == NULL)
		return 1;
	ctx->timeout_ms = COMPLETE_TIMEOUT_MS;
	if (argc == 0)
		return 0;
	cur = argv[argc - 1];
	while (i < argc - 1 && argv[i][0] == '-') {
		const struct tessctl_opt *o = global_opt(argv[i]);
		if (o && o->arg) {
			if (i + 1 == argc - 1)
				return 0; /* a value: a path, a URL, a token */
			apply_global(ctx, o, argv[i + 1]);
			i++;
		}
		i++;
	}
	if (i == argc - 1 && cur[0] == '-') {
		for (const struct tessctl_opt *o = tessctl_opts; o->name; o++) {
			char opt[64];
			snprintf(opt, sizeof(opt), "--%s", o->name);
			offer(opt, cur);
		}
		return 0;
	}
	for (; i < argc - 1 && n < MAX_WORDS; i++)
		words[n++] = argv[i];

	/* The next word of every command that the words typed so far start. */
	for (const struct tessctl_cmd *const *t = tessctl_tables; *t; t++)
		for (const struct tessctl_cmd *c = *t; c->words; c++) {
			char w[128], *save, *tok;
			int k = 0;
			snprintf(w, sizeof(w), "%s", c->words);
			for (tok = strtok_r(w, " ", &save);
			     tok && k < n && strcmp(tok, words[k]) == 0;
			     tok = strtok_r(NULL, " ", &save))
				k++;
			if (k == n && tok)
				offer(tok, cur);
		}
	const struct tessctl_cmd *c = tessctl_match(n, words, &used);
	if (c == NULL)
		return 0;
	if (strcmp(c->words, "help") == 0) {
		if (n == used)
			for (const struct tessctl_cmd *const *t = tessctl_tables; *t; t++)
				for (const struct tessctl_cmd *h = *t; h->words; h++) {
					char first[64];
					snprintf(first, sizeof(first), "%.*s",
						 (int)strcspn(h->words, " "), h->words);
					offer(first, cur);
				}
		return 0;
	}
	if (is_mgr(c))
		complete_mgr(ctx, c, n - used, words + used, cur);
	else
		complete_tessd(ctx, c, n - used, words + used, cur);
	return 0;
}
