/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessmgrd's HTTP API in-process: method, path, bearer token and JSON
 * body through api_handle (routing, authentication, roles, every
 * handler's body decode and checks, the store, the audit log), on a
 * store in a temporary directory (on /dev/shm: commits cost no disk
 * sync) with a site, a libvirt test:/// host, two tenants, a model and
 * quotas made first. Job threads do not run: jobs stay queued.
 *
 * Input: [token: 1 byte][method: 1 byte][path][?query]\n[body], the path
 * under /v1/ unless it starts with "/"; the query's arguments (k=v&k2=v2,
 * %XX decoded, at most MAX_ARGS) as libmicrohttpd gives them to the
 * handlers' http_query (audit's limit, since, tenant, action; sites' from);
 * the body as the HTTP layer gives it (JSON objects only: it answers 400 to
 * anything else itself).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "image.h"
#include "mgr.h"
#include "session.h"
#include "mgr_config.h"

static const char *const tokens[] = { "provider-token-0123456789", "acme-admin-token-0123456789",
				      "bravo-admin-token-012345678", NULL, "no-such-token" };
static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", "PATCH" };
static char dir[64];

#define MAX_ARGS 16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cleanup(void)
{
	char cmd[128];

	mgr_fini();
	api_free_tokens();
	cfg_free(&mgr_cfg_schema, &mgr_conf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", dir);
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz: %s\n", what);
	exit(1);
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	/* 0600: tessmgrd refuses a token file others may read (review 1.12). */
	if (f == NULL || fchmod(fileno(f), 0600) != 0 || fputs(text, f) < 0 || fclose(f) != 0)
		die(path);
}

static unsigned call(const char *token, const char *method, const char *path, const char *body,
		     const char *const *args)
{
	struct http_req r = { .method = method, .path = path, .bearer = token, .args = args };
	struct http_resp out = { 0 };

	if (body) {
		r.body = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
		if (r.body == NULL)
			die(body);
	}
	api_handle(&r, &out);
	json_decref(r.body);
	json_decref(out.body);
	free(out.text);
	free(out.set_cookie);
	free(out.location);
	if (out.stream_free) /* GET /v1/events: the connection ends at once */
		out.stream_free(out.stream_arg);
	return out.status;
}

/* What the tests set up first (tests/lib/mgr.py), through the API itself. */
static void populate(void)
{
	static const char *const setup[][2] = {
		{ "/v1/sites",
		  "{\"name\": \"paris\", \"latitude\": 48.85, \"longitude\": 2.35,"
		  " \"storage\": \"@/storage\", \"client_prefixes\": [\"10.1.0.0/16\"]}" },
		{ "/v1/hosts",
		  "{\"name\": \"h1\", \"site\": \"paris\", \"shared\": true,"
		  " \"vcpu_ratio\": 1.0, \"memory_overalloc\": 1.0, \"vlans\": [100, 200],"
		  " \"test_host\": {\"sockets\": 1, \"cores\": 4, \"threads\": 2,"
		  " \"memory_mb\": 32768}}" },
		{ "/v1/tenants", "{\"name\": \"acme\", \"org_id\": \"org-acme\", \"datacenter\":"
				 " \"paris\", \"vlan\": 100, \"vlan_name\": \"acme-net\"}" },
		{ "/v1/tenants", "{\"name\": \"bravo\", \"org_id\": \"org-bravo\", \"datacenter\":"
				 " \"paris\", \"vlan\": 200, \"vlan_name\": \"bravo-net\"}" },
		{ "/v1/models", "{\"name\": \"std\", \"vcpus\": 2, \"memory_mb\": 4096,"
				" \"base_image\": \"win11.qcow2\", \"cpu_shares\": 1024}" },
		{ "/v1/quotas", "{\"tenant\": \"acme\", \"model\": \"std\", \"max_cpus\": 16,"
				" \"max_memory_mb\": 1048576}" },
	};
	char body[512];

	for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++) {
		const char *at = strchr(setup[i][1], '@');
		unsigned st;
		if (at)
			snprintf(body, sizeof(body), "%.*s%s%s", (int)(at - setup[i][1]),
				 setup[i][1], dir, at + 1);
		else
			snprintf(body, sizeof(body), "%s", setup[i][1]);
		st = call(tokens[0], "POST", setup[i][0], body, NULL);
		if (st >= 300) {
			fprintf(stderr, "fuzz: POST %s: %u\n", setup[i][0], st);
			exit(1);
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[160], text[1024], err[256];

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/dev/shm/tess_fuzz_mgr_XXXXXX");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/state", dir);
	mkdir(path, 0750);
	snprintf(path, sizeof(path), "%s/storage", dir);
	mkdir(path, 0750);
	snprintf(text, sizeof(text), "qemu-img create -q -f qcow2 %s/win11.qcow2 16M", path);
	if (system(text) != 0)
		die("qemu-img create");
	write_file("tokens.json",
		   "{\"tokens\": ["
		   "{\"token\": \"provider-token-0123456789\", \"principal\": \"ops\","
		   " \"role\": \"provider\"},"
		   "{\"token\": \"acme-admin-token-0123456789\", \"principal\": \"alice\","
		   " \"role\": \"tenant\", \"tenant\": \"acme\"},"
		   "{\"token\": \"bravo-admin-token-012345678\", \"principal\": \"bob\","
		   " \"role\": \"tenant\", \"tenant\": \"bravo\"}]}");
	snprintf(text, sizeof(text),
		 "{\"listen\": \"127.0.0.1\", \"port\": 0, \"store\": \"%s/store.db\","
		 " \"state_dir\": \"%s/state\", \"tokens\": \"%s/tokens.json\","
		 " \"import_dir\": \"%s\","
		 /* Small: an audit query's answer, and the table it reads, stay cheap per
		  * input (the defaults let one input read 10,000 rows of a growing log), and
		  * the bounds and the retention run. */
		 " \"audit\": {\"max_limit\": 100, \"max_rows\": 2000}}",
		 dir, dir, dir, dir);
	write_file("tessmgrd.json", text);
	snprintf(path, sizeof(path), "%s/tessmgrd.json", dir);
	if (mgr_load_json(path, &mgr_cfg_schema, &mgr_conf) < 0 ||
	    api_load_tokens(mgr_conf.tokens) < 0)
		die("config or tokens");
	mgr_sessions_init(&(struct mgr_session_limits){ mgr_conf.http.session_idle_sec,
							mgr_conf.http.session_max_sec,
							mgr_conf.http.max_sessions });
	mgr_image_set_tool(mgr_conf.qemu_img);
	if (mgr_init(err, sizeof(err)) < 0)
		die(err);
	populate();
	/* Query arguments reach the handlers: a bad audit limit is refused, not ignored. */
	if (call(tokens[0], "GET", "/v1/audit", NULL,
		 (const char *const[]){ "limit", "0", NULL }) != 400)
		die("GET /v1/audit?limit=0 is not 400: query arguments do not reach the handlers");
	return 0;
}

static int hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* %XX and + decoded in place, as libmicrohttpd does; %00 ends the text as it does for MHD's
 * C strings. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%' && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
			*o++ = (char)(hex(s[1]) * 16 + hex(s[2]));
			s += 2;
		} else {
			*o++ = *s == '+' ? ' ' : *s;
		}
	}
	*o = '\0';
}

