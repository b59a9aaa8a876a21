/* SPDX-License-Identifier: BSD-3-Clause */
#include "portal.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mgr.h"

/*
 * No inline script or style anywhere (CSP), no framing, no referrer, no sniffing. The
 * console page's WebSocket needs nothing more: connect-src 'self' covers ws: and wss: to the
 * page's own host (CSP 3; Chromium refuses another host's), and noVNC styles through the
 * CSSOM, which style-src does not restrict.
 */
#define SECURITY_HEADERS                                                                  \
	"Content-Security-Policy",                                                        \
		"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src " \
		"'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "   \
		"form-action 'self'",                                                     \
		"X-Content-Type-Options", "nosniff", "Referrer-Policy", "no-referrer",    \
		"X-Frame-Options", "DENY", "Cache-Control", "no-cache"

static const char *const headers[] = { SECURITY_HEADERS, NULL };
static const char *const headers_405[] = { SECURITY_HEADERS, "Allow", "GET, HEAD", NULL };

/* The extensions served and their types: anything else is 404. */
static const struct {
	const char *ext, *type;
} types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "ico", "image/x-icon" },
	{ "txt", "text/plain; charset=utf-8" },
};

/* Path segments at most this deep below the directory: the portal's files, and noVNC's
 * (its vendor/pako/lib/zlib/ modules are 5 deep; one more for a later noVNC). */
#define MAX_DEPTH       4
#define NOVNC_MAX_DEPTH 6

/*
 * noVNC (http.novnc_dir, Debian's novnc package) below this path: the console page's RFB
 * client, only its ES modules of core/ and vendor/ (not its app/ nor its own pages).
 */
#define NOVNC_PATH "/novnc/"

static void plain(struct http_resp *out, unsigned status, const char *text)
{
	json_decref(out->body);
	out->body = NULL;
	out->status = status;
	out->text = strdup(text);
	out->text_len = 0;
	out->content_type = "text/plain; charset=utf-8";
	out->headers = status == 405 ? headers_405 : headers;
	if (out->text == NULL)
		out->status = 500; /* http.c answers a NULL text as the JSON body: none, {} */
}

static bool is_api(const char *path)
{
	return strcmp(path, "/metrics") == 0 || strcmp(path, "/v1") == 0 ||
	       strncmp(path, "/v1/", 4) == 0;
}

/* A segment of plain characters that is not hidden (no ".", "..", ".git"). */
static bool good_segment(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

/* The type of name if it is one served (only a module with js_only), else NULL. */
static const char *type_of(const char *name, bool js_only)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot + 1, types[i].ext) == 0 && (!js_only || strcmp(dot + 1, "js") == 0))
			return types[i].type;
	return NULL;
}

/*
 * The file at rel (segments split by /) below dirfd, each segment opened with O_NOFOLLOW
 * (a symlink anywhere fails) and O_NONBLOCK (a FIFO must not hold the thread): its
 * descriptor, or -1.
 */
static int open_below(int dirfd, char *rel)
{
	char *save = NULL, *seg = strtok_r(rel, "/", &save);
	int fd = dup(dirfd);

	while (fd >= 0 && seg) {
		char *next = strtok_r(NULL, "/", &save);
		int nfd = openat(fd, seg,
				 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
					 (next ? O_DIRECTORY : 0));
		close(fd);
		fd = nfd;
		seg = next;
	}
	return fd;
}

/* The whole of a regular file of at most PORTAL_MAX_FILE bytes into out; false if not so. */
static bool read_file(int fd, struct http_resp *out)
{
	struct stat st;
	size_t got = 0;
	char *buf;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PORTAL_MAX_FILE)
		return false;
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		return false;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* shrunk while read: what was read is no whole file */
		got += (size_t)n;
	}
	if (got != (size_t)st.st_size) {
		free(buf);
		return false;
	}
	buf[got] = '\0';
	out->text = buf;
	out->text_len = got;
	return true;
}

/*
 * Answers the file rel (a path from the request, checked here) below dir: at most max_depth
 * plain segments, of a type served (only modules with js_only), with the portal's headers.
 */
static void serve(const char *dir, char *rel, unsigned max_depth, bool js_only,
		  struct http_resp *out)
{
	const char *type;
	unsigned depth = 0;
	int dfd, fd;

