/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessctl desktop console ID [--type vnc|serial]: a console ticket from
 * tessmgrd (README "Desktop console"), printed with the WebSocket URL that
 * uses it (ws:// or wss:// of tessmgrd's URL) for a client of one's own
 * (a VNC viewer's WebSocket proxy, websocat); single-use, within its expiry.
 */
#include <stdio.h>
#include <string.h>

#include "tessctl.h"

/*
 * The console's WebSocket URL: tessmgrd's URL as tessctl reaches it, ws or wss for http or
 * https, its path kept (a reverse proxy's base path: the API calls go under it too), then
 * the ticket's path. -1 if it does not fit.
 */
static int ws_url(char *buf, size_t len, const char *mgr_url, const char *path)
{
	/* tessmgrd answered at mgr_url: it is http:// or https:// (http_client.c). */
	bool tls = strncmp(mgr_url, "https://", 8) == 0;
	const char *rest = mgr_url + (tls ? 8 : 7);
	size_t n = strlen(rest);
	int w;

	while (n && rest[n - 1] == '/')
		n--;
	w = snprintf(buf, len, "%s://%.*s%s", tls ? "wss" : "ws", (int)n, rest, path);
	return w >= 0 && (size_t)w < len ? 0 : -1;
}

int tessctl_cmd_console(struct tessctl *ctx, int argc, char **argv)
{
	const char *type = "vnc";
	char path[64], url[4096];
	json_t *r;
	int rc;

	if (argc == 3 && strcmp(argv[1], "--type") == 0)
		type = argv[2];
	if ((argc != 1 && argc != 3) || (argc == 3 && strcmp(argv[1], "--type") != 0) ||
	    strspn(argv[0], "0123456789") != strlen(argv[0]) || strlen(argv[0]) > 10 ||
	    !argv[0][0]) {
		fprintf(stderr, "tessctl: desktop console ID [--type vnc|serial]\n");
		return TESSCTL_USAGE;
	}
	snprintf(path, sizeof(path), "desktops/%s/console", argv[0]);
	rc = tessctl_mgr_call(ctx, "POST", path, json_pack("{s:s}", "type", type), &r);
	if (rc < 0)
		return rc;
	if (ws_url(url, sizeof(url), ctx->mgr_url, jstr(r, "path")) < 0) {
		fprintf(stderr, "tessctl: the console's URL is too long\n");
		json_decref(r);
		return 1;
	}
	if (ctx->json) {
		json_object_set_new(r, "url", json_string(url));
		tessctl_print_json(r);
	} else {
		printf("ticket %s (%s, single-use, expires in %lld s)\n%s\n", jstr(r, "ticket"),
		       jstr(r, "type"), (long long)jint(r, "expires_sec"), url);
	}
	json_decref(r);
	return 0;
}