/* Splits query (in place) into key, value pairs; a key without "=" has a NULL value. */
static void split_query(char *query, const char *args[2 * MAX_ARGS + 1])
{
	unsigned n = 0;
	char *save = NULL;

	for (char *kv = strtok_r(query, "&", &save); kv && n < MAX_ARGS;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq++ = '\0';
		unescape(kv);
		if (eq)
			unescape(eq);
		args[2 * n] = kv;
		args[2 * n + 1] = eq;
		n++;
	}
	args[2 * n] = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req r = { 0 };
	struct http_resp out = { 0 };
	const char *args[2 * MAX_ARGS + 1] = { NULL };
	const uint8_t *nl;
	char path[1024], *query;
	size_t plen;

	if (size < 2)
		return 0;
	r.bearer = tokens[data[0] % 5];
	r.method = methods[data[1] % 5];
	data += 2;
	size -= 2;
	nl = memchr(data, '\n', size);
	plen = nl ? (size_t)(nl - data) : size;
	/* A path as libmicrohttpd gives one: a C string, of bounded length. */
	if (plen > 900 || memchr(data, '\0', plen))
		return 0;
	snprintf(path, sizeof(path), "%s%.*s", plen && data[0] == '/' ? "" : "/v1/", (int)plen,
		 (const char *)data);
	/* MHD gives the path without its query, the arguments apart. */
	query = strchr(path, '?');
	if (query) {
		*query++ = '\0';
		split_query(query, args);
		r.args = args;
	}
	r.path = path;
	if (nl && size > plen + 1) {
		r.body = json_loadb((const char *)nl + 1, size - plen - 1, JSON_REJECT_DUPLICATES,
				    NULL);
		if (r.body == NULL || !json_is_object(r.body)) {
			json_decref(r.body);
			return 0;
		}
	}
	api_handle(&r, &out);
	json_decref(r.body);
	json_decref(out.body);
	free(out.text);
	free(out.set_cookie);
	free(out.location);
	if (out.stream_free) /* GET /v1/events: the connection ends at once */
		out.stream_free(out.stream_arg);
	return 0;
}