	for (const char *s = rel; *s; depth++) {
		size_t n = strcspn(s, "/");
		if (depth == max_depth || !good_segment(s, n)) {
			plain(out, 404, "not found\n");
			return;
		}
		s += n;
		s += *s == '/';
	}
	type = type_of(rel, js_only);
	if (type == NULL) {
		plain(out, 404, "not found\n");
		return;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = dfd < 0 ? -1 : open_below(dfd, rel);
	if (dfd >= 0)
		close(dfd);
	json_decref(out->body);
	out->body = NULL;
	if (fd < 0 || !read_file(fd, out)) {
		if (fd >= 0)
			close(fd);
		plain(out, 404, "not found\n");
		return;
	}
	close(fd);
	out->status = 200;
	out->content_type = type;
	out->headers = headers;
}

/* A redirect's Location, its path and query percent-encoded again (they come decoded). */
struct location {
	char text[1024];
	size_t len;
	bool overflow;
};

/* s onto l, percent-encoded but for unreserved characters and those of keep. */
static void loc_put(struct location *l, const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s && !l->overflow; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || strchr("-._~", ch) || strchr(keep, ch);
		if (l->len + 4 > sizeof(l->text)) {
			l->overflow = true;
		} else if (plain) {
			l->text[l->len++] = (char)ch;
		} else {
			l->text[l->len++] = '%';
			l->text[l->len++] = hex[ch >> 4];
			l->text[l->len++] = hex[ch & 15];
		}
	}
	l->text[l->len] = '\0';
}

static enum MHD_Result loc_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct location *l = cls;

	(void)kind;
	loc_put(l, strchr(l->text, '?') ? "&" : "?", "?&");
	loc_put(l, key, "");
	if (value) {
		loc_put(l, "=", "=");
		loc_put(l, value, "");
	}
	return MHD_YES;
}

/*
 * A page under /portal/ (path: what follows /portal, "" or "/...") is sent to the same page
 * at the portal's root, where its calls of v1/ and novnc/, relative to the page, are the
 * API's and noVNC's: a 308 to a relative Location ("../console.html?desktop=7"), right
 * under a reverse proxy's base path too, the query kept (the fragment is the browser's).
 */
static void redirect_to_root(const struct http_req *r, const char *path, struct http_resp *out)
{
	struct location l = { .len = 0 };
	char *loc;

	for (const char *s = path; *s; s++)
		if (*s == '/')
			loc_put(&l, "../", "/");
	loc_put(&l, *path ? path + 1 : "./", "/");
	if (r->conn)
		MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, loc_arg, &l);
	for (const char *const *a = r->conn ? NULL : r->args; a && a[0]; a += 2)
		loc_arg(&l, MHD_GET_ARGUMENT_KIND, a[0], a[1]);
	if (l.overflow) {
		plain(out, 414, "the path or query is too long to redirect\n");
		return;
	}
	loc = strdup(l.text);
	if (loc == NULL) {
		plain(out, 500, "out of memory\n");
		return;
	}
	plain(out, 308, "the portal is at the root: see Location\n");
	free(out->location);
	out->location = loc;
}

bool mgr_portal_serve(const struct http_req *r, struct http_resp *out)
{
	const char *dir = mgr_conf.http.portal_dir, *p = r->path;
	char rel[256];

	if (!dir[0] || is_api(p))
		return false;
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		plain(out, 405, "only GET and HEAD are allowed here\n");
		return true;
	}
	/*
	 * /portal/x was the portal's other name for /x: a page there (a directory, an .html)
	 * redirects to its name at the root, whose relative calls it needs; other files (and
	 * noVNC's) are served as at the root.
	 */
	if (strncmp(p, "/portal", 7) == 0 && (p[7] == '/' || p[7] == '\0')) {
		const char *rest = p + 7;
		size_t n = strlen(rest);
		if (strncmp(rest, NOVNC_PATH, strlen(NOVNC_PATH)) != 0 &&
		    (!n || rest[n - 1] == '/' || (n > 5 && strcmp(rest + n - 5, ".html") == 0))) {
			redirect_to_root(r, rest, out);
			return true;
		}
		p = rest;
	}
	if (strncmp(p, NOVNC_PATH, strlen(NOVNC_PATH)) == 0) {
		p += strlen(NOVNC_PATH);
		if (!mgr_conf.http.novnc_dir[0] ||
		    (strncmp(p, "core/", 5) != 0 && strncmp(p, "vendor/", 7) != 0) ||
		    snprintf(rel, sizeof(rel), "%s", p) >= (int)sizeof(rel))
			plain(out, 404, "not found\n");
		else
			serve(mgr_conf.http.novnc_dir, rel, NOVNC_MAX_DEPTH, true, out);
		return true;
	}
	/* / and any path ending in / is its index.html. */
	while (*p == '/')
		p++;
	if (snprintf(rel, sizeof(rel), "%s%s", p,
		     (!*p || p[strlen(p) - 1] == '/') ? "index.html" : "") >= (int)sizeof(rel))
		plain(out, 404, "not found\n");
	else
		serve(dir, rel, MAX_DEPTH, false, out);
	return true;
}
