/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessctl monitor: tessd's events (events.subscribe), or with --mgr
 * tessmgrd's (GET /v1/events), as they happen, one a line: "TIME KIND
 * key=value ...", or the JSON object itself with --json. Until interrupted,
 * or --count N events, or --timeout S seconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_client.h"
#include "tessctl.h"

struct monitor_opts {
	long count;   /* 0: no limit */
	long timeout; /* seconds, 0: none */
	json_t *kinds;
	bool mgr;
	long seen;
	const struct tessctl *ctx;
};

/* Server text as printed: a control character (an escape sequence, a newline) as \xHH, never
 * to the terminal. */
static void put_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
}

static void print_event(const struct tessctl *ctx, const json_t *ev)
{
	const char *k;
	json_t *v;
	char when[32] = "-";
	time_t t = (time_t)json_number_value(json_object_get(ev, "time"));
	struct tm tm;

	if (ctx->json) { /* one object a line, as tessd sent it */
		json_dumpf(ev, stdout, JSON_COMPACT);
		putchar('\n');
		return;
	}
	if (t && localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("%s ", when);
	put_safe(jstr(ev, "event") ? jstr(ev, "event") : "?");
	json_object_foreach ((json_t *)ev, k, v) {
		char *text;
		if (strcmp(k, "event") == 0 || strcmp(k, "time") == 0)
			continue;
		putchar(' ');
		put_safe(k);
		putchar('=');
		if (json_is_string(v)) {
			put_safe(json_string_value(v));
			continue;
		}
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		put_safe(text ? text : "?");
		free(text);
	}
	putchar('\n');
}

#define MONITOR_MAX_TIMEOUT 2000000L

static int parse_opts(int argc, char **argv, struct tessctl *ctx, struct monitor_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (v && (strcmp(a, "--count") == 0 || strcmp(a, "--timeout") == 0)) {
			long n = strtol(v, &end, 10);
			/* At most MONITOR_MAX_TIMEOUT: its milliseconds fit an int. */
			if (*end || n <= 0 || (a[2] == 't' && n > MONITOR_MAX_TIMEOUT)) {
				fprintf(stderr, "tessctl: monitor %s takes a positive number%s\n",
					a, a[2] == 't' ? " of seconds, at most 2000000" : "");
				return TESSCTL_USAGE;
			}
			*(a[2] == 'c' ? &o->count : &o->timeout) = n;
		} else if (v && strcmp(a, "--tessd") == 0) {
			ctx->socket = v;
		} else if (v && strcmp(a, "--kind") == 0) {
			json_array_append_new(o->kinds, json_string(v));
		} else if (strcmp(a, "--mgr") == 0) {
			o->mgr = true;
			continue;
		} else {
			fprintf(stderr, "tessctl: monitor: unknown option '%s'\n", a);
			return TESSCTL_USAGE;
		}
		i++;
	}
	return 0;
}

/* A line of tessmgrd's stream: printed; non-zero when --count is reached. */
static int mgr_line(const char *line, size_t len, void *arg)
{
	struct monitor_opts *o = arg;
	json_t *ev = json_loadb(line, len, 0, NULL);

	if (ev) {
		print_event(o->ctx, ev);
		json_decref(ev);
		fflush(stdout);
		o->seen++;
	}
	return o->count && o->seen >= o->count;
}

static int monitor_mgr(struct tessctl *ctx, struct monitor_opts *o)
{
	char why[512];
	json_t *err;
	int status = http_stream(ctx->mgr_url, ctx->token, "/v1/events", (int)o->timeout * 1000,
				 mgr_line, o, &err, why, sizeof(why));

	if (status < 0) {
		fprintf(stderr, "tessctl: tessmgrd at %s: %s\n", ctx->mgr_url, why);
		return status;
	}
	if (status >= 300) {
		json_t *e = json_object_get(err, "error");
		if (ctx->json && err) /* as tessctl_mgr_call does: scripts read the body */
			tessctl_print_json(err);
		fprintf(stderr, "tessctl: error %d: %s\n", status,
			jstr(e, "message") ? jstr(e, "message") : "(no message)");
		json_decref(err);
		return -EPROTO;
	}
	return 0;
}

/* tessctl monitor [--tessd SOCK | --mgr] [--kind K]... [--count N] [--timeout S] */
static int cmd_monitor(struct tessctl *ctx, int argc, char **argv)
{
	struct monitor_opts o = { .kinds = json_array(), .ctx = ctx };
	struct ctl_error err = { 0 };
	int64_t deadline;
	long seen = 0;
	json_t *r;
	int rc = parse_opts(argc, argv, ctx, &o);

	if (!rc && o.mgr && json_array_size(o.kinds)) {
		fprintf(stderr, "tessctl: monitor: --kind filters tessd's events, not --mgr's\n");
		rc = TESSCTL_USAGE;
	}
	if (rc || o.mgr) {
		json_decref(o.kinds);
		return rc ? rc : monitor_mgr(ctx, &o);
	}
	rc = tessctl_call(ctx, "events.subscribe", json_pack("{s:o}", "kinds", o.kinds), &r);
	if (rc < 0)
		return rc;
	json_decref(r);
	fflush(stdout);
	deadline = o.timeout ? ctl_now_ms() + o.timeout * 1000 : 0;
	while (!o.count || seen < o.count) {
		int64_t left = deadline ? deadline - ctl_now_ms() : -1;
		json_t *ev;

		if (deadline && left <= 0)
			break;
		rc = ctl_client_next(&ctx->client, (int)left, &ev, &err);
		if (rc == 0)
			break;
		if (rc < 0) {
			fprintf(stderr, "tessctl: monitor: %s\n", err.message);
			return rc;
		}
		print_event(ctx, ev);
		json_decref(ev);
		fflush(stdout);
		seen++;
	}
	return 0;
}

static const struct tessctl_cmd monitor_cmds[] = {
	{ "monitor", "monitor [--tessd SOCK | --mgr] [--kind K]... [--count N] [--timeout S]", 0,
	  32, cmd_monitor,
	  "tessd's events as they happen (port.link, fdb.learn/move, route.add/del, "
	  "config.commit); --kind keeps those kinds (or prefixes: fdb); --mgr: tessmgrd's "
	  "(job, network, host.up, host.down)" },
	{ 0 },
};
TESSCTL_COMMANDS(monitor_cmds)
