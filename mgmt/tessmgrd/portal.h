/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The web portal's static files (README "Portal"): served from
 * http.portal_dir at /, GET and HEAD only, without a token (the pages call
 * the API with the session cookie, at v1/ relative to themselves, so that
 * a reverse proxy may serve it all under a base path). /portal/, its older
 * name, redirects its pages to the root and serves the rest as the root.
 * Paths are confined to the directory: plain names only, each opened with
 * O_NOFOLLOW below the directory's descriptor, so neither ".." nor a
 * symlink leads out of it. With the portal, noVNC's RFB client (the
 * console page's) from http.novnc_dir at /novnc/: its core/ and vendor/
 * modules only.
 */
#ifndef TESS_MGR_PORTAL_H
#define TESS_MGR_PORTAL_H

#include <stdbool.h>

#include "http.h"

/* The largest file served (the portal's files are a few KiB each). */
#define PORTAL_MAX_FILE (1024 * 1024)

/*
 * Answers r if its path is the portal's (a portal is configured and the
 * path is neither under /v1/ nor /metrics): true with out set, else false.
 */
bool mgr_portal_serve(const struct http_req *r, struct http_resp *out);

#endif
