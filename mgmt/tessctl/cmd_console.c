/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tessctl desktop console ID [--type vnc|serial]: a console ticket from
 * tessmgrd (README "Desktop console"), printed with the WebSocket URL that
 * uses it (ws:// or wss:// of tessmgrd's address) for a client of one's own
 * (a VNC viewer's WebSocket proxy, websocat); single-use, within its expiry.
 */
#include <stdio.h>
#include <string.h>

#include "tessctl.h"

int tessctl_cmd_console(struct tessctl *ctx, int argc, char **argv)
{
	const char *type = "vnc";
	char path[64];
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
	const char *url = ctx->mgr_url, *p = json_string_value(json_object_get(r, "path"));
	bool tls = strncmp(url, "https://", 8) == 0;
	const char *hostport = strstr(url, "://") ? strstr(url, "://") + 3 : url;
	size_t n = strcspn(hostport, "/");
	if (ctx->json) {
		char ws[512];
		snprintf(ws, sizeof(ws), "%s://%.*s%s", tls ? "wss" : "ws", (int)n, hostport,
			 p ? p : "");
		json_object_set_new(r, "url", json_string(ws));
		tessctl_print_json(r);
	} else {
		printf("ticket %s (%s, single-use, expires in %lld s)\n%s://%.*s%s\n",
		       jstr(r, "ticket"), jstr(r, "type"), (long long)jint(r, "expires_sec"),
		       tls ? "wss" : "ws", (int)n, hostport, p ? p : "");
	}
	json_decref(r);
	return 0;
}
